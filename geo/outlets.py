"""Reading one outlet (institution + profile) and the legal entities, for public display.

Searching many outlets is `geo.search`; this is the look-up of one record with
everything its detail page shows, in one query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from core.models.registry import Institution, OutletProfile
from registry import regions
from uploads import outlet_photos


@dataclass(frozen=True)
class OutletRecord:
    fi_code: str
    name: str
    short_name: str | None
    category: str
    status: str
    revoked_on: date | None
    legal_entity_code: str
    legal_entity_name: str | None
    legal_entity_short_name: str | None
    region_code: str
    region_name: str | None
    region_full_name: str | None
    address: str | None
    phone: str | None
    lat: float | None  # WGS-84
    lng: float | None
    business_types: tuple[str, ...]
    opening_hours: dict[str, Any] | None
    service_links: list[dict[str, Any]]
    last_confirmed_at: datetime | None
    photos: list[dict[str, Any]]
    kind: str = "branch"  # core.models.registry.OUTLET_KINDS
    parent_code: str | None = None


def _last_confirmed(provenance: dict[str, Any] | None) -> datetime | None:
    """The latest confirmation (核对确认) of any field group, if the institution confirmed one."""
    stamps: list[str] = [
        str(entry["confirmed_at"])
        for entry in (provenance or {}).values()
        if isinstance(entry, dict) and entry.get("confirmed_at")
    ]
    return datetime.fromisoformat(max(stamps)) if stamps else None


def detail(session: Session, fi_code: str) -> OutletRecord | None:
    legal = aliased(Institution)
    row = session.execute(
        select(
            Institution,
            OutletProfile,
            legal.name.label("legal_name"),
            legal.short_name.label("legal_short_name"),
            func.ST_Y(func.geometry(OutletProfile.position)).label("lat"),
            func.ST_X(func.geometry(OutletProfile.position)).label("lng"),
        )
        .outerjoin(OutletProfile, OutletProfile.institution_id == Institution.id)
        .outerjoin(legal, legal.fi_code == Institution.legal_entity_code)
        .where(Institution.fi_code == fi_code)
    ).one_or_none()
    if row is None:
        return None
    inst: Institution = row.Institution
    profile: OutletProfile | None = row.OutletProfile
    region = regions.get(inst.region_code)
    return OutletRecord(
        fi_code=inst.fi_code,
        name=inst.name,
        short_name=inst.short_name,
        category=inst.category,
        status=inst.status,
        revoked_on=inst.revoked_on,
        legal_entity_code=inst.legal_entity_code,
        legal_entity_name=row.legal_name,
        legal_entity_short_name=row.legal_short_name,
        region_code=inst.region_code,
        region_name=region.name if region else None,
        region_full_name=regions.full_name(inst.region_code) if region else None,
        address=inst.address,
        phone=(profile.phone if profile and profile.phone else inst.phone),
        lat=row.lat,
        lng=row.lng,
        business_types=tuple(profile.business_types) if profile else (),
        opening_hours=profile.opening_hours if profile else None,
        service_links=list(profile.service_links) if profile else [],
        last_confirmed_at=_last_confirmed(profile.provenance if profile else None),
        photos=outlet_photos.published(session, inst.id) if profile else [],
        kind=inst.kind,
        parent_code=inst.parent_code,
    )


def legal_entities(session: Session, categories: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Active head offices, optionally of some categories, by name."""
    stmt = select(
        Institution.fi_code, Institution.name, Institution.short_name, Institution.category
    ).where(Institution.level == "head_office", Institution.status == "active")
    if categories:
        stmt = stmt.where(Institution.category.in_(categories))
    rows = session.execute(stmt.order_by(Institution.fi_code).limit(1000)).all()
    return [dict(r._mapping) for r in rows]
