"""Recode: the plan's declared steps — eligibility, typed ages and groups, Washington Group flag, design weight,
derived indicator answers (v2 batteries with the v1 questions as fallback) — and nothing undeclared."""

import numpy as np
import pandas as pd
import pytest

from analysis.errors import AnalysisError
from analysis.plan import RecodeSpec
from analysis.recode import (
    age_groups,
    any_yes,
    competent_report,
    discriminated_12m,
    dispute_access,
    household_weight,
    recode,
    washington_group,
)

NA = np.nan
WG = ("wg_seeing", "wg_hearing", "wg_walking", "wg_remembering", "wg_selfcare", "wg_communicating")
STRICT = ("police", "prosecutor", "judiciary", "justice_of_peace")
BROAD = (*STRICT, "cem", "linea_100", "demuna")
SDG16 = RecodeSpec(
    consent="consent",
    age="age",
    age_groups=True,
    disability=WG,
    household_adults="household_adults",
    derive=("safe_after_dark", "violence", "reporting", "bribery", "disputes", "discrimination"),
    competent_strict=STRICT,
    competent_broad=BROAD,
    dispute_formal=("court", "police", "lawyer"),
    dispute_informal=("community_leader",),
)


def frame(**columns) -> pd.DataFrame:
    return pd.DataFrame(columns, dtype=object)


def test_only_consenting_adults_not_rejected_are_kept():
    subs = frame(
        consent=["yes", "no", "yes", "yes", "yes", "yes", NA],
        age=["18", NA, "17", "abc", "65", "40", "30"],
        review_state=["received", "received", "received", "received", "approved", "rejected", "received"],
        household_adults=["2", NA, "1", "1", "3", "1", "1"],
    )
    result = recode(subs, RecodeSpec(consent="consent", age="age", household_adults="household_adults"))
    assert result.data["age"].tolist() == [18, 65]
    assert result.data["age"].dtype == "int64"
    assert result.log["rows"].tolist() == [7, 6, 4, 2]
    assert result.log["step"].iloc[1] == "after removing rejected submissions"


def test_recode_needs_the_columns_its_steps_declare():
    with pytest.raises(AnalysisError, match="recode needs the column 'consent'"):
        recode(frame(age=["30"], household_adults=["1"]), SDG16)
    with pytest.raises(AnalysisError, match="unknown step"):
        recode(frame(age=["30"]), RecodeSpec(derive=("violenc",)))


def test_a_plan_that_declares_no_step_gets_none():
    """A generic CSV: no eligibility filter, no age groups, no disability, no weight, no derived variables."""
    subs = frame(
        consent=["no", "yes"],
        age=["12", "40"],
        household_adults=["3", "1"],
        **{c: ["a_lot_of_difficulty"] * 2 for c in WG},
        bribe_asked_12m=["yes", "no"],
        bribe_paid_12m=["no"] * 2,
    )
    out = recode(subs)
    assert len(out.data) == 2 and list(out.data.columns) == list(subs.columns)


def test_age_groups_are_the_16_7_2_bands():
    ages = pd.Series([18, 24, 25, 34, 35, 44, 45, 54, 55, 64, 65, 99])
    assert age_groups(ages).tolist() == [
        "18-24",
        "18-24",
        "25-34",
        "25-34",
        "35-44",
        "35-44",
        "45-54",
        "45-54",
        "55-64",
        "55-64",
        "65+",
        "65+",
    ]


def test_youth_flag():
    subs = frame(
        consent=["yes"] * 3,
        age=["18", "29", "30"],
        household_adults=["1"] * 3,
        **{c: ["no_difficulty"] * 3 for c in WG},
    )
    out = recode(subs, SDG16).data
    assert out["youth"].tolist() == ["18-29", "18-29", "30+"]


def test_washington_group_disability_is_honest_about_gaps():
    ok = ["no_difficulty"] * 6
    rows = [
        ok,  # no
        ["some_difficulty"] * 6,  # no
        ok[:5] + ["a_lot_of_difficulty"],  # yes
        ["dont_know"] + ok[:4] + ["cannot_do_at_all"],  # yes despite a DK
        ["refused"] + ok[:5],  # unknown, not "no"
        [NA] + ok[:5],
    ]  # unknown
    domains = pd.DataFrame(rows, columns=[f"d{i}" for i in range(6)], dtype=object)
    assert washington_group(domains).tolist() == ["no", "no", "yes", "yes", "unknown", "unknown"]


def test_household_weight_is_the_number_of_adults():
    assert household_weight(pd.Series(["1", "4", NA, "0", "x"], dtype=object)).tolist() == [1.0, 4.0, 1.0, 1.0, 1.0]


def test_bribery_asked_or_paid():
    answers = frame(
        a=["yes", "no", "no", "no", "dont_know", "refused", "no", NA],
        p=["no", "yes", "no", "dont_know", "refused", "no", NA, NA],
    )
    out = any_yes(answers)
    assert out.tolist()[:6] == ["yes", "yes", "no", "dont_know", "refused", "refused"]
    assert pd.isna(out.iloc[7])


def test_reporting_to_competent_authorities_counts_refusals_as_refusals():
    reported = pd.Series(["yes", "yes", "yes", "no", "dont_know", "yes", "yes", "yes", NA], dtype=object)
    to = pd.Series(["police", "serenazgo other", "serenazgo cem", NA, NA, NA, "refused", "dont_know", NA], dtype=object)
    strict = competent_report(reported, to, STRICT)
    assert strict.tolist()[:8] == ["yes", "no", "no", "no", "dont_know", "refused", "refused", "dont_know"]
    assert pd.isna(strict.iloc[8])  # not a victim: not asked
    assert competent_report(reported, to, BROAD).tolist()[2] == "yes"  # the CEM counts only in the broad variant


def test_dispute_access_and_voluntary_self_exclusion():
    dispute = pd.Series(["yes", "yes", "yes", "yes", "no", "yes", "yes", "yes"], dtype=object)
    mech = pd.Series(["court", "none", "none", "none", NA, "lawyer police", "family_friends", "refused"], dtype=object)
    reason = pd.Series([NA, "not_needed", "too_expensive", "dont_know", NA, NA, "resolved_directly", NA], dtype=object)
    out = dispute_access(dispute, mech, reason, ("court", "police", "lawyer"))
    assert out.tolist()[:4] == ["yes", "self_excluded", "no", "no"]
    assert pd.isna(out.iloc[4]) and out.tolist()[5:] == ["yes", "self_excluded", "refused"]


def test_discrimination_12_months_for_everyone():
    five = pd.Series(["no", "yes", "yes", "dont_know", "refused", NA], dtype=object)
    twelve = pd.Series([NA, "yes", "no", NA, NA, NA], dtype=object)
    out = discriminated_12m(five, twelve)
    assert out.tolist()[:5] == ["no", "yes", "no", "dont_know", "refused"]
    assert pd.isna(out.iloc[5])


def test_safe_after_dark_uses_the_hypothetical_answer_for_never():
    out = recode(
        frame(
            feels_safe_after_dark=["safe", "never_alone_after_dark", "dont_know"],
            would_feel_safe_after_dark=[NA, "unsafe", NA],
        ),
        RecodeSpec(derive=("safe_after_dark",)),
    ).data
    assert out["safe_after_dark"].tolist() == ["safe", "unsafe", "dont_know"]


def test_dk_and_refused_stay_as_categories_and_rows_stay():
    subs = frame(
        consent=["yes"] * 3,
        age=["30"] * 3,
        household_adults=["2"] * 3,
        victim_physical_12m=["yes", "dont_know", "refused"],
        **{c: ["no_difficulty"] * 3 for c in WG},
    )
    out = recode(subs, SDG16).data
    assert len(out) == 3 and out["victim_physical_12m"].tolist() == ["yes", "dont_know", "refused"]
    assert out["design_weight"].tolist() == [2.0, 2.0, 2.0]


def test_violence_from_the_v2_batteries_and_the_v1_questions():
    """Physical = assault OR robbery; one act of a battery is enough; v1 rows use their single questions; a module
    skipped by the privacy check is neither yes nor no."""
    subs = frame(
        assault_hit_12m=["no", "no", "yes", NA, "no", NA],
        assault_weapon_12m=["no", "no", "no", NA, "refused", NA],
        assault_threat_weapon_12m=["no", "no", "no", NA, "no", NA],
        robbery_force_12m=["yes", "no", "no", NA, "no", NA],
        threat_12m=["no", "no", "no", NA, "no", NA],
        harassment_12m=["no", "yes", "no", NA, "no", NA],
        sexual_touching_12m=["no", "no", "no", NA, "no", NA],
        sexual_forced_12m=["no", "no", "yes", NA, "no", NA],
        sexual_incapacitated_12m=["no", "no", "no", NA, "no", NA],
        privacy_check=["alone", "others_left", "alone", "others_present", "alone", NA],
        victim_physical_12m=[NA, NA, NA, NA, NA, "no"],
        victim_robbery_12m=[NA, NA, NA, NA, NA, "yes"],
        victim_psychological_12m=[NA, NA, NA, NA, NA, "no"],
        victim_sexual_12m=[NA, NA, NA, NA, NA, "dont_know"],
    )
    out = recode(subs, RecodeSpec(derive=("violence",))).data
    assert out["violence_physical_12m"].tolist() == ["yes", "no", "yes", "module_skipped", "refused", "yes"]
    assert out["violence_robbery_12m"].tolist() == ["yes", "no", "no", "module_skipped", "no", "yes"]
    assert out["violence_assault_12m"].tolist() == ["no", "no", "yes", "module_skipped", "refused", "no"]
    assert out["violence_psychological_12m"].tolist() == ["no", "yes", "no", "module_skipped", "no", "no"]
    assert out["violence_sexual_12m"].tolist() == ["no", "no", "yes", "module_skipped", "no", "dont_know"]
    assert out["violence_any_12m"].tolist() == ["yes", "yes", "yes", "module_skipped", "refused", "yes"]


def test_discrimination_by_ground_from_v2_answers_and_v1_ticks():
    subs = frame(
        discrimination_5y=["yes", "yes", "no", "yes", "yes"],
        discrimination_12m=["yes", "yes", NA, "no", "yes"],
        discrim_sex=["yes", NA, NA, NA, NA],
        discrim_age=["no", NA, NA, NA, NA],
        discrimination_grounds=[NA, "age residence", NA, NA, NA],
    )
    out = recode(subs, RecodeSpec(derive=("discrimination",))).data
    assert out["discrim_sex_12m"].tolist() == ["yes", "no", "no", "no", "refused"]
    assert out["discrim_age_12m"].tolist() == ["no", "yes", "no", "no", "refused"]
    assert out["discriminated_12m"].tolist() == ["yes", "yes", "no", "no", "yes"]
