"""Estimates (researchers): the SDG 16 indicators per neighbourhood with CIs, flags and n; breakdowns; map;
comparison between rounds; weighting diagnostics and the margins' source.

Every number comes from analysis (through dashboard.data, cached per store version); this page only selects,
formats and draws. Nothing personal is shown: only aggregates. The map shades INEI's district limits with the
district estimates and shows neighbourhoods as labelled points (their limits are not published), or as areas when
a coordinator imported real boundaries (`sdg16 geography import`).
"""

import altair as alt
import pandas as pd
import streamlit as st

from analysis.errors import AnalysisError
from analysis.labels import indicator_text
from dashboard import data, freshness, geography, i18n, maps, safe, signin
from dashboard.i18n import N_, _

AREA = "neighbourhood"
DISTRICT = "district"
FLAGS = {
    "ok": N_("ok"),
    "referencial": N_("referencial"),
    "unreliable": N_("unreliable"),
    "suppressed": N_("suppressed"),
}
FLAG_COLOURS = ["#1f6f8b", "#c9a227", "#e08a00", "#9e9e9e"]
ROUND_COLOURS = alt.Scale(domain=["A", "B"], range=["#7b7b7b", "#c0392b"])
TABS = [N_("Table"), N_("Chart"), N_("Map"), N_("Rounds"), N_("Weighting")]
BREAKDOWNS = {
    "none": N_("overall"),
    "sex": N_("sex"),
    "age_group": N_("age group"),
    "youth": N_("youth"),
    "disability": N_("disability"),
    DISTRICT: N_("district"),
}


def render() -> None:
    signin.require("admin", "coordinator", "researcher")
    st.title(_("Estimates"))
    if freshness.first_snapshot_pending():
        return
    result = data.estimates()
    if result is None:
        st.info(_("No submissions to estimate from yet."))
        return
    if isinstance(result, AnalysisError):
        st.error(_("The analysis plan cannot be applied to these data: {error}").format(error=safe.error_text(result)))
        return
    plan = data.plan()
    language = i18n.current()
    indicators = {i.id: i for i in plan.indicators}
    names = {i: f"{i} — {indicator_text(plan, indicators[i], language)}" for i in indicators}
    indicator = st.selectbox(_("Indicator"), list(indicators), format_func=names.get, key="estimates_indicator")
    breakdowns = ["none"] + [b for b in plan.breakdowns(indicators[indicator]) if b not in (AREA, DISTRICT)]
    labels = _labels()
    breakdown = (
        st.segmented_control(
            _("Breakdown"), breakdowns, format_func=labels.get, default="none", key="estimates_breakdown"
        )
        or "none"
    )
    if indicators[indicator].note:
        st.caption(safe.text(indicator_text(plan, indicators[indicator], language, "note")))
    _comparability(indicators[indicator])
    rows = result.estimates[result.estimates["indicator"] == indicator]
    by_area, overall = _select(rows, breakdown)
    st.markdown(_reading_note(overall, plan.estimation.level))
    # Only the open tab runs (on_change="rerun"): the Rounds tab estimates two rounds, which a visitor reading
    # the table should not wait for.
    tab_table, tab_chart, tab_map, tab_rounds, tab_weights = st.tabs(
        [_(t) for t in TABS], key="estimates_tab", on_change="rerun"
    )
    if tab_table.open:
        with tab_table:
            _table(by_area, breakdown)
    if tab_chart.open:
        with tab_chart:
            _chart(by_area, breakdown)
    if tab_map.open:
        with tab_map:
            _map(rows)
    if tab_rounds.open:
        with tab_rounds:
            _rounds(indicator, breakdown)
    if tab_weights.open:
        with tab_weights:
            _weighting(result)


COMPARABILITY = {
    "exact": N_("exact"),
    "comparable": N_("comparable, with caveats"),
    "local": N_("local measure: do not report it as the SDG series"),
}


def _comparability(indicator) -> None:
    """How the figure stands against the SDG metadata (the plan's `comparability`), beside every estimate: a local
    measure is a warning, so that nobody copies it into SDG reporting."""
    if not indicator.comparability:
        return
    text = _("Comparability with the SDG metadata: **{level}**.").format(
        level=_(COMPARABILITY[indicator.comparability])
    )
    if indicator.comparability_note:
        text += " " + safe.text(indicator.comparability_note)
    (st.warning if indicator.comparability == "local" else st.caption)(text)


def _labels() -> dict[str, str]:
    return {b: _(label) for b, label in BREAKDOWNS.items()}


def _label(breakdown: str) -> str:
    return _labels().get(breakdown, breakdown.replace("_", " "))


def _select(rows: pd.DataFrame, breakdown: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows per neighbourhood (× the breakdown's groups when chosen) and the city-wide rows of the breakdown."""
    if breakdown == "none":
        by_area = rows[rows["by"] == AREA].assign(area=lambda t: t["group"], group="all")
        overall = rows[rows["by"] == "overall"]
    else:
        by_area = rows[(rows["by"] == breakdown) & rows["area"].notna()]
        overall = rows[(rows["by"] == breakdown) & rows["area"].isna()]
    labels = data.neighbourhoods().set_index("name")["label"]
    flags = {f: _(label) for f, label in FLAGS.items()}
    by_area = by_area.assign(
        neighbourhood=by_area["area"].map(labels).fillna(by_area["area"]), flag_label=by_area["flag"].map(flags)
    )
    return by_area, overall


def _reading_note(overall: pd.DataFrame, level: float) -> str:
    if overall.empty:
        return ""
    parts = []
    for row in overall.itertuples():
        group = _("All surveyed areas") if row.group == "all" else safe.text(row.group)
        value = (
            _("**{estimate:.1%}** ({low:.1%}–{high:.1%}, n = {n:,})").format(
                estimate=row.estimate, low=row.ci_low, high=row.ci_high, n=row.n
            )
            if row.flag != "suppressed"
            else _("withheld (n too small)")
        )
        parts.append(f"{group}: {value}")
    return _("{level:.0%} confidence intervals.").format(level=level) + " " + " · ".join(parts)


def _table(by_area: pd.DataFrame, breakdown: str) -> None:
    columns = (
        ["neighbourhood"]
        + (["group"] if breakdown != "none" else [])
        + ["estimate", "ci_low", "ci_high", "se", "deff", "n", "n_excluded", "flag"]
    )
    by_area = by_area.assign(flag=by_area["flag_label"])  # the flag in words, in the reader's language
    titles = {"estimate": _("estimate"), "ci_low": _("CI low"), "ci_high": _("CI high"), "se": _("SE")}
    percent = {c: st.column_config.NumberColumn(t, format="percent") for c, t in titles.items()}
    st.dataframe(
        by_area[columns].sort_values(columns[: 1 + (breakdown != "none")]),
        hide_index=True,
        column_config={
            **percent,
            "deff": st.column_config.NumberColumn(_("deff"), format="%.2f"),
            "neighbourhood": st.column_config.TextColumn(_("neighbourhood")),
            "n": st.column_config.NumberColumn("n"),
            "n_excluded": st.column_config.NumberColumn(_("n excluded")),
            "flag": st.column_config.TextColumn(_("flag")),
            "group": st.column_config.TextColumn(_label(breakdown)),
        },
    )
    st.caption(
        _(
            "flag: **ok**; **unreliable** = fewer respondents than the plan's min_n (read with care); "
            "**suppressed** = estimate withheld (below suppress_n). n excluded = don't know / refused."
        )
    )


def _chart(by_area: pd.DataFrame, breakdown: str) -> None:
    shown = by_area[by_area["flag"] != "suppressed"]
    if shown.empty:
        st.info(_("Every estimate of this selection is withheld (too few respondents)."))
        return
    y = alt.Y(
        "neighbourhood:N",
        sort=alt.EncodingSortField("estimate", order="descending"),
        title=None,
        axis=alt.Axis(labelLimit=140, labelFontSize=12),
    )
    base = alt.Chart(shown)
    offset = {"yOffset": alt.YOffset("group:N", title=_label(breakdown))} if breakdown != "none" else {}
    bars = base.mark_errorbar(ticks=True).encode(
        x=alt.X(
            "ci_low:Q",
            title=_("estimate with confidence interval"),
            axis=alt.Axis(format="%", tickCount=5),
            scale=alt.Scale(domain=[0, 1]),
        ),
        x2="ci_high:Q",
        y=y,
        **offset,
    )
    flags = {f: _(label) for f, label in FLAGS.items()}
    colour = (
        alt.Color("group:N", title=_label(breakdown))
        if breakdown != "none"
        else alt.Color(
            "flag_label:N", title=_("flag"), scale=alt.Scale(domain=list(flags.values()), range=FLAG_COLOURS)
        )
    )
    points = base.mark_point(filled=True, size=60).encode(
        x="estimate:Q",
        y=y,
        color=colour,
        **offset,
        tooltip=[
            alt.Tooltip("neighbourhood:N", title=_("neighbourhood")),
            alt.Tooltip("group:N", title=_("group")),
            alt.Tooltip("estimate:Q", format=".1%", title=_("estimate")),
            alt.Tooltip("ci_low:Q", format=".1%", title=_("CI low")),
            alt.Tooltip("ci_high:Q", format=".1%", title=_("CI high")),
            "n:Q",
            alt.Tooltip("flag_label:N", title=_("flag")),
        ],
    )
    chart = (bars + points).properties(height=alt.Step(22 if breakdown == "none" else 12))
    st.altair_chart(chart.configure_legend(orient="bottom", labelFontSize=12), width="stretch")


def _map_texts() -> dict[str, str]:
    return {
        "legend": _("estimate"),
        "estimate": _("estimate"),
        "interval": _("confidence interval"),
        "name": _("area"),
        "n": "n",
        "no_data": _("withheld / no data"),
        "attribution": geography.ATTRIBUTION,
    }


def _map(rows: pd.DataFrame) -> None:
    """Districts shaded by their estimate on INEI's limits; neighbourhoods as labelled points (or imported areas)."""
    texts = _map_texts()
    kinds = {DISTRICT: _("districts"), AREA: _("neighbourhoods")}
    kind = (
        st.segmented_control(_("Show"), list(kinds), format_func=kinds.get, default=DISTRICT, key="estimates_map_kind")
        or DISTRICT
    )
    if kind == DISTRICT:
        values = _values(
            rows[(rows["by"] == DISTRICT) & rows["area"].isna()],
            {
                geography.district_code(f["properties"]["district"]): f["properties"]["district"]
                for f in geography.districts()["features"]
            },
        )
        chart = maps.choropleth(geography.districts(), values, "code", texts)
        note = _("District estimates on INEI's district limits.")
    else:
        places = data.neighbourhoods().set_index("name")
        values = _values(rows[rows["by"] == AREA], places["label"].to_dict())
        imported = geography.neighbourhood_boundaries(data.data_dir())
        if imported is not None:
            chart = maps.choropleth(imported, values, "name", texts)
            note = _("Neighbourhood limits imported by a coordinator (sdg16 geography import).")
        else:
            points = values.join(places[["lat", "lon"]], on="key")
            points["estimate_text"] = [f"{v:.1%}" if pd.notna(v) else texts["no_data"] for v in points["estimate"]]
            points["interval"] = [
                f"{a:.1%}–{b:.1%}" if pd.notna(a) else "—" for a, b in zip(points["ci_low"], points["ci_high"])
            ]
            chart = maps.labelled_points(geography.districts(), points, texts)
            note = _(
                "Neighbourhoods are drawn as points at their approximate centre: their limits are not "
                "published (a coordinator can import them with `sdg16 geography import FILE.geojson`)."
            )
    st.altair_chart(chart, width="stretch")
    st.caption(note + " " + _("Grey = withheld or no data. Compare areas with the intervals, not by shade alone."))


def _values(rows: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """key, label, estimate, ci_low, ci_high, n per area; suppressed estimates withheld (NaN)."""
    shown = rows["flag"] != "suppressed"
    return pd.DataFrame(
        {
            "key": rows["group"],
            "label": rows["group"].map(labels).fillna(rows["group"]),
            "estimate": rows["estimate"].where(shown),
            "ci_low": rows["ci_low"].where(shown),
            "ci_high": rows["ci_high"].where(shown),
            "n": rows["n"],
        }
    ).reset_index(drop=True)


def _rounds(indicator: str, breakdown: str) -> None:
    """Two rounds (date ranges or form versions), each estimated on its own; the change B − A per neighbourhood
    (or per group of the chosen breakdown, city-wide) with its confidence interval and significance
    (analysis.compare), and a chart of both rounds with CIs."""
    kinds = {"days": _("date range"), "version": _("form version")}
    kind = st.radio(_("A round is"), list(kinds), format_func=kinds.get, horizontal=True, key="rounds_kind")
    if kind == "version":
        versions = sorted(data.submissions()["form_version"].astype(str).unique())
        first = st.selectbox(_("Round A: form version"), versions, index=0, key="round_a_version")
        second = st.selectbox(_("Round B: form version"), versions, index=len(versions) - 1, key="round_b_version")
        rounds = {"A": ("form_version", first, first), "B": ("form_version", second, second)}
    else:
        first, second = data.default_day_rounds()
        start, end = first[0], second[1]
        a = st.date_input(_("Round A: interviewed between"), first, min_value=start, max_value=end, key="round_a_days")
        b = st.date_input(_("Round B: interviewed between"), second, min_value=start, max_value=end, key="round_b_days")
        if len(a) != 2 or len(b) != 2:
            return
        rounds = {"A": ("day", str(a[0]), str(a[1])), "B": ("day", str(b[0]), str(b[1]))}
    if rounds["A"] == rounds["B"]:
        st.info(_("Choose two different rounds to compare."))
        return
    estimates = []
    for name, (column, low, high) in rounds.items():
        result = data.round_estimates(column, low, high)
        if result is None:
            st.info(_("Round {name} has no submission.").format(name=name))
            return
        if isinstance(result, AnalysisError):
            st.error(_("Round {name} cannot be estimated: {error}").format(name=name, error=safe.error_text(result)))
            return
        estimates.append(_round_rows(result.estimates, indicator, breakdown).assign(round=name))
    comparison = data.round_comparison(rounds["A"], rounds["B"])
    if isinstance(comparison, AnalysisError):
        st.error(_("These rounds cannot be compared: {error}").format(error=safe.error_text(comparison)))
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
    labels["all"] = _("all surveyed areas")
    return rows.assign(row=[labels.get(group, group) for group in rows["group"]])


def _significance(row) -> str:
    if pd.isna(row.significant):
        return _("not tested")
    if not row.significant:
        return _("no significant change")
    return _("▲ significant increase") if row.change > 0 else _("▼ significant decrease")


def _rounds_table(changes: pd.DataFrame, breakdown: str, level: float) -> None:
    shown = changes.assign(significance=[_significance(r) for r in changes.itertuples()])
    columns = [
        "row",
        "estimate_a",
        "estimate_b",
        "change",
        "ci_low",
        "ci_high",
        "p_value",
        "significance",
        "n_a",
        "n_b",
        "flag",
    ]
    names = {
        "estimate_a": _("estimate A"),
        "estimate_b": _("estimate B"),
        "change": _("change"),
        "ci_low": _("change CI low"),
        "ci_high": _("change CI high"),
        "p_value": _("p-value"),
        "significance": _("significance"),
        "n_a": "n A",
        "n_b": "n B",
        "flag": _("flag"),
    }
    table = shown[columns].rename(columns=names).set_index("row").rename_axis(_rows_label(breakdown))
    percent = {
        names[c]: st.column_config.NumberColumn(names[c], format="percent")
        for c in ("estimate_a", "estimate_b", "change", "ci_low", "ci_high")
    }
    st.dataframe(table, column_config={**percent, names["p_value"]: st.column_config.NumberColumn(format="%.3f")})
    st.caption(
        _(
            "change = B − A in percentage points, with its {level:.0%} confidence interval. Each round is "
            "weighted and estimated on its own with the same plan, so the rounds are independent samples: "
            "SE of the change = √(SE A² + SE B²); t test with the smaller of the two rounds' design degrees "
            "of freedom; significant = p < {alpha:.2f} (the interval excludes 0). Rounds may not share a "
            "submission. flag: **unreliable** = a round has fewer respondents than min_n (read with care); "
            "**suppressed** / only_in_a / only_in_b / no_df (a round's respondents all in one block) = no "
            "change shown. An interval wider than ±100 points means a round has too few blocks there to say "
            "anything."
        ).format(level=level, alpha=1 - level)
    )


def _rows_label(breakdown: str) -> str:
    return _("neighbourhood") if breakdown == "none" else _label(breakdown)


def _rounds_chart(estimates: pd.DataFrame, breakdown: str) -> None:
    shown = estimates[estimates["flag"] != "suppressed"]
    if shown.empty:
        return
    y = alt.Y("row:N", title=None, axis=alt.Axis(labelLimit=220))
    offset = alt.YOffset("round:N", title=_("round"))
    colour = alt.Color("round:N", title=_("round"), scale=ROUND_COLOURS, legend=alt.Legend(orient="bottom"))
    base = alt.Chart(shown)
    bars = base.mark_errorbar(ticks=True).encode(
        x=alt.X(
            "ci_low:Q",
            title=_("estimate with confidence interval, per round"),
            axis=alt.Axis(format="%"),
            scale=alt.Scale(domain=[0, 1]),
        ),
        x2="ci_high:Q",
        y=y,
        yOffset=offset,
        color=colour,
    )
    points = base.mark_point(filled=True, size=50).encode(
        x="estimate:Q",
        y=y,
        yOffset=offset,
        color=colour,
        tooltip=[
            alt.Tooltip("round:N", title=_("round")),
            alt.Tooltip("row:N", title=_rows_label(breakdown)),
            alt.Tooltip("estimate:Q", format=".1%", title=_("estimate")),
            alt.Tooltip("ci_low:Q", format=".1%", title=_("CI low")),
            alt.Tooltip("ci_high:Q", format=".1%", title=_("CI high")),
            "n:Q",
            alt.Tooltip("flag:N", title=_("flag")),
        ],
    )
    st.altair_chart((bars + points).properties(height=alt.Step(12)), width="stretch")


def _weighting(result) -> None:
    plan = data.plan()
    st.subheader(_("Weighting diagnostics"))
    trim = _(", adjustment factors trimmed to {trim}").format(trim=list(plan.weights.trim)) if plan.weights.trim else ""
    st.caption(
        _(
            "Method: {method}{trim}. deff_w = Kish design effect of the weights; g = final weight ÷ design weight."
        ).format(method=plan.weights.method, trim=trim)
    )
    st.dataframe(result.diagnostics, hide_index=True)
    if result.warnings:  # analysis words them (in English): shown as data under a translated heading
        st.warning(_("The weighting left {n} notes:").format(n=len(result.warnings)))
        role = signin.current_user().role
        st.dataframe(pd.DataFrame({_("note"): [safe.for_role(w, role) for w in result.warnings]}), hide_index=True)
    st.subheader(_("Population margins: source and assumptions"))
    st.dataframe(
        pd.DataFrame(
            {  # the sources as the plan's author wrote them: a citation, not interface text
                _("file"): [m.file.name for m in plan.margins],
                _("margins"): [", ".join(m.columns) for m in plan.margins],
                _("source"): [m.source or _("no source given in the plan") for m in plan.margins],
            }
        ),
        hide_index=True,
    )
    with st.expander(_("What the margins assume")):
        st.text(data.margins_assumption())


if __name__ == "__main__":
    render()
