"""One outlet's public record, as the open data files and the change feed carry it.

Built from a `geo.search.OutletHit`, the hit the finder builds from
`visible_outlets()`: the export, the feed and `/api/mp/v1` read the same rows through
the same SQL, so what the open data say an outlet is can never drift from what the
finder shows (no second data path). Only what does not depend on the moment is in it:
"open now" and distances are the finder's, computed per request; the weekly hours
they come from are here.

Fields, in this order (the CSV's columns; docs in `COLUMN_DOCS`): positions are WGS-84
(RFC 7946), whatever system they were captured in.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Final

import orjson

from geo.search import OutletHit

COLUMNS: Final = (
    "fi_code",
    "name",
    "short_name",
    "category",
    "legal_entity_code",
    "region_code",
    "address",
    "phone",
    "latitude",
    "longitude",
    "business_types",
    "opening_hours",
)

COLUMN_DOCS: Final[dict[str, str]] = {
    "fi_code": "金融机构编码（14 位） / PBoC financial institution code, 14 characters",
    "name": "机构名称 / full name",
    "short_name": "简称，可空 / short name, may be empty",
    "category": "机构类别（编码类型字母） / category, from the code's type letter",
    "legal_entity_code": "法人机构编码 / the legal entity's (head office's) fi_code",
    "region_code": "行政区划代码 GB/T 2260（县级） / county-level region code",
    "address": "地址 / address",
    "phone": "电话 / phone",
    "latitude": "纬度，WGS-84 / latitude, WGS-84",
    "longitude": "经度，WGS-84 / longitude, WGS-84",
    "business_types": (
        "受理业务类型键，CSV 中以分号分隔 / business type keys (see /api/mp/v1/business-types); "
        "in the CSV joined by ';'"
    ),
    "opening_hours": (
        "营业时间（JSON：每周时段与特殊日期），可空 / opening hours as JSON (weekly intervals "
        "and dated exceptions), may be empty"
    ),
}

BUSINESS_TYPES_SEPARATOR: Final = ";"  # keys are snake_case words (tests/test_catalog.py)


@lru_cache(maxsize=4096)
def _hours(text: str) -> Any:
    """The stored schedule's JSON, decoded once per distinct schedule (banks share a few).

    The object is shared between records: nothing may change it."""
    return orjson.loads(text)


def record(hit: OutletHit) -> dict[str, Any]:
    """The public record of one outlet (keys in `COLUMNS` order)."""
    return {
        "fi_code": hit.fi_code,
        "name": hit.name,
        "short_name": hit.short_name,
        "category": hit.category,
        "legal_entity_code": hit.legal_entity_code,
        "region_code": hit.region_code,
        "address": hit.address,
        "phone": hit.phone,
        "latitude": hit.lat,
        "longitude": hit.lng,
        "business_types": list(hit.business_types),
        "opening_hours": None if hit.opening_hours_json is None else _hours(hit.opening_hours_json),
    }


def csv_row(rec: dict[str, Any]) -> list[Any]:
    """The record as a CSV row: empty cells for no value, hours as compact JSON text."""
    hours = rec["opening_hours"]
    return [
        rec["fi_code"],
        rec["name"],
        rec["short_name"] or "",
        rec["category"],
        rec["legal_entity_code"],
        rec["region_code"],
        rec["address"] or "",
        rec["phone"] or "",
        repr(rec["latitude"]),  # the shortest text that reads back as the same float
        repr(rec["longitude"]),
        BUSINESS_TYPES_SEPARATOR.join(rec["business_types"]),
        "" if hours is None else orjson.dumps(hours).decode(),
    ]


def feature(rec: dict[str, Any]) -> dict[str, Any]:
    """The record as an RFC 7946 Feature: a WGS-84 Point ([longitude, latitude]), the
    fi_code as its id, the other fields as its properties."""
    properties = {k: v for k, v in rec.items() if k not in ("latitude", "longitude")}
    return {
        "type": "Feature",
        "id": rec["fi_code"],
        "geometry": {"type": "Point", "coordinates": [rec["longitude"], rec["latitude"]]},
        "properties": properties,
    }
