"""How long `Store.submissions_frame` takes to hand analysis a big round: N submissions x 80 answered fields.

    python benchmarks/openrosa_frame.py [--rows 20000] [--database-url URL]

Rows are stored through `Store.import_records` (one transaction) into a scratch SQLite file unless a URL is given.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from collect.store import ImportRecord, Store  # noqa: E402
from collect.publish import publish_shipped_forms  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(args.database_url or f"sqlite:///{folder}/frame.db")
        form = publish_shipped_forms(store)[0]
        fields = {f"q{i}": f"answer_{i % 7}" for i in range(80)}
        records = (ImportRecord(f"uuid:bench-{n}", form.form_id, form.version, fields, "file", {}, row=n) for n in range(args.rows))
        began = time.perf_counter()
        store.import_records(records)
        print(f"import_records     {args.rows} rows  {args.rows / (time.perf_counter() - began):7.0f} rows/s")
        timings = []
        for _ in range(3):
            began = time.perf_counter()
            frame = store.submissions_frame(form.form_id)
            timings.append(time.perf_counter() - began)
        print(f"submissions_frame  {frame.shape[0]} x {frame.shape[1]}  best of 3: {min(timings):.2f} s")
        store.close()


if __name__ == "__main__":
    main()
