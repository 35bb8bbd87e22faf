"""The database as a Flask extension: one engine per app, one session per request.

Views that write call `db_session()`: one transaction, closed (and rolled back
if not committed) when the request ends, so an error half-way through a
request never leaves half-written data. Views that only read call
`read_session()`: its statements run without a transaction around them, which
saves the BEGIN and ROLLBACK round trips that otherwise cost a public finder
request as much as its query. The public finder's lists, which run one Core
statement through `geo.search`, take `read_connection()`: a reader connection
without a Session around it, which each worker keeps between requests
(`KeptReader`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from flask import Flask, current_app, g
from sqlalchemy import Connection, Engine, exc
from sqlalchemy.orm import Session, sessionmaker

from core import database as connections
from core.config import Config
from core.database import make_engine, make_sessionmaker


class KeptReader:
    """One reader connection that a worker keeps between requests, in front of the pool.

    Checking a connection out of SQLAlchemy's pool and back in, with its events, cost
    about 18 µs for every public finder request, a fiftieth of its Python time. A sync
    gunicorn worker serves one request at a time, so it keeps one connection; another
    thread asking meanwhile (a threaded server) gets one from the pool as before. Like a
    pooled one, the kept connection is pinged when it sat idle for `IDLE_PING_S`, and
    replaced when the server dropped it (a statement that found it gone invalidated it).
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._connection: Connection | None = None
        self._used_at = 0.0

    def take(self) -> Connection | None:
        """The kept connection, usable, or None while another request has it."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            connection = self._connection
            if connection is not None and not self._usable(connection):
                connection.close()
                connection = self._connection = None  # forgotten even if no new one comes
            if connection is None:
                connection = self._connection = self._engine.connect()
            return connection
        except BaseException:
            self._lock.release()
            raise

    def _usable(self, connection: Connection) -> bool:
        """Not invalidated by a statement that found the server gone, and, after sitting
        idle, answering a ping (one that fails invalidates it)."""
        if connection.invalidated:
            return False
        if time.monotonic() - self._used_at < connections.IDLE_PING_S:
            return True
        try:
            connections.ping(connection.connection.dbapi_connection)
        except exc.DisconnectionError as error:
            connection.invalidate(error)
            return False
        return True

    def give_back(self) -> None:
        self._used_at = time.monotonic()
        self._lock.release()

    def close(self) -> None:
        """Close the kept connection (at shutdown, when no request is using it)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()


@dataclass
class Database:
    engine: Engine  # transactions: db_session()
    reader: Engine  # autocommit: read_session()
    counters: Engine  # autocommit, commits not flushed: rate limits (core.ratelimit)
    sessions: sessionmaker[Session]
    readers: sessionmaker[Session]
    kept_reader: KeptReader = field(init=False)  # read_connection()

    def __post_init__(self) -> None:
        self.kept_reader = KeptReader(self.reader)

    def dispose(self) -> None:
        """Close every connection (tests, and a worker shutting down)."""
        self.kept_reader.close()
        self.engine.dispose()
        self.reader.dispose()
        self.counters.dispose()


def init_database(app: Flask, config: Config) -> Database:
    def engine(autocommit: bool, flush_commits: bool = True) -> Engine:
        return make_engine(
            config.database_url,
            pool_size=config.db_pool_size,
            statement_timeout_ms=config.db_statement_timeout_ms,
            autocommit=autocommit,
            flush_commits=flush_commits,
        )

    # Separate pools: switching one connection in and out of autocommit costs a round trip.
    writer, reader = engine(autocommit=False), engine(autocommit=True)
    database = Database(
        engine=writer,
        reader=reader,
        counters=engine(autocommit=True, flush_commits=False),
        sessions=make_sessionmaker(writer),
        readers=make_sessionmaker(reader),
    )
    app.extensions["branchfinder.db"] = database

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        for key in ("db_session", "read_session"):
            session: Session | None = g.pop(key, None)
            if session is not None:
                session.rollback()
                session.close()
        connection: Connection | None = g.pop("read_connection", None)
        if g.pop("read_connection_kept", False):
            database.kept_reader.give_back()
        elif connection is not None:
            connection.close()  # back to the pool (autocommit: nothing to roll back)

    return database


def database() -> Database:
    db: Database = current_app.extensions["branchfinder.db"]
    return db


def db_session() -> Session:
    if "db_session" not in g:
        g.db_session = database().sessions()
    session: Session = g.db_session
    return session


def read_session() -> Session:
    """A session for reading only; each statement runs on its own (autocommit)."""
    if "read_session" not in g:
        g.read_session = database().readers()
    session: Session = g.read_session
    return session


def read_connection() -> Connection:
    """A reader connection (autocommit) for this request, for Core statements: the one
    this worker keeps (`KeptReader`), or one from the reader pool while another request
    of the process has that.

    For the public finder's hot paths (`/outlets/nearby` and the other lists), which
    run one Core statement and load no ORM objects: a Session around that statement
    (its transaction bookkeeping, then a rollback and close at teardown) cost a tenth
    of such a request's Python time, as much as executing the statement.
    """
    connection: Connection | None = g.get("read_connection")
    if connection is None:
        db = database()
        connection = db.kept_reader.take()
        g.read_connection_kept = connection is not None
        if connection is None:
            connection = db.reader.connect()
        g.read_connection = connection
    return connection
