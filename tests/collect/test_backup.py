"""`sdg16 backup` / `sdg16 restore`: every submission and attachment comes back byte-identical, on both stores."""

import os
import sqlite3

import pytest
import sqlalchemy as sa
from collect_samples import tiny_submission, tiny_xform
from typer.testing import CliRunner

from collect import tables
from collect.backup import BackupError, backup, restore
from collect.database import make_engine
from collect.store import Attachment, Store
from sdg16.cli import app


def _everything(store: Store) -> dict[str, tuple[bytes, list[tuple[str, bytes]]]]:
    """Every submission as stored (its XML) with its attachments (name, bytes), by instance ID."""
    with store.engine.connect() as conn:
        ids = conn.execute(sa.select(tables.submissions.c.instance_id)).scalars().all()
    return {i: (store.submission_xml(i), sorted((a.filename, a.content) for a in store.attachments(i))) for i in ids}


def _wipe(url: str) -> None:
    """Lose the store: delete the SQLite files, or drop the PostgreSQL schema."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(parsed.database + suffix):
                os.remove(parsed.database + suffix)
        return
    schema = parsed.query["options"].split("search_path=")[1]
    admin = sa.create_engine(parsed.set(query={}))
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def test_restore_brings_back_every_submission_and_attachment_byte_identical(store, database_url, tmp_path):
    for number in range(30):
        photos = [
            Attachment(f"{number}-{k}.jpg", os.urandom(1000 * (k + 1) * (number + 1)), "image/jpeg") for k in range(2)
        ]
        store.receive(tiny_submission(f"uuid:{number:04d}", psu=f"B{number}"), photos, volunteer="Ana Torres")
    store.receive(tiny_submission("uuid:big"), [Attachment("video.mp4", os.urandom(5 * 1024 * 1024), "video/mp4")])
    before = _everything(store)
    target = tmp_path / "backups" / "sdg16.backup"
    backup(target, database_url)  # while the store is open: the online backup
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    store.close()

    _wipe(database_url)
    restore(target, database_url)
    restored = Store(make_engine(database_url))
    assert _everything(restored) == before and len(before) == 31
    assert restored.form_version("tiny").media[0].filename == "neighbourhoods.csv"
    restored.close()


def test_backup_and_restore_commands(tmp_path, monkeypatch):
    monkeypatch.setenv("SDG16_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SDG16_DATABASE_URL", raising=False)
    store = Store.open()
    store.publish_form(tiny_xform())
    store.receive(tiny_submission(), [Attachment("1700000000.jpg", b"\xff\xd8 a photo", "image/jpeg")])
    store.close()
    runner = CliRunner()
    made = runner.invoke(app, ["backup", str(tmp_path / "monday.db")])
    assert made.exit_code == 0 and "monday.db" in made.output
    with sqlite3.connect(tmp_path / "data" / "sdg16.db") as conn:
        conn.execute("DELETE FROM attachments")
    assert runner.invoke(app, ["restore", str(tmp_path / "monday.db")]).exit_code == 1  # asks for --yes
    assert runner.invoke(app, ["restore", str(tmp_path / "monday.db"), "--yes"]).exit_code == 0
    store = Store.open()
    assert [a.content for a in store.attachments("uuid:0001")] == [b"\xff\xd8 a photo"]
    store.close()


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path):
    (tmp_path / "notes.txt").write_text("not a database")
    with pytest.raises(BackupError, match="not a SQLite database"):
        restore(tmp_path / "notes.txt", f"sqlite:///{tmp_path / 'store.db'}")
