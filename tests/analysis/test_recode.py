"""Recode: eligibility, typed ages and groups, Washington Group flag, design weight, derived indicator answers."""

import numpy as np
import pandas as pd
import pytest

from analysis.errors import AnalysisError
from analysis.plan import RecodeSpec
from analysis.recode import (derived_columns, age_groups, any_yes, discriminated_12m, dispute_access, household_weight,
                             recode, competent_report, washington_group)

NA = np.nan


def frame(**columns) -> pd.DataFrame:
    return pd.DataFrame(columns, dtype=object)


def test_only_consenting_adults_not_rejected_are_kept():
    subs = frame(consent=["yes", "no", "yes", "yes", "yes", "yes", NA],
                 age=["18", NA, "17", "abc", "65", "40", "30"],
                 review_state=["received", "received", "received", "received", "approved", "rejected", "received"],
                 household_adults=["2", NA, "1", "1", "3", "1", "1"])
    result = recode(subs)
    assert result.data["age"].tolist() == [18, 65]
    assert result.data["age"].dtype == "int64"
    assert result.log["rows"].tolist() == [7, 6, 4, 2]
    assert result.log["step"].iloc[1] == "after removing rejected submissions"


def test_recode_needs_its_columns_or_an_explicit_opt_out():
    with pytest.raises(AnalysisError, match="recode needs the column 'consent'"):
        recode(frame(age=["30"], household_adults=["1"]))
    out = recode(frame(age=["30"]), RecodeSpec(consent="", household_adults=""))
    assert len(out.data) == 1 and "design_weight" not in out.data


def test_age_groups_are_the_16_7_2_bands():
    ages = pd.Series([18, 24, 25, 34, 35, 44, 45, 54, 55, 64, 65, 99])
    assert age_groups(ages).tolist() == ["18-24", "18-24", "25-34", "25-34", "35-44", "35-44", "45-54", "45-54",
                                         "55-64", "55-64", "65+", "65+"]


def test_youth_flag():
    out = recode(frame(consent=["yes"] * 3, age=["18", "29", "30"], household_adults=["1"] * 3)).data
    assert out["youth"].tolist() == ["18-29", "18-29", "30+"]


def test_washington_group_disability_is_honest_about_gaps():
    ok = ["no_difficulty"] * 6
    rows = [ok,                                                     # no
            ["some_difficulty"] * 6,                                # no
            ok[:5] + ["a_lot_of_difficulty"],                       # yes
            ["dont_know"] + ok[:4] + ["cannot_do_at_all"],          # yes despite a DK
            ["refused"] + ok[:5],                                   # unknown, not "no"
            [NA] + ok[:5]]                                          # unknown
    domains = pd.DataFrame(rows, columns=[f"d{i}" for i in range(6)], dtype=object)
    assert washington_group(domains).tolist() == ["no", "no", "yes", "yes", "unknown", "unknown"]


def test_household_weight_is_the_number_of_adults():
    assert household_weight(pd.Series(["1", "4", NA, "0", "x"], dtype=object)).tolist() == [1.0, 4.0, 1.0, 1.0, 1.0]


def test_bribery_asked_or_paid():
    answers = frame(a=["yes", "no", "no", "no", "dont_know", "refused", "no", NA],
                    p=["no", "yes", "no", "dont_know", "refused", "no", NA, NA])
    out = any_yes(answers)
    assert out.tolist()[:6] == ["yes", "yes", "no", "dont_know", "refused", "refused"]
    assert pd.isna(out.iloc[7])


def test_reporting_to_competent_authorities_only():
    reported = pd.Series(["yes", "yes", "yes", "no", "dont_know", "yes", NA], dtype=object)
    to = pd.Series(["police", "serenazgo other", "serenazgo cem", NA, NA, NA, NA], dtype=object)
    out = competent_report(reported, to)
    assert out.tolist()[:5] == ["yes", "no", "yes", "no", "dont_know"]
    assert out.iloc[5:].isna().all()   # said yes but no authority recorded: unknown, not guessed


def test_dispute_access_and_voluntary_self_exclusion():
    dispute = pd.Series(["yes", "yes", "yes", "yes", "no", "yes"], dtype=object)
    mech = pd.Series(["court", "none", "none", "none", NA, "lawyer police"], dtype=object)
    reason = pd.Series([NA, "not_needed", "too_expensive", "dont_know", NA, NA], dtype=object)
    out = dispute_access(dispute, mech, reason)
    assert out.tolist()[:4] == ["yes", "self_excluded", "no", "no"]
    assert pd.isna(out.iloc[4]) and out.iloc[5] == "yes"


def test_discrimination_12_months_for_everyone():
    five = pd.Series(["no", "yes", "yes", "dont_know", "refused", NA], dtype=object)
    twelve = pd.Series([NA, "yes", "no", NA, NA, NA], dtype=object)
    out = discriminated_12m(five, twelve)
    assert out.tolist()[:5] == ["no", "yes", "no", "dont_know", "refused"]
    assert pd.isna(out.iloc[5])


def test_safe_after_dark_uses_the_hypothetical_answer_for_never():
    out = derived_columns(frame(feels_safe_after_dark=["safe", "never_alone_after_dark", "dont_know"],
                                would_feel_safe_after_dark=[NA, "unsafe", NA]))
    assert out["safe_after_dark"].tolist() == ["safe", "unsafe", "dont_know"]


def test_dk_and_refused_stay_as_categories_and_rows_stay():
    subs = frame(consent=["yes"] * 3, age=["30"] * 3, household_adults=["2"] * 3,
                 victim_physical_12m=["yes", "dont_know", "refused"])
    out = recode(subs).data
    assert len(out) == 3 and out["victim_physical_12m"].tolist() == ["yes", "dont_know", "refused"]
    assert out["design_weight"].tolist() == [2.0, 2.0, 2.0]
