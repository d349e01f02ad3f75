"""How long the demo round takes: generating submissions, the app's one-click load through the OpenRosa route,
loading it again (all resends), and the benchmark-scale ingest through `Store.receive`.

    python benchmarks/demo_load.py                     # 2,000 via the route, 5,000 ingested, temporary SQLite
    python benchmarks/demo_load.py --ingest 100000     # the 100k store the dashboard benchmarks need
    python benchmarks/demo_load.py --url postgresql+psycopg://postgres@127.0.0.1:5432/test   # an EMPTY database

Prints one line per figure; it asserts nothing.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from collect.store import Store  # noqa: E402
from dashboard import demo  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=2000, help="respondents loaded through the OpenRosa route")
    parser.add_argument("--ingest", type=int, default=5000, help="respondents ingested through Store.receive (0: skip)")
    parser.add_argument("--url", help="database URL (default: a temporary SQLite file per step)")
    args = parser.parse_args()

    demo.shipped_round(1)  # builds the form once, outside the timing
    started = time.perf_counter()
    count = sum(1 for _ in demo.shipped_round(args.size))
    elapsed = time.perf_counter() - started
    print(
        f"generate  {count:>7} submissions  {elapsed:6.2f} s  {count / elapsed:7.0f} /s  (fill the XForm, XML, audit log)"
    )

    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(args.url or f"sqlite:///{folder}/route.db")
        for label in ("load", "reload"):
            started = time.perf_counter()
            summary = demo.load_demo(store, args.size)
            elapsed = time.perf_counter() - started
            print(
                f"{label:<9} {summary.posted:>7} POSTs        {elapsed:6.2f} s  {summary.posted / elapsed:7.0f} /s  "
                f"({summary.created} new, {summary.duplicates} resends; OpenRosa route, in-process ASGI)"
            )
        store.close()
        if args.ingest:
            store = Store.open(args.url or f"sqlite:///{folder}/ingest.db")
            started = time.perf_counter()
            summary = demo.ingest_demo(store, args.ingest)
            elapsed = time.perf_counter() - started
            print(
                f"ingest    {summary.posted:>7} submissions  {elapsed:6.2f} s  {summary.posted / elapsed:7.0f} /s  ({summary.created} new; Store.receive)"
            )
            store.close()


if __name__ == "__main__":
    main()
