"""The database, the frame cache and volunteers' QR codes are created 0600 in 0700 folders (collect.private),
whatever the umask; files an older version left wider are narrowed."""

import os

import pytest
from collect_samples import tiny_submission, tiny_xform

from collect.database import database_url, make_engine
from collect.frame import LiveFrame
from collect.store import Store
from collect.volunteers import collect_settings, write_settings_qr


def mode(path) -> int:
    return path.stat().st_mode & 0o777


@pytest.fixture(autouse=True)
def open_umask():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_the_sqlite_store_and_its_wal_files_are_private(tmp_path, monkeypatch):
    monkeypatch.setenv("SDG16_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SDG16_DATABASE_URL", raising=False)
    store = Store(make_engine(database_url()))
    store.publish_form(tiny_xform())
    store.receive(tiny_submission())
    folder = tmp_path / "data"
    assert mode(folder) == 0o700
    files = sorted(folder.glob("sdg16.db*"))
    assert [f.name for f in files] == ["sdg16.db", "sdg16.db-shm", "sdg16.db-wal"]
    assert all(mode(f) == 0o600 for f in files), [(f.name, oct(mode(f))) for f in files]
    store.close()


def test_an_existing_world_readable_database_is_narrowed(tmp_path):
    path = tmp_path / "old" / "store.db"
    path.parent.mkdir(mode=0o755)
    Store(make_engine(f"sqlite:///{path}")).close()
    path.chmod(0o644)
    Store(make_engine(f"sqlite:///{path}")).close()
    assert mode(path) == 0o600 and mode(path.parent) == 0o700


def test_qr_codes_are_private(tmp_path):
    path = write_settings_qr(
        collect_settings("http://x/v1/key/secret/projects/p", "Ana", "p"), tmp_path / "volunteers" / "ana.png"
    )
    assert path.read_bytes().startswith(b"\x89PNG")
    assert mode(path) == 0o600 and mode(path.parent) == 0o700


def test_the_saved_frame_is_private(store, tmp_path):
    store.receive(tiny_submission())
    live = LiveFrame(store, "tiny", saved=tmp_path / "cache" / "frame.parquet")
    live.read()
    assert live.save()
    assert mode(tmp_path / "cache" / "frame.parquet") == 0o600 and mode(tmp_path / "cache") == 0o700
