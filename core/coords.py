"""The one place where positions change coordinate system (WGS-84, GCJ-02, BD-09).

We store WGS-84; WeChat, Tencent and Amap maps speak GCJ-02 and Baidu speaks
BD-09 (STANDARDS §7, DESIGN "Conventions"). Inside China the systems differ by
hundreds of metres, so every conversion in the code base goes through here and
nowhere else: one formula, one set of constants, one set of tests.

Rules every function follows:

- Arguments are always ``(lat, lng)`` in degrees and results are ``(lat, lng)``.
  Map SDKs disagree on the order; we never do.
- Every public function validates its input (`validate_point`) and raises
  `CoordinateError` instead of returning NaN or a point off the globe, because
  a silent NaN would end up in the database or in a distance sort.
- Outside the bounding box of China (`in_china`) the three systems coincide:
  GCJ-02 applies no offset there, and Baidu uses plain WGS-84 abroad, so BD-09
  is not applied either. Within roughly a kilometre of the box edge (sea,
  Central Asia, Siberia; no Chinese outlet) the box test can decide differently
  for a point and its image, so round trips are only guaranteed away from it.
- The forward transforms are closed-form and exact by definition. The inverses
  have no closed form: they start from the usual one-step approximation and
  refine it by fixed-point iteration until a step is below 1e-9 degrees (about
  0.1 mm), so WGS-84 → GCJ-02 → WGS-84 comes back to well under a millimetre
  instead of the 1–5 m of the one-step formula, and BD-09's inverse is exact
  too instead of the customary ~0.2 m.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final, Literal

CoordSystem = Literal["wgs84", "gcj02", "bd09"]
COORD_SYSTEMS: Final[tuple[CoordSystem, ...]] = ("wgs84", "gcj02", "bd09")

# Krasovsky 1940 ellipsoid, on which GCJ-02's perturbation is defined.
KRASOVSKY_A: Final = 6378245.0
KRASOVSKY_EE: Final = 0.00669342162296594323

# BD-09's rotation constant and fixed offsets (degrees).
BD_X_PI: Final = math.pi * 3000.0 / 180.0
BD_DLNG: Final = 0.0065
BD_DLAT: Final = 0.006

# The bounding box every implementation uses for "inside China". It also covers
# bits of neighbouring countries; that only matters far from any outlet.
CHINA_MIN_LAT: Final = 0.8293
CHINA_MAX_LAT: Final = 55.8271
CHINA_MIN_LNG: Final = 72.004
CHINA_MAX_LNG: Final = 137.8347

# IUGG mean Earth radius; a sphere is plenty for plausibility checks and tests.
EARTH_MEAN_RADIUS_M: Final = 6371008.8

# Inverse iteration: stop when a step is below this (degrees), or after this many rounds.
# The perturbation's derivative is ~1e-2, so ~5 rounds reach 1e-9; 30 is a safety cap.
_INVERSE_TOLERANCE_DEG: Final = 1e-9
_INVERSE_MAX_ROUNDS: Final = 30


class CoordinateError(ValueError):
    """A position that cannot be converted: not a number, infinite, off the globe.

    `field` names the offending input ("lat", "lng", or the coordinate system
    argument) so the HTTP layer can answer with a 4xx that names the field;
    `message_zh` is the same message for Chinese-speaking users.
    """

    def __init__(self, message: str, *, field: str, message_zh: str) -> None:
        super().__init__(message)
        self.field = field
        self.message_zh = message_zh


def _check_axis(value: object, field: str, name: str, name_zh: str, limit: float) -> float:
    if type(value) is float and -limit <= value <= limit:  # the usual case (NaN fails it)
        return value
    # bool is an int in Python, but True is never a coordinate someone meant.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CoordinateError(
            f"{name} must be a number, got {type(value).__name__} {value!r}",
            field=field,
            message_zh=f"{name_zh}必须是数字，收到 {value!r}",
        )
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        raise CoordinateError(
            f"{name} must be a finite number, got {number!r}",
            field=field,
            message_zh=f"{name_zh}必须是有限数值，收到 {number!r}",
        )
    if not -limit <= number <= limit:
        raise CoordinateError(
            f"{name} {number!r} is out of range: expected -{limit:g} <= {field} <= {limit:g}",
            field=field,
            message_zh=f"{name_zh} {number!r} 超出范围：应在 -{limit:g} 到 {limit:g} 之间",
        )
    return number


def validate_point(lat: float, lng: float) -> tuple[float, float]:
    """Check a position and return it as floats; raise `CoordinateError` if unusable.

    Latitude must lie in [-90, 90] and longitude in [-180, 180]; NaN, infinities
    and non-numbers are rejected. Returning the floats lets callers pass ints or
    numbers decoded from JSON without a separate conversion step.
    """
    return (
        _check_axis(lat, "lat", "latitude", "纬度", 90.0),
        _check_axis(lng, "lng", "longitude", "经度", 180.0),
    )


def parse_coord_system(value: str, *, field: str = "coord") -> CoordSystem:
    """Map a user-supplied system name to a `CoordSystem`, or raise `CoordinateError`.

    Accepts the canonical names case-insensitively and with the usual spellings
    ("GCJ-02", "BD09", "WGS 84"), because map SDK documentation writes them in
    every way; anything else is an error naming the accepted values.
    """
    if isinstance(value, str):
        key = value.strip().lower().replace("-", "").replace("_", "").replace(" ", "")
        for system in COORD_SYSTEMS:
            if key == system:
                return system
    raise _unknown_system(value, field)


def _unknown_system(value: object, field: str) -> CoordinateError:
    accepted = ", ".join(COORD_SYSTEMS)
    return CoordinateError(
        f"unknown coordinate system {value!r}: expected one of {accepted}",
        field=field,
        message_zh=f"未知的坐标系 {value!r}：应为 {accepted} 之一",
    )


def in_china(lat: float, lng: float) -> bool:
    """Whether GCJ-02 (and BD-09) apply at this position: the customary bounding box."""
    return CHINA_MIN_LAT <= lat <= CHINA_MAX_LAT and CHINA_MIN_LNG <= lng <= CHINA_MAX_LNG


# --- raw formulas (no validation, no bounding box) ------------------------------------------


def _gcj02_offset(lat: float, lng: float) -> tuple[float, float]:
    """GCJ-02 minus WGS-84 at a WGS-84 position, in degrees (dlat, dlng).

    The published perturbation: polynomial and sine terms in "metres" around
    (35N, 105E), turned into degrees with Krasovsky radii of curvature.
    """
    x = lng - 105.0
    y = lat - 35.0
    pi = math.pi
    common = (20.0 * math.sin(6.0 * x * pi) + 20.0 * math.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat_m = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * math.sqrt(abs(x))
        + common
        + (20.0 * math.sin(y * pi) + 40.0 * math.sin(y / 3.0 * pi)) * 2.0 / 3.0
        + (160.0 * math.sin(y / 12.0 * pi) + 320.0 * math.sin(y * pi / 30.0)) * 2.0 / 3.0
    )
    dlng_m = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * math.sqrt(abs(x))
        + common
        + (20.0 * math.sin(x * pi) + 40.0 * math.sin(x / 3.0 * pi)) * 2.0 / 3.0
        + (150.0 * math.sin(x / 12.0 * pi) + 300.0 * math.sin(x / 30.0 * pi)) * 2.0 / 3.0
    )
    rad_lat = lat / 180.0 * pi
    magic = 1.0 - KRASOVSKY_EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat_m * 180.0) / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * pi)
    dlng = (dlng_m * 180.0) / (KRASOVSKY_A / sqrt_magic * math.cos(rad_lat) * pi)
    return dlat, dlng


def _wgs_to_gcj_raw(lat: float, lng: float) -> tuple[float, float]:
    dlat, dlng = _gcj02_offset(lat, lng)
    return lat + dlat, lng + dlng


def _gcj_to_bd_raw(lat: float, lng: float) -> tuple[float, float]:
    z = math.hypot(lng, lat) + 0.00002 * math.sin(lat * BD_X_PI)
    theta = math.atan2(lat, lng) + 0.000003 * math.cos(lng * BD_X_PI)
    return z * math.sin(theta) + BD_DLAT, z * math.cos(theta) + BD_DLNG


def _bd_to_gcj_approx(lat: float, lng: float) -> tuple[float, float]:
    """Baidu's customary closed-form inverse; about 0.2 m off, used as a starting point."""
    x = lng - BD_DLNG
    y = lat - BD_DLAT
    z = math.hypot(x, y) - 0.00002 * math.sin(y * BD_X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * BD_X_PI)
    return z * math.sin(theta), z * math.cos(theta)


def _invert(
    forward: Callable[[float, float], tuple[float, float]],
    target_lat: float,
    target_lng: float,
    start: tuple[float, float],
) -> tuple[float, float]:
    """Solve forward(p) == target by fixed-point iteration p <- p - (forward(p) - target).

    Converges because both perturbations are close to a translation (their
    Jacobian differs from the identity by ~1e-2), so each round shrinks the error
    about a hundredfold.
    """
    lat, lng = start
    for _ in range(_INVERSE_MAX_ROUNDS):
        got_lat, got_lng = forward(lat, lng)
        step_lat = got_lat - target_lat
        step_lng = got_lng - target_lng
        lat -= step_lat
        lng -= step_lng
        if abs(step_lat) < _INVERSE_TOLERANCE_DEG and abs(step_lng) < _INVERSE_TOLERANCE_DEG:
            break
    return lat, lng


# --- public conversions ----------------------------------------------------------------------


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    """WGS-84 (GPS, OSM, storage) to GCJ-02 (WeChat, Tencent, Amap); exact by definition."""
    lat, lng = validate_point(lat, lng)
    if not in_china(lat, lng):
        return lat, lng
    return _wgs_to_gcj_raw(lat, lng)


def gcj02_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    """GCJ-02 to WGS-84 by iteration; within a millimetre of the exact inverse.

    The one-step inverse found in most code is off by up to ~5 m, enough to put
    an outlet on the wrong side of a building, hence the iteration.
    """
    lat, lng = validate_point(lat, lng)
    if not in_china(lat, lng):
        return lat, lng
    dlat, dlng = _gcj02_offset(lat, lng)
    return _invert(_wgs_to_gcj_raw, lat, lng, (lat - dlat, lng - dlng))


def gcj02_to_bd09(lat: float, lng: float) -> tuple[float, float]:
    """GCJ-02 to BD-09 (Baidu maps); Baidu's closed-form rotation, exact by definition."""
    lat, lng = validate_point(lat, lng)
    if not in_china(lat, lng):
        return lat, lng
    return _gcj_to_bd_raw(lat, lng)


def bd09_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    """BD-09 to GCJ-02: Baidu's closed-form inverse refined by iteration to sub-millimetre."""
    lat, lng = validate_point(lat, lng)
    if not in_china(lat, lng):
        return lat, lng
    return _invert(_gcj_to_bd_raw, lat, lng, _bd_to_gcj_approx(lat, lng))


def wgs84_to_bd09(lat: float, lng: float) -> tuple[float, float]:
    """WGS-84 to BD-09, through GCJ-02 (BD-09 is defined on top of GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lat, lng))


def bd09_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    """BD-09 to WGS-84, through GCJ-02."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lat, lng))


def _identity(lat: float, lng: float) -> tuple[float, float]:
    return validate_point(lat, lng)


_CONVERTERS: Final[dict[tuple[str, str], Callable[[float, float], tuple[float, float]]]] = {
    ("wgs84", "wgs84"): _identity,
    ("gcj02", "gcj02"): _identity,
    ("bd09", "bd09"): _identity,
    ("wgs84", "gcj02"): wgs84_to_gcj02,
    ("gcj02", "wgs84"): gcj02_to_wgs84,
    ("gcj02", "bd09"): gcj02_to_bd09,
    ("bd09", "gcj02"): bd09_to_gcj02,
    ("wgs84", "bd09"): wgs84_to_bd09,
    ("bd09", "wgs84"): bd09_to_wgs84,
}


def convert(lat: float, lng: float, src: CoordSystem, dst: CoordSystem) -> tuple[float, float]:
    """Convert (lat, lng) from `src` to `dst`; the single entry point for API code.

    `src`/`dst` must be canonical names and are checked at run time as well,
    because an unchecked string would otherwise surface as a KeyError (a 500);
    use `parse_coord_system` to turn free-form user input into one.
    """
    if src not in COORD_SYSTEMS:
        raise _unknown_system(src, "src")
    if dst not in COORD_SYSTEMS:
        raise _unknown_system(dst, "dst")
    return _CONVERTERS[(src, dst)](lat, lng)


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine, sphere of radius 6371008.8 m).

    Meant for tests and plausibility checks (an offset of "a few hundred
    metres"), not for geodesy: the spherical error is up to ~0.5 %.
    """
    lat1, lng1 = validate_point(lat1, lng1)
    lat2, lng2 = validate_point(lat2, lng2)
    phi1 = math.radians(lat1)
    phi2 = math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lng2 - lng1)
    h = math.sin(dphi / 2.0) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2.0) ** 2
    return 2.0 * EARTH_MEAN_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def position_in(lat: float, lng: float, coord: CoordSystem) -> dict[str, float]:
    """A stored WGS-84 position as `{lat, lng}` in the caller's system, to about a centimetre."""
    return _rounded(*convert(lat, lng, "wgs84", coord))


def _rounded(lat: float, lng: float) -> dict[str, float]:
    return {"lat": round(lat, 7), "lng": round(lng, 7)}


def positions_in(coord: CoordSystem) -> Callable[[float, float], dict[str, float]]:
    """`position_in` for the many positions of a page of search results, read from the
    database: the conversion is looked up once, and for WGS-84 the positions are only
    rounded (PostGIS stored them as a geography, in range by construction)."""
    if coord not in COORD_SYSTEMS:
        raise _unknown_system(coord, "dst")
    if coord == "wgs84":
        return _rounded
    to_coord = _CONVERTERS[("wgs84", coord)]
    return lambda lat, lng: _rounded(*to_coord(lat, lng))
