"""Alembic environment: migrations run against `DATABASE_URL` (or the URL the caller set).

GeoAlchemy2's helpers are wired in so autogenerate neither duplicates the
spatial indexes nor forgets to import `geoalchemy2` in new revisions.
"""

from __future__ import annotations

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import engine_from_config, pool

import backend.models  # noqa: F401  (registers every table on the metadata)
from backend.migrations.env_helpers import include_object
from core.base import Base
from core.database import normalise_url

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    section = config.get_section(config.config_ini_section) or {}
    section["sqlalchemy.url"] = normalise_url(section["sqlalchemy.url"])
    connectable = engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_object=include_object,
            process_revision_directives=alembic_helpers.writer,
            render_item=alembic_helpers.render_item,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: run against a database")
run_migrations_online()
