"""Group commit for SQLite: concurrent submissions share one transaction, hence one fsync.

With `synchronous=FULL` every SQLite commit waits for the disk: 0.2 ms on this machine when idle, ~3 ms (profiled)
when other work keeps the disk busy, which caps one-transaction-per-submission at ~300/s however many clients
wait. Hand-written on purpose (no library does this for SQLAlchemy + SQLite):
one writer thread takes every write job queued at that moment, runs each inside its own SAVEPOINT (a refused
submission rolls back alone), commits once, and only then answers each caller — so a 201 still means "on disk".
Figures before/after: benchmarks/collect.md (benchmarks/openrosa_load.py). PostgreSQL needs none of this: it
overlaps concurrent commits itself.
"""

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import AbstractContextManager
from typing import TypeVar

import sqlalchemy as sa

T = TypeVar("T")
MAX_BATCH = 64
_STOP = object()


class GroupCommit:
    """A single writer thread committing queued jobs in batches; `run(job)` returns once the job's batch is durable."""

    def __init__(self, writer: sa.Engine, lock: AbstractContextManager):
        self._writer = writer
        self._lock = lock
        self._queue: queue.Queue = queue.Queue()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="sqlite-group-commit", daemon=True)
        self._thread.start()

    def run(self, job: Callable[[sa.Connection], T]) -> T:
        """Run `job(connection)` in the next batch; its result or exception once the batch has committed."""
        if self._closed:
            raise RuntimeError("the store is closed")
        future: Future = Future()
        self._queue.put((job, future))
        return future.result()

    def close(self) -> None:
        """Finish the queued jobs, then stop the writer thread."""
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join()

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                self._refuse_late_jobs()
                return
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    self._queue.put(_STOP)
                    break
                batch.append(item)
            self._commit(batch)

    def _refuse_late_jobs(self) -> None:
        """Jobs queued while closing get an error instead of waiting forever."""
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not _STOP:
                item[1].set_exception(RuntimeError("the store is closed"))

    def _commit(self, batch: list[tuple[Callable, Future]]) -> None:
        outcomes = []
        try:
            with self._lock, self._writer.begin() as conn:
                for job, future in batch:
                    try:
                        with conn.begin_nested():
                            outcomes.append((future, job(conn), None))
                    except Exception as error:  # this job's savepoint is rolled back; the others stand
                        outcomes.append((future, None, error))
        except Exception as error:  # the commit itself failed: no job of the batch is stored
            for _job, future in batch:
                future.set_exception(error)
            return
        for future, value, error in outcomes:
            if error is None:
                future.set_result(value)
            else:
                future.set_exception(error)
