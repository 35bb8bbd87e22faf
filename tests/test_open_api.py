"""The open data API over HTTP: the manifest and its files (ETag = sha256, Range, 304),
the feed's validation and validators, and the CLI that makes the export."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from backend.app import create_app
from open_data import export as open_export
from tests.conftest import TestConfig, load_generated, truncate_all

BASE = "/api/open/v1"


@pytest.fixture
def open_app(engine: Engine, database_url: str, tmp_path: Path) -> Iterator[Flask]:
    load_generated(engine, tmp_path / "data", outlets=30, seed=5)
    application = create_app(TestConfig(database_url=database_url, open_dir=str(tmp_path / "o")))
    try:
        yield application
    finally:
        application.extensions["branchfinder.db"].dispose()
        truncate_all(engine)


def _manifest(client: FlaskClient) -> dict[str, Any]:
    answer = client.get(f"{BASE}/files")
    assert answer.status_code == 200, answer.json
    data = answer.json
    assert isinstance(data, dict)
    return data


def test_no_export_yet_is_a_404_in_the_error_shape(open_app: Flask) -> None:
    answer = open_app.test_client().get(f"{BASE}/files")
    assert answer.status_code == 404
    assert answer.json is not None and answer.json["code"] == 404
    assert "尚未生成" in answer.json["message"]


def test_cli_export_and_the_manifest_match_the_files(
    open_app: Flask, database_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "o"
    done = subprocess.run(
        [sys.executable, "-m", "backend.cli", "open", "export", "--dir", str(out)],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "exported" in done.stderr
    client = open_app.test_client()
    manifest = _manifest(client)
    assert manifest["count"] > 0 and manifest["coord"] == "wgs84"
    assert [f["name"] for f in manifest["files"]] == [f.name for f in open_export.FORMATS]
    for entry in manifest["files"]:
        answer = client.get(entry["url"])
        assert answer.status_code == 200
        assert answer.mimetype == "application/gzip"
        assert "Content-Encoding" not in answer.headers
        body = answer.get_data()
        assert hashlib.sha256(body).hexdigest() == entry["sha256"]
        assert len(body) == entry["bytes"]
        assert answer.headers["ETag"] == f'"{entry["sha256"]}"'
        assert answer.headers["Accept-Ranges"] == "bytes"
        assert "RateLimit-Limit" in answer.headers
        content = gzip.decompress(body)
        if entry["format"] == "jsonl":
            assert len(content.splitlines()) == entry["count"]
        elif entry["format"] == "geojson":
            assert len(json.loads(content)["features"]) == entry["count"]
        else:
            assert content.startswith("\ufeff".encode())
            assert len(content.decode("utf-8-sig").splitlines()) == entry["count"] + 1


def test_files_answer_ranges_and_revalidate(open_app: Flask, engine: Engine) -> None:
    config = open_app.extensions["branchfinder.config"]
    open_export.export(engine, Path(config.open_dir))
    client = open_app.test_client()
    entry = _manifest(client)["files"][0]
    url, tag = entry["url"], f'"{entry["sha256"]}"'
    whole = client.get(url).get_data()

    part = client.get(url, headers={"Range": "bytes=10-109"})
    assert part.status_code == 206
    assert part.get_data() == whole[10:110]
    assert part.headers["Content-Range"] == f"bytes 10-109/{len(whole)}"

    resumed = client.get(url, headers={"Range": "bytes=100-", "If-Range": tag})
    assert resumed.status_code == 206 and resumed.get_data() == whole[100:]
    stale = client.get(url, headers={"Range": "bytes=100-", "If-Range": '"another"'})
    assert stale.status_code == 200 and stale.get_data() == whole

    assert client.get(url, headers={"If-None-Match": tag}).status_code == 304
    beyond = client.get(url, headers={"Range": f"bytes={len(whole) + 10}-"})
    assert beyond.status_code == 416

    manifest = client.get(f"{BASE}/files")
    again = client.get(f"{BASE}/files", headers={"If-None-Match": manifest.headers["ETag"]})
    assert again.status_code == 304
    assert client.get(f"{BASE}/files/outlets.xml.gz").status_code == 404
    assert client.get(f"{BASE}/files/manifest.json").status_code == 404


def test_a_new_export_changes_the_tags_and_keeps_the_old_files(
    open_app: Flask, engine: Engine
) -> None:
    from profiles.profile_changes import change_group
    from tests.test_open_feed import _outlets

    directory = Path(open_app.extensions["branchfinder.config"].open_dir)
    first = open_export.export(engine, directory)
    ((outlet_id, code),) = _outlets(engine, 1)
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        change_group(session, outlet_id, code, "phone", "025-99990000", actor="t", channel="system")
        session.commit()
    second = open_export.export(engine, directory)
    assert first.files[2].sha256 != second.files[2].sha256
    assert first.cursor != second.cursor
    client = open_app.test_client()
    answer = client.get(f"{BASE}/files/outlets.jsonl.gz", headers={"If-None-Match": "x"})
    assert answer.headers["ETag"] == f'"{second.files[2].sha256}"'
    held = client.get(
        f"{BASE}/files/outlets.jsonl.gz",
        headers={"If-None-Match": f'"{first.files[2].sha256}"'},
    )
    assert held.status_code == 200  # the client's copy is the old one
    assert len(list((directory / "exports").iterdir())) == 2  # the previous one kept


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"since": "abc"}, "since"),
        ({"since": "12"}, "since"),
        ({"since": "1-2-3"}, "since"),
        ({"since": "99999999999999999999-1"}, "since"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
    ],
)
def test_bad_feed_parameters_are_422_naming_the_field(
    client: FlaskClient, query: dict[str, str], field: str
) -> None:
    answer = client.get(f"{BASE}/changes", query_string=query)
    assert answer.status_code == 422
    body = answer.json
    assert body is not None
    assert list(body["errors"]["query"]) == [field]
    assert field in body["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"])
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["errors"]["query"][field][0])


def test_feed_pages_are_tagged_by_their_body(open_app: Flask) -> None:
    client = open_app.test_client()
    first = client.get(f"{BASE}/changes", query_string={"limit": 5})
    assert first.status_code == 200
    page = first.json
    assert page is not None and len(page["items"]) == 5 and page["more"] is True
    tag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, max-age=0"
    again = client.get(f"{BASE}/changes", query_string={"limit": 5}, headers={"If-None-Match": tag})
    assert again.status_code == 304
    after = client.get(
        f"{BASE}/changes",
        query_string={"limit": 5, "since": page["next_cursor"]},
        headers={"If-None-Match": tag},
    )
    assert after.status_code == 200 and after.headers["ETag"] != tag
    assert after.json is not None
    from open_data.feed import Cursor

    first_next = Cursor.parse(after.json["items"][0]["cursor"])
    assert first_next > Cursor.parse(page["items"][-1]["cursor"])


def test_openapi_documents_the_open_endpoints(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").json
    assert spec is not None
    paths = spec["paths"]
    for path in ("/api/open/v1/files", "/api/open/v1/files/{name}", "/api/open/v1/changes"):
        assert path in paths
        assert any("\u4e00" <= ch <= "\u9fff" for ch in json.dumps(paths[path], ensure_ascii=False))
    changes = paths["/api/open/v1/changes"]["get"]
    assert {p["name"] for p in changes["parameters"]} == {"since", "limit"}
    assert "422" in changes["responses"]
    assert "206" in paths["/api/open/v1/files/{name}"]["get"]["responses"]
