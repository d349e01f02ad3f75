"""Dashboard accounts and sign-in sessions.

The dashboard shows personal data (volunteer names, GPS points) to coordinators and must hide them from
researchers, so every page is behind a sign-in with a role. Passwords are stored only as argon2id hashes
(argon2-cffi, the Password Hashing Competition winner; its defaults follow RFC 9106). The accounts live in one
small table in the same database as the submissions, so a PostgreSQL deployment keeps them together; they hold
no statistics. This module has no Streamlit in it so that the `sdg16 user` command can use it too.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLES = ("admin", "coordinator", "researcher")
MIN_PASSWORD_LENGTH = 10
IDLE_TIMEOUT = timedelta(minutes=30)
MAX_SESSION = timedelta(hours=12)

metadata = sa.MetaData()
users = sa.Table(
    "dashboard_users",
    metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    # A one-time password (printed on first run or by `sdg16 user add` without --password) must be replaced at
    # the first sign-in, so that it never stays valid after it has been read off a console.
    sa.Column("must_change_password", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

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
    """The dashboard_users table: add, verify, change, remove."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        metadata.create_all(engine)

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
        row = dict(
            username=username,
            role=role,
            password_hash=_hasher.hash(password),
            must_change_password=one_time,
            created_at=datetime.now(UTC),
        )
        with self.engine.begin() as conn:
            if conn.execute(sa.select(users.c.username).where(users.c.username == username)).first():
                raise AuthError(f"The user {username!r} already exists.")
            conn.execute(users.insert().values(**row))
        return password

    def ensure_first_admin(self) -> str | None:
        """On a database with no account, create `admin` with a one-time password and return it (else None)."""
        with self.engine.connect() as conn:
            if conn.execute(sa.select(sa.func.count()).select_from(users)).scalar_one():
                return None
        return self.add("admin", "admin")

    def verify(self, username: str, password: str) -> User | None:
        """The user if the password matches; None otherwise (unknown users cost the same hash time)."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(users).where(users.c.username == username.strip())).mappings().first()
        stored = row["password_hash"] if row else _DUMMY_HASH
        try:
            _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        if _hasher.check_needs_rehash(stored):
            self._store_hash(row["username"], _hasher.hash(password), row["must_change_password"])
        return User(row["username"], row["role"], row["must_change_password"])

    def set_password(self, username: str, password: str) -> None:
        """Replace a password chosen by its owner (clears the one-time flag)."""
        _check_password(password)
        self._store_hash(username, _hasher.hash(password), False)

    def remove(self, username: str) -> None:
        with self.engine.begin() as conn:
            if self._admins(conn) == [username]:
                raise AuthError("This is the last admin account; add another admin before removing it.")
            if not conn.execute(users.delete().where(users.c.username == username)).rowcount:
                raise AuthError(f"There is no user {username!r}.")

    def list(self) -> list[User]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(users).order_by(users.c.username)).mappings().all()
        return [User(r["username"], r["role"], r["must_change_password"]) for r in rows]

    def _store_hash(self, username: str, password_hash: str, must_change: bool) -> None:
        with self.engine.begin() as conn:
            updated = conn.execute(
                users.update()
                .where(users.c.username == username)
                .values(password_hash=password_hash, must_change_password=must_change)
            ).rowcount
        if not updated:
            raise AuthError(f"There is no user {username!r}.")

    @staticmethod
    def _admins(conn: sa.Connection) -> list[str]:
        return list(conn.execute(sa.select(users.c.username).where(users.c.role == "admin")).scalars())


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"The password is too short: use at least {MIN_PASSWORD_LENGTH} characters.")


# Verifying against a real hash when the user does not exist keeps sign-in time the same for unknown users,
# so the response time does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
