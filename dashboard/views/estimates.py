"""Estimates (researchers): the SDG 16 indicators per neighbourhood with CIs, flags and n; breakdowns; map;
comparison between rounds; weighting diagnostics and the margins' source.

Every number comes from analysis (through dashboard.data, cached per store version); this page only selects,
formats and draws. Nothing personal is shown: only aggregates.
"""

import altair as alt
import pandas as pd
import pydeck as pdk
import streamlit as st

from dashboard import data, geography, signin

BREAKDOWNS = {"none": "overall", "sex": "sex", "age_group": "age group", "disability": "disability"}
FLAG_COLOURS = alt.Scale(domain=["ok", "unreliable", "suppressed"], range=["#1f6f8b", "#e08a00", "#9e9e9e"])


def render() -> None:
    signin.require("admin", "coordinator", "researcher")
    st.title("Estimates")
    result = data.estimates()
    if result is None:
        st.info("No submissions to estimate from yet.")
        return
    table = result.estimates
    indicators = data.indicator_names()
    indicator = st.selectbox("Indicator", list(indicators), format_func=lambda i: f"{i} — {indicators[i]}",
                             key="estimates_indicator")
    breakdown = st.segmented_control("Breakdown", list(BREAKDOWNS), format_func=BREAKDOWNS.get, default="none",
                                     key="estimates_breakdown") or "none"
    rows = table[table["indicator"] == indicator]
    by_area, overall = _select(rows, breakdown)
    st.caption(_reading_note(overall, result.level))
    tab_table, tab_chart, tab_map, tab_rounds, tab_weights = st.tabs(
        ["Table", "Chart", "Map", "Rounds", "Weighting"])
    with tab_table:
        _table(by_area, breakdown)
    with tab_chart:
        _chart(by_area, breakdown)
    with tab_map:
        _map(rows[rows["by"] == "neighbourhood"])
    with tab_rounds:
        _rounds(indicator)
    with tab_weights:
        _weighting(result)


def _select(rows: pd.DataFrame, breakdown: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows per neighbourhood (× the breakdown's groups when chosen) and the city-wide rows of the breakdown."""
    if breakdown == "none":
        by_area = rows[rows["by"] == "neighbourhood"].assign(area=lambda t: t["group"], group="all")
        overall = rows[rows["by"] == "overall"]
    else:
        by_area = rows[(rows["by"] == breakdown) & rows["area"].notna()] if "area" in rows else rows.iloc[:0]
        overall = rows[(rows["by"] == breakdown) & (rows["area"].isna() if "area" in rows else True)]
    labels = data.neighbourhoods().set_index("name")["label"]
    by_area = by_area.assign(neighbourhood=by_area["area"].map(labels).fillna(by_area["area"]))
    return by_area, overall


def _reading_note(overall: pd.DataFrame, level: float) -> str:
    if overall.empty:
        return ""
    parts = [f"{row.group if row.group != 'all' else 'Trujillo, all areas'}: "
             + (f"**{row.estimate:.1%}** ({row.ci_low:.1%}–{row.ci_high:.1%}, n = {row.n:,})" if row.flag != "suppressed" else "withheld (n too small)")
             for row in overall.itertuples()]
    return f"{level:.0%} confidence intervals. " + " · ".join(parts)


def _table(by_area: pd.DataFrame, breakdown: str) -> None:
    columns = ["neighbourhood"] + (["group"] if breakdown != "none" else []) + [
        "estimate", "ci_low", "ci_high", "se", "deff", "n", "n_excluded", "flag"]
    percent = {c: st.column_config.NumberColumn(c.replace("_", " "), format="percent") for c in ("estimate", "ci_low", "ci_high", "se")}
    st.dataframe(by_area[columns].sort_values(columns[: 1 + (breakdown != "none")]), hide_index=True,
                 column_config={**percent, "deff": st.column_config.NumberColumn(format="%.2f"),
                                "group": st.column_config.TextColumn(BREAKDOWNS[breakdown])})
    st.caption("flag: **ok**; **unreliable** = fewer respondents than the plan's min_n (read with care); "
               "**suppressed** = estimate withheld (below suppress_n). n_excluded = don't know / refused.")


def _chart(by_area: pd.DataFrame, breakdown: str) -> None:
    shown = by_area[by_area["flag"] != "suppressed"]
    if shown.empty:
        st.info("Every estimate of this selection is withheld (too few respondents).")
        return
    y = alt.Y("neighbourhood:N", sort=alt.EncodingSortField("estimate", order="descending"), title=None)
    base = alt.Chart(shown)
    offset = {"yOffset": alt.YOffset("group:N", title=BREAKDOWNS[breakdown])} if breakdown != "none" else {}
    bars = base.mark_errorbar(ticks=True).encode(x=alt.X("ci_low:Q", title="estimate with confidence interval",
                                                         axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
                                                 x2="ci_high:Q", y=y, **offset)
    colour = alt.Color("group:N", title=BREAKDOWNS[breakdown]) if breakdown != "none" else alt.Color("flag:N", scale=FLAG_COLOURS)
    points = base.mark_point(filled=True, size=60).encode(
        x="estimate:Q", y=y, color=colour, **offset,
        tooltip=["neighbourhood", "group", alt.Tooltip("estimate:Q", format=".1%"), alt.Tooltip("ci_low:Q", format=".1%"),
                 alt.Tooltip("ci_high:Q", format=".1%"), "n:Q", "flag:N"])
    st.altair_chart((bars + points).properties(height=alt.Step(22 if breakdown == "none" else 12)), width="stretch")


def _map(by_neighbourhood: pd.DataFrame) -> None:
    st.caption("**Approximate boundaries**: the polygons are drawn around each neighbourhood's centroid "
               "(data/neighbourhoods.geojson, generated by dashboard/geography.py), not official limits.")
    values = by_neighbourhood.set_index("group")
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
            fill=_colour(estimate),
        )
    layer = pdk.Layer("GeoJsonLayer", shapes, pickable=True, stroked=True, filled=True, get_fill_color="properties.fill",
                      get_line_color=[60, 60, 60, 200], line_width_min_pixels=1)
    view = pdk.ViewState(latitude=-8.09, longitude=-79.0, zoom=10.2)
    st.pydeck_chart(pdk.Deck(layers=[layer], initial_view_state=view, map_style=None,
                             tooltip={"text": "{label}\n{estimate} ({interval})\nn = {n}"}))
    st.caption("Darker = higher estimate; grey = withheld or no data.")


def _colour(estimate: float | None) -> list[int]:
    """A light-to-dark blue ramp over 0–100% (grey when there is no estimate to show)."""
    if estimate is None:
        return [200, 200, 200, 120]
    light, dark = (222, 235, 247), (8, 48, 107)
    return [round(a + (b - a) * estimate) for a, b in zip(light, dark)] + [200]


def _rounds(indicator: str) -> None:
    st.info("Comparison between rounds appears here once analysis offers it.")


def _weighting(result) -> None:
    st.subheader("Weighting diagnostics")
    st.dataframe(result.diagnostics, hide_index=True)
    st.subheader("Population margins: source and assumptions")
    st.text(result.margins_note)


if __name__ == "__main__":
    render()
