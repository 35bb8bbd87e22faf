"""GB/T 2260 administrative region codes (行政区划代码) and Jiangsu place data.

This is the single place that knows region codes, so that the importer, the
API and the bot agree on which codes are real and current.  Codes change when
districts merge (e.g. 白下区 320103 disappeared in 2013), so a fixed list in
code would silently go stale; instead the names and validity years come from
python-stdnum's bundled ``stdnum/cn/loc.dat`` (offline, all of China), read
lazily once per process.

Positions are a separate concern: ``registry/data/jiangsu_places.csv`` holds
approximate WGS-84 centres, spreads and generous bounding boxes for Jiangsu's
prefectures and current county-level units, used for demo data generation and
for plausibility checks of outlet coordinates (see ``registry/data/README.md``).
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
import re
from importlib import resources
from typing import Literal

__all__ = [
    "Level",
    "Place",
    "Region",
    "all_regions",
    "bounds",
    "bounds_within",
    "children",
    "find_by_name",
    "full_name",
    "get",
    "is_current_county",
    "jiangsu_places",
    "place",
    "province_name",
]

Level = Literal["province", "prefecture", "county"]

_LEVEL_ORDER: dict[str, int] = {"province": 0, "prefecture": 1, "county": 2}

# Statistical grouping entries rather than places: "市辖区" (a city's districts
# taken together), "县"/"市" (a municipality's counties/cities), "林区" and the
# "省直辖…" groups of directly administered county-level units.  They are real
# codes, but never a name a user means and never part of an address.
_PLACEHOLDER_NAMES = frozenset({"市辖区", "县", "市", "林区"})

_LINE_RE = re.compile(r'^(?P<indent>\s*)(?P<code>\d+) (?P<key>\w+)="(?P<value>[^"]*)"$')
_SEGMENT_RE = re.compile(r"^(?:\[(?P<start>\d{4})?-(?P<end>\d{4})?\])?(?P<name>[^\[\],]+)$")
_CODE_RE = re.compile(r"^\d{6}$")

# The 55 minority nationalities, used to shorten autonomous-area names
# (延边朝鲜族自治州 → 延边) the way people actually say them.
# fmt: off
_ETHNIC = sorted(
    [
        "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满",
        "侗", "瑶", "白", "土家", "哈尼", "哈萨克", "傣", "黎", "傈僳", "佤",
        "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇", "柯尔克孜", "土", "达斡尔",
        "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米", "塔吉克",
        "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔", "独龙",
        "鄂伦春", "赫哲", "门巴", "珞巴", "基诺",
        "各",  # 各族: "all nationalities" (龙胜各族自治县)
    ],
    key=len,
    reverse=True,
)
# fmt: on
_AUTONOMOUS_SUFFIXES = ("自治县", "自治州", "自治旗", "自治区")
_GENERIC_SUFFIXES = (
    "特别行政区",
    "新区",
    "林区",
    "特区",
    "地区",
    "区",
    "市",
    "县",
    "旗",
    "盟",
    "省",
)


@dataclasses.dataclass(frozen=True)
class Region:
    """One GB/T 2260 code with the name it carries most recently.

    ``valid_from``/``valid_to`` are the years of that most recent name (None =
    open-ended, as far as the source knows), so a renamed-but-kept code such as
    320211 (郊区 → 滨湖区 in 2000) is current under its new name, while a
    retired code keeps its last name for reading old records.
    ``parent_code`` is the structural parent, which may be a placeholder such
    as 110100 市辖区; ``full_name`` and ``children`` look through those.
    """

    code: str
    name: str
    level: Level
    parent_code: str | None
    valid_from: int | None
    valid_to: int | None

    @property
    def is_current(self) -> bool:
        """Whether the code is still in use (the source marks no end year)."""
        return self.valid_to is None

    @property
    def is_placeholder(self) -> bool:
        """Statistical grouping such as 市辖区, not a place people name."""
        return self.name in _PLACEHOLDER_NAMES or "直辖" in self.name


@dataclasses.dataclass(frozen=True)
class Place:
    """Approximate geography of a Jiangsu prefecture or county-level unit (WGS-84).

    ``lat``/``lng`` is where outlets cluster (seat / old town), ``radius_km`` the
    typical spread around it; the bounding box deliberately errs ~5 km large so
    that a plausibility check rejects only clearly misplaced outlets.
    ``weight`` is a relative share of bank outlets for demo data generation.
    """

    code: str
    name: str
    lat: float
    lng: float
    radius_km: float
    min_lat: float
    min_lng: float
    max_lat: float
    max_lng: float
    weight: float

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """(min_lat, min_lng, max_lat, max_lng), the shape ``bounds`` returns."""
        return (self.min_lat, self.min_lng, self.max_lat, self.max_lng)

    def contains(self, lat: float, lng: float) -> bool:
        """Inclusive, so that points on a rounded edge are not rejected."""
        return self.min_lat <= lat <= self.max_lat and self.min_lng <= lng <= self.max_lng


# --------------------------------------------------------------------------
# loading


def _parse_value(value: str) -> tuple[str, int | None, int | None]:
    """Last (= most recent) of the comma-separated "[from-to]name" segments."""
    segments = value.split(",")
    match = _SEGMENT_RE.match(segments[-1].strip())
    if match is None:
        raise ValueError(f"unrecognised loc.dat value: {value!r}")
    start, end = match.group("start"), match.group("end")
    return (
        match.group("name").strip(),
        int(start) if start else None,
        int(end) if end else None,
    )


@functools.cache
def _regions() -> dict[str, Region]:
    """All codes from loc.dat; cached because the file is ~7000 lines."""
    text = (resources.files("stdnum") / "cn" / "loc.dat").read_text(encoding="utf-8")
    regions: dict[str, Region] = {}
    province = ""
    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        match = _LINE_RE.match(raw)
        if match is None:
            raise ValueError(f"unrecognised loc.dat line: {raw!r}")
        name, start, end = _parse_value(match.group("value"))
        if not match.group("indent"):
            province = match.group("code")
            code = province + "0000"
            regions[code] = Region(code, name, "province", None, start, end)
            continue
        code = province + match.group("code")
        if code.endswith("0000"):
            # The "0000" line restates the province with its validity years
            # and simplified-character name (the header line may be traditional).
            regions[code] = dataclasses.replace(
                regions[code], name=name, valid_from=start, valid_to=end
            )
        elif code.endswith("00"):
            regions[code] = Region(code, name, "prefecture", province + "0000", start, end)
        else:
            prefecture = code[:4] + "00"
            parent = prefecture if prefecture in regions else province + "0000"
            regions[code] = Region(code, name, "county", parent, start, end)
    return regions


@functools.cache
def _children_index() -> dict[str, tuple[Region, ...]]:
    index: dict[str, list[Region]] = {}
    for region in _regions().values():
        if region.parent_code is not None:
            index.setdefault(region.parent_code, []).append(region)
    return {code: tuple(kids) for code, kids in index.items()}


def _short_name(name: str) -> str | None:
    """Name without its administrative suffix, as people say it (南京市 → 南京).

    Returns None if that would leave fewer than two characters: one-character
    stems (沛县 → 沛) are too ambiguous to match on their own.
    """
    base = name
    for suffix in _AUTONOMOUS_SUFFIXES:
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            stripped = True
            while stripped:
                stripped = False
                for ethnic in _ETHNIC:
                    forms = (ethnic + "族", ethnic) if len(ethnic) >= 2 else (ethnic + "族",)
                    for form in forms:
                        if base.endswith(form) and len(base) - len(form) >= 2:
                            base = base[: -len(form)]
                            stripped = True
                            break
                    if stripped:
                        break
            if base.endswith("族") and len(base) > 2:
                base = base[:-1]
            return base if base != name and len(base) >= 2 else None
    for suffix in _GENERIC_SUFFIXES:
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    return base if base != name and len(base) >= 2 else None


def _name_variants(region: Region) -> set[str]:
    names = {region.name}
    short = _short_name(region.name)
    if short:
        names.add(short)
    return names


def _ancestors(region: Region) -> list[Region]:
    """Non-placeholder ancestors, outermost first."""
    chain: list[Region] = []
    regions = _regions()
    parent = region.parent_code
    while parent is not None:
        ancestor = regions[parent]
        if not ancestor.is_placeholder:
            chain.append(ancestor)
        parent = ancestor.parent_code
    chain.reverse()
    return chain


@functools.cache
def _name_index() -> dict[str, tuple[Region, ...]]:
    """Every way of writing a current place's name → regions.

    Covers the bare name with or without suffix (玄武区, 玄武) and the same
    preceded by the optional, possibly shortened, prefecture and province
    (南京玄武, 南京市玄武区, 江苏省南京市玄武区), which is how users type them.
    """
    index: dict[str, list[Region]] = {}
    for region in _regions().values():
        if not region.is_current or region.is_placeholder:
            continue
        prefixes = {""}
        for ancestor in _ancestors(region):
            prefixes |= {p + v for p in prefixes for v in _name_variants(ancestor)}
        for prefix in prefixes:
            for variant in _name_variants(region):
                index.setdefault(prefix + variant, []).append(region)
    return {
        key: tuple(sorted(set(found), key=lambda r: (_LEVEL_ORDER[r.level], r.code)))
        for key, found in index.items()
    }


_PLACE_FIELDS = [f.name for f in dataclasses.fields(Place)]
# The CSV also has "level", for human readers; the code implies it.
_PLACE_COLUMNS = [*_PLACE_FIELDS[:2], "level", *_PLACE_FIELDS[2:]]


@functools.cache
def _places() -> dict[str, Place]:
    text = (resources.files("registry") / "data" / "jiangsu_places.csv").read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    if list(reader.fieldnames or ()) != _PLACE_COLUMNS:
        raise ValueError(f"jiangsu_places.csv: unexpected header {reader.fieldnames}")
    places: dict[str, Place] = {}
    for row in reader:
        places[row["code"]] = Place(
            code=row["code"],
            name=row["name"],
            lat=float(row["lat"]),
            lng=float(row["lng"]),
            radius_km=float(row["radius_km"]),
            min_lat=float(row["min_lat"]),
            min_lng=float(row["min_lng"]),
            max_lat=float(row["max_lat"]),
            max_lng=float(row["max_lng"]),
            weight=float(row["weight"]),
        )
    return places


# --------------------------------------------------------------------------
# public API


def get(code: str) -> Region | None:
    """Look up a 6-digit code; None rather than an error, since codes arrive
    from untrusted registry rows and user input."""
    code = code.strip()
    if not _CODE_RE.match(code):
        return None
    return _regions().get(code)


def is_current_county(code: str) -> bool:
    """Whether an outlet may carry this code today: a county-level unit that
    still exists and is an actual place (not 市辖区 or a prefecture)."""
    region = get(code)
    if region is None or region.level != "county" or region.is_placeholder:
        return False
    return region.is_current and all(a.is_current for a in _ancestors(region))


def province_name(code2: str) -> str | None:
    """Province name for the first two digits, so callers need not pad codes."""
    code2 = code2.strip()
    if len(code2) < 2 or not code2[:2].isdigit():
        return None
    region = _regions().get(code2[:2] + "0000")
    return region.name if region else None


def children(code: str, current_only: bool = True) -> list[Region]:
    """Direct subdivisions as users see them: placeholder groups such as
    北京市 → 市辖区 are looked through, so a municipality lists its districts."""
    region = get(code)
    if region is None:
        return []
    index = _children_index()
    result: list[Region] = []
    pending = list(index.get(region.code, ()))
    while pending:
        child = pending.pop(0)
        if child.is_placeholder:
            pending.extend(index.get(child.code, ()))
        elif child.is_current or not current_only:
            result.append(child)
    return sorted(result, key=lambda r: r.code)


def all_regions(current_only: bool = True) -> list[Region]:
    """Every place (placeholders excluded) in code order, e.g. for pick lists."""
    return sorted(
        (
            r
            for r in _regions().values()
            if not r.is_placeholder and (r.is_current or not current_only)
        ),
        key=lambda r: r.code,
    )


def full_name(code: str) -> str:
    """Address-style name (江苏省南京市玄武区), as printed on outlet listings.

    Raises KeyError for an unknown code: there is no sensible name to show.
    """
    region = get(code)
    if region is None:
        raise KeyError(code)
    return "".join(r.name for r in [*_ancestors(region), region] if not r.is_placeholder)


def find_by_name(text: str, province: str | None = "32") -> list[Region]:
    """Current regions a user most likely means by ``text`` (exact match on any
    usual spelling, see ``_name_index``); several results when a name is
    ambiguous (鼓楼区 exists in both Nanjing and Xuzhou).  Limited to one
    province by default because the product covers Jiangsu; pass None for all
    of China."""
    key = re.sub(r"\s+", "", text)
    found = _name_index().get(key, ())
    if province is not None:
        found = tuple(r for r in found if r.code.startswith(province[:2]))
    return list(found)


def place(code: str) -> Place | None:
    """Geography for a Jiangsu prefecture (320100) or current county code."""
    return _places().get(code.strip())


def jiangsu_places() -> list[Place]:
    """All Jiangsu places, prefecture rows first within each prefecture."""
    return list(_places().values())


def bounds(code: str) -> tuple[float, float, float, float] | None:
    """Generous (min_lat, min_lng, max_lat, max_lng) an outlet with this code
    should lie in.

    A county code without its own row (e.g. retired 320103 白下区, or 320101
    市辖区) falls back to its prefecture's box, which is still a useful check;
    provinces and codes outside Jiangsu give None because no box is known.
    """
    region = get(code)
    if region is None or region.level == "province":
        return None
    places = _places()
    found = places.get(region.code)
    if found is None and region.level == "county":
        found = places.get(region.code[:4] + "00")
    return found.bbox if found else None


@functools.lru_cache(maxsize=512)
def bounds_within(prefix: str) -> tuple[float, float, float, float] | None:
    """The box around every outlet whose region code starts with `prefix` ("3205": all of
    Suzhou's counties), from the boxes the profile import holds positions to; None when
    some region under it has no box, or for a province."""
    codes = [r.code for r in all_regions() if r.code.startswith(prefix) and r.level != "province"]
    boxes = [bounds(code) for code in codes]
    if not codes or any(box is None for box in boxes):
        return None
    known = [box for box in boxes if box is not None]
    return (
        min(b[0] for b in known),
        min(b[1] for b in known),
        max(b[2] for b in known),
        max(b[3] for b in known),
    )
