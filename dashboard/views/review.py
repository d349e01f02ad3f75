"""Review (coordinators): the queue of flagged submissions, decided one by one or many at once.

A coordinator filters the queue (flag, review state, volunteer, neighbourhood, interview days), ticks rows in
the table — nothing is ticked to begin with — and approves them, marks them as having issues or rejects them with
a comment; or walks the queue with "previous"/"next", reading each interview as the questionnaire asked it
(question and choice labels in the reader's language, grouped as in the form) with the reasons for its flags.
Rejected submissions leave the estimates at the next snapshot; until then the queue shows the new decisions
(kept in this session) so that nothing reviewed appears undone.
"""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from analysis import quality
from collect.store import REVIEW_STATES
from dashboard import data, flags, freshness, i18n, safe, signin
from dashboard.form_labels import form_labels
from dashboard.i18n import N_, _

QUEUE_ROWS = 1000  # newest first; narrow the filters for older ones (the table travels to the browser)
STATES = {
    "received": N_("received"),
    "approved": N_("approved"),
    "has_issues": N_("has issues"),
    "rejected": N_("rejected"),
}
DECISIONS = {
    "approved": N_("Approve"),
    "has_issues": N_("Has issues"),
    "rejected": N_("Reject"),
    "received": N_("Back to received"),
}
NEEDS_COMMENT = {"has_issues", "rejected"}
DECIDED = "review_decided"  # session state: instance -> state decided in this session, until the snapshot has it
POSITION = "review_position"


def render() -> None:
    user = signin.require("admin", "coordinator")
    st.title(_("Review"))
    if freshness.first_snapshot_pending():
        return
    frame = data.submissions(include_rejected=True)
    if frame.empty:
        st.info(_("No submissions yet."))
        return
    if "review_done" in st.session_state:
        st.success(st.session_state.pop("review_done"))
    queue = _queue(frame)
    st.caption(
        _("{shown:,} of {total:,} submissions match; newest first.").format(
            shown=min(len(queue), QUEUE_ROWS), total=len(queue)
        )
    )
    if queue.empty:
        st.info(_("No submission matches these filters."))
        return
    shown = queue.head(QUEUE_ROWS)
    selected = _table(shown)
    _bulk(shown, selected, user.username)
    st.divider()
    _one_by_one(frame, shown, user.username)


def _states(frame: pd.DataFrame) -> pd.Series:
    """Review states: the snapshot's, updated with the decisions this session made since."""
    decided = st.session_state.get(DECIDED, {})
    states = frame["review_state"]
    if decided:
        states = frame["instance_id"].map(decided).fillna(states)
    return states


def _queue(frame: pd.DataFrame) -> pd.DataFrame:
    checks = data.quality_checks()
    names = flags.labels()
    neighbourhoods = data.neighbourhoods().set_index("name")["label"]
    days = data.interview_days(include_rejected=True)
    state_names = {s: _(label) for s, label in STATES.items()}
    with st.container(horizontal=True):
        chosen_flags = st.multiselect(
            _("Flags"),
            list(quality.CHECKS),
            format_func=names.get,
            key="review_flags",
            width=360,
            placeholder=_("any flag"),
        )
        chosen_states = st.multiselect(
            _("Review state"),
            list(REVIEW_STATES),
            default=["received"],
            format_func=state_names.get,
            key="review_states",
            width=260,
        )
        volunteers = st.multiselect(
            _("Volunteer"),
            sorted(frame["volunteer"].dropna().unique()),
            key="review_who",
            placeholder=_("all"),
            width=260,
        )
        places = st.multiselect(
            _("Neighbourhood"),
            list(neighbourhoods.index),
            format_func=neighbourhoods.to_dict().get,
            key="review_where",
            placeholder=_("all"),
            width=260,
        )
    first, last = days.min(), days.max()
    between = st.date_input(
        _("Interviewed between"), (first, last), min_value=first, max_value=last, key="review_days", width=260
    )
    states = _states(frame)
    keep = pd.Series(True, index=frame.index)
    keep &= checks.loc[frame.index, chosen_flags or list(quality.CHECKS)].any(axis=1)  # flagged ones only
    if chosen_states:
        keep &= states.isin(chosen_states)
    if volunteers:
        keep &= frame["volunteer"].isin(volunteers)
    if places:
        keep &= frame["neighbourhood"].isin(places)
    if len(between) == 2:
        keep &= (days >= between[0]) & (days <= between[1])
    rows = frame.index[keep][::-1]
    return pd.DataFrame(
        {
            "instance_id": frame.loc[rows, "instance_id"],
            "flags": flags.summary(checks.loc[rows]),
            "volunteer": frame.loc[rows, "volunteer"],
            "neighbourhood": frame.loc[rows, "neighbourhood"]
            .map(neighbourhoods)
            .fillna(frame.loc[rows, "neighbourhood"]),
            "day": days.loc[rows],
            "minutes": checks.loc[rows, "duration_min"],
            "state": states.loc[rows].map(state_names),
        },
        index=rows,
    )


def _table(shown: pd.DataFrame) -> list[str]:
    """The queue as a table whose rows can be ticked; the instance IDs ticked (none at first). The widget's key
    follows the rows shown, so a change of filters starts with nothing ticked again."""
    key = "review_table_" + hashlib.sha1("".join(shown["instance_id"]).encode()).hexdigest()[:12]
    event = st.dataframe(
        shown.drop(columns="instance_id"),
        hide_index=True,
        on_select="rerun",
        selection_mode="multi-row",
        key=key,
        height=320,
        column_config={
            "flags": st.column_config.TextColumn(_("flags"), width="large"),
            "volunteer": st.column_config.TextColumn(_("volunteer")),
            "neighbourhood": st.column_config.TextColumn(_("neighbourhood")),
            "day": st.column_config.DateColumn(_("day")),
            "minutes": st.column_config.NumberColumn(_("minutes"), format="%.0f"),
            "state": st.column_config.TextColumn(_("state")),
        },
    )
    return shown["instance_id"].iloc[event.selection.rows].tolist()


def _bulk(shown: pd.DataFrame, selected: list[str], reviewer: str) -> None:
    decisions = {d: _(label) for d, label in DECISIONS.items()}
    with st.form("bulk_review", clear_on_submit=True, border=True):
        everything = st.toggle(
            _("Apply to every submission in the table ({n:,})").format(n=len(shown)), key="review_all_shown"
        )
        decision = st.radio(_("Decision"), list(DECISIONS), index=None, format_func=decisions.get, horizontal=True)
        comment = st.text_input(_("Comment (required to reject or mark as having issues)"))
        go = st.form_submit_button(_("Apply to the ticked submissions ({n:,})").format(n=len(selected)), type="primary")
    if not go:
        return
    chosen = shown["instance_id"].tolist() if everything else selected
    if not chosen:
        st.warning(_("Tick at least one submission in the table (or apply to every submission in the table)."))
    elif _decide(chosen, decision, comment, reviewer):
        st.session_state["review_done"] = _("{n:,} submissions marked “{decision}”.").format(
            n=len(chosen), decision=decisions[decision]
        )
        st.rerun()


def _decide(instances: list[str], decision: str | None, comment: str, reviewer: str) -> bool:
    """Record one decision for `instances`; False (with a message) when the decision or its comment is missing."""
    if decision is None:
        st.warning(_("Choose a decision first."))
        return False
    if decision in NEEDS_COMMENT and not comment.strip():
        st.warning(_("Write a comment: the volunteer and the next reviewer need to know what is wrong."))
        return False
    store = data.store()
    for instance in instances:
        store.set_review_state(instance, decision, comment.strip() or None, reviewer=reviewer)
    st.session_state.setdefault(DECIDED, {}).update(dict.fromkeys(instances, decision))
    data.changed()
    return True


def _one_by_one(frame: pd.DataFrame, shown: pd.DataFrame, reviewer: str) -> None:
    position = max(0, min(st.session_state.get(POSITION, 0), len(shown) - 1))
    st.session_state[POSITION] = position
    with st.container(horizontal=True, vertical_alignment="center"):
        st.button(_("Previous"), icon=":material/arrow_back:", disabled=position == 0, on_click=_move, args=(-1,))
        st.button(
            _("Next"), icon=":material/arrow_forward:", disabled=position >= len(shown) - 1, on_click=_move, args=(1,)
        )
        st.markdown(_("Submission **{k:,}** of {n:,} in the table").format(k=position + 1, n=len(shown)))
    row = shown.iloc[position]
    instance = row["instance_id"]
    submission = frame.loc[shown.index[position]]
    st.subheader(
        _("{volunteer} — {neighbourhood}, {day}").format(
            volunteer=safe.text(row["volunteer"]), neighbourhood=safe.text(row["neighbourhood"]), day=row["day"]
        )
    )
    st.caption(
        _("Received {at} UTC — now **{state}** — {instance}").format(
            at=f"{submission['received_at']:%Y-%m-%d %H:%M}", state=row["state"], instance=safe.text(instance)
        )
    )
    for reason in flags.reasons(data.quality_checks().loc[shown.index[position]]):
        st.markdown(f"- {reason}")
    _answers(submission)
    history = data.store().review_history(instance)
    if not history.empty:
        with st.expander(_("Review history ({n})").format(n=len(history))):
            st.dataframe(
                history.rename(
                    columns={
                        "review_state": _("state"),
                        "comment": _("comment"),
                        "reviewer": _("reviewer"),
                        "at": _("when (UTC)"),
                    }
                ),
                hide_index=True,
            )
    decisions = {d: _(label) for d, label in DECISIONS.items()}
    with st.form("review_one", clear_on_submit=True):
        decision = st.radio(_("Decision"), list(DECISIONS), index=None, format_func=decisions.get, horizontal=True)
        comment = st.text_input(_("Comment (required to reject or mark as having issues)"))
        go = st.form_submit_button(_("Save and go to the next"), type="primary")
    if go and _decide([instance], decision, comment, reviewer):
        st.session_state["review_done"] = _("Submission marked “{decision}”.").format(decision=decisions[decision])
        st.rerun()


def _move(step: int) -> None:
    st.session_state[POSITION] = st.session_state.get(POSITION, 0) + step


def _answers(submission: pd.Series) -> None:
    """The interview as the form asked it: per group of the form, question and answer in words."""
    labels = form_labels(
        str(data.plan().form),
        i18n.current(),
        tuple(data.neighbourhoods()[["name", "label"]].itertuples(index=False, name=None)),
    )
    rows = [
        (q.group, q.label, labels.answer(q.field, submission.get(q.field)))
        for q in labels.questions
        if q.field in submission.index and pd.notna(submission.get(q.field))
    ]
    table = pd.DataFrame(rows, columns=["group", "question", "answer"])
    with st.expander(_("Answers ({n})").format(n=len(table)), expanded=True):
        for group, answers in table.groupby("group", sort=False):  # the group's label heads its questions
            st.dataframe(
                answers[["question", "answer"]],
                hide_index=True,
                width="stretch",
                column_config={
                    "question": st.column_config.TextColumn(group or _("question"), width="large"),
                    "answer": st.column_config.TextColumn(_("answer"), width="medium"),
                },
            )


if __name__ == "__main__":
    render()
