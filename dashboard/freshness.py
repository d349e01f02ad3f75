"""What a page says when the data it shows are older than the store, and how it catches up by itself.

The dashboard shows the newest snapshot whose estimates are computed (dashboard.data) while a newer one is
computed in the background; at 100k submissions that takes seconds. A coordinator who has just rejected a
submission, or who is waiting for a volunteer's upload, must know that it is not yet counted, and must not have
to reload the page to see it: the notice polls and reruns the page as soon as the newer snapshot is ready.
"""

import streamlit as st

from dashboard import data

POLL_SECONDS = 2


def notice(slot) -> None:
    """In `slot` (an st.empty above the page), a one-line notice while the snapshot the page showed is older
    than the store; nothing when it is current or the page showed no data."""
    stale = data.stale_by()
    if stale is None:
        return
    pinned, now = stale
    news = []
    if now.submissions != pinned.version.submissions or now.last_submission != pinned.version.last_submission:
        news.append(_count(max(now.submissions - pinned.version.submissions, 0), "new or edited submission"))
    if now.reviews != pinned.version.reviews:
        news.append(_count(now.reviews - pinned.version.reviews, "review decision"))
    if now.last_form != pinned.version.last_form:
        news.append("a new form version")
    slot.caption(f":material/update: Showing the data as of {pinned.taken_at:%H:%M:%S} UTC; "
               f"{' and '.join(news) or 'changes'} since then are being added — this page updates by itself.")
    _follow(pinned.version)


def _count(n: int, thing: str) -> str:
    return f"{n:,} {thing}{'' if n == 1 else 's'}"


@st.fragment(run_every=POLL_SECONDS)
def _follow(version) -> None:
    """Rerun the whole page once a newer snapshot than `version` is ready to show."""
    if data.shown().version != version:
        st.rerun()
