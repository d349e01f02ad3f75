"""argon2id hashing off the request path: in one separate process, at the lowest CPU priority, one hash at a time.

An argon2 check is meant to be costly (64 MiB and four lanes by argon2-cffi's RFC 9106 defaults, ~50 ms of both
cores here). Run in the dashboard's own process, eight visitors guessing passwords kept every core busy and took the
phones' share (issue 13). Here the checks queue for a single child process at nice 19: a sign-in waits a little
longer under attack, and the OpenRosa workers and the dashboard's other sessions go first. Failed sign-ins are
throttled before they get here (dashboard.auth). The module imports only argon2, so the child starts quickly.
"""

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
_pool: ProcessPoolExecutor | None = None
_lock = threading.Lock()


def _start_child(parent: int) -> None:
    """In the hashing process: lowest CPU priority, and exit as soon as the dashboard process is gone."""
    os.nice(19)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def _executor() -> ProcessPoolExecutor:
    # spawn, not fork: the dashboard process runs many threads, and a forked copy of their locks can deadlock.
    global _pool
    with _lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(
                1, mp_context=multiprocessing.get_context("spawn"), initializer=_start_child, initargs=(os.getpid(),)
            )
        return _pool


def _run(function, *args):
    """`function(*args)` in the hashing process (started again if it died)."""
    global _pool
    try:
        return _executor().submit(function, *args).result()
    except BrokenProcessPool:
        with _lock:
            _pool = None
        return _executor().submit(function, *args).result()


def _hash(password: str) -> str:
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> tuple[bool, bool]:
    try:
        _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False, False
    return True, _hasher.check_needs_rehash(password_hash)


def hash_password(password: str) -> str:
    """An argon2id hash of `password`, made in the hashing process."""
    return _run(_hash, password)


def verify_password(password_hash: str, password: str) -> tuple[bool, bool]:
    """(whether `password` matches `password_hash`, whether the hash should be remade with today's parameters)."""
    return _run(_verify, password_hash, password)
