"""Tests for core.coords: reference points, round trips, offsets and an independent implementation.

A wrong conversion puts every outlet hundreds of metres off, so the forward
formulas are pinned against published reference values and against `prcoords`
(an independent implementation on PyPI), and the inverses by round trips over
the whole box of China.
"""

from __future__ import annotations

import math
import warnings

import eviltransform
import prcoords
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import coords
from core.coords import (
    COORD_SYSTEMS,
    CoordinateError,
    CoordSystem,
    bd09_to_gcj02,
    bd09_to_wgs84,
    convert,
    distance_m,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    in_china,
    parse_coord_system,
    validate_point,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

NANJING_WGS = (32.0415, 118.7781)
NANJING_GCJ = (32.039452, 118.783309)
NANJING_BD = (32.045681, 118.789747)

# The in_china box, inset by 0.05 degrees (~5 km): near the edge the box test can
# decide differently for a point and its image (see the module docstring).
INSET = 0.05
china_lat = st.floats(coords.CHINA_MIN_LAT + INSET, coords.CHINA_MAX_LAT - INSET)
china_lng = st.floats(coords.CHINA_MIN_LNG + INSET, coords.CHINA_MAX_LNG - INSET)

# Jiangsu's core, for the offset magnitude (STANDARDS §7: 415-588 m there). Its
# bounding box would include the Yellow Sea and Anhui, so the extremes of the
# province are checked as named points instead.
jiangsu_lat = st.floats(31.0, 34.5)
jiangsu_lng = st.floats(117.5, 120.5)
JIANGSU_POINTS = {
    "南京": (32.0603, 118.7969),
    "无锡": (31.4912, 120.3119),
    "徐州": (34.2044, 117.2859),
    "常州": (31.8107, 119.9741),
    "苏州": (31.2990, 120.5853),
    "南通": (31.9802, 120.8943),
    "连云港": (34.5967, 119.2216),
    "淮安": (33.6104, 119.0153),
    "盐城": (33.3476, 120.1633),
    "扬州": (32.3942, 119.4129),
    "镇江": (32.1877, 119.4250),
    "泰州": (32.4555, 119.9229),
    "宿迁": (33.9630, 118.2752),
    "赣榆 (north)": (35.12, 119.0),
    "启东 (east)": (31.81, 121.90),
    "宜兴 (south)": (30.76, 119.62),
    "丰县 (west)": (34.70, 116.36),
}

FORWARD = {
    ("wgs84", "gcj02"): wgs84_to_gcj02,
    ("gcj02", "bd09"): gcj02_to_bd09,
    ("wgs84", "bd09"): wgs84_to_bd09,
}
INVERSE = {
    ("gcj02", "wgs84"): gcj02_to_wgs84,
    ("bd09", "gcj02"): bd09_to_gcj02,
    ("bd09", "wgs84"): bd09_to_wgs84,
}
ALL_DIRECTIONS = {**FORWARD, **INVERSE}


def assert_close(got: tuple[float, float], want: tuple[float, float], tol: float) -> None:
    assert abs(got[0] - want[0]) <= tol and abs(got[1] - want[1]) <= tol, (got, want)


# --- fixed reference points -----------------------------------------------------------------


def test_nanjing_reference_wgs_to_gcj() -> None:
    assert_close(wgs84_to_gcj02(*NANJING_WGS), NANJING_GCJ, 1e-6)


def test_nanjing_reference_gcj_to_bd() -> None:
    assert_close(gcj02_to_bd09(*NANJING_GCJ), NANJING_BD, 1e-6)


def test_nanjing_reference_wgs_to_bd() -> None:
    assert_close(wgs84_to_bd09(*NANJING_WGS), NANJING_BD, 1e-6)


def test_nanjing_reference_inverses() -> None:
    # The published values are rounded to 1e-6 deg (~0.1 m), so the inverses
    # land within that rounding of the original point.
    assert_close(gcj02_to_wgs84(*NANJING_GCJ), NANJING_WGS, 2e-6)
    assert_close(bd09_to_wgs84(*NANJING_BD), NANJING_WGS, 2e-6)
    assert_close(bd09_to_gcj02(*NANJING_BD), NANJING_GCJ, 2e-6)


@pytest.mark.parametrize(
    ("src", "dst", "want"),
    [
        ("wgs84", "gcj02", NANJING_GCJ),
        ("wgs84", "bd09", NANJING_BD),
        ("gcj02", "bd09", NANJING_BD),
        ("wgs84", "wgs84", NANJING_WGS),
    ],
)
def test_convert_dispatches(src: CoordSystem, dst: CoordSystem, want: tuple[float, float]) -> None:
    start = {"wgs84": NANJING_WGS, "gcj02": NANJING_GCJ, "bd09": NANJING_BD}[src]
    assert_close(convert(*start, src, dst), want, 1e-6)


@pytest.mark.parametrize(
    "point",
    [
        (51.5007, -0.1246),  # London
        (35.6586, 139.7454),  # Tokyo: east of the box
        (-33.8568, 151.2153),  # Sydney
        (0.0, 0.0),
        (90.0, 180.0),
        (-90.0, -180.0),
    ],
)
def test_outside_china_is_unchanged_in_every_direction(point: tuple[float, float]) -> None:
    assert not in_china(*point)
    for fn in ALL_DIRECTIONS.values():
        assert fn(*point) == point
    for src in COORD_SYSTEMS:
        for dst in COORD_SYSTEMS:
            assert convert(*point, src, dst) == point


def test_in_china_box_edges() -> None:
    assert in_china(coords.CHINA_MIN_LAT, coords.CHINA_MIN_LNG)
    assert in_china(coords.CHINA_MAX_LAT, coords.CHINA_MAX_LNG)
    assert not in_china(coords.CHINA_MIN_LAT - 1e-9, 100.0)
    assert not in_china(30.0, coords.CHINA_MAX_LNG + 1e-9)
    assert in_china(39.9075, 116.3972)  # Beijing
    assert in_china(22.2793, 114.1628)  # Hong Kong lies in the box; the formula applies there


def test_results_are_floats_for_int_input() -> None:
    lat, lng = wgs84_to_gcj02(32, 118)
    assert isinstance(lat, float) and isinstance(lng, float)
    assert validate_point(32, 118) == (32.0, 118.0)


def test_distance_m() -> None:
    assert distance_m(*NANJING_WGS, *NANJING_WGS) == 0.0
    # One degree of latitude on the mean sphere.
    assert distance_m(0.0, 0.0, 1.0, 0.0) == pytest.approx(6371008.8 * math.pi / 180, rel=1e-12)
    # Antipodes: half the circumference, no domain error from rounding.
    assert distance_m(0.0, 0.0, 0.0, 180.0) == pytest.approx(6371008.8 * math.pi, rel=1e-12)
    # Nanjing's GCJ-02 offset is "a few hundred metres".
    assert 500 < distance_m(*NANJING_WGS, *NANJING_GCJ) < 560


# --- round trips and offsets over China -----------------------------------------------------


@settings(max_examples=1000)
@given(china_lat, china_lng)
def test_wgs_gcj_wgs_round_trip(lat: float, lng: float) -> None:
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lat, lng))
    assert distance_m(lat, lng, *back) < 0.5
    # The iteration actually does far better than required: ~1e-9 deg.
    assert distance_m(lat, lng, *back) < 0.001


@settings(max_examples=1000)
@given(china_lat, china_lng)
def test_gcj_wgs_gcj_round_trip(lat: float, lng: float) -> None:
    back = wgs84_to_gcj02(*gcj02_to_wgs84(lat, lng))
    assert distance_m(lat, lng, *back) < 0.001


@settings(max_examples=1000)
@given(china_lat, china_lng)
def test_gcj_bd_gcj_round_trip(lat: float, lng: float) -> None:
    back = bd09_to_gcj02(*gcj02_to_bd09(lat, lng))
    assert distance_m(lat, lng, *back) < 0.3
    assert distance_m(lat, lng, *back) < 0.001


@settings(max_examples=1000)
@given(china_lat, china_lng)
def test_bd_gcj_bd_round_trip(lat: float, lng: float) -> None:
    back = gcj02_to_bd09(*bd09_to_gcj02(lat, lng))
    assert distance_m(lat, lng, *back) < 0.001


@settings(max_examples=1000)
@given(china_lat, china_lng)
def test_wgs_bd_wgs_round_trip(lat: float, lng: float) -> None:
    back = bd09_to_wgs84(*wgs84_to_bd09(lat, lng))
    assert distance_m(lat, lng, *back) < 0.5


@settings(max_examples=300)
@given(china_lat, china_lng, st.sampled_from(COORD_SYSTEMS), st.sampled_from(COORD_SYSTEMS))
def test_convert_round_trip_all_six_directions(
    lat: float, lng: float, src: CoordSystem, dst: CoordSystem
) -> None:
    there = convert(lat, lng, src, dst)
    back = convert(*there, dst, src)
    assert distance_m(lat, lng, *back) < 0.5
    # And convert agrees with the named function for that direction.
    if src != dst:
        assert there == ALL_DIRECTIONS[(src, dst)](lat, lng)
    else:
        assert there == (lat, lng)


@pytest.mark.parametrize("name", list(JIANGSU_POINTS))
def test_jiangsu_cities_offset_magnitude(name: str) -> None:
    lat, lng = JIANGSU_POINTS[name]
    assert 415 <= distance_m(lat, lng, *wgs84_to_gcj02(lat, lng)) <= 600


@settings(max_examples=1000)
@given(jiangsu_lat, jiangsu_lng)
def test_jiangsu_offset_magnitude(lat: float, lng: float) -> None:
    shift = distance_m(lat, lng, *wgs84_to_gcj02(lat, lng))
    assert 415 <= shift <= 600


@settings(max_examples=500)
@given(china_lat, china_lng)
def test_offsets_are_hundreds_of_metres_everywhere_in_china(lat: float, lng: float) -> None:
    # A plausibility bound: a conversion that moves a point by more than ~1.5 km
    # or not at all is a bug (wrong argument order, degrees vs radians, ...).
    assert 1 < distance_m(lat, lng, *wgs84_to_gcj02(lat, lng)) < 1500
    assert 1 < distance_m(lat, lng, *gcj02_to_bd09(lat, lng)) < 1500


# --- an independent implementation ----------------------------------------------------------


@settings(max_examples=1000)
@given(china_lat, china_lng)
def test_forward_matches_prcoords(lat: float, lng: float) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # prcoords warns when it thinks a point is abroad
        want_gcj = prcoords.wgs_gcj((lat, lng))
        want_bd = prcoords.gcj_bd(want_gcj)
    assert_close(wgs84_to_gcj02(lat, lng), (want_gcj.lat, want_gcj.lon), 1e-7)
    assert_close(gcj02_to_bd09(*want_gcj), (want_bd.lat, want_bd.lon), 1e-7)


@settings(max_examples=1000)
@given(china_lat, china_lng)
def test_forward_matches_eviltransform(lat: float, lng: float) -> None:
    # eviltransform's BD-09 rotation is the same formula: equal to 1e-7 deg.
    assert_close(gcj02_to_bd09(lat, lng), eviltransform.gcj2bd(lat, lng), 1e-7)
    # Its GCJ-02 uses the WGS-84 radius 6378137 m where the definition has
    # Krasovsky's 6378245 m, which scales the offset by 1.7e-5 (< 2e-7 deg, ~2 cm);
    # agreement to 3e-7 deg shows the rest of the formula is the same.
    assert_close(wgs84_to_gcj02(lat, lng), eviltransform.wgs2gcj(lat, lng), 3e-7)


@settings(max_examples=500)
@given(china_lat, china_lng)
def test_inverse_beats_one_step_approximation(lat: float, lng: float) -> None:
    gcj = wgs84_to_gcj02(lat, lng)
    ours = distance_m(lat, lng, *gcj02_to_wgs84(*gcj))
    one_step = eviltransform.gcj2wgs(*gcj)
    assert ours <= distance_m(lat, lng, *one_step) + 1e-6


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "lng", "field", "fragment"),
    [
        (math.nan, 118.0, "lat", "latitude must be a finite number, got nan"),
        (32.0, math.nan, "lng", "longitude must be a finite number, got nan"),
        (math.inf, 118.0, "lat", "latitude must be a finite number, got inf"),
        (32.0, -math.inf, "lng", "longitude must be a finite number, got -inf"),
        (90.000001, 118.0, "lat", "latitude 90.000001 is out of range: expected -90 <= lat <= 90"),
        (-91.0, 118.0, "lat", "latitude -91.0 is out of range"),
        (32.0, 180.5, "lng", "longitude 180.5 is out of range: expected -180 <= lng <= 180"),
        (32.0, -181.0, "lng", "longitude -181.0 is out of range"),
        ("32.0", 118.0, "lat", "latitude must be a number, got str '32.0'"),
        (32.0, None, "lng", "longitude must be a number, got NoneType None"),
        (True, 118.0, "lat", "latitude must be a number, got bool True"),
    ],
)
def test_validate_point_errors(lat: object, lng: object, field: str, fragment: str) -> None:
    with pytest.raises(CoordinateError) as info:
        validate_point(lat, lng)  # type: ignore[arg-type]
    assert fragment in str(info.value)
    assert info.value.field == field
    assert info.value.message_zh
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("fn", list(ALL_DIRECTIONS.values()))
def test_every_conversion_validates(fn: object) -> None:
    assert callable(fn)
    with pytest.raises(CoordinateError):
        fn(math.nan, 118.0)
    with pytest.raises(CoordinateError):
        fn(32.0, 200.0)


def test_validate_point_accepts_extremes() -> None:
    assert validate_point(-90, -180) == (-90.0, -180.0)
    assert validate_point(90.0, 180.0) == (90.0, 180.0)


def test_convert_rejects_unknown_system() -> None:
    with pytest.raises(CoordinateError) as info:
        convert(32.0, 118.0, "wgs84", "mercator")  # type: ignore[arg-type]
    assert info.value.field == "dst"
    assert "unknown coordinate system 'mercator': expected one of wgs84, gcj02, bd09" in str(
        info.value
    )
    with pytest.raises(CoordinateError) as info:
        convert(32.0, 118.0, "GCJ-02", "wgs84")  # type: ignore[arg-type]
    assert info.value.field == "src"


def test_convert_validates_point() -> None:
    with pytest.raises(CoordinateError) as info:
        convert(32.0, math.nan, "gcj02", "gcj02")
    assert info.value.field == "lng"


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("wgs84", "wgs84"),
        ("WGS-84", "wgs84"),
        (" gcj02 ", "gcj02"),
        ("GCJ-02", "gcj02"),
        ("gcj_02", "gcj02"),
        ("BD09", "bd09"),
        ("bd-09", "bd09"),
    ],
)
def test_parse_coord_system(text: str, want: str) -> None:
    assert parse_coord_system(text) == want


@pytest.mark.parametrize("text", ["", "wgs", "epsg:4326", "bd09ll", "gcj"])
def test_parse_coord_system_rejects(text: str) -> None:
    with pytest.raises(CoordinateError) as info:
        parse_coord_system(text)
    assert info.value.field == "coord"
    assert "expected one of wgs84, gcj02, bd09" in str(info.value)


@pytest.mark.parametrize("coord", COORD_SYSTEMS)
@settings(max_examples=300, deadline=None)
@given(
    lat=st.one_of(st.floats(18, 54), st.floats(-90, 90)),
    lng=st.one_of(st.floats(73, 135), st.floats(-180, 180)),
)
def test_positions_in_gives_what_position_in_gives(
    coord: CoordSystem, lat: float, lng: float
) -> None:
    """The page-at-a-time conversion of stored positions agrees with the checked one,
    inside China (offset) and outside (none)."""
    assert coords.positions_in(coord)(lat, lng) == coords.position_in(lat, lng, coord)


def test_positions_in_refuses_an_unknown_system() -> None:
    with pytest.raises(CoordinateError, match="unknown coordinate system 'utm'"):
        coords.positions_in("utm")  # type: ignore[arg-type]
