"""Estimates (researchers): the SDG 16 indicators per neighbourhood with CIs, flags and n; breakdowns; map;
comparison between rounds; weighting diagnostics and the margins' source.

Every number comes from analysis (through dashboard.data, cached per store version); this page only selects,
formats and draws. Nothing personal is shown: only aggregates.
"""

import altair as alt
import pandas as pd
import pydeck as pdk
import streamlit as st

from analysis.errors import AnalysisError
from dashboard import data, freshness, geography, signin

AREA = "neighbourhood"
FLAG_COLOURS = alt.Scale(domain=["ok", "referencial", "unreliable", "suppressed"],
                         range=["#1f6f8b", "#c9a227", "#e08a00", "#9e9e9e"])
ROUND_COLOURS = alt.Scale(domain=["A", "B"], range=["#7b7b7b", "#c0392b"])
TABS = ["Table", "Chart", "Map", "Rounds", "Weighting"]


def render() -> None:
    signin.require("admin", "coordinator", "researcher")
    st.title("Estimates")
    if freshness.first_snapshot_pending():
        return
    result = data.estimates()
    if result is None:
        st.info("No submissions to estimate from yet.")
        return
    if isinstance(result, AnalysisError):
        st.error(f"The analysis plan cannot be applied to these data: {result}")
        return
    plan = data.plan()
    indicators = {i.id: i for i in plan.indicators}
    indicator = st.selectbox("Indicator", list(indicators), format_func=lambda i: f"{i} — {indicators[i].name}",
                             key="estimates_indicator")
    breakdowns = ["none"] + [b for b in plan.breakdowns(indicators[indicator]) if b != AREA]
    breakdown = st.segmented_control("Breakdown", breakdowns, format_func=_label, default="none",
                                     key="estimates_breakdown") or "none"
    if indicators[indicator].note:
        st.caption(indicators[indicator].note)
    rows = result.estimates[result.estimates["indicator"] == indicator]
    by_area, overall = _select(rows, breakdown)
    st.markdown(_reading_note(overall, plan.estimation.level))
    # Only the open tab runs (on_change="rerun"): the Rounds tab estimates two rounds, which a visitor reading
    # the table should not wait for.
    tab_table, tab_chart, tab_map, tab_rounds, tab_weights = st.tabs(TABS, key="estimates_tab", on_change="rerun")
    if tab_table.open:
        with tab_table:
            _table(by_area, breakdown)
    if tab_chart.open:
        with tab_chart:
            _chart(by_area, breakdown)
    if tab_map.open:
        with tab_map:
            _map(rows[rows["by"] == AREA])
    if tab_rounds.open:
        with tab_rounds:
            _rounds(indicator, breakdown)
    if tab_weights.open:
        with tab_weights:
            _weighting(result)


def _label(breakdown: str) -> str:
    return "overall" if breakdown == "none" else breakdown.replace("_", " ")


def _select(rows: pd.DataFrame, breakdown: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows per neighbourhood (× the breakdown's groups when chosen) and the city-wide rows of the breakdown."""
    if breakdown == "none":
        by_area = rows[rows["by"] == AREA].assign(area=lambda t: t["group"], group="all")
        overall = rows[rows["by"] == "overall"]
    else:
        by_area = rows[(rows["by"] == breakdown) & rows["area"].notna()]
        overall = rows[(rows["by"] == breakdown) & rows["area"].isna()]
    labels = data.neighbourhoods().set_index("name")["label"]
    by_area = by_area.assign(neighbourhood=by_area["area"].map(labels).fillna(by_area["area"]))
    return by_area, overall


def _reading_note(overall: pd.DataFrame, level: float) -> str:
    if overall.empty:
        return ""
    parts = [f"{row.group if row.group != 'all' else 'All surveyed areas'}: "
             + (f"**{row.estimate:.1%}** ({row.ci_low:.1%}–{row.ci_high:.1%}, n = {row.n:,})" if row.flag != "suppressed" else "withheld (n too small)")
             for row in overall.itertuples()]
    return f"{level:.0%} confidence intervals. " + " · ".join(parts)


def _table(by_area: pd.DataFrame, breakdown: str) -> None:
    columns = ["neighbourhood"] + (["group"] if breakdown != "none" else []) + [
        "estimate", "ci_low", "ci_high", "se", "deff", "n", "n_excluded", "flag"]
    percent = {c: st.column_config.NumberColumn(c.replace("_", " "), format="percent") for c in ("estimate", "ci_low", "ci_high", "se")}
    st.dataframe(by_area[columns].sort_values(columns[: 1 + (breakdown != "none")]), hide_index=True,
                 column_config={**percent, "deff": st.column_config.NumberColumn(format="%.2f"),
                                "group": st.column_config.TextColumn(_label(breakdown))})
    st.caption("flag: **ok**; **unreliable** = fewer respondents than the plan's min_n (read with care); "
               "**suppressed** = estimate withheld (below suppress_n). n_excluded = don't know / refused.")


def _chart(by_area: pd.DataFrame, breakdown: str) -> None:
    shown = by_area[by_area["flag"] != "suppressed"]
    if shown.empty:
        st.info("Every estimate of this selection is withheld (too few respondents).")
        return
    y = alt.Y("neighbourhood:N", sort=alt.EncodingSortField("estimate", order="descending"), title=None)
    base = alt.Chart(shown)
    offset = {"yOffset": alt.YOffset("group:N", title=_label(breakdown))} if breakdown != "none" else {}
    bars = base.mark_errorbar(ticks=True).encode(x=alt.X("ci_low:Q", title="estimate with confidence interval",
                                                         axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
                                                 x2="ci_high:Q", y=y, **offset)
    colour = alt.Color("group:N", title=_label(breakdown)) if breakdown != "none" else alt.Color("flag:N", scale=FLAG_COLOURS)
    points = base.mark_point(filled=True, size=60).encode(
        x="estimate:Q", y=y, color=colour, **offset,
        tooltip=["neighbourhood", "group", alt.Tooltip("estimate:Q", format=".1%"), alt.Tooltip("ci_low:Q", format=".1%"),
                 alt.Tooltip("ci_high:Q", format=".1%"), "n:Q", "flag:N"])
    st.altair_chart((bars + points).properties(height=alt.Step(22 if breakdown == "none" else 12)), width="stretch")


def _map(by_neighbourhood: pd.DataFrame) -> None:
    st.caption("**Approximate boundaries**: the polygons are drawn around each neighbourhood's centroid "
               "(data/neighbourhoods.geojson, generated by dashboard/geography.py), not official limits.")
    values = by_neighbourhood.set_index("group")
    low, high = values["estimate"].min(), values["estimate"].max()
    shapes = geography.load()
    for feature in shapes["features"]:
        name = feature["properties"]["name"]
        row = values.loc[name] if name in values.index else None
        shown = row is not None and row["flag"] != "suppressed"
        estimate = float(row["estimate"]) if shown else None
        feature["properties"].update(
            estimate=f"{estimate:.1%}" if shown else "withheld / no data",
            interval=f"{row['ci_low']:.1%}–{row['ci_high']:.1%}" if shown else "",
            n=int(row["n"]) if row is not None else 0,
            fill=_colour(None if estimate is None else (estimate - low) / (high - low) if high > low else 0.5),
        )
    layer = pdk.Layer("GeoJsonLayer", shapes, pickable=True, stroked=True, filled=True, get_fill_color="properties.fill",
                      get_line_color=[60, 60, 60, 200], line_width_min_pixels=1)
    view = pdk.ViewState(latitude=-8.08, longitude=-78.96, zoom=10)
    st.pydeck_chart(pdk.Deck(layers=[layer], initial_view_state=view, map_style=None,
                             tooltip={"text": "{label}\n{estimate} ({interval})\nn = {n}"}))
    if pd.notna(low):
        st.caption(f"Lightest = {low:.1%}, darkest = {high:.1%}; grey = withheld or no data. "
                   "Compare neighbourhoods with the intervals in the table, not by shade alone.")


def _colour(position: float | None) -> list[int]:
    """A light-to-dark blue ramp over the range shown (0 = lowest estimate), grey when there is none."""
    if position is None:
        return [200, 200, 200, 120]
    light, dark = (222, 235, 247), (8, 48, 107)
    return [round(a + (b - a) * position) for a, b in zip(light, dark)] + [200]


def _rounds(indicator: str, breakdown: str) -> None:
    """Two rounds (date ranges or form versions), each estimated on its own; the change B − A per neighbourhood
    (or per group of the chosen breakdown, city-wide) with its confidence interval and significance
    (analysis.compare), and a chart of both rounds with CIs."""
    kind = st.radio("A round is", ["date range", "form version"], horizontal=True, key="rounds_kind")
    if kind == "form version":
        versions = sorted(data.submissions()["form_version"].astype(str).unique())
        first = st.selectbox("Round A: form version", versions, index=0, key="round_a_version")
        second = st.selectbox("Round B: form version", versions, index=len(versions) - 1, key="round_b_version")
        rounds = {"A": ("form_version", first, first), "B": ("form_version", second, second)}
    else:
        first, second = data.default_day_rounds()
        start, end = first[0], second[1]
        a = st.date_input("Round A: interviewed between", first, min_value=start, max_value=end, key="round_a_days")
        b = st.date_input("Round B: interviewed between", second, min_value=start, max_value=end, key="round_b_days")
        if len(a) != 2 or len(b) != 2:
            return
        rounds = {"A": ("day", str(a[0]), str(a[1])), "B": ("day", str(b[0]), str(b[1]))}
    if rounds["A"] == rounds["B"]:
        st.info("Choose two different rounds to compare.")
        return
    estimates = []
    for name, (column, low, high) in rounds.items():
        result = data.round_estimates(column, low, high)
        if result is None:
            st.info(f"Round {name} has no submission.")
            return
        if isinstance(result, AnalysisError):
            st.error(f"Round {name} cannot be estimated: {result}")
            return
        estimates.append(_round_rows(result.estimates, indicator, breakdown).assign(round=name))
    comparison = data.round_comparison(rounds["A"], rounds["B"])
    if isinstance(comparison, AnalysisError):
        st.error(f"These rounds cannot be compared: {comparison}")
        return
    level = data.plan().estimation.level
    _rounds_table(_round_rows(comparison, indicator, breakdown), breakdown, level)
    _rounds_chart(pd.concat(estimates, ignore_index=True), breakdown)


def _round_rows(table: pd.DataFrame, indicator: str, breakdown: str) -> pd.DataFrame:
    """One indicator's all-areas row and its rows per neighbourhood (no breakdown) or per group of the breakdown
    over all areas, with a display label in `row`. (Neighbourhood × group is left out: halves of a round are
    too small for it.)"""
    by = AREA if breakdown == "none" else breakdown
    rows = table[(table["indicator"] == indicator) & table["by"].isin(["overall", by]) & table["area"].isna()]
    labels = data.neighbourhoods().set_index("name")["label"].to_dict() if by == AREA else {}
    labels["all"] = "all surveyed areas"
    return rows.assign(row=[labels.get(group, group) for group in rows["group"]])


def _significance(row) -> str:
    if pd.isna(row.significant):
        return "not tested"
    if not row.significant:
        return "no significant change"
    return "▲ significant increase" if row.change > 0 else "▼ significant decrease"


def _rounds_table(changes: pd.DataFrame, breakdown: str, level: float) -> None:
    shown = changes.assign(significance=[_significance(r) for r in changes.itertuples()])
    columns = ["row", "estimate_a", "estimate_b", "change", "ci_low", "ci_high", "p_value", "significance",
               "n_a", "n_b", "flag"]
    names = {"estimate_a": "estimate A", "estimate_b": "estimate B", "ci_low": "change CI low",
             "ci_high": "change CI high", "p_value": "p-value", "n_a": "n A", "n_b": "n B"}
    table = shown[columns].rename(columns=names).set_index("row").rename_axis(_rows_label(breakdown))
    percent = {c: st.column_config.NumberColumn(c, format="percent")
               for c in ("estimate A", "estimate B", "change", "change CI low", "change CI high")}
    st.dataframe(table, column_config={**percent, "p-value": st.column_config.NumberColumn(format="%.3f")})
    st.caption(f"change = B − A in percentage points, with its {level:.0%} confidence interval. Each round is "
               "weighted and estimated on its own with the same plan, so the rounds are independent samples: "
               "SE of the change = √(SE A² + SE B²); t test with the smaller of the two rounds' design degrees of "
               f"freedom; significant = p < {1 - level:.2f} (the interval excludes 0). Rounds may not share a "
               "submission. flag: **unreliable** = a round has fewer respondents than min_n (read with care); "
               "**suppressed** / only_in_a / only_in_b / no_df (a round's respondents all in one block) = no "
               "change shown. An interval wider than ±100 points means a round has too few blocks there to say "
               "anything.")


def _rows_label(breakdown: str) -> str:
    return AREA if breakdown == "none" else _label(breakdown)


def _rounds_chart(estimates: pd.DataFrame, breakdown: str) -> None:
    shown = estimates[estimates["flag"] != "suppressed"]
    if shown.empty:
        return
    y = alt.Y("row:N", title=None, axis=alt.Axis(labelLimit=220))
    offset = alt.YOffset("round:N", title="round")
    colour = alt.Color("round:N", title="round", scale=ROUND_COLOURS)
    base = alt.Chart(shown)
    bars = base.mark_errorbar(ticks=True).encode(
        x=alt.X("ci_low:Q", title="estimate with confidence interval, per round", axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1])), x2="ci_high:Q", y=y, yOffset=offset, color=colour)
    points = base.mark_point(filled=True, size=50).encode(
        x="estimate:Q", y=y, yOffset=offset, color=colour,
        tooltip=["round", alt.Tooltip("row:N", title=_rows_label(breakdown)), alt.Tooltip("estimate:Q", format=".1%"), alt.Tooltip("ci_low:Q", format=".1%"),
                 alt.Tooltip("ci_high:Q", format=".1%"), "n:Q", "flag:N"])
    st.altair_chart((bars + points).properties(height=alt.Step(12)), width="stretch")


def _weighting(result) -> None:
    plan = data.plan()
    st.subheader("Weighting diagnostics")
    st.caption(f"Method: {plan.weights.method}" + (f", adjustment factors trimmed to {list(plan.weights.trim)}" if plan.weights.trim else "")
               + ". deff_w = Kish design effect of the weights; g = final weight ÷ design weight.")
    st.dataframe(result.diagnostics, hide_index=True)
    for warning in result.warnings:
        st.warning(warning)
    st.subheader("Population margins: source and assumptions")
    for margin in plan.margins:
        st.markdown(f"- `{margin.file.name}` ({', '.join(margin.columns)}): {margin.source or 'no source given in the plan'}")
    with st.expander("What the margins assume"):
        st.text(data.margins_assumption())


if __name__ == "__main__":
    render()
