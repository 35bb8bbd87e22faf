"""Real area and road names of each Jiangsu county, for names and addresses that agree.

The demo generator names an outlet after a place (中国工商银行南京百家湖支行) and gives it a
street address; both come from the county the outlet stands in, so that name, region code,
address and position tell one story. The names are in ``data/county_places.csv`` (see
``data/README.md`` for where they come from); this module reads and checks them once.

Why the checks live here and not in a test only: a name listed under two counties of one
prefecture would make two branches of one bank share a name (names hold the city, not the
county), and a county missing from the table would leave the generator nowhere to put its
outlets. Both are refused when the table is read, with the row that is wrong.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from dataclasses import dataclass
from importlib import resources

from registry import regions

__all__ = ["ROAD_RE", "CountyPlaces", "county_places"]

ROAD_RE = re.compile(r"(路|街|道|巷)[东西南北]?$")  # 中山北路, 十全街, 苏州大道东, 八叉巷
_NAME_RE = re.compile(r"[\u4e00-\u9fff]+")
_COLUMNS = ["code", "county", "areas", "roads"]


@dataclass(frozen=True, slots=True)
class CountyPlaces:
    """The names a county's outlets are named after and stand on.

    ``areas``: business districts, towns (镇, 街道) and landmarks, best known first, because
    a bank's first branches in a county take the first names. ``roads``: streets of the
    county, for addresses; a road may also be an area (珠江路), and then a branch named after
    it stands on it.
    """

    code: str
    county: str
    areas: tuple[str, ...]
    roads: tuple[str, ...]

    @property
    def branch_places(self) -> tuple[str, ...]:
        """Names for branches, in the order a bank uses them: areas, then the other roads."""
        return self.areas + tuple(r for r in self.roads if r not in self.areas)


def _split(value: str, code: str, column: str) -> tuple[str, ...]:
    names = tuple(value.split())
    if not names:
        raise ValueError(f"county_places.csv: {code} has no {column}")
    if len(set(names)) != len(names):
        raise ValueError(f"county_places.csv: {code} lists a name twice in {column}")
    for name in names:
        if not _NAME_RE.fullmatch(name):
            raise ValueError(f"county_places.csv: {code} {column}: {name!r} is not a Chinese name")
        if column == "roads" and not ROAD_RE.search(name):
            raise ValueError(f"county_places.csv: {code}: {name!r} is not a road name")
    return names


@functools.cache
def county_places() -> dict[str, CountyPlaces]:
    """Every current Jiangsu county-level unit by GB/T 2260 code, in the file's order."""
    text = (resources.files("backend.demo") / "data" / "county_places.csv").read_text("utf-8")
    reader = csv.DictReader(io.StringIO(text))
    if list(reader.fieldnames or ()) != _COLUMNS:
        raise ValueError(f"county_places.csv: unexpected header {reader.fieldnames}")
    table: dict[str, CountyPlaces] = {}
    owner: dict[tuple[str, str], str] = {}  # (prefecture, name) -> county code
    for row in reader:
        code = row["code"]
        region = regions.get(code)
        if region is None or not regions.is_current_county(code) or region.name != row["county"]:
            raise ValueError(f"county_places.csv: {code} {row['county']} is not a current county")
        if code in table:
            raise ValueError(f"county_places.csv: {code} appears twice")
        entry = CountyPlaces(
            code=code,
            county=row["county"],
            areas=_split(row["areas"], code, "areas"),
            roads=_split(row["roads"], code, "roads"),
        )
        for name in set(entry.areas) | set(entry.roads):
            first = owner.setdefault((code[:4], name), code)
            if first != code:
                raise ValueError(f"county_places.csv: {name} is listed under {first} and {code}")
        table[code] = entry
    wanted = {
        p.code for p in regions.jiangsu_places() if not p.code.endswith("00")
    }  # every county the generator places outlets in
    if set(table) != wanted:
        raise ValueError(f"county_places.csv: counties missing {sorted(wanted - set(table))}")
    return table
