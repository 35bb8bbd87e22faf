"""Serving outlet photos: `/photos/<key>/original.jpg` and `/photos/<key>/thumb.jpg`.

A key is the sha256 of the stored JPEG, so an answer never changes: it is
cached for a year and marked immutable. Only photos some outlet shows (or holds
for review) are served; a removed one is still in the store (history can bring
it back) but answers 404.
"""

from __future__ import annotations

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import abort

from uploads.outlet_photos import known_key
from uploads.photo_store import VARIANTS, PhotoStore
from web.extensions import read_session
from web.public_blueprint import PublicBlueprint
from web.public_http import CONTENT_ADDRESSED

blp = PublicBlueprint("photos", __name__, description="公众版：网点照片 / Outlet photos")


def photo_store() -> PhotoStore:
    store: PhotoStore = current_app.extensions["branchfinder.photos"]
    return store


@blp.route("/photos/<string:key>/<string:variant>.jpg")
class PhotoFile(MethodView):
    @blp.response(200, content_type="image/jpeg", description="the JPEG (no EXIF)")
    @blp.doc(
        responses={
            200: {"content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}}}
        }
    )
    @blp.alt_response(404, description="没有这张照片 / no such photo")
    def get(self, key: str, variant: str) -> Response:
        """网点照片 — a photo (`original`, long side at most 2048 px) or its thumbnail."""
        if variant not in VARIANTS or len(key) != 64 or not known_key(read_session(), key):
            abort(404, message="没有这张照片 / no such photo")
        data = photo_store().get(key, variant)
        if data is None:
            abort(404, message="没有这张照片 / no such photo")
            raise AssertionError
        return Response(data, mimetype="image/jpeg")


blp.cache({"PhotoFile": CONTENT_ADDRESSED})
