"""The application shell: /healthz, the error shape, request ids, OpenAPI and Swagger UI."""

from __future__ import annotations

import logging

import marshmallow as ma
import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from flask.views import MethodView
from flask_smorest import Blueprint

from backend.app import create_app
from backend.dbadmin import create_database, drop_database
from tests.conftest import TestConfig, scratch_database_url


def assert_error_shape(body: dict[str, object], code: int) -> None:
    assert body["code"] == code
    assert isinstance(body["status"], str) and body["status"]
    assert isinstance(body["message"], str) and body["message"]
    assert "Traceback" not in str(body)


def test_healthz_reports_postgis_and_migrations(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    db = body["database"]
    assert db["reachable"] is True
    assert "POSTGIS=" in db["postgis_version"]
    assert db["pg_trgm_version"]
    assert db["migrations"]["at_head"] is True
    assert db["migrations"]["current"] == db["migrations"]["head"]


def test_healthz_is_503_when_database_unreachable() -> None:
    app = create_app(TestConfig(database_url="postgresql://nobody:x@127.0.0.1:1/none"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["database"]["reachable"] is False
    assert "OperationalError" in body["database"]["error"]


def test_healthz_is_503_when_migrations_are_missing() -> None:
    url = scratch_database_url("unmigrated")
    drop_database(url)
    create_database(url)
    try:
        app = create_app(TestConfig(database_url=url))
        response = app.test_client().get("/healthz")
        app.extensions["branchfinder.db"].dispose()
    finally:
        drop_database(url)
    assert response.status_code == 503
    body = response.get_json()
    assert body["database"]["reachable"] is True
    assert body["database"]["migrations"]["current"] is None
    assert "branchfinder db upgrade" in body["database"]["error"]


def test_unknown_route_is_json_404(client: FlaskClient) -> None:
    response = client.get("/no/such/route")
    assert response.status_code == 404
    assert response.is_json
    assert_error_shape(response.get_json(), 404)


def test_wrong_method_is_json_405(client: FlaskClient) -> None:
    response = client.delete("/healthz")
    assert response.status_code == 405
    assert_error_shape(response.get_json(), 405)


class _EchoSchema(ma.Schema):
    name = ma.fields.String(required=True)
    count = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=10))


@pytest.fixture
def probe_app(app: Flask) -> Flask:
    """The real app plus a tiny JSON endpoint, to exercise its app-wide error handling."""
    blp = Blueprint("probe", __name__, url_prefix="/probe")

    @blp.route("/echo")
    class Echo(MethodView):
        @blp.arguments(_EchoSchema)
        @blp.response(200, _EchoSchema)
        def post(self, data: dict[str, object]) -> dict[str, object]:
            return data

    @blp.route("/raw", methods=["POST"])
    def raw() -> dict[str, object]:
        return {"got": request.get_json()}

    @blp.route("/boom")
    def boom() -> dict[str, object]:
        raise RuntimeError("secret internal detail")

    app.extensions["flask-smorest"]["apis"][""]["ext_obj"].register_blueprint(blp)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


def test_malformed_json_is_400_naming_the_body(probe_app: Flask) -> None:
    client = probe_app.test_client()
    for path in ("/probe/echo", "/probe/raw"):
        response = client.post(path, data='{"name": "x",', content_type="application/json")
        assert response.status_code == 400, path
        body = response.get_json()
        assert_error_shape(body, 400)
        assert "json" in body["errors"]


def test_invalid_field_is_422_naming_the_field(probe_app: Flask) -> None:
    client = probe_app.test_client()
    response = client.post("/probe/echo", json={"name": "x", "count": 99})
    assert response.status_code == 422
    body = response.get_json()
    assert_error_shape(body, 422)
    assert "count" in body["errors"]["json"]
    assert "count" in body["message"]
    ok = client.post("/probe/echo", json={"name": "网点", "count": 3})
    assert ok.status_code == 200
    assert ok.get_json() == {"name": "网点", "count": 3}


def test_unexpected_error_is_500_without_details(
    probe_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    client = probe_app.test_client()
    with caplog.at_level(logging.ERROR):
        response = client.get("/probe/boom", headers={"X-Request-ID": "req-123"})
    assert response.status_code == 500
    body = response.get_json()
    assert_error_shape(body, 500)
    assert "secret internal detail" not in response.get_data(as_text=True)
    assert "req-123" in body["message"]
    assert response.headers["X-Request-ID"] == "req-123"
    # ...but the log has it, for the operator
    assert any("secret internal detail" in (r.exc_text or str(r.exc_info)) for r in caplog.records)


def test_request_id_is_generated_or_sanitised(client: FlaskClient) -> None:
    generated = client.get("/healthz").headers["X-Request-ID"]
    assert len(generated) == 32
    hostile = client.get("/healthz", headers={"X-Request-ID": "<script>" * 20}).headers[
        "X-Request-ID"
    ]
    assert "<" not in hostile and len(hostile) == 32


def test_openapi_document_and_swagger_ui(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    health = spec["paths"]["/healthz"]["get"]
    assert {"200", "503"} <= set(health["responses"])
    docs = client.get("/docs")
    assert docs.status_code == 200
    page = docs.get_data(as_text=True)
    assert "/docs/assets/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    asset = client.get("/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.data) > 100_000


def test_every_documented_error_answer_has_its_schema(client: FlaskClient) -> None:
    """Each 4xx and 5xx an operation documents says what its body is: the error schema
    (or a shared response that has it), as every error answer has that one shape."""
    spec = client.get("/openapi.json").get_json()
    shared = spec["components"]["responses"]
    missing = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            for code, answer in operation["responses"].items():
                if code == "default" or int(code) < 400:
                    continue
                if "$ref" in answer:
                    answer = shared[answer["$ref"].rsplit("/", 1)[1]]
                if "schema" not in answer.get("content", {}).get("application/json", {}):
                    missing.append(f"{method.upper()} {path} {code}")
    assert not missing, missing
