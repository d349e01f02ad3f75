import hashlib
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from collect import accounts as stored
from collect.database import make_engine
from collect.store import Store
from collect.tables import dashboard_sessions, dashboard_sign_in_tickets
from collect.tables import dashboard_users as users
from dashboard.auth import (
    ACCOUNT_FREE_FAILURES,
    ADDRESS_FREE_FAILURES,
    FIRST_LOCK,
    IDLE_TIMEOUT,
    LONGEST_LOCK,
    MAX_SESSION,
    TICKET_LIFETIME,
    TOUCH_EVERY,
    Accounts,
    AuthError,
    SignInLocked,
    session_key,
)

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


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
    session = accounts.open_session(accounts.verify("r", "a long password"))
    t0 = session.signed_in_at
    assert not session.expired(t0 + IDLE_TIMEOUT - timedelta(seconds=1))
    assert session.expired(t0 + IDLE_TIMEOUT + timedelta(seconds=1))
    late = t0 + MAX_SESSION + timedelta(minutes=1)
    assert session.touched(late - timedelta(minutes=2)).expired(late)  # active, but signed in too long ago


def signed_in(accounts, username="ana", at=T0) -> str:
    """A browser's session token, got the way the sign-in gets it: password, ticket, redeemed at once."""
    if stored.get_account(accounts.store, username) is None:
        accounts.add(username, "coordinator", "a long password")
    return accounts.redeem_ticket(accounts.issue_ticket(username, now=at), now=at)


def last_seen(accounts, token) -> datetime:
    return stored.get_session(accounts.store, session_key(token))[0].last_seen


def test_tokens_and_tickets_are_256_bit_random_and_stored_only_as_sha256(accounts):
    accounts.add("ana", "coordinator", "a long password")
    ticket = accounts.issue_ticket("ana", now=T0)
    with accounts.store.engine.connect() as conn:
        assert (
            conn.execute(sa.select(dashboard_sign_in_tickets.c.ticket_hash)).scalar_one()
            == hashlib.sha256(ticket.encode()).hexdigest()
        )
    token = accounts.redeem_ticket(ticket, now=T0)
    with accounts.store.engine.connect() as conn:
        rows = conn.execute(sa.select(dashboard_sessions)).all()
        assert conn.execute(sa.select(dashboard_sign_in_tickets)).all() == []
    assert [(r.token_hash, r.username) for r in rows] == [(hashlib.sha256(token.encode()).hexdigest(), "ana")]
    assert token not in str(rows) and len(token) == len(ticket) == 43  # 32 bytes, URL-safe base64
    assert token != ticket and signed_in(accounts) not in (token, ticket)


def test_a_ticket_works_once_and_only_within_its_lifetime(accounts):
    accounts.add("ana", "coordinator", "a long password")
    ticket = accounts.issue_ticket("ana", now=T0)
    assert accounts.redeem_ticket(ticket, now=T0 + TICKET_LIFETIME - timedelta(seconds=1))
    assert accounts.redeem_ticket(ticket, now=T0 + timedelta(seconds=2)) is None
    late = accounts.issue_ticket("ana", now=T0)
    assert accounts.redeem_ticket(late, now=T0 + TICKET_LIFETIME) is None
    assert accounts.redeem_ticket("made-up", now=T0) is None


def test_a_stored_session_knows_its_user_and_ends_when_idle_or_too_old(accounts):
    token = signed_in(accounts)
    session = accounts.session(session_key(token), now=T0 + timedelta(minutes=20))
    assert (session.user.username, session.user.role, session.key) == ("ana", "coordinator", session_key(token))
    assert session.signed_in_at == T0 and session.last_seen == T0 + timedelta(minutes=20)
    idle_too_long = T0 + timedelta(minutes=20) + IDLE_TIMEOUT + timedelta(seconds=1)
    assert accounts.session(session_key(token), now=idle_too_long) is None
    assert stored.get_session(accounts.store, session_key(token)) is None  # the expired row is deleted

    busy = signed_in(accounts, at=T0)
    for minutes in range(20, 12 * 60, 20):  # active every 20 minutes, so never idle
        assert accounts.session(session_key(busy), now=T0 + timedelta(minutes=minutes)) is not None
    assert accounts.session(session_key(busy), now=T0 + MAX_SESSION + timedelta(seconds=1)) is None


def test_activity_is_written_at_most_every_minute(accounts):
    token = signed_in(accounts)
    accounts.session(session_key(token), now=T0 + TOUCH_EVERY - timedelta(seconds=1))
    assert last_seen(accounts, token) == T0
    accounts.session(session_key(token), now=T0 + TOUCH_EVERY)
    assert last_seen(accounts, token) == T0 + TOUCH_EVERY


def test_sign_out_a_new_password_or_removal_end_sessions(accounts):
    accounts.add("boss", "admin", "a long password")
    laptop, phone, other = signed_in(accounts), signed_in(accounts), signed_in(accounts, "boss")
    accounts.end_session(session_key(laptop))
    assert accounts.session(session_key(laptop), now=T0) is None and accounts.session(session_key(phone), now=T0)
    pending = accounts.issue_ticket("ana", now=T0)
    accounts.set_password("ana", "a new long password")
    assert accounts.session(session_key(phone), now=T0) is None
    assert accounts.redeem_ticket(pending, now=T0) is None
    again = signed_in(accounts)
    accounts.remove("ana")
    assert accounts.session(session_key(again), now=T0) is None
    assert accounts.session(session_key(other), now=T0).user.username == "boss"


def test_a_rehash_at_sign_in_keeps_the_sessions(accounts):
    """New argon2 parameters rehash a password when it is next typed; that must not sign out the other browsers."""
    old_hash = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("a long password")
    stored.add_account(accounts.store, stored.Account("ana", "coordinator", old_hash, False, T0))
    token = signed_in(accounts)
    assert accounts.verify("ana", "a long password")
    assert stored.get_account(accounts.store, "ana").password_hash != old_hash
    assert accounts.session(session_key(token), now=T0) is not None


def test_a_pending_password_change_shows_in_the_stored_session(accounts):
    """The session reads the account on every rerun: a one-time password still has to be changed after a reload."""
    one_time = accounts.add("ana", "coordinator")
    user = accounts.verify("ana", one_time)
    token = accounts.redeem_ticket(accounts.issue_ticket(user.username, now=T0), now=T0)
    assert accounts.session(session_key(token), now=T0).user.must_change_password


def test_each_sign_in_sweeps_the_sessions_left_to_expire(accounts):
    forgotten = signed_in(accounts, at=T0)
    signed_in(accounts, at=T0 + IDLE_TIMEOUT + timedelta(seconds=1))
    assert stored.get_session(accounts.store, session_key(forgotten)) is None


def test_a_disabled_account_cannot_sign_in_and_its_sessions_end_until_enabled(accounts):
    accounts.add("boss", "admin", "a long password")
    browser, pending = signed_in(accounts), accounts.issue_ticket("ana", now=T0)
    accounts.disable("ana", now=T0)
    assert accounts.session(session_key(browser), now=T0) is None and accounts.redeem_ticket(pending, now=T0) is None
    assert accounts.verify("ana", "a long password") is None
    assert [u.disabled for u in accounts.list() if u.username == "ana"] == [True]
    accounts.enable("ana")
    assert accounts.verify("ana", "a long password").username == "ana"
    with pytest.raises(AuthError, match="last enabled admin"):
        accounts.disable("boss")
    accounts.add("boss2", "admin", "a long password")
    accounts.disable("boss")
    with pytest.raises(AuthError, match="last admin"):
        accounts.remove("boss2")  # the other admin is disabled: someone must still be able to manage accounts


def test_failed_sign_ins_lock_the_account_with_growing_back_off(accounts):
    accounts.add("ana", "coordinator", "a long password")
    for attempt in range(ACCOUNT_FREE_FAILURES):
        assert accounts.verify("ana", f"guess {attempt}", address="203.0.113.7", now=T0) is None
    with pytest.raises(SignInLocked) as locked:  # even the right password, from any address, until the lock ends
        accounts.verify("ana", "a long password", address="198.51.100.1", now=T0 + timedelta(seconds=10))
    assert locked.value.until == T0 + FIRST_LOCK
    assert str(locked.value) == "Too many failed sign-in attempts: wait 1 min and try again."
    after = T0 + FIRST_LOCK + timedelta(seconds=1)
    assert accounts.verify("ana", "one more guess", address="203.0.113.7", now=after) is None
    with pytest.raises(SignInLocked) as locked:
        accounts.verify("ana", "a long password", now=after)
    assert locked.value.until == after + 2 * FIRST_LOCK
    later = after + 2 * FIRST_LOCK + timedelta(seconds=1)
    assert accounts.verify("ana", "a long password", now=later).username == "ana"
    assert accounts.verify("ana", "a typo", now=later) is None  # the success cleared the count: no lock yet
    assert accounts.verify("ana", "a long password", now=later).username == "ana"


def test_back_off_is_capped(accounts):
    accounts.add("ana", "coordinator", "a long password")
    for attempt in range(ACCOUNT_FREE_FAILURES + 12):  # each after the previous lock ended
        now = T0 + attempt * (LONGEST_LOCK + timedelta(seconds=1))
        assert accounts.verify("ana", "guess", now=now) is None
    with pytest.raises(SignInLocked) as locked:
        accounts.verify("ana", "guess", now=now + timedelta(seconds=1))
    assert locked.value.until == now + LONGEST_LOCK


def test_failed_sign_ins_lock_the_address_across_accounts_and_processes(accounts, tmp_path):
    accounts.add("ana", "coordinator", "a long password")
    # Another process guesses 20 different usernames from one address.
    script = (
        "import sys; from datetime import datetime; from collect.store import Store; from dashboard.auth import Accounts;"
        "a = Accounts(Store.open(sys.argv[1])); now = datetime.fromisoformat(sys.argv[2]);"
        f"[a.verify(f'user{{i}}', 'guess', address='203.0.113.7', now=now) for i in range({ADDRESS_FREE_FAILURES})]"
    )
    subprocess.run(
        [sys.executable, "-c", script, str(accounts.store.engine.url), T0.isoformat()],
        check=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )
    with pytest.raises(SignInLocked):
        accounts.verify("ana", "a long password", address="203.0.113.7", now=T0 + timedelta(seconds=5))
    assert (
        accounts.verify("ana", "a long password", address="198.51.100.1", now=T0 + timedelta(seconds=5)).username
        == "ana"
    )


def test_argon2_runs_in_a_separate_lowest_priority_process():
    from dashboard import passwords

    assert passwords._executor().submit(os.getpid).result() != os.getpid()
    assert passwords._executor().submit(os.getpriority, os.PRIO_PROCESS, 0).result() == 19
    password_hash = passwords.hash_password("a long password")
    assert passwords.verify_password(password_hash, "a long password") == (True, False)
    assert passwords.verify_password(password_hash, "another") == (False, False)
