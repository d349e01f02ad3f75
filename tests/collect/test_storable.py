"""Values one database would refuse (PostgreSQL: NUL characters, more than 255 characters in a String(255) column)
are a 400 before anything is written, the same on SQLite and PostgreSQL; a lookup of such a name is a 404."""

import pytest
from collect_samples import tiny_submission
from test_openrosa import base, message, post, stored
from test_store import record

from collect.errors import ImportRowError

LONG = "x" * 256


def refused(client, store, volunteer, response, *words: str) -> None:
    assert response.status_code == 400, response.text
    assert all(word in message(response) for word in words), message(response)
    assert stored(store) == 0
    assert post(client, base(volunteer), tiny_submission("uuid:after")).status_code == 201


def test_an_instance_id_over_255_characters(client, store, volunteer):
    refused(
        client,
        store,
        volunteer,
        post(client, base(volunteer), tiny_submission("uuid:" + LONG)),
        "meta/instanceID",
        "more than 255",
    )


def test_a_deprecated_id_over_255_characters(client, store, volunteer):
    refused(
        client,
        store,
        volunteer,
        post(client, base(volunteer), tiny_submission(deprecated_id="uuid:" + LONG)),
        "meta/deprecatedID",
    )


@pytest.mark.parametrize("device", ["collect:\x00phone", "collect:" + LONG])
def test_a_device_id_with_nul_or_too_long(client, store, volunteer, device):
    refused(
        client,
        store,
        volunteer,
        post(client, base(volunteer), tiny_submission(), params={"deviceID": device}),
        "deviceID",
    )


def raw_multipart(xml: bytes, filename: bytes) -> tuple[bytes, dict[str, str]]:
    """A multipart body written by hand: HTTP clients percent-escape a NUL in a file name, a hostile one need not."""
    body = (
        b'--b\r\nContent-Disposition: form-data; name="xml_submission_file"; filename="s.xml"\r\nContent-Type: text/xml\r\n\r\n'
        + xml
        + b'\r\n--b\r\nContent-Disposition: form-data; name="'
        + filename
        + b'"; filename="'
        + filename
        + b'"\r\nContent-Type: image/jpeg\r\n\r\njpeg\r\n--b--\r\n'
    )
    return body, {"content-type": "multipart/form-data; boundary=b"}


@pytest.mark.parametrize("filename", [b"photo\x00.jpg", LONG.encode() + b".jpg"], ids=["nul", "long"])
def test_an_attachment_name_with_nul_or_too_long(client, store, volunteer, filename):
    body, headers = raw_multipart(tiny_submission(), filename)
    response = client.post(f"{base(volunteer)}/submission", content=body, headers=headers)
    refused(client, store, volunteer, response, "attachment file name")


def test_looking_up_names_with_nul_is_404(client, store, volunteer):
    assert client.get(f"{base(volunteer)}/forms/ti%00ny.xml").status_code == 404
    assert client.get(f"{base(volunteer)}/forms/tiny/manifest").status_code == 200
    assert client.get(f"{base(volunteer)}/forms/tiny/attachments/n%00.csv").status_code == 404
    assert client.get(f"{base(volunteer)}/forms/ti%00ny/attachments/n.csv").status_code == 404


def test_an_import_row_over_the_limits_names_its_row_and_keeps_nothing(store):
    with pytest.raises(ImportRowError, match="row 3: instance_id tiene 261 caracteres.*has 261 characters"):
        store.import_records([record("uuid:fine", 2), record("uuid:" + LONG, 3)])
    with pytest.raises(ImportRowError, match="row 2: volunteer contiene un carácter NUL"):
        store.import_records([record("uuid:fine", 2, volunteer="Ana\x00")])
    assert store.submission_index().empty
