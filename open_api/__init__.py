"""The open data API (prefix /api/open/v1): the full files, their manifest, the change feed.

A thin front end over `open_data` (no SQL here): the files are those `branchfinder open
export` wrote under BRANCHFINDER_OPEN_DIR; the feed is `open_data.feed.read_page`.
"""

from __future__ import annotations

from flask_smorest import Api

PREFIX = "/api/open/v1"


def register(api: Api) -> None:
    from open_api.views import blp

    api.register_blueprint(blp, url_prefix=PREFIX)
