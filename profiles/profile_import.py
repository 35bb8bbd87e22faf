"""Bulk import of outlet profiles: position, business types, opening hours, phone.

Same shape as the registry sync (`registry.importer`): stream and check each
row, stage it with COPY, run the checks that need the registry in SQL, then
write what changed in one transaction. Each field group is its own unit: an
empty cell leaves that group as it is, a changed group gets its own change
event and provenance entry, and an unchanged one writes nothing, so
re-importing a file is a no-op.

Positions arrive in the system they were captured in (GCJ-02 from WeChat,
BD-09 from Baidu, WGS-84 from GPS) and are stored in WGS-84; the system is
kept beside the point.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.coords import COORD_SYSTEMS, CoordSystem, convert, in_china
from profiles.business_types import ALLOWED_BY_KIND, BUSINESS_TYPES, BY_KEY
from profiles.hours import HoursError
from profiles.hours_text import parse_hours
from registry import regions
from registry.batches import (
    NO_HOOKS,
    ImportResult,
    LoadHooks,
    begin,
    decide,
    file_rejected,
    finish,
    new_batch,
    problem_issues,
)
from registry.bulk import copy_rows, pg_array
from registry.cross_checks import refuse
from registry.formats import EXTRA_KEY, ColumnSpec, unreadable
from registry.record_checks import normalise_phone, unusable_cells
from registry.rules import Issue, issue

PROFILE_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("fi_code", ("fi_code", "金融机构编码", "机构编码"), True),
    ColumnSpec("latitude", ("latitude", "lat", "纬度"), False),
    ColumnSpec("longitude", ("longitude", "lng", "lon", "经度"), False),
    ColumnSpec("coord_system", ("coord_system", "coord", "坐标系"), False),
    ColumnSpec("accuracy_m", ("accuracy_m", "accuracy", "定位精度", "精度"), False),
    ColumnSpec("business_types", ("business_types", "业务类型", "受理业务类型"), False),
    ColumnSpec("opening_hours", ("opening_hours", "hours", "营业时间"), False),
    ColumnSpec("phone", ("phone", "联系电话", "电话"), False),
)
PROFILE_KEYS = tuple(c.key for c in PROFILE_COLUMNS)
COORD_ALIASES: dict[str, CoordSystem] = {
    "wgs84": "wgs84",
    "wgs-84": "wgs84",
    "gps": "wgs84",
    "gcj02": "gcj02",
    "gcj-02": "gcj02",
    "火星坐标": "gcj02",
    "国测局坐标": "gcj02",
    "bd09": "bd09",
    "bd-09": "bd09",
    "百度坐标": "bd09",
}
_LABEL_TO_KEY = {bt.label_zh: bt.key for bt in BUSINESS_TYPES}
_LIST_SPLIT = re.compile(r"[;；,，、|]\s*")
GROUPS = ("position", "business_types", "hours", "phone")
STAGE = "profile_stage"
ACTOR = "profile-import"


@dataclass(frozen=True)
class ProfileImportOptions:
    actor: str = ACTOR
    dry_run: bool = False


@lru_cache(maxsize=4096)
def _hours(text_value: str) -> str | HoursError:
    """Files repeat a few schedules thousands of times: parse each distinct one once."""
    try:
        return json.dumps(parse_hours(text_value).to_json(), ensure_ascii=False)
    except HoursError as exc:
        return exc


def _number(raw: str) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def check_profile_row(raw: dict[str, str], row: int | None) -> tuple[list[Any], list[Issue]]:
    """Field checks of one profile row; returns the stage row and the issues.

    A cell that cannot be read (registry.record_checks.unusable_cells) is reported and then
    taken as empty, without the FLD-REQUIRED an empty cell would raise: it is there.
    """
    issues: list[Issue] = []
    unusable = unusable_cells(raw, PROFILE_KEYS)
    raw = {k: "" if k in unusable else v for k, v in raw.items()}
    code = raw.get("fi_code", "").strip().upper()

    def add(rule_id: str, column: str | None, value: str | None, expected: str = "") -> None:
        if rule_id == "FLD-REQUIRED" and column in unusable:
            return
        issues.append(
            issue(rule_id, row=row, fi_code=code, column=column, value=value, expected=expected)
        )

    if not code:
        add("FLD-REQUIRED", "fi_code", None)
    if raw.get(EXTRA_KEY):
        add("REC-EXTRA-CELLS", None, unreadable(raw[EXTRA_KEY]) or raw[EXTRA_KEY])
    for column, (rule_id, shown, expected) in unusable.items():
        add(rule_id, column, shown, expected)

    lat = lng = accuracy = None
    system: str | None = None
    lat_raw, lng_raw = raw.get("latitude", "").strip(), raw.get("longitude", "").strip()
    system_raw = raw.get("coord_system", "").strip()
    if lat_raw or lng_raw:
        for column, value in (("latitude", lat_raw), ("longitude", lng_raw)):
            if not value:
                add("FLD-REQUIRED", column, None)
            elif _number(value) is None:
                add("PRF-NUMBER", column, value)
        system = COORD_ALIASES.get(system_raw.lower()) if system_raw else None
        if system is None:
            if system_raw:
                add("PRF-COORD-SYSTEM", "coord_system", system_raw, "/".join(COORD_SYSTEMS))
            else:
                add("FLD-REQUIRED", "coord_system", None)
        plat, plng = _number(lat_raw), _number(lng_raw)
        if plat is not None and plng is not None:
            shown = f"{lat_raw},{lng_raw}"
            if not (-90 <= plat <= 90 and -180 <= plng <= 180):
                add(
                    "PRF-POSITION-RANGE",
                    "latitude",
                    shown,
                    "纬度 -90..90，经度 -180..180 / latitude -90..90, longitude -180..180",
                )
            elif not in_china(plat, plng):
                add("PRF-POSITION-CHINA", "latitude", shown)
            elif system is not None:
                lat, lng = convert(plat, plng, system, "wgs84")
                lat, lng = round(lat, 7), round(lng, 7)
        accuracy_raw = raw.get("accuracy_m", "").strip()
        if accuracy_raw:
            accuracy = _number(accuracy_raw)
            if accuracy is None or accuracy < 0:
                add("PRF-NUMBER", "accuracy_m", accuracy_raw)

    types: list[str] | None = None
    types_raw = raw.get("business_types", "").strip()
    if types_raw:
        types = []
        for part in (p.strip() for p in _LIST_SPLIT.split(types_raw) if p.strip()):
            key: str | None = part if part in BY_KEY else _LABEL_TO_KEY.get(part)
            if key is None:
                add("PRF-BUSINESS-TYPE", "business_types", part, ", ".join(BY_KEY))
            elif key not in types:
                types.append(key)
        types.sort(key=list(BY_KEY).index)

    hours_json: str | None = None
    hours_raw = raw.get("opening_hours", "").strip()
    if hours_raw:
        parsed = _hours(hours_raw)
        if isinstance(parsed, HoursError):
            add("PRF-HOURS", "opening_hours", hours_raw, f"{parsed.message_zh} / {parsed}")
        else:
            hours_json = parsed

    phone_raw = raw.get("phone", "").strip()
    phone = None
    if phone_raw:
        phone = normalise_phone(phone_raw)
        if phone is None:
            add("FLD-PHONE-FORMAT", "phone", phone_raw)

    ok = not any(i.severity == "error" for i in issues)
    stage_row = [
        row,
        code or None,
        lat,
        lng,
        system,
        accuracy,
        None if types is None else pg_array(types),
        hours_json,
        phone,
        bool(lat_raw or lng_raw),
        types is not None,
        hours_json is not None or bool(hours_raw),
        bool(phone_raw),
        ok,
    ]
    return stage_row, issues


STAGE_COLUMNS = (
    "row_no",
    "fi_code",
    "lat",
    "lng",
    "coord_system",
    "accuracy_m",
    "business_types",
    "opening_hours",
    "phone",
    "has_position",
    "has_types",
    "has_hours",
    "has_phone",
    "ok",
)


def _stage_rows(
    rows: Iterator[tuple[int, dict[str, str]]], issues: list[Issue]
) -> Iterator[list[Any]]:
    for row_no, raw in rows:
        stage_row, found = check_profile_row(raw, row_no)
        issues.extend(found)
        yield stage_row


def _cross_checks(session: Session) -> list[Issue]:
    issues = refuse(
        session,
        "PRF-DUPLICATE",
        f"""
        SELECT s.row_no, s.fi_code, s.fi_code, d.rows FROM {STAGE} s JOIN (
            SELECT fi_code, string_agg(row_no::text, ', ' ORDER BY row_no) AS rows
            FROM {STAGE} WHERE fi_code IS NOT NULL GROUP BY fi_code HAVING count(*) > 1
        ) d USING (fi_code)""",
        stage=STAGE,
        column="fi_code",
    )
    issues += refuse(
        session,
        "PRF-FICODE-UNKNOWN",
        f"""
        SELECT s.row_no, s.fi_code, s.fi_code,
               CASE WHEN i.status = 'revoked' THEN '（已撤销 / revoked）' ELSE '' END
        FROM {STAGE} s LEFT JOIN institution i USING (fi_code)
        WHERE s.ok AND (i.id IS NULL OR i.status <> 'active')""",
        stage=STAGE,
        column="fi_code",
    )
    # What an outlet offers depends on its kind: no counter service at a machine, no
    # machine's facility on a branch (its machines are self-service points of their own).
    issues += refuse(
        session,
        "PRF-KIND-BUSINESS",
        f"""
        SELECT s.row_no, s.fi_code, t.key,
               CASE i.kind WHEN 'branch' THEN '营业网点 / a branch'
                           WHEN 'self_service' THEN '自助银行 / a self-service bank'
                           ELSE 'ATM / an ATM' END
        FROM {STAGE} s JOIN institution i USING (fi_code)
        CROSS JOIN LATERAL unnest(s.business_types) AS t(key)
        WHERE s.ok AND s.has_types
          AND NOT t.key = ANY(CASE i.kind WHEN 'branch' THEN CAST(:branch AS text[])
                                          WHEN 'self_service' THEN CAST(:self_service AS text[])
                                          ELSE CAST(:atm AS text[]) END)""",
        {kind: sorted(keys) for kind, keys in ALLOWED_BY_KIND.items()},
        stage=STAGE,
        column="business_types",
    )
    # Region bounds come from Python (registry.regions); ship the few needed to SQL.
    codes = (
        session.execute(
            text(f"""
        SELECT DISTINCT i.region_code FROM {STAGE} s JOIN institution i USING (fi_code)
        WHERE s.ok AND s.lat IS NOT NULL""")
        )
        .scalars()
        .all()
    )
    bounds = [(c, *b) for c in codes if (b := regions.bounds(c)) is not None]
    session.execute(text("DROP TABLE IF EXISTS profile_bounds"))
    session.execute(
        text(
            "CREATE TEMP TABLE profile_bounds (region_code text, min_lat float8, "
            "min_lng float8, max_lat float8, max_lng float8) ON COMMIT DROP"
        )
    )
    copy_rows(
        session,
        "profile_bounds",
        ("region_code", "min_lat", "min_lng", "max_lat", "max_lng"),
        bounds,
    )
    issues += refuse(
        session,
        "PRF-POSITION-REGION",
        f"""
        SELECT s.row_no, s.fi_code, s.lat || ',' || s.lng, i.region_code
        FROM {STAGE} s JOIN institution i USING (fi_code)
        JOIN profile_bounds b ON b.region_code = i.region_code
        WHERE s.ok AND s.lat IS NOT NULL
          AND NOT (s.lat BETWEEN b.min_lat AND b.max_lat AND s.lng BETWEEN b.min_lng AND b.max_lng)
    """,
        stage=STAGE,
        column="latitude",
    )
    return issues


# group -> (stage flag, new value as jsonb from the stage `s`, stored value as jsonb from `p`)
_GROUP_VALUES = {
    "position": (
        "has_position",
        "jsonb_build_object('latitude', s.lat, 'longitude', s.lng, "
        "'captured_in', s.coord_system, 'accuracy_m', s.accuracy_m)",
        "CASE WHEN p.position IS NULL THEN NULL ELSE jsonb_build_object("
        "'latitude', ST_Y(p.position::geometry), 'longitude', ST_X(p.position::geometry), "
        "'captured_in', p.position_coord_system, 'accuracy_m', p.position_accuracy_m) END",
    ),
    "business_types": ("has_types", "to_jsonb(s.business_types)", "to_jsonb(p.business_types)"),
    "hours": ("has_hours", "s.opening_hours", "p.opening_hours"),
    "phone": ("has_phone", "to_jsonb(s.phone)", "to_jsonb(p.phone)"),
}
_SET = {
    "position": "position = CASE WHEN c.ch_position "
    "THEN ST_SetSRID(ST_MakePoint(c.lng, c.lat), 4326)::geography ELSE p.position END, "
    "position_coord_system = CASE WHEN c.ch_position THEN c.coord_system "
    "ELSE p.position_coord_system END, "
    "position_accuracy_m = CASE WHEN c.ch_position THEN c.accuracy_m "
    "ELSE p.position_accuracy_m END",
    "business_types": "business_types = CASE WHEN c.ch_business_types THEN c.business_types "
    "ELSE p.business_types END",
    "hours": "opening_hours = CASE WHEN c.ch_hours THEN c.opening_hours ELSE p.opening_hours END",
    "phone": "phone = CASE WHEN c.ch_phone THEN c.phone ELSE p.phone END",
}


def _provenance(group: str) -> str:
    return (
        f"CASE WHEN c.ch_{group} THEN jsonb_build_object('{group}', jsonb_build_object("
        "'channel', 'registry_sync', 'source', 'profile_import', 'actor', "
        "CAST(:actor AS text), 'batch_id', CAST(:batch AS bigint), 'at', now(), "
        "'confirmed', false)) ELSE '{}'::jsonb END"
    )


# One UPDATE per profile, however many groups changed (each rewrite of a row
# costs its index entries), then one change event per changed group.
_WRITE = f"""
WITH c AS (
    SELECT s.*, i.id AS institution_id,
           {
    ", ".join(
        f"s.{flag} AND ({old}) IS DISTINCT FROM ({new}) AS ch_{g}, "
        f"({old}) AS old_{g}, ({new}) AS new_{g}"
        for g, (flag, new, old) in _GROUP_VALUES.items()
    )
}
    FROM {STAGE} s JOIN institution i USING (fi_code)
    JOIN outlet_profile p ON p.institution_id = i.id
    WHERE s.ok
), up AS (
    UPDATE outlet_profile p SET {", ".join(_SET[g] for g in GROUPS)}, updated_at = now(),
           provenance = p.provenance || {" || ".join(_provenance(g) for g in GROUPS)}
    FROM c
    WHERE p.institution_id = c.institution_id AND ({" OR ".join(f"c.ch_{g}" for g in GROUPS)})
    RETURNING p.institution_id
), ev AS (
    INSERT INTO change_event (entity, fi_code, field_group, before, after, actor, channel,
                              batch_id)
    SELECT 'outlet_profile', c.fi_code, g.name, g.before, g.after, :actor, 'registry_sync',
           :batch
    FROM c JOIN up USING (institution_id)
    CROSS JOIN LATERAL (VALUES {
    ", ".join(f"('{g}', c.ch_{g}, c.old_{g}, c.new_{g})" for g in GROUPS)
}) AS g(name, changed, before, after)
    WHERE g.changed
    RETURNING field_group
)
SELECT field_group, count(*) FROM ev GROUP BY field_group
"""


def import_profiles(
    session: Session,
    path: Path,
    options: ProfileImportOptions = ProfileImportOptions(),
    *,
    on_rows: Callable[[int], None] | None = None,
    hooks: LoadHooks = NO_HOOKS,
) -> ImportResult:
    """Validate and load a profile file; the caller commits (or rolls back a dry run)."""
    opened, result = begin(path, PROFILE_COLUMNS)
    issues = result.issues
    seen_problems = len(opened.problems)
    accepted = 0
    if not file_rejected(issues):
        session.execute(text(f"DROP TABLE IF EXISTS {STAGE}"))
        session.execute(
            text(f"""
            CREATE TEMP TABLE {STAGE} (row_no integer, fi_code text, lat float8, lng float8,
                coord_system text, accuracy_m float8, business_types text[], opening_hours jsonb,
                phone text, has_position bool, has_types bool, has_hours bool, has_phone bool,
                ok bool NOT NULL) ON COMMIT DROP""")
        )
        copy_rows(
            session, STAGE, STAGE_COLUMNS, _stage_rows(opened.rows(), issues), on_chunk=on_rows
        )
        issues += problem_issues(opened.problems, seen_problems)
        if opened.data_rows_seen == 0:
            issues.append(issue("FILE-EMPTY", value="no data rows / 没有数据行"))
    rows_read = opened.data_rows_seen
    if not file_rejected(issues):
        session.execute(text(f"CREATE INDEX ON {STAGE} (fi_code)"))
        session.execute(text(f"ANALYZE {STAGE} (fi_code, ok)"))
        issues += _cross_checks(session)
        accepted = session.execute(text(f"SELECT count(*) FROM {STAGE} WHERE ok")).scalar_one()
    result.outcome = decide(rows_read, accepted, file_rejected(issues))
    counts = {f"changed_{g}": 0 for g in GROUPS}
    if not options.dry_run:
        result.batch_id = new_batch(
            session, "profiles", result.source_name, result.source_sha256, options.actor, {}
        )
        if result.outcome != "rejected":
            session.execute(
                text(f"""
                INSERT INTO outlet_profile (institution_id, business_types, service_links,
                                            provenance)
                SELECT i.id, '{{}}', '[]', '{{}}' FROM {STAGE} s JOIN institution i USING (fi_code)
                WHERE s.ok ON CONFLICT (institution_id) DO NOTHING""")
            )
            written = session.execute(
                text(_WRITE), {"batch": result.batch_id, "actor": options.actor}
            ).all()
            counts.update({f"changed_{group}": n for group, n in written})
            if counts["changed_position"] and hooks.changed:
                hooks.changed(session)
    finish(session, result, rows_read, accepted, counts)
    return result
