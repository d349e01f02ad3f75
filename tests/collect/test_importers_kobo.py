"""KoboToolbox's API served on loopback in the shapes of kpi's own code (see platform_servers.py for the sources):
paging, deployments mapped back to form versions, edits through `meta/rootUuid`, `_validation_status` and
attachments downloaded with the token."""

import pytest
from collect_samples import tiny_xform
from platform_servers import Kobo, serve

from collect.errors import CollectError, ImportRowError
from collect.importers.kobo import import_kobo

ASSET = "aNGKgubTJPARiJzgtTBqRN"
TOKEN = "kobo-token-123"
DEPLOYED = {
    "vLnrnT6Pvzgeh4DVfj6eDz": {"version": "2026112801", "form_id": "tiny"},
    "vQ7uLbPsdF3xyoYk9BeiRZ": {"version": "2026120101", "form_id": "tiny"},
}


def kobo_record(n: int, **overrides) -> dict:
    """A record as kpi's data endpoint returns it (XML paths, Kobo's `_` metadata)."""
    record = {
        "_id": 1000 + n,
        "formhub/uuid": "f7bef041e8624f09946bff05ee5cbd4b",
        "deviceid": f"collect:dev{n}",
        "household/psu": f"B{n:02d}",
        "household/age": str(20 + n),
        "household/main_problems": "robbery",
        "__version__": "vLnrnT6Pvzgeh4DVfj6eDz",
        "meta/instanceID": f"uuid:kobo-{n}",
        "meta/rootUuid": f"uuid:kobo-{n}",
        "_xform_id_string": ASSET,
        "_uuid": f"kobo-{n}",
        "_attachments": [],
        "_status": "submitted_via_web",
        "_geolocation": [None, None],
        "_submission_time": f"2026-11-2{n % 10}T12:00:00",
        "_tags": [],
        "_notes": [],
        "_validation_status": {
            "timestamp": 1700000000,
            "uid": "validation_status_on_hold",
            "by_whom": "coord",
            "label": "On Hold",
        }
        if n == 2
        else {},
        "_submitted_by": "ana",
    }
    return record | overrides


@pytest.fixture
def kobo():
    server = Kobo(ASSET, TOKEN, deployments=dict(DEPLOYED))
    with serve(server.app()) as base:
        server.base = base
        yield server


def run(store, kobo, **options):
    return import_kobo(store, kobo.base, options.pop("token", TOKEN), ASSET, "tiny", **options)


def test_pages_through_all_records_and_maps_deployments_to_versions(store, kobo):
    store.publish_form(tiny_xform("2026120101"))
    kobo.records = [kobo_record(n) for n in range(1, 5)] + [kobo_record(5, __version__="vQ7uLbPsdF3xyoYk9BeiRZ")]
    progress = []
    summary = run(store, kobo, page_size=2, progress=lambda d, t: progress.append((d, t)))
    assert summary.added == 5 and progress[-1] == (5, 5)
    assert [p for p in kobo.requests if p.endswith("/data/")] == [f"/api/v2/assets/{ASSET}/data/"] * 3
    assert sum(p.endswith("/versions/vLnrnT6Pvzgeh4DVfj6eDz/") for p in kobo.requests) == 1  # asked once per deployment
    frame = store.submissions_frame("tiny").set_index("instance_id")
    assert frame.loc[
        "uuid:kobo-2", ["psu", "age", "review_state", "source", "volunteer", "device_id", "form_version"]
    ].tolist() == ["B02", "22", "has_issues", "kobo", "ana", "collect:dev2", "2026112801"]
    assert frame.loc["uuid:kobo-5", "form_version"] == "2026120101"
    again = run(store, kobo, page_size=2)
    assert (again.added, again.unchanged) == (0, 5)


def test_repeat_groups_arrive_as_lists(store, kobo):
    rows = "| | begin repeat | visits | Visits |\n| | text | visitor | Visitor |\n| | end repeat | | |\n"
    store.publish_form(tiny_xform("2026120101", rows))
    visits = [{"visits/visitor": "Luis"}, {"visits/visitor": "Rosa"}]
    kobo.records = [kobo_record(1, __version__="vQ7uLbPsdF3xyoYk9BeiRZ", visits=visits)]
    run(store, kobo)
    frame = store.submissions_frame("tiny")
    assert frame[["visitor", "form_version"]].values.tolist() == [["Luis", "2026120101"]]


def test_a_deployment_without_a_version_needs_the_map(store, kobo):
    kobo.deployments["vLnrnT6Pvzgeh4DVfj6eDz"] = {"form_id": "tiny"}
    kobo.records = [kobo_record(1)]
    with pytest.raises(CollectError, match="--kobo-version vLnrnT6Pvzgeh4DVfj6eDz=VERSION"):
        run(store, kobo)
    assert store.submissions_frame("tiny").empty
    assert run(store, kobo, kobo_versions={"vLnrnT6Pvzgeh4DVfj6eDz": "2026112801"}).added == 1


def test_edits_in_kobo_supersede_the_imported_version_through_root_uuid(store, kobo):
    kobo.records = [kobo_record(1), kobo_record(2)]
    run(store, kobo)
    # Edited twice on Kobo between imports: deprecatedID names a version this store never saw; rootUuid stays.
    kobo.records = [
        kobo_record(
            1,
            **{
                "meta/instanceID": "uuid:kobo-1c",
                "meta/deprecatedID": "uuid:kobo-1b",
                "_uuid": "kobo-1c",
                "household/psu": "B99",
            },
        ),
        kobo_record(2),
    ]
    summary = run(store, kobo)
    assert (summary.added, summary.unchanged) == (1, 1)
    frame = store.submissions_frame("tiny")
    assert sorted(frame[["instance_id", "psu"]].values.tolist()) == [["uuid:kobo-1c", "B99"], ["uuid:kobo-2", "B02"]]


def test_validation_status_set_in_kobo_after_an_import_is_taken(store, kobo):
    kobo.records = [kobo_record(1), kobo_record(2)]
    run(store, kobo)
    store.set_review_state("uuid:kobo-2", "approved", reviewer="coordinator")
    approved = {"timestamp": 1700000100, "uid": "validation_status_approved", "by_whom": "coord", "label": "Approved"}
    kobo.records = [kobo_record(1, _validation_status=approved), kobo_record(2, _validation_status={})]
    summary = run(store, kobo)
    assert (summary.unchanged, summary.reviews) == (2, 1)
    states = store.submissions_frame("tiny").set_index("instance_id")["review_state"]
    assert states.to_dict() == {
        "uuid:kobo-1": "approved",
        "uuid:kobo-2": "approved",
    }  # no status on Kobo leaves a local review
    assert store.review_history("uuid:kobo-1")["reviewer"].tolist() == ["kobo import"]


def test_attachments_are_downloaded_when_asked(store, kobo):
    record = kobo_record(1, photo="1700000000.jpg")
    record["_attachments"] = [kobo.attachment(1001, "attAbc123", "1700000000.jpg", b"\xff\xd8jpeg bytes")]
    kobo.records = [record]
    run(store, kobo)
    assert store.attachments("uuid:kobo-1") == []
    run(store, kobo, attachments=True)  # a second import with attachments adds them to the stored submission
    [attachment] = store.attachments("uuid:kobo-1")
    assert (attachment.filename, attachment.content, attachment.content_type) == (
        "1700000000.jpg",
        b"\xff\xd8jpeg bytes",
        "image/jpeg",
    )


def test_bad_record_or_bad_token_imports_nothing(store, kobo):
    kobo.records = [kobo_record(1), kobo_record(2, **{"household/age": "2.5"})]
    with pytest.raises(ImportRowError, match="row 2: age must be a whole number"):
        run(store, kobo)
    with pytest.raises(CollectError, match="answered 401"):
        run(store, kobo, token="wrong")
    assert store.submissions_frame("tiny").empty
