"""Every error message the public reads holds Chinese (web/messages_zh.py).

Walks the public operations of the OpenAPI document (`/api/mp/v1`, `/api/bot/v1`) and sends
each parameter and each body field the generic bad values people's clients send — NaN,
infinity, the wrong type, a required value missing, a text too long — then checks that
every answer is a 4xx whose `message` and every message under `errors` holds Chinese.
The table of marshmallow's and webargs' own defaults is checked against the installed
libraries, so an upgrade that brings a new English message fails here first.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Iterator
from typing import Any

import marshmallow as ma
import marshmallow.validate as mv
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from backend.app import create_app
from core import tokens
from tests.conftest import TestConfig, load_generated, truncate_all
from uploads import staff as staff_lib
from web.messages_zh import TRANSLATIONS, has_chinese, translate

PEPPER = "messages-test-pepper"
PUBLIC_PREFIXES = ("/api/mp/", "/api/bot/")
GOOD_QUERY = {
    "lat": "32.0415",
    "lng": "118.784",
    "q": "工行",
    "text": "工行新街口",  # GET /api/bot/v1/read
    "url": "http://localhost/m/",  # GET /api/mp/v1/wechat/js-config
    "min_lat": "32.0",
    "min_lng": "118.7",
    "max_lat": "32.1",
    "max_lng": "118.9",
}
BAD_NUMBERS = ["nan", "NaN", "inf", "-Infinity", "abc", "", "1e400"]
BAD_INTEGERS = ["1.5", "abc", "nan", "99999999999999999999999", ""]
BAD_BOOLEANS = ["maybe", "2"]
TOO_LONG = "长" * 5000
_CODE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+|[a-z]+")


# --- the table against the libraries ----------------------------------------------------------


_VALIDATOR_MESSAGES = (
    "default_message",
    "message_min",
    "message_max",
    "message_all",
    "message_equal",
)


def _library_defaults() -> set[str]:
    """Every default English message of marshmallow's fields, schemas and validators."""
    found: set[str] = set()
    for cls in vars(ma.fields).values():
        if inspect.isclass(cls) and issubclass(cls, ma.fields.Field):
            found.update(cls.__dict__.get("default_error_messages", {}).values())
    found.update(ma.Schema._default_error_messages.values())
    for cls in vars(mv).values():
        if inspect.isclass(cls) and issubclass(cls, mv.Validator):
            for name in _VALIDATOR_MESSAGES:
                found.update([vars(cls)[name]] if name in vars(cls) else [])
    # Range composes its messages: "Must be {min_op} {{min}}." with each pair of operators.
    lows, highs = (
        ("greater than or equal to", "greater than"),
        ("less than or equal to", "less than"),
    )
    ranged = {m for m in found if "{min_op}" in m or "{max_op}" in m}
    found -= ranged
    found |= {t.format(min_op=lo, max_op=hi) for t in ranged for lo in lows for hi in highs}
    return {m.replace("{input!r}", "{input}") for m in found}


def test_every_library_default_message_has_a_chinese_translation() -> None:
    missing = _library_defaults() - set(TRANSLATIONS)
    assert not missing, f"translate these in web/messages_zh.py: {sorted(missing)}"


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("Not a valid number.", "应为数字"),
        ("Special numeric values (nan or infinity) are not permitted.", "NaN"),
        ("Must be greater than or equal to -90 and less than or equal to 90.", "-90 到 90"),
        ("Longer than maximum length 200.", "最多 200"),
        ("Must be one of: gcj02, wgs84, bd09.", "应为以下之一：gcj02, wgs84, bd09"),
        ('"x" cannot be formatted as a date.', "“x”"),
    ],
)
def test_translate_puts_chinese_before_the_english(english: str, chinese: str) -> None:
    translated = translate(english)
    assert chinese in translated and translated.endswith(" / " + english)


def test_codes_and_chinese_are_kept_as_they_are() -> None:
    assert translate("invalid_code") == "invalid_code"
    worded = "纬度超出范围 / latitude out of range"
    assert translate(worded) == worded


# --- the walk over the public API -------------------------------------------------------------


@pytest.fixture(scope="module")
def world(
    engine: Engine, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Flask, str, dict[str, str]]]:
    """The app over a small generated sample, an outlet, and a staff member bound to it."""
    load_generated(engine, tmp_path_factory.mktemp("messages"), outlets=40, seed=3)
    with Session(engine) as session:
        fi_code = session.execute(
            text(
                "SELECT i.fi_code FROM institution i JOIN outlet_profile p "
                "ON p.institution_id = i.id WHERE p.position IS NOT NULL "
                "AND i.status = 'active' ORDER BY i.fi_code LIMIT 1"
            )
        ).scalar_one()
        staff_id = staff_lib.sign_in(session, "oMessages-test-openid", PEPPER)
        [issued] = staff_lib.create_tasks(
            session, [fi_code], actor="test", pepper=PEPPER, qr_prefix=""
        )
        staff_lib.bind(session, staff_id, issued.code, PEPPER)
        token = tokens.issue(session, "staff", staff_id, 3600).token
        session.commit()
    config = TestConfig(database_url=database_url, secret_key=PEPPER, chat_rate_limit=100_000)
    app = create_app(config)
    try:
        yield app, fi_code, {"Authorization": f"Bearer {token}"}
    finally:
        app.extensions["branchfinder.db"].dispose()
        truncate_all(engine)


def _operations(client: FlaskClient) -> Iterator[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    document = client.get("/openapi.json").get_json()
    for path, operations in document["paths"].items():
        if not path.startswith(PUBLIC_PREFIXES):
            continue
        for method, operation in operations.items():
            if method in ("get", "post", "put", "delete", "patch"):
                yield method, path, operation, document["components"]["schemas"]


def _resolve(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _bad_query_values(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type")
    if kind == "number":
        return BAD_NUMBERS
    if kind == "integer":
        return BAD_INTEGERS
    if kind == "boolean":
        return BAD_BOOLEANS
    if kind == "array":
        return ["没有这个选项", TOO_LONG]
    return [TOO_LONG, "没有这个选项"]


def _bad_body_values(schema: dict[str, Any]) -> list[Any]:
    kind = schema.get("type")
    if kind in ("number", "integer"):
        return [float("nan"), float("inf"), "abc", [1], True if kind == "integer" else None]
    if kind == "boolean":
        return ["maybe", 3]
    if kind == "array":
        return ["not a list", [None], [TOO_LONG]]
    if kind == "object":
        return ["not an object", [1]]
    return [12, ["x"], TOO_LONG, None]


def _messages(body: Any) -> Iterator[str]:
    if isinstance(body, str):
        yield body
    elif isinstance(body, dict):
        for value in body.values():
            yield from _messages(value)
    elif isinstance(body, list):
        for value in body:
            yield from _messages(value)


def _check(response: Any, what: str, answers: list[tuple[str, int]]) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.data[:300]!r}"
    answers.append((what, response.status_code))
    if response.status_code < 400:
        return
    body = response.get_json()
    assert body is not None, f"{what}: error answer is not JSON: {response.data[:200]!r}"
    assert has_chinese(body["message"]), f"{what}: message {body['message']!r}"
    for message in _messages(body.get("errors", {})):
        if _CODE.fullmatch(message):
            continue  # a machine-readable code clients compare (invalid_code), not words
        assert has_chinese(message), f"{what}: {message!r} in {body['errors']}"


def _fill(path: str, fi_code: str) -> str:
    return (
        path.replace("{fi_code}", fi_code).replace("{key}", "0" * 64).replace("{variant}", "full")
    )


def test_every_public_error_message_holds_chinese(
    world: tuple[Flask, str, dict[str, str]],
) -> None:
    app, fi_code, staff = world
    client = app.test_client()
    answers: list[tuple[str, int]] = []
    for method, path, operation, schemas in _operations(client):
        url = _fill(path, fi_code)
        params = [p for p in operation.get("parameters", []) if p["in"] == "query"]
        base = {p["name"]: GOOD_QUERY[p["name"]] for p in params if p.get("required")}
        send = getattr(client, method)
        for param in params:
            for value in _bad_query_values(param["schema"]):
                query = {**base, param["name"]: value}
                what = f"{method.upper()} {path} ?{param['name']}={value[:20]!r}"
                _check(send(url, query_string=query, headers=staff), what, answers)
            if param.get("required"):
                query = {k: v for k, v in base.items() if k != param["name"]}
                what = f"{method.upper()} {path} without {param['name']}"
                _check(send(url, query_string=query, headers=staff), what, answers)
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" in content:
            schema = _resolve(content["application/json"]["schema"], schemas)
            for field, spec in schema.get("properties", {}).items():
                for value in _bad_body_values(_resolve(spec, schemas)):
                    what = f"{method.upper()} {path} {field}={str(value)[:20]!r}"
                    data = json.dumps({field: value})  # NaN and Infinity as Python writes them
                    response = send(url, data=data, content_type="application/json", headers=staff)
                    _check(response, what, answers)
            for raw in ("{}", "[]", '"text"', "{broken", ""):
                what = f"{method.upper()} {path} body {raw!r}"
                response = send(url, data=raw, content_type="application/json", headers=staff)
                _check(response, what, answers)
        if "multipart/form-data" in content:
            what = f"{method.upper()} {path} without a file"
            _check(send(url, data={}, headers=staff), what, answers)
    refused = [what for what, status in answers if status >= 400]
    # The walk reached the validation of every kind of value, not only 401s and 404s:
    assert any("nearby ?lat='nan'" in w for w in refused), refused[:5]
    assert any(w.endswith("without q") for w in refused)
    assert any("/chat text=" in w for w in refused)
    assert any("/position lat='nan'" in w for w in refused), [w for w in refused if "pos" in w]
    assert sum(status == 422 for _, status in answers) > 100


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/api/mp/v1/no-such-thing", 404),
        ("delete", "/api/mp/v1/business-types", 405),
        ("get", "/api/mp/v1/outlets/C0000000000000", 404),
        ("get", "/api/mp/v1/staff/tasks", 401),
    ],
)
def test_plain_http_errors_of_public_paths_hold_chinese(
    world: tuple[Flask, str, dict[str, str]], method: str, path: str, status: int
) -> None:
    client = world[0].test_client()
    response = getattr(client, method)(path)
    assert response.status_code == status
    assert has_chinese(response.get_json()["message"]), response.get_json()


def test_too_large_a_body_is_a_chinese_413(world: tuple[Flask, str, dict[str, str]]) -> None:
    client = world[0].test_client()
    body = "x" * (world[0].config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/api/mp/v1/feedback", data=body, content_type="application/json")
    assert response.status_code == 413
    assert has_chinese(response.get_json()["message"])
