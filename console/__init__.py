"""The professional web console (金融数据汇) at /console/, for PBoC and institution staff.

Server-rendered pages (Jinja2) over the same library functions as the JSON professional
API (`/api/pro/v1`), for the signed-in account's jurisdiction; a session cookie that only
this blueprint reads, a CSRF token on every form (see `console.shell`). Charts with Apache
ECharts, served by the app (`static/vendor/`), nothing from a CDN, no build step.
"""

from __future__ import annotations

from flask import Flask

PREFIX = "/console"


def register(app: Flask) -> None:
    from console import auth_pages, dashboard, registry_pages  # noqa: F401  (their routes)
    from console.shell import blp

    app.register_blueprint(blp, url_prefix=PREFIX)
