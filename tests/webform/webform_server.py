"""The collection server for the web form's browser tests: `uvicorn collect.asgi:app` on a free loopback port with
its own data folder (shared by conftest.py and the tests that start a server of their own)."""

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from collect.store import Store

REPO = Path(__file__).resolve().parents[2]
SERVER_START_SECONDS = 120  # publishing builds the questionnaire and runs ODK Validate (a JVM) on a cold cache


@dataclass(frozen=True)
class Server:
    base_url: str
    store: Store


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_serving(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the collection server exited with {process.returncode}:\n{log.read_text()}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail(f"the collection server did not answer within {SERVER_START_SECONDS} s:\n{log.read_text()}")


@contextlib.contextmanager
def serve(data_dir: Path, cwd: Path = REPO, path: str | None = None) -> Iterator[Server]:
    """`uvicorn collect.asgi:app` run from `cwd` with a fresh SQLite store in `data_dir`, as a coordinator would
    run it; `path` replaces the PATH it sees."""
    env = {**os.environ, "SDG16_DATA_DIR": str(data_dir)}
    env.pop("SDG16_DATABASE_URL", None)
    if path is not None:
        env["PATH"] = path
    port = _free_port()
    log = data_dir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "collect.asgi:app", "--host", "127.0.0.1", "--port", str(port)],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(process, base_url, log)
        store = Store.open(f"sqlite:///{data_dir / 'sdg16.db'}")
        yield Server(base_url, store)
        store.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
