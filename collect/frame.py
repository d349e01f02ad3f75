"""The analysis frame of a form, kept in memory (and on disk) and brought up to date by reading only what changed.

The dashboard needs `Store.submissions_frame` again after every new submission or review decision, and reading
and decoding every submission again costs seconds at 100k submissions. A stored submission never changes but
for its review state (an edit is a new row that supersedes the old one), so a frame kept from the last read
needs only the rows it has not seen, and the review state of all, which the database answers from an index.
Kept in a Parquet file as well, the frame also survives a restart: reading it back is ten times faster than
decoding every submission again (benchmarks/dashboard_render.py prints the three reads).
"""

import json
import os
import threading
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from collect.private import private_file
from collect.store import FRAME_COLUMNS, Store, in_arrival_order

TEXT_COLUMNS = [name for name in FRAME_COLUMNS if name != "received_at"]


class LiveFrame:
    """`store.submissions_frame(form_id, include_rejected=True)`, re-read incrementally. Thread-safe.

    With `saved` (a file path), `save()` writes the rows there and a new LiveFrame starts from them."""

    def __init__(self, store: Store, form_id: str, saved: Path | None = None):
        self.store, self.form_id, self.saved = store, form_id, saved
        self._lock = threading.Lock()
        self._frame: pd.DataFrame | None = None  # the last frame read, and the row keys in its order
        self._order = pd.Index([], dtype="int64")
        self._saved_at: float | None = None  # when the file was last written (or read)
        self._dirty = False  # the rows differ from the file's
        self._owner = store.identity() if saved else None
        loaded = self._load() if saved is not None and saved.exists() else None
        self._rows = loaded if loaded is not None else store.submission_rows(form_id, [])
        if loaded is not None:
            self._saved_at = time.monotonic()

    def read(self) -> pd.DataFrame:
        """The current frame: rows kept from earlier reads that are still current (not superseded), with their
        review state refreshed, and the rows not seen before."""
        with self._lock:
            states = self.store.review_states(self.form_id)
            kept = self._rows.index.intersection(states.index)
            new = states.index.difference(kept)
            if self._frame is not None and not len(new) and len(kept) == len(self._rows):
                # The same submissions: only review states may differ. (Copy-on-write: the answers are shared.)
                self._frame = self._frame.assign(review_state=states.reindex(self._order).to_numpy())
                return self._frame
            if len(new) > len(states) // 2:  # mostly new (the first read): one query without a key list
                rows = self.store.submission_rows(self.form_id)
            else:
                rows = (
                    pd.concat([self._rows.loc[kept], self.store.submission_rows(self.form_id, new)])
                    if len(new)
                    else self._rows.loc[kept]
                )
            self._dirty = self._dirty or bool(len(new)) or len(kept) < len(self._rows)
            self._rows = in_arrival_order(rows.assign(review_state=states))
            self._frame, self._order = self.store.compose_frame(self.form_id, self._rows), self._rows.index
            return self._frame

    def save(self, at_most_every: float = 0.0) -> bool:
        """Write the rows of the last read to `saved` (atomically: a crash leaves the old file), unless it already
        holds them or was written less than `at_most_every` seconds ago. Returns whether it wrote. (Review states
        are read afresh anyway, so a file behind on them only costs nothing.)"""
        with self._lock:
            rows, owner = self._rows, self._owner
            recent = self._saved_at is not None and time.monotonic() - self._saved_at < at_most_every
            if self.saved is None or not self._dirty or recent:
                return False
            self._saved_at, self._dirty = time.monotonic(), False
        table = pa.Table.from_pandas(rows)
        meta = {"store": owner, "form_id": self.form_id, "last_pk": int(rows.index.max()) if len(rows) else 0}
        table = table.replace_schema_metadata({**table.schema.metadata, b"sdg16": json.dumps(meta).encode()})
        partial = private_file(self.saved.with_suffix(".partial"))  # personal data: 0600 (collect.private)
        pq.write_table(table, partial)
        os.replace(partial, self.saved)
        return True

    def _load(self) -> pd.DataFrame | None:
        """The saved rows if they are this store's and this form's and the store has not gone back in time
        (restored from an older backup, when a row key may now name another submission); else None."""
        try:
            table = pq.read_table(self.saved)
            meta = json.loads(table.schema.metadata[b"sdg16"])
        except (OSError, KeyError, ValueError, pa.ArrowException):
            return None  # unreadable: decode everything again
        if meta.get("store") != self._owner or meta.get("form_id") != self.form_id:
            return None
        if meta.get("last_pk", 0) > self.store.version().last_submission:
            return None
        rows = table.to_pandas()
        rows[TEXT_COLUMNS] = rows[TEXT_COLUMNS].astype(object)
        return rows
