"""The database as a Flask extension: one engine per app, one session per request.

Views call `db_session()`; the session is closed (and rolled back if not
committed) when the request ends, so an error half-way through a request
never leaves half-written data.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from backend.config import Config
from backend.database import make_engine, make_sessionmaker


@dataclass
class Database:
    engine: Engine
    sessions: sessionmaker[Session]


def init_database(app: Flask, config: Config) -> Database:
    engine = make_engine(
        config.database_url,
        pool_size=config.db_pool_size,
        statement_timeout_ms=config.db_statement_timeout_ms,
    )
    database = Database(engine=engine, sessions=make_sessionmaker(engine))
    app.extensions["branchfinder.db"] = database

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()

    return database


def database() -> Database:
    db: Database = current_app.extensions["branchfinder.db"]
    return db


def db_session() -> Session:
    if "db_session" not in g:
        g.db_session = database().sessions()
    session: Session = g.db_session
    return session
