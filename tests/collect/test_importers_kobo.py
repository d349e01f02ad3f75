"""KoboToolbox's `api/v2/assets/{uid}/data/` replayed from responses in its documented format: `count`, `next`,
`previous`, `results`; records keyed by XML paths, with `_uuid`, `_submission_time`, `_validation_status` objects."""

import httpx
import pytest

from collect.errors import CollectError, ImportRowError
from collect.importers.kobo import import_kobo

SERVER = "https://kf.example.org"
ASSET = "aNGKgubTJPARiJzgtTBqRN"
TOKEN = "kobo-token-123"


def kobo_record(n: int, **overrides) -> dict:
    record = {
        "_id": 1000 + n,
        "formhub/uuid": "f7bef041e8624f09946bff05ee5cbd4b",
        "deviceid": f"collect:dev{n}",
        "household/psu": f"B{n:02d}",
        "household/age": str(20 + n),
        "household/main_problems": "robbery",
        "__version__": "vLnrnT6Pvzgeh4DVfj6eDz",
        "meta/instanceID": f"uuid:kobo-{n}",
        "_xform_id_string": ASSET,
        "_uuid": f"kobo-{n}",
        "_attachments": [],
        "_status": "submitted_via_web",
        "_geolocation": [None, None],
        "_submission_time": f"2026-11-2{n % 10}T12:00:00",
        "_tags": [],
        "_notes": [],
        "_validation_status": {"timestamp": 1700000000, "uid": "validation_status_on_hold", "by_whom": "coord", "label": "On Hold"} if n == 2 else {},
        "_submitted_by": "ana",
    }
    return record | overrides


def kobo_server(records: list[dict], requests: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if request.headers.get("authorization") != f"Token {TOKEN}":
            return httpx.Response(401, json={"detail": "Invalid token."})
        if request.url.path != f"/api/v2/assets/{ASSET}/data/":
            return httpx.Response(404, json={"detail": "Not found."})
        start, limit = int(request.url.params["start"]), int(request.url.params["limit"])
        end = start + limit
        following = f"{SERVER}/api/v2/assets/{ASSET}/data/?format=json&limit={limit}&start={end}" if end < len(records) else None
        return httpx.Response(200, json={"count": len(records), "next": following, "previous": None, "results": records[start:end]})

    return httpx.MockTransport(handle)


def test_pages_through_all_records(store):
    requests: list[httpx.Request] = []
    progress = []
    records = [kobo_record(n) for n in range(1, 6)]
    summary = import_kobo(store, SERVER, TOKEN, ASSET, "tiny", transport=kobo_server(records, requests), page_size=2, progress=lambda d, t: progress.append((d, t)))
    assert summary.added == 5
    assert [(r.url.params["start"], r.url.params["limit"]) for r in requests] == [("0", "2"), ("2", "2"), ("4", "2")]
    assert progress[-1] == (5, 5)
    frame = store.submissions_frame("tiny").set_index("instance_id")
    assert frame.loc["uuid:kobo-2", ["psu", "age", "review_state", "source", "volunteer", "device_id"]].tolist() == ["B02", "22", "has_issues", "kobo", "ana", "collect:dev2"]
    again = import_kobo(store, SERVER, TOKEN, ASSET, "tiny", transport=kobo_server(records, []), page_size=2)
    assert (again.added, again.unchanged) == (0, 5)


def test_edit_in_kobo_supersedes_the_imported_version(store):
    import_kobo(store, SERVER, TOKEN, ASSET, "tiny", transport=kobo_server([kobo_record(1)], []))
    edited = kobo_record(1, **{"meta/instanceID": "uuid:kobo-1b", "meta/deprecatedID": "uuid:kobo-1", "_uuid": "kobo-1b", "household/psu": "B99"})
    import_kobo(store, SERVER, TOKEN, ASSET, "tiny", transport=kobo_server([edited], []))
    assert store.submissions_frame("tiny")[["instance_id", "psu"]].values.tolist() == [["uuid:kobo-1b", "B99"]]


def test_bad_record_or_bad_token_imports_nothing(store):
    records = [kobo_record(1), kobo_record(2, **{"household/age": "2.5"})]
    with pytest.raises(ImportRowError, match="row 2: age must be a whole number"):
        import_kobo(store, SERVER, TOKEN, ASSET, "tiny", transport=kobo_server(records, []))
    with pytest.raises(CollectError, match="answered 401"):
        import_kobo(store, SERVER, "wrong", ASSET, "tiny", transport=kobo_server(records, []))
    assert store.submissions_frame("tiny").empty
