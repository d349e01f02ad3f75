"""forms/codebook.py: every data field described in both languages, with choices, relevance and its indicator."""

import pandas as pd
import pytest

from forms.codebook import codebook_frame, write_codebook

# The survey-based SDG 16 indicators of the reference table, with fields each must list.
INDICATOR_FIELDS = {
    "16.1.4": {"feels_safe_after_dark", "would_feel_safe_after_dark"},
    "16.1.3": {
        "assault_hit_12m",
        "assault_weapon_12m",
        "assault_threat_weapon_12m",
        "robbery_force_12m",
        "threat_12m",
        "harassment_12m",
        "sexual_touching_12m",
        "sexual_forced_12m",
        "sexual_incapacitated_12m",
    },
    "16.3.1": {"reported_physical", "reported_to_physical", "reported_sexual", "reported_robbery"},
    "16.3.3": {
        "dispute_types_2y",
        "dispute_2y",
        "dispute_recent_type",
        "dispute_mechanisms_self",
        "dispute_no_mechanism_reason",
    },
    "16.5.1": {"contact_police_12m", "contact_official_12m", "bribe_asked_12m", "bribe_paid_12m"},
    "16.6.2": {
        "used_health_12m",
        "health_access",
        "health_equality",
        "health_satisfaction",
        "school_primary_teaching",
        "gov_services_satisfaction",
    },
    "16.7.2": {"say_in_government", "influence_on_politics"},
    "16.b.1": {"discrimination_5y", "discrimination_12m", "discrim_disability", "discrim_migration"},
}


@pytest.fixture(scope="module")
def codebook(questionnaire) -> pd.DataFrame:
    return codebook_frame(questionnaire)


def test_one_row_per_data_field_in_form_order(codebook, fields):
    expected = [name for name, element in fields.items() if element["type"] != "note"]
    assert codebook["field"].tolist() == expected


@pytest.mark.parametrize("indicator", sorted(INDICATOR_FIELDS))
def test_each_indicator_lists_its_fields(codebook, indicator):
    listed = set(codebook.loc[codebook["sdg_indicator"] == indicator, "field"])
    assert INDICATOR_FIELDS[indicator] <= listed


def test_questions_are_given_in_both_languages(codebook):
    questions = codebook[
        ~codebook["type"].isin(["start", "end", "today", "deviceid", "username", "audit", "calculate"])
    ]
    assert (questions["label_es"] != "").all() and (questions["label_en"] != "").all()
    assert (questions["label_es"] != questions["label_en"]).all()


def test_row_shows_type_choices_and_relevance_in_context(codebook):
    row = codebook.set_index("field").loc["reported_to_robbery"]
    assert row["type"] == "select_multiple authorities"
    assert row["choices"].startswith("police = Policía Nacional (comisaría) / National Police (police station); ")
    assert row["relevant"] == "${reported_robbery} = 'yes'"
    assert row["relevant_in_context"] == (
        "(${consent} = 'yes' and ${age} >= 18) and (${privacy_check} = 'alone' or "
        "${privacy_check} = 'others_left') and (${reported_robbery} = 'yes')"
    )
    assert row["analysis_role"] == "competent authority (sets declared in the plan)"


def test_choices_from_a_file_name_the_file_and_filter(codebook):
    row = codebook.set_index("field").loc["neighbourhood"]
    assert row["type"] == "select_one_from_file neighbourhoods.csv"
    assert row["choices"] == "from neighbourhoods.csv where district=${district}"


def test_written_as_csv_and_markdown(tmp_path, codebook, questionnaire):
    csv_path, md_path = write_codebook(questionnaire, tmp_path)
    assert pd.read_csv(csv_path, keep_default_na=False, dtype=str).equals(codebook.astype(str))
    markdown = md_path.read_text(encoding="utf-8")
    for indicator in INDICATOR_FIELDS:
        assert f"- **{indicator}**: " in markdown
    assert "| feels_safe_after_dark | select_one safe_dark |" in markdown


def test_calculations_are_described(codebook):
    """The v2 calculates (the disposition, the v1 names computed from v2 answers) say how they are computed."""
    calc = codebook.set_index("field")["calculation"]
    assert calc["psu"] == "${block}" and calc["household_adults"] == "${eligible_adults}"
    assert "'complete'" in calc["disposition"] and calc["sex"] == ""
