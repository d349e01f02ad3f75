"""The questionnaire in a real form engine: Enketo (enketo-transformer + enketo-core, as bundled by webform/) in
Debian's Chromium, talking to our real collection server over OpenRosa.

1. whole interviews as a volunteer fills them, both skip paths (a victim who reported, a non-victim): the store
   holds exactly what was entered, in a record that fits the form and equals the one javarosa (ODK Collect's
   engine) makes of the same interview;
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

STORE_WAIT_SECONDS = 30

PLACE = {"psu": "EP-014"}

VICTIM_WHO_REPORTED = {
    "consent": "yes",
    "age": "34",
    "sex": "female",
    "education": "secondary",
    "wg_seeing": "some_difficulty",
    "wg_hearing": "no_difficulty",
    "wg_walking": "a_lot_of_difficulty",
    "wg_remembering": "no_difficulty",
    "wg_selfcare": "no_difficulty",
    "wg_communicating": "dont_know",
    "years_in_neighbourhood": "12",
    "household_adults": "3",
    "feels_safe_after_dark": "never_alone_after_dark",
    "would_feel_safe_after_dark": "very_unsafe",
    "victim_physical_12m": "yes",
    "victim_psychological_12m": "no",
    "victim_sexual_12m": "refused",
    "victim_robbery_12m": "yes",
    "reported_physical": "yes",
    "reported_to_physical": ["police", "cem"],
    "reported_robbery": "no",
    "violence_mode": "self",
    "contact_official_12m": "yes",
    "bribe_asked_12m": "yes",
    "bribe_paid_12m": "no",
    "used_health_12m": "yes",
    "health_access": "agree",
    "health_affordability": "disagree",
    "health_quality": "agree",
    "health_courtesy": "strongly_agree",
    "health_timeliness": "strongly_disagree",
    "health_satisfaction": "dissatisfied",
    "used_school_primary_12m": "no",
    "used_school_secondary_12m": "dont_know",
    "used_gov_services_12m": "yes",
    "gov_services_access": "agree",
    "gov_services_affordability": "not_applicable",
    "gov_services_quality": "disagree",
    "gov_services_courtesy": "agree",
    "gov_services_timeliness": "dont_know",
    "gov_services_satisfaction": "satisfied",
    "say_in_government": "very_little",
    "influence_on_politics": "not_at_all",
    "discrimination_5y": "yes",
    "discrimination_12m": "yes",
    "discrimination_grounds": ["age", "socioeconomic"],
    "dispute_2y": "yes",
    "dispute_mechanisms": ["none"],
    "dispute_no_mechanism_reason": "didnt_know",
    "main_problems": ["robbery", "gangs"],
    "safety_change_12m": "less_safe",
    "trust_police": "little",
    "trust_serenazgo": "some",
    "trust_neighbourhood_committee": "a_lot",
    "knows_linea100": "yes",
    "used_linea100": "no",
    "knows_cem": "no",
    "knows_barrio_seguro": "dont_know",
    "expects_victim_12m": "yes",
    "volunteer_notes": "Entrevista en la puerta; la señora pidió el número de la Línea 100.",
}

NON_VICTIM = {
    "consent": "yes",
    "age": "61",
    "sex": "male",
    "education": "university",
    **{f"wg_{domain}": "no_difficulty" for domain in ("seeing", "hearing", "walking", "remembering", "selfcare", "communicating")},
    "years_in_neighbourhood": "40",
    "household_adults": "2",
    "feels_safe_after_dark": "safe",
    "victim_physical_12m": "no",
    "victim_psychological_12m": "no",
    "victim_sexual_12m": "no",
    "victim_robbery_12m": "no",
    "violence_mode": "interviewer",
    "contact_official_12m": "no",
    "used_health_12m": "no",
    "used_school_primary_12m": "no",
    "used_school_secondary_12m": "no",
    "used_gov_services_12m": "no",
    "say_in_government": "some",
    "influence_on_politics": "a_great_deal",
    "discrimination_5y": "no",
    "dispute_2y": "no",
    "main_problems": ["none"],
    "safety_change_12m": "same",
    "trust_police": "some",
    "trust_serenazgo": "dont_know",
    "trust_neighbourhood_committee": "none_at_all",
    "knows_linea100": "no",
    "knows_cem": "yes",
    "used_cem": "no",
    "knows_barrio_seguro": "yes",
    "expects_victim_12m": "no",
}

# Questions the victim's answers make non-relevant (not the victim of that crime, reported nothing, did not use it).
VICTIM_SKIPS = [
    "reported_psychological",
    "reported_sexual",
    "reported_to_robbery",
    "school_primary_access",
    "school_secondary_satisfaction",
    "used_cem",
]

# Questions the non-victim's answers make non-relevant: the engine must neither show nor submit them.
NON_VICTIM_SKIPS = [
    "would_feel_safe_after_dark",
    *(f"reported_{kind}" for kind in ("physical", "psychological", "sexual", "robbery")),
    "bribe_asked_12m",
    "bribe_paid_12m",
    "health_access",
    "gov_services_satisfaction",
    "discrimination_12m",
    "discrimination_grounds",
    "dispute_mechanisms",
    "used_linea100",
]


@pytest.fixture(scope="module")
def xform(server) -> XForm:
    """The questionnaire as the server publishes it (the bytes phones download) with its media."""
    form = server.store.form_version(FORM_ID)
    media = {file.filename: server.store.media_file(FORM_ID, None, file.filename) for file in form.media}
    return XForm.parse(server.store.form_xml(FORM_ID), media)


@pytest.fixture(scope="module")
def neighbourhoods(server) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(server.store.media_file(FORM_ID, None, "neighbourhoods.csv")))


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


def choose_place(webform: WebForm, neighbourhoods: pd.DataFrame, district: str, neighbourhood: str) -> None:
    """District first, then the neighbourhood from the cascading list, which must offer exactly that district's
    neighbourhoods from neighbourhoods.csv."""
    webform.answer("district", district)
    webform.expect_options("neighbourhood", neighbourhoods.loc[neighbourhoods["district"] == district, "name"].tolist())
    webform.answer("neighbourhood", neighbourhood)
    webform.answer_all(PLACE)


def assert_stored_as_entered(record: pd.Series, entered: dict, skipped: list[str]) -> None:
    for name, value in entered.items():
        if isinstance(value, list):
            assert set(str(record[name]).split()) == set(value), name
        else:
            assert record[name] == value, name
    for name in skipped:
        assert name not in record or pd.isna(record[name]), f"{name} was skipped but stored as {record[name]!r}"


def test_whole_interviews_both_skip_paths_arrive_as_entered(server, xform, neighbourhoods, volunteer, webform, javarosa, artifacts):
    name, _ = volunteer
    choose_place(webform, neighbourhoods, "trujillo", "trujillo")
    choose_place(webform, neighbourhoods, "el_porvenir", "alto_trujillo")  # the volunteer corrects the district
    webform.answer_all(VICTIM_WHO_REPORTED)
    webform.page.screenshot(path=str(artifacts / "webform-filled.png"), full_page=True)
    webform.finish()

    choose_place(webform, neighbourhoods, "la_esperanza", "wichanzao")
    webform.answer_all(NON_VICTIM)
    for skipped in NON_VICTIM_SKIPS:
        webform.expect_shown(skipped, False)
    webform.finish()

    records = stored_records(server, name, 2)
    assert len(records) == 2
    victim, non_victim = (records.loc[records["sex"] == sex].iloc[0] for sex in ("female", "male"))
    victim_answers = {"district": "el_porvenir", "neighbourhood": "alto_trujillo", **PLACE, **VICTIM_WHO_REPORTED}
    non_victim_answers = {"district": "la_esperanza", "neighbourhood": "wichanzao", **PLACE, **NON_VICTIM}
    assert_stored_as_entered(victim, victim_answers, VICTIM_SKIPS)
    assert_stored_as_entered(non_victim, non_victim_answers, NON_VICTIM_SKIPS)
    for record, answers in ((victim, victim_answers), (non_victim, non_victim_answers)):
        assert record["instance_id"].startswith("uuid:")
        assert record["device_id"] and record["start"] and record["end"]
        stored_xml = server.store.submission_xml(record["instance_id"])
        assert xform.problems(stored_xml) == []
        assert {path.rsplit("/", 1)[1] for path in xform.answers(stored_xml)} == set(answers)  # nothing else
        # ODK Collect's engine, given the same interview, finalizes it into the same record.
        finalized, javarosa_xml = javarosa(answers)
        assert finalized
        assert xform.answers(stored_xml) == xform.answers(javarosa_xml)
    assert webform.waiting() == 0


def test_skip_logic_as_the_engine_evaluates_it(server, neighbourhoods, volunteer, webform):
    name, _ = volunteer
    choose_place(webform, neighbourhoods, "moche", "moche")
    webform.answer_all({"consent": "yes", "age": "30"})
    for kind in ("physical", "psychological", "sexual", "robbery"):
        for answer, shown in (("no", False), ("dont_know", False), ("yes", True), ("refused", False)):
            webform.answer(f"victim_{kind}_12m", answer)
            webform.expect_shown(f"reported_{kind}", shown)
    for answer, shown in (("no", False), ("yes", True), ("dont_know", False)):
        webform.answer("contact_official_12m", answer)
        webform.expect_shown("bribe_asked_12m", shown)
        webform.expect_shown("bribe_paid_12m", shown)

    webform.answer("age", "16")  # under 18: a polite closing note, and the interview is over
    webform.expect_shown("underage_note")
    for question in ("sex", "victim_physical_12m", "contact_official_12m"):
        webform.expect_shown(question, False)
    webform.finish()

    choose_place(webform, neighbourhoods, "moche", "moche")
    webform.answer("consent", "no")  # no consent: a closing note, nothing else is asked
    webform.expect_shown("consent_declined_note")
    webform.expect_shown("age", False)
    webform.finish()

    records = stored_records(server, name, 2)
    underage, declined = (records.loc[records["consent"] == consent].iloc[0] for consent in ("yes", "no"))
    assert underage["age"] == "16" and pd.isna(underage.get("sex")) and pd.isna(underage.get("victim_physical_12m"))
    assert pd.isna(declined.get("age")) and pd.isna(declined.get("sex"))


def test_offline_interviews_survive_reload_and_arrive_exactly_once(server, neighbourhoods, context, volunteer, webform):
    name, _ = volunteer
    posts = []
    context.on("request", lambda request: posts.append(request) if request.method == "POST" and request.url.endswith("/submission") else None)

    context.set_offline(True)
    webform.page.reload()  # the service worker serves page, bundle, form and neighbourhood list
    webform.wait_ready()
    choose_place(webform, neighbourhoods, "huanchaco", "huanchaco")
    webform.answer("consent", "no")
    webform.finish()
    choose_place(webform, neighbourhoods, "laredo", "laredo")
    webform.answer_all({"consent": "yes", "age": "17"})
    webform.finish()
    assert webform.waiting() == 2

    webform.page.reload()
    webform.wait_ready()
    assert webform.waiting() == 2
    assert stored_records(server, name, 0).empty

    sent_while_offline = len(posts)
    context.set_offline(False)
    webform.page.wait_for_function("document.getElementById('outbox-count').textContent === '0'", timeout=STORE_WAIT_SECONDS * 1000)
    records = stored_records(server, name, 2)
    assert sorted(records["neighbourhood"]) == ["huanchaco", "laredo"]
    delivered = [request for request in posts[sent_while_offline:] if request.failure is None]
    assert [request.response().status for request in delivered] == [201, 201]
    for request in delivered:  # as Enketo Express posts: multipart with xml_submission_file (else the server says 400)
        assert request.headers["x-openrosa-version"] == "1.0"
        assert request.headers["content-type"].startswith("multipart/form-data")
    assert sorted(request.headers["x-openrosa-instance-id"] for request in delivered) == sorted(records["instance_id"])


def test_an_unfinished_interview_survives_a_reload(server, neighbourhoods, volunteer, webform):
    """Phones reload pages and kill background tabs: the answers given so far come back, and the interview
    finished afterwards is one record."""
    name, _ = volunteer
    choose_place(webform, neighbourhoods, "la_esperanza", "jerusalen")
    answers = {"consent": "yes", "age": "45", "sex": "female"}
    webform.answer_all(answers)
    webform.page.reload()
    webform.wait_ready()
    expect(webform.page.locator("#status")).to_have_attribute("data-ui", "restored")
    for question, value in {"neighbourhood": "jerusalen", "consent": "yes", "sex": "female"}.items():
        expect(webform.page.locator(f'form.or input[name$="/{question}"][value="{value}"]')).to_be_checked()
    expect(webform.page.locator('form.or input[name$="/age"]')).to_have_value("45")

    webform.answer("age", "17")  # finish it as a short interview
    webform.finish()
    records = stored_records(server, name, 1)
    assert len(records) == 1
    assert (records.loc[0, "neighbourhood"], records.loc[0, "age"]) == ("jerusalen", "17")
    webform.page.reload()
    webform.wait_ready()
    expect(webform.page.locator('form.or input[name$="/consent"]:checked')).to_have_count(0)


def test_a_discarded_interview_is_gone(server, neighbourhoods, volunteer, webform):
    name, _ = volunteer
    choose_place(webform, neighbourhoods, "salaverry", "salaverry")
    webform.answer("consent", "yes")
    webform.page.once("dialog", lambda dialog: dialog.accept())
    webform.page.click("#discard-form")
    expect(webform.page.locator("#status")).to_have_attribute("data-ui", "discarded")
    webform.page.reload()
    webform.wait_ready()
    expect(webform.page.locator('form.or input[name$="/district"]:checked')).to_have_count(0)
    assert webform.waiting() == 0
    assert stored_records(server, name, 0).empty


def test_a_refused_upload_is_explained_and_the_record_kept(server, neighbourhoods, volunteer, webform):
    """A revoked link: the server's own message reaches the volunteer, and the interview waits on the phone."""
    name, _ = volunteer
    revoke_volunteer(server.store, name)
    choose_place(webform, neighbourhoods, "simbal", "simbal")
    webform.answer("consent", "no")
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

    def expected(language: str) -> tuple[list[str], list[str]]:
        texts = xform.translations[language]
        return [texts["/data/place/district:label"]], [texts["yes_no-0"], texts["yes_no-1"]]

    latitude = webform.question("gps").locator('[data-i18n="geopicker.latitude"]')
    assert (shown("district", ".question-label"), shown("consent", ".option-label")) == expected("Español (es)")
    assert webform.page.locator("#submit-form").inner_text() == "Terminar entrevista"
    assert latitude.text_content() == "latitud (x.y °)"

    webform.page.select_option("#form-languages", "en")
    assert (shown("district", ".question-label"), shown("consent", ".option-label")) == expected("English (en)")
    assert webform.page.locator("#submit-form").inner_text() == "Finish interview"
    assert latitude.text_content() == "latitude (x.y °)"

    webform.page.select_option("#form-languages", "es")
    assert (shown("district", ".question-label"), shown("consent", ".option-label")) == expected("Español (es)")


def test_the_web_form_asks_no_host_but_the_server(server, neighbourhoods, context, volunteer):
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
    choose_place(webform, neighbourhoods, "victor_larco_herrera", "victor_larco_herrera")
    webform.answer_all({"consent": "yes", "age": "30"})
    webform.page.select_option("#form-languages", "en")
    webform.page.select_option("#form-languages", "es")
    gps = webform.question("gps")
    expect(gps.locator('[data-i18n="geopicker.latitude"]')).to_be_visible()
    gps.locator('input[name="lat"]').fill("-8.1116")
    gps.locator('input[name="long"]').fill("-79.0287")
    gps.locator('input[name="long"]').press("Tab")
    webform.answer("age", "17")  # a short interview from here on
    webform.finish()
    assert len(stored_records(server, name, 1)) == 1
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
    server.store.publish_form((fixtures / "v2_features.xml").read_bytes(), media={"blocks.csv": (fixtures / "blocks.csv").read_bytes()})
    account = add_volunteer(server.store, "v2-features")
    webform = WebForm(context.new_page())
    webform.open(webform_url(account.server_url(server.base_url), "v2_features"))

    webform.answer("district", "trujillo")
    block = webform.page.locator('form.or select[name="/data/place/block"]')
    expect(block.locator("option:not([value=''])")).to_have_count(2, timeout=20_000)
    assert block.locator("option:not([value=''])").evaluate_all("options => options.map(o => o.value)") == ["T-001", "T-002"]
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
    assert (record["district"], record["block"], record["block_households"], record["block_psu"]) == ("trujillo", "T-002", "17", "EP-001")
    assert set(record["problems"].split()) == {"gangs", "other"} and record["other_problem"] == "basura"
