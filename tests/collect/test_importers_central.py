"""ODK Central through the real `pyodk` client against a loopback server answering in Central's shapes (see
platform_servers.py for the sources): `POST /v1/sessions` → token, the OData `Submissions` table (`value`,
`@odata.count`, groups nested, `__system` metadata, geopoints as GeoJSON), edits keyed by `__id`, review states,
attachments."""

import pytest
from collect_samples import tiny_xform
from platform_servers import Central, serve
from pyodk._utils.config import CentralConfig, Config
from pyodk.client import Client

from collect.errors import ImportRowError
from collect.importers.central import import_central

GEO_VERSION = "2026120101"


def central_submission(n: int, review: str | None = None, *, version: int = 1, **household) -> dict:
    """A value of Central's OData Submissions table; `version` > 1 is an edit made in Central (new instanceID,
    same `__id`, `edits` counted, review state `edited` unless reviewed since)."""
    instance = f"uuid:central-{n}" if version == 1 else f"uuid:central-{n}-v{version}"
    return {
        "__id": f"uuid:central-{n}",
        "__system": {
            "submissionDate": f"2026-11-2{n}T14:02:11.123Z",
            "updatedAt": None if version == 1 else "2026-12-01T09:00:00.000Z",
            "submitterId": "7",
            "submitterName": "Ana Torres",
            "attachmentsPresent": 0,
            "attachmentsExpected": 0,
            "status": None,
            "reviewState": review if version == 1 or review else "edited",
            "deviceId": f"collect:dev{n}",
            "edits": version - 1,
            "formVersion": GEO_VERSION,
        },
        "meta": {"instanceID": instance},
        "deviceid": f"collect:dev{n}",
        "household": {"psu": f"B{n}", "age": 30 + n, "main_problems": "robbery gangs"} | household,
        "photo": None,
        "gps": {"type": "Point", "coordinates": [-79.02, -8.11, 35.2], "properties": {"accuracy": 4.5}},
    }


@pytest.fixture
def geo_store(store):
    """The store with a version of the tiny form that has a geopoint, as Central's submissions name it."""
    store.publish_form(tiny_xform(GEO_VERSION, "| | geopoint | gps | Location |\n"))
    return store


@pytest.fixture
def central():
    server = Central(project=3, form="tiny")
    with serve(server.app()) as base:
        server.base = base
        yield server


def client_for(tmp_path, central) -> Client:
    config = Config(
        central=CentralConfig(
            base_url=central.base, username="coordinator@example.org", password="secret", default_project_id=3
        )
    )
    return Client(config=config, cache_path=tmp_path / "pyodk_cache.toml")


def test_imports_every_page_through_pyodk(geo_store, tmp_path, central):
    central.submissions = [central_submission(1, "approved"), central_submission(2, "hasIssues"), central_submission(3)]
    progress = []
    summary = import_central(
        geo_store, client_for(tmp_path, central), "tiny", page_size=2, progress=lambda d, t: progress.append((d, t))
    )
    assert summary.added == 3 and progress[-1] == (3, 3)
    assert central.requests.count("/v1/projects/3/forms/tiny.svc/Submissions") == 2
    frame = geo_store.submissions_frame("tiny").set_index("instance_id")
    assert frame.loc[
        "uuid:central-1",
        ["psu", "age", "main_problems", "review_state", "source", "volunteer", "device_id", "form_version", "gps"],
    ].tolist() == [
        "B1",
        "31",
        "robbery gangs",
        "approved",
        "odk-central",
        "Ana Torres",
        "collect:dev1",
        GEO_VERSION,
        "-8.11 -79.02 35.2 4.5",
    ]
    assert frame.loc["uuid:central-2", "review_state"] == "has_issues"
    again = import_central(geo_store, client_for(tmp_path, central), "tiny")
    assert (again.added, again.unchanged) == (0, 3)


def test_an_edit_in_central_supersedes_and_a_review_is_taken(geo_store, tmp_path, central):
    central.submissions = [central_submission(1), central_submission(2)]
    import_central(geo_store, client_for(tmp_path, central), "tiny")
    central.submissions = [central_submission(1, version=3, psu="B77"), central_submission(2, "rejected")]
    summary = import_central(geo_store, client_for(tmp_path, central), "tiny")
    assert (summary.added, summary.unchanged, summary.reviews) == (1, 1, 1)
    frame = geo_store.submissions_frame("tiny", include_rejected=True)
    assert sorted(frame[["instance_id", "psu", "review_state"]].values.tolist()) == [
        ["uuid:central-1-v3", "B77", "received"],
        ["uuid:central-2", "B2", "rejected"],
    ]


def test_attachments_are_downloaded_when_asked(geo_store, tmp_path, central):
    submission = central_submission(1) | {"photo": "1700000000.jpg"}
    submission["__system"] |= {"attachmentsPresent": 1, "attachmentsExpected": 1}
    central.submissions = [submission, central_submission(2)]
    central.files = {"uuid:central-1": {"1700000000.jpg": (b"\xff\xd8central jpeg", "image/jpeg")}}
    import_central(geo_store, client_for(tmp_path, central), "tiny", attachments=True)
    [attachment] = geo_store.attachments("uuid:central-1")
    assert (attachment.filename, attachment.content, attachment.content_type) == (
        "1700000000.jpg",
        b"\xff\xd8central jpeg",
        "image/jpeg",
    )
    assert geo_store.attachments("uuid:central-2") == []
    assert (
        "/v1/projects/3/forms/tiny/submissions/uuid:central-2/attachments" not in central.requests
    )  # none present: not asked


def test_bad_record_imports_nothing(geo_store, tmp_path, central):
    central.submissions = [central_submission(1), central_submission(2, main_problems="robbery floods")]
    with pytest.raises(ImportRowError, match="row 2: main_problems has 'floods'"):
        import_central(geo_store, client_for(tmp_path, central), "tiny")
    assert geo_store.submissions_frame("tiny").empty
