"""Backups of the store: `sdg16 backup FILE` and `sdg16 restore FILE`, while phones keep sending.

Everything lives in the database — forms, submissions as received, attachments, volunteers, accounts, reviews —
so a backup of the database is a backup of the project:
- SQLite: SQLite's online backup API (`sqlite3.Connection.backup`) copies a consistent snapshot page by page while
  the app keeps writing (a plain file copy of a WAL database can miss or tear the latest commits); the backup is
  itself a SQLite database, checked with `PRAGMA integrity_check` before it is kept.
- PostgreSQL: `pg_dump --format=custom` (consistent: one snapshot transaction), restored by `pg_restore --clean`;
  with `options=-csearch_path=SCHEMA` in the URL only that schema is dumped and restored. The client tools must
  be of the server's major version or newer (Debian's `postgresql-client`).

A restore replaces the whole store with the backup's content: stop the app (and the workers) first, then restart it.
"""

import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import sqlalchemy as sa

from collect.database import database_url
from collect.errors import CollectError

SQLITE_PAGES_PER_STEP = 1024  # 4 MiB per step: other writers get the database between steps


class BackupError(CollectError):
    """A backup or restore could not be made; the message says why."""


def backup(destination: Path, url: str | None = None) -> Path:
    """Write a backup of the store at `url` (default: the configured one) to `destination`."""
    url = sa.make_url(url or database_url())
    destination.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        _sqlite_backup(_sqlite_path(url), destination)
    else:
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={destination}", *_schema_option(url), _libpq(url)])
    os.chmod(destination, 0o600)  # as private as the database itself
    return destination


def restore(source: Path, url: str | None = None) -> None:
    """Replace the store at `url` (default: the configured one) by the backup in `source`."""
    if not source.is_file():
        raise BackupError(f"no backup at {source}")
    url = sa.make_url(url or database_url())
    if url.get_backend_name() == "sqlite":
        _check_sqlite(source)
        _sqlite_restore(source, _sqlite_path(url))
    else:
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={_libpq(url)}",
                str(source),
            ]
        )


def _sqlite_path(url: sa.URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite store has nothing to back up")
    return Path(url.database)


def _sqlite_backup(source: Path, destination: Path) -> None:
    """A consistent copy of the live SQLite database `source`, written to a temporary file, checked, then renamed."""
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    with contextlib.closing(sqlite3.connect(source)) as reader, contextlib.closing(sqlite3.connect(partial)) as copy:
        reader.backup(copy, pages=SQLITE_PAGES_PER_STEP)
    _check_sqlite(partial)
    partial.replace(destination)


def _sqlite_restore(source: Path, destination: Path) -> None:
    """Overwrite `destination` with `source` through SQLite itself (one transaction, WAL and all)."""
    with (
        contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as reader,
        contextlib.closing(sqlite3.connect(destination, timeout=60)) as target,
    ):
        reader.backup(target)


def _check_sqlite(path: Path) -> None:
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            result = conn.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a SQLite database: {error}") from None
    if result != "ok":
        raise BackupError(f"{path} is damaged: {result}")


def _libpq(url: sa.URL) -> str:
    """The SQLAlchemy URL as a libpq connection URI (pg_dump/pg_restore), without the driver name."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _schema_option(url: sa.URL) -> list[str]:
    """`--schema=NAME` when the URL pins a search_path (one store per schema, as the tests do)."""
    match = re.search(r"search_path=([\w$]+)", str(url.query.get("options", "")))
    return [f"--schema={match.group(1)}"] if match else []


def _run(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (Debian: apt-get install postgresql-client)")
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()}")
