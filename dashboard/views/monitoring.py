"""Field monitoring (coordinators): progress against targets, daily flow, quality flags, map.

Everything here is counts of stored submissions and the flags `analysis.quality` raises; the page filters and
draws them. Volunteer names and GPS points appear here, which is why researchers never get this page. Deciding on
flagged submissions is the Review page's work (dashboard/views/review.py).
"""

import altair as alt
import pandas as pd
import streamlit as st

from analysis import fieldwork, quality
from collect.store import REVIEW_STATES
from dashboard import data, flags, freshness, geography, maps, safe, signin
from dashboard.i18n import N_, _
from dashboard.targets import DEFAULT_PER_NEIGHBOURHOOD, TargetError
from dashboard.views.review import STATES

MAP_POINTS = 5000  # the points travel to the browser as JSON: 100k of them cost more than a second per rerun
TABS = [N_("Progress"), N_("Response rates"), N_("Per day"), N_("Quality flags"), N_("Map")]
KINDS = {"neighbourhood": N_("Per neighbourhood"), "volunteer": N_("Per volunteer")}


def render() -> None:
    signin.require("admin", "coordinator")
    st.title(_("Field monitoring"))
    if freshness.first_snapshot_pending():
        return
    frame = data.submissions(include_rejected=True)
    if frame.empty:
        st.info(_("No submissions yet. They appear here as soon as volunteers send them (or after an import)."))
        return
    frame = _date_filter(frame)
    _headline(frame)
    # Only the open tab runs (on_change="rerun"): a rerun draws one tab, not five (benchmarks/dashboard.md).
    progress, rates, daily, quality, where = st.tabs([_(t) for t in TABS], key="monitoring_tab", on_change="rerun")
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


def _date_filter(frame: pd.DataFrame) -> pd.DataFrame:
    days = data.interview_days(include_rejected=True)
    first, last = days.min(), days.max()
    chosen = st.date_input(
        _("Interviewed between"), (first, last), min_value=first, max_value=last, key="monitoring_days"
    )
    if len(chosen) != 2:
        return frame
    return frame[(days >= chosen[0]) & (days <= chosen[1])]


def _headline(frame: pd.DataFrame) -> None:
    """Four counts in a wrapping row: side by side on a laptop, two by two on a phone."""
    states = frame["review_state"].value_counts()
    with st.container(horizontal=True, gap="medium"):
        st.metric(_("Submissions"), f"{len(frame):,}", width=140)
        for state in ("approved", "has_issues", "rejected"):
            st.metric(_(STATES[state]).capitalize(), f"{states.get(state, 0):,}", width=140)


def _progress(frame: pd.DataFrame, kind: str, keys: list[str], default: int | None) -> None:
    """Completed interviews (analysis.quality.progress) against editable targets, as progress bars."""
    st.subheader(_(KINDS[kind]))
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
            kind: st.column_config.TextColumn(_(kind)),
            "completed": st.column_config.NumberColumn(_("completed")),
            "progress": st.column_config.ProgressColumn(_("progress"), format="percent", min_value=0, max_value=1),
            "target": st.column_config.NumberColumn(_("target"), format="%d"),
            "remaining": st.column_config.NumberColumn(_("remaining"), format="%d"),
            "refused_consent": st.column_config.NumberColumn(_("refused consent")),
            "submitted": st.column_config.NumberColumn(_("submitted")),
        },
    )
    st.caption(_("Completed = consented adults; rejected submissions do not count."))
    with st.expander(_("Edit targets: {kind}").format(kind=_(KINDS[kind]).lower())):
        edited = st.data_editor(
            stored,
            hide_index=True,
            num_rows="dynamic",
            key=f"targets_{kind}",
            column_config={
                kind: st.column_config.TextColumn(_(kind)),
                "target": st.column_config.NumberColumn(_("target"), min_value=0, step=1),
            },
        )
        if st.button(_("Save targets"), key=f"save_targets_{kind}"):
            try:
                data.targets().save(kind, edited)
            except TargetError as error:
                st.error(safe.error_text(error))
            else:
                st.success(_("Targets saved."))
                st.rerun()


def _response_rates(frame: pd.DataFrame) -> None:
    """AAPOR RR1/RR3 of the visited dwellings (analysis.fieldwork) per volunteer and per block, against the plan."""
    if not fieldwork.has_visit_records(frame):
        st.info(
            _(
                "These submissions have no visit records (block, dwelling number, disposition): response rates "
                "need the questionnaire's visit section."
            )
        )
        return
    final = fieldwork.final_dispositions(frame)
    plan = data.sample_blocks()
    whole = fieldwork.response_rates(final, plan=plan).iloc[0]
    planned = _(" of {planned:,} planned").format(planned=int(whole["planned"])) if "planned" in whole else ""
    st.caption(
        _(
            "{visited:,} dwellings visited{planned}; RR1 {rr1:.0%}, RR3 {rr3:.0%} (e = {e:.2f}, the eligibility "
            "rate of known cases); open = nobody found yet, fewer than 3 visits."
        ).format(visited=int(whole["visited"]), planned=planned, rr1=whole["RR1"], rr3=whole["RR3"], e=whole["e"])
    )
    by = st.segmented_control(_("Per"), ["volunteer", "block", "neighbourhood"], default="volunteer", key="rates_by")
    table = fieldwork.response_rates(final, by or "volunteer", plan)
    shown = [
        c
        for c in (by or "volunteer", "planned", "visited", "not_visited", "open", *fieldwork.GROUPS, "RR1", "RR3")
        if c in table.columns
    ]
    st.dataframe(
        table[shown],
        hide_index=True,
        column_config={
            "RR1": st.column_config.ProgressColumn("RR1", format="percent", min_value=0, max_value=1),
            "RR3": st.column_config.ProgressColumn("RR3", format="percent", min_value=0, max_value=1),
        },
    )
    long = table.melt(id_vars=[by or "volunteer"], value_vars=["RR1", "RR3"], var_name="rate", value_name="value")
    st.altair_chart(
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("value:Q", title=_("response rate"), axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
            y=alt.Y(f"{by or 'volunteer'}:N", title=None),
            yOffset="rate:N",
            color=alt.Color("rate:N", title=None),
            tooltip=[f"{by or 'volunteer'}:N", "rate:N", alt.Tooltip("value:Q", format=".0%")],
        ),
        width="stretch",
    )
    st.caption(
        _(
            "I complete, P partial, R refused, NC non-contact, O other, U unknown eligibility, NE not eligible "
            "(AAPOR). RR1 = I / (I+P+R+NC+O+U); RR3 counts only the share e of U as eligible."
        )
    )


def _per_day(frame: pd.DataFrame) -> None:
    st.subheader(_("Submissions per day"))
    per_day = quality.daily_counts(frame, by="review_state")
    names = [_(STATES[s]) for s in REVIEW_STATES]
    per_day["review_state"] = per_day["review_state"].map(dict(zip(REVIEW_STATES, names)))
    chart = (
        alt.Chart(per_day)
        .mark_bar()
        .encode(
            x=alt.X("day:T", title=_("interview day (Lima time)"), axis=alt.Axis(format="%d/%m", labelAngle=-45)),
            y=alt.Y("submissions:Q", title=_("submissions")),
            color=alt.Color(
                "review_state:N",
                title=_("review"),
                scale=alt.Scale(domain=names),
                legend=alt.Legend(orient="bottom", columns=2),
            ),
            tooltip=[
                alt.Tooltip("day:T", title=_("day"), format="%d/%m/%Y"),
                alt.Tooltip("review_state:N", title=_("review")),
                alt.Tooltip("submissions:Q", title=_("submissions")),
            ],
        )
        .configure_axis(labelFontSize=12, titleFontSize=12)
        .configure_legend(labelFontSize=12, titleFontSize=12)
    )
    st.altair_chart(chart, width="stretch")


def _last_submission(frame: pd.DataFrame) -> None:
    st.subheader(_("Last submission per volunteer"))
    last = quality.last_submission(frame)
    st.dataframe(
        last,
        hide_index=True,
        column_config={
            "volunteer": st.column_config.TextColumn(_("volunteer")),
            "last_received": st.column_config.DatetimeColumn(_("last submission (UTC)"), format="DD/MM/YYYY HH:mm"),
            "submissions": st.column_config.NumberColumn(_("submissions")),
        },
    )


def _quality(frame: pd.DataFrame) -> None:
    """analysis.quality's flags: per volunteer against the team, then how many submissions each flag caught."""
    checks = data.quality_checks().loc[frame.index]
    names = flags.labels()
    st.subheader(_("Volunteers against the team"))
    summary = quality.volunteer_summary(frame, checks)
    outliers = [c for c in summary.columns if c.startswith("outlier_")]
    rate_names = {
        **names,
        "consent_refused": _("refused consent"),
        "dk_rf_share": _("don't know / refused"),
        "mean_duration_min": _("mean minutes"),
    }
    summary["flags"] = ""
    for column in outliers:
        rate = column.removeprefix("outlier_")
        summary["flags"] = summary["flags"].where(
            ~summary[column].astype(bool), summary["flags"] + rate_names.get(rate, rate) + "; "
        )
    summary["flags"] = summary["flags"].str.removesuffix("; ")
    shown = [
        "volunteer",
        "submissions",
        "completed",
        "mean_duration_min",
        "consent_refused",
        "dk_rf_share",
        "speeder",
        "duplicate_respondent",
        "gps_missing",
        "gps_outside",
        "outdated_version",
        "straightlining",
        "flags",
    ]
    st.dataframe(summary[shown], hide_index=True, column_config=_rate_columns(shown, rate_names))
    st.caption(
        _("Rates are shares of each volunteer's submissions; “flags” names the rates more than 2 SD from the team's.")
    )
    st.subheader(_("Flagged submissions"))
    counts = checks[list(quality.CHECKS)].sum()
    table = pd.DataFrame(
        {
            "check": [names[c] for c in counts.index],
            "submissions": counts.to_numpy(),
            "why": [_(flags.MEANING[c]) for c in counts.index],
        }
    )
    st.dataframe(
        table[table["submissions"] > 0],
        hide_index=True,
        column_config={
            "check": st.column_config.TextColumn(_("flag")),
            "submissions": st.column_config.NumberColumn(_("submissions")),
            "why": st.column_config.TextColumn(_("what it means"), width="large"),
        },
    )
    st.page_link("views/review.py", label=_("Review the flagged submissions"), icon=":material/fact_check:")


def _rate_columns(columns: list[str], names: dict[str, str]) -> dict:
    rates = {
        "consent_refused",
        "dk_rf_share",
        "speeder",
        "duplicate_respondent",
        "gps_missing",
        "gps_outside",
        "outdated_version",
        "straightlining",
    }
    config = {c: st.column_config.NumberColumn(names[c], format="percent") for c in columns if c in rates}
    config["mean_duration_min"] = st.column_config.NumberColumn(names["mean_duration_min"], format="%.1f")
    config.update({c: st.column_config.TextColumn(_(c)) for c in ("volunteer", "flags")})
    config.update({c: st.column_config.NumberColumn(_(c)) for c in ("submissions", "completed")})
    return config


def _map(frame: pd.DataFrame) -> None:
    """GPS points over the district limits, coloured by volunteer or by flag (no map tiles: dashboard.maps)."""
    st.subheader(_("Where submissions were made"))
    if "gps" not in frame.columns:
        st.info(_("This form has no GPS question."))
        return
    checks = data.quality_checks().loc[frame.index]
    located = frame[["neighbourhood", "volunteer"]].join(data.gps_points()).dropna(subset=["lat", "lon"])
    shown = located.tail(MAP_POINTS)
    st.caption(
        _("{located:,} of {total:,} submissions have a GPS point.").format(located=len(located), total=len(frame))
        + (" " + _("The latest {n:,} are drawn.").format(n=MAP_POINTS) if len(located) > MAP_POINTS else "")
    )
    if shown.empty:
        return
    colours = {"volunteer": _("volunteer"), "flag": _("flag")}
    by = (
        st.segmented_control(
            _("Colour by"), list(colours), format_func=colours.get, default="volunteer", key="monitoring_map_colour"
        )
        or "volunteer"
    )
    summary = flags.summary(checks.loc[shown.index])
    names = data.neighbourhoods().set_index("name")["label"]
    points = shown.assign(
        flag=summary.where(summary != "", _("no flag")).str.split(", ").str[0],
        flags=summary.where(summary != "", _("no flag")),
        place=shown["neighbourhood"].map(names).fillna(shown["neighbourhood"]),
    )
    tooltip = [
        alt.Tooltip("volunteer:N", title=_("volunteer")),
        alt.Tooltip("place:N", title=_("neighbourhood")),
        alt.Tooltip("flags:N", title=_("flags")),
    ]
    st.altair_chart(
        maps.field_points(geography.districts(), points, by, colours[by], tooltip, geography.ATTRIBUTION),
        width="stretch",
    )


if __name__ == "__main__":
    render()
