"""Fixtures for the collect tests: the same store on SQLite and on PostgreSQL, a tiny form, OpenRosa clients.

PostgreSQL runs when `SDG16_TEST_POSTGRES_URL` is set (CI sets it); each test gets its own schema, dropped
afterwards, so concurrent runs never collide.
"""

import os
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
import uvicorn
from collect_samples import free_port, tiny_xform
from starlette.applications import Starlette
from starlette.testclient import TestClient

from collect import openrosa
from collect.database import make_engine
from collect.store import Store
from collect.volunteers import add_volunteer

POSTGRES_URL = os.environ.get("SDG16_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> Iterator[str]:
    """The URL of an empty database of each kind (PostgreSQL: a fresh schema, dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("SDG16_TEST_POSTGRES_URL is not set")
    schema = f"collect_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def engine(database_url) -> Iterator[sa.Engine]:
    """An engine on the empty database."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine) -> Store:
    """A migrated store with the tiny form published."""
    store = Store(engine)
    store.publish_form(tiny_xform(), xlsform=b"xlsx bytes", media={"neighbourhoods.csv": b"name,label\nn1,One\n"})
    return store


@pytest.fixture
def volunteer(store):
    """A volunteer of project `trujillo` with their token."""
    return add_volunteer(store, "Ana Torres", project="trujillo")


@pytest.fixture
def client(store) -> TestClient:
    """A TestClient over the OpenRosa routes of `store`."""
    return TestClient(Starlette(routes=openrosa.routes(store)))


@pytest.fixture
def live_server(store) -> Iterator[str]:
    """The OpenRosa routes of `store` served by a real uvicorn on a free loopback port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(Starlette(routes=openrosa.routes(store)), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
