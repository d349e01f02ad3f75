"""The questionnaire in a real form engine: Enketo (enketo-transformer + enketo-core, as bundled by webform/) in
Debian's Chromium, talking to our real collection server over OpenRosa.

1. whole interviews as a volunteer fills them in questionnaire v2 (the visit: district, neighbourhood, a block
   from blocks.csv, dwelling and contact result; the adults counted, the selected adult, the age screen, consent,
   the privacy check and the self-completed module, ...), both skip paths (a victim who reported, a non-victim),
   and a visit that ends at the door (nobody at home): the store holds exactly what was entered, in a record that
   fits the form and equals the one javarosa (ODK Collect's engine) makes of the same visit, calculations
   (block probabilities, disposition) included;
2. skip logic as the engine evaluates it;
3. offline: records completed without a connection survive a reload and arrive exactly once;
4. the Spanish / English switch;
and what a volunteer's phone needs besides: an interview in progress survives a reload, a refused upload is
explained and nothing is lost.
"""

import io
import time
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import expect
from webform_interview import FORM_ID, WebForm, XForm

from collect.volunteers import add_volunteer, revoke_volunteer
from collect.webform import webform_url

pytestmark = pytest.mark.browser

STORE_WAIT_SECONDS = 60  # a loaded 2-core machine; the waits end as soon as the record is there

# The visit to a selected dwelling, after district, neighbourhood and block: someone answered, the household's
# adults were counted and the one chosen by the next-birthday rule is at home.
VISIT = {"dwelling_number": "7", "visit_number": "2", "contact_result": "contact", "eligible_adults": "3"}
SELECTED = {**VISIT, "selected_name_initials": "MRC", "selected_available": "yes"}

VICTIM_WHO_REPORTED = {
    **SELECTED,
    "age": "34",
    "consent": "yes",
    "sex": "female",
    "education_level": "secondary_complete",
    "ethnicity": "mestizo",
    "mother_tongue": "quechua",
    "nationality": "venezuelan",
    "years_in_peru": "6",
    "employment_status": "employed",
    "wg_seeing": "some_difficulty",
    "wg_hearing": "no_difficulty",
    "wg_walking": "a_lot_of_difficulty",
    "wg_remembering": "no_difficulty",
    "wg_selfcare": "no_difficulty",
    "wg_communicating": "dont_know",
    "years_in_neighbourhood": "5",
    "income_sufficiency": "difficulties",
    "household_assets": ["refrigerator", "internet"],
    "feels_safe_after_dark": "never_alone_after_dark",
    "would_feel_safe_after_dark": "very_unsafe",
    "feels_safe_daytime": "unsafe",
    "expects_victim_12m": "yes",
    "main_problems": ["robbery", "gangs"],
    "safety_change_12m": "less_safe",
    "trust_police": "little",
    "trust_serenazgo": "some",
    "trust_neighbourhood_committee": "a_lot",
    "knows_linea100": "yes",
    "knows_cem": "no",
    "knows_barrio_seguro": "dont_know",
    "privacy_check": "alone",  # the private module: the respondent answers on the phone
    "assault_hit_12m": "yes",
    "assault_weapon_12m": "no",
    "assault_threat_weapon_12m": "no",
    "robbery_force_12m": "yes",
    "snatch_theft_12m": "yes",
    "extortion_12m": "no",
    "threat_12m": "no",
    "harassment_12m": "no",
    "sexual_touching_12m": "refused",
    "sexual_forced_12m": "no",
    "sexual_incapacitated_12m": "no",
    "reported_physical": "yes",
    "reported_to_physical": ["police", "cem"],
    "reported_robbery": "no",
    "used_linea100": "no",
    "violence_mode": "self",
    "contact_police_12m": "yes",
    **{f"contact_{kind}_12m": "no" for kind in ("justice", "municipality", "registry", "health", "education", "tax")},
    "contact_other_12m": "dont_know",
    "bribe_asked_12m": "yes",
    "bribe_paid_12m": "no",
    "used_health_12m": "yes",
    "health_access": "agree",
    "health_affordability": "disagree",
    "health_quality": "agree",
    "health_equality": "disagree",
    "health_courtesy": "strongly_agree",
    "health_satisfaction": "dissatisfied",
    "used_school_primary_12m": "no",
    "used_school_secondary_12m": "dont_know",
    "used_gov_services_12m": "yes",
    "gov_services_access": "agree",
    "gov_services_affordability": "not_applicable",
    "gov_services_delivery": "disagree",
    "gov_services_equality": "agree",
    "gov_services_timeliness": "dont_know",
    "gov_services_satisfaction": "satisfied",
    "say_in_government": "very_little",
    "influence_on_politics": "not_at_all",
    "discrimination_5y": "yes",
    "discrimination_12m": "yes",
    **{f"discrim_{ground}": "no" for ground in ("sex", "disability", "ethnicity", "residence", "religion", "marital")},
    "discrim_age": "yes",
    "discrim_migration": "yes",
    "discrim_socioeconomic": "yes",
    "discrim_sexual_orientation": "refused",
    "discrim_political": "dont_know",
    "discrim_other": "no",
    "dispute_types_2y": ["neighbours", "family"],
    "dispute_recent_type": "neighbours",
    "dispute_mechanisms_self": ["none"],
    "dispute_no_mechanism_reason": "didnt_know",
    "volunteer_notes": "Entrevista en la puerta; la señora pidió el número de la Línea 100.",
}

NON_VICTIM = {
    **SELECTED,
    "eligible_adults": "2",
    "age": "61",
    "consent": "yes",
    "sex": "male",
    "education_level": "university_complete",
    "ethnicity": "dont_know",
    "mother_tongue": "spanish",
    "nationality": "peruvian",
    "employment_status": "retired",
    **{
        f"wg_{domain}": "no_difficulty"
        for domain in ("seeing", "hearing", "walking", "remembering", "selfcare", "communicating")
    },
    "years_in_neighbourhood": "40",
    "income_sufficiency": "save",
    "household_assets": ["refrigerator", "washing_machine", "car"],
    "feels_safe_after_dark": "safe",
    "feels_safe_daytime": "very_safe",
    "expects_victim_12m": "no",
    "main_problems": ["none"],
    "safety_change_12m": "same",
    "trust_police": "some",
    "trust_serenazgo": "dont_know",
    "trust_neighbourhood_committee": "none_at_all",
    "knows_linea100": "no",
    "knows_cem": "yes",
    "knows_barrio_seguro": "yes",
    "privacy_check": "others_left",
    **{
        name: "no"
        for name in (
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
        )
    },
    "used_cem": "no",
    "violence_mode": "interviewer",
    **{
        f"contact_{kind}_12m": "no"
        for kind in ("police", "justice", "municipality", "registry", "health", "education", "tax", "other")
    },
    "used_health_12m": "no",
    "used_school_primary_12m": "no",
    "used_school_secondary_12m": "no",
    "used_gov_services_12m": "no",
    "say_in_government": "some",
    "influence_on_politics": "a_great_deal",
    "discrimination_5y": "no",
    "dispute_types_2y": ["none"],
}

# Questions the victim's answers make non-relevant (not the victim of that crime, reported nothing, did not use it).
VICTIM_SKIPS = [
    "ethnicity_other",
    "main_problems_other",
    "privacy_skip_note",
    "reported_psychological",
    "reported_sexual",
    "reported_to_robbery",
    "used_cem",
    "school_primary_access",
    "school_secondary_satisfaction",
    "discrimination_grounds_other",
    "dispute_mechanisms_other",
]

# Questions the non-victim's answers make non-relevant: the engine must neither show nor submit them.
NON_VICTIM_SKIPS = [
    "years_in_peru",
    "would_feel_safe_after_dark",
    *(f"reported_{kind}" for kind in ("physical", "psychological", "sexual", "robbery")),
    "used_linea100",
    "bribe_asked_12m",
    "bribe_paid_12m",
    "health_access",
    "gov_services_satisfaction",
    "discrimination_12m",
    "discrim_sex",
    "dispute_recent_type",
    "dispute_mechanisms_self",
    "dispute_no_mechanism_reason",
]

# What a volunteer may find at the door instead of an interview (contact_result), and the disposition it gets.
NOT_REACHED = {
    "noncontact": "noncontact",
    "refused_door": "refused_door",
    "vacant": "vacant",
    "not_dwelling": "not_dwelling",
    "no_access": "unknown_eligibility",
}


@pytest.fixture(scope="module")
def xform(server) -> XForm:
    """The questionnaire as the server publishes it (the bytes phones download) with its media."""
    form = server.store.form_version(FORM_ID)
    media = {file.filename: server.store.media_file(FORM_ID, None, file.filename) for file in form.media}
    return XForm.parse(server.store.form_xml(FORM_ID), media)


@pytest.fixture(scope="module")
def places(server) -> tuple[pd.DataFrame, pd.DataFrame]:
    """neighbourhoods.csv and blocks.csv as the server publishes them with the form."""
    media = [
        pd.read_csv(io.BytesIO(server.store.media_file(FORM_ID, None, f"{name}.csv")), dtype=str)
        for name in ("neighbourhoods", "blocks")
    ]
    return media[0], media[1]


@pytest.fixture
def webform(context, volunteer) -> WebForm:
    form = WebForm(context.new_page())
    form.open(volunteer[1])
    return form


def stored_records(server, volunteer_name: str, count: int) -> pd.DataFrame:
    """The volunteer's stored submissions once `count` have arrived (the outbox sends in the background)."""
    deadline = time.monotonic() + STORE_WAIT_SECONDS
    while True:
        frame = server.store.submissions_frame(FORM_ID)
        frame = frame[frame["volunteer"] == volunteer_name]
        if len(frame) >= count or time.monotonic() > deadline:
            return frame.reset_index(drop=True)
        time.sleep(0.2)


def choose_place(webform: WebForm, places, district: str, neighbourhood: str, block: str) -> dict[str, str]:
    """District, then the neighbourhood and the block from the cascading lists, which must offer exactly that
    district's neighbourhoods (neighbourhoods.csv) and that neighbourhood's selected blocks (blocks.csv)."""
    neighbourhoods, blocks = places
    webform.answer("district", district)
    webform.expect_options("neighbourhood", neighbourhoods.loc[neighbourhoods["district"] == district, "name"].tolist())
    webform.answer("neighbourhood", neighbourhood)
    webform.expect_options("block", blocks.loc[blocks["neighbourhood"] == neighbourhood, "name"].tolist())
    webform.answer("block", block)
    return {"district": district, "neighbourhood": neighbourhood, "block": block}


def assert_stored_as_entered(record: pd.Series, entered: dict, skipped: list[str]) -> None:
    for name, value in entered.items():
        if isinstance(value, list):
            assert set(str(record[name]).split()) == set(value), name
        else:
            assert record[name] == value, name
    for name in skipped:
        assert name not in record or pd.isna(record[name]), f"{name} was skipped but stored as {record[name]!r}"


def assert_same_record_as_javarosa(server, xform, javarosa, record: pd.Series, answers: dict) -> None:
    """The stored record fits the form, holds exactly these answers, and is the record ODK Collect's engine
    finalizes from the same interview: the same answers and the same calculations (block probabilities,
    disposition, reference periods, ...)."""
    assert record["instance_id"].startswith("uuid:")
    assert record["device_id"] and record["start"] and record["end"]
    stored_xml = server.store.submission_xml(record["instance_id"])
    assert xform.problems(stored_xml) == []
    assert {path.rsplit("/", 1)[1] for path in xform.answers(stored_xml)} == set(answers)  # nothing else
    finalized, javarosa_xml = javarosa(answers)
    assert finalized
    assert xform.answers(stored_xml) == xform.answers(javarosa_xml)
    assert xform.calculated(stored_xml) == xform.calculated(javarosa_xml)


def test_whole_interviews_both_skip_paths_arrive_as_entered(
    server, xform, places, volunteer, webform, javarosa, artifacts
):
    name, _ = volunteer
    choose_place(webform, places, "trujillo", "trujillo", "TRU-0116")
    victim_place = choose_place(webform, places, "el_porvenir", "alto_trujillo", "AT-0019")  # the volunteer corrects it
    webform.answer_all(VICTIM_WHO_REPORTED)
    webform.page.screenshot(path=str(artifacts / "webform-filled.png"), full_page=True)
    webform.finish()

    non_victim_place = choose_place(webform, places, "la_esperanza", "wichanzao", "WIC-0004")
    webform.answer_all(NON_VICTIM)
    for skipped in NON_VICTIM_SKIPS:
        webform.expect_shown(skipped, False)
    webform.finish()

    records = stored_records(server, name, 2)
    assert len(records) == 2
    victim, non_victim = (records.loc[records["sex"] == sex].iloc[0] for sex in ("female", "male"))
    victim_answers = {**victim_place, **VICTIM_WHO_REPORTED}
    non_victim_answers = {**non_victim_place, **NON_VICTIM}
    assert_stored_as_entered(victim, victim_answers, VICTIM_SKIPS)
    assert_stored_as_entered(non_victim, non_victim_answers, NON_VICTIM_SKIPS)
    _, blocks = places
    block = blocks.set_index("name").loc["AT-0019"]
    assert (victim["psu"], victim["prob_block"], victim["block_take"], victim["block_dwellings"]) == (
        "AT-0019",
        block["prob_block"],
        block["take"],
        block["dwellings"],
    )
    assert (victim["household_adults"], victim["education"], victim["contact_official_12m"], victim["dispute_2y"]) == (
        "3",
        "secondary",
        "yes",
        "yes",
    )
    assert (victim["disposition"], non_victim["disposition"]) == ("complete", "complete")
    for record, answers in ((victim, victim_answers), (non_victim, non_victim_answers)):
        assert_same_record_as_javarosa(server, xform, javarosa, record, answers)
    assert webform.waiting() == 0


def test_a_visit_without_an_interview_arrives_with_its_disposition(server, xform, places, volunteer, webform, javarosa):
    """Nobody at home: the visit ends after the contact result, and is sent like any interview, so that the
    response rate can count it."""
    name, _ = volunteer
    answers = {
        **choose_place(webform, places, "florencia_de_mora", "fm_parte_alta", "FPA-0011"),
        "dwelling_number": "11",
        "visit_number": "1",
        "contact_result": "noncontact",
    }
    webform.answer_all(answers)
    webform.expect_shown("visit_end_note")
    for question in ("eligible_adults", "selected_available", "age", "consent", "sex", "gps"):
        webform.expect_shown(question, False)
    webform.finish()

    records = stored_records(server, name, 1)
    assert len(records) == 1
    record = records.iloc[0]
    assert (record["contact_result"], record["disposition"], record["psu"]) == ("noncontact", "noncontact", "FPA-0011")
    assert pd.isna(record.get("eligible_adults")) and pd.isna(record.get("consent"))
    assert_same_record_as_javarosa(server, xform, javarosa, record, answers)


def test_skip_logic_as_the_engine_evaluates_it(server, places, volunteer, webform):
    name, _ = volunteer
    choose_place(webform, places, "moche", "moche", "MOC-0007")
    webform.answer_all({"dwelling_number": "3", "visit_number": "1"})
    for result in NOT_REACHED:  # no one to interview: the visit ends
        webform.answer("contact_result", result)
        webform.expect_shown("visit_end_note")
        webform.expect_shown("eligible_adults", False)
    webform.answer("contact_result", "contact")
    webform.answer("eligible_adults", "0")  # no adult lives here
    webform.expect_shown("no_adults_note")
    webform.expect_shown("selected_available", False)
    webform.answer("eligible_adults", "2")
    webform.expect_shown("next_birthday")
    webform.answer("selected_available", "no")  # the selected adult is away: no one else is interviewed
    webform.expect_shown("respondent_away_note")
    webform.expect_shown("age", False)
    webform.answer("selected_available", "yes")
    webform.expect_shown("consent", False)  # age is screened before consent is asked
    webform.answer_all({"age": "30", "consent": "yes"})
    webform.expect_shown("visit_end_note", False)

    webform.answer("knows_linea100", "yes")
    for answer, private in (
        ("others_present", False),
        ("respondent_declined", False),
        ("alone", True),
        ("others_left", True),
    ):
        webform.answer("privacy_check", answer)  # the self-completed module only in private
        webform.expect_shown("privacy_skip_note", not private)
        for question in ("violence_handover", "assault_hit_12m", "used_linea100", "violence_mode"):
            webform.expect_shown(question, private)
    gates = {
        "physical": ["assault_hit_12m", "assault_weapon_12m", "assault_threat_weapon_12m"],
        "robbery": ["robbery_force_12m"],
        "psychological": ["threat_12m", "harassment_12m"],
        "sexual": ["sexual_touching_12m", "sexual_forced_12m", "sexual_incapacitated_12m"],
    }
    for kind, screeners in gates.items():
        for screener in screeners:
            for answer, shown in (("no", False), ("dont_know", False), ("yes", True), ("refused", False)):
                webform.answer(screener, answer)
                webform.expect_shown(f"reported_{kind}", shown)
    for answer, shown in (("no", False), ("yes", True), ("dont_know", False)):
        webform.answer("contact_police_12m", answer)
        webform.expect_shown("bribe_asked_12m", shown)
        webform.expect_shown("bribe_paid_12m", shown)
    webform.answer("discrimination_5y", "yes")
    webform.answer("discrimination_12m", "yes")
    webform.expect_shown("discrim_sex")
    webform.answer("dispute_types_2y", ["family", "neighbours"])  # the most recent of the disputes named
    webform.expect_options("dispute_recent_type", ["neighbours", "family", "dont_know", "refused"])

    webform.answer("age", "16")  # under 18: a polite closing note, and the interview is over
    webform.expect_shown("underage_note")
    webform.expect_shown("visit_end_note")
    for question in ("consent", "sex", "assault_hit_12m", "contact_police_12m"):
        webform.expect_shown(question, False)
    webform.finish()

    choose_place(webform, places, "moche", "moche", "MOC-0024")
    webform.answer_all({**SELECTED, "age": "52", "consent": "no"})  # no consent: a closing note, nothing else
    webform.expect_shown("consent_declined_note")
    webform.expect_shown("sex", False)
    webform.expect_shown("gps", False)  # no location without consent
    webform.finish()

    records = stored_records(server, name, 2)
    underage, declined = (records.loc[records["disposition"] == code].iloc[0] for code in ("not_eligible", "refused"))
    assert underage["age"] == "16" and pd.isna(underage.get("consent")) and pd.isna(underage.get("sex"))
    assert pd.isna(underage.get("assault_hit_12m")) and pd.isna(underage.get("privacy_check"))
    assert (declined["age"], declined["consent"]) == ("52", "no") and pd.isna(declined.get("sex"))


def test_offline_interviews_survive_reload_and_arrive_exactly_once(server, places, context, volunteer, webform):
    name, _ = volunteer
    posts = []
    context.on(
        "request",
        lambda request: (
            posts.append(request) if request.method == "POST" and request.url.endswith("/submission") else None
        ),
    )

    context.set_offline(True)
    webform.page.reload()  # the service worker serves page, bundle, form, neighbourhood and block lists
    webform.wait_ready()
    choose_place(webform, places, "huanchaco", "huanchaco", "HUA-0002")
    webform.answer_all({**SELECTED, "age": "40", "consent": "no"})
    webform.finish()
    choose_place(webform, places, "laredo", "laredo", "LAR-0014")
    webform.answer_all({**SELECTED, "age": "17"})
    webform.finish()
    assert webform.waiting() == 2

    webform.page.reload()
    webform.wait_ready()
    assert webform.waiting() == 2
    assert stored_records(server, name, 0).empty

    sent_while_offline = len(posts)
    context.set_offline(False)
    webform.page.wait_for_function(
        "document.getElementById('outbox-count').textContent === '0'", timeout=STORE_WAIT_SECONDS * 1000
    )
    records = stored_records(server, name, 2)
    assert sorted(zip(records["block"], records["disposition"])) == [
        ("HUA-0002", "refused"),
        ("LAR-0014", "not_eligible"),
    ]
    delivered = [request for request in posts[sent_while_offline:] if request.failure is None]
    assert [request.response().status for request in delivered] == [201, 201]
    for request in delivered:  # as Enketo Express posts: multipart with xml_submission_file (else the server says 400)
        assert request.headers["x-openrosa-version"] == "1.0"
        assert request.headers["content-type"].startswith("multipart/form-data")
    assert sorted(request.headers["x-openrosa-instance-id"] for request in delivered) == sorted(records["instance_id"])


def test_an_unfinished_interview_survives_a_reload(server, places, volunteer, webform):
    """Phones reload pages and kill background tabs: the answers given so far come back, and the interview
    finished afterwards is one record."""
    name, _ = volunteer
    choose_place(webform, places, "la_esperanza", "jerusalen", "JER-0012")
    webform.answer_all({**SELECTED, "age": "45", "consent": "yes", "sex": "female"})
    webform.page.reload()
    webform.wait_ready()
    expect(webform.page.locator("#status")).to_have_attribute("data-ui", "restored")
    chosen = {
        "neighbourhood": "jerusalen",
        "block": "JER-0012",
        "contact_result": "contact",
        "consent": "yes",
        "sex": "female",
    }
    for question, value in chosen.items():
        expect(webform.page.locator(f'form.or input[name$="/{question}"][value="{value}"]')).to_be_checked()
    for question, value in {"dwelling_number": "7", "eligible_adults": "3", "age": "45"}.items():
        expect(webform.page.locator(f'form.or input[name$="/{question}"]')).to_have_value(value)

    webform.answer("age", "17")  # finish it as a short interview
    webform.finish()
    records = stored_records(server, name, 1)
    assert len(records) == 1
    assert (records.loc[0, "block"], records.loc[0, "age"], records.loc[0, "disposition"]) == (
        "JER-0012",
        "17",
        "not_eligible",
    )
    webform.page.reload()
    webform.wait_ready()
    expect(webform.page.locator('form.or input[name$="/district"]:checked')).to_have_count(0)


def test_a_discarded_interview_is_gone(server, places, volunteer, webform):
    name, _ = volunteer
    choose_place(webform, places, "salaverry", "salaverry", "SAL-0007")
    webform.answer("contact_result", "contact")
    webform.page.once("dialog", lambda dialog: dialog.accept())
    webform.page.click("#discard-form")
    expect(webform.page.locator("#status")).to_have_attribute("data-ui", "discarded")
    webform.page.reload()
    webform.wait_ready()
    expect(webform.page.locator('form.or input[name$="/district"]:checked')).to_have_count(0)
    assert webform.waiting() == 0
    assert stored_records(server, name, 0).empty


def test_a_refused_upload_is_explained_and_the_record_kept(server, places, volunteer, webform):
    """A revoked link: the server's own message reaches the volunteer, and the interview waits on the phone."""
    name, _ = volunteer
    revoke_volunteer(server.store, name)
    choose_place(webform, places, "simbal", "simbal", "SIM-0001")
    webform.answer_all({"dwelling_number": "4", "visit_number": "1", "contact_result": "vacant"})
    webform.finish()
    status = webform.page.locator("#status")
    expect(status).to_have_attribute("data-kind", "error", timeout=STORE_WAIT_SECONDS * 1000)
    expect(status).to_contain_text("revoked")
    assert webform.waiting() == 1
    assert stored_records(server, name, 0).empty


PUT_IN_OUTBOX = """record => new Promise((resolve, reject) => {
    const open = indexedDB.open('sdg16-webform');
    open.onerror = reject;
    open.onsuccess = () => {
        const tx = open.result.transaction('outbox', 'readwrite');
        tx.objectStore('outbox').put(record);
        tx.oncomplete = resolve;
        tx.onerror = reject;
    };
})"""


def test_a_record_the_server_refuses_for_good_is_kept_and_shown(server, volunteer, webform):
    """A record the server can never accept (here: truncated XML, 400) stops being retried, is listed with the
    server's reason, and stays on the phone for the coordinator to recover."""
    name, url = volunteer
    submission_url = url.split("/forms/")[0] + "/submission"
    broken = {
        "instanceId": "uuid:broken",
        "xml": "<data id='sdg16_perception'><meta><instanceID>uuid:br",
        "formId": FORM_ID,
        "submissionUrl": submission_url,
        "savedAt": "2026-11-28T12:00:00Z",
        "rejected": None,
    }
    webform.page.evaluate(PUT_IN_OUTBOX, broken)
    webform.page.reload()
    webform.wait_ready()
    rejected = webform.page.locator("#rejected")
    expect(rejected).to_be_visible(timeout=STORE_WAIT_SECONDS * 1000)
    expect(rejected).to_contain_text("uuid:broken")
    expect(rejected).to_contain_text("400")
    expect(rejected).to_contain_text("not well-formed")
    assert webform.waiting() == 0
    assert stored_records(server, name, 0).empty


def test_language_switch_shows_spanish_and_english_labels(xform, webform):
    """Labels of questions and of choices come from the form's itext in the chosen language; the page's own
    buttons and the engine's own words (here the geopoint widget's) follow."""

    def shown(question: str, css: str) -> list[str]:
        return webform.question(question).locator(css).filter(visible=True).all_inner_texts()

    def expected(language: str) -> tuple[list[str], list[str], list[str]]:
        texts = xform.translations[language]
        results = [texts[f"contact_result-{index}"] for index in range(len(xform.choices["contact_result"][1]))]
        return [texts["/data/place/district:label"]], results, [texts["yes_no-0"], texts["yes_no-1"]]

    def labels() -> tuple[list[str], list[str], list[str]]:
        return (
            shown("district", ".question-label"),
            shown("contact_result", ".option-label"),
            shown("consent", ".option-label"),
        )

    webform.answer_all({**SELECTED, "age": "30", "consent": "yes"})  # consent and location are asked of adults only
    latitude = webform.question("gps").locator('[data-i18n="geopicker.latitude"]')
    assert labels() == expected("Español (es)")
    assert webform.page.locator("#submit-form").inner_text() == "Terminar entrevista"
    assert latitude.text_content() == "latitud (x.y °)"

    webform.page.select_option("#form-languages", "en")
    assert labels() == expected("English (en)")
    assert webform.page.locator("#submit-form").inner_text() == "Finish interview"
    assert latitude.text_content() == "latitude (x.y °)"

    webform.page.select_option("#form-languages", "es")
    assert labels() == expected("Español (es)")


def test_the_web_form_asks_no_host_but_the_server(server, places, context, volunteer):
    """Fonts, icons, the geopoint widget and everything else come from our server: a request to any other host
    would fail offline and tell a third party where volunteers are. Every request of the page and of its service
    worker is logged (and any to another host refused) through a whole interview with a location."""
    name, url = volunteer
    server_origin = server.base_url
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    elsewhere: list[str] = []

    def refuse_elsewhere(route):
        elsewhere.append(route.request.url)
        route.abort()

    context.route(lambda url: not url.startswith((server_origin, "data:", "blob:")), refuse_elsewhere)
    webform = WebForm(context.new_page())
    webform.open(url)
    assert webform.page.evaluate("typeof XSLTProcessor") == "undefined"
    choose_place(webform, places, "victor_larco_herrera", "victor_larco_herrera", "VLH-0006")
    webform.answer_all({**SELECTED, "age": "30", "consent": "yes"})
    webform.page.select_option("#form-languages", "en")
    webform.page.select_option("#form-languages", "es")
    gps = webform.question("gps")
    expect(gps.locator('[data-i18n="geopicker.latitude"]')).to_be_visible()
    gps.locator('input[name="lat"]').fill("-8.1116")
    gps.locator('input[name="long"]').fill("-79.0287")
    gps.locator('input[name="long"]').press("Tab")
    webform.answer("age", "17")  # a short interview from here on
    webform.finish()
    assert len(stored_records(server, name, 1)) == 1, (  # what the page says, when it did not arrive
        f"outbox {webform.waiting()}, status {webform.page.locator('#status').inner_text()!r}, elsewhere {elsewhere}"
    )
    webform.page.reload()
    webform.wait_ready()

    assert len(requests) > 5
    assert [url for url in requests if not url.startswith((server_origin, "data:", "blob:"))] == []
    assert elsewhere == []


def test_next_years_form_features_work_in_the_engine(server, context):
    """A pyxform-built form with what the v2 questionnaire uses (tests/webform/transform/v2_features.md): blocks
    from a CSV media file filtered by the district, calculations reading the chosen block's row with
    instance('blocks'), a note showing them, relevance on a group and on a question, and the record that arrives."""
    fixtures = Path(__file__).resolve().parent / "transform"
    server.store.publish_form(
        (fixtures / "v2_features.xml").read_bytes(), media={"blocks.csv": (fixtures / "blocks.csv").read_bytes()}
    )
    account = add_volunteer(server.store, "v2-features")
    webform = WebForm(context.new_page())
    webform.open(webform_url(account.server_url(server.base_url), "v2_features"))

    webform.answer("district", "trujillo")
    block = webform.page.locator('form.or select[name="/data/place/block"]')
    expect(block.locator("option:not([value=''])")).to_have_count(2, timeout=20_000)
    assert block.locator("option:not([value=''])").evaluate_all("options => options.map(o => o.value)") == [
        "T-001",
        "T-002",
    ]
    block.select_option("T-002", force=True)  # enketo-core covers the native select with its own picker
    note = webform.question("block_note")
    expect(note).to_be_visible()
    expect(note.locator(".question-label.active")).to_contain_text("La manzana T-002 tiene 17 viviendas")
    webform.expect_shown("problems", False)
    webform.answer("age", "30")
    webform.expect_shown("problems")
    webform.expect_shown("other_problem", False)
    for problem in ("gangs", "other"):  # `compact`: the label covers its checkbox
        webform.page.locator(f'form.or input[name$="/problems"][value="{problem}"]').check(force=True)
    webform.expect_shown("other_problem")
    webform.answer("other_problem", "basura")
    webform.finish()

    deadline = time.monotonic() + STORE_WAIT_SECONDS
    while (records := server.store.submissions_frame("v2_features")).empty and time.monotonic() < deadline:
        time.sleep(0.2)
    record = records.iloc[0]
    assert (record["district"], record["block"], record["block_households"], record["block_psu"]) == (
        "trujillo",
        "T-002",
        "17",
        "EP-001",
    )
    assert set(record["problems"].split()) == {"gangs", "other"} and record["other_problem"] == "basura"
