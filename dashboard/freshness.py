"""What a page says when the data it shows are older than the store, and how it catches up by itself.

The dashboard shows the newest snapshot whose estimates are computed (dashboard.data) while a newer one is
computed in the background; at 100k submissions that takes seconds. A coordinator who has just rejected a
submission, or who is waiting for a volunteer's upload, must know that it is not yet counted, and must not have
to reload the page to see it: every page that shows data polls and reruns itself as soon as a newer snapshot is
ready, so an open monitoring page follows the field work.
"""

import streamlit as st

from dashboard import data
from dashboard.i18n import N_, _, ngettext

POLL_SECONDS = 2
# The warmer's step names (dashboard.snapshot.Snapshot.warm_steps), marked here for the catalogue: the
# snapshot module has no Streamlit and no language.
STEPS = (
    N_("Dating the interviews"),
    N_("Running the field checks"),
    N_("Locating the GPS points"),
    N_("Weighting and estimating"),
)


def first_snapshot_pending() -> bool:
    """On a page that shows data: True, after drawing a progress bar, while the first snapshot of a store is
    computed (seconds at 100k submissions; once per store and per upgrade): the page is drawn at once and fills
    in by itself, instead of keeping its visitor before a blank page."""
    progress = data.first_snapshot_progress()
    if progress is None:
        return False
    what, fraction = progress
    st.progress(
        fraction,
        text=_(
            "First look at {n:,} submissions since the dashboard started — {step}… The page "
            "fills in by itself when it is done."
        ).format(n=data.store_version().submissions, step=_(what).lower()),
    )
    _wait_for_first()
    return True


@st.fragment(run_every=POLL_SECONDS)
def _wait_for_first() -> None:
    """Rerun the page once the first snapshot is ready."""
    if data.first_snapshot_progress() is None:
        st.rerun()


def notice(slot) -> None:
    """In `slot` (an st.empty above the page), a one-line notice while the snapshot the page showed is older
    than the store; and, on every page that showed data, a watch that reruns the page when a newer snapshot is
    ready (so a coordinator's monitoring page follows the field work without a reload)."""
    pinned = data.pinned()
    if pinned is None:
        return
    stale = data.stale_by()
    if stale is not None:
        now = stale[1]  # (not `_, now`: `_` is gettext here)
        slot.caption(
            ":material/update: "
            + _(
                "Showing the data as of {time} UTC; {news} since then are being added — this page updates by itself."
            ).format(time=f"{pinned.taken_at:%H:%M:%S}", news=_news(pinned.version, now))
        )
    _follow(pinned.version)


def _news(then, now) -> str:
    news = []
    if now.submissions != then.submissions or now.last_submission != then.last_submission:
        n = max(now.submissions - then.submissions, 0)
        news.append(ngettext("{n:,} new or edited submission", "{n:,} new or edited submissions", n).format(n=n))
    if now.reviews != then.reviews:
        n = now.reviews - then.reviews
        news.append(ngettext("{n:,} review decision", "{n:,} review decisions", n).format(n=n))
    if now.last_form != then.last_form:
        news.append(_("a new form version"))
    return _(" and ").join(news) or _("changes")


@st.fragment(run_every=POLL_SECONDS)
def _follow(version) -> None:
    """Rerun the whole page once a newer snapshot than `version` is ready to show."""
    if data.shown().version != version:
        st.rerun()
