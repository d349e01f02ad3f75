"""ODK Central through the real `pyodk` client, its HTTP replayed from responses in Central's documented formats:
`POST /v1/sessions` → token, then the OData `Submissions` table (`value`, `@odata.count`, groups nested,
`__system` metadata, geopoints as GeoJSON)."""

import json
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from pyodk._utils.config import CentralConfig, Config
from pyodk.client import Client
from requests.adapters import BaseAdapter

from collect.errors import ImportRowError
from collect.importers.central import import_central

BASE = "https://central.example.org"


def central_submission(n: int, review: str | None = None) -> dict:
    return {
        "__id": f"uuid:central-{n}",
        "__system": {
            "submissionDate": f"2026-11-2{n}T14:02:11.123Z",
            "updatedAt": None,
            "submitterId": "7",
            "submitterName": "Ana Torres",
            "attachmentsPresent": 0,
            "attachmentsExpected": 0,
            "status": None,
            "reviewState": review,
            "deviceId": f"collect:dev{n}",
            "edits": 0,
            "formVersion": "2026112801",
        },
        "meta": {"instanceID": f"uuid:central-{n}"},
        "deviceid": f"collect:dev{n}",
        "household": {"psu": f"B{n}", "age": 30 + n, "main_problems": "robbery gangs"},
        "photo": None,
    }


class RecordedCentral(BaseAdapter):
    """A requests adapter answering as Central does, recording what was asked."""

    def __init__(self, submissions: list[dict]):
        super().__init__()
        self.submissions = submissions
        self.requests: list[tuple[str, str]] = []

    def respond(self, request, status: int, body: dict) -> requests.Response:
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(body).encode()
        response.headers["Content-Type"] = "application/json"
        response.url = request.url
        response.request = request
        return response

    def send(self, request, **kwargs):
        url = urlparse(request.url)
        self.requests.append((request.method, url.path))
        if url.path == "/v1/sessions":
            return self.respond(request, 200, {"token": "session-token", "expiresAt": "2099-01-01T00:00:00Z"})
        if url.path == "/v1/users/current":
            return self.respond(request, 200, {"id": 1, "displayName": "coordinator"})
        if url.path == "/v1/projects/3/forms/tiny.svc/Submissions":
            assert request.headers["Authorization"] == "Bearer session-token"
            query = {key: values[0] for key, values in parse_qs(url.query).items()}
            skip, top = int(query.get("$skip", 0)), int(query["$top"])
            page = {"@odata.context": f"{BASE}/v1/projects/3/forms/tiny.svc/$metadata#Submissions", "value": self.submissions[skip : skip + top], "@odata.count": len(self.submissions)}
            return self.respond(request, 200, page)
        return self.respond(request, 404, {"message": "Could not find the resource you were looking for.", "code": 404.1})

    def close(self):
        pass


def central_client(tmp_path, adapter: RecordedCentral) -> Client:
    config = Config(central=CentralConfig(base_url=BASE, username="coordinator@example.org", password="secret", default_project_id=3))
    client = Client(config=config, cache_path=tmp_path / "pyodk_cache.toml")
    client.session.mount("https://", adapter)
    return client


def test_imports_every_page_through_pyodk(store, tmp_path):
    adapter = RecordedCentral([central_submission(1, "approved"), central_submission(2, "hasIssues"), central_submission(3)])
    progress = []
    summary = import_central(store, central_client(tmp_path, adapter), "tiny", page_size=2, progress=lambda d, t: progress.append((d, t)))
    assert summary.added == 3 and progress[-1] == (3, 3)
    assert [path for method, path in adapter.requests].count("/v1/projects/3/forms/tiny.svc/Submissions") == 2
    frame = store.submissions_frame("tiny").set_index("instance_id")
    assert frame.loc["uuid:central-1", ["psu", "age", "main_problems", "review_state", "source", "volunteer", "device_id", "form_version"]].tolist() == [
        "B1", "31", "robbery gangs", "approved", "odk-central", "Ana Torres", "collect:dev1", "2026112801"
    ]
    assert frame.loc["uuid:central-2", "review_state"] == "has_issues"
    again = import_central(store, central_client(tmp_path, RecordedCentral([central_submission(1, "approved")])), "tiny")
    assert (again.added, again.unchanged) == (0, 1)


def test_bad_record_imports_nothing(store, tmp_path):
    bad = central_submission(2)
    bad["household"]["main_problems"] = "robbery floods"
    with pytest.raises(ImportRowError, match="row 2: main_problems has 'floods'"):
        import_central(store, central_client(tmp_path, RecordedCentral([central_submission(1), bad])), "tiny")
    assert store.submissions_frame("tiny").empty
