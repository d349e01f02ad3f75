"""Dashboard accounts and sign-in sessions.

The dashboard shows personal data (volunteer names, GPS points) to coordinators and must hide them from
researchers, so every page is behind a sign-in with a role. Passwords are stored only as argon2id hashes
(argon2-cffi, the Password Hashing Competition winner; its defaults follow RFC 9106), made and checked in a
separate low-priority process (dashboard.passwords). The accounts are rows of
the store's database (collect.accounts; table made by a migration), so a PostgreSQL deployment keeps them
together; this module holds the logic: hashing, password rules, roles, sessions. It has no Streamlit in it so
that the `sdg16 user` command can use it too.

Sessions are kept by the server so that a reload or a second tab stays signed in: the browser holds a 256-bit
random token in an HttpOnly cookie (dashboard/session_routes.py) and the database only its SHA-256, the session's
`key`. Because a script cannot set a cookie, signing in makes a one-time ticket (random, stored hashed, valid
TICKET_LIFETIME) that the browser trades for the cookie. A session ends on sign-out, when idle for IDLE_TIMEOUT, at
MAX_SESSION after sign-in, when its user's password changes and when its user is removed or disabled (a disabled
account cannot sign in until it is enabled again). Every session is kept
by the server, the one a tab holds from the sign-in form too (`open_session`), so these apply to every tab, whether
or not its browser went on to fetch the cookie.

Password guessing is throttled per account and per address (the browser's, as the HTTPS proxy reports it): after
ACCOUNT_FREE_FAILURES failed sign-ins on an account (ADDRESS_FREE_FAILURES from an address) each further failure
locks it for FIRST_LOCK, doubling up to LONGEST_LOCK; while locked, sign-in is refused before any hash is computed.
The counts are rows of the database, so they hold in every process; a success clears the account's count, and
counts are forgotten FORGET_FAILURES after the last failure. Locking an account out is what lets one person block
another's sign-in for up to LONGEST_LOCK; the cap keeps that short while making guessing hopeless (≈100 guesses a
day per account).
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher

from collect import accounts as stored
from collect.errors import Conflict, NotFound
from collect.store import Store
from dashboard.constants import ROLES
from dashboard.passwords import hash_password, verify_password

MIN_PASSWORD_LENGTH = 10
IDLE_TIMEOUT = timedelta(minutes=30)
MAX_SESSION = timedelta(hours=12)
TICKET_LIFETIME = timedelta(seconds=60)  # the browser uses its ticket within a second of getting it
TOUCH_EVERY = timedelta(minutes=1)  # how often a session's activity is written: not on every rerun
TOKEN_BYTES = 32  # 256-bit session tokens and tickets
ACCOUNT_FREE_FAILURES = 5  # failed sign-ins on one account before it is locked
ADDRESS_FREE_FAILURES = 20  # from one address (an office behind one router: several people mistyping)
FIRST_LOCK = timedelta(seconds=30)
LONGEST_LOCK = timedelta(minutes=15)
FORGET_FAILURES = timedelta(hours=24)
LOCAL_ADDRESS = "local"  # the address key of browsers on this machine (Streamlit reports no address for them)


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


class SignInLocked(AuthError):
    """Too many failed sign-ins on this account or from this address: refused until `until`."""

    def __init__(self, until: datetime, now: datetime):
        self.until = until
        minutes = max(1, math.ceil((until - now).total_seconds() / 60))
        super().__init__(N_("Too many failed sign-in attempts: wait {minutes} min and try again."), minutes=minutes)


def _lock_for(free: int):
    """The lock after the n-th failure: none up to `free`, then FIRST_LOCK doubling up to LONGEST_LOCK."""
    return lambda failures: (
        timedelta(0) if failures < free else min(FIRST_LOCK * 2 ** min(failures - free, 20), LONGEST_LOCK)
    )


@dataclass(frozen=True)
class User:
    username: str
    role: str
    must_change_password: bool
    language: str | None = None  # the dashboard language the user chose (dashboard.i18n); None: never chose
    disabled: bool = False  # may not sign in (Accounts.disable)


def _user(account: stored.Account) -> User:
    return User(
        account.username, account.role, account.must_change_password, account.language, account.disabled_at is not None
    )


@dataclass(frozen=True)
class Session:
    """A signed-in user. Expires after IDLE_TIMEOUT without activity or MAX_SESSION after sign-in.

    `key` is the SHA-256 of the session's token, under which the server keeps it: the stored row, not this object,
    decides whether it is still alive (`Accounts.session`).
    """

    user: User
    signed_in_at: datetime
    last_seen: datetime
    key: str

    def expired(self, now: datetime) -> bool:
        return now - self.last_seen > IDLE_TIMEOUT or now - self.signed_in_at > MAX_SESSION

    def touched(self, now: datetime) -> Session:
        return replace(self, last_seen=now)


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
        account = stored.Account(username, role, hash_password(password), one_time, datetime.now(UTC))
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

    def verify(
        self, username: str, password: str, address: str | None = None, now: datetime | None = None
    ) -> User | None:
        """The user if the password matches; None otherwise (unknown users cost the same hash time).

        `address` is the browser's (None: this machine). Raises SignInLocked, before checking anything, while the
        account or the address is locked by earlier failures; a failure counts against both."""
        now = now or datetime.now(UTC)
        username = username.strip()
        keys = [f"account:{username[:200]}", f"address:{address or LOCAL_ADDRESS}"]
        until = stored.sign_in_locked_until(self.store, keys, now)
        if until is not None:
            raise SignInLocked(until, now)
        account = stored.get_account(self.store, username)
        matches, rehash = verify_password(account.password_hash if account else _DUMMY_HASH, password)
        if account is None or not matches:
            for key, free in zip(keys, (ACCOUNT_FREE_FAILURES, ADDRESS_FREE_FAILURES), strict=True):
                stored.record_sign_in_failure(self.store, key, now, _lock_for(free), FORGET_FAILURES)
            return None
        if account.disabled_at is not None:
            return None
        stored.clear_sign_in_failures(self.store, keys[0])
        if rehash:
            self._store_hash(
                account.username, hash_password(password), account.must_change_password, end_sessions=False
            )
        return _user(account)

    def set_password(self, username: str, password: str) -> None:
        """Replace a password chosen by its owner (clears the one-time flag); ends all the user's sessions."""
        _check_password(password)
        self._store_hash(username, hash_password(password), False, end_sessions=True)

    def reset_password(self, username: str) -> str:
        """An admin's reset of a forgotten password: a new one-time password (returned) that must be changed at the
        next sign-in; the user's sessions end."""
        password = one_time_password()
        self._store_hash(username, hash_password(password), True, end_sessions=True)
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

    def disable(self, username: str, now: datetime | None = None) -> None:
        """Stop an account from signing in, ending its sessions at once (never the last enabled admin)."""
        self._set_disabled(username, now or datetime.now(UTC))

    def enable(self, username: str) -> None:
        """Let a disabled account sign in again (with its password as it was)."""
        self._set_disabled(username, None)

    def _set_disabled(self, username: str, when: datetime | None) -> None:
        try:
            stored.set_disabled(self.store, username, when, keep_last="admin")
        except Conflict:
            raise AuthError(N_("This is the last enabled admin account; add or enable another admin first.")) from None
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
        if session.expired(now) or account.disabled_at is not None:
            stored.end_session(self.store, key)
            return None
        if now - session.last_seen >= TOUCH_EVERY:
            stored.touch_session(self.store, key, now)
            session = session.touched(now)
        return session

    def open_session(self, user: User, now: datetime | None = None) -> Session:
        """A new server-kept session of `user` for the tab that signed in (the browser's cookie gets its own, through
        a ticket). Its token is not kept anywhere: the tab holds only the key, on the server's side of Streamlit.

        Call it only after the user's password was checked."""
        now = now or datetime.now(UTC)
        key = session_key(secrets.token_urlsafe(TOKEN_BYTES))
        stored.add_session(self.store, key, user.username, now)
        return Session(user, now, now, key)

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
_DUMMY_HASH = PasswordHasher().hash(secrets.token_urlsafe(16))
