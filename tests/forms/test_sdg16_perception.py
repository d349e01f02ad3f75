"""The questionnaire itself (forms/sdg16_perception.xlsx): the contract with analysis, both languages, the skip
logic every indicator's base relies on — checked on the compiled XForm's binds and by filling the form in
javarosa, the engine of ODK Collect."""

import csv
import re
import xml.etree.ElementTree as ET
from datetime import datetime

import pytest

from forms.build import DATA_DIR

NS = {"h": "http://www.w3.org/1999/xhtml", "x": "http://www.w3.org/2002/xforms", "jr": "http://openrosa.org/javarosa"}
ES, EN = "Español (es)", "English (en)"
YN = ["yes", "no"]
YNDR = ["yes", "no", "dont_know", "refused"]
SAFE = ["very_safe", "safe", "unsafe", "very_unsafe", "never_alone_after_dark", "dont_know", "refused"]
WG = ["no_difficulty", "some_difficulty", "a_lot_of_difficulty", "cannot_do_at_all", "dont_know", "refused"]
AUTHORITIES = ["police", "prosecutor", "judiciary", "cem", "linea_100", "serenazgo", "demuna", "other"]
AGREE4 = ["strongly_agree", "agree", "disagree", "strongly_disagree", "dont_know", "not_applicable", "refused"]
SATISFACTION4 = ["very_satisfied", "satisfied", "dissatisfied", "very_dissatisfied", "dont_know", "refused"]
SAY5 = ["not_at_all", "very_little", "some", "a_lot", "a_great_deal", "dont_know", "refused"]
TRUST4 = ["a_lot", "some", "little", "none_at_all", "dont_know", "refused"]
GROUNDS = ["sex", "age", "disability", "ethnicity", "migration", "socioeconomic", "residence", "religion", "marital",
           "sexual_orientation", "political", "other"]
MECHANISMS = ["police", "court", "prosecutor", "lawyer", "ombudsman", "municipality", "justice_of_peace",
              "community_leader", "religious_leader", "other", "none"]
REASONS = ["not_needed", "resolved_directly", "didnt_know", "too_expensive", "too_far", "no_trust", "fear", "other",
           "dont_know", "refused"]
VIOLENCE = ["physical", "psychological", "sexual", "robbery"]
SERVICES = ["health", "school_primary", "school_secondary", "gov_services"]
ATTRIBUTES = ["access", "affordability", "quality", "courtesy", "timeliness"]

with open(DATA_DIR / "population_trujillo_2017.csv", encoding="utf-8") as f:
    DISTRICTS = [row["district"] for row in csv.DictReader(f)]
with open(DATA_DIR / "neighbourhoods.csv", encoding="utf-8") as f:
    NEIGHBOURHOODS = list(csv.DictReader(f))

ONE, MANY = "select one", "select all that apply"
# Every field the shipped form defines (docs/DESIGN.md), with its pyxform type and choice names in order
# (None: not a select).
CONTRACT = {
    "start": ("start", None), "end": ("end", None), "today": ("today", None), "deviceid": ("deviceid", None),
    "username": ("username", None), "audit": ("audit", None),
    "consent": (ONE, YN), "age": ("integer", None), "district": (ONE, DISTRICTS),
    "psu": ("text", None), "gps": ("geopoint", None), "sex": (ONE, ["female", "male"]),
    "education": (ONE, ["none", "primary", "secondary", "technical", "university", "refused"]),
    **{f"wg_{d}": (ONE, WG) for d in ["seeing", "hearing", "walking", "remembering", "selfcare", "communicating"]},
    "years_in_neighbourhood": ("integer", None), "household_adults": ("integer", None),
    "feels_safe_after_dark": (ONE, SAFE),
    "would_feel_safe_after_dark": (ONE, [c for c in SAFE if c != "never_alone_after_dark"]),
    **{f"victim_{v}_12m": (ONE, YNDR) for v in VIOLENCE},
    **{f"reported_{v}": (ONE, YNDR) for v in VIOLENCE},
    **{f"reported_to_{v}": (MANY, AUTHORITIES) for v in VIOLENCE},
    "contact_official_12m": (ONE, YNDR), "bribe_asked_12m": (ONE, YNDR), "bribe_paid_12m": (ONE, YNDR),
    **{f"used_{s}_12m": (ONE, YNDR) for s in SERVICES},
    **{f"{s}_{a}": (ONE, AGREE4) for s in SERVICES for a in ATTRIBUTES},
    **{f"{s}_satisfaction": (ONE, SATISFACTION4) for s in SERVICES},
    "say_in_government": (ONE, SAY5), "influence_on_politics": (ONE, SAY5),
    "discrimination_5y": (ONE, YNDR), "discrimination_12m": (ONE, YNDR), "discrimination_grounds": (MANY, GROUNDS),
    "dispute_2y": (ONE, YNDR), "dispute_mechanisms": (MANY, MECHANISMS), "dispute_no_mechanism_reason": (ONE, REASONS),
    "main_problems": (MANY, ["robbery", "extortion", "gangs", "drugs", "violence_women", "youth_violence", "other", "none"]),
    "safety_change_12m": (ONE, ["safer", "same", "less_safe", "dont_know", "refused"]),
    "trust_police": (ONE, TRUST4), "trust_serenazgo": (ONE, TRUST4), "trust_neighbourhood_committee": (ONE, TRUST4),
    **{name: (ONE, YNDR) for name in ["knows_linea100", "used_linea100", "knows_cem", "used_cem",
                                      "knows_barrio_seguro", "expects_victim_12m"]},
}


# --- settings and contract ------------------------------------------------------------------------------------


def test_settings_identify_the_form_and_default_to_spanish(built, survey):
    assert built.form_id == "sdg16_perception"
    assert re.fullmatch(r"\d{10}", built.version)
    datetime.strptime(built.version[:8], "%Y%m%d")  # yyyymmddNN: a real date
    assert survey["default_language"] == ES
    assert "${neighbourhood}" in survey["instance_name"] and "${start}" in survey["instance_name"]


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_contract_field_has_its_type_and_choices(fields, name):
    expected_type, expected_choices = CONTRACT[name]
    assert name in fields, f"{name} missing from the questionnaire"
    assert fields[name]["type"] == expected_type
    if expected_choices is not None:
        assert [c["name"] for c in fields[name]["choices"]] == expected_choices


def test_neighbourhood_cascades_from_the_shared_csv(fields, built):
    neighbourhood = fields["neighbourhood"]
    assert neighbourhood["itemset"] == "neighbourhoods.csv"
    assert neighbourhood["choice_filter"] == "district=${district}"
    shipped = {m.name: m.path.read_bytes() for m in built.media}
    assert shipped == {"neighbourhoods.csv": (DATA_DIR / "neighbourhoods.csv").read_bytes()}


def test_field_names_are_unique_across_groups(xform):
    """Analysis flattens the submission to bare names, so a name may appear only once in the whole instance."""
    leaves = [e.tag.split("}")[1] for e in xform.find("h:head/x:model/x:instance", NS).iter() if len(e) == 0]
    assert len(leaves) == len(set(leaves))


def test_metadata_is_preloaded(xform):
    preloads = {
        b.get("nodeset").rsplit("/", 1)[1]: b.get("{http://openrosa.org/javarosa}preload")
        for b in xform.iterfind(".//x:bind", NS)
    }
    assert {name: preloads.get(name) for name in ["start", "end", "today", "deviceid", "username", "instanceID"]} == {
        "start": "timestamp", "end": "timestamp", "today": "date", "deviceid": "property", "username": "property",
        "instanceID": "uid",
    }
    assert xform.find(".//x:instance/*/x:meta/x:audit", NS) is not None


# --- both languages -------------------------------------------------------------------------------------------


def _translations(xform) -> dict[str, dict[str, str]]:
    return {
        t.get("lang"): {
            text.get("id"): " ".join("".join(v.itertext()).strip() for v in text.findall("x:value", NS))
            for text in t.findall("x:text", NS)
        }
        for t in xform.iterfind(".//x:itext/x:translation", NS)
    }


def test_every_text_exists_in_spanish_and_english(xform):
    translations = _translations(xform)
    assert list(translations) == [ES, EN]
    assert xform.find(f".//x:itext/x:translation[@lang='{ES}']", NS).get("default") == "true()"
    assert translations[ES].keys() == translations[EN].keys()
    # pyxform fills a text missing in one language with "-", silently: that is a missing translation.
    missing = [(lang, i) for lang, texts in translations.items() for i, value in texts.items() if value in ("", "-")]
    assert missing == []


def test_question_texts_are_translated_not_copied(xform):
    """Labels, hints and messages read differently in the two languages (a copy-paste left untranslated would not)."""
    translations = _translations(xform)
    same = [i for i in translations[ES] if not re.match(r"^\w+-\d+$", i) and translations[ES][i] == translations[EN][i]]
    assert same == []


def test_every_label_hint_and_message_goes_through_the_translations(xform):
    body = xform.find("h:body", NS)
    for control in body.iter():
        for child in control:
            if child.tag in (f"{{{NS['x']}}}label", f"{{{NS['x']}}}hint") and control.tag != f"{{{NS['x']}}}itemset":
                assert child.get("ref", "").startswith("jr:itext("), (control.get("ref"), child.tag)
    for bind in xform.iterfind(".//x:bind", NS):
        for condition, message in (("constraint", "constraintMsg"), ("required", "requiredMsg")):
            if bind.get(condition) not in (None, "false()"):
                assert bind.get(f"{{{NS['jr']}}}{message}", "").startswith("jr:itext("), (bind.get("nodeset"), message)


def test_sensitive_questions_offer_dont_know_and_refused(fields):
    not_sensitive = {"consent", "district", "sex", "violence_mode"}  # asked of or recorded by the volunteer
    for name, element in fields.items():
        if element["type"] == ONE and element.get("choices") and name not in not_sensitive:
            choices = {c["name"] for c in element["choices"]}
            assert "refused" in choices, name
            assert "dont_know" in choices or name == "education", name


# --- skip logic on the compiled binds -------------------------------------------------------------------------

CONSENT, ADULT = "${consent} = 'yes'", "${age} >= 18"
GATES = [CONSENT, ADULT]
SKIP_LOGIC = {
    "age": [CONSENT],
    "consent_declined_note": ["${consent} = 'no'"],
    "underage_note": [CONSENT, "${age} < 18"],
    "sex": GATES,
    "feels_safe_after_dark": GATES,
    "would_feel_safe_after_dark": GATES + ["${feels_safe_after_dark} = 'never_alone_after_dark'"],
    **{f"victim_{v}_12m": GATES for v in VIOLENCE},
    **{f"reported_{v}": GATES + [f"${{victim_{v}_12m}} = 'yes'"] for v in VIOLENCE},
    **{f"reported_to_{v}": GATES + [f"${{reported_{v}}} = 'yes'"] for v in VIOLENCE},
    "contact_official_12m": GATES,
    "bribe_asked_12m": GATES + ["${contact_official_12m} = 'yes'"],
    "bribe_paid_12m": GATES + ["${contact_official_12m} = 'yes'"],
    **{f"used_{s}_12m": GATES for s in SERVICES},
    **{f"{s}_{a}": GATES + [f"${{used_{s}_12m}} = 'yes'"] for s in SERVICES for a in ATTRIBUTES + ["satisfaction"]},
    "say_in_government": GATES,
    "discrimination_5y": GATES,
    "discrimination_12m": GATES + ["${discrimination_5y} = 'yes'"],
    "discrimination_grounds": GATES + ["${discrimination_12m} = 'yes'"],
    "dispute_2y": GATES,
    "dispute_mechanisms": GATES + ["${dispute_2y} = 'yes'"],
    "dispute_no_mechanism_reason": GATES + ["selected(${dispute_mechanisms}, 'none')"],
    "used_linea100": GATES + ["${knows_linea100} = 'yes'"],
    "used_cem": GATES + ["${knows_cem} = 'yes'"],
    "expects_victim_12m": GATES,
}


def _relevance_chains(xform) -> dict[str, list[str]]:
    """Each field's relevance conditions, its groups' first, written back with ${name} references."""
    relevant = {b.get("nodeset"): b.get("relevant") for b in xform.iterfind(".//x:bind", NS)}

    def readable(expr: str) -> str:
        return re.sub(r"\s+", " ", re.sub(r"/data(?:/\w+)*/(\w+)", r"${\1}", expr)).strip().replace("( ", "(").replace(" ,", ",")

    chains = {}
    for path in relevant:
        parts = path.split("/")
        ancestors = ["/".join(parts[:i]) for i in range(3, len(parts) + 1)]
        chains[parts[-1]] = [readable(relevant[a]) for a in ancestors if relevant.get(a)]
    return chains


@pytest.mark.parametrize("name", sorted(SKIP_LOGIC))
def test_skip_logic_in_the_compiled_binds(xform, name):
    assert _relevance_chains(xform)[name] == SKIP_LOGIC[name]


# --- filled in javarosa ---------------------------------------------------------------------------------------

PLACE = [("district", "la_esperanza"), ("neighbourhood", "wichanzao"), ("psu", "LE-001")]
ADULT_30 = PLACE + [("consent", "yes"), ("age", "30"), ("sex", "female")]
NOTHING_HAPPENED = [(f"victim_{v}_12m", "no") for v in VIOLENCE] + [
    ("feels_safe_after_dark", "safe"), ("contact_official_12m", "no"), ("discrimination_5y", "no"),
    ("dispute_2y", "no"), ("knows_linea100", "no"), ("knows_cem", "no"),
] + [(f"used_{s}_12m", "no") for s in SERVICES]
COMPLETE = ADULT_30 + NOTHING_HAPPENED + [
    ("education", "secondary"), *[(f"wg_{d}", "no_difficulty") for d in ["seeing", "hearing", "walking", "remembering",
                                                                        "selfcare", "communicating"]],
    ("years_in_neighbourhood", "12"), ("household_adults", "3"), ("violence_mode", "self"),
    ("say_in_government", "very_little"), ("influence_on_politics", "dont_know"), ("main_problems", "robbery extortion"),
    ("safety_change_12m", "less_safe"), ("trust_police", "little"), ("trust_serenazgo", "some"),
    ("trust_neighbourhood_committee", "a_lot"), ("knows_barrio_seguro", "no"), ("expects_victim_12m", "yes"),
]
SCENARIOS = {
    "complete": COMPLETE,
    "declined": PLACE + [("consent", "no")],
    "minor": PLACE + [("consent", "yes"), ("age", "16")],
    "nothing happened": ADULT_30 + NOTHING_HAPPENED,
    "events": ADULT_30 + [
        ("feels_safe_after_dark", "never_alone_after_dark"),
        ("victim_physical_12m", "yes"), ("victim_psychological_12m", "dont_know"),
        ("victim_sexual_12m", "refused"), ("victim_robbery_12m", "yes"),
        ("reported_physical", "no"), ("reported_robbery", "yes"),
        ("contact_official_12m", "yes"),
        ("used_health_12m", "yes"), ("used_school_primary_12m", "no"), ("used_school_secondary_12m", "dont_know"),
        ("used_gov_services_12m", "refused"),
        ("discrimination_5y", "yes"), ("discrimination_12m", "yes"),
        ("dispute_2y", "yes"), ("dispute_mechanisms", "none"),
        ("knows_linea100", "yes"), ("knows_cem", "dont_know"),
    ],
    "discriminated earlier, mechanism used": ADULT_30 + [
        ("contact_official_12m", "dont_know"), ("discrimination_5y", "yes"), ("discrimination_12m", "no"),
        ("dispute_2y", "yes"), ("dispute_mechanisms", "police community_leader"),
    ],
    "constraints": PLACE + [
        ("psu", "at-014"), ("psu", "AT 014"), ("psu", "AT-014"),
        ("consent", "yes"), ("age", "-1"), ("age", "121"), ("age", "40"),
        ("years_in_neighbourhood", "41"), ("years_in_neighbourhood", "-1"), ("years_in_neighbourhood", "40"),
        ("household_adults", "0"), ("household_adults", "1"),
        ("dispute_2y", "yes"), ("dispute_mechanisms", "none police"), ("dispute_mechanisms", "police court"),
        ("main_problems", "none robbery"), ("main_problems", "robbery extortion"),
    ],
    **{f"district {d}": [("district", d)] for d in DISTRICTS},
}


@pytest.fixture(scope="module")
def filled(javarosa):
    return javarosa(SCENARIOS)


def test_no_consent_ends_the_form(filled):
    result = filled["declined"]
    assert result.asked[-1] == "consent_declined_note"
    assert "age" not in result.asked
    assert result.finalized  # a refusal is sent too: it counts towards the response rate of its neighbourhood


def test_under_18_ends_the_form_politely(filled):
    result = filled["minor"]
    assert result.asked[-1] == "underage_note"
    assert "sex" not in result.asked
    assert result.finalized


def test_a_complete_interview_can_be_finalised(filled):
    result = filled["complete"]
    assert (result.finalized, result.first_missing) == (True, None)
    assert all(verdict == "OK" for answers in result.verdicts.values() for _, verdict in answers)
    submission = ET.fromstring(result.instance.encode("utf-8"))
    assert (submission.get("id"), submission.get("version")) == ("sdg16_perception", "2026112801")
    values = {e.tag: e.text for e in submission.iter() if len(e) == 0}
    assert {name: values[name] for name in ["neighbourhood", "psu", "age", "main_problems", "expects_victim_12m"]} == {
        "neighbourhood": "wichanzao", "psu": "LE-001", "age": "30", "main_problems": "robbery extortion",
        "expects_victim_12m": "yes",
    }
    assert re.fullmatch(r"wichanzao \d{4}-\d\d-\d\d \d\d:\d\d", values["instanceName"])
    assert values["instanceID"].startswith("uuid:")


def test_required_questions_block_finalising(filled):
    assert filled["nothing happened"].first_missing == "education"


def test_follow_ups_are_skipped_when_nothing_happened(filled):
    asked = set(filled["nothing happened"].asked)
    skipped = {"would_feel_safe_after_dark", "bribe_asked_12m", "bribe_paid_12m", "discrimination_12m",
               "discrimination_grounds", "dispute_mechanisms", "dispute_no_mechanism_reason", "used_linea100",
               "used_cem"}
    skipped |= {f"reported_{v}" for v in VIOLENCE} | {f"reported_to_{v}" for v in VIOLENCE}
    skipped |= {f"{s}_{a}" for s in SERVICES for a in ATTRIBUTES + ["satisfaction"]}
    assert asked & skipped == set()
    assert {"expects_victim_12m", "say_in_government", "influence_on_politics", "trust_police"} <= asked


def test_reporting_is_asked_only_of_victims_of_that_type(filled):
    asked = filled["events"].asked
    assert [a for a in asked if a.startswith("reported_")] == ["reported_physical", "reported_robbery", "reported_to_robbery"]


def test_follow_ups_are_asked_when_they_apply(filled):
    asked = filled["events"].asked
    expected = {"would_feel_safe_after_dark", "bribe_asked_12m", "bribe_paid_12m", "discrimination_12m",
                "discrimination_grounds", "dispute_no_mechanism_reason", "used_linea100"}
    expected |= {f"health_{a}" for a in ATTRIBUTES + ["satisfaction"]}
    assert expected <= set(asked)
    other_services = {f"{s}_{a}" for s in SERVICES[1:] for a in ATTRIBUTES + ["satisfaction"]}
    assert set(asked) & (other_services | {"used_cem"}) == set()


def test_bribery_is_asked_only_with_contact(filled):
    bribery = {"bribe_asked_12m", "bribe_paid_12m"}
    assert bribery <= set(filled["events"].asked)  # contact: yes
    assert bribery.isdisjoint(filled["discriminated earlier, mechanism used"].asked)  # contact: don't know
    assert bribery.isdisjoint(filled["nothing happened"].asked)  # contact: no


def test_grounds_need_12_months_and_reason_needs_no_mechanism(filled):
    asked = filled["discriminated earlier, mechanism used"].asked
    assert "discrimination_12m" in asked and "discrimination_grounds" not in asked
    assert "dispute_mechanisms" in asked and "dispute_no_mechanism_reason" not in asked


def test_violence_module_is_handed_over_and_back(filled):
    asked = filled["events"].asked
    assert asked.index("violence_handover") < asked.index("victim_physical_12m")
    assert asked.index("violence_handback") > max(asked.index(a) for a in asked if a.startswith(("victim_", "reported")))


def test_constraints_reject_impossible_answers(filled):
    result = filled["constraints"]
    expected = {
        ("psu", "at-014"): "CONSTRAINT", ("psu", "AT 014"): "CONSTRAINT", ("psu", "AT-014"): "OK",
        ("age", "-1"): "CONSTRAINT", ("age", "121"): "CONSTRAINT", ("age", "40"): "OK",
        ("years_in_neighbourhood", "41"): "CONSTRAINT", ("years_in_neighbourhood", "-1"): "CONSTRAINT",
        ("years_in_neighbourhood", "40"): "OK",
        ("household_adults", "0"): "CONSTRAINT", ("household_adults", "1"): "OK",
        ("dispute_mechanisms", "none police"): "CONSTRAINT", ("dispute_mechanisms", "police court"): "OK",
        ("main_problems", "none robbery"): "CONSTRAINT", ("main_problems", "robbery extortion"): "OK",
    }
    assert {key: result.verdict(*key) for key in expected} == expected


@pytest.mark.parametrize("district", DISTRICTS)
def test_district_offers_exactly_its_neighbourhoods(filled, district):
    offered = filled[f"district {district}"].choices["neighbourhood"]
    assert offered == [n["name"] for n in NEIGHBOURHOODS if n["district"] == district]
    assert offered  # every district has at least one neighbourhood
