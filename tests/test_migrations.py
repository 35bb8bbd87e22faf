"""The migrations build the whole schema from an empty database and take it down again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import inspect, text

from backend.dbadmin import create_database, database_exists, drop_database
from backend.migrate import current_revision, downgrade, head_revision, upgrade
from core.base import Base
from core.database import make_engine
from tests.conftest import scratch_database_url


@pytest.fixture
def empty_database() -> Iterator[str]:
    url = scratch_database_url("migrations")
    drop_database(url)
    create_database(url)
    yield url
    drop_database(url)


def test_create_database_is_utf8_with_extensions(empty_database: str) -> None:
    engine = make_engine(empty_database)
    with engine.connect() as conn:
        encoding, ctype = conn.execute(
            text(
                "SELECT pg_encoding_to_char(encoding), datctype FROM pg_database "
                "WHERE datname = current_database()"
            )
        ).one()
        extensions = set(conn.execute(text("SELECT extname FROM pg_extension")).scalars())
        # pg_trgm must see Chinese characters as word characters under this locale
        trigrams = conn.execute(text("SELECT show_trgm('新街口')")).scalar()
    engine.dispose()
    assert encoding == "UTF8"
    assert ctype == "C.UTF-8"
    assert {"postgis", "pg_trgm"} <= extensions
    assert trigrams and len(trigrams) > 0
    # idempotent: a second call neither fails nor recreates
    assert create_database(empty_database) is False
    assert database_exists(empty_database)


def test_upgrade_from_empty_to_head_matches_models(empty_database: str) -> None:
    upgrade(empty_database)
    engine = make_engine(empty_database)
    inspector = inspect(engine)
    tables = set(inspector.get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    with engine.connect() as conn:
        assert current_revision(conn) == head_revision()
        # the position column is a geography(Point, 4326) with a GiST index
        column_type = conn.execute(
            text(
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = 'outlet_profile'::regclass AND attname = 'position'"
            )
        ).scalar()
        index_method = conn.execute(
            text(
                "SELECT am.amname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_am am ON am.oid = c.relam WHERE c.relname = 'ix_outlet_profile_position'"
            )
        ).scalar()
    assert column_type == "geography(Point,4326)"
    assert index_method == "gist"

    # Nothing in the models is missing from the migrations (autogenerate finds no diff).
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from backend.migrations.env_helpers import include_object

    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": include_object, "compare_type": True}
        )
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def test_downgrade_to_base_and_up_again(empty_database: str) -> None:
    upgrade(empty_database)
    downgrade(empty_database, "base")
    engine = make_engine(empty_database)
    assert "institution" not in inspect(engine).get_table_names()
    engine.dispose()
    upgrade(empty_database)
    engine = make_engine(empty_database)
    assert "institution" in inspect(engine).get_table_names()
    engine.dispose()


def test_change_events_are_append_only(empty_database: str) -> None:
    upgrade(empty_database)
    engine = make_engine(empty_database)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO change_event (entity, fi_code, actor, channel) "
                "VALUES ('institution', 'C1010211000012', 'test', 'system')"
            )
        )
    for statement in ("UPDATE change_event SET actor = 'x'", "DELETE FROM change_event"):
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    engine.dispose()
