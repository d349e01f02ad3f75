import pytest
from collect_samples import tiny_submission

from collect.errors import InvalidSubmission
from collect.submission import parse_submission


def test_identity_and_flat_fields_by_bare_name():
    parsed = parse_submission(tiny_submission("uuid:abc", deprecated_id="uuid:old"))
    assert (parsed.instance_id, parsed.deprecated_id, parsed.form_id, parsed.form_version) == (
        "uuid:abc",
        "uuid:old",
        "tiny",
        "2026112801",
    )
    assert parsed.fields == {
        "deviceid": "collect:abc123",
        "psu": "B12",
        "age": "34",
        "main_problems": "robbery gangs",
        "photo": "1700000000.jpg",
    }
    assert parsed.device_id == "collect:abc123"


def test_namespaced_meta_and_empty_leaves():
    xml = b'<d xmlns:orx="http://openrosa.org/xforms" id="f" version="1"><a/><b>x</b><orx:meta><orx:instanceID>uuid:9</orx:instanceID></orx:meta></d>'
    parsed = parse_submission(xml)
    assert parsed.instance_id == "uuid:9"
    assert parsed.fields == {"b": "x"}


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (b"<data id='tiny'><meta><instanceID>uuid:1</instanceID></meta>", "not well-formed"),
        (b"<!DOCTYPE data><data id='tiny'><meta><instanceID>uuid:1</instanceID></meta></data>", "DOCTYPE"),
        (
            b'<!DOCTYPE data [<!ENTITY e SYSTEM "file:///etc/passwd">]><data id="tiny"><x>&e;</x><meta><instanceID>uuid:1</instanceID></meta></data>',
            "DOCTYPE",
        ),
        (
            b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
            b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><data id="tiny"><x>&lol3;</x></data>',
            "DOCTYPE",
        ),
        (
            "<data id='tiny'><x>caf\u00e9</x><meta><instanceID>uuid:1</instanceID></meta></data>".encode("latin-1"),
            "not UTF-8",
        ),
        (b"<data id='tiny'><x>1</x></data>", "no meta/instanceID"),
        (b"<data id='tiny'><meta><instanceID></instanceID></meta></data>", "no meta/instanceID"),
        (b"<data><meta><instanceID>uuid:1</instanceID></meta></data>", "no id attribute"),
    ],
    ids=[
        "malformed",
        "doctype",
        "external-entity",
        "billion-laughs",
        "latin-1",
        "no-instance-id",
        "empty-instance-id",
        "no-form-id",
    ],
)
def test_bad_xml_is_refused_with_its_reason(xml, message):
    with pytest.raises(InvalidSubmission, match=message):
        parse_submission(xml)
