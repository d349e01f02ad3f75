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
DKRF = ["dont_know", "refused"]
SAFE = ["very_safe", "safe", "unsafe", "very_unsafe", "never_alone_after_dark", "dont_know", "refused"]
WG = ["no_difficulty", "some_difficulty", "a_lot_of_difficulty", "cannot_do_at_all", "dont_know", "refused"]
AUTHORITIES = [
    "police",
    "prosecutor",
    "judiciary",
    "justice_of_peace",
    "ombudsman",
    "cem",
    "linea_100",
    "serenazgo",
    "demuna",
    "community_leader",
    "family_friends",
    "other",
    "dont_know",
    "refused",
]
AGREE4 = ["strongly_agree", "agree", "disagree", "strongly_disagree", "dont_know", "not_applicable", "refused"]
SATISFACTION4 = ["very_satisfied", "satisfied", "dissatisfied", "very_dissatisfied", "dont_know", "refused"]
SAY5 = ["not_at_all", "very_little", "some", "a_lot", "a_great_deal", "dont_know", "refused"]
TRUST4 = ["a_lot", "some", "little", "none_at_all", "dont_know", "refused"]
GROUNDS = [
    "sex",
    "age",
    "disability",
    "ethnicity",
    "migration",
    "socioeconomic",
    "residence",
    "religion",
    "marital",
    "sexual_orientation",
    "political",
    "other",
]
MECHANISMS = [
    "police",
    "court",
    "prosecutor",
    "lawyer",
    "conciliation",
    "ombudsman",
    "government_office",
    "municipality",
    "justice_of_peace",
    "community_leader",
    "religious_leader",
    "family_friends",
    "other",
    "none",
    "refused",
]
DISPUTE_TYPES = [
    "land_housing",
    "neighbours",
    "family",
    "money_debts",
    "employment",
    "consumer",
    "utilities",
    "government",
    "injury_accident",
    "other",
    "none",
    "dont_know",
    "refused",
]
REASONS = [
    "not_needed",
    "resolved_directly",
    "didnt_know",
    "too_expensive",
    "too_far",
    "no_trust",
    "fear",
    "other",
    "dont_know",
    "refused",
]
REPORTED = ["physical", "psychological", "sexual", "robbery"]
VICTIMISATION = [
    "assault_hit_12m",
    "assault_weapon_12m",
    "assault_threat_weapon_12m",
    "robbery_force_12m",
    "snatch_theft_12m",
    "extortion_12m",
    "threat_12m",
    "harassment_12m",
    "sexual_touching_12m",
    "sexual_forced_12m",
    "sexual_incapacitated_12m",
]
CONTACTS = [
    f"contact_{k}_12m" for k in ["police", "justice", "municipality", "registry", "health", "education", "tax", "other"]
]
ATTRIBUTES = {
    "health": ["access", "affordability", "quality", "equality", "courtesy"],
    "school_primary": ["access", "affordability", "quality", "equality", "teaching"],
    "school_secondary": ["access", "affordability", "quality", "equality", "teaching"],
    "gov_services": ["access", "affordability", "delivery", "equality", "timeliness"],
}
SERVICES = list(ATTRIBUTES)
CONTACT_RESULTS = ["contact", "noncontact", "refused_door", "vacant", "not_dwelling", "no_access"]
DISPOSITIONS = {
    "complete": "1.1",
    "partial": "1.2",
    "refused": "2.11",
    "refused_door": "2.111",
    "noncontact": "2.20",
    "respondent_away": "2.25",
    "other_nonresponse": "2.30",
    "unknown_eligibility": "3.10",
    "not_eligible": "4.70",
    "vacant": "4.60",
    "not_dwelling": "4.50",
}

with open(DATA_DIR / "population_trujillo_2017.csv", encoding="utf-8") as f:
    DISTRICTS = [row["district"] for row in csv.DictReader(f)]
with open(DATA_DIR / "neighbourhoods.csv", encoding="utf-8") as f:
    NEIGHBOURHOODS = list(csv.DictReader(f))
with open(DATA_DIR / "blocks.csv", encoding="utf-8") as f:
    BLOCKS = list(csv.DictReader(f))

ONE, MANY, CALC = "select one", "select all that apply", "calculate"
# Every field the shipped form defines (docs/DESIGN.md), with its pyxform type and choice names in order (None: not
# a select). Stable v1 names that v2 computes (psu, household_adults, education, contact_official_12m, dispute_2y)
# are calculates with the v1 values, so v1 and v2 submissions share the analysis columns.
CONTRACT = {
    "start": ("start", None),
    "end": ("end", None),
    "today": ("today", None),
    "deviceid": ("deviceid", None),
    "username": ("username", None),
    "audit": ("audit", None),
    "district": (ONE, DISTRICTS),
    "block": (ONE, None),
    "psu": (CALC, None),
    "prob_block": (CALC, None),
    "block_take": (CALC, None),
    "block_dwellings": (CALC, None),
    "dwelling_number": ("integer", None),
    "visit_number": ("integer", None),
    "contact_result": (ONE, CONTACT_RESULTS),
    "eligible_adults": ("integer", None),
    "household_adults": (CALC, None),
    "selected_name_initials": ("text", None),
    "selected_available": (ONE, YN),
    "consent": (ONE, YN),
    "age": ("integer", None),
    "disposition": (CALC, None),
    "gps": ("geopoint", None),
    "sex": (ONE, ["female", "male"]),
    "education": (CALC, None),
    "education_level": (
        ONE,
        [
            "no_schooling",
            "preschool",
            "primary_incomplete",
            "primary_complete",
            "secondary_incomplete",
            "secondary_complete",
            "special_basic",
            "tertiary_nonuniv_incomplete",
            "tertiary_nonuniv_complete",
            "university_incomplete",
            "university_complete",
            "postgraduate",
            "refused",
        ],
    ),
    "ethnicity": (
        ONE,
        [
            "quechua",
            "aimara",
            "amazonian_indigenous",
            "other_indigenous",
            "afroperuvian",
            "white",
            "mestizo",
            "other",
            *DKRF,
        ],
    ),
    "mother_tongue": (
        ONE,
        ["spanish", "quechua", "aimara", "other_native", "portuguese", "other_foreign", "sign_language", *DKRF],
    ),
    "nationality": (ONE, ["peruvian", "venezuelan", "colombian", "ecuadorian", "other", "refused"]),
    "years_in_peru": ("integer", None),
    "employment_status": (ONE, ["employed", "unemployed", "student", "home_care", "retired", "unable", "other", *DKRF]),
    "income_sufficiency": (ONE, ["save", "just_enough", "difficulties", "great_difficulties", *DKRF]),
    "household_assets": (
        MANY,
        ["refrigerator", "washing_machine", "computer", "internet", "car", "motorcycle", "none", "refused"],
    ),
    **{f"wg_{d}": (ONE, WG) for d in ["seeing", "hearing", "walking", "remembering", "selfcare", "communicating"]},
    "years_in_neighbourhood": ("integer", None),
    "feels_safe_after_dark": (ONE, SAFE),
    "would_feel_safe_after_dark": (ONE, [c for c in SAFE if c != "never_alone_after_dark"]),
    "feels_safe_daytime": (ONE, [c for c in SAFE if c != "never_alone_after_dark"]),
    "privacy_check": (ONE, ["alone", "others_left", "others_present", "respondent_declined"]),
    **{name: (ONE, YNDR) for name in VICTIMISATION},
    **{f"reported_{v}": (ONE, YNDR) for v in REPORTED},
    **{f"reported_to_{v}": (MANY, AUTHORITIES) for v in REPORTED},
    **{name: (ONE, YNDR) for name in CONTACTS},
    "contact_official_12m": (CALC, None),
    "bribe_asked_12m": (ONE, YNDR),
    "bribe_paid_12m": (ONE, YNDR),
    **{f"used_{s}_12m": (ONE, YNDR) for s in SERVICES},
    **{f"{s}_{a}": (ONE, AGREE4) for s in SERVICES for a in ATTRIBUTES[s]},
    **{f"{s}_satisfaction": (ONE, SATISFACTION4) for s in SERVICES},
    "say_in_government": (ONE, SAY5),
    "influence_on_politics": (ONE, SAY5),
    "discrimination_5y": (ONE, YNDR),
    "discrimination_12m": (ONE, YNDR),
    **{f"discrim_{g}": (ONE, YNDR) for g in GROUNDS},
    "dispute_types_2y": (MANY, DISPUTE_TYPES),
    "dispute_2y": (CALC, None),
    "dispute_recent_type": (ONE, DISPUTE_TYPES),
    "dispute_mechanisms_self": (MANY, MECHANISMS),
    "dispute_no_mechanism_reason": (ONE, REASONS),
    "main_problems": (
        MANY,
        ["robbery", "extortion", "gangs", "drugs", "violence_women", "youth_violence", "other", "none"],
    ),
    "safety_change_12m": (ONE, ["safer", "same", "less_safe", "dont_know", "refused"]),
    "trust_police": (ONE, TRUST4),
    "trust_serenazgo": (ONE, TRUST4),
    "trust_neighbourhood_committee": (ONE, TRUST4),
    **{
        name: (ONE, YNDR)
        for name in [
            "knows_linea100",
            "used_linea100",
            "knows_cem",
            "used_cem",
            "knows_barrio_seguro",
            "expects_victim_12m",
        ]
    },
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


def test_neighbourhood_and_block_cascade_from_the_shared_csvs(fields, built):
    neighbourhood, block = fields["neighbourhood"], fields["block"]
    assert (neighbourhood["itemset"], neighbourhood["choice_filter"]) == ("neighbourhoods.csv", "district=${district}")
    assert (block["itemset"], block["choice_filter"]) == ("blocks.csv", "neighbourhood=${neighbourhood}")
    shipped = {m.name: m.path.read_bytes() for m in built.media}
    assert shipped == {name: (DATA_DIR / name).read_bytes() for name in ("blocks.csv", "neighbourhoods.csv")}


def test_the_recorded_probabilities_travel_with_the_submission(fields):
    """docs/DESIGN.md, Fieldwork: the block's probability, take and size are looked up in blocks.csv by the form."""
    for name, column in (("prob_block", "prob_block"), ("block_take", "take"), ("block_dwellings", "dwellings")):
        assert fields[name]["bind"]["calculate"] == f"instance('blocks')/root/item[name=${{block}}]/{column}"
    assert fields["psu"]["bind"]["calculate"] == "${block}"
    assert fields["household_adults"]["bind"]["calculate"] == "${eligible_adults}"


def test_dispositions_are_choice_names_with_their_aapor_codes(fields, questionnaire):
    import openpyxl

    sheet = openpyxl.load_workbook(questionnaire, read_only=True)["choices"]
    rows = list(sheet.iter_rows(values_only=True))
    column = {name: i for i, name in enumerate(rows[0])}
    codes = {r[column["name"]]: r[column["aapor"]] for r in rows[1:] if r[column["list_name"]] == "disposition"}
    assert codes == DISPOSITIONS
    calculated = set(re.findall(r"'(\w+)'\)*(?:,|\s*\)|$)", fields["disposition"]["bind"]["calculate"]))
    assert set(DISPOSITIONS) - {"partial"} <= calculated  # partial is set by the analysis from missing answers


def test_reference_periods_are_anchored_to_the_interview_date(fields):
    """Every 12-month question names the month and year it starts from, computed from `today`."""
    assert fields["ref_year_1"]["bind"]["calculate"] == "format-date(${today}, '%Y') - 1"
    for name in VICTIMISATION + CONTACTS + [f"used_{s}_12m" for s in SERVICES]:
        assert "${ref_month_es} de ${ref_year_1}" in fields[name]["label"][ES], name
        assert "${ref_month_en} ${ref_year_1}" in fields[name]["label"][EN], name
    assert "${ref_year_5}" in fields["discrimination_5y"]["label"][ES]
    assert "${ref_year_2}" in fields["dispute_types_2y"]["label"][ES]


def test_consent_names_what_an_ethics_board_asks_for(fields):
    text = fields["consent"]["label"][ES]
    for part in (
        "proyecto",
        "25 minutos",
        "violencia sexual",
        "discriminación",
        "funcionarios",
        "confidenciales",
        "GPS",
        "no responder cualquier pregunta",
        "terminar cuando quiera",
        "coordinación",
    ):
        assert part in text, part
    assert "anónim" not in text and "dirección" not in text  # never promised while a GPS point is taken


def test_no_text_names_the_help_services_before_awareness_is_asked(survey):
    """Línea 100 and the CEM are named first by the awareness questions (otherwise awareness is inflated)."""
    order = []

    def walk(element):
        for child in element.get("children", []):
            order.append(child)
            walk(child)

    walk(survey)
    first_awareness = next(i for i, e in enumerate(order) if e["name"] == "knows_linea100")
    before = [
        e["name"]
        for e in order[:first_awareness]
        for text in (e.get("label"), e.get("hint"))
        if isinstance(text, dict)
        for value in text.values()
        if re.search(r"L[ií]nea 100|CEM|Emergencia Mujer", value)
    ]
    assert before == []


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
        "start": "timestamp",
        "end": "timestamp",
        "today": "date",
        "deviceid": "property",
        "username": "property",
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
    not_sensitive = {
        "consent",
        "district",
        "sex",
        "violence_mode",
        "contact_result",
        "selected_available",
        "privacy_check",
    }  # asked of or recorded by the volunteer
    for name, element in fields.items():
        if element["type"] == ONE and element.get("choices") and name not in not_sensitive:
            choices = {c["name"] for c in element["choices"]}
            assert "refused" in choices, name
            assert "dont_know" in choices or name in {"education_level", "nationality"}, name


# --- skip logic on the compiled binds -------------------------------------------------------------------------

CONTACT, ADULTS = "${contact_result} = 'contact'", "${eligible_adults} >= 1"
SELECTED = "${selected_available} = 'yes'"
INTERVIEW = "${consent} = 'yes' and ${age} >= 18"
PRIVATE = "${privacy_check} = 'alone' or ${privacy_check} = 'others_left'"
ASSAULT = "${assault_hit_12m} = 'yes' or ${assault_weapon_12m} = 'yes' or ${assault_threat_weapon_12m} = 'yes'"
SEXUAL = "${sexual_touching_12m} = 'yes' or ${sexual_forced_12m} = 'yes' or ${sexual_incapacitated_12m} = 'yes'"
REPORT_GATES = {
    "physical": ASSAULT,
    "robbery": "${robbery_force_12m} = 'yes'",
    "sexual": SEXUAL,
    "psychological": "${threat_12m} = 'yes' or ${harassment_12m} = 'yes'",
}
SKIP_LOGIC = {
    "eligible_adults": [CONTACT],
    "no_adults_note": [CONTACT, "${eligible_adults} = 0"],
    "selected_available": [CONTACT, ADULTS],
    "respondent_away_note": [CONTACT, ADULTS, "${selected_available} = 'no'"],
    "age": [SELECTED],  # age screen and respondent selection come before consent
    "underage_note": [SELECTED, "${age} < 18"],
    "consent": [SELECTED, "${age} >= 18"],
    "consent_declined_note": [SELECTED, "${consent} = 'no'"],
    "sex": [INTERVIEW],
    "years_in_peru": [
        INTERVIEW,
        "${nationality} != '' and ${nationality} != 'peruvian' and ${nationality} != 'refused'",
    ],
    "feels_safe_after_dark": [INTERVIEW],
    "would_feel_safe_after_dark": [INTERVIEW, "${feels_safe_after_dark} = 'never_alone_after_dark'"],
    "expects_victim_12m": [INTERVIEW],
    "privacy_check": [INTERVIEW],
    "privacy_skip_note": [INTERVIEW, "${privacy_check} = 'others_present' or ${privacy_check} = 'respondent_declined'"],
    **{name: [INTERVIEW, PRIVATE] for name in VICTIMISATION},
    **{f"reported_{v}": [INTERVIEW, PRIVATE, REPORT_GATES[v]] for v in REPORTED},
    **{f"reported_to_{v}": [INTERVIEW, PRIVATE, f"${{reported_{v}}} = 'yes'"] for v in REPORTED},
    "used_linea100": [INTERVIEW, PRIVATE, "${knows_linea100} = 'yes'"],  # never asked aloud: inside the private module
    "used_cem": [INTERVIEW, PRIVATE, "${knows_cem} = 'yes'"],
    "violence_mode": [INTERVIEW, PRIVATE],
    **{name: [INTERVIEW] for name in CONTACTS},
    "bribe_asked_12m": [INTERVIEW, "${contact_official_12m} = 'yes'"],
    "bribe_paid_12m": [INTERVIEW, "${contact_official_12m} = 'yes'"],
    **{f"used_{s}_12m": [INTERVIEW] for s in SERVICES},
    **{
        f"{s}_{a}": [INTERVIEW, f"${{used_{s}_12m}} = 'yes'"]
        for s in SERVICES
        for a in ATTRIBUTES[s] + ["satisfaction"]
    },
    "say_in_government": [INTERVIEW],
    "discrimination_5y": [INTERVIEW],
    "discrimination_12m": [INTERVIEW, "${discrimination_5y} = 'yes'"],
    **{f"discrim_{g}": [INTERVIEW, "${discrimination_12m} = 'yes'"] for g in GROUNDS},
    "dispute_types_2y": [INTERVIEW],
    "dispute_recent_type": [INTERVIEW, "${dispute_2y} = 'yes'"],
    "dispute_mechanisms_self": [INTERVIEW, "${dispute_2y} = 'yes'"],
    "dispute_no_mechanism_reason": [
        INTERVIEW,
        (
            "selected(${dispute_mechanisms_self}, 'none') or "
            "(selected(${dispute_mechanisms_self}, 'family_friends') and "
            "count-selected(${dispute_mechanisms_self}) = 1)"
        ),
    ],
    "visit_end_note": ["not(${consent} = 'yes' and ${age} >= 18)"],
}


def _relevance_chains(xform) -> dict[str, list[str]]:
    """Each field's relevance conditions, its groups' first, written back with ${name} references."""
    relevant = {b.get("nodeset"): b.get("relevant") for b in xform.iterfind(".//x:bind", NS)}

    def readable(expr: str) -> str:
        return (
            re.sub(r"\s+", " ", re.sub(r"/data(?:/\w+)*/(\w+)", r"${\1}", expr))
            .strip()
            .replace("( ", "(")
            .replace(" ,", ",")
            .replace(" )", ")")
        )

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

PLACE = [
    ("district", "la_esperanza"),
    ("neighbourhood", "wichanzao"),
    ("block", "WIC-0004"),
    ("dwelling_number", "6"),
    ("visit_number", "1"),
]
SELECTED_ADULT = PLACE + [("contact_result", "contact"), ("eligible_adults", "2"), ("selected_available", "yes")]
ADULT_30 = SELECTED_ADULT + [("age", "30"), ("consent", "yes"), ("sex", "female")]
NOTHING_HAPPENED = (
    [(name, "no") for name in VICTIMISATION + CONTACTS]
    + [
        ("feels_safe_after_dark", "safe"),
        ("privacy_check", "alone"),
        ("discrimination_5y", "no"),
        ("dispute_types_2y", "none"),
        ("knows_linea100", "no"),
        ("knows_cem", "no"),
    ]
    + [(f"used_{s}_12m", "no") for s in SERVICES]
)
COMPLETE = (
    ADULT_30
    + NOTHING_HAPPENED
    + [
        ("education_level", "secondary_complete"),
        ("ethnicity", "mestizo"),
        ("mother_tongue", "spanish"),
        ("nationality", "peruvian"),
        ("employment_status", "employed"),
        ("income_sufficiency", "just_enough"),
        ("household_assets", "refrigerator internet"),
        *[
            (f"wg_{d}", "no_difficulty")
            for d in ["seeing", "hearing", "walking", "remembering", "selfcare", "communicating"]
        ],
        ("years_in_neighbourhood", "12"),
        ("feels_safe_daytime", "safe"),
        ("violence_mode", "self"),
        ("say_in_government", "very_little"),
        ("influence_on_politics", "dont_know"),
        ("main_problems", "robbery extortion"),
        ("safety_change_12m", "less_safe"),
        ("trust_police", "little"),
        ("trust_serenazgo", "some"),
        ("trust_neighbourhood_committee", "a_lot"),
        ("knows_barrio_seguro", "no"),
        ("expects_victim_12m", "yes"),
    ]
)
VISITS = {
    "noncontact": "noncontact",
    "refused_door": "refused_door",
    "vacant": "vacant",
    "not_dwelling": "not_dwelling",
    "no_access": "unknown_eligibility",
}
SCENARIOS = {
    "complete": COMPLETE,
    **{f"visit {result}": PLACE + [("contact_result", result)] for result in VISITS},
    "no adults": PLACE + [("contact_result", "contact"), ("eligible_adults", "0")],
    "selected away": PLACE + [("contact_result", "contact"), ("eligible_adults", "3"), ("selected_available", "no")],
    "declined": SELECTED_ADULT + [("age", "52"), ("consent", "no")],
    "minor": SELECTED_ADULT + [("age", "16")],
    "nothing happened": ADULT_30 + NOTHING_HAPPENED,
    "privacy not possible": COMPLETE + [("privacy_check", "others_present")],
    "events": ADULT_30
    + [
        ("feels_safe_after_dark", "never_alone_after_dark"),
        ("nationality", "venezuelan"),
        ("privacy_check", "alone"),
        ("assault_hit_12m", "no"),
        ("assault_weapon_12m", "yes"),
        ("threat_12m", "dont_know"),
        ("sexual_touching_12m", "refused"),
        ("robbery_force_12m", "yes"),
        ("snatch_theft_12m", "yes"),
        ("reported_physical", "no"),
        ("reported_robbery", "yes"),
        ("reported_to_robbery", "refused"),
        ("contact_police_12m", "yes"),
        ("used_health_12m", "yes"),
        ("used_school_primary_12m", "no"),
        ("used_school_secondary_12m", "dont_know"),
        ("used_gov_services_12m", "refused"),
        ("discrimination_5y", "yes"),
        ("discrimination_12m", "yes"),
        ("dispute_types_2y", "neighbours family"),
        ("dispute_mechanisms_self", "none"),
        ("knows_linea100", "yes"),
        ("knows_cem", "dont_know"),
    ],
    "reported, whom left blank": COMPLETE + [("assault_hit_12m", "yes"), ("reported_physical", "yes")],
    "discriminated earlier, mechanism used": ADULT_30
    + [
        ("contact_police_12m", "dont_know"),
        ("contact_health_12m", "no"),
        ("discrimination_5y", "yes"),
        ("discrimination_12m", "no"),
        ("dispute_types_2y", "money_debts"),
        ("dispute_mechanisms_self", "police community_leader"),
    ],
    "constraints": PLACE[:3]
    + [
        ("dwelling_number", "0"),
        ("dwelling_number", "7"),
        ("visit_number", "5"),
        ("visit_number", "2"),
        ("contact_result", "contact"),
        ("eligible_adults", "31"),
        ("eligible_adults", "2"),
        ("selected_available", "yes"),
        ("age", "-1"),
        ("age", "121"),
        ("age", "40"),
        ("consent", "yes"),
        ("years_in_neighbourhood", "41"),
        ("years_in_neighbourhood", "-1"),
        ("years_in_neighbourhood", "40"),
        ("household_assets", "none car"),
        ("household_assets", "car"),
        ("privacy_check", "alone"),
        ("assault_hit_12m", "yes"),
        ("reported_physical", "yes"),
        ("reported_to_physical", "refused police"),
        ("reported_to_physical", "police cem"),
        ("dispute_types_2y", "none neighbours"),
        ("dispute_types_2y", "neighbours"),
        ("dispute_mechanisms_self", "none police"),
        ("dispute_mechanisms_self", "police court"),
        ("main_problems", "none robbery"),
        ("main_problems", "robbery extortion"),
    ],
    **{f"district {d}": [("district", d)] for d in DISTRICTS},
    **{
        f"neighbourhood {n['name']}": [("district", n["district"]), ("neighbourhood", n["name"])]
        for n in NEIGHBOURHOODS
    },
}


@pytest.fixture(scope="module")
def filled(javarosa):
    return javarosa(SCENARIOS)


def _values(result) -> dict[str, str]:
    return {e.tag: e.text for e in ET.fromstring(result.instance.encode("utf-8")).iter() if len(e) == 0}


@pytest.mark.parametrize("result", sorted(VISITS))
def test_every_visit_ends_in_a_submission_with_its_disposition(filled, result):
    visit = filled[f"visit {result}"]
    assert visit.asked[-1] == "visit_end_note" and "eligible_adults" not in visit.asked
    assert visit.finalized
    assert _values(visit)["disposition"] == VISITS[result]


def test_no_adult_and_selected_person_away_end_the_visit(filled):
    assert filled["no adults"].asked[-2:] == ["no_adults_note", "visit_end_note"]
    assert _values(filled["no adults"])["disposition"] == "not_eligible"
    away = filled["selected away"]
    assert "age" not in away.asked and "respondent_away_note" in away.asked and away.finalized
    assert _values(away)["disposition"] == "respondent_away"


def test_consent_refused_after_eligibility_ends_the_form(filled):
    result = filled["declined"]
    asked = result.asked
    assert (
        asked.index("eligible_adults") < asked.index("selected_available") < asked.index("age") < asked.index("consent")
    )
    assert asked[-2:] == ["consent_declined_note", "visit_end_note"]
    assert "sex" not in asked and "gps" not in asked  # no location without consent
    assert result.finalized  # a refusal is sent too: it counts towards the response rate
    assert _values(result)["disposition"] == "refused"


def test_under_18_ends_the_form_politely(filled):
    result = filled["minor"]
    assert "underage_note" in result.asked and "consent" not in result.asked and "sex" not in result.asked
    assert result.finalized
    assert _values(result)["disposition"] == "not_eligible"


def test_a_complete_interview_can_be_finalised(filled):
    result = filled["complete"]
    assert (result.finalized, result.first_missing) == (True, None)
    assert all(verdict == "OK" for answers in result.verdicts.values() for _, verdict in answers)
    submission = ET.fromstring(result.instance.encode("utf-8"))
    assert (submission.get("id"), submission.get("version")) == ("sdg16_perception", "2026120401")
    values = _values(result)
    block = next(b for b in BLOCKS if b["name"] == "WIC-0004")
    assert {
        name: values[name]
        for name in [
            "neighbourhood",
            "psu",
            "prob_block",
            "block_take",
            "block_dwellings",
            "household_adults",
            "education",
            "contact_official_12m",
            "dispute_2y",
            "disposition",
            "expects_victim_12m",
        ]
    } == {
        "neighbourhood": "wichanzao",
        "psu": "WIC-0004",
        "prob_block": block["prob_block"],
        "block_take": block["take"],
        "block_dwellings": block["dwellings"],
        "household_adults": "2",
        "education": "secondary",
        "contact_official_12m": "no",
        "dispute_2y": "no",
        "disposition": "complete",
        "expects_victim_12m": "yes",
    }
    today = datetime.strptime(values["today"], "%Y-%m-%d")
    months = [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "setiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ]
    assert (values["ref_month_es"], values["ref_year_1"]) == (months[today.month - 1], str(today.year - 1))
    assert re.fullmatch(r"wichanzao \d{4}-\d\d-\d\d \d\d:\d\d", values["instanceName"])
    assert values["instanceID"].startswith("uuid:")


def test_required_questions_block_finalising(filled):
    assert filled["nothing happened"].first_missing == "education_level"


def test_a_refusal_to_say_whom_they_told_is_recorded_not_left_blank(filled):
    assert _values(filled["events"])["reported_to_robbery"] == "refused"
    assert filled["reported, whom left blank"].first_missing == "reported_to_physical"


def test_privacy_check_skips_the_module_and_records_why(filled):
    result = filled["privacy not possible"]
    asked = set(result.asked)
    assert "privacy_skip_note" in asked and result.finalized
    assert asked & (set(VICTIMISATION) | {"violence_handover", "used_linea100", "used_cem", "violence_mode"}) == set()
    values = _values(result)
    assert values["privacy_check"] == "others_present" and "assault_hit_12m" not in values


def test_awareness_and_expectation_come_before_victimisation(filled):
    asked = filled["complete"].asked
    first_victim = asked.index("assault_hit_12m")
    assert max(asked.index(n) for n in ("knows_linea100", "knows_cem", "expects_victim_12m")) < asked.index(
        "privacy_check"
    )
    assert asked.index("privacy_check") < asked.index("violence_handover") < first_victim
    assert asked.index("help_info") > asked.index("violence_handback")


def test_follow_ups_are_skipped_when_nothing_happened(filled):
    asked = set(filled["nothing happened"].asked)
    skipped = {
        "would_feel_safe_after_dark",
        "bribe_asked_12m",
        "bribe_paid_12m",
        "discrimination_12m",
        "dispute_recent_type",
        "dispute_mechanisms_self",
        "dispute_no_mechanism_reason",
        "used_linea100",
        "used_cem",
        "years_in_peru",
    }
    skipped |= {f"reported_{v}" for v in REPORTED} | {f"reported_to_{v}" for v in REPORTED}
    skipped |= {f"discrim_{g}" for g in GROUNDS}
    skipped |= {f"{s}_{a}" for s in SERVICES for a in ATTRIBUTES[s] + ["satisfaction"]}
    assert asked & skipped == set()
    assert {"expects_victim_12m", "say_in_government", "influence_on_politics", "trust_police"} <= asked


def test_reporting_is_asked_only_of_victims_of_that_type(filled):
    asked = filled["events"].asked
    assert [a for a in asked if a.startswith("reported_")] == [
        "reported_physical",
        "reported_robbery",
        "reported_to_robbery",
    ]


def test_follow_ups_are_asked_when_they_apply(filled):
    asked = filled["events"].asked
    expected = {
        "would_feel_safe_after_dark",
        "bribe_asked_12m",
        "bribe_paid_12m",
        "discrimination_12m",
        "dispute_recent_type",
        "dispute_no_mechanism_reason",
        "years_in_peru",
    }
    expected |= {f"discrim_{g}" for g in GROUNDS} | {f"health_{a}" for a in ATTRIBUTES["health"] + ["satisfaction"]}
    assert expected <= set(asked)
    other_services = {f"{s}_{a}" for s in SERVICES[1:] for a in ATTRIBUTES[s] + ["satisfaction"]}
    assert set(asked) & (other_services | {"used_cem"}) == set()
    assert "used_linea100" in asked  # knows it: asked in private
    assert filled["events"].choices["dispute_recent_type"] == ["neighbours", "family", "dont_know", "refused"]


def test_bribery_is_asked_only_with_contact(filled):
    bribery = {"bribe_asked_12m", "bribe_paid_12m"}
    assert bribery <= set(filled["events"].asked)  # contact with the police: yes
    assert bribery.isdisjoint(filled["discriminated earlier, mechanism used"].asked)  # don't know / unanswered
    assert bribery.isdisjoint(filled["nothing happened"].asked)  # every screener no
    assert _values(filled["nothing happened"])["contact_official_12m"] == "no"
    assert _values(filled["events"])["contact_official_12m"] == "yes"


def test_grounds_need_12_months_and_reason_needs_no_mechanism(filled):
    asked = filled["discriminated earlier, mechanism used"].asked
    assert "discrimination_12m" in asked and "discrim_sex" not in asked
    assert "dispute_mechanisms_self" in asked and "dispute_no_mechanism_reason" not in asked


def test_violence_module_is_handed_over_and_back(filled):
    asked = filled["events"].asked
    assert asked.index("violence_handover") < asked.index("assault_hit_12m")
    last = max(asked.index(a) for a in asked if a in VICTIMISATION or a.startswith("reported"))
    assert asked.index("violence_handback") > last


def test_constraints_reject_impossible_answers(filled):
    result = filled["constraints"]
    expected = {
        ("dwelling_number", "0"): "CONSTRAINT",
        ("dwelling_number", "7"): "OK",
        ("visit_number", "5"): "CONSTRAINT",
        ("visit_number", "2"): "OK",
        ("eligible_adults", "31"): "CONSTRAINT",
        ("eligible_adults", "2"): "OK",
        ("age", "-1"): "CONSTRAINT",
        ("age", "121"): "CONSTRAINT",
        ("age", "40"): "OK",
        ("years_in_neighbourhood", "41"): "CONSTRAINT",
        ("years_in_neighbourhood", "-1"): "CONSTRAINT",
        ("years_in_neighbourhood", "40"): "OK",
        ("household_assets", "none car"): "CONSTRAINT",
        ("household_assets", "car"): "OK",
        ("reported_to_physical", "refused police"): "CONSTRAINT",
        ("reported_to_physical", "police cem"): "OK",
        ("dispute_types_2y", "none neighbours"): "CONSTRAINT",
        ("dispute_types_2y", "neighbours"): "OK",
        ("dispute_mechanisms_self", "none police"): "CONSTRAINT",
        ("dispute_mechanisms_self", "police court"): "OK",
        ("main_problems", "none robbery"): "CONSTRAINT",
        ("main_problems", "robbery extortion"): "OK",
    }
    assert {key: result.verdict(*key) for key in expected} == expected


@pytest.mark.parametrize("district", DISTRICTS)
def test_district_offers_exactly_its_neighbourhoods(filled, district):
    offered = filled[f"district {district}"].choices["neighbourhood"]
    assert offered == [n["name"] for n in NEIGHBOURHOODS if n["district"] == district]
    assert offered  # every district has at least one neighbourhood


@pytest.mark.parametrize("neighbourhood", [n["name"] for n in NEIGHBOURHOODS])
def test_neighbourhood_offers_exactly_its_selected_blocks(filled, neighbourhood):
    offered = filled[f"neighbourhood {neighbourhood}"].choices["block"]
    assert offered == [b["name"] for b in BLOCKS if b["neighbourhood"] == neighbourhood]
