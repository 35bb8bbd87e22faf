"""Engine and session handling (SQLAlchemy 2), independent of Flask.

The CLI, the benchmarks and the web app all get their sessions here; the web
app only adds "one session per request, closed at teardown" on top
(`backend.app`). Every connection gets a statement timeout so a runaway query
cannot hold a worker forever.

Connections that sat idle in the pool are pinged before use (a database restart
or a firewall may have cut them); busy ones are not. SQLAlchemy's
`pool_pre_ping` pings on every checkout, one extra round trip per request,
which cost the public finder a tenth of its throughput.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection


def normalise_url(url: str) -> str:
    """Accept plain libpq URLs (postgresql://) and pin the psycopg2 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg2")
    return parsed.render_as_string(hide_password=False)


IDLE_PING_S = 5.0  # a connection idle longer than this is pinged before use


def make_engine(
    url: str,
    *,
    pool_size: int = 5,
    statement_timeout_ms: int = 15000,
    autocommit: bool = False,
    flush_commits: bool = True,
) -> Engine:
    """An engine; with `autocommit`, statements run without a transaction around them
    (for read-only work: no BEGIN and ROLLBACK round trips). Without `flush_commits`, a
    commit returns before its WAL reaches the disk (`synchronous_commit=off`): for
    counters, whose last few hits a crash may forget at no one's cost."""
    options = f"-c statement_timeout={statement_timeout_ms} -c timezone=UTC"
    if not flush_commits:
        options += " -c synchronous_commit=off"
    engine = create_engine(
        normalise_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        isolation_level="AUTOCOMMIT" if autocommit else "READ COMMITTED",
        connect_args={
            "options": options,
            "application_name": "branchfinder",
        },
    )
    event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


def _note_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info["checked_in_at"] = time.monotonic()


def _ping_if_idle(
    dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
) -> None:
    idle_since = record.info.get("checked_in_at")
    if idle_since is None or time.monotonic() - idle_since < IDLE_PING_S:
        return
    ping(dbapi_connection)


def ping(dbapi_connection: Any) -> None:
    """One round trip on a connection that sat idle; `DisconnectionError` if it is gone
    (the pool then discards it and checks out another, or makes a new one)."""
    try:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        if not dbapi_connection.autocommit:
            dbapi_connection.rollback()
    except Exception as error:
        raise exc.DisconnectionError(f"idle connection failed its ping: {error}") from error


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def driver_rows(
    db: Session | Connection, sql: str, values: dict[str, Any]
) -> Sequence[Sequence[Any]]:
    """The rows of one statement in the driver's SQL (geo.search's `_driver_statement`,
    the public data's version).

    Through a Session (the bot, the professional API) SQLAlchemy runs it, so its
    connection events see it (bench/bot_latency.py times every statement with them).
    A bare Connection is what the public finder's hot path passes
    (`web.extensions.read_connection`): the statement goes to the DBAPI cursor
    itself, as in baseline (b) of bench/geo_search.py, because SQLAlchemy's execution
    and result handling around it cost about 0.15 ms, a tenth of the Python time of an
    `/outlets/nearby` request. What callers rely on is kept: a failure is raised as
    SQLAlchemy's DBAPIError, and a connection the server dropped is invalidated so
    that the pool replaces it.
    """
    if isinstance(db, Session):
        return db.connection().exec_driver_sql(sql, values).all()
    dialect = db.dialect
    dbapi_connection = db.connection.dbapi_connection
    cursor = db.connection.cursor()
    try:
        cursor.execute(sql, values)
        rows: Sequence[Sequence[Any]] = cursor.fetchall()
        return rows
    except dialect.loaded_dbapi.Error as error:
        lost = dialect.is_disconnect(error, dbapi_connection, cursor)
        if lost:
            db.invalidate(error)
        raise DBAPIError.instance(
            sql, values, error, dialect.loaded_dbapi.Error, connection_invalidated=lost
        ) from error
    finally:
        cursor.close()
