"""Stored dashboard accounts (collect.accounts), on SQLite and PostgreSQL."""

from datetime import UTC, datetime

import pytest

from collect import accounts
from collect.errors import Conflict, NotFound

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


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
    accounts.set_password_hash(store, "ana", "$argon2id$new", False)
    assert (accounts.get_account(store, "ana").password_hash, accounts.get_account(store, "ana").must_change_password) == ("$argon2id$new", False)
    with pytest.raises(NotFound, match="no user 'bob'"):
        accounts.set_password_hash(store, "bob", "$argon2id$x", False)


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
