"""Outlet staff: redeem a binding code, see what is missing, upload the outlet's data.

Thin views over `uploads.staff`, `uploads.staff_uploads` and
`uploads.outlet_photos`. Every call needs a staff token (401 without); every
outlet call needs a binding to that outlet (403 without, the same answer
whether or not the outlet exists, so codes cannot be probed). Uploads count
against a per-staff rate limit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from flask import current_app
from flask.views import MethodView
from flask_smorest import abort
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from core.config import Config
from core.ratelimit import TOO_MANY_MESSAGE, hit
from miniprogram_api.auth import STAFF_SECURITY, current_staff
from miniprogram_api.photos import photo_store
from miniprogram_api.staff_schemas import (
    BindArgs,
    PhotoChangeArgs,
    PhotoUploadFiles,
    PhotoUploadQuery,
    PhotoUploadSchema,
    TaskSchema,
    UploadResultSchema,
)
from uploads import outlet_photos, staff, staff_uploads
from uploads.photos import PhotoRejected, process_photo
from uploads.staff_uploads import UploadRefused, UploadResult
from web.extensions import database, db_session
from web.public_blueprint import PublicBlueprint
from web.schemas import (
    BusinessTypesUploadArgs,
    HoursUploadArgs,
    PhoneUploadArgs,
    PhotoSchema,
    PositionUploadArgs,
    photo_urls,
)

blp = PublicBlueprint(
    "staff",
    __name__,
    description="网点人员：绑定网点、上传位置、业务类型、营业时间、电话和门头照 / "
    "Outlet staff: bind to an outlet and upload its data",
)


def _config() -> Config:
    config: Config = current_app.extensions["branchfinder.config"]
    return config


def _limit(scope: str, staff_id: int, limit: int) -> None:
    decision = hit(
        database().counters, f"{scope}:staff:{staff_id}", limit, _config().rate_limit_window_s
    )
    if not decision.allowed:
        abort(429, message=TOO_MANY_MESSAGE, headers={"Retry-After": str(decision.retry_after_s)})


def _bound(staff_id: int, fi_code: str) -> int:
    institution_id = staff.bound_institution(db_session(), staff_id, fi_code)
    if institution_id is None:
        abort(
            403,
            message=f"你没有绑定网点 {fi_code}，请先用本网点的绑定码绑定 / "
            "not bound to this outlet",
        )
        raise AssertionError
    return institution_id


def _refused(location: str, field: str, message_zh: str, message_en: str) -> NoReturn:
    abort(422, message=message_zh, errors={location: {field: [f"{message_zh} / {message_en}"]}})
    raise AssertionError


def _answer(result: UploadResult) -> dict[str, Any]:
    db_session().commit()
    return result.__dict__ | {"flags": list(result.flags)}


@blp.route("/staff/bind")
class Bind(MethodView):
    @blp.arguments(BindArgs())
    @blp.response(200, TaskSchema)
    @blp.alt_response(401, description="未登录 / not signed in")
    @blp.alt_response(404, description="绑定码无效或已被使用 / unknown or used code")
    @blp.alt_response(409, description="绑定的网点已达上限 / too many outlets")
    @blp.alt_response(410, description="绑定码已过期或网点已撤销 / expired code, revoked outlet")
    @blp.alt_response(429, description="尝试过于频繁 / too many attempts")
    @blp.doc(security=STAFF_SECURITY)
    def post(self, args: dict[str, Any]) -> dict[str, Any]:
        """绑定网点 — redeem an outlet's one-time binding code."""
        staff_id = current_staff()
        config = _config()
        _limit("bind", staff_id, config.staff_bind_rate_limit)
        session = db_session()
        try:
            fi_code = staff.bind(session, staff_id, args["code"], config.secret_key)
        except staff.BindError as exc:
            abort(exc.status, message=exc.message, errors={"json": {"code": [exc.reason]}})
            raise
        session.commit()
        return next(t for t in staff.staff_tasks(session, staff_id) if t["fi_code"] == fi_code)


@blp.route("/staff/tasks")
class Tasks(MethodView):
    @blp.response(200, TaskSchema(many=True))
    @blp.alt_response(401, description="未登录 / not signed in")
    @blp.doc(security=STAFF_SECURITY)
    def get(self) -> list[dict[str, Any]]:
        """我的网点 — the outlets I may edit, each with what is still missing."""
        return staff.staff_tasks(db_session(), current_staff())


@blp.route("/staff/outlets/<string:fi_code>/submit")
class Submit(MethodView):
    @blp.response(200, TaskSchema)
    @blp.alt_response(401, description="未登录 / not signed in")
    @blp.alt_response(403, description="未绑定该网点 / not bound to this outlet")
    @blp.alt_response(409, description="还缺必填项 / position, business types or front photo")
    @blp.doc(security=STAFF_SECURITY)
    def post(self, fi_code: str) -> dict[str, Any]:
        """提交 — the outlet's data are complete; the institution will confirm them."""
        staff_id = current_staff()
        fi_code = fi_code.upper()
        _bound(staff_id, fi_code)
        session = db_session()
        try:
            task = staff.submit(session, staff_id, fi_code)
        except ValueError as exc:
            abort(
                409,
                message=f"还缺：{exc} / still missing: {exc}",
                errors={"missing": str(exc).split(",")},
            )
            raise
        session.commit()
        return task


def _upload_doc(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The answers every field upload shares."""
    for decorator in (
        blp.response(200, UploadResultSchema),
        blp.alt_response(401, description="未登录 / not signed in"),
        blp.alt_response(403, description="未绑定该网点 / not bound to this outlet"),
        blp.alt_response(429, description="上传过于频繁 / too many uploads"),
        blp.doc(security=STAFF_SECURITY),
    ):
        fn = decorator(fn)
    return fn


# (session, institution id, fi_code, actor) -> the upload's result
FieldUpload = Callable[[Session, int, str, str], UploadResult]


def _staff_put(fi_code: str, upload: FieldUpload) -> dict[str, Any]:
    """One field upload by the signed-in staff member to an outlet bound to them."""
    staff_id, institution_id = _staff_upload(fi_code)
    try:
        result = upload(db_session(), institution_id, fi_code.upper(), staff.staff_actor(staff_id))
    except UploadRefused as exc:
        _refused("json", exc.field, exc.message_zh, exc.message_en)
    return _answer(result)


@blp.route("/staff/outlets/<string:fi_code>/position")
class Position(MethodView):
    @blp.arguments(PositionUploadArgs())
    @_upload_doc
    def put(self, args: dict[str, Any], fi_code: str) -> dict[str, Any]:
        """上传位置 — the outlet's position (held for review when it looks wrong: outside
        the outlet's region, or more than 2 km from a confirmed position)."""
        return _staff_put(
            fi_code,
            lambda session, inst, code, actor: staff_uploads.upload_position(
                session,
                inst,
                code,
                lat=args["lat"],
                lng=args["lng"],
                coord=args["coord"],
                accuracy_m=args["accuracy_m"],
                actor=actor,
            ),
        )


def _staff_upload(fi_code: str) -> tuple[int, int]:
    # Token and rate limit each use a connection they give back at once, before the
    # request's own session takes one: a request never waits for a second connection.
    staff_id = current_staff()
    _limit("upload", staff_id, _config().staff_upload_rate_limit)
    return staff_id, _bound(staff_id, fi_code.upper())


@blp.route("/staff/outlets/<string:fi_code>/business-types")
class BusinessTypes(MethodView):
    @blp.arguments(BusinessTypesUploadArgs())
    @_upload_doc
    def put(self, args: dict[str, Any], fi_code: str) -> dict[str, Any]:
        """上传业务类型 — the business types and facilities the outlet offers (replaces)."""
        return _staff_put(
            fi_code,
            lambda session, inst, code, actor: staff_uploads.upload_business_types(
                session, inst, code, args["business_types"], actor=actor
            ),
        )


@blp.route("/staff/outlets/<string:fi_code>/hours")
class Hours(MethodView):
    @blp.arguments(HoursUploadArgs())
    @_upload_doc
    def put(self, args: dict[str, Any], fi_code: str) -> dict[str, Any]:
        """上传营业时间 — opening hours, as text or in the structured form."""
        return _staff_put(
            fi_code,
            lambda session, inst, code, actor: staff_uploads.upload_hours(
                session, inst, code, text=args["text"], structured=args["hours"], actor=actor
            ),
        )


@blp.route("/staff/outlets/<string:fi_code>/phone")
class Phone(MethodView):
    @blp.arguments(PhoneUploadArgs())
    @_upload_doc
    def put(self, args: dict[str, Any], fi_code: str) -> dict[str, Any]:
        """上传电话 — the outlet's phone numbers (landline with area code, or mobile)."""
        return _staff_put(
            fi_code,
            lambda session, inst, code, actor: staff_uploads.upload_phone(
                session, inst, code, args["phone"], actor=actor
            ),
        )


@blp.route("/staff/outlets/<string:fi_code>/photos")
class Photos(MethodView):
    @blp.response(200, PhotoSchema(many=True))
    @blp.alt_response(401, description="未登录 / not signed in")
    @blp.alt_response(403, description="未绑定该网点 / not bound to this outlet")
    @blp.doc(security=STAFF_SECURITY)
    def get(self, fi_code: str) -> list[dict[str, Any]]:
        """网点照片 — the photos the outlet shows, front photo first."""
        institution_id = _bound(current_staff(), fi_code.upper())
        return [
            p | photo_urls(p["key"]) for p in outlet_photos.published(db_session(), institution_id)
        ]

    @blp.arguments(PhotoUploadFiles(), location="files")
    @blp.arguments(PhotoUploadQuery(), location="query")
    @blp.response(201, PhotoUploadSchema)
    @blp.alt_response(401, description="未登录 / not signed in")
    @blp.alt_response(403, description="未绑定该网点 / not bound to this outlet")
    @blp.alt_response(409, description="照片已达 6 张 / the outlet already has 6 photos")
    @blp.alt_response(413, description="文件超过 10 MB / larger than 10 MB")
    @blp.alt_response(415, description="不是可用的图片 / not a usable image")
    @blp.alt_response(429, description="上传过于频繁 / too many uploads")
    @blp.doc(security=STAFF_SECURITY)
    def post(self, files: dict[str, Any], query: dict[str, Any], fi_code: str) -> dict[str, Any]:
        """上传照片 — a photo of the outlet (门头照 with `?front=true`), multipart field `photo`.

        Verified by decoding it (not by its name or content type), re-encoded as a
        JPEG without EXIF (its GPS position is compared with the outlet's first),
        stored once however often it is uploaded.
        """
        staff_id, institution_id = _staff_upload(fi_code)
        upload: FileStorage = files["photo"]
        try:
            photo = process_photo(upload.stream)
        except PhotoRejected as exc:
            abort(
                415 if exc.code in ("not_an_image", "unsupported_format") else 422,
                message=f"照片无法使用：{exc.message_zh}",
                errors={"files": {"photo": [f"{exc.code}: {exc.message_zh} / {exc.message_en}"]}},
            )
            raise
        session = db_session()
        try:
            result = outlet_photos.add_photo(
                session,
                photo_store(),
                institution_id,
                fi_code.upper(),
                photo,
                actor=staff.staff_actor(staff_id),
                front=query["front"],
            )
        except outlet_photos.PhotoLimit:
            abort(
                409,
                message=f"每个网点最多 {outlet_photos.MAX_PHOTOS} 张照片，请先删除一张 / "
                "at most 6 photos",
            )
            raise
        if result.published:
            staff.mark_changed(session, institution_id)
        session.commit()
        return result.__dict__ | {"flags": list(result.flags)} | photo_urls(result.key)


@blp.route("/staff/outlets/<string:fi_code>/photos/<string:key>")
class Photo(MethodView):
    @blp.arguments(PhotoChangeArgs())
    @blp.response(200, PhotoSchema(many=True))
    @blp.alt_response(401, description="未登录 / not signed in")
    @blp.alt_response(403, description="未绑定该网点 / not bound to this outlet")
    @blp.alt_response(404, description="网点没有这张照片 / no such photo")
    @blp.doc(security=STAFF_SECURITY)
    def put(self, args: dict[str, Any], fi_code: str, key: str) -> list[dict[str, Any]]:
        """设为门头照 — make this photo the front photo."""
        return _change_photo(fi_code, key, remove=False)

    @blp.response(200, PhotoSchema(many=True))
    @blp.alt_response(401, description="未登录 / not signed in")
    @blp.alt_response(403, description="未绑定该网点 / not bound to this outlet")
    @blp.alt_response(404, description="网点没有这张照片 / no such photo")
    @blp.doc(security=STAFF_SECURITY)
    def delete(self, fi_code: str, key: str) -> list[dict[str, Any]]:
        """删除照片 — stop showing this photo (it stays in the history)."""
        return _change_photo(fi_code, key, remove=True)


def _change_photo(fi_code: str, key: str, *, remove: bool) -> list[dict[str, Any]]:
    staff_id, institution_id = _staff_upload(fi_code)
    session = db_session()
    try:
        outlet_photos.change_shown(
            session,
            institution_id,
            fi_code.upper(),
            key,
            remove=remove,
            actor=staff.staff_actor(staff_id),
        )
    except outlet_photos.UnknownPhoto:
        abort(404, message="网点没有这张照片 / the outlet shows no such photo")
    staff.mark_changed(session, institution_id)
    session.commit()
    return [p | photo_urls(p["key"]) for p in outlet_photos.published(session, institution_id)]
