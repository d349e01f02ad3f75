"""Submissions are checked against the form version they name, while they are read: what the form does not define,
nests deeper than it, repeats what it has once, or passes MAX_ELEMENTS is a 400 that names it; nothing is stored."""

import tracemalloc

import pytest
from collect_samples import tiny_submission, tiny_xform
from test_openrosa import base, message, post, stored

from collect import submission

REPEAT_ROWS = "| | begin repeat | members | Members |\n| | text | member | Member |\n| | end repeat | | |\n"


def nested(levels: int) -> bytes:
    """The tiny submission with `levels` elements nested inside its `psu` answer."""
    return tiny_submission().replace(b"<psu>B12</psu>", b"<psu>" + b"<x>" * levels + b"</x>" * levels + b"</psu>")


def refused(client, store, volunteer, xml: bytes, *words: str) -> None:
    response = post(client, base(volunteer), xml)
    assert response.status_code == 400 and response.headers["x-openrosa-version"] == "1.0", response.text
    assert all(word in message(response) for word in words), message(response)
    assert stored(store) == 0
    assert post(client, base(volunteer), tiny_submission("uuid:after")).status_code == 201  # the server goes on


def test_an_element_the_form_does_not_define(client, store, volunteer):
    refused(
        client,
        store,
        volunteer,
        tiny_submission(extra="<salary>9000</salary>"),
        "salary",
        "does not define",
        "no define",
    )


def test_an_element_of_a_newer_version_under_an_older_one(client, store, volunteer):
    store.publish_form(tiny_xform("2026112802", extra_rows="| | text | district | District |\n"))
    assert (
        post(
            client, base(volunteer), tiny_submission("uuid:new", version="2026112802", extra="<district>x</district>")
        ).status_code
        == 201
    )
    response = post(client, base(volunteer), tiny_submission("uuid:old", extra="<district>x</district>"))
    assert response.status_code == 400 and "'2026112801'" in message(response)


def test_a_field_given_twice_outside_a_repeat(client, store, volunteer):
    refused(client, store, volunteer, tiny_submission(extra="<photo>2.jpg</photo>"), "photo", "more than once")


def test_nesting_deeper_than_the_form(client, store, volunteer):
    refused(client, store, volunteer, nested(1), "deeper", "household/psu/x")


@pytest.mark.parametrize("levels", [1_000, 100_000])
def test_thousands_of_levels_are_a_400_not_a_500(client, store, volunteer, levels):
    refused(client, store, volunteer, nested(levels), "deeper")


def test_a_wrong_root_element(client, store, volunteer):
    refused(
        client,
        store,
        volunteer,
        tiny_submission().replace(b"<data ", b"<other ").replace(b"</data>", b"</other>"),
        "'other'",
    )


def test_repeats_may_repeat_up_to_the_element_limit(client, store, volunteer):
    store.publish_form(tiny_xform("2026112803", extra_rows=REPEAT_ROWS))
    rows = "".join(f"<members><member>m{i}</member></members>" for i in range(3))
    assert post(client, base(volunteer), tiny_submission("uuid:r", version="2026112803", extra=rows)).status_code == 201
    many = "<members><member>m</member></members>" * (submission.MAX_ELEMENTS // 2)
    response = post(client, base(volunteer), tiny_submission("uuid:many", version="2026112803", extra=many))
    assert response.status_code == 400 and f"more than {submission.MAX_ELEMENTS} elements" in message(response)
    assert stored(store) == 1


def test_100000_invented_elements_are_refused_without_costing_memory(client, store, volunteer):
    """The red team's 1.8 MB body with 100,000 distinct element names: refused while being read, so the request's
    peak memory stays a small multiple of the body, and nothing reaches the analysis frame."""
    extra = "".join(f"<q{i:06d}>x</q{i:06d}>" for i in range(100_000))
    xml = tiny_submission(extra=extra)
    assert len(xml) > 1_800_000
    columns = store.submissions_frame("tiny").shape[1]
    tracemalloc.start()
    try:
        response = post(client, base(volunteer), xml)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert response.status_code == 400 and "q000000" in message(response)
    assert peak < 8 * len(xml), f"{peak / 1e6:.1f} MB for a {len(xml) / 1e6:.1f} MB body"
    assert stored(store) == 0 and store.submissions_frame("tiny").shape[1] == columns
