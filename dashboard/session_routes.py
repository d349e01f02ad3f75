"""The browser's side of a dashboard session: two plain HTTP routes that set and clear the session cookie.

A Streamlit script talks to the browser over a websocket and cannot set a cookie, so after the password check the
sign-in form (dashboard/signin.py) makes a one-time ticket and sends the browser to `SIGN_IN_PATH?ticket=…`. That
route trades the ticket for a new server-side session and answers with the session cookie and a redirect to the
dashboard, whose new Streamlit session finds the cookie in `st.context.cookies` (the websocket's opening request
carries it). Sign-out comes through `SIGN_OUT_PATH`, which ends the session and clears the cookie.

The cookie is HttpOnly (no script on the page can read it), SameSite=Strict (no other site's page can send it),
Path=/, Secure when the request came over https (uvicorn takes the scheme from a reverse proxy's
X-Forwarded-Proto when the proxy is on the same machine), and lasts until the browser closes: the server ends the
session itself when idle or too old. The routes are served beside the dashboard by `st.App` in app.py.
"""

from html import escape
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from collect.store import Store
from dashboard.auth import Accounts, session_key

COOKIE = "sdg16_session"
SIGN_IN_PATH = "/auth/session"
SIGN_OUT_PATH = "/auth/sign-out"
DASHBOARD = "/"
# Where the browser says a request came from (Fetch Metadata): both routes serve only the dashboard's own page
# (or a typed address), so a link on another site can neither sign a visitor in to the linker's account with the
# linker's ticket nor sign anyone out. Older browsers send no such header.
SAME_ORIGIN = {None, "same-origin", "none"}


def sign_in_url(ticket: str) -> str:
    """Where the sign-in form sends the browser to trade `ticket` for the session cookie."""
    return f"{SIGN_IN_PATH}?{urlencode({'ticket': ticket})}"


def routes(store: Store) -> list[Route]:
    """The sign-in and sign-out routes over the accounts of `store`."""
    accounts = Accounts(store)

    def sign_in(request: Request) -> Response:
        if _from_another_site(request):
            return _problem("This sign-in link came from another site. Sign in on the dashboard itself.")
        ticket = request.query_params.get("ticket", "")
        token = accounts.redeem_ticket(ticket) if ticket else None
        if token is None:
            return _problem("This sign-in link has expired or was already used. Please sign in again.")
        response = _no_store(RedirectResponse(DASHBOARD, status_code=303))
        response.set_cookie(COOKIE, token, path="/", httponly=True, samesite="strict", secure=_https(request))
        return response

    def sign_out(request: Request) -> Response:
        """End the session named by the cookie and clear it (without the cookie there is nothing to clear)."""
        if _from_another_site(request):
            return _problem("This sign-out link came from another site. Sign out on the dashboard itself.")
        response = _no_store(RedirectResponse(DASHBOARD, status_code=303))
        token = request.cookies.get(COOKIE)
        if token is not None:
            accounts.end_session(session_key(token))
            response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=_https(request))
        return response

    return [Route(SIGN_IN_PATH, sign_in, methods=["GET"]), Route(SIGN_OUT_PATH, sign_out, methods=["GET"])]


def _from_another_site(request: Request) -> bool:
    return request.headers.get("sec-fetch-site") not in SAME_ORIGIN


def _https(request: Request) -> bool:
    return request.url.scheme == "https"


def _no_store(response: Response) -> Response:
    # A response that sets or clears the session cookie must never be replayed from a cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def _problem(message: str) -> HTMLResponse:
    """A small page saying what went wrong, with the way back to the sign-in form (status 400)."""
    page = (
        f"<!doctype html><html lang='en'><meta charset='utf-8'><title>Sign-in problem — SDG 16 survey</title>"
        f"<body style='font-family: sans-serif; margin: 3rem'><h1>Sign-in problem</h1><p>{escape(message)}</p>"
        f"<p><a href='{DASHBOARD}'>Back to the sign-in page</a></p></body></html>"
    )
    return _no_store(HTMLResponse(page, status_code=400))
