"""`GET /healthz`: is this instance able to serve?

Load balancers and operators call it; it answers 200 only when the database
is reachable, PostGIS and pg_trgm are installed, and the schema is at the
newest migration (a worker running against an old schema would answer with
errors), and 503 otherwise with what is wrong.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from backend.migrate import current_revision, head_revision
from web.extensions import database

blp = Blueprint("health", __name__, description="Service health")


class MigrationSchema(ma.Schema):
    current = ma.fields.String(
        allow_none=True, metadata={"description": "revision in the database"}
    )
    head = ma.fields.String(
        allow_none=True, metadata={"description": "newest revision in the code"}
    )
    at_head = ma.fields.Boolean()


class DatabaseHealthSchema(ma.Schema):
    reachable = ma.fields.Boolean()
    postgis_version = ma.fields.String(allow_none=True, metadata={"example": "3.3 USE_GEOS=1 ..."})
    pg_trgm_version = ma.fields.String(allow_none=True)
    server_version = ma.fields.String(allow_none=True)
    migrations = ma.fields.Nested(MigrationSchema)
    error = ma.fields.String(metadata={"description": "why the database is not usable"})


class HealthSchema(ma.Schema):
    status = ma.fields.String(metadata={"description": "ok or unavailable", "example": "ok"})
    database = ma.fields.Nested(DatabaseHealthSchema)


def check_database() -> dict[str, Any]:
    head = head_revision()
    result: dict[str, Any] = {
        "reachable": False,
        "postgis_version": None,
        "pg_trgm_version": None,
        "server_version": None,
        "migrations": {"current": None, "head": head, "at_head": False},
    }
    try:
        with database().engine.connect() as conn:
            result["reachable"] = True
            result["server_version"] = conn.execute(text("SHOW server_version")).scalar()
            versions: dict[str, str] = dict(
                conn.execute(
                    text(
                        "SELECT extname, extversion FROM pg_extension "
                        "WHERE extname IN ('postgis', 'pg_trgm')"
                    )
                ).all()
            )
            if "postgis" in versions:
                result["postgis_version"] = conn.execute(
                    text("SELECT postgis_full_version()")
                ).scalar()
            result["pg_trgm_version"] = versions.get("pg_trgm")
            current = current_revision(conn)
            result["migrations"] = {"current": current, "head": head, "at_head": current == head}
    except SQLAlchemyError as exc:
        result["error"] = (
            type(exc).__name__ + ": " + str(exc.orig if hasattr(exc, "orig") else exc).strip()
        )
    problems = []
    if not result["reachable"]:
        problems.append("database unreachable")
    else:
        if result["postgis_version"] is None:
            problems.append("PostGIS extension missing")
        if result["pg_trgm_version"] is None:
            problems.append("pg_trgm extension missing")
        if not result["migrations"]["at_head"]:
            problems.append("migrations not at head: run 'branchfinder db upgrade'")
    if problems and "error" not in result:
        result["error"] = "; ".join(problems)
    return result


@blp.route("/healthz")
class Health(MethodView):
    @blp.response(200, HealthSchema, description="Ready to serve")
    @blp.alt_response(503, schema=HealthSchema, description="Not ready: `database.error` says why")
    def get(self) -> tuple[dict[str, Any], int]:
        """Health of this instance: database, PostGIS, pg_trgm, migrations."""
        db = check_database()
        ok = "error" not in db
        return {"status": "ok" if ok else "unavailable", "database": db}, 200 if ok else 503
