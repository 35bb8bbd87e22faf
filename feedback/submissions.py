"""Public error reports on outlets and general feedback, including staff install registrations.

Why these rules:

- A report is evidence against an institution's data ("repeated verified error
  reports lead to a public notice", DOMAIN.md §5), so it must name an
  institution that exists; revoked ones included, since "closed for good" is
  exactly what the public reports about them. PBoC staff later accept or reject
  it (`status`, `resolution_reason`, `resolved_by`, `resolved_at`,
  `resolution_event_id`; see `ErrorReport`).
- Install registrations are counted per legal entity for the rollout's ranking
  (DOMAIN.md §1, §6), so an employer code, when given, must be a legal entity;
  and per PBoC office (`reports.rollout`), so the region the registrant works
  in (`employer_region_code`: a current county, city or province code) is kept
  when given: a legal entity alone says nothing about which office's area.
- The client is known only by a keyed hash (`client_key_hash`): enough to spot
  one client flooding reports, never the raw IP or openid. A CHECK constraint
  makes storing anything but a sha256 hex digest impossible.
- Suggested positions arrive in the caller's system and are stored in WGS-84
  (DESIGN.md, Coordinates) together with the system they came in, so a wrong
  conversion can be traced.

Service functions validate, add the row and flush; the caller commits, so a
report is either stored whole or not at all. Every refusal is a
`FeedbackError` naming the field, in Chinese and English.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from geoalchemy2 import WKTElement
from sqlalchemy import (
    func,
    select,
)
from sqlalchemy.orm import Session

from core.coords import CoordinateError, convert, in_china, parse_coord_system
from core.coords import validate_point as validate_coords
from core.models.feedback import (
    FEEDBACK_KINDS,
    MAX_COMMENT,
    MAX_CONTACT,
    MAX_TEXT,
    REPORT_KINDS,
    ErrorReport,
    Feedback,
)
from core.models.registry import Institution
from registry import regions

REPORT_KIND_LABELS = {
    "position": "位置不准",
    "address": "地址有误",
    "phone": "电话有误",
    "hours": "营业时间有误",
    "business_types": "业务类型有误",
    "closed": "网点已关闭",
    "other": "其他",
}
FEEDBACK_KIND_LABELS = {"suggestion": "建议", "problem": "问题", "install_registration": "安装登记"}

MAX_STAFF_NAME = 50
MAX_EMPLOYER_NAME = 100

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


class FeedbackError(ValueError):
    """Input that cannot be stored; `field` is the dotted name of the offending input."""

    def __init__(self, field: str, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.field = field
        self.message_zh = message_zh
        self.message_en = message_en


class UnknownOutlet(FeedbackError):
    """The reported fi_code is not in the registry (the HTTP layer answers 404)."""


class SuggestedPosition(NamedTuple):
    """A position as the caller gave it: (lat, lng) in `coord` (wgs84, gcj02 or bd09)."""

    lat: float
    lng: float
    coord: str = "gcj02"


# --- validation helpers ---------------------------------------------------------------------


def _text(
    value: str | None, field: str, label: str, max_len: int, *, required: bool = False
) -> str | None:
    """Strip, refuse NUL (PostgreSQL text cannot hold it) and overlong text; '' is None."""
    if value is not None and not isinstance(value, str):
        raise FeedbackError(field, f"{label}应为文本", f"{field} must be text")
    cleaned = (value or "").strip()
    if "\x00" in cleaned:
        raise FeedbackError(field, f"{label}含有无效字符", f"{field} contains a NUL character")
    if len(cleaned) > max_len:
        raise FeedbackError(
            field,
            f"{label}不能超过 {max_len} 个字（现为 {len(cleaned)} 个）",
            f"{field} is longer than {max_len} characters ({len(cleaned)})",
        )
    if required and not cleaned:
        raise FeedbackError(field, f"请填写{label}", f"{field} is required")
    return cleaned or None


def _check_client_key(client_key: str) -> str:
    # A programming error, not user input: a raw IP must never reach the table.
    if not isinstance(client_key, str) or not _SHA256_HEX.match(client_key):
        raise ValueError("client_key must be a sha256 hex digest, never a raw identity")
    return client_key


def _position(suggested: SuggestedPosition) -> tuple[WKTElement, str]:
    """The suggested position in WGS-84, and the system it was given in."""
    lat, lng, coord = suggested
    try:
        system = parse_coord_system(coord, field="coord")
        lat, lng = validate_coords(lat, lng)
    except CoordinateError as exc:
        raise FeedbackError(f"suggested_position.{exc.field}", exc.message_zh, str(exc)) from exc
    if not in_china(lat, lng):
        raise FeedbackError(
            "suggested_position",
            "建议位置不在中国境内，请检查经纬度是否填反",
            f"suggested position ({lat}, {lng}) is outside China; are lat and lng swapped?",
        )
    wlat, wlng = convert(lat, lng, system, "wgs84")
    return WKTElement(f"POINT({wlng!r} {wlat!r})", srid=4326), system


# --- services ---------------------------------------------------------------------------------


def report_error(
    session: Session,
    fi_code: str,
    kind: str,
    comment: str | None,
    suggested: SuggestedPosition | tuple[float, float, str] | None = None,
    contact: str | None = None,
    *,
    client_key: str,
) -> ErrorReport:
    """Store a public error report on an institution's data; the caller commits."""
    client_key = _check_client_key(client_key)
    if kind not in REPORT_KINDS:
        raise FeedbackError(
            "kind",
            f"未知的纠错类型 {kind!r}：应为 {'、'.join(REPORT_KINDS)} 之一",
            f"unknown report kind {kind!r}: expected one of {', '.join(REPORT_KINDS)}",
        )
    text = _text(comment, "comment", "说明", MAX_COMMENT, required=kind == "other") or ""
    contact_value = _text(contact, "contact", "联系方式", MAX_CONTACT)
    position = _position(SuggestedPosition(*suggested)) if suggested is not None else None
    code = (fi_code or "").strip().upper()
    if session.scalar(select(Institution.id).where(Institution.fi_code == code)) is None:
        raise UnknownOutlet(
            "fi_code",
            f"未找到机构编码为 {fi_code} 的网点",
            f"no institution with fi_code {fi_code}",
        )
    report = ErrorReport(
        fi_code=code,
        kind=kind,
        comment=text,
        suggested_position=position[0] if position else None,
        suggested_coord_system=position[1] if position else None,
        contact=contact_value,
        client_key_hash=client_key,
        status="open",
    )
    session.add(report)
    session.flush()
    session.refresh(report, ["created_at"])
    return report


def submit_feedback(
    session: Session,
    kind: str,
    text: str | None = None,
    *,
    contact: str | None = None,
    staff_name: str | None = None,
    employer_name: str | None = None,
    employer_fi_code: str | None = None,
    employer_region_code: str | None = None,
    client_key: str,
) -> Feedback:
    """Store feedback or an install registration; the caller commits."""
    client_key = _check_client_key(client_key)
    if kind not in FEEDBACK_KINDS:
        raise FeedbackError(
            "kind",
            f"未知的反馈类型 {kind!r}：应为 {'、'.join(FEEDBACK_KINDS)} 之一",
            f"unknown feedback kind {kind!r}: expected one of {', '.join(FEEDBACK_KINDS)}",
        )
    registration = kind == "install_registration"
    body = _text(text, "text", "反馈内容", MAX_TEXT, required=not registration) or ""
    contact_value = _text(contact, "contact", "联系方式", MAX_CONTACT)
    name = _text(staff_name, "staff_name", "姓名", MAX_STAFF_NAME, required=registration)
    employer = _text(
        employer_name, "employer_name", "工作单位", MAX_EMPLOYER_NAME, required=registration
    )
    code = _text(employer_fi_code, "employer_fi_code", "单位机构编码", 14)
    region = _text(employer_region_code, "employer_region_code", "工作地区代码", 6)
    if not registration:
        for field, value in (
            ("staff_name", name),
            ("employer_name", employer),
            ("employer_fi_code", code),
            ("employer_region_code", region),
        ):
            if value is not None:
                raise FeedbackError(
                    field,
                    "只有安装登记需要填写姓名和工作单位",
                    f"{field} is only for kind install_registration",
                )
    if code is not None:
        code = code.upper()
        _check_legal_entity(session, code)
    if region is not None:
        _check_work_region(region)
    item = Feedback(
        kind=kind,
        text=body,
        contact=contact_value,
        staff_name=name,
        employer_name=employer,
        employer_fi_code=code,
        employer_region_code=region,
        client_key_hash=client_key,
    )
    session.add(item)
    session.flush()
    session.refresh(item, ["created_at"])
    return item


def _check_legal_entity(session: Session, code: str) -> None:
    row = session.execute(
        select(Institution.level, Institution.status, Institution.legal_entity_code).where(
            Institution.fi_code == code
        )
    ).first()
    if row is None:
        raise FeedbackError(
            "employer_fi_code", f"未找到机构编码 {code}", f"no institution with fi_code {code}"
        )
    if row.level != "head_office" or row.status != "active":
        raise FeedbackError(
            "employer_fi_code",
            f"{code} 不是在册的法人机构，请填写法人机构编码（{row.legal_entity_code}）",
            f"{code} is not an active legal entity; use {row.legal_entity_code}",
        )


def _check_work_region(code: str) -> None:
    """A current region a PBoC office covers: a county, a city or a province, not 市辖区."""
    region = regions.get(code)
    if region is None or not region.is_current or region.is_placeholder:
        raise FeedbackError(
            "employer_region_code",
            f"{code} 不是现行的行政区划代码，请填写工作地所在区县（如 320102）",
            f"{code} is not a current region code; give the county you work in (e.g. 320102)",
        )


def install_registrations_by_employer(session: Session) -> dict[str, int]:
    """Install registrations per legal entity (fi_code), for the rollout's ranking."""
    rows = session.execute(
        select(Feedback.employer_fi_code, func.count())
        .where(Feedback.kind == "install_registration", Feedback.employer_fi_code.is_not(None))
        .group_by(Feedback.employer_fi_code)
    ).all()
    return {str(code): int(count) for code, count in rows}
