"""Where the store lives and how to connect to it: one SQLite file by default, PostgreSQL by URL.

`SDG16_DATABASE_URL` selects the database (any SQLAlchemy URL, e.g. `postgresql+psycopg://user@host/db`);
without it the store is `sdg16.db` in the data folder (`SDG16_DATA_DIR`, default `./sdg16-data`).

The data folder is made 0700 and the SQLite file 0600 before SQLite opens it (its -wal and -shm files take the
database file's mode): the answers are personal data (collect.private).

SQLite is opened in WAL mode with `synchronous=FULL`: a submission is acknowledged with 201 only after its
commit, and only FULL makes a WAL commit survive a power loss (NORMAL may lose the last transactions). Writes
start with `BEGIN IMMEDIATE` so that concurrent writers queue on the busy timeout instead of failing with
"database is locked" when a read transaction tries to upgrade to a write.
"""

import os
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from collect.private import private_file, private_folder

MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_MS = 30_000


def data_dir() -> Path:
    """The folder holding the default SQLite store and generated files such as volunteers' QR codes."""
    return Path(os.environ.get("SDG16_DATA_DIR", "sdg16-data"))


def database_url() -> str:
    """The configured database URL: `SDG16_DATABASE_URL`, else the SQLite file in the data folder."""
    url = os.environ.get("SDG16_DATABASE_URL")
    if url:
        return url
    folder = private_folder(data_dir())
    return f"sqlite:///{(folder / 'sdg16.db').resolve()}"


def make_engine(url: str | None = None, **engine_options) -> sa.Engine:
    """An engine for `url` (default: `database_url()`), with SQLite set up for durable concurrent writes."""
    url = url or database_url()
    if sa.make_url(url).get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=40, **engine_options)
    database = sa.make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        private_file(Path(database))
    engine = sa.create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        pool_size=10,
        max_overflow=40,
        **engine_options,
    )

    @sa.event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event below issue BEGIN itself instead of pysqlite's implicit transactions.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(connection):
        immediate = connection.get_execution_options().get("sqlite_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def writer(engine: sa.Engine) -> sa.Engine:
    """The same engine, marked so that SQLite write transactions take the write lock when they begin."""
    return engine.execution_options(sqlite_write=True)


def migrate(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` (the latest by default); safe when several processes open the store at once."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with writer(engine).begin() as connection:
        if connection.dialect.name == "postgresql":
            # One migrating process at a time; the others then find the schema at head.
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(160316)"))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
