import sqlalchemy as sa

from collect.database import database_url, make_engine


def test_default_url_is_sqlite_in_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("SDG16_DATABASE_URL", raising=False)
    monkeypatch.setenv("SDG16_DATA_DIR", str(tmp_path / "data"))
    assert database_url() == f"sqlite:///{tmp_path / 'data' / 'sdg16.db'}"
    monkeypatch.setenv("SDG16_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert database_url() == "postgresql+psycopg://u@h/db"


def test_sqlite_is_wal_with_full_sync(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_sqlite_write_transactions_take_the_write_lock_at_begin(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    statements = []
    sa.event.listen(engine, "before_cursor_execute", lambda conn, cursor, statement, *args: statements.append(statement))
    with engine.execution_options(sqlite_write=True).begin() as conn:
        conn.exec_driver_sql("SELECT 1")
    with engine.begin() as conn:
        conn.exec_driver_sql("SELECT 1")
    assert [s for s in statements if s.startswith("BEGIN")] == ["BEGIN IMMEDIATE", "BEGIN"]
    engine.dispose()


def test_migrations_build_exactly_the_schema_the_code_queries(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from collect.database import migrate
    from collect.tables import metadata

    migrate(engine)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []
