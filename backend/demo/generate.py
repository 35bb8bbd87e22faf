"""A deterministic, realistic Jiangsu data set: registry records and outlet profiles.

The files are the product's own import formats (docs/registry-format.md), so
demo data enters the database the way real data does. Same `--seed`, same
bytes: everything random comes from one `random.Random(seed)` consumed in a
fixed order, and nothing depends on dict ordering of unseeded sources or on
the clock.

What makes it realistic: real legal entities and their real head-office codes
(backend.demo.catalog), branches that share their legal entity's code prefix
with the branch's province in positions 7-8, the PBoC hierarchy (head office →
provincial branch → city branch → sub-branch → outlet), real county codes with
outlets spread around each county's built-up centre, names and addresses in
the formal style (中国工商银行股份有限公司南京新街口支行), valid USCC check
characters, and a mix of coordinate systems as staff really capture them.

What makes it coherent (a reader, the bot's place matching and every evaluation
built on the data believe what they read): an outlet's name, region code,
address and position agree. Each legal entity's outlets are split over the
counties of its scope in proportion to their weight; an outlet is named after an
area, town or road of its own county (backend.demo.county_places), its address
is on one of that county's roads (on the very road its name gives, when it is
named after one), its position lies inside the county, and an outlet under a
sub-branch (分理处, 营销服务部) stands within a few kilometres of it.

Self-service points (ATMs and self-service banks, `kind` in the registry file): every
active bank branch has two to three machines (ATM_COUNTS). Most stand in it: the same
address and the very same captured position (so the map shows one pin with its parts),
open all hours when the branch has a 24-hour self-service area, else its hours. About
one in four is off-site (离行式), in a shopping centre or a station of the same county
(OFF_SITE_PLACES, named after one of the county's areas), on one of the county's roads,
within a few kilometres of its branch, with the place's hours. They are records of level
`outlet` under their branch, with their own fi_codes after the entity's branches, drawn
from a random stream of their own: the branches' data are the same with or without them
(`atms=False`), and when an entity's five sequence digits run out, it gets no more.

What is invented (and said so): fi_codes other than the real head offices
have an unknown check digit, so a placeholder digit is used; licence and
USCC bodies are random. At 1,000,000 outlets an entity can have at most
99,999 codes per province (five sequence digits), so shares flatten a little.
"""

from __future__ import annotations

import csv
import functools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from tqdm import tqdm

from backend.demo.catalog import CITY_NAMES, LEGAL_ENTITIES, LegalEntity
from backend.demo.county_places import CountyPlaces, county_places
from core.coords import convert
from registry import regions
from registry.codes import USCC_ALPHABET, make_uscc
from registry.record_checks import DATA_COLUMNS
from registry.regions import Place, full_name, jiangsu_places

INSTITUTION_COLUMNS = DATA_COLUMNS  # the registry import format (docs/registry-format.md)
PROFILE_COLUMNS = (
    "fi_code",
    "latitude",
    "longitude",
    "coord_system",
    "accuracy_m",
    "business_types",
    "opening_hours",
    "phone",
)

MAX_SEQUENCE = 99_999  # positions 9-13 of an fi_code
PROVINCE = "32"
TODAY = date(2026, 11, 1)  # fixed, so output does not change with the calendar

AREA_CODES = {
    "3201": "025",
    "3202": "0510",
    "3203": "0516",
    "3204": "0519",
    "3205": "0512",
    "3206": "0513",
    "3207": "0518",
    "3208": "0517",
    "3209": "0515",
    "3210": "0514",
    "3211": "0511",
    "3212": "0523",
    "3213": "0527",
}
POSTCODE_PREFIX = {
    "3201": "210",
    "3202": "214",
    "3203": "221",
    "3204": "213",
    "3205": "215",
    "3206": "226",
    "3207": "222",
    "3208": "223",
    "3209": "224",
    "3210": "225",
    "3211": "212",
    "3212": "225",
    "3213": "223",
}
# Share of positions captured in each system: WeChat's gcj02 dominates, some
# phones report wgs84, a few staff copy coordinates from Baidu maps.
COORD_MIX = (("gcj02", 0.7), ("wgs84", 0.2), ("bd09", 0.1))

BANK_TYPES = (  # key, probability at a sub-branch, probability at a smaller outlet
    ("cash", 0.97, 0.92),
    ("personal_account", 0.95, 0.85),
    ("corporate_account", 0.7, 0.2),
    ("foreign_exchange", 0.35, 0.08),
    ("damaged_notes", 0.9, 0.7),
    ("coin_exchange", 0.8, 0.6),
    ("credit_report", 0.3, 0.05),
    ("foreign_card", 0.4, 0.15),
    ("wealth_management", 0.85, 0.5),
    ("loans", 0.6, 0.2),
    ("insurance", 0.4, 0.2),
    ("precious_metals", 0.35, 0.1),
    ("social_security_card", 0.3, 0.15),
    ("self_service_24h", 0.8, 0.6),
    ("wheelchair_access", 0.7, 0.5),
    ("elderly_friendly", 0.8, 0.6),
    ("parking", 0.35, 0.2),
)
INSURANCE_TYPES = (
    ("insurance", 1.0, 1.0),
    ("wheelchair_access", 0.5, 0.3),
    ("elderly_friendly", 0.6, 0.4),
    ("parking", 0.4, 0.2),
)
SECURITIES_TYPES = (
    ("securities", 1.0, 1.0),
    ("wealth_management", 0.9, 0.8),
    ("personal_account", 0.3, 0.3),
    ("elderly_friendly", 0.4, 0.3),
    ("parking", 0.3, 0.2),
)

BANK_HOURS = (
    ("Mo-Fr 09:00-17:00; Sa,Su 09:00-16:00", 0.35),
    ("Mo-Fr 08:30-17:00; Sa 09:00-16:00", 0.2),
    ("Mo-Fr 09:00-17:00", 0.2),
    ("Mo-Fr 08:30-11:30,13:30-17:00; Sa,Su 09:00-12:00", 0.1),
    ("Mo-Su 09:00-17:00", 0.15),
)
OFFICE_HOURS = (("Mo-Fr 08:30-17:30", 0.6), ("Mo-Fr 09:00-17:00; Sa 09:00-12:00", 0.4))
SECURITIES_HOURS = (("Mo-Fr 09:00-15:30", 0.7), ("Mo-Fr 08:45-16:00", 0.3))

CHINESE_ORDINALS = "一二三四五六七八九十"

# Positions: the county boxes of registry/data/jiangsu_places.csv are about 5 km too large
# on every side, so positions are kept this far inside them (or half-way to the centre for a
# small county), where the county really is; and an outlet under a sub-branch stands at most
# this far from it (a normal spread of about a kilometre, cut off).
BOX_MARGIN_KM = 4.5
CHILD_SPREAD_KM = 0.8
CHILD_MAX_KM = 3.0
KM_PER_DEGREE = 111.0


@dataclass
class GenerationResult:
    institutions: int
    profiles: int
    out_dir: Path


@dataclass
class _EntityState:
    """Per legal entity: the next fi_code sequence and licence sequences."""

    entity: LegalEntity
    next_seq: int
    licence_seq: dict[tuple[str, str], int] = field(default_factory=dict)


def placeholder_check_digit(first13: str) -> str:
    """A stand-in for the unknown real check digit (Luhn over positions 2-13).

    Real codes do not follow it for the large banks (STANDARDS.md, section 1),
    which is exactly why the registry never rejects a code for its last digit.
    """
    total = 0
    for i, ch in enumerate(reversed(first13[1:])):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def _weighted(rng: random.Random, options: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _inner_box(county: Place) -> tuple[float, float, float, float]:
    """(min_lat, min_lng, max_lat, max_lng) of where the county surely is: its generous box,
    BOX_MARGIN_KM in from every side, but never past half-way to the centre."""
    lat_margin = BOX_MARGIN_KM / KM_PER_DEGREE
    lng_margin = lat_margin / math.cos(math.radians(county.lat))
    return (
        county.min_lat + min(lat_margin, (county.lat - county.min_lat) / 2),
        county.min_lng + min(lng_margin, (county.lng - county.min_lng) / 2),
        county.max_lat - min(lat_margin, (county.max_lat - county.lat) / 2),
        county.max_lng - min(lng_margin, (county.max_lng - county.lng) / 2),
    )


@functools.cache
def _area_road_pairs(county_code: str) -> tuple[tuple[str, str], ...]:
    """The county's (area, road) pairs for branch names beyond its single names, area
    changing fastest, without those whose join reads as another county of the prefecture
    or one of its places (龙江 + 宁海路 reads 江宁: a 鼓楼区 branch named after 江宁区)."""
    table = county_places()
    others: set[str] = set()
    for code, entry in table.items():
        region = regions.get(code)
        if code[:4] != county_code[:4] or code == county_code or region is None:
            continue
        others |= {region.name, region.name[:-1] if len(region.name) > 2 else region.name}
        others |= set(entry.areas) | set(entry.roads)
    others.discard(CITY_NAMES[county_code[:4]])  # 淮安区 of 淮安市: 淮安 is the city
    places = table[county_code]
    areas = tuple(a for a in places.areas if a not in places.roads) or places.areas
    pairs = tuple(
        (area, road)
        for road in places.roads
        for area in areas
        if not any(w in area + road and w not in area and w not in road for w in others)
    )
    if not pairs:
        raise ValueError(f"{county_code}: no area and road of the county combine into a name")
    return pairs


def _allocate(total: int, weights: list[float], cap: int) -> list[int]:
    """Split `total` by `weights` (largest remainder), no share above `cap`."""
    counts = [0] * len(weights)
    remaining = total
    active = [i for i, w in enumerate(weights) if w > 0]
    while remaining > 0 and active:
        wsum = sum(weights[i] for i in active)
        raw = {i: remaining * weights[i] / wsum for i in active}
        share = {i: min(math.floor(raw[i]), cap - counts[i]) for i in active}
        given = sum(share.values())
        for i, s in share.items():
            counts[i] += s
        remaining -= given
        if remaining > 0:
            # hand out the remainder one by one, largest fraction first
            order = sorted(active, key=lambda i: (raw[i] - math.floor(raw[i]), -i), reverse=True)
            for i in order:
                if remaining == 0:
                    break
                if counts[i] < cap:
                    counts[i] += 1
                    remaining -= 1
        active = [i for i in active if counts[i] < cap]
    if remaining > 0:
        raise ValueError(f"cannot place {total} outlets: every legal entity is at its code limit")
    return counts


ATM_COUNTS = ((2, 0.5), (3, 0.5))  # machines per active bank branch
OFF_SITE_SHARE = 0.25
# (what the place is called after one of the county's areas, its hours, kind of point)
OFF_SITE_PLACES = (
    ("{area}购物中心", "Mo-Su 10:00-22:00"),
    ("{area}商业广场", "Mo-Su 09:30-21:30"),
    ("{county}汽车客运站", "Mo-Su 06:00-22:00"),
    ("{area}地铁站", "Mo-Su 06:00-23:00"),  # in the cities with a metro only
)
METRO_CITIES = frozenset({"3201", "3202", "3203", "3204", "3205", "3206"})
MACHINE_TYPES = (  # key, probability in a branch, probability off-site
    ("cash_in", 0.5, 0.3),
    ("foreign_cash", 0.05, 0.08),
    ("wheelchair_access", 0.5, 0.4),
)


@dataclass
class _Branch:
    """An active bank branch, for the self-service points generated after its entity's rows."""

    code: str
    name: str
    county: Place
    lat: float  # WGS-84
    lng: float
    profile: dict[str, str]  # its profile row (the captured position, business types)
    address: str
    phone: str


class _Generator:
    def __init__(self, outlets: int, seed: int, atms: bool = True) -> None:
        self.rng = random.Random(seed)
        # the machines' own stream: the branches come out the same without them
        self.atm_rng = random.Random(seed * 7919 + 1)
        self.atms = atms
        self.outlets = outlets
        places = jiangsu_places()
        self.prefectures = {p.code[:4]: p for p in places if p.code.endswith("00")}
        self.counties: dict[str, list[Place]] = {}
        for p in places:
            if not p.code.endswith("00"):
                self.counties.setdefault(p.code[:4], []).append(p)
        self.seat = {pref: max(cs, key=lambda c: c.weight) for pref, cs in self.counties.items()}
        self.county_places = county_places()
        self.inner_box = {c.code: _inner_box(c) for cs in self.counties.values() for c in cs}
        self.name_counter: dict[tuple[str, str], int] = {}
        self.profiles: list[dict[str, str]] = []

    # --- codes ---------------------------------------------------------------------------------

    def fi_code(self, state: _EntityState) -> str:
        if state.next_seq > MAX_SEQUENCE:
            raise ValueError(f"{state.entity.key}: fi_code sequence exhausted in province 32")
        first13 = state.entity.fi_code[:6] + PROVINCE + f"{state.next_seq:05d}"
        state.next_seq += 1
        return first13 + placeholder_check_digit(first13)

    def licence(self, state: _EntityState, org_class: str, authority: str, pref4: str) -> str:
        entity = state.entity
        if entity.licence_type is None or entity.licence_number is None:
            return ""
        key = (org_class, pref4)
        seq = state.licence_seq.get(key, 0) + 1
        state.licence_seq[key] = seq
        if seq > 9999:  # four sequence digits: beyond that the demo leaves it empty
            return ""
        return f"{entity.licence_type}{entity.licence_number}{org_class}{authority}{pref4}{seq:04d}"

    def uscc(self, region_code: str) -> str:
        alphabet = USCC_ALPHABET
        body = "".join(self.rng.choice(alphabet) for _ in range(8))
        return make_uscc("91", region_code[:4] + "00", body)

    # --- text ----------------------------------------------------------------------------------

    def phone(self, pref4: str) -> str:
        return f"{AREA_CODES[pref4]}-{self.rng.randint(5, 8)}{self.rng.randint(0, 9_999_999):07d}"

    def postcode(self, pref4: str) -> str:
        return f"{POSTCODE_PREFIX[pref4]}{self.rng.randint(0, 999):03d}"

    def address(
        self, county: Place, road: str | None = None, rng: random.Random | None = None
    ) -> tuple[str, str]:
        """A street address in the county: on `road` when given, else on one of its roads."""
        rng = rng or self.rng
        if road is None:
            road = rng.choice(self.county_places[county.code].roads)
        city = CITY_NAMES[county.code[:4]]
        return f"江苏省{city}市{county.name}{road}{rng.randint(1, 399)}号", road

    def unique_place(self, entity: LegalEntity, county: Place) -> tuple[str, str | None]:
        """A branch-name place of the county, unique per entity and city by construction
        (no name is listed under two counties of a prefecture), and the road the branch
        stands on when the name gives one (None: an area, any road of the county will do).

        The county's areas and roads come first, then area + road (百家湖双龙大道), then
        those again with a lap number.
        """
        places: CountyPlaces = self.county_places[county.code]
        key = (entity.key, county.code)
        n = self.name_counter.get(key, 0)
        self.name_counter[key] = n + 1
        single = places.branch_places
        if n < len(single):
            name = single[n]
            return name, (name if name in places.roads else None)
        n -= len(single)
        pairs = _area_road_pairs(county.code)
        (area, road), lap = pairs[n % len(pairs)], n // len(pairs)
        suffix = "" if lap == 0 else f"第{lap + 1}"
        return f"{area}{road}{suffix}", road

    def established(self, start_year: int) -> date:
        start = date(start_year, 1, 1).toordinal()
        return date.fromordinal(self.rng.randint(start, date(2024, 12, 31).toordinal()))

    # --- records -------------------------------------------------------------------------------

    def row(self, **values: str) -> dict[str, str]:
        return {c: values.get(c, "") for c in INSTITUTION_COLUMNS}

    def position(
        self,
        county: Place,
        near: tuple[float, float] | None,
        rng: random.Random | None = None,
    ) -> tuple[float, float]:
        """A WGS-84 position inside the county: around its built-up centre (a normal spread
        with the county's radius), or within CHILD_MAX_KM of `near` (the parent sub-branch),
        always inside the county's inner box (clamping only brings a point nearer to a
        parent that is inside it)."""
        rng = rng or self.rng
        km_lng = KM_PER_DEGREE * math.cos(math.radians(county.lat))
        if near is None:
            lat = county.lat + rng.gauss(0, county.radius_km / KM_PER_DEGREE / 1.5)
            lng = county.lng + rng.gauss(0, county.radius_km / km_lng / 1.5)
        else:
            distance = min(abs(rng.gauss(0, CHILD_SPREAD_KM)), CHILD_MAX_KM)
            bearing = rng.uniform(0, 2 * math.pi)
            lat = near[0] + distance * math.cos(bearing) / KM_PER_DEGREE
            lng = near[1] + distance * math.sin(bearing) / km_lng
        min_lat, min_lng, max_lat, max_lng = self.inner_box[county.code]
        return min(max(lat, min_lat), max_lat), min(max(lng, min_lng), max_lng)

    def profile(
        self,
        code: str,
        county: Place,
        entity: LegalEntity,
        small: bool,
        phone: str,
        near: tuple[float, float] | None = None,
    ) -> tuple[float, float]:
        """Append the outlet's public profile; return its WGS-84 position."""
        rng = self.rng
        lat, lng = self.position(county, near)
        system = _weighted(rng, COORD_MIX)
        out_lat, out_lng = convert(lat, lng, "wgs84", system)  # type: ignore[arg-type]
        types: tuple[tuple[str, float, float], ...]
        hours: tuple[tuple[str, float], ...]
        if entity.category == "insurance":
            types, hours = INSURANCE_TYPES, OFFICE_HOURS
        elif entity.category == "securities":
            types, hours = SECURITIES_TYPES, SECURITIES_HOURS
        else:
            types, hours = BANK_TYPES, BANK_HOURS
        chosen = [
            key for key, p_big, p_small in types if rng.random() < (p_small if small else p_big)
        ]
        self.profiles.append(
            {
                "fi_code": code,
                "latitude": f"{out_lat:.6f}",
                "longitude": f"{out_lng:.6f}",
                "coord_system": system,
                "accuracy_m": str(rng.choice((5, 10, 15, 20, 30, 50))),
                "business_types": ";".join(chosen),
                "opening_hours": _weighted(rng, hours),
                "phone": phone,
            }
        )
        return lat, lng

    def entity_rows(self, state: _EntityState, outlet_count: int) -> Iterator[dict[str, str]]:
        entity = state.entity
        rng = self.rng
        head = entity.fi_code
        home_pref = entity.home_region[:4]
        local = entity.home_region[:2] == PROVINCE
        yield self.row(
            fi_code=head,
            name=entity.name,
            short_name=entity.short_names[0] if entity.short_names else "",
            legal_entity_code=head,
            level="head_office",
            region_code=entity.home_region,
            address=full_name(entity.home_region),
            phone="",
            licence_no=self.licence(state, "H", "1", home_pref),
            uscc=self.uscc(entity.home_region),
            status="active",
            established_on=self.established(1984 if not local else 1995).isoformat(),
        )
        if outlet_count == 0:
            return
        scope = list(entity.scope) or sorted(self.counties)
        city_parent = head
        if not local and entity.province_branch_pattern:
            seat = self.seat["3201"]
            province_code = self.fi_code(state)
            yield self.row(
                fi_code=province_code,
                name=entity.province_branch_pattern.format(
                    legal=entity.name, brand=entity.brand, city="南京", district="", place=""
                ),
                legal_entity_code=head,
                parent_code=head,
                level="branch",
                region_code=seat.code,
                address=self.address(seat)[0],
                postcode=self.postcode("3201"),
                phone=self.phone("3201"),
                licence_no=self.licence(state, "B", "2", "3201"),
                uscc=self.uscc(seat.code),
                status="active",
                established_on=self.established(1985).isoformat(),
            )
            city_parent = province_code

        # Outlets per county of the entity's scope, in proportion to the counties' weights
        # (largest remainder: a bank with few outlets has them in the largest counties).
        counties = [c for pref in scope for c in self.counties[pref]]
        per_county = _allocate(outlet_count, [c.weight for c in counties], cap=outlet_count)

        city_branch: dict[str, str] = {}
        for pref in scope:
            if local and pref == home_pref:
                city_branch[pref] = head
                continue
            if not any(per_county[i] for i, c in enumerate(counties) if c.code[:4] == pref):
                continue
            seat = self.seat[pref]
            code = self.fi_code(state)
            city_branch[pref] = code
            city = CITY_NAMES[pref]
            yield self.row(
                fi_code=code,
                name=entity.city_branch_pattern.format(
                    legal=entity.name, brand=entity.brand, city=city, district="", place=""
                ),
                legal_entity_code=head,
                parent_code=city_parent,
                level="branch",
                region_code=seat.code,
                address=self.address(seat)[0],
                postcode=self.postcode(pref),
                phone=self.phone(pref),
                licence_no=self.licence(state, "B", "2", pref),
                uscc=self.uscc(seat.code),
                status="active",
                established_on=self.established(1988).isoformat(),
            )

        branches: list[_Branch] = []
        small_word = {"insurance": "营销服务部", "securities": ""}.get(entity.category, "分理处")
        for county, count in zip(counties, per_county, strict=True):
            if count == 0:
                continue
            pref = county.code[:4]
            city = CITY_NAMES[pref]
            district = county.name.rstrip("区市县") if len(county.name) > 2 else county.name
            # About two thirds are sub-branches (支行/支公司/营业部); the rest are smaller
            # outlets under a sub-branch of the same county.
            if entity.category == "securities":
                n_sub = count
            elif "{place}" not in entity.branch_pattern:
                n_sub = 1  # one 支公司 per county, named after it; the rest are 营销服务部
            else:
                n_sub = max(1, round(count * 0.65))
            subs: list[tuple[str, str, tuple[float, float] | None]] = []
            for k in range(count):
                is_sub = k < n_sub
                phone = self.phone(pref)
                code = self.fi_code(state)
                near: tuple[float, float] | None = None
                if is_sub:
                    place, on_road = "", None  # insurers name a 支公司 after the county
                    if "{place}" in entity.branch_pattern:
                        place, on_road = self.unique_place(entity, county)
                    address, road = self.address(county, on_road)
                    if "{city}" not in entity.branch_pattern and pref != home_pref:
                        place = city + place  # 南京银行股份有限公司无锡人民中路支行
                    name = entity.branch_pattern.format(
                        legal=entity.name,
                        brand=entity.brand,
                        city=city,
                        district=district,
                        place=place,
                    )
                    parent, level = (
                        city_branch[pref],
                        ("outlet" if entity.category == "securities" else "sub_branch"),
                    )
                    licence = self.licence(state, "S", "3", pref)
                else:
                    # named after its parent sub-branch and its own road, standing near it
                    address, road = self.address(county)
                    parent, parent_name, near = subs[k % len(subs)]
                    ordinal = k // len(subs)
                    prefix = (
                        ""
                        if ordinal == 0
                        else CHINESE_ORDINALS[ordinal - 1]
                        if ordinal <= 10
                        else f"第{ordinal + 1}"
                    )
                    name = f"{parent_name}{road}{prefix}{small_word}"
                    level = "outlet"
                    licence = self.licence(state, "S", "3", pref)
                # Only places with nothing under them close: a revoked sub-branch with
                # active outlets below would be refused by the registry (XRC-REVOKED-PARENT).
                leaf = not is_sub or entity.category == "securities"
                revoked = rng.random() < 0.02 and leaf
                established = self.established(1990)
                revoked_on = ""
                if revoked:
                    revoked_on = date.fromordinal(
                        rng.randint(established.toordinal() + 1, TODAY.toordinal())
                    ).isoformat()
                position = None
                if not revoked:  # closed places have no public profile
                    position = self.profile(
                        code, county, entity, small=not is_sub, phone=phone, near=near
                    )
                if is_sub:
                    subs.append((code, name, position))
                if position is not None and entity.category == "bank" and self.atms:
                    branches.append(
                        _Branch(code, name, county, *position, self.profiles[-1], address, phone)
                    )
                yield self.row(
                    fi_code=code,
                    name=name,
                    legal_entity_code=head,
                    parent_code=parent,
                    level=level,
                    region_code=county.code,
                    address=address,
                    postcode=self.postcode(pref),
                    phone=phone,
                    licence_no=licence,
                    uscc=self.uscc(county.code),
                    status="revoked" if revoked else "active",
                    established_on=established.isoformat(),
                    revoked_on=revoked_on,
                )
        for branch in branches:
            yield from self.machines(state, branch)

    def machines(self, state: _EntityState, branch: _Branch) -> Iterator[dict[str, str]]:
        """The branch's two to three self-service points (see the module's docstring)."""
        rng = self.atm_rng
        county = branch.county
        pref = county.code[:4]
        n = int(_weighted(rng, tuple((str(k), w) for k, w in ATM_COUNTS)))
        has_24h = "self_service_24h" in branch.profile["business_types"].split(";")
        in_branch = 0
        named: set[str] = set()  # two machines at one mall of one branch: numbered
        for _ in range(n):
            if state.next_seq > MAX_SEQUENCE:
                return  # the entity's codes are used up: no more machines
            code = self.fi_code(state)
            off_site = rng.random() < OFF_SITE_SHARE
            types = ["cash_out"] + [
                key
                for key, p_in, p_off in MACHINE_TYPES
                if rng.random() < (p_off if off_site else p_in)
            ]
            if off_site:
                places = OFF_SITE_PLACES if pref in METRO_CITIES else OFF_SITE_PLACES[:3]
                pattern, hours = places[rng.randrange(len(places))]
                if rng.random() < 0.3:
                    hours = "24/7"  # a lobby of its own, opened by card at night
                area = rng.choice(self.county_places[county.code].areas)
                short = county.name.rstrip("区市县") if len(county.name) > 2 else county.name
                place = pattern.format(area=area, county=short)
                # a self-service bank (several machines, cash in and out) or a lone ATM
                kind = "self_service" if rng.random() < 0.4 else "atm"
                if kind == "self_service" and "cash_in" not in types:
                    types.append("cash_in")
                name = (
                    f"{branch.name}{place}{'离行式自助银行' if kind == 'self_service' else 'ATM'}"
                )
                street, _road = self.address(county, rng=rng)  # on one of the county's roads
                address = f"{street}{place}"
                lat, lng = self.position(county, (branch.lat, branch.lng), rng)
                system = _weighted(rng, COORD_MIX)
                out_lat, out_lng = convert(lat, lng, "wgs84", system)  # type: ignore[arg-type]
                captured = {
                    "latitude": f"{out_lat:.6f}",
                    "longitude": f"{out_lng:.6f}",
                    "coord_system": system,
                    "accuracy_m": str(rng.choice((5, 10, 15, 20, 30))),
                }
            else:
                in_branch += 1
                kind = "atm"
                name = f"{branch.name}ATM{in_branch}"
                address = branch.address
                hours = "24/7" if has_24h else branch.profile["opening_hours"]
                # the branch's own capture, so both are stored at exactly one point
                captured = {
                    k: branch.profile[k]
                    for k in ("latitude", "longitude", "coord_system", "accuracy_m")
                }
            if name in named:
                name = f"{name}{len(named) + 1}"
            named.add(name)
            if hours == "24/7":
                types.append("self_service_24h")
            self.profiles.append(
                {
                    "fi_code": code,
                    **captured,
                    "business_types": ";".join(types),
                    "opening_hours": hours,
                    "phone": branch.phone,
                }
            )
            yield self.row(
                fi_code=code,
                name=name,
                legal_entity_code=state.entity.fi_code,
                parent_code=branch.code,
                level="outlet",
                kind=kind,
                region_code=county.code,
                address=address,
                postcode=f"{POSTCODE_PREFIX[pref]}{rng.randint(0, 999):03d}",
                phone=branch.phone,
                status="active",
                established_on=date.fromordinal(
                    rng.randint(date(2005, 1, 1).toordinal(), date(2024, 12, 31).toordinal())
                ).isoformat(),
            )


def generate(
    out_dir: Path, *, outlets: int, seed: int, progress: bool = False, atms: bool = True
) -> GenerationResult:
    """Write `institutions.csv` and `profiles.csv` into `out_dir` (`atms`: with the banks'
    self-service points, beyond the `outlets` branches)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    gen = _Generator(outlets, seed, atms)
    entities = list(LEGAL_ENTITIES)
    # Codes per entity in Jiangsu: outlets plus up to 14 branches above them.
    counts = _allocate(outlets, [e.weight for e in entities], cap=MAX_SEQUENCE - 20)
    n_inst = n_prof = 0
    bar = tqdm(total=outlets, unit="outlet", desc="generating", disable=not progress, leave=False)
    with (
        (out_dir / "institutions.csv").open("w", encoding="utf-8", newline="") as inst_file,
        (out_dir / "profiles.csv").open("w", encoding="utf-8", newline="") as prof_file,
    ):
        inst = csv.DictWriter(inst_file, fieldnames=INSTITUTION_COLUMNS, lineterminator="\n")
        prof = csv.DictWriter(prof_file, fieldnames=PROFILE_COLUMNS, lineterminator="\n")
        inst.writeheader()
        prof.writeheader()
        for entity, count in zip(entities, counts, strict=True):
            local = entity.home_region[:2] == PROVINCE
            state = _EntityState(entity, next_seq=2 if local else 1)
            for record in gen.entity_rows(state, count):
                inst.writerow(record)
                n_inst += 1
                if gen.profiles:
                    prof.writerows(gen.profiles)
                    n_prof += len(gen.profiles)
                    bar.update(len(gen.profiles))
                    gen.profiles.clear()
    bar.close()
    return GenerationResult(institutions=n_inst, profiles=n_prof, out_dir=out_dir)
