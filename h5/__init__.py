"""The public finder as a mobile web page (金融网点通 H5) at /m/.

A small JavaScript client of the public API (/api/mp/v1), served with its template and
assets by this blueprint: no build step, no framework, nothing from a CDN. Every list, map
and detail it shows is an answer of the same endpoints the mini-program calls; what the
page needed and the API lacked (navigation links, region centres) was added to the API.
"""

from __future__ import annotations

from flask import Flask

PREFIX = "/m"


def register(app: Flask) -> None:
    from h5.pages import blp

    app.register_blueprint(blp, url_prefix=PREFIX)
