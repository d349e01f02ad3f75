"""The methods note that goes with every download: what was estimated, how, and on which assumptions.

It is written from the analysis plan and the run's own diagnostics, so it cannot drift from what was computed.
It only puts the plan into words (no number is computed here). In analysis, next to the plan, so that the app,
the XLSX metadata sheet and the command line all give the same note.
"""

from __future__ import annotations

from datetime import UTC, datetime

from analysis.labels import indicator_text
from analysis.margins import margin_assumption
from analysis.pipeline import Result
from analysis.plan import Plan

CI_METHODS = {
    "en": {
        "logit": "the logit-transformed interval of R survey's svyciprop(method = \"logit\")",
        "beta": "the Korn–Graubard (beta) interval of svyciprop(method = \"beta\")",
        "wilson": "a design-adjusted Wilson interval",
    },
    "es": {
        "logit": "el intervalo con transformación logit de svyciprop(method = \"logit\") de R survey",
        "beta": "el intervalo de Korn–Graubard (beta) de svyciprop(method = \"beta\")",
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
        "strata": "- Strata: `{strata}`", "no_strata": "- No stratification.",
        "psu": "- Primary sampling units (clusters): `{psu}`", "no_psu": "- Each respondent is their own PSU.",
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
        "breakdowns": "Breakdowns: {by}", "within": "; each also within `{area}`.",
        "indicators": "## Indicators",
        "header": "| id | series | name | success | excluded | domain |",
        "mean_of": "mean of ",
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
        "strata": "- Estratos: `{strata}`", "no_strata": "- Sin estratificación.",
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
        "breakdowns": "Desagregaciones: {by}", "within": "; cada una también dentro de `{area}`.",
        "indicators": "## Indicadores",
        "header": "| id | serie | nombre | éxito | excluidos | dominio |",
        "mean_of": "promedio de ",
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
    if synthetic:
        lines += ["", t["synthetic"]]
    trim = t["trim"].format(low=weights.trim[0], high=weights.trim[1]) if weights.trim else ""
    lines += [
        "",
        t["data"],
        t["respondents"].format(min_age=plan.recode.min_age, consent=plan.recode.consent),
        "",
        t["design"],
        t["strata"].format(strata=design.strata) if design.strata else t["no_strata"],
        t["psu"].format(psu=design.psu) if design.psu else t["no_psu"],
        t["weight"].format(weight=design.weight) if design.weight else t["no_weight"],
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
        shown = [c for c in ("n", "n_eff", "deff_w", "weight_ratio", "g_min", "g_max") if c in diagnostics.columns]
        values = ", ".join(f"{c} = {float(overall[c]):.3g}" for c in shown)
        lines += ["", t["diagnostics"].format(values=values)]
    lines += [t["warning"].format(warning=warning) for warning in result.warnings]
    lines += [
        "",
        t["estimation"],
        t["ratio"],
        t["intervals"].format(level=est.level, method=CI_METHODS[language].get(est.ci, est.ci)),
        t["reliability"].format(min_n=est.min_n, suppress_n=est.suppress_n),
        t["breakdowns"].format(by=", ".join(est.by)) + (t["within"].format(area=est.area) if est.area else "."),
        "",
        t["indicators"],
        t["header"],
        "|---|---|---|---|---|---|",
        *[f"| {i.id} | {i.series} | {indicator_text(plan, i, language)} | "
          f"{', '.join(i.success) or t['mean_of'] + ', '.join(i.mean_of)} | {', '.join(i.exclude)} | {i.domain} |"
          for i in plan.indicators],
        "",
        t["caveats"],
        t["caveat_areas"],
        t["caveat_enapres"],
    ]
    return "\n".join(lines) + "\n"
