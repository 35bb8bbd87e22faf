"""The page, its assets and its security headers.

One HTML shell; the script reads its settings from `data-` attributes (a
Content-Security-Policy without inline scripts), and shows every name and address with
`textContent`, never as markup, so an outlet named `<script>` stays text.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, current_app, render_template
from flask.wrappers import Response

import miniprogram_api
from bot.api import PREFIX as BOT_PREFIX
from core.config import Config
from registry.codes import CATEGORIES
from web.tiles import content_security_policy

STATIC = Path(__file__).parent / "static"
LEAFLET = "vendor/leaflet-1.9.4"
WEIXIN_JS = "vendor/weixin-js-sdk-1.6.5"
CATEGORY_LABELS = {
    "bank": "银行",
    "bank_non_deposit": "非存款类金融机构",
    "securities": "证券",
    "insurance": "保险",
    "trading_settlement": "交易结算",
    "financial_holding": "金融控股",
    "monetary_authority": "人民银行",
    "regulator": "监管机构",
    "other": "其他",
}

blp = Blueprint(
    "h5",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


@lru_cache(maxsize=1)
def asset_version() -> str:
    """A hash of every asset: part of their URLs, so that they can be cached for a year."""
    digest = hashlib.sha256()
    for path in sorted(STATIC.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(STATIC).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@blp.get("/")
def index() -> Response:
    """The finder: near me (list and map), search, an outlet's detail, a mistake reported."""
    config: Config = current_app.extensions["branchfinder.config"]
    html = render_template(
        "h5/index.html",
        api=miniprogram_api.PREFIX,
        bot_api=BOT_PREFIX,
        version=asset_version(),
        leaflet=LEAFLET,
        wx=WEIXIN_JS,
        tiles=config.map_tiles_url,
        tiles_coord=config.map_tiles_coord,
        attribution=config.map_tiles_attribution,
        categories=[(c, CATEGORY_LABELS.get(c, c)) for c in CATEGORIES],
    )
    response = current_app.response_class(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    return response


@blp.after_request
def _security_headers(response: Response) -> Response:
    config: Config = current_app.extensions["branchfinder.config"]
    response.headers["Content-Security-Policy"] = content_security_policy(config)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"  # positions stay with this backend
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Permissions-Policy"] = "geolocation=(self)"
    if response.mimetype != "text/html" and response.status_code == 200:
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
