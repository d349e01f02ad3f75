"""`streamlit run app.py` as a subprocess on a free port, for the tests that need the whole thing running."""

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from collect_samples import free_port

ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def running_app(data_dir: Path, **env: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """The app on SQLite in `data_dir` (plus `env`); yields (its URL, the streamlit process) once it is healthy."""
    port = free_port()
    environment = {
        **os.environ,
        "SDG16_DATA_DIR": str(data_dir),
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(ROOT),
        **env,
    }
    environment.pop("SDG16_DATABASE_URL", None)
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
    ]
    log = data_dir / "console.log"
    with log.open("w") as console:
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=console, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/_stcore/health", timeout=2).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("streamlit run app.py did not start:\n" + log.read_text())
            time.sleep(0.3)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=30)


def workers(pid: int) -> list[int]:
    """The OpenRosa worker processes among the children of `pid` (Linux /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return [child for child in found if "collect.workers" in _cmdline(child)]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:  # it has just exited
        return ""
