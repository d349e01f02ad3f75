"""The methods note that goes with every download: what was estimated, how, and on which assumptions.

It is written from the analysis plan and the run's own diagnostics, so it cannot drift from what was computed.
It only puts the plan into words (no number is computed here). In analysis, next to the plan, so that the app,
the XLSX metadata sheet and the command line all give the same note.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from analysis.labels import indicator_text
from analysis.margins import margin_assumption
from analysis.pipeline import Result
from analysis.plan import Plan, is_frame_file

CI_METHODS = {
    "en": {
        "logit": 'the logit-transformed interval of R survey\'s svyciprop(method = "logit")',
        "beta": 'the Korn–Graubard (beta) interval of svyciprop(method = "beta")',
        "wilson": "a design-adjusted Wilson interval",
    },
    "es": {
        "logit": 'el intervalo con transformación logit de svyciprop(method = "logit") de R survey',
        "beta": 'el intervalo de Korn–Graubard (beta) de svyciprop(method = "beta")',
        "wilson": "un intervalo de Wilson ajustado por el diseño",
    },
}
LANGUAGES = ("es", "en")  # Spanish first: the note goes to Trujillo's coordinators before anyone else

# The note's sentences per language; {fields} are filled from the plan and the run.
TEXT = {
    "en": {
        "title": "# Methods note — {title}",
        "default_title": "SDG 16 perception survey",
        "generated": "Generated {when} UTC by sdg16-survey from the analysis plan `{plan}`.",
        "synthetic": "**SYNTHETIC DATA: these results come from the generated demo round, not from a real survey.**",
        "data": "## Data",
        "respondents": "Respondents: adults aged {min_age}+ who consented (`{consent}`), one per household. "
        "Submissions rejected in review are excluded; edited submissions count once, in their latest "
        "version.",
        "design": "## Sampling design",
        "strata": "- Strata: `{strata}`",
        "no_strata": "- No stratification.",
        "psu": "- Primary sampling units (clusters): `{psu}`",
        "no_psu": "- Each respondent is their own PSU.",
        "weight": "- Design (base) weight: `{weight}` (adults in the household, for one adult interviewed per "
        "household), scaled within each stratum to the stratum's population.",
        "no_weight": "- Equal base weights within strata.",
        "lonely": "- Strata with a single PSU: `{lonely}` (as R survey's options(survey.lonely.psu)).",
        "weighting": "## Weighting",
        "method": "Method: **{method}**{trim} to these population margins:",
        "trim": ", adjustment factors trimmed to [{low}, {high}] and re-raked",
        "no_source": "source not stated",
        "diagnostics": "Weight diagnostics (all respondents): {values} (deff_w: Kish design effect of the weights; "
        "n_eff: effective sample size; g: final ÷ design weight).",
        "warning": "- Note: {warning}",
        "estimation": "## Estimation",
        "ratio": "Proportions are ratio estimators on the calibrated design; standard errors by Taylor "
        "linearisation with the calibration taken into account (as R survey after rake()/postStratify()); "
        "sub-populations are domains of the whole design, never subsets dropped before the design was "
        "built.",
        "intervals": "Confidence intervals at {level:.0%}: {method}. Design effects as deff = TRUE.",
        "reliability": "Reliability: estimates from fewer than {min_n} respondents are flagged *unreliable*; fewer "
        "than {suppress_n} are *suppressed* (withheld). Don't know / refused answers leave the base "
        "where the indicator says so and are counted in `n_excluded`.",
        "breakdowns": "Breakdowns: {by}",
        "within": "; each also within `{area}`.",
        "indicators": "## Indicators",
        "header": "| id | series | name | success | excluded | domain | comparability | note |",
        "mean_of": "mean of ",
        "everyone": "Respondents: every submission (the plan declares no eligibility rule).",
        "probability": "- Design weight `{weight}` = 1 / (P(block) · P(dwelling | block) · P(person | dwelling)) from "
        "the recorded `{prob_block}`, `{take}` / `{dwellings}` and 1 / `{adults}` (next-birthday "
        "selection); unknown eligibility and non-response adjusted within weighting classes "
        "({classes}; a class with fewer than {min_respondents} respondents or a factor above "
        "{max_factor:g} is merged with a neighbouring class): {count} classes{factors}. Selected "
        "dwellings never visited count as unknown eligibility; visit records without an interview "
        "enter the adjustment and then leave the estimation base.",
        "factors": ", factors {low:.3g}–{high:.3g}",
        "calibration_only": " No selection probability was recorded: the estimates rest on the calibration model.",
        "fpc_frame": "- First-stage finite population correction from the frame `{frame}` (blocks per stratum, as R "
        "svydesign(fpc = ~N_h)).",
        "fpc_column": "- Finite population correction from the column `{fpc}` (as R svydesign(fpc = ~{fpc})).",
        "referencial": " *Referencial* (INEI's 'cifra referencial', read with care): coefficient of variation above "
        "{max_cv:.0%}, effective sample size n/deff below {min_n_eff:g}, or a share's interval wider "
        "than {width:.0%} points. Where a share is 0 or 1 the interval is the one-sided "
        "Clopper–Pearson bound with Korn–Graubard's degrees-of-freedom factor.",
        "linearised": "Means and totals of numeric variables: R's svymean/svytotal, t-intervals on their own scale.",
        "replicated": "Standard errors from {count} replicate weights ({method}, every replicate re-raked), scale = "
        "{scale:.6g}, rscales = {rscales}; the microdata carry them as repw_1 … repw_{count} (R: "
        "svrepdesign(weights=~weight, repweights='repw_[0-9]+', type='other', scale=, rscales=, "
        "mse=FALSE); Stata: svyset [pw=weight], jackknife/bsrweight with the same multipliers).",
        "comparability": "Comparability with the SDG metadata: **exact** (same question, scale, base and "
        "computation), **comparable** (with the caveats noted), **local** (a local measure: never "
        "report it as the SDG series).",
        "not_stated": "not stated",
        "shares_of": "average of the shares ",
        "statistic_of": "{statistic} of {variable}",
        "caveats": "## Caveats",
        "caveat_areas": "- Neighbourhood centroids and population shares are working assumptions of the project "
        "(data/README.md); neighbourhoods are mapped as points, districts on INEI's 2023 limits.",
        "caveat_enapres": "- Perception indicators (16.1.4) differ from INEI ENAPRES's 'expects to be a victim' "
        "concept: do not mix them.",
    },
    "es": {
        "title": "# Nota metodológica — {title}",
        "default_title": "Encuesta de percepción ODS 16",
        "generated": "Generada el {when} UTC por sdg16-survey a partir del plan de análisis `{plan}`.",
        "synthetic": "**DATOS SINTÉTICOS: estos resultados provienen de la ronda de demostración generada, no de "
        "una encuesta real.**",
        "data": "## Datos",
        "respondents": "Personas entrevistadas: adultas de {min_age} años o más que aceptaron participar "
        "(`{consent}`), una por hogar. Se excluyen los envíos rechazados en la revisión; los envíos "
        "editados cuentan una vez, en su última versión.",
        "design": "## Diseño muestral",
        "strata": "- Estratos: `{strata}`",
        "no_strata": "- Sin estratificación.",
        "psu": "- Unidades primarias de muestreo (conglomerados): `{psu}`",
        "no_psu": "- Cada persona entrevistada es su propia UPM.",
        "weight": "- Peso de diseño (base): `{weight}` (personas adultas del hogar, pues se entrevista a una por "
        "hogar), escalado en cada estrato a su población.",
        "no_weight": "- Pesos base iguales dentro de cada estrato.",
        "lonely": "- Estratos con una sola UPM: `{lonely}` (como options(survey.lonely.psu) de R survey).",
        "weighting": "## Ponderación",
        "method": "Método: **{method}**{trim} a estos márgenes de población:",
        "trim": ", factores de ajuste recortados a [{low}, {high}] y vueltos a calibrar",
        "no_source": "fuente no indicada",
        "diagnostics": "Diagnóstico de los pesos (todas las personas): {values} (deff_w: efecto de diseño de Kish "
        "de los pesos; n_eff: tamaño efectivo de muestra; g: peso final ÷ peso de diseño).",
        "warning": "- Nota: {warning}",
        "estimation": "## Estimación",
        "ratio": "Las proporciones son estimadores de razón sobre el diseño calibrado; errores estándar por "
        "linealización de Taylor teniendo en cuenta la calibración (como R survey tras "
        "rake()/postStratify()); las subpoblaciones son dominios del diseño completo, nunca subconjuntos "
        "quitados antes de construir el diseño.",
        "intervals": "Intervalos de confianza al {level:.0%}: {method}. Efectos de diseño como deff = TRUE.",
        "reliability": "Confiabilidad: las estimaciones con menos de {min_n} personas se marcan como *poco "
        "confiables*; con menos de {suppress_n} se *suprimen* (no se muestran). Las respuestas no "
        "sabe / no responde salen de la base cuando el indicador lo dice y se cuentan en "
        "`n_excluded`.",
        "breakdowns": "Desagregaciones: {by}",
        "within": "; cada una también dentro de `{area}`.",
        "indicators": "## Indicadores",
        "header": "| id | serie | nombre | éxito | excluidos | dominio | comparabilidad | nota |",
        "mean_of": "promedio de ",
        "everyone": "Personas entrevistadas: todos los envíos (el plan no declara ninguna regla de elegibilidad).",
        "probability": "- Peso de diseño `{weight}` = 1 / (P(manzana) · P(vivienda | manzana) · P(persona | vivienda)) "
        "a partir de lo registrado: `{prob_block}`, `{take}` / `{dwellings}` y 1 / `{adults}` "
        "(selección por el próximo cumpleaños); elegibilidad desconocida y no respuesta ajustadas "
        "dentro de clases de ponderación ({classes}; una clase con menos de {min_respondents} "
        "personas entrevistadas o un factor mayor que {max_factor:g} se une a una clase vecina): "
        "{count} clases{factors}. Las viviendas seleccionadas nunca visitadas cuentan como de "
        "elegibilidad desconocida; los registros de visita sin entrevista entran en el ajuste y luego "
        "salen de la base de estimación.",
        "factors": ", factores {low:.3g}–{high:.3g}",
        "calibration_only": " No se registró ninguna probabilidad de selección: las estimaciones descansan en el "
        "modelo de calibración.",
        "fpc_frame": "- Corrección por población finita de la primera etapa a partir del marco `{frame}` (manzanas "
        "por estrato, como svydesign(fpc = ~N_h) de R).",
        "fpc_column": "- Corrección por población finita de la columna `{fpc}` (como svydesign(fpc = ~{fpc}) de R).",
        "referencial": " *Referencial* (la «cifra referencial» del INEI, léase con cautela): coeficiente de variación "
        "mayor que {max_cv:.0%}, tamaño efectivo de muestra n/deff menor que {min_n_eff:g}, o un "
        "intervalo de una proporción de más de {width:.0%} puntos. Cuando una proporción es 0 o 1 el "
        "intervalo es la cota unilateral de Clopper–Pearson con el factor de grados de libertad de "
        "Korn–Graubard.",
        "linearised": "Medias y totales de variables numéricas: svymean/svytotal de R, intervalos t en su propia "
        "escala.",
        "replicated": "Errores estándar a partir de {count} pesos replicados ({method}, cada réplica vuelta a "
        "calibrar), scale = {scale:.6g}, rscales = {rscales}; los microdatos los llevan como repw_1 … "
        "repw_{count} (R: svrepdesign(weights=~weight, repweights='repw_[0-9]+', type='other', scale=, "
        "rscales=, mse=FALSE); Stata: svyset [pw=weight], jackknife/bsrweight con los mismos "
        "multiplicadores).",
        "comparability": "Comparabilidad con los metadatos ODS: **exacta** (misma pregunta, escala, base y cálculo), "
        "**comparable** (con las salvedades anotadas), **local** (medida local: nunca la reporte "
        "como la serie ODS).",
        "not_stated": "no indicada",
        "shares_of": "promedio de las proporciones ",
        "statistic_of": "{statistic} de {variable}",
        "caveats": "## Advertencias",
        "caveat_areas": "- Los centroides de los barrios y sus proporciones de población son supuestos de trabajo "
        "del proyecto (data/README.md); los barrios se muestran como puntos, los distritos sobre "
        "los límites del INEI de 2023.",
        "caveat_enapres": "- Los indicadores de percepción (16.1.4) difieren del concepto «espera ser víctima» de "
        "la ENAPRES del INEI: no los mezcle.",
    },
}


def methods_note(plan: Plan, result: Result, synthetic: bool = False, language: str = "es") -> str:
    """Markdown in `language` ("es", the default, or "en"): data, design, weighting (with
    `margins.margin_assumption`), estimation, reliability rules, indicators, caveats. `synthetic` puts a warning
    at the top (the app's demo round)."""
    t = TEXT[language]
    design, weights, est = plan.design, plan.weights, plan.estimation
    diagnostics = result.diagnostics
    overall = diagnostics[diagnostics["by"] == "overall"].iloc[0] if "by" in diagnostics else None
    lines = [
        t["title"].format(title=plan.title or t["default_title"]),
        "",
        t["generated"].format(when=f"{datetime.now(UTC):%Y-%m-%d %H:%M}", plan=plan.path.name if plan.path else "plan"),
    ]
    lines += ["", f"**{result.sample.note}**"]
    if synthetic:
        lines += ["", t["synthetic"]]
    trim = t["trim"].format(low=weights.trim[0], high=weights.trim[1]) if weights.trim else ""
    lines += [
        "",
        t["data"],
        t["respondents"].format(min_age=plan.recode.min_age, consent=plan.recode.consent)
        if plan.recode.consent or plan.recode.age
        else t["everyone"],
        "",
        t["design"],
        t["strata"].format(strata=design.strata) if design.strata else t["no_strata"],
        t["psu"].format(psu=design.psu) if design.psu else t["no_psu"],
        _weight_line(plan, result, t),
        *_fpc_line(plan, t),
        t["lonely"].format(lonely=design.lonely_psu),
        "",
        t["weighting"],
        t["method"].format(method=weights.method, trim=trim),
        *[f"- `{m.file.name}` ({', '.join(m.columns)}): {m.source or t['no_source']}" for m in plan.margins],
        "",
        "```",
        margin_assumption(plan),
        "```",
    ]
    if overall is not None:
        shown = [
            c
            for c in ("n", "n_eff", "deff_w", "weight_cv", "weight_ratio", "g_min", "g_max")
            if c in diagnostics.columns
        ]
        values = ", ".join(f"{c} = {float(overall[c]):.3g}" for c in shown)
        lines += ["", t["diagnostics"].format(values=values)]
    lines += [t["warning"].format(warning=warning) for warning in result.warnings]
    lines += [
        "",
        t["estimation"],
        t["ratio"],
        t["intervals"].format(level=est.level, method=CI_METHODS[language].get(est.ci, est.ci)),
        _variance_note(result, t),
        t["reliability"].format(min_n=est.min_n, suppress_n=est.suppress_n)
        + t["referencial"].format(max_cv=est.max_cv, min_n_eff=est.min_effective_n, width=est.max_ci_width),
        t["breakdowns"].format(by=", ".join(est.by)) + (t["within"].format(area=est.area) if est.area else "."),
        "",
        t["indicators"],
        t["comparability"],
        "",
        t["header"],
        "|---|---|---|---|---|---|---|---|",
        *[
            f"| {i.id} | {i.series} | {indicator_text(plan, i, language)} | {_success(i, t)} | "
            f"{', '.join(map(str, i.exclude))} | {i.domain} | {i.comparability or t['not_stated']} | "
            f"{i.comparability_note} |"
            for i in plan.indicators
        ],
        "",
        t["caveats"],
        t["caveat_areas"],
        t["caveat_enapres"],
    ]
    return "\n".join(lines) + "\n"


def _weight_line(plan: Plan, result: Result, t: dict[str, str]) -> str:
    """How the design weight was made: from the recorded probabilities (with the non-response classes), or not."""
    design, selection, nonresponse = plan.design, plan.selection, plan.nonresponse
    if result.sample.probability:
        classes = result.sample.classes
        factors = t["factors"].format(low=classes["factor"].min(), high=classes["factor"].max()) if len(classes) else ""
        joined = " → ".join(nonresponse.classes) + (f" × {', '.join(nonresponse.by)}" if nonresponse.by else "")
        return t["probability"].format(
            weight=design.weight,
            prob_block=selection.prob_block,
            take=selection.take,
            dwellings=selection.dwellings,
            adults=selection.eligible_adults,
            classes=joined,
            min_respondents=nonresponse.min_respondents,
            max_factor=nonresponse.max_factor,
            count=len(classes),
            factors=factors,
        )
    base = t["weight"].format(weight=design.weight) if design.weight else t["no_weight"]
    return base + t["calibration_only"]


def _fpc_line(plan: Plan, t: dict[str, str]) -> list[str]:
    fpc = plan.design.fpc
    if not fpc:
        return []
    return [t["fpc_frame"].format(frame=Path(fpc).name) if is_frame_file(fpc) else t["fpc_column"].format(fpc=fpc)]


def _success(indicator, t: dict[str, str]) -> str:
    if indicator.mean_of:
        return (t["shares_of"] if indicator.mean_over == "shares" else t["mean_of"]) + ", ".join(indicator.mean_of)
    if indicator.statistic != "proportion":
        return t["statistic_of"].format(statistic=indicator.statistic, variable=indicator.variable)
    return ", ".join(map(str, indicator.success))


def _variance_note(result: Result, t: dict[str, str]) -> str:
    """How the standard errors were made, and how to use the replicate weights elsewhere."""
    replicates = result.replicates
    if replicates is None:
        return t["linearised"]
    rscales = np.unique(np.round(replicates.rscales, 12))
    shown = ", ".join(f"{r:.6g}" for r in rscales[:5]) + (" …" if len(rscales) > 5 else "")
    return t["replicated"].format(
        count=replicates.count, method=replicates.method, scale=replicates.scale, rscales=shown
    )
