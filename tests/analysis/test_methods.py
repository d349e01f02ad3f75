"""The methods note says what the plan and the run did: design, margins and their assumption, diagnostics,
interval method, reliability rules, every indicator."""

import dataclasses
import shutil

import pytest
from synthetic import synthetic_submissions

from analysis.methods import methods_note
from analysis.pipeline import run
from analysis.plan import DEFAULT_PLAN, load_plan

PLAN = load_plan(DEFAULT_PLAN)


@pytest.fixture(scope="module")
def result():
    return run(PLAN, synthetic_submissions(800, seed=5))


def test_note_puts_the_plan_and_the_run_into_words(result):
    note = methods_note(PLAN, result, language="en")
    for heading in ("## Data", "## Sampling design", "## Weighting", "## Estimation", "## Indicators", "## Caveats"):
        assert heading in note
    assert f"Strata: `{PLAN.design.strata}`" in note and f"`{PLAN.design.psu}`" in note
    assert "DEFAULT MARGINS — AN ASSUMPTION, NOT CENSUS COUNTS." in note
    for margin in PLAN.margins:
        assert f"`{margin.file.name}`" in note
    overall = result.diagnostics[result.diagnostics["by"] == "overall"].iloc[0]
    assert f"n = {float(overall['n']):.3g}" in note and f"deff_w = {float(overall['deff_w']):.3g}" in note
    assert f"fewer than {PLAN.estimation.min_n} respondents are flagged *unreliable*" in note
    assert f"{PLAN.estimation.level:.0%}" in note
    for indicator in PLAN.indicators:
        assert f"| {indicator.id} | {indicator.series} | {indicator.name} |" in note
        assert f"| {indicator.comparability} | {indicator.comparability_note} |" in note
    assert "**local** (a local measure: never report it as the SDG series)" in note
    assert "Respondents: adults aged 18+ who consented (`consent`), one per household." in note
    assert "SYNTHETIC" not in note


def test_synthetic_runs_are_marked(result):
    assert "**SYNTHETIC DATA" in methods_note(PLAN, result, synthetic=True, language="en")
    assert "**DATOS SINTÉTICOS" in methods_note(PLAN, result, synthetic=True)


def test_the_note_is_in_spanish_by_default_with_the_same_figures(result):
    spanish = methods_note(PLAN, result)
    for heading in ("## Datos", "## Diseño muestral", "## Ponderación", "## Estimación", "## Indicadores"):
        assert heading in spanish
    assert "Se sienten seguros caminando solos por su zona de noche" in spanish
    overall = result.diagnostics[result.diagnostics["by"] == "overall"].iloc[0]
    assert f"deff_w = {float(overall['deff_w']):.3g}" in spanish


def test_a_plan_with_its_own_margins_does_not_claim_the_default_assumption(result, tmp_path):
    own = []
    for margin in PLAN.margins:
        shutil.copy(margin.file, tmp_path / margin.file.name)
        own.append(dataclasses.replace(margin, file=tmp_path / margin.file.name, source="INEI REDATAM tabulation"))
    note = methods_note(dataclasses.replace(PLAN, margins=tuple(own)), result, language="en")
    assert "DEFAULT MARGINS" not in note
    assert "the plan's own margins: see each margin's source" in note and "INEI REDATAM tabulation" in note
