from datetime import timedelta

import pytest
import sqlalchemy as sa

from collect.database import make_engine
from collect.store import Store
from collect.tables import dashboard_users as users
from dashboard.auth import IDLE_TIMEOUT, MAX_SESSION, Accounts, AuthError, start_session


@pytest.fixture
def accounts(tmp_path):
    store = Store(make_engine(f"sqlite:///{tmp_path / 'a.db'}"))
    yield Accounts(store)
    store.close()


def test_password_is_stored_as_argon2_hash_and_verifies(accounts):
    accounts.add("ana", "coordinator", "a long password")
    with accounts.store.engine.connect() as conn:
        stored = conn.execute(sa.select(users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and "a long password" not in stored
    assert accounts.verify("ana", "a long password").role == "coordinator"
    assert accounts.verify("ana", "a wrong password") is None
    assert accounts.verify("nobody", "a long password") is None


def test_first_admin_gets_a_one_time_password_only_once(accounts):
    password = accounts.ensure_first_admin()
    user = accounts.verify("admin", password)
    assert user.role == "admin" and user.must_change_password
    assert accounts.ensure_first_admin() is None
    accounts.set_password("admin", "my own new password")
    assert not accounts.verify("admin", "my own new password").must_change_password
    assert accounts.verify("admin", password) is None


def test_bad_requests_are_named(accounts):
    with pytest.raises(AuthError, match="Unknown role 'boss'"):
        accounts.add("x", "boss", "a long password")
    with pytest.raises(AuthError, match="too short"):
        accounts.add("x", "researcher", "short")
    accounts.add("x", "researcher", "a long password")
    with pytest.raises(AuthError, match="already exists"):
        accounts.add("x", "admin", "a long password")
    with pytest.raises(AuthError, match="no user 'y'"):
        accounts.remove("y")


def test_the_last_admin_cannot_be_removed(accounts):
    accounts.add("boss", "admin", "a long password")
    with pytest.raises(AuthError, match="last admin"):
        accounts.remove("boss")
    accounts.add("boss2", "admin", "a long password")
    accounts.remove("boss")
    assert [u.username for u in accounts.list()] == ["boss2"]


def test_sessions_expire_when_idle_or_too_old(accounts):
    accounts.add("r", "researcher", "a long password")
    session = start_session(accounts.verify("r", "a long password"))
    t0 = session.signed_in_at
    assert not session.expired(t0 + IDLE_TIMEOUT - timedelta(seconds=1))
    assert session.expired(t0 + IDLE_TIMEOUT + timedelta(seconds=1))
    late = t0 + MAX_SESSION + timedelta(minutes=1)
    assert session.touched(late - timedelta(minutes=2)).expired(late)  # active, but signed in too long ago
