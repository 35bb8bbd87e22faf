"""Baseline (b) of bench/geo_search.py: the ceiling for a Python endpoint here.

A minimal Flask app that runs a nearest-20 SQL through raw psycopg2 (one
connection per worker) and returns the rows as JSON: no framework on top, no
ORM, no schemas, no coordinate conversion.

- `/nearby`: a hand-written nearest-20 query of six columns, as measured since
  the first benchmark;
- `/nearby-same`: the very statement `/api/mp/v1/outlets/nearby` sends (its
  columns: names, category, entity, region, phone, business types, hours key),
  given by the benchmark in BASELINE_SAME_SQL and BASELINE_SAME_VALUES (JSON).
  The difference to the endpoint is then only what runs around the statement.
"""

from __future__ import annotations

import json
import os
from typing import Any

import psycopg2
from flask import Flask, jsonify, request
from flask.wrappers import Response

SQL = """
SELECT i.fi_code, i.name, i.address, ST_Y(o.position::geometry), ST_X(o.position::geometry),
       ST_Distance(o.position, ST_SetSRID(ST_MakePoint(%(lng)s, %(lat)s), 4326)::geography, false)
FROM outlet_profile o JOIN institution i ON i.id = o.institution_id
WHERE i.status = 'active' AND o.position IS NOT NULL
ORDER BY o.position <-> ST_SetSRID(ST_MakePoint(%(lng)s, %(lat)s), 4326)::geography
LIMIT 20
"""

app = Flask(__name__)
_conn: Any = None


def connection() -> Any:
    global _conn
    if _conn is None:
        _conn = psycopg2.connect(os.environ["DATABASE_URL"])
        _conn.autocommit = True
    return _conn


@app.get("/nearby")
def nearby() -> Response:
    with connection().cursor() as cur:
        cur.execute(SQL, {"lat": float(request.args["lat"]), "lng": float(request.args["lng"])})
        rows = cur.fetchall()
    return jsonify(
        [
            {
                "fi_code": r[0],
                "name": r[1],
                "address": r[2],
                "lat": r[3],
                "lng": r[4],
                "distance_m": r[5],
            }
            for r in rows
        ]
    )


_SAME_SQL = os.environ.get("BASELINE_SAME_SQL", "")
_SAME_VALUES: dict[str, Any] = json.loads(os.environ.get("BASELINE_SAME_VALUES", "{}"))


@app.get("/nearby-same")
def nearby_same() -> Response:
    values = {**_SAME_VALUES, "lat": float(request.args["lat"]), "lng": float(request.args["lng"])}
    with connection().cursor() as cur:
        cur.execute(_SAME_SQL, values)
        names = [column[0] for column in cur.description]
        rows = cur.fetchall()
    return jsonify([dict(zip(names, row, strict=True)) for row in rows])
