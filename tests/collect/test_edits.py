"""Edits (meta/deprecatedID) replace a submission only when its own volunteer sends them, for the same form."""

import xml.etree.ElementTree as ET

import pytest
from collect_samples import tiny_submission, tiny_xform
from test_openrosa import base, message, post, stored
from test_store import record

from collect.errors import Forbidden
from collect.volunteers import add_volunteer


@pytest.fixture
def intruder(store):
    return add_volunteer(store, "Intruso", project="trujillo")


def current(store) -> list[str]:
    return store.submissions_frame("tiny")["instance_id"].tolist()


def test_another_volunteers_edit_is_403_and_changes_nothing(client, store, volunteer, intruder):
    assert post(client, base(volunteer), tiny_submission("uuid:ana")).status_code == 201
    response = post(client, base(intruder), tiny_submission("uuid:evil", psu="X", deprecated_id="uuid:ana"))
    assert response.status_code == 403 and response.headers["x-openrosa-version"] == "1.0"
    assert "uuid:ana" in message(response) and "no se guardó nada" in message(response)
    ET.fromstring(response.content)  # an OpenRosaResponse Collect can show
    assert current(store) == ["uuid:ana"] and stored(store) == 1
    assert (
        post(client, base(volunteer), tiny_submission("uuid:ana2", psu="B2", deprecated_id="uuid:ana")).status_code
        == 201
    )
    assert current(store) == ["uuid:ana2"]


def test_an_edit_from_another_form_is_403(client, store, volunteer):
    store.publish_form(tiny_xform().replace(b'id="tiny"', b'id="other"'))
    assert post(client, base(volunteer), tiny_submission("uuid:ana")).status_code == 201
    other_form = tiny_submission("uuid:o1", deprecated_id="uuid:ana").replace(b'id="tiny"', b'id="other"')
    assert post(client, base(volunteer), other_form).status_code == 403
    assert current(store) == ["uuid:ana"] and stored(store) == 1


def test_an_edit_naming_a_submission_still_to_come_cannot_hide_it(client, store, volunteer, intruder):
    assert post(client, base(intruder), tiny_submission("uuid:evil", deprecated_id="uuid:ana")).status_code == 201
    assert post(client, base(volunteer), tiny_submission("uuid:ana")).status_code == 201
    assert sorted(current(store)) == ["uuid:ana", "uuid:evil"]
    # The real edit, when it comes, still replaces the original.
    assert post(client, base(volunteer), tiny_submission("uuid:ana2", deprecated_id="uuid:ana")).status_code == 201
    assert sorted(current(store)) == ["uuid:ana2", "uuid:evil"]


def test_own_edit_arriving_first_still_wins(client, store, volunteer):
    assert post(client, base(volunteer), tiny_submission("uuid:v2", deprecated_id="uuid:v1")).status_code == 201
    assert post(client, base(volunteer), tiny_submission("uuid:v1")).status_code == 201
    assert current(store) == ["uuid:v2"]


def test_a_coordinator_import_may_edit_any_submission_of_the_form(store):
    store.receive(tiny_submission("uuid:ana"), volunteer="Ana Torres")
    store.import_records([record("uuid:fixed", 2, deprecated_id="uuid:ana")])
    assert current(store) == ["uuid:fixed"]
    with pytest.raises(Forbidden):
        store.receive(tiny_submission("uuid:x", deprecated_id="uuid:fixed"), volunteer="Intruso")
