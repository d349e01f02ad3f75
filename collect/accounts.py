"""Dashboard sign-in accounts as stored: one row per user with a role and a password hash.

The rows live in the store's database (table `dashboard_users`, made by migration 0003) so that a PostgreSQL
deployment keeps accounts, submissions and volunteers together and every replica sees the same accounts. This
module only reads and writes rows; hashing, password rules and sessions are the dashboard's (dashboard/auth.py).
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from collect import tables
from collect.errors import Conflict, NotFound
from collect.store import Store, utc

users = tables.dashboard_users


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    password_hash: str
    must_change_password: bool
    created_at: datetime


def _account(row) -> Account:
    return Account(row.username, row.role, row.password_hash, bool(row.must_change_password), utc(row.created_at))


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


def set_password_hash(store: Store, username: str, password_hash: str, must_change_password: bool) -> None:
    """Replace an account's hash (and whether it is a one-time password); `NotFound` for an unknown user."""
    with store.write() as conn:
        updated = conn.execute(users.update().where(users.c.username == username)
                               .values(password_hash=password_hash, must_change_password=must_change_password)).rowcount
    if not updated:
        raise NotFound(f"There is no user {username!r}.")


def remove_account(store: Store, username: str, keep_last: str) -> None:
    """Delete an account, refusing (`Conflict`) to delete the last one with role `keep_last` (the check and the
    delete are one transaction, so two coordinators cannot each remove one of the last two admins)."""
    with store.write() as conn:
        holders = list(conn.execute(sa.select(users.c.username).where(users.c.role == keep_last)).scalars())
        if holders == [username]:
            raise Conflict(f"This is the last {keep_last} account; add another {keep_last} before removing it.")
        if not conn.execute(users.delete().where(users.c.username == username)).rowcount:
            raise NotFound(f"There is no user {username!r}.")
