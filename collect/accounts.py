"""Dashboard sign-in accounts as stored: one row per user with a role and a password hash, their sessions, and
the failed sign-ins that throttle password guessing (table made by migration 0008).

The rows live in the store's database (table `dashboard_users`, made by migration 0003; the sessions and one-time
sign-in tickets by 0004) so that a PostgreSQL deployment keeps accounts, submissions and volunteers together and
every replica sees the same accounts and sessions. This module only reads and writes rows, given hashes; making
tokens, hashing, password rules and expiry are the dashboard's (dashboard/auth.py). Sessions and tickets belong to
their account: removing the account deletes them (foreign keys ON DELETE CASCADE), and so may a password change.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from collect import tables
from collect.errors import Conflict, NotFound
from collect.store import Store, utc

users = tables.dashboard_users
sessions = tables.dashboard_sessions
tickets = tables.dashboard_sign_in_tickets
failures = tables.dashboard_sign_in_failures


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    password_hash: str
    must_change_password: bool
    created_at: datetime
    disabled_at: datetime | None = None
    language: str | None = None  # the dashboard language the user chose (None: never chose one)


@dataclass(frozen=True)
class StoredSession:
    token_hash: str
    username: str
    signed_in_at: datetime
    last_seen: datetime


def _account(row) -> Account:
    return Account(
        row.username,
        row.role,
        row.password_hash,
        bool(row.must_change_password),
        utc(row.created_at),
        utc(row.disabled_at),
        row.language,
    )


def get_account(store: Store, username: str) -> Account | None:
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(users).where(users.c.username == username)).first()
    return _account(row) if row else None


def list_accounts(store: Store) -> list[Account]:
    """Every account, by username."""
    with store.engine.connect() as conn:
        return [_account(row) for row in conn.execute(sa.select(users).order_by(users.c.username))]


def count_accounts(store: Store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(users)).scalar_one()


def add_account(store: Store, account: Account) -> None:
    """Insert a new account; `Conflict` if the username is taken (checked in the same transaction)."""
    with store.write() as conn:
        if conn.execute(sa.select(users.c.username).where(users.c.username == account.username)).first():
            raise Conflict(f"The user {account.username!r} already exists.")
        conn.execute(users.insert().values(**account.__dict__))


def set_password_hash(
    store: Store, username: str, password_hash: str, must_change_password: bool, *, end_sessions: bool
) -> None:
    """Replace an account's hash (and whether it is a one-time password); `NotFound` for an unknown user.

    With `end_sessions`, the user's sessions and pending sign-in tickets are deleted in the same transaction: a new
    password must sign out whoever knew the old one. A rehash of the same password (new argon2 parameters) must not.
    """
    with store.write() as conn:
        updated = conn.execute(
            users.update()
            .where(users.c.username == username)
            .values(password_hash=password_hash, must_change_password=must_change_password)
        ).rowcount
        if updated and end_sessions:
            conn.execute(sessions.delete().where(sessions.c.username == username))
            conn.execute(tickets.delete().where(tickets.c.username == username))
    if not updated:
        raise NotFound(f"There is no user {username!r}.")


def set_language(store: Store, username: str, language: str) -> None:
    """Remember the dashboard language an account's user chose; `NotFound` for an unknown user."""
    with store.write() as conn:
        if not conn.execute(users.update().where(users.c.username == username).values(language=language)).rowcount:
            raise NotFound(f"There is no user {username!r}.")


def remove_account(store: Store, username: str, keep_last: str) -> None:
    """Delete an account, refusing (`Conflict`) to delete the last enabled one with role `keep_last` (the check and the
    delete are one transaction, so two coordinators cannot each remove one of the last two admins)."""
    with store.write() as conn:
        holders = list(
            conn.execute(
                sa.select(users.c.username).where(users.c.role == keep_last, users.c.disabled_at.is_(None))
            ).scalars()
        )
        if holders == [username]:
            raise Conflict(f"This is the last {keep_last} account; add another {keep_last} before removing it.")
        if not conn.execute(users.delete().where(users.c.username == username)).rowcount:
            raise NotFound(f"There is no user {username!r}.")


def set_disabled(store: Store, username: str, disabled_at: datetime | None, keep_last: str) -> None:
    """Disable an account (`disabled_at` a time) or enable it again (None); `NotFound` for an unknown user. Disabling
    deletes the account's sessions and pending tickets in the same transaction, and is refused (`Conflict`) for the
    last enabled account with role `keep_last`, so that someone can still manage the accounts."""
    with store.write() as conn:
        account = conn.execute(sa.select(users).where(users.c.username == username)).first()
        if account is None:
            raise NotFound(f"There is no user {username!r}.")
        if disabled_at is not None:
            holders = list(
                conn.execute(
                    sa.select(users.c.username).where(users.c.role == keep_last, users.c.disabled_at.is_(None))
                ).scalars()
            )
            if holders == [username]:
                raise Conflict(
                    f"This is the last enabled {keep_last} account; add or enable another {keep_last} first."
                )
            conn.execute(sessions.delete().where(sessions.c.username == username))
            conn.execute(tickets.delete().where(tickets.c.username == username))
        conn.execute(users.update().where(users.c.username == username).values(disabled_at=disabled_at))


def add_ticket(store: Store, ticket_hash: str, username: str, expires_at: datetime) -> None:
    """Store a one-time sign-in ticket of an existing account."""
    with store.write() as conn:
        conn.execute(tickets.insert().values(ticket_hash=ticket_hash, username=username, expires_at=expires_at))


def redeem_ticket(store: Store, ticket_hash: str, token_hash: str, now: datetime) -> str | None:
    """Use a ticket once: delete it and, unless it had expired, open a session under `token_hash` for its user.

    Returns the username, or None for an unknown, used or expired ticket. The session is opened only when this
    transaction's DELETE removed the ticket, so two requests racing with one ticket cannot both get a session.
    Expired tickets (of anyone) are swept on the way.
    """
    with store.write() as conn:
        username = conn.execute(
            sa.select(tickets.c.username).where(tickets.c.ticket_hash == ticket_hash, tickets.c.expires_at > now)
        ).scalar()
        taken = conn.execute(tickets.delete().where(tickets.c.ticket_hash == ticket_hash)).rowcount
        conn.execute(tickets.delete().where(tickets.c.expires_at <= now))
        if username is None or not taken:
            return None
        conn.execute(
            sessions.insert().values(token_hash=token_hash, username=username, signed_in_at=now, last_seen=now)
        )
    return username


def add_session(store: Store, token_hash: str, username: str, now: datetime) -> None:
    """Open a session of an existing account under `token_hash` (a tab signed in by the form)."""
    with store.write() as conn:
        conn.execute(
            sessions.insert().values(token_hash=token_hash, username=username, signed_in_at=now, last_seen=now)
        )


def get_session(store: Store, token_hash: str) -> tuple[StoredSession, Account] | None:
    """The session stored under `token_hash` with its account (one query: it runs on every rerun), or None."""
    query = (
        sa.select(sessions.c.token_hash, sessions.c.signed_in_at, sessions.c.last_seen, users)
        .join(users, users.c.username == sessions.c.username)
        .where(sessions.c.token_hash == token_hash)
    )
    with store.engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        return None
    return StoredSession(row.token_hash, row.username, utc(row.signed_in_at), utc(row.last_seen)), _account(row)


def touch_session(store: Store, token_hash: str, now: datetime) -> None:
    """Record activity on a session (its idle timeout counts from `now`)."""
    with store.write() as conn:
        conn.execute(sessions.update().where(sessions.c.token_hash == token_hash).values(last_seen=now))


def end_session(store: Store, token_hash: str) -> None:
    """Delete a session (sign-out, expiry); nothing happens for an unknown one."""
    with store.write() as conn:
        conn.execute(sessions.delete().where(sessions.c.token_hash == token_hash))


def end_stale_sessions(store: Store, seen_before: datetime, signed_in_before: datetime) -> int:
    """Delete the sessions last seen before `seen_before` or signed in before `signed_in_before`; how many.

    Expired sessions are refused when read anyway; this only keeps sessions that were never signed out from piling up.
    """
    with store.write() as conn:
        return conn.execute(
            sessions.delete().where(
                sa.or_(sessions.c.last_seen < seen_before, sessions.c.signed_in_at < signed_in_before)
            )
        ).rowcount


def sign_in_locked_until(store: Store, keys: list[str], now: datetime) -> datetime | None:
    """The latest lock still running on any of `keys` (an account, an address), or None."""
    with store.engine.connect() as conn:
        until = conn.execute(
            sa.select(sa.func.max(failures.c.locked_until)).where(
                failures.c.key.in_(keys), failures.c.locked_until > now
            )
        ).scalar()
    return utc(until) if until is not None else None


def record_sign_in_failure(
    store: Store, key: str, now: datetime, lock_for: Callable[[int], timedelta], forget_after: timedelta
) -> int:
    """Count a failed sign-in under `key` (counting afresh after `forget_after` without failures) and lock the key
    for `lock_for(failures)` from now (no lock for a zero duration); returns the count. Rows idle for `forget_after`
    are swept on the way, so that guessed usernames do not pile up."""
    with store.write() as conn:
        conn.execute(failures.delete().where(failures.c.last_failure < now - forget_after))
        count = (conn.execute(sa.select(failures.c.failures).where(failures.c.key == key)).scalar() or 0) + 1
        lock = lock_for(count)
        values = {"failures": count, "last_failure": now, "locked_until": now + lock if lock else None}
        if count == 1:
            conn.execute(failures.insert().values(key=key, **values))
        else:
            conn.execute(failures.update().where(failures.c.key == key).values(**values))
    return count


def clear_sign_in_failures(store: Store, key: str) -> None:
    """Forget the failures under `key` (the account signed in)."""
    with store.write() as conn:
        conn.execute(failures.delete().where(failures.c.key == key))
