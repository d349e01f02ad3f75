"""Reading a compiled XForm and filling it as ODK Collect does (forms/xform.py), on small forms written as
pyxform's tests write theirs, and the shipped questionnaire filled side by side with javarosa, the engine of ODK
Collect. The shipped questionnaire filled at scale is tested in tests/dashboard/test_demo.py."""

import random
from pathlib import Path
from xml.etree import ElementTree

import pandas as pd
import pytest
from pyxform.xls2xform import convert

from forms.build import DATA_DIR
from forms.xform import Metadata, XFormError, fill, instance_xml, read_xform

SMALL_FORM = """
| survey |
|        | type                                    | name   | label  | relevant          | constraint        | choice_filter      | required |
|        | start                                   | start  |        |                   |                   |                    |          |
|        | select_one yn                           | ok     | OK?    |                   |                   |                    | yes      |
|        | begin group                             | main   |        | ${ok} = 'yes'     |                   |                    |          |
|        | integer                                 | age    | Age    |                   | . >= 18           |                    | yes      |
|        | select_one districts                    | d      | D      |                   |                   |                    | yes      |
|        | select_one_from_file neighbourhoods.csv | n      | N      |                   |                   | district=${d}      | yes      |
|        | text                                    | extra  | Extra  |                   |                   |                    | yes      |
|        | integer                                 | people | People |                   | . >= 50 and . < 60 |                   | yes      |
|        | end group                               |        |        |                   |                   |                    |          |
| choices |
|         | list_name | name        | label       |
|         | yn        | yes         | Yes         |
|         | yn        | no          | No          |
|         | districts | el_porvenir | El Porvenir |
|         | districts | moche       | Moche       |
| settings |
|          | form_id | version    |
|          | small   | 2026010101 |
"""


@pytest.fixture(scope="module")
def small_form():
    xform = convert(xlsform=SMALL_FORM, file_type=".md").xform.encode()
    return read_xform(xform, {"neighbourhoods.csv": (DATA_DIR / "neighbourhoods.csv").read_bytes()})


def small_metadata():
    moment = pd.Timestamp("2026-11-03T09:00:00-05:00").to_pydatetime()
    return Metadata(moment, moment, "collect:X", "someone", "uuid:1")


def test_fill_honours_relevance_and_fills_unknown_required_questions(small_form):
    refused = fill(small_form, {"ok": "no", "age": "40"}, small_metadata(), random.Random(1)).values
    assert refused["/data/ok"] == "no" and refused["/data/start"].startswith("2026-11-03T09:00")
    assert (
        "/data/main" not in refused and "/data/main/age" not in refused
    )  # not relevant: not part of the instance sent
    answers = {"ok": "yes", "age": "40", "d": "el_porvenir", "n": "alto_trujillo"}
    filled = fill(small_form, answers, small_metadata(), random.Random(1)).values
    assert filled["/data/main/extra"] != ""  # required, unknown to the model: a generic answer
    assert 50 <= int(filled["/data/main/people"]) < 60  # ... that meets the question's constraint
    root = ElementTree.fromstring(instance_xml(small_form, filled))
    assert (
        root.get("id") == "small"
        and root.findtext("main/n") == "alto_trujillo"
        and root.findtext("meta/instanceID") == "uuid:1"
    )


SKIP_FORM = """
| survey |
|        | type          | name   | label  | relevant      |
|        | select_one yn | ok     | OK?    |               |
|        | text          | remark | Remark |               |
|        | note          | bye    | Bye    | ${ok} = 'no'  |
|        | integer       | n      | N      | ${ok} = 'yes' |
|        | begin group   | outer  |        | ${ok} = 'yes' |
|        | begin group   | inner  |        |               |
|        | text          | t      | T      |               |
|        | end group     |        |        |               |
|        | end group     |        |        |               |
|        | begin group   | kept   |        |               |
|        | integer       | k      | K      | ${ok} = 'yes' |
|        | end group     |        |        |               |
| choices |
|         | list_name | name | label |
|         | yn        | yes  | Yes   |
|         | yn        | no   | No    |
| settings |
|          | form_id | version    |
|          | skip    | 2026010101 |
"""
ROOT = """<data xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms" id="skip" version="2026010101">"""


@pytest.mark.parametrize(
    "answers, body",
    [
        ({"ok": "no", "remark": None, "n": "3", "t": "x", "k": "4"}, "<ok>no</ok><remark /><bye /><kept></kept>"),
        (
            {"ok": "yes", "remark": "a & b", "n": "3", "t": "x", "k": "4"},
            "<ok>yes</ok><remark>a &amp; b</remark><n>3</n><outer><inner><t>x</t></inner></outer><kept><k>4</k></kept>",
        ),
    ],
)
def test_the_submission_leaves_out_non_relevant_fields_and_groups_as_collect_does(answers, body):
    """Relevant fields are written as before, empty ones as empty elements; a non-relevant field or group (with
    everything inside it) is not written at all, whatever the answers say (ODK Collect issue #266)."""
    form = read_xform(convert(xlsform=SKIP_FORM, file_type=".md").xform.encode())
    xml = instance_xml(form, fill(form, answers, small_metadata(), random.Random(1)).values)
    assert xml == f"<?xml version='1.0' ?>{ROOT}{body}<meta><instanceID>uuid:1</instanceID></meta></data>".encode()


@pytest.mark.parametrize(
    "answers, message",
    [
        ({"ok": "yes", "age": "12", "d": "moche", "n": "moche"}, r"age = '12' breaks its constraint"),
        (
            {"ok": "yes", "age": "40", "d": "moche", "n": "alto_trujillo"},
            r"n: alto_trujillo is not among its choices here \(moche\)",
        ),
        ({"ok": "maybe"}, r"ok: maybe is not among its choices"),
        ({"ok": "yes", "age": None}, r"age is required and relevant"),
    ],
)
def test_fill_refuses_answers_the_form_would_refuse(small_form, answers, message):
    with pytest.raises(XFormError, match=message):
        fill(small_form, answers, small_metadata(), random.Random(1))


# A form as the collection server sees it: a group, a select_multiple, a photo, device metadata, a note (shared
# with tests/collect, whose server reads its fields through forms.xform).
TINY_FORM = (
    (Path(__file__).parent / "tiny_form.md").read_text(encoding="utf-8").format(version="2026112801", extra_rows="")
)


@pytest.fixture(scope="module")
def tiny_fields():
    form = read_xform(convert(xlsform=TINY_FORM, file_type=".md").xform.encode())
    return {field.name: field for field in form.fields()}


def test_fields_with_groups_types_choices_and_notes(tiny_fields):
    fields = tiny_fields
    assert list(fields) == ["deviceid", "psu", "age", "main_problems", "photo", "thanks"]
    assert fields["psu"].groups == ("household",) and fields["age"].type == "int"
    assert fields["main_problems"].multiple and fields["main_problems"].choices == {"robbery", "gangs"}
    assert fields["thanks"].note and not fields["deviceid"].note and not fields["psu"].note
    assert fields["main_problems"].spellings() == [
        "household/main_problems",
        "household-main_problems",
        "main_problems",
    ]


def test_values_the_form_could_not_have_produced(tiny_fields):
    fields = tiny_fields
    assert fields["age"].problem("34") is None and "whole number" in fields["age"].problem("3.5")
    assert fields["main_problems"].problem("gangs robbery") is None
    assert "'fires'" in fields["main_problems"].problem("gangs fires")
    assert fields["psu"].problem("anything") is None


VALUE_REF_FORM = """
| survey |
|        | type                          | name  | label | parameters                 | choice_filter |
|        | select_one_from_file areas.csv | area  | Area  | value=code, label=title    |               |
|        | select_one yn                 | ok    | OK?   | randomize=true, seed=${n}  | name != 'x'   |
|        | integer                       | n     | N     |                            |               |
| choices |
|         | list_name | name | label |
|         | yn        | yes  | Yes   |
|         | yn        | no   | No    |
"""
AREAS_CSV = b"name,code,title\nignored_a,A1,Area one\nignored_b,B2,Area two\n"


def test_choices_come_from_the_itemset_value_column_and_randomized_lists_are_read():
    xform = convert(xlsform=VALUE_REF_FORM, file_type=".md").xform.encode()
    form = read_xform(xform, {"areas.csv": AREAS_CSV})
    area, ok = (node for node in form.nodes if node.name in ("area", "ok"))
    assert form.allowed(area, {}) == ["A1", "B2"] and form.allowed(ok, {}) == ["yes", "no"]
    fields = {field.name: field for field in form.fields()}
    assert fields["area"].choices == {"A1", "B2"} and "'ignored_a'" in fields["area"].problem("ignored_a")
    assert fields["ok"].choices == {"yes", "no"}


def test_without_media_a_file_list_is_unknown_and_filling_it_says_so():
    form = read_xform(convert(xlsform=VALUE_REF_FORM, file_type=".md").xform.encode())
    fields = {field.name: field for field in form.fields()}
    assert fields["area"].choices is None and fields["area"].problem("anything") is None
    with pytest.raises(XFormError, match="choices of area .* were not read"):
        fill(form, {"area": "A1", "ok": "yes", "n": "1"}, small_metadata(), random.Random(1))
    with pytest.raises(XFormError, match="choices of /data/area .* is its media file missing"):
        read_xform(convert(xlsform=VALUE_REF_FORM, file_type=".md").xform.encode(), {})


def test_a_media_list_without_the_value_column_is_refused():
    xform = convert(xlsform=VALUE_REF_FORM, file_type=".md").xform.encode()
    with pytest.raises(XFormError, match="column 'code' that the list 'areas' does not have"):
        read_xform(xform, {"areas.csv": b"name,title\nA1,Area one\n"})


@pytest.mark.parametrize("xml, message", [(b"<h:html", "cannot be parsed"), (b"<data id='x'/>", "no primary instance")])
def test_what_is_not_an_xform_is_named(xml, message):
    with pytest.raises(XFormError, match=message):
        read_xform(xml)


# --- the shipped questionnaire filled here and in javarosa, with the same answers ------------------------------

PLACE = {
    "district": "la_esperanza",
    "neighbourhood": "wichanzao",
    "block": "WIC-0004",
    "dwelling_number": "6",
    "visit_number": "1",
}
ADULT = {
    **PLACE,
    "contact_result": "contact",
    "eligible_adults": "2",
    "selected_available": "yes",
    "age": "30",
    "consent": "yes",
    "privacy_check": "alone",
}
# Named answers; every other relevant question gets a generic answer from `fill`, which javarosa is then given too.
ANSWER_SETS = {
    "nobody home": {**PLACE, "contact_result": "noncontact"},
    "no consent": {
        **PLACE,
        "contact_result": "contact",
        "eligible_adults": "1",
        "selected_available": "yes",
        "age": "44",
        "consent": "no",
    },
    "selected person away": {**PLACE, "contact_result": "contact", "eligible_adults": "3", "selected_available": "no"},
    "victim, contact with officials": {
        **ADULT,
        "assault_hit_12m": "yes",
        "robbery_force_12m": "yes",
        "sexual_touching_12m": "refused",
        "reported_physical": "yes",
        "reported_to_physical": "police serenazgo",
        "reported_robbery": "no",
        "feels_safe_after_dark": "never_alone_after_dark",
        "contact_police_12m": "yes",
        "bribe_asked_12m": "no",
        "dispute_types_2y": "neighbours family",
        "dispute_mechanisms_self": "none",
        "used_health_12m": "yes",
        "nationality": "venezuelan",
    },
    "privacy not possible, no contact": {
        **ADULT,
        "privacy_check": "others_present",
        "feels_safe_after_dark": "safe",
        **{
            f"contact_{k}_12m": "no"
            for k in ["police", "justice", "municipality", "registry", "health", "education", "tax", "other"]
        },
        "discrimination_5y": "yes",
        "discrimination_12m": "yes",
        "dispute_types_2y": "none",
        "knows_linea100": "yes",
        "knows_cem": "no",
    },
}
# What the phone fills itself (times, device, identity) and what is computed from the interview date (javarosa's
# today is the day the test runs).
PHONE_FILLED = {
    "start",
    "end",
    "today",
    "deviceid",
    "username",
    "instanceID",
    "instanceName",
    "audit",
    "ref_month_num",
    "ref_month_es",
    "ref_month_en",
    "ref_year_1",
    "ref_year_2",
    "ref_year_5",
}


@pytest.fixture(scope="module")
def side_by_side(built, javarosa):
    """Each answer set filled by `fill` and, with the values `fill` chose, by javarosa: (form, ours, javarosa's)."""
    form = read_xform(built.xform_bytes, {media.path.name: media.path.read_bytes() for media in built.media})
    ours = {
        name: fill(form, answers, small_metadata(), random.Random(seed))
        for seed, (name, answers) in enumerate(ANSWER_SETS.items())
    }
    given = {
        name: [(node.name, filled.values[node.path]) for node in filled.shown if filled.values[node.path]]
        for name, filled in ours.items()
    }
    return form, ours, javarosa(given)


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_fill_asks_what_javarosa_asks(side_by_side, name):
    _, ours, theirs = side_by_side
    assert [node.name for node in ours[name].shown] == theirs[name].asked
    assert theirs[name].finalized and {
        verdict for answers in theirs[name].verdicts.values() for _, verdict in answers
    } == {"OK"}


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_selects_offer_the_choices_javarosa_offers(side_by_side, name):
    form, ours, theirs = side_by_side
    offered = {node.name: form.allowed(node, ours[name].values) for node in ours[name].shown if node.select}
    assert offered == theirs[name].choices


def elements(xml: bytes | str) -> dict[str, str]:
    """Every element of an instance by path, with its text (a group's: empty)."""
    found = {}

    def walk(element, path):
        found[path] = "" if len(element) else element.text or ""
        for child in element:
            walk(child, f"{path}/{child.tag}")

    root = ElementTree.fromstring(xml)
    walk(root, "/" + root.tag)
    return found


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_the_submission_holds_what_javarosa_saves(side_by_side, name):
    """The same elements as javarosa's submission — non-relevant fields and groups left out by both — with the
    same values but for what the phone fills itself (times, device, instanceID)."""
    form, ours, theirs = side_by_side
    sent, saved = elements(instance_xml(form, ours[name].values)), elements(theirs[name].instance)
    assert sent.keys() == saved.keys()
    assert len(sent) < len(form.nodes)  # every answer set skips questions
    answers = {path: value for path, value in sent.items() if path.rsplit("/", 1)[-1] not in PHONE_FILLED}
    assert answers == {path: saved[path] for path in answers}
