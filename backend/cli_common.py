"""What every `branchfinder` command group shares: the database option and a session
whose connection failure is a one-line click error rather than a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from backend.config import Config

DB_OPTION = click.option(
    "--database-url",
    envvar="DATABASE_URL",
    default=lambda: Config().database_url,
    show_default="$DATABASE_URL",
    help="PostgreSQL URL of a PostGIS database.",
)


@contextmanager
def cli_session(database_url: str) -> Iterator[Session]:
    """A session committed at the end of the block (rolled back on an error)."""
    from backend.database import make_engine, make_sessionmaker, session_scope

    engine = make_engine(database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            yield session
    except OperationalError as exc:
        raise click.ClickException(str(exc.orig or exc).strip().splitlines()[0]) from exc
    finally:
        engine.dispose()
