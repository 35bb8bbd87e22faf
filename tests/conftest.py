"""Fixtures on a real PostgreSQL + PostGIS: one throw-away database per test session.

`./test.sh` sets TEST_DATABASE_URL to a database name on the local cluster (or
on the server of DATABASE_URL); the session appends its process id, creates
that database from template0 (UTF-8, C.UTF-8), migrates it to head with
Alembic, and drops it at the end. Tests isolate themselves either inside a
rolled-back transaction (`db_session`) or, when they go through the web app's
own connections, by truncating every table afterwards (`client`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from backend.app import create_app
from backend.dbadmin import create_database, drop_database
from backend.demo.generate import generate
from backend.imports import import_profiles, import_registry
from backend.migrate import upgrade
from core.base import Base
from core.config import Config
from core.database import make_engine, normalise_url


def _test_server_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.exit(
            "TEST_DATABASE_URL is not set: run the suite with ./test.sh, which starts the "
            "local PostGIS cluster and sets it",
            returncode=2,
        )
    return url


def scratch_database_url(suffix: str) -> str:
    """A URL for a new database on the test server, named after this process."""
    base = make_url(normalise_url(_test_server_url()))
    name = f"{base.database or 'branchfinder_test'}_{os.getpid()}_{suffix}"
    return base.set(database=name).render_as_string(hide_password=False)


@dataclass
class TestConfig(Config):
    __test__ = False  # a configuration, not a test class

    testing: bool = True
    log_json: bool = False
    log_level: str = "WARNING"
    # a change is seen by the next request (tests of the cache set their own)
    public_version_max_age_s: float = 0.0


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    url = scratch_database_url("main")
    drop_database(url)
    create_database(url)
    upgrade(url)
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def db_session(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back at the end, even if the test commits."""
    connection = engine.connect()
    outer = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()


def load_generated(
    engine: Engine, directory: Path, *, outlets: int, seed: int, atms: bool = True
) -> None:
    """A generated Jiangsu sample, loaded through the real registry and profile imports
    and committed (tests that share it only read; `truncate_all` clears it); `atms`: with
    the banks' self-service points, as the demo has them."""
    generate(directory, outlets=outlets, seed=seed, atms=atms)
    with Session(engine) as session:
        assert import_registry(session, directory / "institutions.csv").outcome == "accepted"
        assert import_profiles(session, directory / "profiles.csv").outcome == "accepted"
        session.commit()


def truncate_all(engine: Engine) -> None:
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@contextmanager
def app_on(engine: Engine, database_url: str) -> Iterator[Flask]:
    """An app on the test database; afterwards its connections are closed and every
    table emptied, whatever the tests (or the data loaded before) put there."""
    application = create_app(TestConfig(database_url=database_url))
    try:
        yield application
    finally:
        application.extensions["branchfinder.db"].dispose()
        truncate_all(engine)


@pytest.fixture
def app(database_url: str, engine: Engine) -> Iterator[Flask]:
    with app_on(engine, database_url) as application:
        yield application


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless chromium for the whole session (Playwright over Debian's chromium)."""
    from playwright.sync_api import sync_playwright

    from backend.browser import launch

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@contextmanager
def served(app: Flask) -> Iterator[str]:
    """`app` served on a free loopback port by a threaded werkzeug server; its base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
