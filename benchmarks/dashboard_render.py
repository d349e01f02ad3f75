"""How fast each dashboard page draws with many submissions in the store (issue 5: first render < 2 s,
filter change < 0.5 s with 100k submissions).

    python benchmarks/dashboard_render.py [--size 100000] [--data-dir /tmp/sdg16-bench]

The store is filled once with the demo generator at benchmark scale (`dashboard.demo.ingest_demo`, the
function the OpenRosa route calls, without HTTP) and reused on later runs. Each page is timed with Streamlit's
AppTest (the script run, not the browser's drawing):
- cold: caches emptied first — the first visitor after new data when the background warmer has not finished
  (loads the frame, runs the checks or the plan);
- warm: a new session once the caches are filled (by `dashboard.data.warm`, which app.py runs in the
  background whenever the store changes, or by an earlier visitor);
- filter: a widget change on an open page (a rerun).
"""

import argparse
import os
import sys
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
    from dashboard.auth import AuthError, start_session
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

    def session(role: str, page: str, cold: bool = False) -> AppTest:
        """A signed-in session about to open `page` (its first run lands on the role's default page)."""
        at = AppTest.from_file(str(ROOT / "dashboard" / "main.py"), default_timeout=600)
        at.session_state["session"] = start_session(data.accounts().verify(f"bench_{role}", PASSWORD))
        at.run()
        if cold:
            empty_caches()
        at.switch_page(f"views/{page}.py")
        return at

    def empty_caches() -> None:
        st.cache_data.clear()
        for cached in (data._frame, data._checks, data._result, data._days, data._points, data._round_result,
                       data._comparison):
            cached.clear()

    def timed(step) -> float:
        started = time.perf_counter()
        at = step()
        if at.exception or at.error:
            raise SystemExit(f"page error: {(at.exception or at.error)[0].value if at.error else at.exception[0].message}")
        return time.perf_counter() - started

    empty_caches()
    started = time.perf_counter()
    data.warm()
    print(f"background warm-up (dashboard.data.warm, every cached result at one store version): "
          f"{time.perf_counter() - started:.1f} s")
    print(f"\n| page | cold first render (s) | warm first render (s) | filter change (s) |")
    print("|---|---|---|---|")
    for page, (role, change) in PAGES.items():
        cold_app = session(role, page, cold=True)
        cold = timed(cold_app.run)
        data.warm()
        warm_app = session(role, page)
        warm = timed(warm_app.run)
        if change is not None:
            change(warm_app)
            filtered = f"{timed(warm_app.run):.2f}"
        else:
            filtered = "—"
        print(f"| {page} | {cold:.2f} | {warm:.2f} | {filtered} |", flush=True)


if __name__ == "__main__":
    main()
