"""The methods note that goes with every download: what was estimated, how, and on which assumptions.

It is written from the analysis plan and the run's own diagnostics, so it cannot drift from what was computed.
It only puts the plan into words (no number is computed here). In analysis, next to the plan, so that the app,
the XLSX metadata sheet and the command line all give the same note.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from analysis.margins import margin_assumption
from analysis.pipeline import Result
from analysis.plan import Plan

CI_METHODS = {
    "logit": "the logit-transformed interval of R survey's svyciprop(method = \"logit\")",
    "beta": "the Korn–Graubard (beta) interval of svyciprop(method = \"beta\")",
    "wilson": "a design-adjusted Wilson interval",
}


def _respondents(plan: Plan) -> str:
    """Who is in the analysis, as the plan's [recode] declares it (a plan may declare no eligibility rule)."""
    recode = plan.recode
    rules = ([f"who consented (`{recode.consent}` = yes)"] if recode.consent else []) + (
        [f"aged {recode.min_age}+ (`{recode.age}`)"] if recode.age else [])
    if not rules:
        return "Respondents: every submission (the plan declares no eligibility rule)."
    one = ", one per household" if recode.household_adults else ""
    return f"Respondents: people {' and '.join(rules)}{one}."


def _weight_line(plan: Plan, result: Result) -> str:
    """How the design weight was made: from the recorded probabilities (with the non-response classes), or not."""
    design, selection = plan.design, plan.selection
    if result.sample.probability:
        classes = result.sample.classes
        factors = f"factors {classes['factor'].min():.3g}–{classes['factor'].max():.3g}" if len(classes) else ""
        return (f"- Design weight `{design.weight}` = 1 / (P(block) · P(dwelling | block) · P(person | dwelling)) from the "
                f"recorded `{selection.prob_block}`, `{selection.take}` / `{selection.dwellings}` and 1 / "
                f"`{selection.eligible_adults}` (next-birthday selection); unknown eligibility and non-response "
                f"adjusted within weighting classes ({' → '.join(plan.nonresponse.classes)}"
                + (f" × {', '.join(plan.nonresponse.by)}" if plan.nonresponse.by else "")
                + f"; a class with fewer than {plan.nonresponse.min_respondents} respondents or a factor above "
                f"{plan.nonresponse.max_factor:g} is merged with a neighbouring class): {len(classes)} classes, {factors}. "
                "Selected dwellings never visited count as unknown eligibility; visit records without an interview "
                "enter the adjustment and then leave the estimation base.")
    if design.weight:
        return (f"- Design (base) weight: `{design.weight}` (adults in the household, for one adult interviewed per "
                "household), scaled within each stratum to the stratum's population. No selection probability was "
                "recorded: the estimates rest on the calibration model.")
    return "- Equal base weights within strata. No selection probability was recorded: the estimates rest on the calibration model."


def methods_note(plan: Plan, result: Result, synthetic: bool = False) -> str:
    """Markdown: data, design, weighting (with `margins.margin_assumption`), estimation, reliability rules,
    indicators, caveats. `synthetic` puts a warning at the top (the app's demo round)."""
    design, weights, est = plan.design, plan.weights, plan.estimation
    diagnostics = result.diagnostics
    overall = diagnostics[diagnostics["by"] == "overall"].iloc[0] if "by" in diagnostics else None
    lines = [
        f"# Methods note — {plan.title or 'SDG 16 perception survey'}",
        "",
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by sdg16-survey from the analysis plan "
        f"`{plan.path.name if plan.path else 'plan'}`.",
    ]
    lines += ["", f"**{result.sample.note}**"]
    if synthetic:
        lines += ["", "**SYNTHETIC DATA: these results come from the generated demo round, not from a real survey.**"]
    lines += [
        "",
        "## Data",
        _respondents(plan) + " Submissions rejected in review are excluded; edited submissions count once, in their "
        "latest version.",
        "",
        "## Sampling design",
        f"- Strata: `{design.strata}`" if design.strata else "- No stratification.",
        f"- Primary sampling units (clusters): `{design.psu}`" if design.psu else "- Each respondent is their own PSU.",
        _weight_line(plan, result),
        *([f"- First-stage finite population correction from the frame `{Path(design.fpc).name}` (blocks per "
           "stratum, as R svydesign(fpc = ~N_h))."] if design.fpc else []),
        f"- Strata with a single PSU: `{design.lonely_psu}` (as R survey's options(survey.lonely.psu)).",
        "",
        "## Weighting",
        f"Method: **{weights.method}**"
        + (f", adjustment factors trimmed to [{weights.trim[0]}, {weights.trim[1]}] and re-raked" if weights.trim else "")
        + " to these population margins:",
        *[f"- `{m.file.name}` ({', '.join(m.columns)}): {m.source or 'source not stated'}" for m in plan.margins],
        "",
        "```",
        margin_assumption(plan),
        "```",
    ]
    if overall is not None:
        shown = [c for c in ("n", "n_eff", "deff_w", "weight_cv", "weight_ratio", "g_min", "g_max") if c in diagnostics.columns]
        lines += ["", "Weight diagnostics (all respondents): " + ", ".join(f"{c} = {float(overall[c]):.3g}" for c in shown)
                  + " (deff_w: Kish design effect of the weights = 1 + weight_cv²; n_eff: effective sample size; g: final ÷ "
                  "design weight)."]
    for warning in result.warnings:
        lines.append(f"- Note: {warning}")
    lines += [
        "",
        "## Estimation",
        "Proportions are ratio estimators on the calibrated design; standard errors by Taylor linearisation "
        "with the calibration taken into account (as R survey after rake()/postStratify()); sub-populations are "
        "domains of the whole design, never subsets dropped before the design was built.",
        f"Confidence intervals at {est.level:.0%}: {CI_METHODS.get(est.ci, est.ci)}. Design effects as deff = TRUE.",
        _variance_note(plan, result),
        f"Reliability: estimates from fewer than {est.min_n} respondents are flagged *unreliable*; fewer than "
        f"{est.suppress_n} are *suppressed* (withheld); *referencial* (INEI's 'cifra referencial', read with care) "
        f"when the coefficient of variation exceeds {est.max_cv:.0%}, the effective sample size n/deff is below "
        f"{est.min_effective_n:g} or a share's interval is wider than {est.max_ci_width:.0%} points. Where a share "
        "is 0 or 1 the interval is the one-sided Clopper–Pearson bound with Korn–Graubard's degrees-of-freedom "
        "factor. Don't know / refused answers leave the base where the indicator says so and are counted in "
        "`n_excluded`.",
        f"Breakdowns: {', '.join(est.by)}" + (f"; each also within `{est.area}`." if est.area else "."),
        "",
        "## Indicators",
        "Comparability with the SDG metadata: **exact** (same question, scale, base and computation), "
        "**comparable** (with the caveats noted), **local** (a local measure: never report it as the SDG series).",
        "",
        "| id | series | name | success | excluded | domain | comparability | note |",
        "|---|---|---|---|---|---|---|---|",
        *[f"| {i.id} | {i.series} | {i.name} | {_success(i)} | "
          f"{', '.join(map(str, i.exclude))} | {i.domain} | {i.comparability or 'not stated'} | {i.comparability_note} |"
          for i in plan.indicators],
        "",
        "## Caveats",
        "- Neighbourhood boundaries, centroids and population shares are working assumptions of the project "
        "(data/README.md); maps are approximate.",
        "- Perception indicators (16.1.4) differ from INEI ENAPRES's 'expects to be a victim' concept: do not mix them.",
    ]
    return "\n".join(lines) + "\n"


def _success(indicator) -> str:
    if indicator.mean_of:
        return ("average of the shares " if indicator.mean_over == "shares" else "mean of ") + ", ".join(
            indicator.mean_of)
    if indicator.statistic != "proportion":
        return f"{indicator.statistic} of {indicator.variable}"
    return ", ".join(map(str, indicator.success))


def _variance_note(plan: Plan, result: Result) -> str:
    """How the standard errors were made, and how to use the replicate weights elsewhere."""
    replicates = result.replicates
    if replicates is None:
        return "Means and totals of numeric variables: R's svymean/svytotal, t-intervals on their own scale."
    rscales = np.unique(np.round(replicates.rscales, 12))
    return (f"Standard errors from {replicates.count} replicate weights ({replicates.method}, every replicate "
            f"re-raked), scale = {replicates.scale:.6g}, rscales = {', '.join(f'{r:.6g}' for r in rscales[:5])}"
            f"{' …' if len(rscales) > 5 else ''}; the microdata carry them as repw_1 … repw_{replicates.count} "
            "(R: svrepdesign(weights=~weight, repweights='repw_[0-9]+', type='other', scale=, rscales=, "
            "mse=FALSE); Stata: svyset [pw=weight], jackknife/bsrweight with the same multipliers).")
