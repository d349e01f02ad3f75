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
    sa.event.listen(
        engine, "before_cursor_execute", lambda conn, cursor, statement, *args: statements.append(statement)
    )
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


def test_dashboard_tables_made_before_their_migration_are_kept_with_their_rows(engine):
    """Stores opened by the dashboard before migration 0003 hold dashboard_users/targets made by create_all."""
    from collect.database import migrate
    from collect.tables import dashboard_targets, dashboard_users

    migrate(engine, "0002")
    dashboard_users.create(engine)
    dashboard_targets.create(engine)
    with engine.begin() as conn:
        conn.execute(dashboard_targets.insert().values(kind="neighbourhood", key="n01", target=120))
    migrate(engine, "0003")
    with engine.connect() as conn:
        assert conn.execute(sa.select(dashboard_targets.c.target)).scalar_one() == 120
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == "0003"
