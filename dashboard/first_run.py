"""What every page shows above itself about the data: the synthetic-demo warning, or the one-click demo offer.

Issue 5: on an empty store the app offers a demo round loaded in one click, and while the store holds the demo
every page says clearly that the data are synthetic. Issue 15: an admin removes the demo round (with its
volunteers and their tokens) from the banner before real collection starts, as `sdg16 demo remove` does.
"""

import streamlit as st

from dashboard import data, demo
from dashboard.i18n import _

DEMO_VISITS = 2000


def banner(role: str) -> None:
    if data.is_empty():
        _offer_demo(role)
    elif (demo_round := demo.demo_round(data.store())) is not None:
        st.warning(
            _(
                "**Synthetic data — demo round.** The store holds a generated round of {n:,} visits to sampled "
                "dwellings (volunteers marked “(demo)”) made to show how the app works; it describes no real "
                "person and no real neighbourhood."
            ).format(n=demo_round.size),
            icon=":material/science:",
        )
        if role == "admin":
            _remove_demo()


def _remove_demo() -> None:
    with st.popover(_("Remove the demo round"), icon=":material/delete:"):
        st.markdown(
            _(
                "Deletes every demo submission, the demo volunteers and their tokens. Real submissions, "
                "accounts and targets stay."
            )
        )
        if st.button(_("Remove the demo round now"), type="primary", key="remove_demo"):
            removed = demo.remove_demo(data.store())
            data.changed()
            st.session_state["demo_removed"] = removed
            st.rerun()


def _offer_demo(role: str) -> None:
    if (removed := st.session_state.pop("demo_removed", None)) is not None:
        st.success(
            _("Demo round removed: {n:,} submissions and {v} volunteers deleted.").format(
                n=removed.submissions, v=removed.volunteers
            )
        )
    if role == "researcher":
        st.info(_("No submissions yet: estimates appear once coordinators have collected or imported data."))
        return
    st.info(
        _(
            "The store is empty. Load a **synthetic demo round** (about 2,000 generated interviews over three weeks, "
            "sent through the same OpenRosa path as real phones) to see every page working — or add volunteers and "
            "start collecting."
        ),
        icon=":material/rocket_launch:",
    )
    if st.button(_("Load the demo round"), type="primary", icon=":material/science:"):
        bar = st.progress(0.0, text=_("Generating and sending demo submissions…"))
        demo.load_demo(data.store(), DEMO_VISITS, progress=lambda done, total: bar.progress(done / total))
        data.changed()
        st.rerun()
