"""What a page says when the data it shows are older than the store, and how it catches up by itself.

The dashboard shows the newest snapshot whose estimates are computed (dashboard.data) while a newer one is
computed in the background; at 100k submissions that takes seconds. A coordinator who has just rejected a
submission, or who is waiting for a volunteer's upload, must know that it is not yet counted, and must not have
to reload the page to see it: every page that shows data polls and reruns itself as soon as a newer snapshot is
ready, so an open monitoring page follows the field work.
"""

import streamlit as st

from dashboard import data

POLL_SECONDS = 2


def first_snapshot_pending() -> bool:
    """On a page that shows data: True, after drawing a progress bar, while the first snapshot of a store is
    computed (seconds at 100k submissions; once per store and per upgrade): the page is drawn at once and fills
    in by itself, instead of keeping its visitor before a blank page."""
    progress = data.first_snapshot_progress()
    if progress is None:
        return False
    what, fraction = progress
    st.progress(fraction, text=f"First look at {data.store_version().submissions:,} submissions since the dashboard "
                f"started — {what.lower()}… The page fills in by itself when it is done.")
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
        _, now = stale
        slot.caption(f":material/update: Showing the data as of {pinned.taken_at:%H:%M:%S} UTC; "
                     f"{_news(pinned.version, now)} since then are being added — this page updates by itself.")
    _follow(pinned.version)


def _news(then, now) -> str:
    news = []
    if now.submissions != then.submissions or now.last_submission != then.last_submission:
        news.append(_count(max(now.submissions - then.submissions, 0), "new or edited submission"))
    if now.reviews != then.reviews:
        news.append(_count(now.reviews - then.reviews, "review decision"))
    if now.last_form != then.last_form:
        news.append("a new form version")
    return " and ".join(news) or "changes"


def _count(n: int, thing: str) -> str:
    return f"{n:,} {thing}{'' if n == 1 else 's'}"


@st.fragment(run_every=POLL_SECONDS)
def _follow(version) -> None:
    """Rerun the whole page once a newer snapshot than `version` is ready to show."""
    if data.shown().version != version:
        st.rerun()
