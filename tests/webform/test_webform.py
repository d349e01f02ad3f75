"""collect/webform.py: the web form's page, service worker, bundle and transformed form are served below a
volunteer's form URL, from the files this package ships; what is missing is said in Spanish and English."""

import json
import shutil
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from collect.store import Store
from collect.volunteers import add_volunteer, revoke_volunteer
from collect.webform import DIST, webform_problem, webform_routes, webform_url

FIXTURES = Path(__file__).resolve().parent / "transform"
FORM_ID = "v2_features"


@pytest.fixture
def store(tmp_path):
    """A store with the v2-like fixture form (CSV external instance) published."""
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    store.publish_form(
        (FIXTURES / "v2_features.xml").read_bytes(), media={"blocks.csv": (FIXTURES / "blocks.csv").read_bytes()}
    )
    yield store
    store.close()


@pytest.fixture
def form_url(store) -> str:
    """A volunteer's form folder (their server URL + /forms/{id}), as a path."""
    return f"/v1/key/{add_volunteer(store, 'Ana').token}/projects/sdg16/forms/{FORM_ID}"


@pytest.fixture
def dist(tmp_path) -> Path:
    """A copy of the shipped web form, to break."""
    return Path(shutil.copytree(DIST, tmp_path / "webform_dist"))


def client(store, dist=DIST) -> TestClient:
    return TestClient(Starlette(routes=webform_routes(store, dist)))


def shipped_bundle() -> str:
    return next((DIST / "assets").glob("webform-*.js")).name


def test_the_link_given_to_volunteers_is_the_page_served():
    url = "https://example.org/v1/key/TOKEN/projects/sdg16/forms/sdg16_perception/webform"
    assert webform_url("https://example.org/v1/key/TOKEN/projects/sdg16/", "sdg16_perception") == url


def test_the_package_ships_a_whole_web_form():
    page = (DIST / "index.html").read_text()
    assert f"webform-assets/{shipped_bundle()}" in page
    assert "XSLTProcessor" not in (DIST / "assets" / shipped_bundle()).read_text()


def test_page_service_worker_and_bundle_are_served_below_the_form_url(store, form_url):
    http = client(store)
    page = http.get(f"{form_url}/webform")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.text == (DIST / "index.html").read_text()
    worker = http.get(f"{form_url}/webform-sw.js")
    assert worker.headers["content-type"] == "text/javascript; charset=utf-8"
    bundle = http.get(f"{form_url}/webform-assets/{shipped_bundle()}")
    assert bundle.content == (DIST / "assets" / shipped_bundle()).read_bytes()
    assert "javascript" in bundle.headers["content-type"]


def test_the_form_comes_transformed_for_enketo_with_its_media_at_the_openrosa_urls(store, form_url):
    response = client(store).get(f"{form_url}/webform-form.json", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    survey = response.json()
    assert (survey["formId"], survey["version"], survey["transformer"]) == (FORM_ID, "2026120401", "4.2.0")
    assert '<form autocomplete="off"' in survey["form"] and 'name="/data/place/block"' in survey["form"]
    assert '<instance id="blocks" src="attachments/blocks.csv"/>' in survey["model"]


def test_an_unchanged_form_is_not_sent_again(store, form_url):
    http = client(store)
    first = http.get(f"{form_url}/webform-form.json")
    again = http.get(f"{form_url}/webform-form.json", headers={"If-None-Match": first.headers["etag"]})
    assert first.headers["cache-control"] == "no-cache"
    assert again.status_code == 304


def test_the_form_needs_a_valid_token_and_says_why_not(store, form_url):
    http = client(store)
    unknown = http.get(f"/v1/key/{'x' * 43}/projects/sdg16/forms/{FORM_ID}/webform-form.json")
    assert unknown.status_code == 403
    assert "ask your coordinator" in unknown.text
    revoke_volunteer(store, "Ana")
    assert "revoked" in http.get(f"{form_url}/webform-form.json").text


def test_an_unpublished_form_is_named(store):
    token = add_volunteer(store, "Luis").token
    response = client(store).get(f"/v1/key/{token}/projects/sdg16/forms/no_such_form/webform-form.json")
    assert response.status_code == 404
    assert "no está publicado" in response.text and "not published" in response.text


def test_page_and_worker_are_revalidated_so_that_a_release_reaches_phones(store, form_url):
    http = client(store)
    assert http.get(f"{form_url}/webform").headers["cache-control"] == "no-cache"
    assert http.get(f"{form_url}/webform-sw.js").headers["cache-control"] == "no-cache"


def test_an_unchanged_bundle_is_not_sent_again(store, form_url):
    http = client(store)
    first = http.get(f"{form_url}/webform-assets/{shipped_bundle()}")
    again = http.get(f"{form_url}/webform-assets/{shipped_bundle()}", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def test_nothing_outside_the_bundle_folder_is_served_as_an_asset(store, form_url):
    http = client(store)
    assert http.get(f"{form_url}/webform-assets/..%2Findex.html").status_code == 404
    assert http.get(f"{form_url}/webform-assets/../enketo-transformer/version.json").status_code == 404
    assert http.get(f"{form_url}/webform-assets/webform-OLD.js").status_code == 404


def test_a_missing_bundle_gives_the_volunteer_a_spanish_page_saying_whom_to_tell(store, form_url, dist):
    (dist / "index.html").unlink()
    response = client(store, dist).get(f"{form_url}/webform")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html")
    text = response.text
    assert '<html lang="es">' in text
    assert text.index("El formulario web no está disponible") < text.index("The web form is not available")
    assert "avise a su coordinador/a" in text and "tell your coordinator" in text
    assert "index.html" in text and "pip install -e ." in text


def test_the_coordinator_is_warned_before_handing_out_a_link_that_cannot_work(store, dist):
    assert webform_problem(store, FORM_ID, dist) is None
    assert "not published" in webform_problem(store, "no_such_form", dist)
    for name in dist.glob("enketo-transformer/*.xsl"):
        name.unlink()
    problem = webform_problem(store, FORM_ID, dist)
    assert "openrosa2html5form.xsl" in problem and "pip install -e ." in problem


def test_the_shipped_transformer_matches_the_bundle(store, form_url):
    version = json.loads((DIST / "enketo-transformer" / "version.json").read_text())["enketo-transformer"]
    assert client(store).get(f"{form_url}/webform-form.json").json()["transformer"] == version
