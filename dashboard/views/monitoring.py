"""Field monitoring (coordinators): progress against targets, daily flow, quality flags, map, review.

Everything here is counts of stored submissions and the flags `analysis.quality` raises; the page filters and
draws them. Volunteer names and GPS points appear here, which is why researchers never get this page.
"""

import altair as alt
import pandas as pd
import pydeck as pdk
import streamlit as st

from analysis import fieldwork, quality
from collect.store import REVIEW_STATES
from dashboard import data, freshness, signin
from dashboard.i18n import _
from dashboard.targets import DEFAULT_PER_NEIGHBOURHOOD, TargetError

MAP_POINTS = 5000  # the points travel to the browser as JSON: 100k of them cost more than a second per rerun
REVIEW_CHOICES = 200  # a longer list is unusable on a phone; narrow it with the filters instead
REVIEW_LABELS = {"approved": "Approve", "has_issues": "Has issues", "rejected": "Reject", "received": "Back to received"}
TABS = ["Progress", "Response rates", "Per day", "Quality flags", "Map", "Review"]


def render() -> None:
    signin.require("admin", "coordinator")
    st.title("Field monitoring")
    if freshness.first_snapshot_pending():
        return
    frame = data.submissions(include_rejected=True)
    if frame.empty:
        st.info("No submissions yet. They appear here as soon as volunteers send them (or after an import).")
        return
    frame = _date_filter(frame)
    _headline(frame)
    # Only the open tab runs (on_change="rerun"): a rerun draws one tab, not five (benchmarks/dashboard.md).
    progress, rates, daily, quality, where, review = st.tabs(TABS, key="monitoring_tab", on_change="rerun")
    if progress.open:
        with progress:
            _progress(frame, "neighbourhood", data.neighbourhoods()["name"].tolist(), DEFAULT_PER_NEIGHBOURHOOD)
            _progress(frame, "volunteer", sorted(frame["volunteer"].dropna().unique()), None)
    if rates.open:
        with rates:
            _response_rates(frame)
    if daily.open:
        with daily:
            _per_day(frame)
            _last_submission(frame)
    if quality.open:
        with quality:
            _quality(frame)
    if where.open:
        with where:
            _map(frame)
    if review.open:
        with review:
            _review(frame)


def _date_filter(frame: pd.DataFrame) -> pd.DataFrame:
    days = data.interview_days(include_rejected=True)
    first, last = days.min(), days.max()
    chosen = st.date_input("Interviewed between", (first, last), min_value=first, max_value=last, key="monitoring_days")
    if len(chosen) != 2:
        return frame
    return frame[(days >= chosen[0]) & (days <= chosen[1])]


def _headline(frame: pd.DataFrame) -> None:
    """Four counts in a wrapping row: side by side on a laptop, two by two on a phone."""
    states = frame["review_state"].value_counts()
    with st.container(horizontal=True, gap="medium"):
        st.metric("Submissions", f"{len(frame):,}", width=140)
        for state in ("approved", "has_issues", "rejected"):
            st.metric(state.replace("_", " ").capitalize(), f"{states.get(state, 0):,}", width=140)


def _progress(frame: pd.DataFrame, kind: str, keys: list[str], default: int | None) -> None:
    """Completed interviews (analysis.quality.progress) against editable targets, as progress bars."""
    st.subheader(f"Per {kind}")
    stored = data.targets().get(kind, keys, default)
    target = stored.dropna().set_index(kind)["target"].astype(float)
    table = quality.progress(frame[frame["review_state"] != "rejected"], by=kind, targets=target)
    table["progress"] = (table["pct_of_target"] / 100).clip(upper=1)
    if kind == "neighbourhood":
        table[kind] = table[kind].map(data.neighbourhoods().set_index("name")["label"]).fillna(table[kind])
    st.dataframe(
        table[[kind, "completed", "target", "progress", "remaining", "refused_consent", "submitted"]],
        hide_index=True,
        column_config={
            "progress": st.column_config.ProgressColumn("progress", format="percent", min_value=0, max_value=1),
            "target": st.column_config.NumberColumn(format="%d"),
            "remaining": st.column_config.NumberColumn(format="%d"),
        },
    )
    st.caption("Completed = consented adults; rejected submissions do not count.")
    with st.expander(f"Edit targets per {kind}"):
        edited = st.data_editor(stored, hide_index=True, num_rows="dynamic", key=f"targets_{kind}",
                                column_config={"target": st.column_config.NumberColumn(min_value=0, step=1)})
        if st.button("Save targets", key=f"save_targets_{kind}"):
            try:
                data.targets().save(kind, edited)
            except TargetError as error:
                st.error(str(error))
            else:
                st.success("Targets saved.")
                st.rerun()


def _response_rates(frame: pd.DataFrame) -> None:
    """AAPOR RR1/RR3 of the visited dwellings (analysis.fieldwork) per volunteer and per block, against the plan."""
    if not fieldwork.has_visit_records(frame):
        st.info(_("These submissions have no visit records (block, dwelling number, disposition): response rates "
                  "need the questionnaire's visit section."))
        return
    final = fieldwork.final_dispositions(frame)
    plan = data.sample_blocks()
    whole = fieldwork.response_rates(final, plan=plan).iloc[0]
    planned = _(" of {planned:,} planned").format(planned=int(whole["planned"])) if "planned" in whole else ""
    st.caption(_("{visited:,} dwellings visited{planned}; RR1 {rr1:.0%}, RR3 {rr3:.0%} (e = {e:.2f}, the eligibility "
                 "rate of known cases); open = nobody found yet, fewer than 3 visits.")
               .format(visited=int(whole["visited"]), planned=planned, rr1=whole["RR1"], rr3=whole["RR3"], e=whole["e"]))
    by = st.segmented_control(_("Per"), ["volunteer", "block", "neighbourhood"], default="volunteer", key="rates_by")
    table = fieldwork.response_rates(final, by or "volunteer", plan)
    shown = [c for c in (by or "volunteer", "planned", "visited", "not_visited", "open", *fieldwork.GROUPS, "RR1", "RR3")
             if c in table.columns]
    st.dataframe(table[shown], hide_index=True, column_config={
        "RR1": st.column_config.ProgressColumn("RR1", format="percent", min_value=0, max_value=1),
        "RR3": st.column_config.ProgressColumn("RR3", format="percent", min_value=0, max_value=1)})
    long = table.melt(id_vars=[by or "volunteer"], value_vars=["RR1", "RR3"], var_name="rate", value_name="value")
    st.altair_chart(alt.Chart(long).mark_bar().encode(
        x=alt.X("value:Q", title=_("response rate"), axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        y=alt.Y(f"{by or 'volunteer'}:N", title=None), yOffset="rate:N", color=alt.Color("rate:N", title=None),
        tooltip=[f"{by or 'volunteer'}:N", "rate:N", alt.Tooltip("value:Q", format=".0%")]), width="stretch")
    st.caption(_("I complete, P partial, R refused, NC non-contact, O other, U unknown eligibility, NE not eligible "
                 "(AAPOR). RR1 = I / (I+P+R+NC+O+U); RR3 counts only the share e of U as eligible."))


def _per_day(frame: pd.DataFrame) -> None:
    st.subheader("Submissions per day")
    per_day = quality.daily_counts(frame, by="review_state")
    chart = alt.Chart(per_day).mark_bar().encode(
        x=alt.X("day:T", title="interview day (Lima time)"),
        y=alt.Y("submissions:Q", title="submissions"),
        color=alt.Color("review_state:N", title="review", scale=alt.Scale(domain=list(REVIEW_STATES))),
        tooltip=["day:T", "review_state:N", "submissions:Q"],
    )
    st.altair_chart(chart, width="stretch")


def _last_submission(frame: pd.DataFrame) -> None:
    st.subheader("Last submission per volunteer")
    last = quality.last_submission(frame).rename(columns={"last_received": "last submission (UTC)"})
    st.dataframe(last, hide_index=True)


def _quality(frame: pd.DataFrame) -> None:
    """analysis.quality's flags: per volunteer against the team, then the flagged submissions."""
    checks = data.quality_checks().loc[frame.index]
    st.subheader("Volunteers against the team")
    summary = quality.volunteer_summary(frame, checks)
    outliers = [c for c in summary.columns if c.startswith("outlier_")]
    summary["flags"] = ""
    for column in outliers:
        summary["flags"] = summary["flags"].where(~summary[column].astype(bool), summary["flags"] + column.removeprefix("outlier_") + " ")
    shown = ["volunteer", "submissions", "completed", "mean_duration_min", "consent_refused", "dk_rf_share", "speeder",
             "duplicate_respondent", "gps_missing", "gps_outside", "outdated_version", "flags"]
    st.dataframe(summary[shown], hide_index=True, column_config=_rate_columns(shown))
    st.caption("Rates are shares of each volunteer's submissions; `flags` names rates more than 2 SD from the team.")
    st.subheader("Flagged submissions")
    counts = checks[list(quality.CHECKS) + ["consent_refused"]].sum().rename("submissions")
    st.dataframe(counts[counts > 0].rename_axis("check").reset_index(), hide_index=True)
    chosen = st.multiselect("Show submissions failing", list(quality.CHECKS), default=["speeder", "duplicate_respondent"],
                            key="quality_checks_shown")
    flagged = checks[checks[chosen].any(axis=1)] if chosen else checks.iloc[:0]
    st.dataframe(flagged[["instance_id", "volunteer", "neighbourhood", "form_version", "duration_min", "issues"]],
                 hide_index=True, column_config={"duration_min": st.column_config.NumberColumn("minutes", format="%.1f")})


def _rate_columns(columns: list[str]) -> dict:
    rates = {"consent_refused", "dk_rf_share", "speeder", "duplicate_respondent", "gps_missing", "gps_outside", "outdated_version"}
    config = {c: st.column_config.NumberColumn(c.replace("_", " "), format="percent") for c in columns if c in rates}
    config["mean_duration_min"] = st.column_config.NumberColumn("mean minutes", format="%.1f")
    return config


def _map(frame: pd.DataFrame) -> None:
    st.subheader("Where submissions were made")
    if "gps" not in frame.columns:
        st.info("This form has no GPS question.")
        return
    located = frame[["neighbourhood", "volunteer", "review_state"]].join(data.gps_points()).dropna(subset=["lat", "lon"])
    shown = located.tail(MAP_POINTS)
    st.caption(f"{len(located):,} of {len(frame):,} submissions have a GPS point"
               + (f"; the latest {MAP_POINTS:,} are drawn." if len(located) > MAP_POINTS else "."))
    if shown.empty:
        return
    layer = pdk.Layer("ScatterplotLayer", shown, get_position=["lon", "lat"], get_radius=25, radius_min_pixels=2,
                      get_fill_color=[200, 30, 0, 140], pickable=True)
    view = pdk.ViewState(latitude=float(shown["lat"].median()), longitude=float(shown["lon"].median()), zoom=11)
    st.pydeck_chart(pdk.Deck(layers=[layer], initial_view_state=view, map_style=None,
                             tooltip={"text": "{neighbourhood}\n{volunteer}\n{review_state}"}))


def _review(frame: pd.DataFrame) -> None:
    """Approve, flag or reject one submission with a comment; rejected ones leave the estimates."""
    st.subheader("Review a submission")
    issues = data.quality_checks()["issues"].loc[frame.index]
    flagged_only = st.toggle("Only submissions with a quality flag", value=True, key="review_flagged")
    who = st.selectbox("Volunteer", ["(all)", *sorted(frame["volunteer"].dropna().unique())], key="review_volunteer")
    chosen = frame[issues != ""] if flagged_only else frame
    if who != "(all)":
        chosen = chosen[chosen["volunteer"] == who]
    if chosen.empty:
        st.info("No submission matches.")
        return
    options = chosen["instance_id"].iloc[::-1].head(REVIEW_CHOICES)
    instance = st.selectbox(f"Submission (the latest {len(options):,} of {len(chosen):,}, newest first)", options,
                            key="review_instance")
    row = frame.loc[frame["instance_id"] == instance].iloc[0]
    history = data.store().review_history(instance)  # read now: the snapshot may predate the latest decision
    state = history["review_state"].iloc[-1] if not history.empty else row["review_state"]
    st.caption(f"Received {row['received_at']:%Y-%m-%d %H:%M} UTC from {row['volunteer']} — now **{state}**"
               + (f" — flags: {issues[row.name]}" if issues[row.name] else ""))
    with st.expander("Answers"):
        st.dataframe(row.dropna().astype(str).rename("value"))
    if not history.empty:
        st.caption("Review history")
        st.dataframe(history, hide_index=True)
    with st.form("review"):
        state = st.radio("Decision", list(REVIEW_LABELS), format_func=REVIEW_LABELS.get, horizontal=True)
        comment = st.text_area("Comment (what is wrong, what was checked)")
        if st.form_submit_button("Save review", type="primary"):
            data.store().set_review_state(instance, state, comment or None, reviewer=signin.current_user().username)
            data.changed()
            st.session_state["review_saved"] = f"{instance} marked {state.replace('_', ' ')}."
            st.rerun()
    if "review_saved" in st.session_state:
        st.success(st.session_state.pop("review_saved"))


if __name__ == "__main__":
    render()
