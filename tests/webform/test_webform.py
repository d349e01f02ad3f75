"""collect/webform.py: the web form's page, service worker and bundle are served below a volunteer's form URL."""

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from collect.webform import webform_routes, webform_url

FORM_URL = "/v1/key/TOKEN/projects/sdg16/forms/sdg16_perception"


@pytest.fixture
def dist(tmp_path):
    """A build's layout: the page and the worker, and the content-hashed bundle under assets/."""
    (tmp_path / "index.html").write_text('<!doctype html><script type="module" src="webform-assets/webform-ABC.js"></script>')
    (tmp_path / "sw.js").write_text("self.addEventListener('fetch', () => {});")
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "webform-ABC.js").write_text("console.log('bundle');")
    (tmp_path / "assets" / "webform-DEF.css").write_text("body {}")
    return tmp_path


def client(dist) -> TestClient:
    return TestClient(Starlette(routes=webform_routes(dist)))


def test_the_link_given_to_volunteers_is_the_page_served():
    assert webform_url("https://example.org/v1/key/TOKEN/projects/sdg16/", "sdg16_perception") == f"https://example.org{FORM_URL}/webform"


def test_page_service_worker_and_bundle_are_served_below_the_form_url(dist):
    http = client(dist)
    page = http.get(f"{FORM_URL}/webform")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.text == (dist / "index.html").read_text()
    worker = http.get(f"{FORM_URL}/webform-sw.js")
    assert worker.headers["content-type"] == "text/javascript; charset=utf-8"
    assert worker.text == (dist / "sw.js").read_text()
    bundle = http.get(f"{FORM_URL}/webform-assets/webform-ABC.js")
    assert bundle.text == (dist / "assets" / "webform-ABC.js").read_text()
    assert "javascript" in bundle.headers["content-type"]
    assert http.get(f"{FORM_URL}/webform-assets/webform-DEF.css").headers["content-type"].startswith("text/css")


def test_page_and_worker_are_revalidated_so_that_a_release_reaches_phones(dist):
    http = client(dist)
    assert http.get(f"{FORM_URL}/webform").headers["cache-control"] == "no-cache"
    assert http.get(f"{FORM_URL}/webform-sw.js").headers["cache-control"] == "no-cache"


def test_the_bundle_travels_gzipped(dist):
    (dist / "assets" / "webform-ABC.js").write_text("console.log('bundle');\n" * 200)
    response = client(dist).get(f"{FORM_URL}/webform-assets/webform-ABC.js", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.text == (dist / "assets" / "webform-ABC.js").read_text()


def test_an_unchanged_bundle_is_not_sent_again(dist):
    http = client(dist)
    first = http.get(f"{FORM_URL}/webform-assets/webform-ABC.js")
    again = http.get(f"{FORM_URL}/webform-assets/webform-ABC.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def test_nothing_outside_the_bundle_folder_is_served_as_an_asset(dist):
    (dist / "secret.txt").write_text("not for volunteers")
    http = client(dist)
    assert http.get(f"{FORM_URL}/webform-assets/..%2Fsecret.txt").status_code == 404
    assert http.get(f"{FORM_URL}/webform-assets/../secret.txt").status_code == 404
    assert http.get(f"{FORM_URL}/webform-assets/webform-OLD.js").status_code == 404


def test_an_unbuilt_bundle_says_how_to_build_it(tmp_path):
    response = client(tmp_path).get(f"{FORM_URL}/webform")
    assert response.status_code == 503
    assert "cd webform && npm ci && npm run build" in response.text
