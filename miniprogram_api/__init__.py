"""The WeChat mini-program's API (prefix /api/mp/v1): the public finder and outlet staff.

Thin HTTP modules: each parses its parameters into the libraries' value objects
(`geo.search`, `registry`), calls them, and formats the answer. No SQL here.
"""

from __future__ import annotations

from flask_smorest import Api

PREFIX = "/api/mp/v1"


def register(api: Api) -> None:
    from miniprogram_api.feedback import blp as feedback_blp
    from miniprogram_api.outlets import blp as outlets_blp

    api.register_blueprint(outlets_blp, url_prefix=PREFIX)
    api.register_blueprint(feedback_blp, url_prefix=PREFIX)
