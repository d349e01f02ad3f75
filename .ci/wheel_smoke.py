"""Smoke test of an installed wheel, run by .ci/run inside a fresh virtual environment, from an empty folder.

Proves that the modules load from the wheel (not from a checkout, and not from an unrelated distribution that
installs a `forms`, `collect`, `analysis` or `dashboard` module of the same name), that the package data are
there, that `sdg16 forms build` compiles the shipped questionnaire, and that the app started as the wheel installs
it serves the dashboard and the phones' formList on one port.
"""

import importlib
import os
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from pathlib import Path

SITE = Path(sysconfig.get_paths()["purelib"]).resolve()
PACKAGES = ["forms", "collect", "analysis", "dashboard", "sdg16"]
OURS = {"forms": "build", "collect": "store", "analysis": "pipeline", "dashboard": "data", "sdg16": "cli"}


def check_modules() -> None:
    for name in PACKAGES:
        module = importlib.import_module(f"{name}.{OURS[name]}")  # a module only this project's package has
        where = Path(module.__file__).resolve()
        assert where.is_relative_to(SITE), f"{name} loads from {where}, not from the wheel in {SITE}"
    from analysis.margins import DATA
    from collect.database import MIGRATIONS
    from sdg16.dashboard_commands import app_script

    for path in (
        DATA / "neighbourhoods.csv",
        DATA / "population_trujillo_2017.csv",
        DATA / "neighbourhoods.geojson",
        MIGRATIONS / "env.py",
        MIGRATIONS / "versions" / "0001_initial.py",
        app_script(),
        SITE / "analysis" / "plans" / "sdg16.toml",
        SITE / "forms" / "sdg16_perception.xlsx",
    ):
        assert path.is_file() and path.resolve().is_relative_to(SITE), f"missing from the wheel: {path}"
    print("modules and package data load from", SITE)


def check_forms_build(sdg16: str) -> None:
    done = subprocess.run([sdg16, "forms", "build", "--out", "built"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert list(Path("built").glob("*.xml")), "sdg16 forms build wrote no XForm"
    print("sdg16 forms build:", sorted(p.name for p in Path("built").iterdir()))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def check_app(sdg16: str) -> None:
    port = free_port()
    env = os.environ | {"SDG16_DATA_DIR": str(Path("data-dir").resolve())}
    server = subprocess.Popen(
        [sdg16, "app", "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as page:
                    assert page.status == 200
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                assert server.poll() is None and time.monotonic() < deadline, "the app did not start"
                time.sleep(1)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/projects/trujillo/formList", headers={"X-OpenRosa-Version": "1.0"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                status, headers = answer.status, answer.headers
        except urllib.error.HTTPError as error:
            status, headers = error.code, error.headers
        assert status in (200, 401), f"formList answered {status}"  # 401: Digest challenge, as OpenRosa asks
        assert headers.get("X-OpenRosa-Version") == "1.0", "formList is not answered by the OpenRosa routes"
        print(f"sdg16 app: dashboard 200, formList {status} on port {port}")
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    check_modules()
    sdg16 = str(Path(sys.executable).with_name("sdg16"))
    check_forms_build(sdg16)
    check_app(sdg16)
