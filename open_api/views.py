"""Open data endpoints: `/files` (the manifest), `/files/{name}` (a file), `/changes` (the feed).

Validators: a file's ETag is its sha256 from the manifest and werkzeug's `send_file`
answers `Range` (206, multipart for several ranges, 416 outside the file), `If-Range`,
`If-None-Match` and `If-Modified-Since` from it, so an interrupted download resumes
and a finished one revalidates for free. The gzipped files are served as what they
are, `application/gzip`, not as `Content-Encoding: gzip` over CSV or JSON: their
sha256, size and byte ranges are of the gzipped bytes, and a client that decoded a
content encoding on the fly could neither check the sha256 nor resume at an offset.
A feed page is tagged by its body (`web.public_http.tag_by_body`): what it shows
moves with commits that no data version counts (see open_data/feed.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import current_app, request, send_file
from flask.views import MethodView
from flask.wrappers import Response
from flask_smorest import abort

from core.config import Config
from open_api import PREFIX
from open_api.schemas import ChangePageSchema, ChangesArgs, ManifestSchema
from open_data import export
from open_data.feed import FeedItem, read_page
from web.api import prebuilt
from web.extensions import read_connection
from web.public_blueprint import PublicBlueprint
from web.public_http import CachePolicy, tag_by_body

blp = PublicBlueprint(
    "open_data",
    __name__,
    description=(
        "开放数据：全量文件与变更订阅 / Open data: the full files of the public outlet data "
        "and a feed of its changes"
    ),
)

# The manifest and files change once a day, when an export is made: a few minutes' reuse.
FILES = CachePolicy(300, per_minute=False, own_validators=True)
# A feed page is revalidated each time (its ETag, from its body, saves the transfer).
CHANGES = CachePolicy(0, per_minute=False, own_validators=True)

NO_EXPORT = "尚未生成开放数据文件 / no open data export has been made yet"
_PAGE_SCHEMA = ChangePageSchema()
_MANIFEST_SCHEMA = ManifestSchema()


def _current() -> export.CurrentExport:
    config: Config = current_app.extensions["branchfinder.config"]
    found = export.current(Path(config.open_dir))
    if found is None:
        abort(404, message=NO_EXPORT)
        raise AssertionError
    return found


@blp.route("/files")
class Manifest(MethodView):
    @blp.response(200, ManifestSchema)
    @blp.alt_response(404, description=NO_EXPORT)
    def get(self) -> Response:
        """全量文件清单 — the manifest of the latest full export: when its snapshot was
        taken, the feed cursor to continue from, and per file its count, size and sha256.

        每日由 `branchfinder open export` 生成。Made daily by `branchfinder open export`.
        """
        current = _current()
        data = current.manifest.to_json()
        for entry in data["files"]:
            entry["url"] = f"{PREFIX}/files/{entry['name']}"
        response = prebuilt(_MANIFEST_SCHEMA, data)
        # The manifest names the files: its tag is theirs, and changes with the export.
        response.set_etag("".join(f["sha256"][:8] for f in data["files"]))
        response.make_conditional(request)  # in place: a 304 when the client holds it
        return response


@blp.route("/files/<string:name>")
class File(MethodView):
    @blp.response(
        200,
        content_type="application/gzip",
        description=(
            "gzip 压缩的文件（ETag 为其 sha256，支持 Range 断点续传） / the gzipped file; "
            "its ETag is its sha256; Range requests answer 206"
        ),
    )
    @blp.alt_response(206, description="the requested byte range(s)")
    @blp.alt_response(404, description="没有这个文件 / no such file")
    @blp.alt_response(416, description="范围超出文件 / the range lies outside the file")
    def get(self, name: str) -> Response:
        """下载全量文件 — one full file: `outlets.csv.gz` (CSV, UTF-8 with BOM),
        `outlets.geojson.gz` (RFC 7946, WGS-84) or `outlets.jsonl.gz` (JSON Lines)."""
        current = _current()
        entry = next((f for f in current.manifest.files if f.name == name), None)
        if entry is None or name not in export.BY_NAME:
            abort(404, message=f"没有文件 {name} / no file {name}")
            raise AssertionError
        response = send_file(
            current.directory / entry.name,
            mimetype="application/gzip",
            as_attachment=True,
            download_name=entry.name,
            conditional=True,
            etag=entry.sha256,
            max_age=FILES.max_age_s,
        )
        response.headers["Accept-Ranges"] = "bytes"
        return response


@blp.route("/changes")
class Changes(MethodView):
    @blp.arguments(ChangesArgs(), location="query")
    @blp.response(200, ChangePageSchema)
    @blp.alt_response(
        422, description="参数无效（如游标 since 不对） / invalid parameters, named in `errors`"
    )
    def get(self, args: dict[str, Any]) -> Response:
        """变更订阅 — the changes of the public outlet data after a cursor, in order.

        从导出清单的 cursor 开始，依次应用每条：record 不为空则替换本地记录，为空则删除；
        more 为 true 时立即读下一页。Start from the export manifest's `cursor`; apply each
        item in order (replace your copy by `record`, delete it when `record` is null),
        then read on from `next_cursor`. Events are never skipped or repeated, even when
        transactions commit out of order: a page holds only events no running transaction
        can still precede.
        """
        page = read_page(read_connection(), args["since"], args["limit"])
        payload = {
            "coord": "wgs84",
            "items": [_item(item) for item in page.items],
            "next_cursor": str(page.next_cursor),
            "more": page.more,
        }
        return tag_by_body(prebuilt(_PAGE_SCHEMA, payload))


def _item(item: FeedItem) -> dict[str, Any]:
    return {
        "cursor": str(item.cursor),
        "event_id": item.event_id,
        "fi_code": item.fi_code,
        "kind": item.kind,
        "fields": list(item.fields),
        "at": item.at.isoformat(),
        "record": item.record,
    }


blp.cache({"Manifest": FILES, "File": FILES, "Changes": CHANGES})
