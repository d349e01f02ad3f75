"""The demo round: real XForm filled, real OpenRosa route, realistic and reproducible data.

The form is checked here with plain ElementTree over the compiled XForm, not with the reader that fills it, so
that a mistake in `forms.xform.read_xform` cannot hide itself. The reader, the filling and the XPath evaluator
are tested on their own in tests/forms/test_xform.py and tests/forms/test_xpath.py.
"""

import csv
import dataclasses
import io
import random
import re
from xml.etree import ElementTree

import pandas as pd
import pytest

from analysis import fieldwork, nonresponse, pipeline
from analysis.plan import DEFAULT_PLAN, load_plan
from collect.publish import publish_built
from collect.store import Store
from collect.submission import parse_submission
from collect.volunteers import list_volunteers, revoke_volunteer
from dashboard import demo
from forms.build import DATA_DIR, build_form
from forms.xform import read_xform

XF = "{http://www.w3.org/2002/xforms}"
XH = "{http://www.w3.org/1999/xhtml}"
LOADED = 400


@pytest.fixture(scope="module")
def built():
    return build_form(demo.FORM_XLSX)


@pytest.fixture(scope="module")
def xform(built):
    """The compiled form as plain ElementTree: instance paths, binds, and each select's allowed names."""
    html = ElementTree.fromstring(built.xform_bytes)
    model = html.find(f"{XH}head/{XF}model")
    primary = model.find(f"{XF}instance")[0]
    paths = set()

    def walk(element, path):
        paths.add(path)
        for child in element:
            walk(child, f"{path}/{child.tag.removeprefix(XF)}")

    root_path = "/" + primary.tag.removeprefix(XF)
    walk(primary, root_path)
    lists = {
        instance.get("id"): {item.findtext(f"{XF}name") for item in instance.iter(f"{XF}item")}
        for instance in model.findall(f"{XF}instance")[1:]
        if instance.get("src") is None
    }
    selects = {}
    for control in html.find(f"{XH}body").iter():
        if control.tag in (f"{XF}select1", f"{XF}select"):
            list_id = re.match(r"instance\('([^']+)'\)", control.find(f"{XF}itemset").get("nodeset")).group(1)
            selects[control.get("ref").rsplit("/", 1)[-1]] = (control.tag == f"{XF}select", list_id)
    binds = {bind.get("nodeset").rsplit("/", 1)[-1]: bind.attrib for bind in model.iter(f"{XF}bind")}
    conditional = {bind.get("nodeset") for bind in model.iter(f"{XF}bind") if bind.get("relevant")}
    return {
        "root": primary,
        "root_path": root_path,
        "paths": paths,
        "lists": lists,
        "selects": selects,
        "binds": binds,
        "conditional": conditional,
    }


@pytest.fixture(scope="module")
def neighbourhoods():
    return pd.read_csv(DATA_DIR / "neighbourhoods.csv").set_index("name")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """A fresh SQLite store with a small demo round loaded through the OpenRosa route, and the progress calls."""
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'store.db'}")
    calls = []
    summary = demo.load_demo(store, n=LOADED, progress=lambda done, total: calls.append((done, total)))
    yield store, summary, calls
    store.close()


@pytest.fixture(scope="module")
def round_2000(built):
    """A full-size round generated in memory (no store), parsed by the store's own submission parser."""
    media = {file.name: file.path.read_bytes() for file in built.media}
    form = read_xform(built.xform_bytes, media)
    areas = demo.read_areas(
        media["neighbourhoods.csv"],
        pd.read_csv(DATA_DIR / "population_trujillo_2017.csv"),
        random.Random(demo.DEMO_SEED),
    )
    outdated = dataclasses.replace(form, version="2026010101")
    submissions = list(demo.generate_submissions(form, 2000, areas=areas, outdated=outdated))
    rows = []
    for submission in submissions:
        parsed = parse_submission(submission.xml)
        rows.append(
            parsed.fields
            | {
                "instance_id": parsed.instance_id,
                "form_version": parsed.form_version,
                "volunteer": submission.volunteer,
                "resend": submission.resend,
            }
        )
    frame = pd.DataFrame(rows)
    return submissions, frame


@pytest.fixture(scope="module")
def sent(round_2000):
    """The element names each submission of the round holds (the parser reads a field left out and a field sent
    empty alike, as no answer, so the frame cannot tell them apart)."""
    submissions, frame = round_2000
    return pd.Series(
        [{element.tag for element in ElementTree.fromstring(s.xml).iter()} for s in submissions], index=frame.index
    )


def adults(frame):
    return frame[(frame["consent"] == "yes") & (pd.to_numeric(frame["age"]) >= 18)]


# --- the XML a phone would send ---------------------------------------------------------------------------------


def test_submissions_are_the_relevant_part_of_the_compiled_forms_instance(loaded, built, xform):
    """Each submission holds the form's instance but what was not relevant: an element is missing only where a
    `relevant` could remove it, and then with everything below it, as Collect sends it (which fields exactly is
    checked against the questionnaire's conditions in test_a_field_is_sent_exactly_when_relevant)."""
    store, summary, _ = loaded
    skipped = 0
    index = store.submission_index(built.form_id)
    assert len(index) == LOADED + 1  # + the interview saved twice; the resend is not stored again
    for instance_id in index["instance_id"]:
        root = ElementTree.fromstring(store.submission_xml(instance_id))
        assert "/" + root.tag == xform["root_path"]
        assert root.get("id") == built.form_id
        assert root.get("version") in (built.version, summary.round.outdated_version)
        paths = set()

        def walk(element, path):
            paths.add(path)
            for child in element:
                walk(child, f"{path}/{child.tag}")

        walk(root, "/" + root.tag)
        assert paths <= xform["paths"], (
            f"{instance_id}: elements the form's instance does not have: {paths - xform['paths']}"
        )
        left_out = xform["paths"] - paths
        unexplained = {
            path for path in left_out if path not in xform["conditional"] and path.rsplit("/", 1)[0] not in left_out
        }
        assert not unexplained, f"{instance_id}: left out though always relevant: {unexplained}"
        skipped += bool(left_out)
        assert root.findtext("meta/instanceID") == instance_id and instance_id.startswith("uuid:")
    assert skipped == len(index)  # every interview skips some questions (e.g. the follow-ups of a 'no')


def test_values_are_valid_choices_and_neighbourhoods_match_their_district(round_2000, xform, neighbourhoods):
    _, frame = round_2000
    for name, (multiple, list_id) in xform["selects"].items():
        if name not in frame or list_id not in xform["lists"]:
            continue
        values = frame[name].dropna()
        chosen = {part for value in values for part in value.split()} if multiple else set(values)
        assert chosen <= xform["lists"][list_id], f"{name}: {chosen - xform['lists'][list_id]}"
    places = frame.dropna(subset=["neighbourhood"])
    assert (neighbourhoods.loc[places["neighbourhood"], "district"].to_numpy() == places["district"].to_numpy()).all()
    assert set(places["neighbourhood"]) == set(neighbourhoods.index)


def test_metadata_is_what_collect_fills(round_2000):
    submissions, frame = round_2000
    start, end = pd.to_datetime(frame["start"], utc=False), pd.to_datetime(frame["end"], utc=False)
    assert (end > start).all()
    assert frame["start"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}-05:00").all()
    assert (frame["today"] == frame["start"].str[:10]).all()
    assert frame["deviceid"].str.fullmatch(r"collect:[A-Z0-9]{16}").all()
    assert (frame["username"] == frame["volunteer"]).all()
    assert frame["instanceName"].notna().all()
    audit = list(csv.reader(io.StringIO(submissions[0].attachments[0].content.decode())))
    assert (
        audit[0] == ["event", "node", "start", "end"]
        and audit[1][0] == "form start"
        and audit[-1][0] == "form finalize"
    )
    assert [row[1] for row in audit if row[0] == "question"][:1] != []


# --- relevance, constraints, required ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, condition",
    [
        ("eligible_adults", lambda f: f["contact_result"] == "contact"),
        ("selected_available", lambda f: pd.to_numeric(f["eligible_adults"]) >= 1),
        ("age", lambda f: f["selected_available"] == "yes"),
        ("consent", lambda f: pd.to_numeric(f["age"]) >= 18),
        ("sex", lambda f: (f["consent"] == "yes") & (pd.to_numeric(f["age"]) >= 18)),
        ("assault_hit_12m", lambda f: f["privacy_check"].isin(["alone", "others_left"])),
        ("reported_robbery", lambda f: f["robbery_force_12m"] == "yes"),
        (
            "reported_sexual",
            lambda f: f[["sexual_touching_12m", "sexual_forced_12m", "sexual_incapacitated_12m"]].eq("yes").any(axis=1),
        ),
        ("reported_to_robbery", lambda f: f["reported_robbery"] == "yes"),
        ("would_feel_safe_after_dark", lambda f: f["feels_safe_after_dark"] == "never_alone_after_dark"),
        ("bribe_paid_12m", lambda f: f["contact_official_12m"] == "yes"),
        ("health_satisfaction", lambda f: f["used_health_12m"] == "yes"),
        ("discrim_residence", lambda f: f["discrimination_12m"] == "yes"),
        (
            "dispute_no_mechanism_reason",
            lambda f: (
                f["dispute_mechanisms_self"]
                .fillna("")
                .str.split()
                .apply(lambda v: "none" in v or v == ["family_friends"])
            ),
        ),
        ("used_cem", lambda f: (f["knows_cem"] == "yes") & f["privacy_check"].isin(["alone", "others_left"])),
    ],
)
def test_a_field_is_sent_exactly_when_relevant(round_2000, sent, field, condition):
    """Non-relevant fields are left out, as Collect leaves them out; relevant required ones are sent and answered
    (all of these are required)."""
    _, frame = round_2000
    relevant = condition(frame).fillna(False).astype(bool)
    present = sent.apply(lambda names: field in names)
    answered = frame[field].notna()
    assert relevant.any() and not relevant.all()
    assert (present == relevant).all(), f"{field}: sent {int(present.sum())}, relevant {int(relevant.sum())}"
    assert (answered == relevant).all(), f"{field}: answered {int(answered.sum())}, relevant {int(relevant.sum())}"


def test_constraints_hold(round_2000, xform):
    _, frame = round_2000
    age = pd.to_numeric(frame["age"])
    assert age.dropna().between(0, 120).all()
    people = adults(frame)
    assert (pd.to_numeric(people["years_in_neighbourhood"]) <= pd.to_numeric(people["age"])).all()
    assert (pd.to_numeric(people["household_adults"]) >= 1).all()
    assert (frame["psu"] == frame["block"]).all()
    blocks = pd.read_csv(DATA_DIR / "blocks.csv", dtype=str).set_index("name")
    assert (blocks.loc[frame["block"], "neighbourhood"].to_numpy() == frame["neighbourhood"].to_numpy()).all()
    assert (blocks.loc[frame["block"], "prob_block"].to_numpy() == frame["prob_block"].to_numpy()).all()
    for field in ("dispute_mechanisms_self", "main_problems"):
        choices = people[field].dropna().str.split()
        assert not choices.apply(lambda values: "none" in values and len(values) > 1).any(), field


def test_the_population_model_only_names_fields_of_the_form(round_2000, xform):
    """Guards against the form and the model drifting apart (a renamed question would get generic answers)."""
    rng = random.Random(1)
    area = demo.Area("trujillo", "trujillo", -8.1, -79.0, 1000.0, 1.0, ("T-021",))
    names = set(demo._answers(rng, area, demo.demo_volunteers()[0], demo._Slot(area, "T-021", 5, 1), None))
    leaf_names = {path.rsplit("/", 1)[-1] for path in xform["paths"]}
    assert names <= leaf_names, names - leaf_names


# --- the round as designed ----------------------------------------------------------------------------------------


def test_the_round_has_the_designed_imbalance_and_correlations(round_2000):
    _, frame = round_2000
    stored = frame[~frame["resend"]]
    assert len(stored) == 2001  # 2000 visits + the interview saved twice
    asked = stored["consent"].notna()
    assert 0.05 <= (stored.loc[asked, "consent"] == "no").mean() <= 0.2  # the selected person declines
    assert 10 <= (pd.to_numeric(stored["age"]) < 18).sum() <= 50
    people = adults(stored)
    assert (people["sex"] == "female").mean() > 0.55  # census 18+: about 0.51
    assert (pd.to_numeric(people["age"]) < 30).mean() > 0.36  # census 18+: about 0.30
    unsafe = people["feels_safe_after_dark"].isin(["unsafe", "very_unsafe"])
    victim = people[["assault_hit_12m", "assault_weapon_12m", "robbery_force_12m"]].eq("yes").any(axis=1)
    assert unsafe[victim].mean() > unsafe[~victim].mean() + 0.05
    female = people["sex"] == "female"
    assert unsafe[female].mean() > unsafe[~female].mean() + 0.05
    programme = people["district"].isin(demo.PROGRAMME_DISTRICTS)
    knows = people["knows_barrio_seguro"] == "yes"
    assert knows[programme].mean() > knows[~programme].mean() + 0.15
    assert people.isin(["dont_know"]).any(axis=None) and people.isin(["refused"]).any(axis=None)


def test_the_round_gives_the_quality_checks_something_to_find(round_2000, neighbourhoods):
    submissions, frame = round_2000
    minutes = (pd.to_datetime(frame["end"]) - pd.to_datetime(frame["start"])).dt.total_seconds() / 60
    interviewed = frame.index.isin(adults(frame).index)  # visits without an interview end in a minute or three
    by_volunteer = frame.assign(minutes=minutes)[interviewed].groupby("volunteer")
    median = by_volunteer["minutes"].median()
    assert median.min() < 0.7 * median.median()  # the speeder
    battery = frame[[f"health_{a}" for a in ("access", "affordability", "quality", "equality", "courtesy")]].dropna()
    straight = (battery.nunique(axis=1) == 1).groupby(frame.loc[battery.index, "volunteer"]).mean()
    assert straight[median.idxmin()] > 2 * straight.median()  # ... who also straight-lines
    dk = frame.drop(columns=["resend"]).isin(["dont_know", "refused"]).sum(axis=1) / frame.notna().sum(axis=1)
    dk_rate = dk.groupby(frame["volunteer"]).mean()
    assert dk_rate.max() > 3 * dk_rate.median()
    assert (frame.groupby("volunteer")["form_version"].nunique() == 1).all()
    assert frame["form_version"].nunique() == 2 and (frame["form_version"] == "2026010101").sum() > 100
    people = adults(frame)
    assert 0 < people["gps"].isna().mean() < 0.15
    located = people.dropna(subset=["gps"])
    points = located["gps"].str.split(expand=True).iloc[:, :2].astype(float).to_numpy()
    centres = neighbourhoods.loc[located["neighbourhood"], ["lat", "lon"]].to_numpy()
    far = (((points - centres) ** 2).sum(axis=1) ** 0.5) > 0.02  # more than about 2 km from the centre
    assert 0 < far.sum() < 0.05 * len(located)
    resends = [s for s in submissions if s.resend]
    assert len(resends) == 1 and any(s.xml == resends[0].xml for s in submissions if not s.resend)
    answer_columns = [
        c for c in frame.columns if c not in ("start", "end", "today", "instance_id", "instanceName", "resend")
    ]
    twins = adults(frame[~frame["resend"]]).duplicated(subset=answer_columns, keep=False)
    assert twins.sum() == 2  # the interview saved twice, under two instanceIDs


def test_every_visit_is_a_submission_with_its_disposition(round_2000):
    """Non-interviews are sent too (docs/DESIGN.md, Fieldwork): the round has every contact result, and revisits of
    dwellings where nobody was home or the selected person was away."""
    _, frame = round_2000
    stored = frame[~frame["resend"]]
    assert set(stored["contact_result"]) == {
        "contact",
        "noncontact",
        "refused_door",
        "vacant",
        "not_dwelling",
        "no_access",
    }
    counts = stored["disposition"].value_counts()
    assert set(counts.index) == {
        "complete",
        "refused",
        "refused_door",
        "noncontact",
        "respondent_away",
        "unknown_eligibility",
        "not_eligible",
        "vacant",
        "not_dwelling",
    }
    assert (stored["disposition"] == "complete").sum() == len(adults(stored))
    final = fieldwork.final_dispositions(stored.drop_duplicates(["block", "dwelling_number", "visit_number"]))
    rates = fieldwork.response_rates(final).iloc[0]
    assert 0.6 <= rates["RR1"] <= 0.75 and rates["U"] > 0 and rates["NE"] > 0  # a Peruvian face-to-face round
    revisits = stored[pd.to_numeric(stored["visit_number"]) > 1]
    assert len(revisits) and revisits.duplicated(subset=["block", "dwelling_number"], keep=False).sum() < len(stored)
    assert pd.to_numeric(stored["visit_number"]).max() == fieldwork.MAX_VISITS
    interviews = stored[stored["disposition"] == "complete"]
    assert interviews["privacy_check"].isin(["others_present", "respondent_declined"]).any()
    assert interviews.loc[interviews["privacy_check"] == "others_present", "assault_hit_12m"].isna().all()


def test_the_round_walks_the_sample_plan(round_2000):
    """Volunteers visit the dwellings blocks.csv selected, each block worked by one volunteer, the neighbourhoods in
    turn (a round shorter than the sample still reaches every one); revisits only where nobody was found, with the
    visit number counting up, and the block's recorded probabilities travel with every visit."""
    _, frame = round_2000
    stored = frame[~frame["resend"]]
    plan = pd.read_csv(DATA_DIR / "blocks.csv", dtype=str).set_index("name")
    listed = {(block, int(n)) for block, numbers in plan["dwelling_numbers"].items() for n in numbers.split()}
    visited = set(zip(stored["block"], stored["dwelling_number"].astype(int)))
    assert visited <= listed
    assert stored.groupby("block")["volunteer"].nunique().max() == 1
    assert set(stored["neighbourhood"]) == set(plan["neighbourhood"])
    assert (
        stored["prob_block"].astype(float) == plan.loc[stored["block"], "prob_block"].astype(float).to_numpy()
    ).all()
    assert (stored["psu"] == stored["block"]).all()
    once = stored.drop_duplicates(["block", "dwelling_number", "visit_number"])  # but the interview saved twice
    visits = once.assign(n=pd.to_numeric(once["visit_number"])).sort_values("n", kind="stable")
    for _, dwelling in visits.groupby(["block", "dwelling_number"]):
        assert dwelling["n"].tolist() == list(range(1, len(dwelling) + 1))
        assert dwelling["disposition"].iloc[:-1].isin(fieldwork.NO_CONTACT_YET).all()
    adults_ = pd.to_numeric(adults(stored)["eligible_adults"])
    assert adults_.min() >= 1 and 2.2 < adults_.mean() < 3.2


def test_same_seed_same_bytes_other_seed_other_data():
    def round_(seed):
        return [(s.xml, s.attachments) for s in demo.shipped_round(60, seed=seed)]

    assert round_(7) == round_(7)
    assert round_(7) != round_(8)


# --- through the OpenRosa route ----------------------------------------------------------------------------------


def test_the_loaded_round_is_estimated_as_a_probability_sample(loaded, built):
    """The default plan on the stored demo round: design weights from the recorded probabilities (dwellings /
    (prob_block · take) × eligible adults, then one non-response factor ≥ 1 per class of blocks), the interview
    saved twice left out by name, estimates with the probability statement; the same round without its recorded
    probabilities (as questionnaire v1 gives it), alone or beside v2 rows, is calibration only and says so."""
    store, _, _ = loaded
    frame = store.submissions_frame(built.form_id)
    plan = load_plan(DEFAULT_PLAN)
    result = pipeline.run(plan, frame)
    assert result.sample.probability and result.sample.note == nonresponse.PROBABILITY
    data = result.analysis_data
    recorded = frame.loc[result.eligible]
    base = (
        pd.to_numeric(recorded["block_dwellings"])
        / (pd.to_numeric(recorded["prob_block"]) * pd.to_numeric(recorded["block_take"]))
        * pd.to_numeric(recorded["eligible_adults"])
    ).to_numpy()
    factor = pd.Series(data["design_weight"].to_numpy() / base, index=recorded["block"].to_numpy())
    assert factor.min() >= 1 - 1e-9 and factor.round(9).groupby(level=0).nunique().max() == 1
    assert len(result.sample.classes) and len(data) == (frame["disposition"] == "complete").sum() - 1  # the twin
    twin = frame[
        frame.duplicated(subset=["block", "dwelling_number", "visit_number"], keep="last")
        & frame["disposition"].eq("complete")
    ]["instance_id"]
    assert len(twin) == 1 and any(twin.iloc[0] in w for w in result.warnings)
    safe = result.estimates[(result.estimates["indicator"] == "16.1.4") & (result.estimates["by"] == "overall")]
    assert len(safe) == 1 and 0 < safe["estimate"].iloc[0] < 1 and safe["n"].iloc[0] == len(data)

    v1 = pipeline.run(plan, frame.drop(columns=["prob_block"]))
    assert not v1.sample.probability and v1.sample.note == nonresponse.NON_PROBABILITY
    mixed = frame.assign(prob_block=frame["prob_block"].where(frame.index % 2 == 0))
    both = pipeline.run(plan, mixed)
    assert not both.sample.probability and any("no recorded selection probability" in w for w in both.warnings)


def test_the_load_goes_through_the_openrosa_route_and_reports_progress(loaded, built):
    store, summary, calls = loaded
    assert summary.posted == LOADED + 2 and summary.created == LOADED + 1 and summary.duplicates == 1
    assert calls[-1] == (summary.posted, summary.posted)
    assert [done for done, _ in calls[:-1]] == list(range(1, summary.posted + 1))
    assert all(done <= total for done, total in calls)
    frame = store.submissions_frame(built.form_id)
    assert (frame["source"] == "openrosa").all()  # what the route records
    assert set(frame["volunteer"]) == set(summary.round.volunteers)  # taken from each volunteer's token
    assert {v.name for v in list_volunteers(store)} >= set(summary.round.volunteers)
    assert [a.filename for a in store.attachments(frame["instance_id"].iloc[0])] == ["audit.csv"]


def test_loading_again_adds_nothing(loaded, built):
    store, first, _ = loaded
    before = store.submission_index(built.form_id)
    again = demo.load_demo(store, n=LOADED)
    assert again.created == 0 and again.duplicates == first.posted
    assert store.submission_index(built.form_id)["instance_id"].tolist() == before["instance_id"].tolist()


def test_the_round_is_marked_synthetic(loaded, built):
    store, summary, _ = loaded
    marker = demo.demo_round(store)
    assert marker is not None and marker.size == LOADED and marker.volunteers == summary.round.volunteers
    assert all(name.endswith("(demo)") for name in marker.volunteers)
    assert demo.is_synthetic(store.submissions_frame(built.form_id)).all()


def test_an_outdated_phone_submits_on_an_older_published_version(loaded, built):
    store, summary, _ = loaded
    assert summary.round.outdated_version is not None and summary.round.outdated_version < built.version
    assert store.form_version(built.form_id).version == built.version  # phones are still offered the current one
    versions = store.submissions_frame(built.form_id).groupby("form_version")["volunteer"].nunique()
    assert versions[summary.round.outdated_version] == 1


def test_a_revoked_demo_volunteer_is_refused_by_the_route(tmp_path, monkeypatch):
    """Proof that the load really authenticates over HTTP: `Store.receive` alone would not check tokens."""
    issue = demo._issue_tokens

    def issue_then_revoke(store, names):
        tokens = issue(store, names)
        revoke_volunteer(store, names[0])
        return tokens

    monkeypatch.setattr(demo, "_issue_tokens", issue_then_revoke)
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    with pytest.raises(demo.DemoError, match="Ana Ejemplo \\(demo\\) answered 40[13]"):
        demo.load_demo(store, n=12)
    store.close()


def test_sdg16_demo_command_loads_the_configured_store(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from sdg16.cli import app

    monkeypatch.setenv("SDG16_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SDG16_DATABASE_URL", raising=False)
    result = CliRunner().invoke(app, ["demo", "--size", "30"])
    assert result.exit_code == 0, result.output
    store = Store.open()
    stored = len(store.submissions_frame("sdg16_perception"))
    assert 30 <= stored <= 31  # 30 visits (+ the interview saved twice, when that volunteer's visits include one)
    assert "synthetic" in result.output and f"{stored} new" in result.output
    store.close()


def test_another_round_under_the_same_instance_ids_is_refused_with_an_explanation(tmp_path, monkeypatch):
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    demo.load_demo(store, n=12)
    monkeypatch.setattr(demo, "FIELD_START", demo.FIELD_START.replace(day=9))  # a changed generator, same seed
    with pytest.raises(demo.DemoError, match=r"already stored with other content \(409\)"):
        demo.load_demo(store, n=12)
    store.close()


def test_the_demo_refuses_to_mix_into_real_data(tmp_path, built):
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    submission = next(demo.shipped_round(1))
    publish_built(store, built)
    store.receive(submission.xml, submission.attachments, volunteer="Rosa Real")
    with pytest.raises(demo.DemoError, match=r"already holds real submissions \(1\)"):
        demo.load_demo(store, n=12)
    assert [v.name for v in list_volunteers(store)] == []  # refused before creating anything
    assert demo.demo_round(store) is None and store.get_setting(demo.DEMO_SETTING) is None  # asking left no marker
    store.close()


def test_the_benchmark_ingest_stores_the_same_round_without_http(tmp_path, loaded, built):
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    calls = []
    summary = demo.ingest_demo(store, LOADED, progress=lambda done, total: calls.append((done, total)))
    assert (summary.posted, summary.created, summary.duplicates) == (LOADED + 2, LOADED + 1, 1)
    assert calls[-1] == (summary.posted, summary.posted)
    http_store = loaded[0]
    ingested = store.submission_index(built.form_id)["instance_id"]
    assert sorted(ingested) == sorted(
        http_store.submission_index(built.form_id)["instance_id"]
    )  # same seed, same round
    assert demo.ingest_demo(store, LOADED).created == 0
    store.close()
