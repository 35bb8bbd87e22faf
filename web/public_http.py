"""HTTP conventions of the public GETs: validators and 304s, cache lifetimes, rate limits,
compression and CORS.

Validators come before the answer. A public answer is a function of the public data
(whose version triggers keep, `core.models.public_version`), of the request (path, query
string, `Accept`) and, for answers that say whether an outlet is open, of the minute. The
`ETag` is a hash of exactly those, so a client revalidating its copy costs one single-row
read and a hash, not the search it cached; `Last-Modified` is the second the data took
their version (or the minute's start, when later). A strong tag: the same inputs give the
same bytes. Flask-Compress appends `:gzip` to it for a gzipped body, as RFC 9110 wants of
a different representation; a revalidation quoting either form matches.

Rate limits count every public GET (a 304 too) per client and per endpoint in
PostgreSQL (`core.ratelimit`), so that every worker and host share them, and answer
`RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (IETF httpapi draft) on
each answer, `Retry-After` with a 429.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app, g, request
from flask.wrappers import Response
from flask_compress import Compress
from flask_cors import CORS
from flask_smorest import abort
from sqlalchemy import Connection

from core.config import Config
from core.models.public_version import PublicDataState, public_data_state
from core.ratelimit import RateDecision, hit
from web.extensions import database, read_connection
from web.ratelimit import current_client_hash

TOO_MANY_GETS = "请求过于频繁，请稍后再试 / too many requests, retry later"
# What a browser on another origin may read of an answer besides the simple headers.
EXPOSED_HEADERS = (
    "ETag",
    "Last-Modified",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "Retry-After",
)


SETTLE = timedelta(seconds=2)


@dataclass(frozen=True)
class CachePolicy:
    """How long an answer may be reused and what it depends on."""

    max_age_s: int
    per_minute: bool  # says whether outlets are open now: a new answer every minute
    immutable: bool = False  # named by its content (photos): the path alone is its tag
    # The view tags its answer itself (open data: a file by its sha256, a feed page by its
    # body), since the data's version does not say when it changes; see `tag_by_body`.
    own_validators: bool = False


LISTS = CachePolicy(60, per_minute=True)  # nearby, search, viewport, an outlet's detail
VOCABULARY = CachePolicy(3600, per_minute=False)  # business types, institutions, regions
CONTENT_ADDRESSED = CachePolicy(31_536_000, per_minute=False, immutable=True)


def _header(description: str, kind: str = "string") -> dict[str, Any]:
    return {"description": description, "schema": {"type": kind}}


_RATE_HEADERS = {
    "RateLimit-Limit": _header("GETs of this endpoint allowed per window", "integer"),
    "RateLimit-Remaining": _header("GETs left in the window", "integer"),
    "RateLimit-Reset": _header("seconds until the window ends", "integer"),
}
# What `PublicBlueprint.cache` adds to each cached GET's OpenAPI operation.
CACHED_GET_DOC: dict[str, Any] = {
    "responses": {
        200: {
            "headers": {
                "ETag": _header("strong tag of this answer; send it back in If-None-Match"),
                "Last-Modified": _header("when the data shown last changed (HTTP date)"),
                "Cache-Control": _header(
                    "public, max-age: a minute for lists, an hour for vocabularies"
                ),
                **_RATE_HEADERS,
            }
        },
        304: {
            "description": "未修改 / not modified: the copy whose ETag (If-None-Match) or date "
            "(If-Modified-Since) was sent is current; no body",
            "headers": {"ETag": _header("the tag matched")},
        },
        429: {
            "description": "请求过于频繁 / too many GETs of this endpoint from this client",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            "headers": {
                "Retry-After": _header("seconds until a GET is answered again", "integer"),
                **_RATE_HEADERS,
            },
        },
    }
}


@dataclass(frozen=True)
class _Validators:
    etag: str
    last_modified: datetime | None  # None until it is SETTLE old
    policy: CachePolicy


class VersionCache:
    """The public data's state, read at most once per `max_age_s` in a process.

    A revalidated GET does little else than read it, so reading it for every request was
    a third of a 304's cost. Held for a second (the default), an answer may be called
    current for up to that second after the data changed, where its `Cache-Control`
    already lets any client keep it for a minute; and an answer is never labelled newer
    than its data, since the state is read before them. `read_at`, the database's clock,
    moves on with this process's clock while the state is held.
    """

    def __init__(self, max_age_s: float) -> None:
        self._max_age_s = max_age_s
        self._held: tuple[float, PublicDataState] | None = None

    def get(self, connection: Callable[[], Connection]) -> PublicDataState:
        now = time.monotonic()
        held = self._held
        if held is not None and now - held[0] < self._max_age_s:
            since, state = held
            return replace(state, read_at=state.read_at + timedelta(seconds=now - since))
        state = public_data_state(connection())
        self._held = (now, state)
        return state


def init_public_http(app: Flask, config: Config) -> None:
    """Compression for every JSON answer; CORS for the configured origins on the public APIs;
    the public data's state, held as configured."""
    app.extensions["branchfinder.public_version"] = VersionCache(config.public_version_max_age_s)
    app.extensions["branchfinder.get_limits"] = endpoint_limits(config)  # a typo fails here
    Compress(app)
    origins = [o.strip() for o in config.cors_origins.split(",") if o.strip()]
    if origins:
        CORS(
            app,
            resources={r"/api/mp/*": {}, r"/api/open/*": {}},
            origins=origins,
            methods=["GET", "HEAD", "POST", "OPTIONS"],
            expose_headers=list(EXPOSED_HEADERS),
            max_age=600,
        )


def endpoint_limits(config: Config) -> dict[str, int]:
    """The per-endpoint overrides of BRANCHFINDER_PUBLIC_GET_RATE_LIMITS."""
    limits: dict[str, int] = {}
    for item in config.public_get_rate_limits.split(","):
        if not item.strip():
            continue
        endpoint, sep, value = item.partition("=")
        if not sep or not value.strip().isdigit() or int(value) < 1:
            raise ValueError(
                f"BRANCHFINDER_PUBLIC_GET_RATE_LIMITS: {item.strip()!r} is not endpoint=limit"
            )
        limits[endpoint.strip()] = int(value)
    return limits


class PublicGets:
    """The before- and after-request hooks of one blueprint's public GETs.

    `policies` names the blueprint's views (`Nearby`) and how their answers are cached;
    a view not named is left alone (staff and submissions are not public answers).
    """

    def __init__(self, blueprint_name: str, policies: Mapping[str, CachePolicy]) -> None:
        self._policies = {f"{blueprint_name}.{view}": p for view, p in policies.items()}

    def before(self) -> Response | None:
        if request.method not in ("GET", "HEAD") or request.endpoint not in self._policies:
            return None
        policy = self._policies[request.endpoint]
        g.public_rate = _count_hit(request.endpoint)
        if policy.own_validators:
            g.public_own_policy = policy
            return None
        validators = _validators(policy)
        g.public_validators = validators
        if policy.immutable:  # the view says first whether the content is still shown
            return None
        return _not_modified(validators)

    def after(self, response: Response) -> Response:
        rate: RateDecision | None = g.get("public_rate")
        if rate is not None:
            response.headers["RateLimit-Limit"] = str(rate.limit)
            response.headers["RateLimit-Remaining"] = str(rate.remaining)
            response.headers["RateLimit-Reset"] = str(rate.reset_s)
        own: CachePolicy | None = g.get("public_own_policy")
        if own is not None and response.status_code in (200, 206, 304):
            response.headers["Cache-Control"] = f"public, max-age={own.max_age_s}"
        validators: _Validators | None = g.get("public_validators")
        if validators is not None and response.status_code == 200:
            if validators.policy.immutable:
                return _not_modified(validators) or _describe(response, validators)
            _describe(response, validators)
        return response


def _count_hit(endpoint: str) -> RateDecision:
    config: Config = current_app.extensions["branchfinder.config"]
    limits: dict[str, int] = current_app.extensions["branchfinder.get_limits"]
    limit = limits.get(endpoint, config.public_get_rate_limit)
    key = f"get:{endpoint}:{current_client_hash()}"
    decision = hit(database().counters, key, limit, config.public_get_rate_window_s)
    if not decision.allowed:
        abort(
            429,
            message=TOO_MANY_GETS,
            headers={
                "Retry-After": str(decision.retry_after_s),
                "RateLimit-Limit": str(decision.limit),
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(decision.reset_s),
            },
        )
    return decision


def _validators(policy: CachePolicy) -> _Validators:
    if policy.immutable:
        tag = hashlib.sha256(request.path.encode()).hexdigest()[:32]
        return _Validators(f'"{tag}"', None, policy)
    cache: VersionCache = current_app.extensions["branchfinder.public_version"]
    state = cache.get(read_connection)
    now = state.read_at
    last_modified = state.changed_at.replace(microsecond=0)
    minute = ""
    if policy.per_minute:
        start = now.replace(second=0, microsecond=0)
        minute = str(int(start.timestamp()) // 60)
        last_modified = max(last_modified, start)
    # A date only once it is SETTLE_S behind the database's clock. A change committing
    # later in the same second (its time is taken just before its commit) would otherwise
    # carry this answer's date, and If-Modified-Since could not tell the two apart.
    settled = last_modified <= now - SETTLE
    return _Validators(_tag(state.version, minute), last_modified if settled else None, policy)


def tag_by_body(response: Response) -> Response:
    """A strong ETag of the answer's bytes, and 304 when the client holds them: for views
    whose policy has `own_validators` and whose answer no version number describes (a
    change feed page shows the events below a horizon that moves with any commit)."""
    tag = '"' + hashlib.sha256(response.get_data()).hexdigest()[:32] + '"'
    answer = _not_modified(_Validators(tag, None, g.public_own_policy))
    if answer is not None:
        return answer
    response.headers["ETag"] = tag
    return response


def _tag(version: int, minute: str) -> str:
    parts = (
        str(version),
        minute,
        request.path,
        request.query_string.decode("latin-1"),
        request.headers.get("Accept", ""),
    )
    return '"' + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32] + '"'


def _not_modified(validators: _Validators) -> Response | None:
    matched = _matched_tag(validators)
    if matched is None:
        return None
    response = Response(status=304)
    _describe(response, validators, etag=matched)
    return response


def _matched_tag(validators: _Validators) -> str | None:
    """The tag of the client's copy when it is still current (RFC 9110, 13.1.2 and 13.1.3)."""
    etag = validators.etag
    if request.if_none_match:  # If-None-Match wins; If-Modified-Since is then ignored
        if request.if_none_match.star_tag:
            return etag
        bare = etag.strip('"')
        for tag in request.if_none_match.as_set(include_weak=True):
            if tag == bare or tag.startswith(bare + ":"):  # ":gzip" from Flask-Compress
                return f'"{tag}"'
        return None
    since = request.if_modified_since
    modified = validators.last_modified
    if since is not None and modified is not None and modified <= since:
        return etag
    return None


def _describe(response: Response, validators: _Validators, etag: str | None = None) -> Response:
    policy = validators.policy
    response.headers["ETag"] = etag or validators.etag
    if validators.last_modified is not None:
        response.last_modified = validators.last_modified
    cache = f"public, max-age={policy.max_age_s}"
    response.headers["Cache-Control"] = cache + (", immutable" if policy.immutable else "")
    if not policy.immutable:
        response.vary.add("Accept")
    return response
