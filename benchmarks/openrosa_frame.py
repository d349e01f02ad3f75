"""How long `Store.submissions_frame` takes to hand analysis a big round: N submissions x 80 answered fields.

    python benchmarks/openrosa_frame.py [--rows 20000] [--database-url URL]

Rows are stored through `Store.import_records` (one transaction) into a scratch SQLite file unless a URL is given.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from collect import tables  # noqa: E402
from collect.publish import publish_shipped_forms  # noqa: E402
from collect.store import ImportRecord, Store, decode_fields  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(args.database_url or f"sqlite:///{folder}/frame.db")
        form = publish_shipped_forms(store)[0]
        fields = {f"q{i}": f"answer_{i % 7}" for i in range(80)}
        records = (
            ImportRecord(f"uuid:bench-{n}", form.form_id, form.version, fields, "file", {}, row=n)
            for n in range(args.rows)
        )
        began = time.perf_counter()
        store.import_records(records)
        print(f"import_records     {args.rows} rows  {args.rows / (time.perf_counter() - began):7.0f} rows/s")
        timings = []
        for _ in range(3):
            began = time.perf_counter()
            frame = store.submissions_frame(form.form_id)
            timings.append(time.perf_counter() - began)
        print(f"submissions_frame  {frame.shape[0]} x {frame.shape[1]}  best of 3: {min(timings):.2f} s")
        decoders(store, form.form_id)
        store.close()


def decoders(store: Store, form_id: str) -> None:
    """The answers' decoding alone: pyarrow's JSON reader (what the store uses) against json.loads and
    DataFrame.from_records (what it used before), on the same stored texts."""
    s = tables.submissions
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(s.c.id, sa.cast(s.c.fields, sa.Text)).where(s.c.form_id == form_id)).all()
    texts, index = [row[1] for row in rows], pd.Index([row[0] for row in rows])
    names = store.form_field_names(form_id)
    for name, decode in (
        ("pyarrow.json", lambda: decode_fields(texts, index, names)),
        ("json.loads + from_records", lambda: pd.DataFrame.from_records([json.loads(t) for t in texts], index=index)),
    ):
        timings = []
        for _ in range(3):
            began = time.perf_counter()
            decode()
            timings.append(time.perf_counter() - began)
        print(f"decode answers     {name:26} best of 3: {min(timings):.2f} s")


if __name__ == "__main__":
    main()
