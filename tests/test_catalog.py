"""Tests for the demo catalogue (backend/demo/catalog.py)."""

from __future__ import annotations

import re
import string
from collections import Counter

import pytest

from backend.demo import catalog
from backend.demo.catalog import (
    CATEGORIES,
    CITY_NAMES,
    JIANGSU_PREFECTURES,
    LEGAL_ENTITIES,
    PATTERN_FIELDS,
    PLACES,
    ROADS,
    LegalEntity,
    by_key,
    entities_in,
    make_fi_code,
    placeholder_check_digit,
)
from backend.demo.county_places import county_places
from registry import regions

FI_CODE_RE = re.compile(r"^[A-Z][0-9]{13}$")

# First two digits of GB/T 2260: provinces, autonomous regions, municipalities, HK, Macao, Taiwan.
PROVINCE_CODES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82",
})  # fmt: skip

# Real codes quoted in shared/STANDARDS.md section 1.
REAL_FI_CODES = {
    "icbc": "C1010211000012",
    "abc": "C1010311000014",
    "boc": "C1010411000013",
    "ccb": "C1010511003703",
    "bocom": "C1030131001288",
    "psbc": "C1040311005293",
    "cmb": "C1030844001362",
    "njcb": "C1086932000011",
    "jsb": "C1086832000010",
    "szb": "C1115332000018",
    "jsrcu": "C3240632000017",
}

# Real licence institution numbers quoted in shared/STANDARDS.md section 2.
REAL_LICENCES = {
    "icbc": "0001",
    "abc": "0002",
    "boc": "0003",
    "ccb": "0004",
    "bocom": "0005",
    "psbc": "0018",
    "njcb": "0140",
    "jsb": "0243",
    "szb": "0236",
}

REAL_CNAPS = {
    "icbc": "102", "abc": "103", "boc": "104", "ccb": "105", "bocom": "301", "citic": "302",
    "ceb": "303", "hxb": "304", "cmbc": "305", "cgb": "306", "pab": "307", "cmb": "308",
    "cib": "309", "spdb": "310", "psbc": "403", "jsrcu": "402",
}  # fmt: skip

SAMPLE = {
    "brand": "品牌",
    "city": "南京",
    "district": "鼓楼",
    "place": "新街口",
    "legal": "某某公司",
}

IDS = [e.key for e in LEGAL_ENTITIES]


def _patterns(e: LegalEntity) -> list[str]:
    out = [e.branch_pattern, e.city_branch_pattern]
    if e.province_branch_pattern is not None:
        out.append(e.province_branch_pattern)
    return out


# --- entity list ------------------------------------------------------------------------------


def test_at_least_45_entities_and_unique_keys() -> None:
    assert len(LEGAL_ENTITIES) >= 45
    keys = [e.key for e in LEGAL_ENTITIES]
    assert len(keys) == len(set(keys))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", k) for k in keys)


def test_names_unique() -> None:
    names = [e.name for e in LEGAL_ENTITIES]
    assert len(names) == len(set(names))


def test_by_key() -> None:
    assert by_key("icbc").name == "中国工商银行股份有限公司"
    assert by_key("njcb").brand == "南京银行"
    with pytest.raises(KeyError):
        by_key("no-such-bank")


def test_all_categories_present() -> None:
    assert {e.category for e in LEGAL_ENTITIES} == set(CATEGORIES)


@pytest.mark.parametrize("entity", LEGAL_ENTITIES, ids=IDS)
def test_entity_fields(entity: LegalEntity) -> None:
    assert entity.category in CATEGORIES
    assert entity.name and entity.brand
    assert entity.short_names, "every entity needs short names for matching"
    assert len(set(entity.short_names)) == len(entity.short_names)
    assert entity.weight >= 0
    assert entity.uscc is None
    assert entity.name not in entity.former_names


# --- fi_code ----------------------------------------------------------------------------------


def test_fi_codes_format_and_unique() -> None:
    codes = [e.fi_code for e in LEGAL_ENTITIES]
    assert len(codes) == len(set(codes))
    for code in codes:
        assert FI_CODE_RE.fullmatch(code), code
        assert code[6:8] in PROVINCE_CODES, code


def test_entity_numbers_unique() -> None:
    numbers = Counter(e.fi_code[2:6] for e in LEGAL_ENTITIES)
    assert [n for n, c in numbers.items() if c > 1] == []


@pytest.mark.parametrize("entity", LEGAL_ENTITIES, ids=IDS)
def test_fi_code_structure(entity: LegalEntity) -> None:
    code = entity.fi_code
    letter = {"bank": "C", "rural_bank": "C", "insurance": "F", "securities": "E"}
    assert code[0] == letter[entity.category]
    assert code[6:8] == entity.home_region[:2], "positions 7-8 are the head office's province"
    if entity.key not in REAL_FI_CODES:
        # invented codes: "00" + 3-digit sequence, placeholder check digit
        assert code[8:10] == "00"
        assert code[13] == placeholder_check_digit(code[1:13])


def test_real_fi_codes_exact() -> None:
    for key, code in REAL_FI_CODES.items():
        assert by_key(key).fi_code == code


def test_make_fi_code() -> None:
    code = make_fi_code("C", "1", "0302", "11")
    assert FI_CODE_RE.fullmatch(code)
    assert code[:13] == "C103021100001"
    assert make_fi_code("E", "1", "6001", "32", sequence=12)[8:13] == "00012"
    with pytest.raises(ValueError):
        make_fi_code("c", "1", "0302", "11")
    with pytest.raises(ValueError):
        make_fi_code("C", "1", "302", "11")
    with pytest.raises(ValueError):
        make_fi_code("C", "1", "0302", "11", sequence=1000)


def test_placeholder_check_digit_is_luhn() -> None:
    assert placeholder_check_digit("7992739871") == "3"  # the classic Luhn example
    with pytest.raises(ValueError):
        placeholder_check_digit("12a")


# --- licences and CNAPS -----------------------------------------------------------------------


def test_real_licence_numbers() -> None:
    for key, number in REAL_LICENCES.items():
        entity = by_key(key)
        assert (entity.licence_type, entity.licence_number) == ("B", number)


def test_licence_numbers_unique_per_type() -> None:
    pairs = [(e.licence_type, e.licence_number) for e in LEGAL_ENTITIES if e.licence_type]
    assert len(pairs) == len(set(pairs))


@pytest.mark.parametrize("entity", LEGAL_ENTITIES, ids=IDS)
def test_licence_fields(entity: LegalEntity) -> None:
    if entity.category in ("insurance", "securities"):
        assert entity.licence_type is None
        assert entity.licence_number is None
        assert entity.cnaps_class is None
    else:
        assert entity.licence_type is not None and re.fullmatch(r"[A-Z]", entity.licence_type)
        assert entity.licence_number is not None
        assert re.fullmatch(r"[0-9]{4}", entity.licence_number)
        assert entity.cnaps_class is not None and re.fullmatch(r"[0-9]{3}", entity.cnaps_class)
    if entity.category == "rural_bank" and entity.key != "jsrcu":
        assert entity.licence_type == "B"
        assert entity.cnaps_class == "314"


def test_cnaps_classes() -> None:
    for key, cls in REAL_CNAPS.items():
        assert by_key(key).cnaps_class == cls
    for key in ("jsb", "njcb", "szb"):
        assert by_key(key).cnaps_class == "313"


# --- regions and scope ------------------------------------------------------------------------


def _current_county(code: str) -> bool:
    """Whether ``code`` is a GB/T 2260 county code that is still in use (python-stdnum data)."""
    from stdnum import numdb

    info = {k: v for _part, props in numdb.get("cn/loc").info(code) for k, v in props.items()}
    county = info.get("county")
    if county is None:
        return False
    for item in county.split(","):
        if not item.startswith("["):
            return True
        years = item[1:].split("]")[0]
        if years.endswith("-"):  # no end year: current
            return True
    return False


@pytest.mark.parametrize("entity", LEGAL_ENTITIES, ids=IDS)
def test_home_region_is_current_county(entity: LegalEntity) -> None:
    assert re.fullmatch(r"[0-9]{6}", entity.home_region)
    assert not entity.home_region.endswith("00")
    assert _current_county(entity.home_region), entity.home_region


@pytest.mark.parametrize("entity", LEGAL_ENTITIES, ids=IDS)
def test_scope_in_jiangsu(entity: LegalEntity) -> None:
    assert len(set(entity.scope)) == len(entity.scope)
    for code in entity.scope:
        assert code in JIANGSU_PREFECTURES
    assert set(entity.prefectures) <= set(JIANGSU_PREFECTURES)
    if entity.category == "rural_bank":
        assert entity.scope == (entity.home_region[:4],)


def test_entities_in_every_prefecture() -> None:
    for prefecture in JIANGSU_PREFECTURES:
        found = entities_in(prefecture)
        assert by_key("icbc") in found
        assert any(e.category == "rural_bank" for e in found), prefecture
    assert by_key("jsrcu") not in entities_in("3201")  # head office only
    assert by_key("cjccb") not in entities_in("3201")


def test_local_entities_have_no_province_branch() -> None:
    for e in LEGAL_ENTITIES:
        if e.is_local:
            assert e.province_branch_pattern is None, e.key
    for key in ("icbc", "abc", "boc", "ccb", "bocom", "psbc"):
        assert by_key(key).province_branch_pattern is not None


# --- patterns ---------------------------------------------------------------------------------


@pytest.mark.parametrize("entity", LEGAL_ENTITIES, ids=IDS)
def test_patterns_format(entity: LegalEntity) -> None:
    for pattern in _patterns(entity):
        fields = {f for _t, f, _s, _c in string.Formatter().parse(pattern) if f is not None}
        assert fields <= set(PATTERN_FIELDS), pattern
        formatted = pattern.format(**SAMPLE)
        assert "{" not in formatted and "}" not in formatted
    name = entity.outlet_name(city="南京", district="鼓楼", place="新街口")
    assert name.startswith(entity.name)
    assert entity.city_branch_name(city="苏州").startswith(entity.name)


def test_example_names() -> None:
    assert by_key("icbc").outlet_name(city="南京", place="新街口") == (
        "中国工商银行股份有限公司南京新街口支行"
    )
    assert by_key("boc").outlet_name(city="南京", place="中山北路") == (
        "中国银行股份有限公司南京中山北路支行"
    )
    assert by_key("njcb").outlet_name(city="南京", place="河西") == "南京银行股份有限公司河西支行"
    assert by_key("jnrcb").outlet_name(city="常州", place="湖塘") == (
        "江苏江南农村商业银行股份有限公司湖塘支行"
    )
    assert by_key("picc_pc").outlet_name(city="南京", district="鼓楼") == (
        "中国人民财产保险股份有限公司南京市鼓楼支公司"
    )
    assert by_key("htsc").outlet_name(city="南京", place="中山东路") == (
        "华泰证券股份有限公司南京中山东路证券营业部"
    )
    assert by_key("icbc").city_branch_name(city="苏州") == "中国工商银行股份有限公司苏州分行"
    assert by_key("icbc").province_branch_name() == "中国工商银行股份有限公司江苏省分行"
    assert by_key("htsc").province_branch_name() is None


# --- places -----------------------------------------------------------------------------------


def test_prefectures_and_city_names() -> None:
    assert tuple(f"32{i:02d}" for i in range(1, 14)) == JIANGSU_PREFECTURES
    assert set(CITY_NAMES) == set(JIANGSU_PREFECTURES)
    assert CITY_NAMES["3201"] == "南京"
    assert CITY_NAMES["3207"] == "连云港"
    assert all(not name.endswith("市") for name in CITY_NAMES.values())


@pytest.mark.parametrize("prefecture", JIANGSU_PREFECTURES)
def test_places_and_roads(prefecture: str) -> None:
    places = PLACES[prefecture]
    roads = ROADS[prefecture]
    # every county of the prefecture contributes (about 5-20 areas and 3-20 roads each)
    counties = [c for c in county_places().values() if c.code[:4] == prefecture]
    assert len(places) >= 5 * len(counties) and len(roads) >= 3 * len(counties)
    assert set(places) == {a for c in counties for a in c.areas}
    assert set(roads) == {r for c in counties for r in c.roads}
    assert len(set(places)) == len(places)
    assert len(set(roads)) == len(roads)
    for name in (*places, *roads):
        assert name and name == name.strip()
        assert re.fullmatch(r"[\u4e00-\u9fff]+", name), name
    for road in roads:
        assert re.search(r"(路|街|道|巷)[东西南北]?$", road), road  # e.g. 苏州大道东


@pytest.mark.parametrize("code", sorted(county_places()))
def test_every_county_has_its_own_places(code: str) -> None:
    """Each county names its outlets after its own areas and puts them on its own roads: no
    name is another county's of the same prefecture (two branches of one bank would share a
    name), and none holds the name of another county of the prefecture (a branch named
    after 鼓楼 would stand in 秦淮) unless that is part of a longer real name (云龙湖 is in
    泉山区)."""
    mine = county_places()[code]
    assert 5 <= len(mine.areas) <= 20 and 2 <= len(mine.roads) <= 25, code
    others = [c for c in county_places().values() if c.code[:4] == code[:4] and c.code != code]
    for other in others:
        assert not (set(mine.areas) | set(mine.roads)) & (set(other.areas) | set(other.roads))
        region = regions.get(other.code)
        assert region is not None
        short = region.name[:-1] if len(region.name) > 2 else region.name
        if short == CITY_NAMES[code[:4]]:
            short = region.name  # 淮安区 of 淮安市: the city's name alone is no district
        for name in (*mine.areas, *mine.roads):
            if short in name:
                assert name in EXEMPT_OTHER_COUNTY, (code, name, other.county)


# Real names of one county that hold another county's name (checked to be where they are).
EXEMPT_OTHER_COUNTY = frozenset({"云龙湖", "虎丘路", "通灌南路"})


def test_places_keys() -> None:
    assert set(PLACES) == set(JIANGSU_PREFECTURES)
    assert set(ROADS) == set(JIANGSU_PREFECTURES)
    assert "新街口" in PLACES["3201"]
    assert "观前街" in PLACES["3205"]


def test_all_exports_exist() -> None:
    for name in catalog.__all__:
        assert hasattr(catalog, name)
