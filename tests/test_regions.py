"""Tests for registry.regions: GB/T 2260 codes from loc.dat and Jiangsu place data."""

from __future__ import annotations

import dataclasses

import pytest

from registry import regions
from registry.regions import Place, Region

JIANGSU_PREFECTURES = {
    "320100": "南京市",
    "320200": "无锡市",
    "320300": "徐州市",
    "320400": "常州市",
    "320500": "苏州市",
    "320600": "南通市",
    "320700": "连云港市",
    "320800": "淮安市",
    "320900": "盐城市",
    "321000": "扬州市",
    "321100": "镇江市",
    "321200": "泰州市",
    "321300": "宿迁市",
}

# Rough outline of Jiangsu (WGS-84) with a margin: every box must lie inside.
JIANGSU_BOX = (30.6, 116.2, 35.3, 122.1)


def _inside(lat: float, lng: float, box: tuple[float, float, float, float]) -> bool:
    return box[0] <= lat <= box[2] and box[1] <= lng <= box[3]


def _box_within(
    inner: tuple[float, float, float, float], outer: tuple[float, float, float, float]
) -> bool:
    return (
        inner[0] >= outer[0]
        and inner[1] >= outer[1]
        and inner[2] <= outer[2]
        and inner[3] <= outer[3]
    )


def _current_jiangsu_counties() -> dict[str, Region]:
    return {
        r.code: r
        for r in regions.all_regions()
        if r.code.startswith("32") and regions.is_current_county(r.code)
    }


def _places() -> dict[str, Place]:
    return {p.code: p for p in regions.jiangsu_places()}


# --------------------------------------------------------------------------
# codes and names


@pytest.mark.parametrize(
    ("code", "name", "current"),
    [
        ("320102", "玄武区", True),
        ("320613", "崇川区", True),
        ("320614", "海门区", True),
        ("320685", "海安市", True),
        ("320812", "清江浦区", True),
        ("320813", "洪泽区", True),
        ("320213", "梁溪区", True),
        ("320214", "新吴区", True),
        ("320413", "金坛区", True),
        ("320904", "大丰区", True),
        ("320103", "白下区", False),
        ("320107", "下关区", False),
        ("320602", "崇川区", False),  # old 崇川区 code, replaced by 320613 in 2020
        ("320684", "海门市", False),
    ],
)
def test_known_county_codes(code: str, name: str, current: bool) -> None:
    region = regions.get(code)
    assert region is not None
    assert region.name == name
    assert region.level == "county"
    assert region.parent_code == code[:4] + "00"
    assert region.is_current is current
    assert regions.is_current_county(code) is current


def test_retired_code_years() -> None:
    baixia = regions.get("320103")
    assert baixia is not None
    assert (baixia.valid_from, baixia.valid_to) == (1983, 2013)
    chongchuan = regions.get("320613")
    assert chongchuan is not None
    assert (chongchuan.valid_from, chongchuan.valid_to) == (2020, None)


def test_renamed_code_keeps_latest_name() -> None:
    binhu = regions.get("320211")  # 郊区 until 1999, 滨湖区 since 2000
    assert binhu is not None
    assert binhu.name == "滨湖区"
    assert binhu.valid_from == 2000
    assert binhu.is_current


def test_province_and_prefecture_levels() -> None:
    province = regions.get("320000")
    assert province is not None
    assert (province.name, province.level, province.parent_code) == ("江苏省", "province", None)
    nanjing = regions.get("320100")
    assert nanjing is not None
    assert (nanjing.name, nanjing.level, nanjing.parent_code) == ("南京市", "prefecture", "320000")


@pytest.mark.parametrize(("code", "name"), sorted(JIANGSU_PREFECTURES.items()))
def test_jiangsu_prefecture_names(code: str, name: str) -> None:
    region = regions.get(code)
    assert region is not None
    assert region.name == name
    assert region.level == "prefecture"
    assert region.is_current


@pytest.mark.parametrize(
    "code",
    ["320100", "320000", "320101", "32010X", "3201", "", "999999", "320199", "3201021"],
)
def test_not_a_current_county(code: str) -> None:
    assert regions.is_current_county(code) is False


@pytest.mark.parametrize("code", ["32010X", "3201", "", "abcdef", "1234567"])
def test_get_rejects_malformed_codes(code: str) -> None:
    assert regions.get(code) is None


def test_region_is_frozen() -> None:
    region = regions.get("320102")
    assert region is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        region.name = "x"  # type: ignore[misc]


def test_province_name() -> None:
    assert regions.province_name("32") == "江苏省"
    assert regions.province_name("11") == "北京市"
    assert regions.province_name("320102") == "江苏省"
    assert regions.province_name("99") is None
    assert regions.province_name("") is None


def test_jiangsu_has_95_current_counties() -> None:
    counties = _current_jiangsu_counties()
    assert len(counties) == 95
    assert {c.parent_code for c in counties.values()} == set(JIANGSU_PREFECTURES)


def test_children() -> None:
    assert [r.code for r in regions.children("320000")] == sorted(JIANGSU_PREFECTURES)
    nanjing = {r.name for r in regions.children("320100")}
    assert nanjing == {
        "玄武区", "秦淮区", "建邺区", "鼓楼区", "浦口区", "栖霞区",
        "雨花台区", "江宁区", "六合区", "溧水区", "高淳区",
    }  # fmt: skip
    with_retired = {r.name for r in regions.children("320100", current_only=False)}
    assert {"白下区", "下关区", "江宁县"} <= with_retired
    assert "市辖区" not in with_retired
    assert regions.children("999999") == []


def test_children_look_through_municipal_placeholders() -> None:
    beijing = {r.name for r in regions.children("110000")}
    assert "朝阳区" in beijing
    assert "市辖区" not in beijing


def test_all_regions_excludes_placeholders_and_retired() -> None:
    everything = regions.all_regions()
    assert all(r.is_current and not r.is_placeholder for r in everything)
    codes = {r.code for r in everything}
    assert {"320000", "320100", "320102"} <= codes
    assert "320103" not in codes
    assert "320103" in {r.code for r in regions.all_regions(current_only=False)}


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("320102", "江苏省南京市玄武区"),
        ("320100", "江苏省南京市"),
        ("320000", "江苏省"),
        ("320281", "江苏省无锡市江阴市"),
        ("320803", "江苏省淮安市淮安区"),
        ("320103", "江苏省南京市白下区"),
        ("110105", "北京市朝阳区"),  # 110100 市辖区 skipped
    ],
)
def test_full_name(code: str, expected: str) -> None:
    assert regions.full_name(code) == expected


def test_full_name_unknown_code() -> None:
    with pytest.raises(KeyError):
        regions.full_name("320199")


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("玄武区", ["320102"]),
        ("玄武", ["320102"]),
        ("南京市", ["320100"]),
        ("南京", ["320100"]),
        ("江阴市", ["320281"]),
        ("江阴", ["320281"]),
        (" 江阴 ", ["320281"]),
        ("南京玄武", ["320102"]),
        ("南京市玄武区", ["320102"]),
        ("江苏省南京市玄武区", ["320102"]),
        ("雨花台", ["320114"]),
        ("鼓楼区", ["320106", "320302"]),  # Nanjing and Xuzhou
        ("徐州鼓楼", ["320302"]),
        ("淮安", ["320800", "320803"]),  # prefecture first
        ("海门", ["320614"]),  # 海门市 320684 is retired
        ("沛县", ["320322"]),
        ("江苏", ["320000"]),
        ("白下区", []),  # retired
        ("沛", []),  # one-character stems are too ambiguous
        ("朝阳区", []),  # not in Jiangsu
        ("不存在", []),
    ],
)
def test_find_by_name(text: str, codes: list[str]) -> None:
    assert [r.code for r in regions.find_by_name(text)] == codes


def test_find_by_name_other_provinces() -> None:
    assert [r.code for r in regions.find_by_name("北京朝阳", province=None)] == ["110105"]
    assert [r.code for r in regions.find_by_name("朝阳区", province="11")] == ["110105"]
    assert [r.code for r in regions.find_by_name("延边", province=None)] == ["222400"]
    assert [r.code for r in regions.find_by_name("内蒙古", province=None)] == ["150000"]


def test_every_current_jiangsu_county_found_by_its_names() -> None:
    for code, region in _current_jiangsu_counties().items():
        assert code in {r.code for r in regions.find_by_name(region.name)}
        assert code in {r.code for r in regions.find_by_name(regions.full_name(code))}
        assert regions.full_name(code).startswith("江苏省")


# --------------------------------------------------------------------------
# places CSV


def test_places_cover_exactly_current_counties_and_prefectures() -> None:
    places = _places()
    counties = _current_jiangsu_counties()
    assert len(places) == len(regions.jiangsu_places()) == 108
    assert {c for c in places if c not in JIANGSU_PREFECTURES} == set(counties)
    assert {c for c in places if c in JIANGSU_PREFECTURES} == set(JIANGSU_PREFECTURES)


def test_place_names_match_loc_dat() -> None:
    for code, p in _places().items():
        region = regions.get(code)
        assert region is not None, code
        assert p.name == region.name, code


def test_place_values_are_sane() -> None:
    for code, p in _places().items():
        assert p.min_lat < p.lat < p.max_lat, code
        assert p.min_lng < p.lng < p.max_lng, code
        assert p.contains(p.lat, p.lng), code
        assert _box_within(p.bbox, JIANGSU_BOX), code
        assert 1 <= p.radius_km <= 10, code
        assert p.weight > 0, code
        # generous but not absurd (盐城市, the longest prefecture, spans ~1.9° + margins)
        assert p.max_lat - p.min_lat < 2.2, code
        assert p.max_lng - p.min_lng < 2.5, code


def test_county_within_prefecture() -> None:
    places = _places()
    for code, p in places.items():
        if code in JIANGSU_PREFECTURES:
            continue
        prefecture = places[code[:4] + "00"]
        assert prefecture.contains(p.lat, p.lng), code
        assert _box_within(p.bbox, prefecture.bbox), code


def test_prefecture_weight_is_sum_of_counties() -> None:
    places = _places()
    for pcode in JIANGSU_PREFECTURES:
        total = sum(p.weight for c, p in places.items() if c[:4] == pcode[:4] and c != pcode)
        assert places[pcode].weight == pytest.approx(total), pcode


def test_no_prefecture_box_covers_another() -> None:
    places = _places()
    for a in JIANGSU_PREFECTURES:
        for b in JIANGSU_PREFECTURES:
            if a != b:
                assert not _box_within(places[b].bbox, places[a].bbox), (a, b)


@pytest.mark.parametrize(
    ("lat", "lng", "inside", "outside"),
    [
        # Nanjing 新街口, on the 玄武/秦淮 boundary
        (32.0415, 118.7781, ["320100", "320102", "320104"], ["320500", "321100"]),
        # Suzhou old town
        (31.30, 120.62, ["320500", "320508"], ["320100", "320300"]),
        # Wuxi centre
        (31.57, 120.30, ["320200", "320213"], ["320100"]),
        # Xuzhou centre
        (34.26, 117.18, ["320300"], ["320100", "320500", "320800"]),
        # Lianyungang 新浦
        (34.60, 119.22, ["320700", "320706"], ["320100", "320500"]),
        # Shanghai People's Square: not Jiangsu
        (31.23, 121.47, [], ["320500", "320583", "320585"]),
    ],
)
def test_reference_points(lat: float, lng: float, inside: list[str], outside: list[str]) -> None:
    for code in inside:
        box = regions.bounds(code)
        assert box is not None and _inside(lat, lng, box), code
    for code in outside:
        box = regions.bounds(code)
        assert box is not None and not _inside(lat, lng, box), code


def test_bounds_fallbacks() -> None:
    nanjing = regions.bounds("320100")
    assert nanjing is not None
    assert regions.bounds("320103") == nanjing  # retired 白下区 → prefecture box
    assert regions.bounds("320101") == nanjing  # 市辖区 placeholder
    assert regions.bounds("320102") != nanjing
    assert regions.bounds("320000") is None
    assert regions.bounds("330102") is None  # Zhejiang: no data
    assert regions.bounds("322100") is None  # retired 徐州地区
    assert regions.bounds("32010X") is None


def test_place_lookup() -> None:
    xuanwu = regions.place("320102")
    assert xuanwu is not None
    assert xuanwu.name == "玄武区"
    assert regions.place("320103") is None
    assert regions.place("330102") is None
