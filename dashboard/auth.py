"""Dashboard accounts and sign-in sessions.

The dashboard shows personal data (volunteer names, GPS points) to coordinators and must hide them from
researchers, so every page is behind a sign-in with a role. Passwords are stored only as argon2id hashes
(argon2-cffi, the Password Hashing Competition winner; its defaults follow RFC 9106). The accounts are rows of
the store's database (collect.accounts; table made by a migration), so a PostgreSQL deployment keeps them
together; this module holds the logic: hashing, password rules, roles, sessions. It has no Streamlit in it so
that the `sdg16 user` command can use it too.

Sessions are kept by the server so that a reload or a second tab stays signed in: the browser holds a 256-bit
random token in an HttpOnly cookie (dashboard/session_routes.py) and the database only its SHA-256, the session's
`key`. Because a script cannot set a cookie, signing in makes a one-time ticket (random, stored hashed, valid
TICKET_LIFETIME) that the browser trades for the cookie. A session ends on sign-out, when idle for IDLE_TIMEOUT, at
MAX_SESSION after sign-in, when its user's password changes and when its user is removed.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from collect import accounts as stored
from collect.errors import Conflict, NotFound
from collect.store import Store

ROLES = ("admin", "coordinator", "researcher")
MIN_PASSWORD_LENGTH = 10
IDLE_TIMEOUT = timedelta(minutes=30)
MAX_SESSION = timedelta(hours=12)
TICKET_LIFETIME = timedelta(seconds=60)  # the browser uses its ticket within a second of getting it
TOUCH_EVERY = timedelta(minutes=1)  # how often a session's activity is written: not on every rerun
TOKEN_BYTES = 32  # 256-bit session tokens and tickets

_hasher = PasswordHasher()


def N_(message: str) -> str:
    """Mark a message for the dashboard's catalogue (dashboard/i18n.py); it is translated where it is shown."""
    return message


class AuthError(ValueError):
    """A bad account request; the message says what is wrong and is safe to show to the user.

    `str()` is the English message (the command line's); the dashboard shows `template` translated, formatted with
    `values` (dashboard.signin.error_text).
    """

    def __init__(self, template: str, **values):
        super().__init__(template.format(**values))
        self.template, self.values = template, values


@dataclass(frozen=True)
class User:
    username: str
    role: str
    must_change_password: bool
    language: str | None = None  # the dashboard language the user chose (dashboard.i18n); None: never chose


def _user(account: stored.Account) -> User:
    return User(account.username, account.role, account.must_change_password, account.language)


@dataclass(frozen=True)
class Session:
    """A signed-in user. Expires after IDLE_TIMEOUT without activity or MAX_SESSION after sign-in.

    `key` is the SHA-256 of the browser's session token when the server keeps the session (then the stored row,
    not this object, decides whether it is still alive); None for a session that only one Streamlit session holds.
    """

    user: User
    signed_in_at: datetime
    last_seen: datetime
    key: str | None = None

    def expired(self, now: datetime) -> bool:
        return now - self.last_seen > IDLE_TIMEOUT or now - self.signed_in_at > MAX_SESSION

    def touched(self, now: datetime) -> Session:
        return replace(self, last_seen=now)


def start_session(user: User, now: datetime | None = None) -> Session:
    now = now or datetime.now(UTC)
    return Session(user, now, now)


def one_time_password() -> str:
    return secrets.token_urlsafe(12)


def session_key(token: str) -> str:
    """The SHA-256 (hex) under which a session token or a ticket is stored: a leaked table cannot be replayed.

    A plain hash suffices (no salt, no slow hash): the tokens are 256-bit random, not guessable passwords.
    """
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    """The dashboard's accounts: add, verify, change, remove (rows through collect.accounts)."""

    def __init__(self, store: Store):
        self.store = store

    def add(self, username: str, role: str, password: str | None = None) -> str:
        """Create an account. Without a password, a one-time password is made, returned, and must be changed."""
        username = username.strip()
        if not username:
            raise AuthError(N_("The username is empty."))
        if role not in ROLES:
            raise AuthError(N_("Unknown role {role!r}: choose one of {roles}."), role=role, roles=", ".join(ROLES))
        one_time = password is None
        password = one_time_password() if one_time else password
        _check_password(password)
        account = stored.Account(username, role, _hasher.hash(password), one_time, datetime.now(UTC))
        try:
            stored.add_account(self.store, account)
        except Conflict:
            raise AuthError(N_("The user {username!r} already exists."), username=username) from None
        return password

    def ensure_first_admin(self) -> str | None:
        """On a database with no account, create `admin` with a one-time password and return it (else None)."""
        if stored.count_accounts(self.store):
            return None
        return self.add("admin", "admin")

    def verify(self, username: str, password: str) -> User | None:
        """The user if the password matches; None otherwise (unknown users cost the same hash time)."""
        account = stored.get_account(self.store, username.strip())
        stored_hash = account.password_hash if account else _DUMMY_HASH
        try:
            _hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        if account is None:
            return None
        if _hasher.check_needs_rehash(stored_hash):
            self._store_hash(account.username, _hasher.hash(password), account.must_change_password, end_sessions=False)
        return _user(account)

    def set_password(self, username: str, password: str) -> None:
        """Replace a password chosen by its owner (clears the one-time flag); ends all the user's sessions."""
        _check_password(password)
        self._store_hash(username, _hasher.hash(password), False, end_sessions=True)

    def reset_password(self, username: str) -> str:
        """An admin's reset of a forgotten password: a new one-time password (returned) that must be changed at the
        next sign-in; the user's sessions end."""
        password = one_time_password()
        self._store_hash(username, _hasher.hash(password), True, end_sessions=True)
        return password

    def set_language(self, username: str, language: str) -> None:
        """Remember the user's dashboard language (one of dashboard.i18n.LANGUAGES)."""
        try:
            stored.set_language(self.store, username, language)
        except NotFound:
            raise _no_user(username) from None

    def remove(self, username: str) -> None:
        """Delete an account (never the last admin); its sessions and tickets go with it."""
        try:
            stored.remove_account(self.store, username, keep_last="admin")
        except Conflict:
            raise AuthError(N_("This is the last admin account; add another admin before removing it.")) from None
        except NotFound:
            raise _no_user(username) from None

    def list(self) -> list[User]:
        return [_user(a) for a in stored.list_accounts(self.store)]

    def issue_ticket(self, username: str, now: datetime | None = None) -> str:
        """A one-time ticket, valid TICKET_LIFETIME, that the browser trades for a session cookie (redeem_ticket).

        Call it only after the user's password was checked: the ticket is as good as the password for a minute.
        """
        ticket = secrets.token_urlsafe(TOKEN_BYTES)
        stored.add_ticket(self.store, session_key(ticket), username, (now or datetime.now(UTC)) + TICKET_LIFETIME)
        return ticket

    def redeem_ticket(self, ticket: str, now: datetime | None = None) -> str | None:
        """Use a ticket (once) to open a server-side session: its token, for the cookie; None for a bad ticket."""
        now = now or datetime.now(UTC)
        token = secrets.token_urlsafe(TOKEN_BYTES)
        if stored.redeem_ticket(self.store, session_key(ticket), session_key(token), now) is None:
            return None
        stored.end_stale_sessions(self.store, seen_before=now - IDLE_TIMEOUT, signed_in_before=now - MAX_SESSION)
        return token

    def session(self, key: str, now: datetime | None = None) -> Session | None:
        """The live session stored under `key`, or None when it ended or expired (an expired one is deleted).

        Reads the row each time, so that a sign-out elsewhere, a password change or a removed account ends an open
        tab at its next rerun. Writes the activity only every TOUCH_EVERY, so a session may end as idle up to a
        minute early (its last minute of activity unrecorded); a write on every rerun would cost more than that.
        """
        now = now or datetime.now(UTC)
        found = stored.get_session(self.store, key)
        if found is None:
            return None
        row, account = found
        session = Session(_user(account), row.signed_in_at, row.last_seen, key)
        if session.expired(now):
            stored.end_session(self.store, key)
            return None
        if now - session.last_seen >= TOUCH_EVERY:
            stored.touch_session(self.store, key, now)
            session = session.touched(now)
        return session

    def end_session(self, key: str) -> None:
        """Sign out the session stored under `key` (an unknown key is fine: it may have ended already)."""
        stored.end_session(self.store, key)

    def _store_hash(self, username: str, password_hash: str, must_change: bool, end_sessions: bool) -> None:
        try:
            stored.set_password_hash(self.store, username, password_hash, must_change, end_sessions=end_sessions)
        except NotFound:
            raise _no_user(username) from None


def _no_user(username: str) -> AuthError:
    return AuthError(N_("There is no user {username!r}."), username=username)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(N_("The password is too short: use at least {n} characters."), n=MIN_PASSWORD_LENGTH)


# Verifying against a real hash when the user does not exist keeps sign-in time the same for unknown users,
# so the response time does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
