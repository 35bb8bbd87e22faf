"""Configuration from environment variables, with defaults that are safe to run locally.

One `Config` class; tests subclass it rather than patching globals, so every
setting a deployment can change is visible here in one place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import quote


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:  # a typo in a deployment must fail loudly at start-up
        raise ValueError(f"environment variable {name} must be an integer, got {raw!r}") from exc


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"environment variable {name} must be a number, got {raw!r}") from exc


DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:25432/branchfinder"
# The checkout this code runs from: ./run.sh keeps the local cluster's password in its .run/.
CHECKOUT = Path(__file__).resolve().parent.parent
LOCAL_PASSWORD_FILE = Path(".run") / "pg-password"


def local_cluster_url(checkout: Path | None = None) -> str | None:
    """The URL of the project's local cluster as scripts/setup.sh made it (password, port,
    database), or None when ./run.sh has not set one up in this checkout.

    Without it every command that reaches the database would need a DATABASE_URL built by
    hand from the password file; with it the README's CLI examples work as written."""
    password_file = (checkout or CHECKOUT) / LOCAL_PASSWORD_FILE
    try:
        password = password_file.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    if not password:
        return None
    port = _env_int("BRANCHFINDER_PG_PORT", 25432)
    name = _env("BRANCHFINDER_PG_DB", "branchfinder")
    return f"postgresql://postgres:{quote(password, safe='')}@127.0.0.1:{port}/{name}"


def default_database_url() -> str:
    """DATABASE_URL if set, else the local cluster of ./run.sh, else the documented default."""
    return os.environ.get("DATABASE_URL") or local_cluster_url() or DEFAULT_DATABASE_URL


@dataclass
class Config:
    """Settings of one application instance.

    The web tier keeps no state of its own (DESIGN.md, Scale): everything shared
    lives in the database named by `database_url`.
    """

    database_url: str = field(default_factory=default_database_url)
    db_pool_size: int = field(default_factory=lambda: _env_int("BRANCHFINDER_DB_POOL_SIZE", 5))
    db_statement_timeout_ms: int = field(
        default_factory=lambda: _env_int("BRANCHFINDER_DB_STATEMENT_TIMEOUT_MS", 15000)
    )
    log_level: str = field(default_factory=lambda: _env("BRANCHFINDER_LOG_LEVEL", "INFO"))
    log_json: bool = field(default_factory=lambda: _env("BRANCHFINDER_LOG_JSON", "1") != "0")
    max_content_length: int = field(
        default_factory=lambda: _env_int("BRANCHFINDER_MAX_CONTENT_LENGTH", 10 * 1024 * 1024)
    )
    # Proxies in front of us that append to X-Forwarded-For; 0 = use the socket's address only
    # (anyone can forge the header, so it is believed only as far as our own proxies go).
    trusted_proxy_count: int = field(
        default_factory=lambda: _env_int("BRANCHFINDER_TRUSTED_PROXIES", 0)
    )
    # Server-side pepper for hashing client identities (rate limits, report authors).
    secret_key: str = field(default_factory=lambda: _env("BRANCHFINDER_SECRET_KEY", ""), repr=False)
    # Public submissions per client per window (core/ratelimit.py).
    error_report_rate_limit: int = field(
        default_factory=lambda: _env_int("BRANCHFINDER_ERROR_REPORT_RATE_LIMIT", 10)
    )
    feedback_rate_limit: int = field(
        default_factory=lambda: _env_int("BRANCHFINDER_FEEDBACK_RATE_LIMIT", 10)
    )
    chat_rate_limit: int = field(
        default_factory=lambda: _env_int("BRANCHFINDER_CHAT_RATE_LIMIT", 600)
    )
    rate_limit_window_s: int = field(
        default_factory=lambda: _env_int("BRANCHFINDER_RATE_LIMIT_WINDOW_S", 3600)
    )
    # The public finder's GETs (web/public_http.py), per client and per endpoint: a
    # map that pans asks often, and a carrier's NAT puts many phones behind one address.
    public_get_rate_limit: int = field(
        default_factory=lambda: _env_int("BRANCHFINDER_PUBLIC_GET_RATE_LIMIT", 600)
    )
    public_get_rate_window_s: int = field(
        default_factory=lambda: _env_int("BRANCHFINDER_PUBLIC_GET_RATE_WINDOW_S", 60)
    )
    # Endpoint overrides, "outlets.Viewport=1200,outlets.TextSearch=300" (endpoint=limit).
    public_get_rate_limits: str = field(
        default_factory=lambda: _env("BRANCHFINDER_PUBLIC_GET_RATE_LIMITS", "")
    )
    # How long a process holds the public data's version before reading it again: a public
    # answer may be revalidated as current for this long after the data changed.
    public_version_max_age_s: float = field(
        default_factory=lambda: _env_float("BRANCHFINDER_PUBLIC_VERSION_MAX_AGE_S", 1.0)
    )
    # The H5 page's map tiles (h5/): a Leaflet URL template such as Amap's
    # "https://wprd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}&lang=zh_cn&size=1&style=7",
    # in the coordinate system the tiles are drawn in (Tencent and Amap: gcj02). None: the
    # outlets and clusters on a plain background.
    map_tiles_url: str = field(default_factory=lambda: _env("BRANCHFINDER_MAP_TILES_URL", ""))
    map_tiles_coord: str = field(
        default_factory=lambda: _env("BRANCHFINDER_MAP_TILES_COORD", "gcj02")
    )
    map_tiles_attribution: str = field(
        default_factory=lambda: _env("BRANCHFINDER_MAP_TILES_ATTRIBUTION", "")
    )
    # Origins allowed to call the public APIs from a browser (the H5 page's host when it is
    # served elsewhere), comma-separated; none by default: same-origin pages need none.
    cors_origins: str = field(default_factory=lambda: _env("BRANCHFINDER_CORS_ORIGINS", ""))
    # JSON answers at least this long are gzipped for clients that accept it.
    compress_min_bytes: int = field(
        default_factory=lambda: _env_int("BRANCHFINDER_COMPRESS_MIN_BYTES", 1024)
    )
    # WeChat official account (bot/wechat.py). Without a token /wechat answers 503; the
    # EncodingAESKey (43 characters) and appid are needed only in safe (encrypted) mode.
    wechat_token: str = field(
        default_factory=lambda: _env("BRANCHFINDER_WECHAT_TOKEN", ""), repr=False
    )
    wechat_aes_key: str = field(
        default_factory=lambda: _env("BRANCHFINDER_WECHAT_AES_KEY", ""), repr=False
    )
    wechat_appid: str = field(default_factory=lambda: _env("BRANCHFINDER_WECHAT_APPID", ""))
    # The official account's AppSecret: the H5 page's JS-SDK signature (miniprogram_api/
    # wechat_js.py) needs its jsapi_ticket. Unset: the page opens map apps by link only.
    wechat_secret: str = field(
        default_factory=lambda: _env("BRANCHFINDER_WECHAT_SECRET", ""), repr=False
    )
    # How long the bot may think before WeChat gets a fallback text: WeChat drops the
    # connection after 5 s, so this must leave room for the database and the network.
    wechat_reply_budget_s: float = field(
        default_factory=lambda: _env_float("BRANCHFINDER_WECHAT_REPLY_BUDGET_S", 4.0)
    )
    # WeChat mini-program sign-in (miniprogram_api/wechat_login.py): code2Session through wechatpy.
    mp_appid: str = field(default_factory=lambda: _env("BRANCHFINDER_MP_APPID", ""))
    mp_secret: str = field(default_factory=lambda: _env("BRANCHFINDER_MP_SECRET", ""), repr=False)
    wechat_api_base_url: str = field(
        default_factory=lambda: _env(
            "BRANCHFINDER_WECHAT_API_BASE_URL", "https://api.weixin.qq.com/"
        )
    )
    wechat_api_timeout_s: float = field(
        default_factory=lambda: _env_float("BRANCHFINDER_WECHAT_API_TIMEOUT_S", 3.0)
    )
    # Outlet staff (miniprogram_api/staff.py).
    staff_session_ttl_s: int = field(
        default_factory=lambda: _env_int("BRANCHFINDER_STAFF_SESSION_TTL_S", 7 * 86_400)
    )
    login_rate_limit: int = field(
        default_factory=lambda: _env_int("BRANCHFINDER_LOGIN_RATE_LIMIT", 60)
    )
    staff_bind_rate_limit: int = field(
        default_factory=lambda: _env_int("BRANCHFINDER_STAFF_BIND_RATE_LIMIT", 20)
    )
    staff_upload_rate_limit: int = field(
        default_factory=lambda: _env_int("BRANCHFINDER_STAFF_UPLOAD_RATE_LIMIT", 300)
    )
    # What a binding code's QR code carries: the mini-program page that redeems it.
    staff_bind_qr_prefix: str = field(
        default_factory=lambda: _env("BRANCHFINDER_STAFF_BIND_QR_PREFIX", "/pages/staff/bind?code=")
    )
    # Photos (uploads/photo_store.py): a directory; decoded at most this many at once
    # per process, which bounds a worker's memory whatever the number of uploads.
    photo_dir: str = field(default_factory=lambda: _env("BRANCHFINDER_PHOTO_DIR", "var/photos"))
    photo_workers: int = field(default_factory=lambda: _env_int("BRANCHFINDER_PHOTO_WORKERS", 2))
    # Open data files (open_data/export.py): `branchfinder open export` writes, /api/open/v1 reads.
    open_dir: str = field(default_factory=lambda: _env("BRANCHFINDER_OPEN_DIR", "var/open"))
    # Professional accounts (accounts/accounts.py, pro_api/). argon2id parameters:
    # argon2-cffi's defaults (RFC 9106 low-memory profile, ~50 ms); stored hashes are
    # upgraded at the next sign-in when these change. Tests set cheap ones.
    pro_session_ttl_s: int = field(
        default_factory=lambda: _env_int("BRANCHFINDER_PRO_SESSION_TTL_S", 8 * 3600)
    )
    pro_lockout_threshold: int = field(
        default_factory=lambda: _env_int("BRANCHFINDER_PRO_LOCKOUT_THRESHOLD", 5)
    )
    pro_lockout_s: int = field(
        default_factory=lambda: _env_int("BRANCHFINDER_PRO_LOCKOUT_S", 15 * 60)
    )
    argon2_time_cost: int = field(
        default_factory=lambda: _env_int("BRANCHFINDER_ARGON2_TIME_COST", 3)
    )
    argon2_memory_kib: int = field(
        default_factory=lambda: _env_int("BRANCHFINDER_ARGON2_MEMORY_KIB", 65_536)
    )
    argon2_parallelism: int = field(
        default_factory=lambda: _env_int("BRANCHFINDER_ARGON2_PARALLELISM", 4)
    )
    testing: bool = False

    def flask_settings(self) -> dict[str, Any]:
        """The subset Flask and flask-smorest read from `app.config`."""
        return {
            "TESTING": self.testing,
            "MAX_CONTENT_LENGTH": self.max_content_length,
            "JSON_AS_ASCII": False,
            "API_TITLE": "branchfinder 金融网点通",
            "API_VERSION": "v1",
            "OPENAPI_VERSION": "3.0.3",
            "OPENAPI_URL_PREFIX": "/",
            "OPENAPI_JSON_PATH": "openapi.json",
            "OPENAPI_SWAGGER_UI_PATH": "/docs",
            # Served from the swagger-ui-bundle package, never from a CDN: the
            # product must work on a network that reaches nothing outside.
            "OPENAPI_SWAGGER_UI_URL": "/docs/assets/",
            "COMPRESS_ALGORITHM": ["gzip"],
            "COMPRESS_MIN_SIZE": self.compress_min_bytes,
            "COMPRESS_MIMETYPES": ["application/json", "application/geo+json", "text/csv"],
        }

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}
