"""The shipped plan's SDG definitions on a hand-made set of six submissions with known answers (five v2, one v1).

Equal weights and no design (each respondent its own PSU), so every estimate is a plain share that can be
counted by hand: the point is each changed definition (issue 10), not the variance (tests/golden does that).
Respondents: r1 robbery only; r2 assault, told only Línea 100; r3 nothing; r4 privacy check skipped the module;
r5 harassment, refused to say whom they told; r6 a v1 submission (robbery in v1's sense, told nobody named).
"""

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.pipeline import run
from analysis.plan import (
    COMPARABILITY,
    DesignSpec,
    EstimationSpec,
    WeightsSpec,
    load_plan,
)

PLAN = load_plan(Path(__file__).resolve().parents[2] / "analysis" / "plans" / "sdg16.toml")
WG = ["wg_seeing", "wg_hearing", "wg_walking", "wg_remembering", "wg_selfcare", "wg_communicating"]
NO = "no"
V2_ACTS = [
    "assault_hit_12m",
    "assault_weapon_12m",
    "assault_threat_weapon_12m",
    "robbery_force_12m",
    "threat_12m",
    "harassment_12m",
    "sexual_touching_12m",
    "sexual_forced_12m",
    "sexual_incapacitated_12m",
]


def respondent(**answers) -> dict:
    base = {
        "consent": "yes",
        "age": "30",
        "sex": "female",
        "district": "trujillo",
        "neighbourhood": "trujillo",
        "household_adults": "1",
        **{c: "no_difficulty" for c in WG},
        "feels_safe_after_dark": "safe",
        "discrimination_5y": NO,
        "dispute_2y": NO,
        "contact_official_12m": NO,
        "used_health_12m": NO,
        "say_in_government": "refused",
        "influence_on_politics": "refused",
    }
    return base | answers


V2 = {"privacy_check": "alone", **{act: NO for act in V2_ACTS}}


def v2(**answers) -> dict:
    """A v2 interview that went through the self-completed module; every act 'no' unless given."""
    return respondent(**(V2 | answers))


SUBMISSIONS = pd.DataFrame(
    [
        v2(
            robbery_force_12m="yes",
            reported_robbery="yes",
            reported_to_robbery="police",
            used_health_12m="yes",
            health_access="agree",
            health_affordability="not_applicable",
            health_quality="agree",
            health_equality="disagree",
            health_courtesy="agree",
            say_in_government="a_lot",
            influence_on_politics="some",
            discrimination_5y="yes",
            discrimination_12m="yes",
            discrim_sex="yes",
            discrim_age=NO,
            dispute_2y="yes",
            dispute_mechanisms_self="conciliation",
            contact_official_12m="yes",
            bribe_asked_12m="yes",
            bribe_paid_12m=NO,
        ),
        v2(
            assault_weapon_12m="yes",
            reported_physical="yes",
            reported_to_physical="linea_100",
            used_health_12m="yes",
            health_access="disagree",
            health_affordability="agree",
            health_quality="disagree",
            health_equality="dont_know",
            health_courtesy="agree",
            say_in_government="not_at_all",
            influence_on_politics="dont_know",
            discrimination_5y="yes",
            discrimination_12m="yes",
            discrimination_grounds="age",
            dispute_2y="yes",
            dispute_mechanisms_self="community_leader",
            contact_official_12m="yes",
            bribe_asked_12m=NO,
            bribe_paid_12m=NO,
        ),
        v2(
            say_in_government="dont_know",
            influence_on_politics="a_lot",
            dispute_2y="yes",
            dispute_mechanisms_self="none",
            dispute_no_mechanism_reason="resolved_directly",
        ),
        respondent(privacy_check="others_present"),
        v2(
            harassment_12m="yes",
            reported_psychological="yes",
            reported_to_psychological="refused",
            say_in_government="a_great_deal",
            influence_on_politics="a_lot",
            dispute_2y="yes",
            dispute_mechanisms_self="family_friends",
            dispute_no_mechanism_reason="too_expensive",
        ),
        respondent(
            victim_physical_12m=NO,
            victim_robbery_12m="yes",
            victim_psychological_12m=NO,
            victim_sexual_12m=NO,
            reported_robbery="yes",
            say_in_government="some",
            influence_on_politics="a_lot",
            dispute_2y="yes",
            dispute_mechanisms="police",
        ),
    ],
    dtype=object,
)
# the discrimination by ground of r1 is v2 (yes/no per ground), of r2 v1 (a ticked list)
SUBMISSIONS.loc[1, "discrim_sex"] = np.nan


@pytest.fixture(scope="module")
def estimates() -> pd.DataFrame:
    plan = dataclasses.replace(
        PLAN,
        design=DesignSpec(),
        margins=(),
        weights=WeightsSpec(method="none"),
        estimation=EstimationSpec(by=(), min_n=1, suppress_n=0),
    )
    table = run(plan, SUBMISSIONS).estimates
    return table[table["by"] == "overall"].set_index("indicator")


@pytest.mark.parametrize(
    "indicator, estimate, n, excluded",
    [
        ("16.1.3.physical", 3 / 5, 5, 1),  # r1 robbery only counts (assault OR robbery); r4 skipped: out, counted
        ("16.1.3.robbery", 2 / 5, 5, 1),
        ("16.1.3.assault", 1 / 5, 5, 1),
        ("16.1.3.psychological", 1 / 5, 5, 1),  # harassment alone, no 'fear or harm' threshold
        ("16.1.3.any", 4 / 5, 5, 1),
        ("16.3.1.physical", 0.0, 1, 0),  # r2 told only Línea 100: not a competent authority
        ("16.3.1.physical.broad", 1.0, 1, 0),  # ... but in the broad local variant
        ("16.3.1.robbery", 1.0, 1, 1),  # r1 told the police; r6 (v1) left the list blank: a refusal, counted apart
        ("16.3.1.psychological", None, 0, 1),  # r5 refused to say whom: excluded and counted, never a silent blank
        ("16.3.3", 3 / 4, 4, 1),  # r3 resolved it directly (self-excluded); r5 asked only relatives: no
        ("16.3.3.formal", 2 / 4, 4, 1),  # r1 conciliation centre, r6 police (v1)
        ("16.3.3.informal", 1 / 4, 4, 1),  # r2 community leader
        ("16.5.1", 1 / 2, 2, 0),
        ("16.b.1.sex", 1 / 6, 6, 0),  # r1 (v2 yes/no per ground)
        ("16.b.1.age", 1 / 6, 6, 0),  # r2 (v1 ticked list)
        ("16.b.1", 2 / 6, 6, 0),
        ("16.6.2.health.equality", 0.0, 1, 1),
        ("16.7.2.say", 2 / 4, 4, 2),  # success is 'a lot' or 'a great deal'
        ("16.7.2.influence", 3 / 4, 4, 2),
    ],
)
def test_known_values_of_each_changed_definition(estimates, indicator, estimate, n, excluded):
    row = estimates.loc[indicator]
    assert (row["n"], row["n_excluded"]) == (n, excluded)
    if estimate is None:
        assert pd.isna(row["estimate"])
    else:
        assert row["estimate"] == pytest.approx(estimate)


def test_16_6_2_attribute_series_is_the_average_of_the_five_shares(estimates):
    # access 1/2, affordability 1/1, quality 1/2, equality 0/1, courtesy 2/2 → 0.6 (each user's mean gives 0.625)
    assert estimates.loc["16.6.2.health", "estimate"] == pytest.approx((0.5 + 1 + 0.5 + 0 + 1) / 5)


def test_16_7_2_is_the_average_of_the_two_shares_each_on_its_own_base(estimates):
    # say 2/4, influence 3/4 → 0.625 (the mean over those valid on both gives 2/3)
    assert estimates.loc["16.7.2", "estimate"] == pytest.approx((2 / 4 + 3 / 4) / 2)


def test_every_indicator_says_how_comparable_it_is():
    for indicator in PLAN.indicators:
        assert indicator.comparability in COMPARABILITY, indicator.id
        if indicator.series and indicator.comparability != "exact":
            assert indicator.comparability_note, indicator.id
    broad = [i for i in PLAN.indicators if i.id.endswith(".broad")]
    assert broad and all(i.comparability == "local" and not i.series for i in broad)
    assert PLAN.indicator("local.expects_victim_12m").comparability == "local"


def test_the_competent_authorities_are_declared_in_the_plan():
    strict, broad = PLAN.recode.competent_strict, PLAN.recode.competent_broad
    assert {"police", "prosecutor", "judiciary"} <= set(strict)
    assert not {"linea_100", "cem", "demuna", "serenazgo"} & set(strict)
    assert {"linea_100", "cem", "demuna"} <= set(broad) and set(strict) <= set(broad)
