"""Engine and session handling (SQLAlchemy 2), independent of Flask.

The CLI, the benchmarks and the web app all get their sessions here; the web
app only adds "one session per request, closed at teardown" on top
(`backend.app`). Every connection gets a statement timeout so a runaway query
cannot hold a worker forever.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def normalise_url(url: str) -> str:
    """Accept plain libpq URLs (postgresql://) and pin the psycopg2 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg2")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, *, pool_size: int = 5, statement_timeout_ms: int = 15000) -> Engine:
    return create_engine(
        normalise_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={
            "options": f"-c statement_timeout={statement_timeout_ms} -c timezone=UTC",
            "application_name": "branchfinder",
        },
    )


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
