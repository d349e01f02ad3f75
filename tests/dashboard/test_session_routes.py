"""The cookie routes over real HTTP (Starlette's TestClient): ticket for cookie, cookie attributes, sign-out."""

from datetime import UTC, datetime

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from collect.database import make_engine
from collect.store import Store
from dashboard import session_routes
from dashboard.auth import TICKET_LIFETIME, Accounts, session_key
from dashboard.session_routes import COOKIE, SIGN_OUT_PATH, sign_in_url


@pytest.fixture
def accounts(tmp_path):
    store = Store(make_engine(f"sqlite:///{tmp_path / 'routes.db'}"))
    accounts = Accounts(store)
    accounts.add("ana", "coordinator", "a long password")
    yield accounts
    store.close()


def client(accounts, base_url="http://testserver") -> TestClient:
    return TestClient(
        Starlette(routes=session_routes.routes(accounts.store)), base_url=base_url, follow_redirects=False
    )


def cookie_attributes(response) -> dict[str, str]:
    """The Set-Cookie header as {attribute (lower case): value}, the cookie itself under its name."""
    parts = [part.strip() for part in response.headers["set-cookie"].split(";")]
    return {name.lower() if i else name: value for i, (name, _, value) in enumerate(p.partition("=") for p in parts)}


def test_a_ticket_is_traded_for_an_http_only_strict_cookie_and_a_redirect_to_the_dashboard(accounts):
    response = client(accounts).get(sign_in_url(accounts.issue_ticket("ana")))
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert response.headers["cache-control"] == "no-store"
    cookie = cookie_attributes(response)
    assert set(cookie) == {COOKIE, "httponly", "path", "samesite"}  # no Secure over http, no Max-Age
    assert (cookie["path"], cookie["samesite"]) == ("/", "strict")
    assert accounts.session(session_key(cookie[COOKIE])).user.username == "ana"


def test_over_https_the_cookie_is_secure(accounts):
    response = client(accounts, base_url="https://testserver").get(sign_in_url(accounts.issue_ticket("ana")))
    assert "secure" in cookie_attributes(response)


def test_a_ticket_works_once(accounts):
    url = sign_in_url(accounts.issue_ticket("ana"))
    assert client(accounts).get(url).status_code == 303
    again = client(accounts).get(url)
    assert again.status_code == 400 and "set-cookie" not in again.headers
    assert "This sign-in link has expired or was already used. Please sign in again." in again.text
    assert "<a href='/'>Back to the sign-in page</a>" in again.text


@pytest.mark.parametrize("url", [sign_in_url("made-up"), "/auth/session", sign_in_url("")])
def test_a_bad_or_missing_ticket_gets_the_error_page(accounts, url):
    response = client(accounts).get(url)
    assert response.status_code == 400 and "set-cookie" not in response.headers
    assert "has expired or was already used" in response.text


def test_an_expired_ticket_is_refused(accounts):
    ticket = accounts.issue_ticket("ana", now=datetime.now(UTC) - TICKET_LIFETIME)
    response = client(accounts).get(sign_in_url(ticket))
    assert response.status_code == 400 and "has expired" in response.text


def test_a_ticket_sent_from_another_site_is_refused_and_stays_unused(accounts):
    """A link on another site must not sign the visitor in to the linker's account (login CSRF)."""
    url = sign_in_url(accounts.issue_ticket("ana"))
    refused = client(accounts).get(url, headers={"Sec-Fetch-Site": "cross-site"})
    assert refused.status_code == 400 and "came from another site" in refused.text
    assert "set-cookie" not in refused.headers
    assert client(accounts).get(url, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 303


def test_sign_out_ends_the_session_and_clears_the_cookie(accounts):
    browser = client(accounts)  # keeps the cookie the sign-in route sets, as a browser does
    token = cookie_attributes(browser.get(sign_in_url(accounts.issue_ticket("ana"))))[COOKIE]
    response = browser.get(SIGN_OUT_PATH)
    assert response.status_code == 303 and response.headers["location"] == "/"
    cleared = cookie_attributes(response)
    assert cleared[COOKIE] in ("", '""') and cleared["max-age"] == "0"
    assert (cleared["path"], cleared["samesite"]) == ("/", "strict") and "httponly" in cleared
    assert accounts.session(session_key(token)) is None


def test_sign_out_without_a_cookie_or_from_another_site_changes_nothing(accounts):
    token = accounts.redeem_ticket(accounts.issue_ticket("ana"))
    assert "set-cookie" not in client(accounts).get(SIGN_OUT_PATH).headers
    elsewhere = client(accounts)
    elsewhere.cookies.set(COOKIE, token)
    refused = elsewhere.get(SIGN_OUT_PATH, headers={"Sec-Fetch-Site": "cross-site"})
    assert refused.status_code == 400 and "set-cookie" not in refused.headers
    assert accounts.session(session_key(token)) is not None
