"""Rate limits for the client of the current request (the counters: `core.ratelimit`)."""

from __future__ import annotations

from flask import current_app, request
from flask_smorest import abort

from core.config import Config
from core.ratelimit import TOO_MANY_MESSAGE, client_hash, client_identity, hit
from web.extensions import database


def current_client_hash() -> str:
    """The hashed identity of the client of the current request."""
    config: Config = current_app.extensions["branchfinder.config"]
    forwarded = ",".join(request.headers.getlist("X-Forwarded-For"))
    identity = client_identity(request.remote_addr, forwarded, config.trusted_proxy_count)
    return client_hash(identity, config.secret_key)


def limit_current_client(scope: str, limit: int) -> str:
    """Count a hit of this request's client in `scope`; abort 429 when over the limit.

    Returns the client's hash, for storing with what the client submitted.
    """
    config: Config = current_app.extensions["branchfinder.config"]
    client = current_client_hash()
    decision = hit(database().counters, f"{scope}:{client}", limit, config.rate_limit_window_s)
    if not decision.allowed:
        abort(
            429,
            message=TOO_MANY_MESSAGE,
            headers={"Retry-After": str(decision.retry_after_s)},
        )
    return client
