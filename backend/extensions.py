"""The database as a Flask extension: one engine per app, one session per request.

Views that write call `db_session()`: one transaction, closed (and rolled back
if not committed) when the request ends, so an error half-way through a
request never leaves half-written data. Views that only read call
`read_session()`: its statements run without a transaction around them, which
saves the BEGIN and ROLLBACK round trips that otherwise cost a public finder
request as much as its query. The public finder's lists, which run one Core
statement through `geo.search`, take `read_connection()`: the same reader pool
without a Session around it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, g
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from backend.config import Config
from backend.database import make_engine, make_sessionmaker


@dataclass
class Database:
    engine: Engine  # transactions: db_session()
    reader: Engine  # autocommit: read_session()
    sessions: sessionmaker[Session]
    readers: sessionmaker[Session]

    def dispose(self) -> None:
        """Close every pooled connection (tests, and a worker shutting down)."""
        self.engine.dispose()
        self.reader.dispose()


def init_database(app: Flask, config: Config) -> Database:
    def engine(autocommit: bool) -> Engine:
        return make_engine(
            config.database_url,
            pool_size=config.db_pool_size,
            statement_timeout_ms=config.db_statement_timeout_ms,
            autocommit=autocommit,
        )

    # Two pools: switching one connection in and out of autocommit costs a round trip.
    writer, reader = engine(autocommit=False), engine(autocommit=True)
    database = Database(
        engine=writer,
        reader=reader,
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
        if connection is not None:
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
    """A connection of the reader pool (autocommit) for this request, for Core statements.

    For the public finder's hot paths (`/outlets/nearby` and the other lists), which
    run one Core statement and load no ORM objects: a Session around that statement
    (its transaction bookkeeping, then a rollback and close at teardown) cost a tenth
    of such a request's Python time, as much as executing the statement.
    """
    connection: Connection | None = g.get("read_connection")
    if connection is None:
        connection = g.read_connection = database().reader.connect()
    return connection
