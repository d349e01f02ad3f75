"""collect/webform.py: the web form's page, service worker and bundle are served below a volunteer's form URL."""

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from collect.webform import webform_routes

FORM_URL = "/v1/key/TOKEN/projects/sdg16/forms/sdg16_perception"


@pytest.fixture
def dist(tmp_path):
    (tmp_path / "index.html").write_text("<!doctype html><title>page</title>")
    (tmp_path / "sw.js").write_text("self.addEventListener('fetch', () => {});")
    (tmp_path / "webform.js").write_text("console.log('bundle');")
    (tmp_path / "webform.css").write_text("body {}")
    return tmp_path


def client(dist) -> TestClient:
    return TestClient(Starlette(routes=webform_routes(dist)))


def test_page_service_worker_and_bundle_are_served_below_the_form_url(dist):
    http = client(dist)
    page = http.get(f"{FORM_URL}/webform")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.text == (dist / "index.html").read_text()
    worker = http.get(f"{FORM_URL}/webform-sw.js")
    assert worker.headers["content-type"] == "text/javascript; charset=utf-8"
    assert worker.text == (dist / "sw.js").read_text()
    assert http.get(f"{FORM_URL}/webform-assets/webform.js").text == (dist / "webform.js").read_text()
    assert http.get(f"{FORM_URL}/webform-assets/webform.css").headers["content-type"] == "text/css; charset=utf-8"


def test_everything_is_revalidated_so_a_new_release_reaches_phones(dist):
    http = client(dist)
    first = http.get(f"{FORM_URL}/webform-assets/webform.js")
    assert first.headers["cache-control"] == "no-cache"
    again = http.get(f"{FORM_URL}/webform-assets/webform.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def test_only_the_bundle_is_served_as_assets(dist):
    (dist / "secret.txt").write_text("not for volunteers")
    http = client(dist)
    assert http.get(f"{FORM_URL}/webform-assets/secret.txt").status_code == 404
    assert http.get(f"{FORM_URL}/webform-assets/..%2Findex.html").status_code == 404


def test_an_unbuilt_bundle_says_how_to_build_it(tmp_path):
    response = client(tmp_path).get(f"{FORM_URL}/webform")
    assert response.status_code == 503
    assert "cd webform && npm ci && npm run build" in response.text
