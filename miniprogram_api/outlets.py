"""Public finder endpoints: nearby, map viewport, text search, outlet detail, vocabularies.

Each view converts the caller's coordinates to WGS-84, builds a
`geo.search.SearchQuery`, calls the one search service, and converts positions
back to the caller's system. No SQL here.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from flask import request
from flask.views import MethodView
from flask.wrappers import Response
from flask_smorest import abort

from core.coords import CoordinateError, CoordSystem, convert, position_in, positions_in
from geo import outlets as outlet_records
from geo.clusters import Pin
from geo.clusters import viewport as viewport_service
from geo.search import BBox, Filters, OutletHit, Point, SearchError, SearchQuery, search
from miniprogram_api.schemas import (
    GEOJSON,
    CoordArgs,
    FeatureCollectionSchema,
    InstitutionArgs,
    LegalEntitySchema,
    NearbyArgs,
    OutletDetailSchema,
    OutletPageSchema,
    RegionArgs,
    RegionSchema,
    TextSearchArgs,
    ViewportArgs,
    ViewportSchema,
    encode_cursor,
)
from profiles.business_types import BUSINESS_TYPES, BY_KEY, facilities
from profiles.opening import open_state, open_states, parse_stored, special_days, to_local
from registry import regions
from web.api import prebuilt
from web.extensions import read_connection, read_session
from web.public_blueprint import PublicBlueprint
from web.public_http import LISTS, VOCABULARY
from web.schemas import BusinessTypeSchema, photo_urls

blp = PublicBlueprint(
    "outlets", __name__, description="公众版：查找网点 / Public finder: outlets near me, on the map"
)


def _now() -> datetime:
    return datetime.now(UTC)


def _point(lat: float, lng: float, coord: CoordSystem, field: str = "lat") -> Point:
    try:
        wlat, wlng = convert(lat, lng, coord, "wgs84")
        return Point(wlat, wlng)
    except CoordinateError as exc:
        abort(422, errors={"query": {field: [str(exc)]}}, message=f"坐标无效：{exc}")
        raise  # unreachable: abort raises


def _box(args: dict[str, Any], coord: CoordSystem) -> BBox:
    """The WGS-84 box around a viewport given in `coord`.

    Its four corners are converted, not two: GCJ-02 and BD-09 shift a point by an amount
    that depends on where it is, so a rectangle in them is a slightly skewed one in WGS-84,
    and a view one line thin could come out with its corners the wrong way round.
    """
    corners = [
        _point(args[lat], args[lng], coord, lat)
        for lat in ("min_lat", "max_lat")
        for lng in ("min_lng", "max_lng")
    ]
    lats, lngs = [c.lat for c in corners], [c.lng for c in corners]
    return BBox(min(lats), min(lngs), max(lats), max(lngs))


def _filters(args: dict[str, Any], moment: datetime) -> Filters:
    return Filters(
        legal_entities=tuple(args["institution"]),
        categories=tuple(args["category"]),
        kinds=tuple(args["kind"]),
        business_types=tuple(args["business_type"]),
        region_prefix=args.get("region"),
        open_at=moment if args["open_now"] else None,
    )


def _run(**query: Any) -> list[OutletHit]:
    try:
        return search(read_connection(), SearchQuery(**query))
    except SearchError as exc:
        abort(422, errors={"query": {exc.field: [str(exc)]}}, message=str(exc))
        raise


def summaries(hits: list[OutletHit], coord: CoordSystem, moment: datetime) -> list[dict[str, Any]]:
    """The hits as the list items of OutletSummarySchema; `open_now` at `moment`.

    One comprehension rather than a function per item, as a page is built for every
    list request: a quarter less time for a WGS-84 page (43 against 58 µs for twenty),
    less for GCJ-02, where converting the positions takes most of it.
    """
    position = positions_in(coord)
    return [
        {
            "fi_code": hit.fi_code,
            "name": hit.name,
            "short_name": hit.short_name,
            "category": hit.category,
            "legal_entity_code": hit.legal_entity_code,
            "address": hit.address,
            "phone": hit.phone,
            "position": position(hit.lat, hit.lng),
            "distance_m": None if hit.distance_m is None else round(hit.distance_m, 1),
            "business_types": list(hit.business_types),
            # hours unknown (no state): not known to be open, nothing unverified to flag
            "open_now": None if state is None else state.open_now,
            "hours_verified": True if state is None else state.verified,
            "kind": hit.kind,
            "facilities": facilities(hit.kind, hit.business_types),
            # a self-service point's branch; a branch's parent is no business of the public
            "parent_fi_code": None if hit.kind == "branch" else hit.parent_code,
            "parts": [],
        }
        for hit, state in zip(
            hits, open_states([h.opening_hours_json for h in hits], moment), strict=True
        )
    ]


def pin_items(pins: list[Pin], coord: CoordSystem, moment: datetime) -> list[dict[str, Any]]:
    """One list item per pin (geo.clusters.pins): its outlet's summary, with the other
    outlets at the same position as `parts` (PartSchema)."""
    items = summaries([p.outlet for p in pins], coord, moment)
    for item, pin in zip(items, pins, strict=True):
        if pin.parts:
            item["parts"] = [
                {k: part[k] for k in _PART_FIELDS}
                for part in summaries(list(pin.parts), coord, moment)
            ]
    return items


_PART_FIELDS = ("fi_code", "name", "kind", "facilities", "business_types", "open_now")


_PAGE_SCHEMA = OutletPageSchema()
_VIEWPORT_SCHEMA = ViewportSchema()
_FEATURES_SCHEMA = FeatureCollectionSchema()
_ORDERS = {"distance": None, "name": "name", "-updated_at": "recent"}  # sort= → geo.search


def wants_geojson(args: dict[str, Any]) -> bool:
    """`format=geojson`, or, without `format`, an Accept header preferring GeoJSON."""
    if "format" in args:
        return bool(args["format"] == "geojson")
    best = request.accept_mimetypes.best_match(["application/json", GEOJSON])
    return best == GEOJSON


def output_coord(args: dict[str, Any]) -> CoordSystem:
    """The caller's `coord`; for GeoJSON, WGS-84 unless `coord` was given (RFC 7946, 4)."""
    if "coord" not in request.args and wants_geojson(args):
        return "wgs84"
    coord: CoordSystem = args["coord"]
    return coord


def _chosen(items: list[dict[str, Any]], args: dict[str, Any]) -> list[dict[str, Any]]:
    """The items with the `fields` asked for (fi_code always, and the position that is a
    GeoJSON feature's geometry); all of them by default."""
    only = args["chosen_fields"]
    if not only:
        return items
    keep = {"fi_code", *only, *(("position",) if wants_geojson(args) else ())}
    return [{k: v for k, v in item.items() if k in keep} for item in items]


def _feature(item: dict[str, Any]) -> dict[str, Any]:
    position = item.get("position")
    properties = {k: v for k, v in item.items() if k != "position"}
    return {
        "type": "Feature",
        "id": item["fi_code"],
        "geometry": None
        if position is None
        else {"type": "Point", "coordinates": [position["lng"], position["lat"]]},
        "properties": properties,
    }


def _answer(payload: dict[str, Any], args: dict[str, Any], schema: Any) -> Response:
    """The page as JSON in its documented shape, or as a GeoJSON FeatureCollection: the
    outlets as Point features (the clusters too, marked), the rest as foreign members."""
    if not wants_geojson(args):
        return prebuilt(schema, payload)
    features = [_feature(item) for item in payload["items"]]
    features += [
        {
            "type": "Feature",
            "geometry": {
                "type": "Point",
                "coordinates": [c["position"]["lng"], c["position"]["lat"]],
            },
            "properties": {"cluster": True, "count": c["count"], "kinds": c["kinds"]},
        }
        for c in payload.get("clusters", ())
    ]
    others = {k: v for k, v in payload.items() if k not in ("items", "clusters")}
    return prebuilt(
        _FEATURES_SCHEMA, {"type": "FeatureCollection", "features": features, **others}, GEOJSON
    )


def _page(hits: list[OutletHit], args: dict[str, Any], offset: int, moment: datetime) -> Response:
    limit = args["limit"]
    more = len(hits) > limit
    coord = output_coord(args)
    return _answer(
        {
            "coord": coord,
            "items": _chosen(summaries(hits[:limit], coord, moment), args),
            "next_cursor": encode_cursor(offset + limit) if more else None,
        },
        args,
        _PAGE_SCHEMA,
    )


_GEOJSON_DOC = {
    "responses": {
        200: {
            "content": {GEOJSON: {"schema": FeatureCollectionSchema}},
            "description": f"JSON, or GeoJSON for format=geojson or Accept: {GEOJSON}",
        }
    }
}
_ERRORS = {422: "参数无效：errors 中逐项说明 / invalid parameters, named in `errors`"}


@blp.route("/outlets/nearby")
class Nearby(MethodView):
    @blp.arguments(NearbyArgs(), location="query")
    @blp.response(200, OutletPageSchema)
    @blp.alt_response(422, description=_ERRORS[422])
    @blp.doc(**_GEOJSON_DOC)
    def get(self, args: dict[str, Any]) -> Response:
        """附近的网点 — outlets nearest to a point, with filters.

        Positions in and out are in `coord` (default gcj02). Revoked outlets and outlets
        without a position never appear. `distance_m` is the great-circle distance in metres.
        """
        moment = _now()
        offset = args.get("cursor", 0)
        here = _point(args["lat"], args["lng"], output_coord(args))
        hits = _run(
            near=here,
            radius_m=args["radius_m"],
            filters=_filters(args, moment),
            limit=args["limit"] + 1,
            offset=offset,
            order=_ORDERS[args["sort"]],
        )
        return _page(hits, args, offset, moment)


@blp.route("/outlets/search")
class TextSearch(MethodView):
    @blp.arguments(TextSearchArgs(), location="query")
    @blp.response(200, OutletPageSchema)
    @blp.alt_response(422, description=_ERRORS[422])
    @blp.doc(**_GEOJSON_DOC)
    def get(self, args: dict[str, Any]) -> Response:
        """按名称或地址搜索 — outlets by name or address (exact, prefix, fuzzy).

        With `lat`/`lng` the matches are ranked by distance, otherwise by how well
        they match.
        """
        moment = _now()
        offset = args.get("cursor", 0)
        near = _point(args["lat"], args["lng"], output_coord(args)) if "lat" in args else None
        filters = replace(_filters(args, moment), text=args["q"])
        order = _ORDERS[args["sort"]] if "sort" in args else None
        hits = _run(near=near, filters=filters, limit=args["limit"] + 1, offset=offset, order=order)
        return _page(hits, args, offset, moment)


@blp.route("/outlets/viewport")
class Viewport(MethodView):
    @blp.arguments(ViewportArgs(), location="query")
    @blp.response(200, ViewportSchema)
    @blp.alt_response(422, description=_ERRORS[422])
    @blp.doc(**_GEOJSON_DOC)
    def get(self, args: dict[str, Any]) -> Response:
        """地图视野内的网点 — outlets in a map viewport, clustered when there are many.

        Few outlets: each one. Many: server-side clusters (count and centre) on a grid
        that follows the zoom level, so a view of the whole province stays small.
        `open_now` narrows the outlets listed one by one; cluster counts take every
        outlet that matches the other filters, open or not.
        """
        moment = _now()
        coord = output_coord(args)
        result = viewport_service(
            read_session(), _box(args, coord), args["zoom"], _filters(args, moment)
        )
        clusters = [
            {"count": c.count, "kinds": c.kinds, "position": position_in(c.lat, c.lng, coord)}
            for c in result.clusters
        ]
        return _answer(
            {
                "coord": coord,
                "total": result.total,
                "mode": "clusters" if result.clusters else "outlets",
                "items": _chosen(pin_items(result.pins, coord, moment), args),
                "clusters": clusters,
            },
            args,
            _VIEWPORT_SCHEMA,
        )


@blp.route("/outlets/<string:fi_code>")
class OutletDetail(MethodView):
    @blp.arguments(CoordArgs(), location="query")
    @blp.response(200, OutletDetailSchema)
    @blp.alt_response(404, description="没有这个网点 / no such outlet")
    @blp.alt_response(410, description="网点已撤销 / the outlet has closed for good")
    def get(self, args: dict[str, Any], fi_code: str) -> dict[str, Any]:
        """网点详情 — one outlet: names, address, phone, position, business types,
        hours and whether it is open now, photos, service links, legal entity."""
        record = outlet_records.detail(read_session(), fi_code.upper())
        if record is None:
            abort(404, message=f"没有编码为 {fi_code} 的网点 / no outlet {fi_code}")
            raise AssertionError
        if record.status != "active":
            abort(
                410, message=f"该网点已撤销 / outlet {fi_code} was revoked on {record.revoked_on}"
            )
        return _detail(record, args["coord"], _now())


def _detail(
    record: outlet_records.OutletRecord, coord: CoordSystem, moment: datetime
) -> dict[str, Any]:
    hours = parse_stored(record.opening_hours)
    state = open_state(hours, moment)
    position = None
    if record.lat is not None and record.lng is not None:
        position = position_in(record.lat, record.lng, coord)
    return {
        "coord": coord,
        "fi_code": record.fi_code,
        "name": record.name,
        "short_name": record.short_name,
        "category": record.category,
        "legal_entity_code": record.legal_entity_code,
        "legal_entity": {
            "fi_code": record.legal_entity_code,
            "name": record.legal_entity_name,
            "short_name": record.legal_entity_short_name,
            "category": record.category,
        },
        "region": {
            "code": record.region_code,
            "name": record.region_name,
            "full_name": record.region_full_name,
            "level": "county",
        },
        "address": record.address,
        "phone": record.phone,
        "position": position,
        "distance_m": None,
        "business_types": list(record.business_types),
        "business_type_labels": [BY_KEY[k].__dict__ for k in record.business_types if k in BY_KEY],
        "hours": None if hours is None else {**hours.to_json(), "text": hours.format()},
        "open_now": state.open_now if hours else None,
        "closes_at": state.closes_at,
        "opens_next_at": state.opens_next_at,
        "hours_verified": state.verified,
        "kind": record.kind,
        "facilities": facilities(record.kind, record.business_types),
        "parent_fi_code": None if record.kind == "branch" else record.parent_code,
        "parts": [],
        "photos": [photo | photo_urls(photo["key"]) for photo in record.photos],
        "service_links": record.service_links,
        "last_confirmed_at": record.last_confirmed_at,
        "special_days": []
        if hours is None
        else [
            {
                "date": d.day,
                "kind": d.kind,
                "name": d.name,
                "intervals": [i.to_json() for i in d.intervals],
                "verified": d.verified,
            }
            for d in special_days(hours, to_local(moment).date())
        ],
        "navigation": None
        if record.lat is None or record.lng is None
        else navigation_links(record.lat, record.lng, record.name, record.address),
    }


def navigation_links(lat: float, lng: float, name: str, address: str | None) -> dict[str, Any]:
    """URIs that open Tencent Maps, Amap and Baidu Maps at a WGS-84 position, each given in
    the system its app reads (Tencent and Amap GCJ-02, Baidu BD-09), and the GCJ-02 point
    that wx.openLocation takes inside WeChat, from core.coords."""
    glat, glng = convert(lat, lng, "wgs84", "gcj02")
    blat, blng = convert(lat, lng, "wgs84", "bd09")
    title = quote(name)
    where = quote(address or name)
    return {
        "tencent": "https://apis.map.qq.com/uri/v1/marker?marker="
        + quote(f"coord:{glat:.6f},{glng:.6f};title:{name};addr:{address or name}")
        + "&referer=branchfinder",
        "amap": f"https://uri.amap.com/marker?position={glng:.6f},{glat:.6f}&name={title}"
        "&coordinate=gaode&callnative=1&src=branchfinder",
        "baidu": f"https://api.map.baidu.com/marker?location={blat:.6f},{blng:.6f}&title={title}"
        f"&content={where}&output=html&coord_type=bd09ll&src=webapp.branchfinder",
        "wechat": position_in(lat, lng, "gcj02"),
    }


@blp.route("/business-types")
class BusinessTypes(MethodView):
    @blp.response(200, BusinessTypeSchema(many=True))
    def get(self) -> list[dict[str, str]]:
        """受理业务类型 — the vocabulary of business types and facilities."""
        return [bt.__dict__ for bt in BUSINESS_TYPES]


@blp.route("/institutions")
class Institutions(MethodView):
    @blp.arguments(InstitutionArgs(), location="query")
    @blp.response(200, LegalEntitySchema(many=True))
    def get(self, args: dict[str, Any]) -> list[dict[str, Any]]:
        """金融机构 — legal entities (head offices) to filter outlets by."""
        return outlet_records.legal_entities(read_session(), tuple(args["category"]))


@blp.route("/regions")
class Regions(MethodView):
    @blp.arguments(RegionArgs(), location="query")
    @blp.response(200, RegionSchema(many=True))
    @blp.alt_response(404, description="没有这个行政区 / unknown region code")
    def get(self, args: dict[str, Any]) -> list[dict[str, Any]]:
        """行政区划 — the current regions under `parent` (default: Jiangsu's cities)."""
        parent = regions.get(args["parent"])
        if parent is None:
            abort(404, message=f"没有行政区划代码 {args['parent']} / unknown region")
            raise AssertionError
        centres = {p.code: p for p in regions.jiangsu_places()}
        return [
            {
                "code": r.code,
                "name": r.name,
                "full_name": regions.full_name(r.code),
                "level": r.level,
                "centre": position_in(centres[r.code].lat, centres[r.code].lng, args["coord"])
                if r.code in centres
                else None,
            }
            for r in regions.children(parent.code)
        ]


blp.cache(
    {
        "Nearby": LISTS,
        "TextSearch": LISTS,
        "Viewport": LISTS,
        "OutletDetail": LISTS,
        "BusinessTypes": VOCABULARY,
        "Institutions": VOCABULARY,
        "Regions": VOCABULARY,
    }
)
