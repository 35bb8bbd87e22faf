"""Structured logging: one JSON object per line, each carrying the request id.

Log lines from a request can be grouped by `request_id` across workers and
hosts; clients see the same id in the `X-Request-ID` response header and in
500 answers, so a report from a user can be matched to the server log.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_ENVIRON = "HTTP_" + REQUEST_ID_HEADER.upper().replace("-", "_")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            entry.update(extra)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str, as_json: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    if as_json:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
        )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    # Alembic announces its plugins at import; /healthz imports it in every worker.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))


def new_request_id() -> str:
    """32 random hex digits (a uuid4's size, without its version bits: a third of the cost)."""
    return os.urandom(16).hex()


def init_request_ids(app: Flask) -> None:
    """Take a well-formed incoming X-Request-ID (from a proxy) or make one."""
    log = logging.getLogger("branchfinder.request")

    @app.before_request
    def _assign_request_id() -> None:
        incoming = request.environ.get(_REQUEST_ID_ENVIRON)  # not through Headers: per request
        g.request_id = (
            incoming if incoming and _SAFE_REQUEST_ID.match(incoming) else new_request_id()
        )
        g.request_started = time.perf_counter()

    @app.after_request
    def _log_request(response):  # type: ignore[no-untyped-def]
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "-")
        if not log.isEnabledFor(logging.INFO):  # below the level: build no log entry at all
            return response
        started = g.get("request_started")
        duration_ms = round((time.perf_counter() - started) * 1000, 2) if started else None
        log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "fields": {
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                }
            },
        )
        return response
