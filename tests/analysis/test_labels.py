"""Every indicator of the shipped plan has its Spanish name and note (analysis/plans/sdg16.es.toml)."""

from analysis.labels import indicator_text, missing
from analysis.plan import DEFAULT_PLAN, load_plan


def test_every_indicator_of_the_plan_has_its_spanish_name_and_note():
    assert missing(load_plan(DEFAULT_PLAN), "es") == []


def test_english_is_the_plans_own_text_and_spanish_comes_from_beside_it():
    plan = load_plan(DEFAULT_PLAN)
    first = plan.indicators[0]
    assert indicator_text(plan, first, "en") == first.name
    assert indicator_text(plan, first, "es") == "Se sienten seguros caminando solos por su zona de noche"
