"""Stored dashboard accounts, sessions and sign-in tickets (collect.accounts), on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from collect import accounts
from collect.errors import Conflict, NotFound
from collect.tables import dashboard_sessions, dashboard_sign_in_tickets

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def account(name: str, role: str = "coordinator") -> accounts.Account:
    return accounts.Account(name, role, f"$argon2id$hash-of-{name}", True, NOW)


def test_accounts_are_added_read_listed_and_counted(store):
    assert accounts.count_accounts(store) == 0 and accounts.get_account(store, "ana") is None
    accounts.add_account(store, account("ana"))
    accounts.add_account(store, account("admin", "admin"))
    assert accounts.get_account(store, "ana") == account("ana")
    assert [a.username for a in accounts.list_accounts(store)] == ["admin", "ana"]
    assert accounts.count_accounts(store) == 2
    with pytest.raises(Conflict, match="'ana' already exists"):
        accounts.add_account(store, account("ana", "researcher"))
    assert accounts.get_account(store, "ana").role == "coordinator"


def test_password_hash_is_replaced_only_for_a_known_user(store):
    accounts.add_account(store, account("ana"))
    accounts.set_password_hash(store, "ana", "$argon2id$new", False, end_sessions=True)
    assert (
        accounts.get_account(store, "ana").password_hash,
        accounts.get_account(store, "ana").must_change_password,
    ) == ("$argon2id$new", False)
    with pytest.raises(NotFound, match="no user 'bob'"):
        accounts.set_password_hash(store, "bob", "$argon2id$x", False, end_sessions=True)


def test_the_last_account_of_the_kept_role_cannot_be_removed(store):
    accounts.add_account(store, account("root", "admin"))
    accounts.add_account(store, account("ana"))
    with pytest.raises(Conflict, match="last admin account"):
        accounts.remove_account(store, "root", keep_last="admin")
    accounts.remove_account(store, "ana", keep_last="admin")
    with pytest.raises(NotFound, match="no user 'ana'"):
        accounts.remove_account(store, "ana", keep_last="admin")
    accounts.add_account(store, account("second", "admin"))
    accounts.remove_account(store, "root", keep_last="admin")
    assert [a.username for a in accounts.list_accounts(store)] == ["second"]


def session_hashes(store, username: str) -> set[str]:
    with store.engine.connect() as conn:
        return set(
            conn.execute(
                sa.select(dashboard_sessions.c.token_hash).where(dashboard_sessions.c.username == username)
            ).scalars()
        )


def ticket_hashes(store) -> set[str]:
    with store.engine.connect() as conn:
        return set(conn.execute(sa.select(dashboard_sign_in_tickets.c.ticket_hash)).scalars())


def signed_in(store, username: str, token_hash: str, at: datetime = NOW) -> None:
    """Open a session the way the sign-in does: a ticket, redeemed at once."""
    accounts.add_ticket(store, f"ticket-for-{token_hash}", username, at + MINUTE)
    assert accounts.redeem_ticket(store, f"ticket-for-{token_hash}", token_hash, at) == username


def test_a_ticket_opens_one_session_once_and_only_before_it_expires(store):
    accounts.add_account(store, account("ana"))
    accounts.add_ticket(store, "t1", "ana", NOW + MINUTE)
    accounts.add_ticket(store, "t2", "ana", NOW + MINUTE)
    assert accounts.redeem_ticket(store, "t1", "s1", NOW + MINUTE - timedelta(seconds=1)) == "ana"
    assert accounts.redeem_ticket(store, "t1", "s1-again", NOW + MINUTE - timedelta(seconds=1)) is None
    assert accounts.redeem_ticket(store, "unknown", "s3", NOW) is None
    assert accounts.redeem_ticket(store, "t2", "s2", NOW + MINUTE) is None  # expired: valid strictly before
    assert session_hashes(store, "ana") == {"s1"}
    assert ticket_hashes(store) == set()  # the used one and the expired one are both gone


def test_a_session_is_read_with_its_account_touched_and_ended(store):
    accounts.add_account(store, account("ana"))
    signed_in(store, "ana", "s1")
    stored, owner = accounts.get_session(store, "s1")
    assert stored == accounts.StoredSession("s1", "ana", NOW, NOW) and owner == account("ana")
    accounts.touch_session(store, "s1", NOW + 5 * MINUTE)
    assert accounts.get_session(store, "s1")[0].last_seen == NOW + 5 * MINUTE
    accounts.end_session(store, "s1")
    accounts.end_session(store, "s1")  # ending an ended session is fine
    assert accounts.get_session(store, "s1") is None


def test_a_new_password_ends_the_users_sessions_and_tickets_but_a_rehash_does_not(store):
    accounts.add_account(store, account("ana"))
    accounts.add_account(store, account("bob"))
    signed_in(store, "ana", "ana-laptop")
    signed_in(store, "ana", "ana-phone")
    signed_in(store, "bob", "bob-laptop")
    accounts.add_ticket(store, "ana-pending", "ana", NOW + MINUTE)
    accounts.add_ticket(store, "bob-pending", "bob", NOW + MINUTE)
    accounts.set_password_hash(store, "ana", "$argon2id$rehashed", False, end_sessions=False)
    assert session_hashes(store, "ana") == {"ana-laptop", "ana-phone"}
    accounts.set_password_hash(store, "ana", "$argon2id$new", False, end_sessions=True)
    assert session_hashes(store, "ana") == set() and ticket_hashes(store) == {"bob-pending"}
    assert session_hashes(store, "bob") == {"bob-laptop"}


def test_removing_an_account_removes_its_sessions_and_tickets(store):
    accounts.add_account(store, account("root", "admin"))
    accounts.add_account(store, account("ana"))
    signed_in(store, "ana", "ana-laptop")
    signed_in(store, "root", "root-laptop")
    accounts.add_ticket(store, "ana-pending", "ana", NOW + MINUTE)
    accounts.remove_account(store, "ana", keep_last="admin")
    assert session_hashes(store, "ana") == set() and ticket_hashes(store) == set()
    assert accounts.get_session(store, "ana-laptop") is None
    assert session_hashes(store, "root") == {"root-laptop"}


def test_stale_sessions_are_swept(store):
    accounts.add_account(store, account("ana"))
    signed_in(store, "ana", "idle", at=NOW)
    signed_in(store, "ana", "old-but-active", at=NOW)
    accounts.touch_session(store, "old-but-active", NOW + 50 * MINUTE)
    signed_in(store, "ana", "fresh", at=NOW + 50 * MINUTE)
    swept = accounts.end_stale_sessions(store, seen_before=NOW + 20 * MINUTE, signed_in_before=NOW)
    assert swept == 1 and session_hashes(store, "ana") == {"old-but-active", "fresh"}
    assert accounts.end_stale_sessions(store, seen_before=NOW, signed_in_before=NOW + 10 * MINUTE) == 1
    assert session_hashes(store, "ana") == {"fresh"}
