"""Connection handling: idle connections are checked before use, readers run without a
transaction, and both survive the server dropping a connection."""

from __future__ import annotations

import threading
import time

import pytest
from flask import Flask
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, OperationalError

from core import database as database_module
from core.database import make_engine
from web.extensions import db_session, read_connection, read_session


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(admin: Engine, pid: int) -> None:
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        conn.commit()
    for _ in range(50):  # wait until the server has really let it go
        with admin.connect() as conn:
            alive = conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            ).scalar_one()
        if not alive:
            return
        time.sleep(0.05)


@pytest.mark.parametrize("autocommit", [False, True])
def test_an_idle_connection_cut_by_the_server_is_replaced_before_use(
    database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch, autocommit: bool
) -> None:
    subject = make_engine(database_url, pool_size=1, autocommit=autocommit)
    try:
        first = _backend_pid(subject)  # now idle in the pool
        _terminate(engine, first)
        monkeypatch.setattr(database_module, "IDLE_PING_S", 0.0)
        assert _backend_pid(subject) != first  # no error: the ping found it dead
    finally:
        subject.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged(database_url: str, engine: Engine) -> None:
    """No round trip for busy connections: a cut that recent shows up as an error instead."""
    subject = make_engine(database_url, pool_size=1)
    try:
        first = _backend_pid(subject)
        _terminate(engine, first)
        with pytest.raises(OperationalError):
            _backend_pid(subject)
        assert _backend_pid(subject) != first  # and the pool has replaced it
    finally:
        subject.dispose()


def test_read_sessions_run_each_statement_on_its_own(app: Flask) -> None:
    with app.test_request_context():
        reader = read_session()
        first = reader.execute(text("SELECT clock_timestamp(), now()")).one()
        time.sleep(0.01)
        second = reader.execute(text("SELECT now()")).scalar_one()
        # now() is the start of the transaction: a new one for each statement
        assert second > first[1]
        writer = db_session()
        start = writer.execute(text("SELECT now()")).scalar_one()
        time.sleep(0.01)
        assert writer.execute(text("SELECT now()")).scalar_one() == start  # one transaction


def _request_pid(app: Flask) -> int:
    with app.test_request_context():
        return int(read_connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def test_the_worker_keeps_its_reader_connection_between_requests(app: Flask) -> None:
    first = _request_pid(app)
    assert _request_pid(app) == first == _request_pid(app)
    kept = app.extensions["branchfinder.db"].kept_reader
    app.extensions["branchfinder.db"].dispose()
    assert kept._connection is None  # closed at shutdown, not left checked out


def test_a_second_request_at_the_same_time_reads_from_the_pool(app: Flask) -> None:
    kept = _request_pid(app)
    with app.test_request_context():
        assert (
            int(read_connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one()) == kept
        )
        seen: list[int] = []
        other = threading.Thread(target=lambda: seen.append(_request_pid(app)))
        other.start()
        other.join()
        assert seen and seen[0] != kept  # not blocked, not sharing a connection
    assert _request_pid(app) == kept  # given back


def test_an_idle_kept_connection_cut_by_the_server_is_replaced_before_use(
    app: Flask, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _request_pid(app)
    _terminate(engine, first)
    monkeypatch.setattr(database_module, "IDLE_PING_S", 0.0)
    assert _request_pid(app) != first  # no error: the ping found it gone


def test_a_kept_connection_cut_while_busy_fails_once_then_is_replaced(
    app: Flask, engine: Engine
) -> None:
    """Used a moment ago, it is not pinged: the cut shows up as the statement's error,
    which invalidates it, and the next request gets a new connection."""
    first = _request_pid(app)
    _terminate(engine, first)
    with pytest.raises(DBAPIError):
        _request_pid(app)
    assert _request_pid(app) != first


def test_a_kept_connection_is_replaced_once_the_server_takes_connections_again(
    app: Flask, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kept connection found gone while no new one can be made: that request fails,
    and the next one, with the server back, gets a new connection, not the dead one."""
    first = _request_pid(app)
    _terminate(engine, first)
    monkeypatch.setattr(database_module, "IDLE_PING_S", 0.0)
    kept = app.extensions["branchfinder.db"].kept_reader
    refused = OperationalError("connect", {}, Exception("the server refuses connections"))

    def refuse() -> None:
        raise refused

    with monkeypatch.context() as down:
        down.setattr(kept._engine, "connect", refuse)
        with pytest.raises(OperationalError):
            _request_pid(app)
    assert _request_pid(app) != first
