"""Info updates (机构信息更新): correct an outlet's profile or an institution's contact fields,
confirm (核对确认) what was checked, revert a change from the history.

Thin views over `uploads.pro_updates`, `registry.institution_contacts` and
`profiles.revert`. Every call needs a signed-in account; writes need a
writing one (auditors: 403); the record must lie in the caller's jurisdiction
(else 404, exactly as if it did not exist). Every write is a change event
with channel `pro_update` and the account as actor (`account:<id>`), plus an
audit entry filed under the record's jurisdiction, committed together.
A pro update is published at once (see `uploads.pro_updates` for why the
staff uploads' review flags do not apply).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from flask.views import MethodView
from flask_smorest import Blueprint
from flask_smorest.error_handler import ErrorSchema
from sqlalchemy import select

from accounts.accounts import Account
from core.models.registry import ChangeEvent, Institution, OutletProfile
from pro_api.access import PRO_SECURITY, audit, current_account, current_scope
from pro_api.lookups import (
    actor_label,
    conflict,
    filed_for,
    missing,
    refuse_fields,
    refuse_input,
    visible_institution,
    visible_row,
)
from pro_api.update_schemas import (
    ProConfirmArgs,
    ProConfirmationSchema,
    ProContactArgs,
    ProContactResultSchema,
    ProPhotoChoiceArgs,
    ProRevertResultSchema,
    ProUpdateResultSchema,
)
from profiles.revert import RevertRefused, revert
from registry import institution_contacts
from registry.institution_contacts import ContactRefused
from uploads import outlet_photos, pro_updates
from uploads.pro_updates import NothingToConfirm, NotUpdatable, ProUpdate
from uploads.staff_uploads import UploadRefused
from web.extensions import db_session
from web.schemas import (
    BusinessTypesUploadArgs,
    HoursUploadArgs,
    PhoneUploadArgs,
    PhotoSchema,
    PositionUploadArgs,
    photo_urls,
)

blp = Blueprint(
    "pro_updates",
    __name__,
    description="专业版：机构信息更新、核对确认、撤回 / Professional app: info updates of outlets "
    "and institutions, confirmation, revert",
)

_UNAUTHORIZED = "没有有效的登录 / no valid token"
_READ_ONLY = "只读账户（审计员）不能修改 / a read-only account (auditor) cannot change data"
_NOT_VISIBLE = "没有这个机构，或不在你的辖区内 / no such institution in your jurisdiction"
_NOT_AN_OUTLET = "机构已撤销或不是网点 / the institution is revoked or not an outlet"
_BAD_VALUE = "值不符合规则，errors 指出字段 / the value breaks a rule; errors name the field"
SYNC_NOTE = (
    "人民银行机构信息管理系统同步时，若其记录仍为旧值，以同步数据为准；"
    "请同时向人民银行报送更正 / "
    "the PBoC registry sync is authoritative: if its record still holds the old value, the next "
    "sync writes it back, so report the correction to the PBoC registry as well"
)


def _writer(action: str) -> Account:
    """The signed-in account, refused (403) when it is read-only."""
    current_scope(action, write=True)
    return current_account(action)


def _not_updatable(
    exc: NotUpdatable, action: str, account: Account, institution: Institution
) -> NoReturn:
    conflict(
        f"{exc.message_zh} / {exc.message_en}",
        action=action,
        account=account,
        kind="institution",
        target_id=institution.fi_code,
        reason=exc.reason,
    )


def _outlet_update(
    fi_code: str,
    group: str,
    apply: Callable[[Institution, str], ProUpdate],
    *,
    action: str | None = None,
) -> dict[str, Any]:
    """Look the outlet up in the jurisdiction, apply one group's update, audit, commit."""
    action = action or f"outlet.update.{group}"
    account = _writer(action)
    institution = visible_institution(fi_code, account=account, action=action)
    try:
        result = apply(institution, actor_label(account))
    except UploadRefused as exc:
        refuse_input(exc.field, exc.message_zh, exc.message_en)
    except outlet_photos.UnknownPhoto as exc:
        missing("photo", f"{institution.fi_code}/{str(exc)[:64]}", action=action, account=account)
    except NotUpdatable as exc:
        _not_updatable(exc, action, account, institution)
    if result.changed:
        audit(
            action,
            "ok",
            actor=account,
            filed=filed_for(institution),
            target_kind="institution",
            target_id=institution.fi_code,
            detail={"field_group": group, "event_id": result.event_id},
        )
    db_session().commit()
    return result.__dict__


def _update_doc(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The answers every outlet update shares."""
    for decorator in (
        blp.response(200, ProUpdateResultSchema),
        blp.alt_response(401, schema=ErrorSchema, description=_UNAUTHORIZED),
        blp.alt_response(403, schema=ErrorSchema, description=_READ_ONLY),
        blp.alt_response(404, schema=ErrorSchema, description=_NOT_VISIBLE),
        blp.alt_response(409, schema=ErrorSchema, description=_NOT_AN_OUTLET),
        blp.alt_response(422, schema=ErrorSchema, description=_BAD_VALUE),
        blp.doc(security=PRO_SECURITY),
    ):
        fn = decorator(fn)
    return fn


@blp.route("/outlets/<string:fi_code>/position")
class Position(MethodView):
    @blp.arguments(PositionUploadArgs())
    @_update_doc
    def put(self, args: dict[str, Any], fi_code: str) -> dict[str, Any]:
        """更正位置 — the outlet's position, published at once.

        Checked as a staff upload is (range, inside China, accuracy), and it must
        lie inside the outlet's region (rule PRF-POSITION-REGION), else 422.
        """
        return _outlet_update(
            fi_code,
            "position",
            lambda inst, actor: pro_updates.update_position(
                db_session(),
                inst,
                lat=args["lat"],
                lng=args["lng"],
                coord=args["coord"],
                accuracy_m=args["accuracy_m"],
                actor=actor,
            ),
        )


@blp.route("/outlets/<string:fi_code>/business-types")
class BusinessTypes(MethodView):
    @blp.arguments(BusinessTypesUploadArgs())
    @_update_doc
    def put(self, args: dict[str, Any], fi_code: str) -> dict[str, Any]:
        """更正业务类型 — the business types and facilities the outlet offers (replaces)."""
        return _outlet_update(
            fi_code,
            "business_types",
            lambda inst, actor: pro_updates.update_business_types(
                db_session(), inst, args["business_types"], actor=actor
            ),
        )


@blp.route("/outlets/<string:fi_code>/hours")
class Hours(MethodView):
    @blp.arguments(HoursUploadArgs())
    @_update_doc
    def put(self, args: dict[str, Any], fi_code: str) -> dict[str, Any]:
        """更正营业时间 — opening hours, as text or in the structured form."""
        return _outlet_update(
            fi_code,
            "hours",
            lambda inst, actor: pro_updates.update_hours(
                db_session(), inst, text=args["text"], structured=args["hours"], actor=actor
            ),
        )


@blp.route("/outlets/<string:fi_code>/phone")
class Phone(MethodView):
    @blp.arguments(PhoneUploadArgs())
    @_update_doc
    def put(self, args: dict[str, Any], fi_code: str) -> dict[str, Any]:
        """更正电话 — the outlet's phone as the public sees it.

        Landlines with area code or mobiles, several separated by `;`. The registry
        sync never overwrites it (it is the profile's, not the registry record's).
        """
        return _outlet_update(
            fi_code,
            "phone",
            lambda inst, actor: pro_updates.update_phone(
                db_session(), inst, args["phone"], actor=actor
            ),
        )


@blp.route("/outlets/<string:fi_code>/photos")
class Photos(MethodView):
    @blp.response(200, PhotoSchema(many=True))
    @blp.alt_response(401, schema=ErrorSchema, description=_UNAUTHORIZED)
    @blp.alt_response(403, schema=ErrorSchema, description="须先修改临时密码 / change password")
    @blp.alt_response(404, schema=ErrorSchema, description=_NOT_VISIBLE)
    @blp.doc(security=PRO_SECURITY)
    def get(self, fi_code: str) -> list[dict[str, Any]]:
        """网点照片 — the photos the public sees, front photo first (keys for the calls below)."""
        action = "outlet.photos.read"
        account = current_account(action)
        institution = visible_institution(fi_code, account=account, action=action)
        shown = outlet_photos.published(db_session(), institution.id)
        return [p | photo_urls(p["key"]) for p in shown]


def _photo_change(fi_code: str, key: str, *, remove: bool) -> dict[str, Any]:
    return _outlet_update(
        fi_code,
        "photos",
        lambda inst, actor: pro_updates.change_photo(
            db_session(), inst, key, remove=remove, actor=actor
        ),
        action="outlet.photos." + ("remove" if remove else "front"),
    )


@blp.route("/outlets/<string:fi_code>/photos/<string:key>")
class Photo(MethodView):
    @blp.arguments(ProPhotoChoiceArgs())
    @_update_doc
    def put(self, args: dict[str, Any], fi_code: str, key: str) -> dict[str, Any]:
        """设为门头照 — make this photo the front photo (门头照)."""
        return _photo_change(fi_code, key, remove=False)

    @_update_doc
    def delete(self, fi_code: str, key: str) -> dict[str, Any]:
        """删除照片 — stop showing this photo (it stays in the history: revert brings it back)."""
        return _photo_change(fi_code, key, remove=True)


@blp.route("/outlets/<string:fi_code>/confirm")
class Confirm(MethodView):
    @blp.arguments(ProConfirmArgs())
    @blp.response(200, ProConfirmationSchema)
    @blp.alt_response(401, schema=ErrorSchema, description=_UNAUTHORIZED)
    @blp.alt_response(403, schema=ErrorSchema, description=_READ_ONLY)
    @blp.alt_response(404, schema=ErrorSchema, description=_NOT_VISIBLE)
    @blp.alt_response(409, schema=ErrorSchema, description=_NOT_AN_OUTLET)
    @blp.alt_response(
        422, schema=ErrorSchema, description="某字段组没有值 / a group has no value to confirm"
    )
    @blp.doc(security=PRO_SECURITY)
    def post(self, args: dict[str, Any], fi_code: str) -> dict[str, Any]:
        """核对确认 — you checked these field groups: their provenance records who and when.

        When the outlet's staff had submitted their data and every group that has
        a value is now confirmed, the upload task moves to confirmed.
        """
        action = "outlet.confirm"
        account = _writer(action)
        institution = visible_institution(fi_code, account=account, action=action)
        groups = tuple(dict.fromkeys(args["groups"]))
        session = db_session()
        try:
            done = pro_updates.confirm_groups(
                session, institution, groups, actor=actor_label(account)
            )
        except NothingToConfirm as exc:
            refuse_input(
                "groups",
                f"以下字段组没有值，无法确认：{', '.join(exc.groups)}",
                f"nothing to confirm, no value: {', '.join(exc.groups)}",
            )
        except NotUpdatable as exc:
            _not_updatable(exc, action, account, institution)
        audit(
            action,
            "ok",
            actor=account,
            filed=filed_for(institution),
            target_kind="institution",
            target_id=institution.fi_code,
            detail={"groups": list(groups), "task_confirmed": done.task_confirmed},
        )
        provenance = session.execute(
            select(OutletProfile.provenance).where(OutletProfile.institution_id == institution.id)
        ).scalar_one()
        session.commit()
        return done.__dict__ | {"groups": list(done.groups), "provenance": provenance}


@blp.route("/institutions/<string:fi_code>/contact")
class Contact(MethodView):
    @blp.arguments(ProContactArgs())
    @blp.response(200, ProContactResultSchema)
    @blp.alt_response(401, schema=ErrorSchema, description=_UNAUTHORIZED)
    @blp.alt_response(403, schema=ErrorSchema, description=_READ_ONLY)
    @blp.alt_response(404, schema=ErrorSchema, description=_NOT_VISIBLE)
    @blp.alt_response(
        409, schema=ErrorSchema, description="机构已撤销 / the institution is revoked"
    )
    @blp.alt_response(
        422,
        schema=ErrorSchema,
        description="违反登记规则（与数据同步相同的规则和提示）/ breaks a registry rule, named per "
        "field with the rule's messages, as in an error receipt",
    )
    @blp.doc(security=PRO_SECURITY)
    def put(self, args: dict[str, Any], fi_code: str) -> dict[str, Any]:
        """更正联系信息 — an institution's address, postcode or phone (only those given).

        Checked by the registry's record rules, recorded as a change event. The PBoC
        registry sync stays authoritative: see `registry_sync_note` in the answer.
        """
        action = "institution.update_contact"
        account = _writer(action)
        institution = visible_institution(fi_code, account=account, action=action)
        session = db_session()
        try:
            pro_updates.check_active(institution)
            update = institution_contacts.update_contacts(
                session,
                institution,
                dict(args),
                actor=actor_label(account),
                channel=pro_updates.CHANNEL,
            )
        except ContactRefused as exc:
            errors: dict[str, list[str]] = {}
            for found in exc.issues:
                errors.setdefault(found.column or "address", []).append(
                    f"{found.rule_id}: {found.message_zh} / {found.message_en}"
                )
            first = exc.issues[0]
            refuse_fields(f"{first.message_zh} / {first.message_en}", errors)
        except NotUpdatable as exc:
            _not_updatable(exc, action, account, institution)
        if update.changed:
            audit(
                action,
                "ok",
                actor=account,
                filed=filed_for(institution),
                target_kind="institution",
                target_id=institution.fi_code,
                detail={"fields": sorted(update.after), "event_id": update.event_id},
            )
        session.commit()
        return {
            "fi_code": update.fi_code,
            "changed": update.changed,
            "event_id": update.event_id,
            "before": update.before,
            "after": update.after,
            "warnings": [w.as_dict() for w in update.warnings],
            "institution": {
                "fi_code": institution.fi_code,
                "name": institution.name,
                "address": institution.address,
                "postcode": institution.postcode,
                "phone": institution.phone,
            },
            "registry_sync_note": SYNC_NOTE,
        }


@blp.route("/history/<int:event_id>/revert")
class Revert(MethodView):
    @blp.response(200, ProRevertResultSchema)
    @blp.alt_response(401, schema=ErrorSchema, description=_UNAUTHORIZED)
    @blp.alt_response(403, schema=ErrorSchema, description=_READ_ONLY)
    @blp.alt_response(
        404,
        schema=ErrorSchema,
        description="没有这条变更，或不在你的辖区内 / no such change event in your jurisdiction",
    )
    @blp.alt_response(
        409,
        schema=ErrorSchema,
        description="该变更不能撤回（未发布的待审核上传、登记同步的其他字段、已是该值）/ cannot "
        "be reverted: held and never applied, registry fields other than contact, or no change",
    )
    @blp.doc(security=PRO_SECURITY)
    def post(self, event_id: int) -> dict[str, Any]:
        """撤回变更 — put the field back to its value before this change, as a new change.

        Works for any published change of an outlet's field group (whoever made it:
        staff, import, pro update, an earlier revert) and for changes of an
        institution's contact fields. History is never rewritten.
        """
        action = "history.revert"
        account = _writer(action)
        session = db_session()
        event, institution = visible_row(
            select(ChangeEvent, Institution)
            .join(Institution, Institution.fi_code == ChangeEvent.fi_code)
            .where(ChangeEvent.id == event_id),
            "change_event",
            event_id,
            account=account,
            action=action,
        )
        try:
            change = revert(
                session,
                event_id,
                actor=actor_label(account),
                channel=pro_updates.CHANNEL,
            )
        except (LookupError, RevertRefused) as exc:
            conflict(
                f"不能撤回该变更 / cannot revert: {exc}",
                action=action,
                account=account,
                kind="change_event",
                target_id=event_id,
                reason="revert_refused",
            )
        audit(
            action,
            "ok",
            actor=account,
            filed=filed_for(institution),
            target_kind="change_event",
            target_id=event_id,
            detail={"fi_code": institution.fi_code, "event_id": change.event_id},
        )
        session.commit()
        return {
            "reverted_event_id": event_id,
            "event_id": change.event_id,
            "fi_code": event.fi_code,
            "entity": event.entity,
            "field_group": event.field_group,
            "before": change.before,
            "value": change.after,
        }
