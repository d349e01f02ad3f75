"""How fast each dashboard page draws with many submissions in the store (issue 5: first render < 2 s,
filter change < 0.5 s with 100k submissions).

    python benchmarks/dashboard_render.py [--size 100000] [--data-dir /tmp/sdg16-bench]

The store is filled once with the demo generator at benchmark scale (`dashboard.demo.ingest_demo`, the
function the OpenRosa route calls, without HTTP) and reused on later runs. Each page is timed with Streamlit's
AppTest (the script run, not the browser's drawing), as a new session's first render in four situations:
- snapshot ready: the background warmer (dashboard.data.keep_warm, started by app.py) has computed the store's
  current snapshot: the normal case;
- just after new data: a review decision and 20 new submissions arrived a moment ago; the warmer, running in the
  same process as in the app, is computing the new snapshot while the page draws the previous one (and says so);
- first start on this store: nothing saved in the data folder yet (the very first start after a store was filled,
  e.g. by an import from the command line, or after an upgrade of the analysis code): the page draws a progress
  bar while the warmer computes the first snapshot, and fills in when it is ready ("data in": seconds from the
  server's start until then);
- after a restart: the last run saved its snapshot (the warmer does once the store is quiet for 30 s), which the
  new process loads at start and shows;
- filter change: a widget change on an open page (a rerun).
It also prints how long the warmer takes to make new data visible, and the parts of a snapshot.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORD = "benchmark password"
PAGES = {  # page → (role, a filter change on it)
    "monitoring": ("coordinator", lambda at: at.date_input(key="monitoring_days").set_value(_first_week(at))),
    "estimates": ("researcher", lambda at: at.selectbox(key="estimates_indicator").set_value("16.5.1")),
    "downloads": ("researcher", None),
    "volunteers": ("coordinator", None),
    "importing": ("coordinator", None),
}


def _first_week(at):
    low, _ = at.date_input(key="monitoring_days").value
    return (low, low.replace(day=low.day + 6))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/sdg16-bench"))
    args = parser.parse_args()
    os.environ["SDG16_DATA_DIR"] = str(args.data_dir)
    os.environ.pop("SDG16_DATABASE_URL", None)

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from dashboard import data
    from dashboard.auth import AuthError
    from dashboard.demo import ingest_demo

    store = data.store()
    if store.version().submissions < args.size:
        started = time.perf_counter()
        ingest_demo(store, args.size)
        print(f"filled the store with {args.size:,} demo submissions in {time.perf_counter() - started:.0f} s")
    print(f"store: {store.version().submissions:,} submissions ({args.data_dir})")
    for name, read in (("Store.version()", store.version), ("Store.status()", store.status)):
        started = time.perf_counter()
        for _ in range(5):
            read()
        print(f"{name} (what the cache key used to need / needs): {(time.perf_counter() - started) / 5 * 1000:.1f} ms")
    for role in ("coordinator", "researcher"):
        try:
            data.accounts().add(f"bench_{role}", role, PASSWORD)
        except AuthError:
            pass

    def session(role: str, page: str, then=None) -> AppTest:
        """A signed-in session about to open `page` (its first run lands on the role's default page, after
        which `then()` sets the scene)."""
        at = AppTest.from_file(str(ROOT / "dashboard" / "main.py"), default_timeout=600)
        at.session_state["session"] = data.accounts().open_session(data.accounts().verify(f"bench_{role}", PASSWORD))
        at.run()
        if then is not None:
            then()
        at.switch_page(f"views/{page}.py")
        return at

    def timed(step) -> float:
        started = time.perf_counter()
        at = step()
        if at.exception or at.error:
            raise SystemExit(
                f"page error: {(at.exception or at.error)[0].value if at.error else at.exception[0].message}"
            )
        return time.perf_counter() - started

    def restart(saved: bool) -> None:
        """What a new server process has: no cached result, no warmer yet, and (unless `saved`) nothing saved
        in the data folder by an earlier run (the very first start on this store)."""
        if saved:
            data.save_snapshot()
        data.stop_warming()
        if not saved:
            shutil.rmtree(args.data_dir / "cache", ignore_errors=True)
        st.cache_data.clear()
        st.cache_resource.clear()
        started = time.perf_counter()
        data.keep_warm()  # as app.py does when the server starts: loads the saved snapshot, if any
        starts[saved].append(time.perf_counter() - started)
        started_at.append(started)

    def new_data(seed: int) -> float:
        """A review decision and 20 new submissions, as phones and coordinators make them; returns when."""
        instance = data.submissions()["instance_id"].iloc[seed % 1000]
        data.store().set_review_state(instance, "has_issues", "benchmark")
        ingest_demo(data.store(), 20, seed=seed)
        data.changed()
        return time.perf_counter()

    def caught_up(since: float) -> float:
        while data.ready() is None or data.ready().version != data.store().version():
            time.sleep(0.02)
        return time.perf_counter() - since

    snapshot_parts()
    figures, starts, started_at = {}, {False: [], True: []}, []
    for page, (role, change) in PAGES.items():
        first = timed(session(role, page, then=lambda: restart(saved=False)).run)
        first_data = caught_up(started_at[-1])
        restarted = timed(session(role, page, then=lambda: restart(saved=True)).run)
        caught_up(time.perf_counter())
        ready_app = session(role, page)
        ready = timed(ready_app.run)
        filtered = f"{timed(lambda: _change(ready_app, change)):.2f}" if change else "—"
        at = session(role, page)
        since = new_data(seed=len(figures) + int(time.time()) % 100_000)
        after_new = timed(at.run)
        visible = caught_up(since)
        figures[page] = (first, first_data, restarted, ready, after_new, filtered, visible)
    print(
        "\n| page | first start: first render (s) | first start: data in (s) | after a restart (s) | snapshot ready (s) | just after new data (s) | filter change (s) |"
    )
    print("|---|---|---|---|---|---|---|")
    for page, (first, first_data, restarted, ready, after_new, filtered, _) in figures.items():
        print(
            f"| {page} | {first:.2f} | {first_data:.1f} | {restarted:.2f} | {ready:.2f} | {after_new:.2f} | {filtered} |"
        )
    print(
        f"\nserver start (app.py's keep_warm): {max(starts[False]):.2f} s with nothing saved, "
        f"{min(starts[True]):.2f}–{max(starts[True]):.2f} s loading the saved snapshot"
    )
    visible = [figure[-1] for figure in figures.values()]
    print(
        f"\nnew data shown by the pages {min(visible):.1f}–{max(visible):.1f} s after it arrived (the warmer's new snapshot)"
    )


def _change(at, change):
    change(at)
    return at.run()


def snapshot_parts() -> None:
    """The parts of one snapshot at this store's size: what the warmer spends on each new version."""
    from collect.frame import LiveFrame
    from dashboard import data
    from dashboard.snapshot import Snapshot

    store = data.store()
    steps = {}
    with tempfile.TemporaryDirectory() as folder:
        saved = Path(folder) / "frame.parquet"
        live = LiveFrame(store, data.FORM_ID, saved)
        started = time.perf_counter()
        frame = live.read()
        steps["frame, first read (every submission decoded)"] = time.perf_counter() - started
        started = time.perf_counter()
        frame = live.read()
        steps["frame, next read (review states; new rows only)"] = time.perf_counter() - started
        started = time.perf_counter()
        live.save()
        steps["frame saved"] = time.perf_counter() - started
        started = time.perf_counter()
        frame = LiveFrame(store, data.FORM_ID, saved).read()
        steps["frame, first read after a restart (from the saved file)"] = time.perf_counter() - started
    snapshot = Snapshot(store.version(), frame, data.plan(), data.neighbourhoods())
    for name, part in (
        ("field checks", snapshot.quality_checks),
        ("estimates (the plan over all)", snapshot.estimates),
        ("two default rounds and their comparison", snapshot.warm_rounds),
    ):
        started = time.perf_counter()
        part()
        steps[name] = time.perf_counter() - started
    print(
        f"snapshot of {len(frame):,} submissions: "
        + "; ".join(f"{name} {seconds:.2f} s" for name, seconds in steps.items())
    )


if __name__ == "__main__":
    main()
