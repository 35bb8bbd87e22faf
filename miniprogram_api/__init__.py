"""The WeChat mini-program's API (prefix /api/mp/v1): the public finder and outlet staff.

Thin HTTP modules: each parses its parameters into the libraries' value objects
(`geo.search`, `registry`), calls them, and formats the answer. No SQL here.
"""

from __future__ import annotations

from flask_smorest import Api

from web.public_blueprint import MP_PREFIX

PREFIX = MP_PREFIX


def register(api: Api) -> None:
    from miniprogram_api.auth import blp as auth_blp
    from miniprogram_api.feedback import blp as feedback_blp
    from miniprogram_api.outlets import blp as outlets_blp
    from miniprogram_api.photos import blp as photos_blp
    from miniprogram_api.staff import blp as staff_blp
    from miniprogram_api.wechat_js import blp as wechat_js_blp

    api.spec.components.security_scheme(
        "staffToken",
        {
            "type": "http",
            "scheme": "bearer",
            "description": "the token of POST /api/mp/v1/auth/login",
        },
    )
    for blp in (outlets_blp, feedback_blp, photos_blp, auth_blp, staff_blp, wechat_js_blp):
        api.register_blueprint(blp, url_prefix=PREFIX)
