"""Benchmark: how heavy the Enketo web form is for a volunteer's phone, and how fast it opens.

Prints the shipped bundle's size (raw and gzip, what a first visit downloads); the XForm → Enketo transform of the
shipped questionnaire on the server (lxml, first time and cached) beside the peer it replaces, enketo-transformer's
browser build in Chromium with XSLT (needs `cd webform && npm ci`; skipped without it); then, in Debian's headless
Chromium with XSLT turned off against our collection server (in-process uvicorn, temporary SQLite store):
- cold open: a fresh browser profile, from navigation until the form is rendered (download, service worker
  install, the transformed form and CSV, enketo-core render);
- warm open: a reload (bundle from the service worker cache, form revalidated over the network);
- offline open: a reload with the network cut (everything from the service worker cache);
- finish: from tapping "Terminar entrevista" on a short interview to the record saved in IndexedDB.

    python benchmarks/webform_load.py [repeats]      # the shipped bundle (collect/webform_dist/)
"""

import gzip
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from collect.asgi import create_app  # noqa: E402
from collect.enketo_transform import transform  # noqa: E402
from collect.store import Store  # noqa: E402
from collect.volunteers import add_volunteer  # noqa: E402
from collect.webform import DIST  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "webform" / "transform"))
from make_golden import WEBFORM, media_of, reference_bundle  # noqa: E402

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WITHOUT_XSLT = "--disable-blink-features=XSLT"
READY = "body[data-ready=true]"


def bundle_sizes() -> None:
    print("| file | raw | gzip -6 |\n|---|---|---|")
    for path in sorted((DIST / "assets").glob("webform-*.[jc]s*")):
        raw = path.read_bytes()
        print(f"| {path.name} | {len(raw) / 1024:.0f} KiB | {len(gzip.compress(raw, 6)) / 1024:.0f} KiB |")


def transform_times(xform: bytes, repeats: int) -> None:
    """The server's transform (lxml) beside enketo-transformer's browser build (XSLTProcessor), same form."""
    media = media_of(xform.decode())
    first = timed(lambda: transform(xform, media))
    server = [timed(lambda: transform(xform, media)) for _ in range(repeats)]
    print(
        f"\n| transform of the shipped XForm ({len(xform) / 1024:.0f} KiB), {repeats} runs | median | max |\n|---|---|---|"
    )
    print(f"| server, lxml (collect.enketo_transform), first call in the process | {first:.2f} s | |")
    print(
        f"| server, lxml, again (what the per-version cache saves) | {statistics.median(server):.2f} s | {max(server):.2f} s |"
    )
    if not (WEBFORM / "node_modules" / ".bin" / "esbuild").exists():
        print("| enketo-transformer in Chromium: skipped (run `cd webform && npm ci`) | | |")
        return
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        bundle = reference_bundle(Path(folder))
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_content("<!doctype html><title>transformer</title>")
        page.add_script_tag(path=str(bundle))
        run = """async ([xform, media]) => { const t = performance.now(); await window.enketoTransform({ xform, media });
                 return (performance.now() - t) / 1000; }"""
        browser_times = [page.evaluate(run, [xform.decode(), media]) for _ in range(repeats)]
        browser.close()
    print(
        f"| peer: enketo-transformer 4.2.0 in Chromium (XSLTProcessor), on the phone | {statistics.median(browser_times):.2f} s | {max(browser_times):.2f} s |"
    )


def serve(store: Store) -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(store), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}"


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main(repeats: int) -> None:
    bundle_sizes()
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(f"sqlite:///{folder}/sdg16.db")
        base = serve(store)
        url = f"{add_volunteer(store, 'bench').server_url(base)}/forms/sdg16_perception/webform"
        transform_times(store.form_xml("sdg16_perception"), repeats)
        figures: dict[str, list[float]] = {"cold open": [], "warm open": [], "offline open": [], "finish": []}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=[*CHROMIUM_ARGS, WITHOUT_XSLT]
            )
            for _ in range(repeats):
                context = browser.new_context()
                page = context.new_page()
                figures["cold open"].append(
                    timed(lambda: (page.goto(url), page.wait_for_selector(READY, timeout=120_000)))
                )
                figures["warm open"].append(timed(lambda: (page.reload(), page.wait_for_selector(READY))))
                context.set_offline(True)
                figures["offline open"].append(timed(lambda: (page.reload(), page.wait_for_selector(READY))))
                page.check('form.or input[name$="/district"][value="moche"]')
                page.check('form.or input[name$="/neighbourhood"][value="moche"]')
                page.fill('form.or input[name$="/psu"]', "MO-001")
                page.press('form.or input[name$="/psu"]', "Tab")
                page.check('form.or input[name$="/consent"][value="no"]')
                figures["finish"].append(
                    timed(lambda: (page.click("#submit-form"), page.wait_for_selector('#status[data-ui="saved"]')))
                )
                context.close()
            browser.close()
        store.close()
    print(f"\n| {repeats} runs | median | max |\n|---|---|---|")
    for case, seconds in figures.items():
        print(f"| {case} | {statistics.median(seconds):.2f} s | {max(seconds):.2f} s |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
