"""Reading a compiled XForm and filling it as ODK Collect does (forms/xform.py), on a small form written as
pyxform's tests write theirs. The shipped questionnaire filled at scale is tested in tests/dashboard/test_demo.py."""

import random
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
    assert refused["/data/ok"] == "no" and refused["/data/main/age"] == "" and refused["/data/start"].startswith("2026-11-03T09:00")
    answers = {"ok": "yes", "age": "40", "d": "el_porvenir", "n": "alto_trujillo"}
    filled = fill(small_form, answers, small_metadata(), random.Random(1)).values
    assert filled["/data/main/extra"] != ""  # required, unknown to the model: a generic answer
    assert 50 <= int(filled["/data/main/people"]) < 60  # ... that meets the question's constraint
    root = ElementTree.fromstring(instance_xml(small_form, filled))
    assert root.get("id") == "small" and root.findtext("main/n") == "alto_trujillo" and root.findtext("meta/instanceID") == "uuid:1"


@pytest.mark.parametrize(
    "answers, message",
    [
        ({"ok": "yes", "age": "12", "d": "moche", "n": "moche"}, r"age = '12' breaks its constraint"),
        ({"ok": "yes", "age": "40", "d": "moche", "n": "alto_trujillo"}, r"n: alto_trujillo is not among its choices here \(moche\)"),
        ({"ok": "maybe"}, r"ok: maybe is not among its choices"),
        ({"ok": "yes", "age": None}, r"age is required and relevant"),
    ],
)
def test_fill_refuses_answers_the_form_would_refuse(small_form, answers, message):
    with pytest.raises(XFormError, match=message):
        fill(small_form, answers, small_metadata(), random.Random(1))
