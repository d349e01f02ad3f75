"""What every page shows above itself about the data: the synthetic-demo warning, or the one-click demo offer.

Issue 5: on an empty store the app offers a demo round loaded in one click, and while the store holds the demo
every page says clearly that the data are synthetic.
"""

import streamlit as st

from dashboard import data, demo

DEMO_RESPONDENTS = 2000


def banner(role: str) -> None:
    if data.is_empty():
        _offer_demo(role)
    elif (demo_round := demo.demo_round(data.store())) is not None:
        st.warning(
            f"**Synthetic data — demo round.** The store holds a generated round of {demo_round.size:,} interviews "
            "(volunteers marked “(demo)”) made to show how the app works; it describes no real person and no real "
            "neighbourhood.",
            icon=":material/science:",
        )


def _offer_demo(role: str) -> None:
    if role == "researcher":
        st.info("No submissions yet: estimates appear once coordinators have collected or imported data.")
        return
    st.info(
        "The store is empty. Load a **synthetic demo round** (about 2,000 generated interviews over three weeks, "
        "sent through the same OpenRosa path as real phones) to see every page working — or add volunteers and "
        "start collecting.",
        icon=":material/rocket_launch:",
    )
    if st.button("Load the demo round", type="primary", icon=":material/science:"):
        bar = st.progress(0.0, text="Generating and sending demo submissions…")
        demo.load_demo(data.store(), DEMO_RESPONDENTS, progress=lambda done, total: bar.progress(done / total))
        data.changed()
        st.rerun()
