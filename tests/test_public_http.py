"""The public GETs' HTTP conventions: validators and 304s, cache lifetimes, gzip, rate
limits with their headers, CORS; and the trigger-kept version the validators come from."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from email.utils import format_datetime, parsedate_to_datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text

from backend.app import create_app
from core.models.public_version import public_data_state
from tests.conftest import TestConfig, app_on, load_generated
from web.public_http import VersionCache, endpoint_limits

API = "/api/mp/v1"
NEARBY = f"{API}/outlets/nearby?lat=32.039452&lng=118.783309&limit=20"
VIEW = "min_lat=31.9&min_lng=118.6&max_lat=32.2&max_lng=118.9&zoom=12"


@pytest.fixture(scope="module")
def finder(
    engine: Engine, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    load_generated(engine, tmp_path_factory.mktemp("http"), outlets=300, seed=5)
    with app_on(engine, database_url) as app:
        yield app


@pytest.fixture
def api(finder: Flask) -> FlaskClient:
    return finder.test_client()


def a_fi_code(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(
                text(
                    "SELECT i.fi_code FROM institution i JOIN outlet_profile p "
                    "ON p.institution_id = i.id WHERE i.status = 'active' "
                    "AND p.position IS NOT NULL ORDER BY i.fi_code LIMIT 1"
                )
            ).scalar_one()
        )


def settled(engine: Engine) -> None:
    """Wait, if need be, until the public data's last change is three seconds old and the
    clock is three seconds or more into a minute with ten left: a Last-Modified is sent
    only once it is two seconds old (a change may still commit in its second), and a
    test's requests must not straddle a minute."""
    with engine.connect() as conn:
        state = public_data_state(conn)
    wait = max(0.0, 3 - (state.read_at - state.changed_at).total_seconds())
    second = (time.time() + wait) % 60
    if not 3 <= second <= 50:
        wait += (63 - second) % 60
    time.sleep(wait)


# -- validators and 304 ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "max_age"),
    [
        (NEARBY, 60),
        (f"{API}/outlets/search?q=银行", 60),
        (f"{API}/outlets/viewport?{VIEW}", 60),
        (f"{API}/business-types", 3600),
        (f"{API}/institutions", 3600),
        (f"{API}/regions", 3600),
    ],
)
def test_each_public_get_has_validators_and_a_lifetime(
    api: FlaskClient, engine: Engine, path: str, max_age: int
) -> None:
    settled(engine)
    response = api.get(path)
    assert response.status_code == 200, response.get_json()
    etag = response.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    assert response.headers["Cache-Control"] == f"public, max-age={max_age}"
    assert "Accept" in response.headers["Vary"]
    assert parsedate_to_datetime(response.headers["Last-Modified"]) is not None
    again = api.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == response.headers["Cache-Control"]
    since = api.get(path, headers={"If-Modified-Since": response.headers["Last-Modified"]})
    assert since.status_code == 304


def test_the_detail_has_validators(api: FlaskClient, engine: Engine) -> None:
    path = f"{API}/outlets/{a_fi_code(engine)}"
    first = api.get(path)
    assert first.status_code == 200
    assert api.get(path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


def test_another_tag_or_an_older_date_gets_the_answer(api: FlaskClient, engine: Engine) -> None:
    settled(engine)
    first = api.get(NEARBY)
    other = api.get(NEARBY, headers={"If-None-Match": '"0123456789abcdef0123456789abcdef"'})
    assert other.status_code == 200 and other.get_json() == first.get_json()
    modified = parsedate_to_datetime(first.headers["Last-Modified"])
    older = format_datetime(modified.replace(year=modified.year - 1), usegmt=True)
    assert api.get(NEARBY, headers={"If-Modified-Since": older}).status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110, 13.2.2)
    both = api.get(
        NEARBY,
        headers={"If-None-Match": '"nope"', "If-Modified-Since": first.headers["Last-Modified"]},
    )
    assert both.status_code == 200
    # one of several tags, and the star
    listed = api.get(NEARBY, headers={"If-None-Match": f'"nope", {first.headers["ETag"]}'})
    assert listed.status_code == 304
    assert api.get(NEARBY, headers={"If-None-Match": "*"}).status_code == 304


def test_the_tag_depends_on_the_query_and_the_accept_header(api: FlaskClient) -> None:
    tags = {
        api.get(NEARBY).headers["ETag"],
        api.get(NEARBY.replace("limit=20", "limit=10")).headers["ETag"],
        api.get(NEARBY + "&coord=wgs84").headers["ETag"],
        api.get(NEARBY, headers={"Accept": "application/json;q=0.9"}).headers["ETag"],
    }
    assert len(tags) == 4


def test_a_changed_outlet_changes_the_tag_and_the_date(api: FlaskClient, engine: Engine) -> None:
    settled(engine)
    first = api.get(NEARBY)
    fi_code = first.get_json()["items"][0]["fi_code"]
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE outlet_profile SET phone = '025-84000000' WHERE institution_id = "
                "(SELECT id FROM institution WHERE fi_code = :c)"
            ),
            {"c": fi_code},
        )
    second = api.get(NEARBY, headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200
    assert second.headers["ETag"] != first.headers["ETag"]
    assert second.get_json()["items"][0]["phone"] == "025-84000000"
    # the old date no longer validates: the new one, once settled, is later
    settled(engine)
    assert parsedate_to_datetime(api.get(NEARBY).headers["Last-Modified"]) > parsedate_to_datetime(
        first.headers["Last-Modified"]
    )
    since = api.get(NEARBY, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 200


def test_gzip_over_the_threshold_with_its_own_tag(api: FlaskClient) -> None:
    plain = api.get(NEARBY)
    zipped = api.get(NEARBY, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(zipped.data)) == plain.get_json()
    assert zipped.headers["ETag"] == plain.headers["ETag"][:-1] + ':gzip"'
    assert "Accept-Encoding" in zipped.headers["Vary"]
    # the gzipped copy revalidates with its own tag
    again = api.get(
        NEARBY, headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]}
    )
    assert again.status_code == 304
    path = f"{API}/regions?parent=320102"  # a district: no regions under it
    assert len(api.get(path).data) < 1024
    small = api.get(path, headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in small.headers and small.get_json() == []


def test_errors_and_writes_carry_no_validators(api: FlaskClient) -> None:
    bad = api.get(f"{API}/outlets/nearby?lat=nan&lng=118.78")
    assert bad.status_code == 422 and "ETag" not in bad.headers
    missing = api.get(f"{API}/outlets/32010000000000")
    assert missing.status_code == 404 and "ETag" not in missing.headers
    posted = api.post(f"{API}/feedback", json={})
    assert "ETag" not in posted.headers and "RateLimit-Limit" not in posted.headers


# -- the version behind the validators ---------------------------------------------------------


def test_the_version_moves_once_per_commit_and_not_for_a_rollback(engine: Engine) -> None:
    with engine.connect() as conn:
        before = public_data_state(conn)
    with engine.begin() as conn:  # three statements over two tables, one transaction
        for end in ("min", "max"):
            conn.execute(
                text(
                    "UPDATE institution SET phone = phone "
                    f"WHERE id = (SELECT {end}(id) FROM institution)"
                )
            )
        conn.execute(text("UPDATE outlet_profile SET phone = phone WHERE false"))
        with conn.begin_nested():  # a savepoint's own mark survives its parent's
            conn.execute(text("UPDATE outlet_photo SET status = status WHERE false"))
        inside = public_data_state(conn)
    with engine.connect() as conn:
        after = public_data_state(conn)
        assert conn.execute(text("SELECT count(*) FROM public_data_pending")).scalar_one() == 0
    assert inside.version == before.version  # not before its commit
    assert after.version == before.version + 1
    assert after.changed_at > before.changed_at
    with engine.connect() as conn:
        conn.execute(text("UPDATE institution SET phone = phone WHERE false"))
        conn.rollback()
        assert public_data_state(conn).version == after.version
    with engine.begin() as conn:  # a savepoint rolled back, then a real change
        with conn.begin_nested() as savepoint:
            conn.execute(text("UPDATE institution SET phone = phone WHERE false"))
            savepoint.rollback()
        conn.execute(text("UPDATE outlet_profile SET phone = phone WHERE false"))
    with engine.connect() as conn:
        assert public_data_state(conn).version == after.version + 1


def test_a_writer_holding_an_outlet_does_not_wait_for_another_writer(engine: Engine) -> None:
    """Two transactions that each lock an outlet and change public data commit in either
    order: the version row is taken only at commit, so neither waits for the other's."""
    with engine.connect() as conn:
        ids = (
            conn.execute(text("SELECT institution_id FROM outlet_profile LIMIT 2")).scalars().all()
        )
    touch = text("UPDATE outlet_profile SET phone = phone WHERE institution_id = :i")
    first = engine.connect()
    second = engine.connect()
    try:
        first.begin()
        second.begin()
        first.execute(touch, {"i": ids[0]})
        second.execute(text("SET LOCAL lock_timeout = '2s'"))
        # with the version row locked at the first write, this would wait for `first`
        second.execute(touch, {"i": ids[1]})
        done = threading.Event()

        def commit_second() -> None:
            second.commit()
            done.set()

        worker = threading.Thread(target=commit_second)
        worker.start()
        worker.join(5)
        assert done.is_set()
        first.commit()
    finally:
        first.close()
        second.close()


# -- rate limits -------------------------------------------------------------------------------


@pytest.fixture
def limited(engine: Engine, database_url: str, finder: Flask) -> Iterator[FlaskClient]:
    """An app allowing 3 GETs a minute per endpoint, 5 for the business types."""
    config = replace(
        TestConfig(database_url=database_url),
        public_get_rate_limit=3,
        public_get_rate_limits="outlets.BusinessTypes=5",
        secret_key="limits-test",
    )
    app = create_app(config)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM rate_limit_bucket WHERE key LIKE 'get:%'"))
    yield app.test_client()
    app.extensions["branchfinder.db"].dispose()


def test_429_with_retry_after_after_the_configured_count(limited: FlaskClient) -> None:
    answers = [limited.get(NEARBY) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert all(a.headers["RateLimit-Limit"] == "3" for a in answers)
    refused = answers[-1]
    assert 1 <= int(refused.headers["Retry-After"]) <= 120
    assert 1 <= int(refused.headers["RateLimit-Reset"]) <= 60
    body = refused.get_json()
    assert body["code"] == 429 and "请求过于频繁" in body["message"]
    # the limit is per endpoint: another one still answers
    assert limited.get(f"{API}/regions").status_code == 200
    business = [limited.get(f"{API}/business-types").status_code for _ in range(6)]
    assert business == [200] * 5 + [429]


def test_the_limit_is_per_client(limited: FlaskClient) -> None:
    for _ in range(3):
        limited.get(NEARBY, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert limited.get(NEARBY, environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 429
    assert limited.get(NEARBY, environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code == 200


def test_a_bad_override_fails_at_start(database_url: str) -> None:
    with pytest.raises(ValueError, match="endpoint=limit"):
        create_app(replace(TestConfig(database_url=database_url), public_get_rate_limits="x=y"))
    with pytest.raises(ValueError, match="endpoint=limit"):
        endpoint_limits(replace(TestConfig(), public_get_rate_limits="outlets.Nearby"))
    assert endpoint_limits(replace(TestConfig(), public_get_rate_limits=" a=1, b=20 ")) == {
        "a": 1,
        "b": 20,
    }


# -- CORS --------------------------------------------------------------------------------------


def test_cors_for_the_configured_origins_only(database_url: str, finder: Flask) -> None:
    config = replace(TestConfig(database_url=database_url), cors_origins="https://m.example.cn")
    app = create_app(config)
    try:
        client = app.test_client()
        allowed = client.get(NEARBY, headers={"Origin": "https://m.example.cn"})
        assert allowed.headers["Access-Control-Allow-Origin"] == "https://m.example.cn"
        assert "ETag" in allowed.headers["Access-Control-Expose-Headers"]
        refused = client.get(NEARBY, headers={"Origin": "https://evil.example.com"})
        assert refused.status_code == 200
        assert "Access-Control-Allow-Origin" not in refused.headers
        preflight = client.options(
            f"{API}/outlets/32010000000000/error-reports",
            headers={
                "Origin": "https://m.example.cn",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "Content-Type",
            },
        )
        assert preflight.headers["Access-Control-Allow-Origin"] == "https://m.example.cn"
        # the professional API is never open to other origins
        pro = client.get("/api/pro/v1/me", headers={"Origin": "https://m.example.cn"})
        assert "Access-Control-Allow-Origin" not in pro.headers
    finally:
        app.extensions["branchfinder.db"].dispose()


def test_no_cors_without_configured_origins(api: FlaskClient) -> None:
    response = api.get(NEARBY, headers={"Origin": "https://m.example.cn"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_an_unknown_photo_is_404_whatever_the_client_holds(api: FlaskClient) -> None:
    # an unknown photo is 404 whatever the client holds: the view decides first
    key = "0" * 64
    missing = api.get(f"{API}/photos/{key}/thumb.jpg", headers={"If-None-Match": "*"})
    assert missing.status_code == 404


def test_the_documents_say_so(api: FlaskClient) -> None:
    spec = api.get("/openapi.json").get_json()
    cached = [
        "/api/mp/v1/outlets/nearby",
        "/api/mp/v1/outlets/search",
        "/api/mp/v1/outlets/viewport",
        "/api/mp/v1/outlets/{fi_code}",
        "/api/mp/v1/business-types",
        "/api/mp/v1/institutions",
        "/api/mp/v1/regions",
        "/api/mp/v1/photos/{key}/{variant}.jpg",
    ]
    for path in cached:
        responses = spec["paths"][path]["get"]["responses"]
        assert {"200", "304", "429"} <= set(responses), path
        assert {"ETag", "Cache-Control", "RateLimit-Remaining"} <= set(responses["200"]["headers"])
        assert "content" in responses["200"], path  # the answer's own schema is kept
        assert "Retry-After" in responses["429"]["headers"]
    staff = spec["paths"]["/api/mp/v1/staff/tasks"]["get"]["responses"]
    assert "304" not in staff


def test_the_version_is_held_for_its_configured_age(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    cache = VersionCache(max_age_s=1.0)
    first = cache.get(engine.connect)
    with engine.begin() as conn:
        conn.execute(text("UPDATE outlet_profile SET phone = phone WHERE false"))
    clock[0] += 0.5
    held = cache.get(engine.connect)
    assert held.version == first.version  # within its age: not read again
    assert (held.read_at - first.read_at).total_seconds() == pytest.approx(0.5)
    clock[0] += 0.6
    assert cache.get(engine.connect).version == first.version + 1
    always = VersionCache(max_age_s=0.0)
    before = always.get(engine.connect)
    with engine.begin() as conn:
        conn.execute(text("UPDATE outlet_profile SET phone = phone WHERE false"))
    assert always.get(engine.connect).version == before.version + 1
