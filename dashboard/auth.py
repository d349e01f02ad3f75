"""Dashboard accounts and sign-in sessions.

The dashboard shows personal data (volunteer names, GPS points) to coordinators and must hide them from
researchers, so every page is behind a sign-in with a role. Passwords are stored only as argon2id hashes
(argon2-cffi, the Password Hashing Competition winner; its defaults follow RFC 9106). The accounts are rows of
the store's database (collect.accounts; table made by a migration), so a PostgreSQL deployment keeps them
together; this module holds the logic: hashing, password rules, roles, sessions. It has no Streamlit in it so
that the `sdg16 user` command can use it too.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
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

_hasher = PasswordHasher()


class AuthError(ValueError):
    """A bad account request; the message says what is wrong and is safe to show to the user."""


@dataclass(frozen=True)
class User:
    username: str
    role: str
    must_change_password: bool


@dataclass(frozen=True)
class Session:
    """A signed-in user. Expires after IDLE_TIMEOUT without activity or MAX_SESSION after sign-in."""

    user: User
    signed_in_at: datetime
    last_seen: datetime

    def expired(self, now: datetime) -> bool:
        return now - self.last_seen > IDLE_TIMEOUT or now - self.signed_in_at > MAX_SESSION

    def touched(self, now: datetime) -> Session:
        return Session(self.user, self.signed_in_at, now)


def start_session(user: User, now: datetime | None = None) -> Session:
    now = now or datetime.now(UTC)
    return Session(user, now, now)


def one_time_password() -> str:
    return secrets.token_urlsafe(12)


class Accounts:
    """The dashboard's accounts: add, verify, change, remove (rows through collect.accounts)."""

    def __init__(self, store: Store):
        self.store = store

    def add(self, username: str, role: str, password: str | None = None) -> str:
        """Create an account. Without a password, a one-time password is made, returned, and must be changed."""
        username = username.strip()
        if not username:
            raise AuthError("The username is empty.")
        if role not in ROLES:
            raise AuthError(f"Unknown role {role!r}: choose one of {', '.join(ROLES)}.")
        one_time = password is None
        password = one_time_password() if one_time else password
        _check_password(password)
        account = stored.Account(username, role, _hasher.hash(password), one_time, datetime.now(UTC))
        try:
            stored.add_account(self.store, account)
        except Conflict as error:
            raise AuthError(str(error)) from None
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
            self._store_hash(account.username, _hasher.hash(password), account.must_change_password)
        return User(account.username, account.role, account.must_change_password)

    def set_password(self, username: str, password: str) -> None:
        """Replace a password chosen by its owner (clears the one-time flag)."""
        _check_password(password)
        self._store_hash(username, _hasher.hash(password), False)

    def remove(self, username: str) -> None:
        try:
            stored.remove_account(self.store, username, keep_last="admin")
        except (Conflict, NotFound) as error:
            raise AuthError(str(error)) from None

    def list(self) -> list[User]:
        return [User(a.username, a.role, a.must_change_password) for a in stored.list_accounts(self.store)]

    def _store_hash(self, username: str, password_hash: str, must_change: bool) -> None:
        try:
            stored.set_password_hash(self.store, username, password_hash, must_change)
        except NotFound as error:
            raise AuthError(str(error)) from None


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"The password is too short: use at least {MIN_PASSWORD_LENGTH} characters.")


# Verifying against a real hash when the user does not exist keeps sign-in time the same for unknown users,
# so the response time does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
