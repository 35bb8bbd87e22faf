"""The application factory: `create_app(config)` builds one configured app.

Extensions are created unbound and attached here, one blueprint per area, as
in Flask's own tutorial; nothing happens at import time, so tests and
gunicorn workers each build the app they need.
"""

from __future__ import annotations

import swagger_ui_bundle
from flask import Flask, send_from_directory
from flask.wrappers import Response

import console
import h5
import miniprogram_api
import open_api
import pro_api
from backend.logging_setup import configure_logging, init_request_ids
from core.config import Config
from web.api import Api, Request
from web.extensions import init_database
from web.input_guard import init_input_guard
from web.public_http import init_public_http


def init_staff_services(app: Flask, config: Config) -> None:
    """What the staff uploads need besides the database: WeChat sign-in and photo storage."""
    from pathlib import Path

    from miniprogram_api.wechat_js import init_js_sdk
    from miniprogram_api.wechat_login import MiniProgramLogin
    from uploads import photos
    from uploads.photo_store import DirectoryPhotoStore

    app.extensions["branchfinder.mp_login"] = MiniProgramLogin(
        config.mp_appid,
        config.mp_secret,
        config.wechat_api_base_url,
        config.wechat_api_timeout_s,
    )
    app.extensions["branchfinder.photos"] = DirectoryPhotoStore(Path(config.photo_dir))
    init_js_sdk(app, config)  # the H5 page's wx.config, signed with the official account's
    photos.configure_concurrency(config.photo_workers)


def create_app(config: Config | None = None) -> Flask:
    config = config or Config()
    configure_logging(config.log_level, config.log_json)
    app = Flask("branchfinder")
    app.request_class = Request
    app.config.update(config.flask_settings())
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Chinese as text, not \\u escapes
    app.extensions["branchfinder.config"] = config

    init_request_ids(app)
    init_input_guard(app)
    init_database(app, config)
    init_staff_services(app, config)
    init_public_http(app, config)

    api = Api(
        app,
        spec_kwargs={
            "info": {
                "description": (
                    "Finder for bank and other financial outlets in China (金融网点通), over a "
                    "validated registry of institutions synchronised from the People's Bank of "
                    "China. Errors always have the shape {code, status, message, errors}."
                )
            }
        },
    )
    from backend.health import blp as health_blp

    api.register_blueprint(health_blp)
    miniprogram_api.register(api)
    pro_api.register(api)
    open_api.register(api)
    h5.register(app)  # the public finder's page, a client of the API above
    console.register(app)  # the professional console, over the pro API's library calls

    from bot.api import PREFIX as BOT_PREFIX
    from bot.api import blp as bot_blp
    from bot.engine import BotEngine
    from bot.wechat import init_wechat

    init_wechat(app, BotEngine(config.secret_key), api=api)  # the engine of every channel
    api.register_blueprint(bot_blp, url_prefix=BOT_PREFIX)

    @app.route("/docs/assets/<path:filename>")
    def swagger_ui_assets(filename: str) -> Response:
        """Swagger UI's files, served locally: the product never fetches from a CDN."""
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)

    return app
