import hashlib
import logging
import re
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import sqlalchemy as sa
from collect_samples import tiny_submission, tiny_xform
from starlette.applications import Starlette
from starlette.testclient import TestClient

from collect import openrosa, tables
from collect.volunteers import add_volunteer, revoke_volunteer

XFORMS_LIST = "{http://openrosa.org/xforms/xformsList}"
MANIFEST = "{http://openrosa.org/xforms/xformsManifest}"
RESPONSE = "{http://openrosa.org/http/openrosa-response}"


def base(volunteer) -> str:
    return f"/v1/key/{volunteer.token}/projects/{volunteer.volunteer.project}"


def post(client, url: str, xml: bytes, *attachments: tuple[str, bytes], incomplete: bool = False, **kwargs):
    files = [("xml_submission_file", ("submission.xml", xml, "text/xml"))] + [
        (name, (name, content, "image/jpeg")) for name, content in attachments
    ]
    data = {"*isIncomplete*": "yes"} if incomplete else None
    return client.post(f"{url}/submission", files=files, data=data, **kwargs)


def stored(store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(tables.submissions)).scalar_one()


def message(response) -> str:
    return ET.fromstring(response.content).findtext(f"{RESPONSE}message")


def test_form_list_download_manifest_and_media(client, store, volunteer):
    store.publish_form(tiny_xform("2026112802"), media={"neighbourhoods.csv": b"name,label\nn2,Two\n"})
    response = client.get(f"{base(volunteer)}/formList")
    assert response.status_code == 200
    assert response.headers["x-openrosa-version"] == "1.0" and response.headers["content-type"].startswith("text/xml")
    (xform,) = ET.fromstring(response.content).findall(f"{XFORMS_LIST}xform")
    assert xform.findtext(f"{XFORMS_LIST}formID") == "tiny" and xform.findtext(f"{XFORMS_LIST}version") == "2026112802"
    assert xform.findtext(f"{XFORMS_LIST}name") == "Tiny form"
    download = client.get(xform.findtext(f"{XFORMS_LIST}downloadUrl"))
    assert download.content == tiny_xform("2026112802")
    assert xform.findtext(f"{XFORMS_LIST}hash") == "md5:" + hashlib.md5(download.content).hexdigest()
    manifest = client.get(xform.findtext(f"{XFORMS_LIST}manifestUrl"))
    (media,) = ET.fromstring(manifest.content).findall(f"{MANIFEST}mediaFile")
    assert media.findtext(f"{MANIFEST}filename") == "neighbourhoods.csv"
    content = client.get(media.findtext(f"{MANIFEST}downloadUrl")).content
    assert (
        content == b"name,label\nn2,Two\n"
        and media.findtext(f"{MANIFEST}hash") == "md5:" + hashlib.md5(content).hexdigest()
    )


def test_form_list_filter_and_forms_without_media(client, store, volunteer):
    other = tiny_xform().replace(b'id="tiny"', b'id="other"')
    store.publish_form(other)
    listed = ET.fromstring(client.get(f"{base(volunteer)}/formList", params={"formID": "other"}).content)
    (xform,) = listed.findall(f"{XFORMS_LIST}xform")
    assert xform.findtext(f"{XFORMS_LIST}formID") == "other" and xform.find(f"{XFORMS_LIST}manifestUrl") is None


def test_head_submission_is_204_with_accepted_length(client, volunteer):
    response = client.head(f"{base(volunteer)}/submission")
    assert response.status_code == 204
    assert response.headers["x-openrosa-accept-content-length"] == str(openrosa.ACCEPT_CONTENT_LENGTH)
    assert response.headers["x-openrosa-version"] == "1.0"


def test_submission_is_201_with_openrosa_response_and_volunteer_recorded(client, store, volunteer):
    response = post(
        client, base(volunteer), tiny_submission(), ("1700000000.jpg", b"jpeg"), params={"deviceID": "collect:phone7"}
    )
    assert response.status_code == 201 and response.headers["x-openrosa-version"] == "1.0"
    assert message(response) == "Form received."
    assert store.submissions_frame("tiny")[["volunteer", "device_id"]].values.tolist() == [
        ["Ana Torres", "collect:phone7"]
    ]
    assert [a.content for a in store.attachments("uuid:0001")] == [b"jpeg"]


def test_resend_identical_is_201_without_duplicate_and_different_is_409(client, store, volunteer):
    assert post(client, base(volunteer), tiny_submission()).status_code == 201
    assert post(client, base(volunteer), tiny_submission()).status_code == 201
    conflict = post(client, base(volunteer), tiny_submission(psu="B77"))
    assert conflict.status_code == 409 and "uuid:0001" in message(conflict)
    assert stored(store) == 1 and store.submission_xml("uuid:0001") == tiny_submission()


def test_deprecated_id_supersedes(client, store, volunteer):
    post(client, base(volunteer), tiny_submission("uuid:v1"))
    assert (
        post(client, base(volunteer), tiny_submission("uuid:v2", psu="B2", deprecated_id="uuid:v1")).status_code == 201
    )
    assert store.submissions_frame("tiny")["instance_id"].tolist() == ["uuid:v2"]
    assert stored(store) == 2


def test_split_upload_assembles_into_one_submission(client, store, volunteer):
    assert post(client, base(volunteer), tiny_submission(), ("a.jpg", b"a"), incomplete=True).status_code == 201
    assert post(client, base(volunteer), tiny_submission(), ("b.jpg", b"b")).status_code == 201
    assert stored(store) == 1
    assert [a.filename for a in store.attachments("uuid:0001")] == ["a.jpg", "b.jpg"]
    assert store.submission_index()["complete"].tolist() == [True]


BAD_SUBMISSIONS = {
    "malformed": (b"<data id='tiny'><meta><instanceID>uuid:x</instanceID></meta>", 400, "not well-formed"),
    "doctype": (
        b"<!DOCTYPE data><data id='tiny' version='2026112801'><meta><instanceID>uuid:x</instanceID></meta></data>",
        400,
        "DOCTYPE",
    ),
    "external-entity": (
        b'<!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]><data id="tiny" version="2026112801"><psu>&e;</psu><meta><instanceID>uuid:x</instanceID></meta></data>',
        400,
        "DOCTYPE",
    ),
    "billion-laughs": (
        b'<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        b'<data id="tiny" version="2026112801"><psu>&c;</psu><meta><instanceID>uuid:x</instanceID></meta></data>',
        400,
        "DOCTYPE",
    ),
    "non-utf8": (tiny_submission("uuid:x", psu="Jos\u00e9").decode().encode("latin-1"), 400, "not UTF-8"),
    "no-instance-id": (tiny_submission("").replace(b"<instanceID></instanceID>", b""), 400, "no meta/instanceID"),
    "unknown-form": (
        tiny_submission("uuid:x").replace(b'id="tiny"', b'id="ghost"'),
        404,
        "form 'ghost' is not published",
    ),
    "unknown-version": (tiny_submission("uuid:x", version="1999010101"), 404, "no version '1999010101'"),
}


@pytest.mark.parametrize("case", BAD_SUBMISSIONS)
def test_bad_submission_is_refused_nothing_stored_server_keeps_serving(client, store, volunteer, case):
    xml, status, text = BAD_SUBMISSIONS[case]
    response = post(client, base(volunteer), xml)
    assert response.status_code == status and text in message(response)
    assert response.headers["x-openrosa-version"] == "1.0"
    assert stored(store) == 0
    assert post(client, base(volunteer), tiny_submission()).status_code == 201


def test_missing_xml_part_and_non_multipart_are_400(client, store, volunteer):
    response = client.post(f"{base(volunteer)}/submission", files={"photo.jpg": ("photo.jpg", b"x", "image/jpeg")})
    assert response.status_code == 400 and "no xml_submission_file" in message(response)
    response = client.post(
        f"{base(volunteer)}/submission", content=tiny_submission(), headers={"content-type": "text/xml"}
    )
    assert response.status_code == 400 and "multipart/form-data" in message(response)
    assert stored(store) == 0


def test_body_over_the_advertised_limit_is_413(client, store, volunteer, monkeypatch):
    monkeypatch.setattr(openrosa, "ACCEPT_CONTENT_LENGTH", 2000)
    assert client.head(f"{base(volunteer)}/submission").headers["x-openrosa-accept-content-length"] == "2000"
    declared = post(client, base(volunteer), tiny_submission(), ("big.jpg", b"x" * 3000))
    assert declared.status_code == 413 and "at most 2000 bytes" in message(declared)

    def chunks():  # no Content-Length: the limit is enforced while reading
        yield b'--b\r\nContent-Disposition: form-data; name="xml_submission_file"; filename="s.xml"\r\n\r\n'
        yield from [b"x" * 500] * 6

    streamed = client.post(
        f"{base(volunteer)}/submission", content=chunks(), headers={"content-type": "multipart/form-data; boundary=b"}
    )
    assert streamed.status_code == 413
    assert stored(store) == 0
    assert post(client, base(volunteer), tiny_submission()).status_code == 201


def test_unknown_revoked_and_other_project_tokens_are_403_and_store_nothing(client, store, volunteer):
    other = add_volunteer(store, "Luis", project="lima")
    unknown = post(client, "/v1/key/not-a-token/projects/trujillo", tiny_submission())
    assert unknown.status_code == 403
    wrong_project = post(client, f"/v1/key/{other.token}/projects/trujillo", tiny_submission())
    assert wrong_project.status_code == 403 and "project 'lima'" in message(wrong_project)
    revoke_volunteer(store, "Ana Torres")
    revoked = post(client, base(volunteer), tiny_submission())
    assert revoked.status_code == 403 and "revoked" in message(revoked)
    assert client.get(f"{base(volunteer)}/formList").status_code == 403
    assert stored(store) == 0


def test_digest_authentication(client, store, volunteer):
    url = "/projects/trujillo"
    challenge = client.head(f"{url}/submission")
    assert challenge.status_code == 401 and challenge.headers["x-openrosa-version"] == "1.0"
    assert re.match(
        r'Digest realm="sdg16", qop="auth", algorithm=MD5, nonce="[^"]+"', challenge.headers["www-authenticate"]
    )
    auth = httpx.DigestAuth("Ana Torres", volunteer.token)
    assert client.head(f"{url}/submission", auth=auth).status_code == 204
    assert post(client, url, tiny_submission(), auth=auth).status_code == 201
    assert store.submissions_frame("tiny")["volunteer"].tolist() == ["Ana Torres"]
    forms = client.get(f"{url}/formList", auth=auth)
    assert (
        ET.fromstring(forms.content)
        .findtext(f"{XFORMS_LIST}xform/{XFORMS_LIST}downloadUrl")
        .endswith("/projects/trujillo/forms/tiny.xml")
    )
    assert post(client, url, tiny_submission("uuid:2"), auth=httpx.DigestAuth("Ana Torres", "wrong")).status_code == 401
    assert client.get("/projects/lima/formList", auth=auth).status_code == 403
    assert stored(store) == 1


def test_digest_stale_nonce_asks_to_retry_without_new_credentials(client, store, volunteer):
    digest = openrosa.DigestAuth(store)
    old = digest.nonce(issued=1)
    assert digest.nonce_state(old) == "stale" and digest.nonce_state("1-forged") == "invalid"
    header = f'Digest username="Ana Torres", realm="sdg16", nonce="{old}", uri="/projects/trujillo/formList", response="0", qop=auth, nc=00000001, cnonce="c"'
    response = client.get("/projects/trujillo/formList", headers={"authorization": header})
    assert response.status_code == 401 and "stale=true" in response.headers["www-authenticate"]


def test_unknown_path_is_404_with_openrosa_header(client, volunteer):
    response = client.get(f"{base(volunteer)}/forms/ghost.xml")
    assert response.status_code == 404 and response.headers["x-openrosa-version"] == "1.0"
    assert "'ghost'" in message(response)


def test_real_server_sends_date_once_and_stores_100_concurrent_resends_once(live_server, store, volunteer):
    url = live_server + base(volunteer)
    with httpx.Client() as http:
        head = http.head(f"{url}/submission")
    assert head.status_code == 204 and len(head.headers.get_list("date")) == 1

    def send(_):
        with httpx.Client(timeout=60) as http:
            return post(http, url, tiny_submission(), ("a.jpg", b"jpeg")).status_code

    with ThreadPoolExecutor(max_workers=100) as pool:
        statuses = list(pool.map(send, range(100)))
    assert statuses == [201] * 100
    assert stored(store) == 1 and len(store.attachments("uuid:0001")) == 1
    with httpx.Client() as http:
        assert http.get(f"{url}/formList").status_code == 200


def test_unexpected_error_is_a_500_openrosa_message_and_one_log_line(store, volunteer, monkeypatch, caplog):
    def broken():
        raise OSError("database or disk is full")

    monkeypatch.setattr(store, "latest_forms", broken)
    client = TestClient(Starlette(routes=openrosa.routes(store)), raise_server_exceptions=True)
    with caplog.at_level(logging.INFO, logger="sdg16.openrosa"):
        response = client.get(f"{base(volunteer)}/formList")
    assert response.status_code == 500 and response.headers["x-openrosa-version"] == "1.0"
    assert message(response).startswith("Error del servidor") and "Server error" in message(response)
    (record,) = caplog.records
    assert not record.exc_info and "OSError: database or disk is full" in record.getMessage()
    assert volunteer.token not in record.getMessage()


def test_unexpected_error_logs_the_traceback_when_debugging(store, volunteer, monkeypatch, caplog):
    monkeypatch.setattr(store, "latest_forms", lambda: 1 / 0)
    monkeypatch.setenv("SDG16_DEBUG", "1")
    with caplog.at_level(logging.INFO, logger="sdg16.openrosa"):
        response = TestClient(Starlette(routes=openrosa.routes(store))).get(f"{base(volunteer)}/formList")
    assert response.status_code == 500
    (record,) = caplog.records
    assert record.exc_info and record.exc_info[0] is ZeroDivisionError
