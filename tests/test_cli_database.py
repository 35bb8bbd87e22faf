"""The CLI finds the local cluster of ./run.sh by itself, and says what to run without one.

`./run.sh` keeps the cluster's password in `.run/pg-password` of the checkout; with no
`DATABASE_URL` every command builds its URL from it (core.config.local_cluster_url).
These tests point the checkout at a folder of their own, holding the password of the
suite's own server, so the URL is built and used exactly as after `./run.sh`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url

import core.config
from backend.cli import main
from core.config import Config, local_cluster_url
from core.database import normalise_url


def _checkout(tmp_path: Path, password: str | None) -> Path:
    if password is not None:
        (tmp_path / ".run").mkdir(parents=True)
        (tmp_path / ".run" / "pg-password").write_text(password + "\n")
    return tmp_path


def test_the_url_carries_the_password_port_and_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRANCHFINDER_PG_PORT", "25999")
    monkeypatch.setenv("BRANCHFINDER_PG_DB", "other")
    url = local_cluster_url(_checkout(tmp_path, "p@ss/w:rd"))
    assert url == "postgresql://postgres:p%40ss%2Fw%3Ard@127.0.0.1:25999/other"
    assert make_url(url).password == "p@ss/w:rd"


def test_no_password_file_no_local_url(tmp_path: Path) -> None:
    assert local_cluster_url(_checkout(tmp_path, None)) is None
    assert local_cluster_url(_checkout(tmp_path / "empty", "")) is None


def test_database_url_wins_over_the_local_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core.config, "CHECKOUT", _checkout(tmp_path, "secret"))
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db.example/x")
    assert Config().database_url == "postgresql://u:p@db.example/x"
    monkeypatch.delenv("DATABASE_URL")
    assert Config().database_url.startswith("postgresql://postgres:secret@127.0.0.1:")


def test_cli_uses_the_local_cluster_with_no_variable_set(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = make_url(normalise_url(database_url))
    assert server.host == "127.0.0.1" and server.username == "postgres", (
        "this test reads the suite's server as ./run.sh's local cluster (./test.sh's default)"
    )
    monkeypatch.setattr(core.config, "CHECKOUT", _checkout(tmp_path, server.password))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("BRANCHFINDER_PG_PORT", str(server.port))
    monkeypatch.setenv("BRANCHFINDER_PG_DB", str(server.database))
    result = CliRunner().invoke(main, ["db", "current"])
    assert result.exit_code == 0, result.output
    assert "head" in result.output or "0001" in result.output, result.output


@pytest.mark.parametrize(
    ("password", "hint"),
    [(None, "no local database is set up here: run ./run.sh"), ("pw", "run ./run.sh to start it")],
)
def test_without_a_database_one_line_says_what_to_run(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    password: str | None,
    hint: str,
) -> None:
    monkeypatch.setattr(core.config, "CHECKOUT", _checkout(tmp_path, password))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("BRANCHFINDER_PG_PORT", "1")  # nothing listens there
    for command in (["db", "current"], ["registry", "history", "C1010232000164"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 1, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and hint in lines[0], result.output
        assert "Traceback" not in result.output
