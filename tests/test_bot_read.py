"""`GET /api/bot/v1/read`: how the bot reads a search text, as the H5 search box asks it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from core.coords import position_in
from registry import regions
from tests.conftest import app_on, load_generated


@pytest.fixture(scope="module")
def app(
    engine: Engine, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    load_generated(engine, tmp_path_factory.mktemp("read"), outlets=400, seed=3)
    with app_on(engine, database_url) as application:
        yield application


def read(client: FlaskClient, text: str, **params: Any) -> dict[str, Any]:
    answer = client.get("/api/bot/v1/read", query_string={"text": text, **params})
    assert answer.status_code == 200, answer.get_json()
    body: dict[str, Any] = answer.get_json()
    return body


def test_aliases_pinyin_and_typos_name_the_institution(app: Flask) -> None:
    client = app.test_client()
    icbc = read(client, "工行")["institutions"]
    assert [i["short_name"] for i in icbc] == ["工行"]
    assert read(client, "gonghang")["institutions"] == icbc
    nanjing = read(client, "宁行新街口")
    assert [i["short_name"] for i in nanjing["institutions"]] == ["南银"]
    assert nanjing["landmark"] == "新街口" and nanjing["corrections"] == []
    typo = read(client, "中国建没")
    assert [i["short_name"] for i in typo["institutions"]] == ["建行"]
    assert typo["corrections"] == [{"typed": "中国建没", "meant": "建行"}]


def test_a_pinyin_word_is_spelt_in_characters(app: Flask) -> None:
    reading = read(app.test_client(), "gonghang xinjiekou")
    assert reading["landmark"] == "新街口"
    assert {"typed": "xinjiekou", "meant": "新街口"} in reading["corrections"]


def test_places_come_with_their_centre_in_coord(app: Flask) -> None:
    client = app.test_client()
    seat = regions.place("320102")
    assert seat is not None
    places = read(client, "玄武区的建行", coord="wgs84")["places"]
    assert places == [
        {"code": "320102", "name": "玄武区", "centre": {"lat": seat.lat, "lng": seat.lng}}
    ]
    gcj = read(client, "玄武区的建行")["places"][0]["centre"]
    assert gcj == position_in(seat.lat, seat.lng, "gcj02")


def test_business_and_open_now(app: Flask) -> None:
    reading = read(app.test_client(), "现在开门能换外币的银行")
    assert "foreign_exchange" in reading["business_types"] and reading["open_now"] is True


@pytest.mark.parametrize(
    "params", [{}, {"text": ""}, {"text": "字" * 101}, {"text": "工行", "coord": "utm"}]
)
def test_bad_parameters_are_named_in_chinese(app: Flask, params: dict[str, str]) -> None:
    answer = app.test_client().get("/api/bot/v1/read", query_string=params)
    assert answer.status_code == 422
    body = answer.get_json()
    named = set(body["errors"]["query"])
    assert named <= {"text", "coord"} and named
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"] + str(body["errors"]))


def test_it_is_a_cached_public_get(app: Flask) -> None:
    client = app.test_client()
    first = client.get("/api/bot/v1/read", query_string={"text": "工行"})
    assert first.headers["Cache-Control"] == "public, max-age=3600"
    again = client.get(
        "/api/bot/v1/read",
        query_string={"text": "工行"},
        headers={"If-None-Match": first.headers["ETag"]},
    )
    assert again.status_code == 304
