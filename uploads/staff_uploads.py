"""What outlet staff upload from the mini-program: position, business types, hours, phone.

Each upload is one field group, validated with the same rules as the bulk
profile import (vocabulary, hours grammar, phone formats, coordinate systems)
and recorded as a change event with channel `staff_upload`. It is published at
once, except a position that looks wrong, which is held for review
(`uploads.reviews`):

- outside the bounding box of the outlet's region (the box the profile import
  holds positions to, `registry.regions.bounds`), or
- more than 2 km from a position the institution has confirmed (核对确认):
  a confirmed position was checked by someone, a phone's fix may not be.

Photos are `uploads.outlet_photos`.

The checks of each group's value (`position_value`, `business_types_value`,
`hours_value`, `phone_value`) are shared with the professional app's info
updates (`uploads.pro_updates`): one set of rules and messages for whoever
changes an outlet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.coords import CoordSystem, convert, distance_m, in_china, validate_point
from core.models.registry import Institution
from profiles.business_types import unknown_keys
from profiles.hours import HoursError, OpeningHours, validate_hours_json
from profiles.hours_text import parse_hours
from profiles.profile_changes import change_group, current, lock
from registry import regions
from registry.record_checks import normalise_phone
from uploads import reviews, staff

CONFIRMED_MOVE_LIMIT_M = 2000.0
MAX_ACCURACY_M = 5000.0


class UploadRefused(ValueError):
    """Invalid upload; `field` names the input, messages in Chinese and English."""

    def __init__(self, field: str, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.field = field
        self.message_zh = message_zh
        self.message_en = message_en


@dataclass(frozen=True)
class UploadResult:
    fi_code: str
    field_group: str
    published: bool
    flags: tuple[str, ...]
    event_id: int
    review_id: int | None
    value: Any


def _region_code(session: Session, institution_id: int) -> str:
    code: str = session.execute(
        select(Institution.region_code).where(Institution.id == institution_id)
    ).scalar_one()
    return code


def _record(
    session: Session,
    institution_id: int,
    fi_code: str,
    group: str,
    value: Any,
    actor: str,
    flags: list[str],
) -> UploadResult:
    change = change_group(
        session,
        institution_id,
        fi_code,
        group,
        value,
        actor=actor,
        channel="staff_upload",
        publish=not flags,
    )
    review_id = None
    if flags:
        review_id = reviews.hold(session, fi_code, group, value, flags, change.event_id, actor)
    else:
        staff.mark_changed(session, institution_id)
    return UploadResult(fi_code, group, not flags, tuple(flags), change.event_id, review_id, value)


def position_value(
    lat: float, lng: float, coord: CoordSystem, accuracy_m: float | None
) -> dict[str, Any]:
    """A position as given (in `coord`), checked, in the stored shape (WGS-84)."""
    try:
        lat, lng = validate_point(lat, lng)
    except ValueError as exc:
        field = getattr(exc, "field", "lat")
        raise UploadRefused(field, getattr(exc, "message_zh", str(exc)), str(exc)) from exc
    if not in_china(lat, lng):
        raise UploadRefused(
            "lat", "位置不在中国境内 / position outside China", "position outside China"
        )
    if accuracy_m is not None and not 0 <= accuracy_m <= MAX_ACCURACY_M:
        raise UploadRefused(
            "accuracy_m",
            f"定位精度应在 0 到 {MAX_ACCURACY_M:g} 米之间",
            f"accuracy_m must be between 0 and {MAX_ACCURACY_M:g}",
        )
    wlat, wlng = convert(lat, lng, coord, "wgs84")
    return {
        "latitude": round(wlat, 7),
        "longitude": round(wlng, 7),
        "captured_in": coord,
        "accuracy_m": accuracy_m,
    }


def outside_region(session: Session, institution_id: int, value: dict[str, Any]) -> str | None:
    """The outlet's region code if the position lies outside its region's box, else None."""
    region = _region_code(session, institution_id)
    box = regions.bounds(region)
    lat, lng = value["latitude"], value["longitude"]
    if box is not None and not (box[0] <= lat <= box[2] and box[1] <= lng <= box[3]):
        return region
    return None


def business_types_value(keys: list[str]) -> list[str]:
    unknown = unknown_keys(keys)
    if unknown:
        raise UploadRefused(
            "business_types",
            f"未知的业务类型：{', '.join(unknown)}",
            f"unknown business types: {', '.join(unknown)}",
        )
    return sorted(set(keys))


def hours_value(text: str | None, structured: dict[str, Any] | None) -> dict[str, Any]:
    """Opening hours given as text (`Mo-Fr 09:00-17:00`) or in the structured form."""
    field = "text" if text is not None else "hours"
    try:
        hours: OpeningHours = (
            parse_hours(text) if text is not None else validate_hours_json(structured)
        )
    except HoursError as exc:
        raise UploadRefused(field, f"营业时间有误：{exc.message_zh}", str(exc)) from exc
    return dict(hours.to_json())


def phone_value(phone: str) -> str:
    normalised = normalise_phone(phone)
    if normalised is None:
        raise UploadRefused(
            "phone",
            "电话号码格式不对：固定电话需带区号（如 025-84571234），手机为 11 位",
            "phone must be landlines with area code or mobile numbers, separated by ;",
        )
    return normalised


def upload_position(
    session: Session,
    institution_id: int,
    fi_code: str,
    *,
    lat: float,
    lng: float,
    coord: CoordSystem,
    accuracy_m: float | None,
    actor: str,
) -> UploadResult:
    value = position_value(lat, lng, coord, accuracy_m)
    wlat, wlng = value["latitude"], value["longitude"]
    provenance = lock(session, institution_id)
    flags: list[str] = []
    if outside_region(session, institution_id, value) is not None:
        flags.append("outside_region")
    before = current(session, institution_id, "position")
    if before is not None and (provenance.get("position") or {}).get("confirmed"):
        moved = distance_m(before["latitude"], before["longitude"], wlat, wlng)
        if moved > CONFIRMED_MOVE_LIMIT_M:
            flags.append("moves_confirmed")
    return _record(session, institution_id, fi_code, "position", value, actor, flags)


def upload_business_types(
    session: Session, institution_id: int, fi_code: str, keys: list[str], *, actor: str
) -> UploadResult:
    value = business_types_value(keys)
    return _record(session, institution_id, fi_code, "business_types", value, actor, [])


def upload_hours(
    session: Session,
    institution_id: int,
    fi_code: str,
    *,
    text: str | None,
    structured: dict[str, Any] | None,
    actor: str,
) -> UploadResult:
    value = hours_value(text, structured)
    return _record(session, institution_id, fi_code, "hours", value, actor, [])


def upload_phone(
    session: Session, institution_id: int, fi_code: str, phone: str, *, actor: str
) -> UploadResult:
    return _record(session, institution_id, fi_code, "phone", phone_value(phone), actor, [])
