"""Chat bot accuracy on real names: how often the bot finds a real Nanjing outlet by its name.

Reads, by path and never into the repository, the 2018 Amap scrape of 1,306 Nanjing bank
outlets and the ICBC informal/formal name pairs of ../shared/data/real/ (their SOURCES.md:
no licence, local runs only). Nothing derived from them is kept: the import files are
written to a temporary directory that is deleted, and the scratch database
`branchfinder_bench_bot_real_names` is dropped at the end.

Loading (through the product's imports, `backend.imports.import_registry` and
`import_profiles`, so every registry rule runs):

- Legal entities: every head office of the demo catalogue (backend/demo/catalog.py), as
  in production where the bot's lexicon is built from the registry's head offices.
- Each outlet is mapped to a catalogue legal entity by its Amap `bank_category` when that
  is a catalogue brand (中国工商银行 → ICBC), by 紫金 for the rural-commercial group, and
  otherwise by the name's prefix (南京银行…, 江苏银行…, 紫金家商银行…). Outlets of banks the
  catalogue lacks (渣打, 徽商, 村镇银行, 人民银行 …) are skipped and counted.
- fi_codes are invented with the catalogue's structure: the entity's first six characters,
  province 32, a five-digit sequence and the placeholder check digit (as demo generate).
  Every outlet hangs directly under its head office; the level follows the name's ending
  (支行 → sub_branch, 分行 → branch, else outlet). Region codes come from the district
  column (`registry.regions.find_by_name`, inside the row's city), positions are the GCJ-02
  ones given (coord_system gcj02). Rows repeating another's name and address are dropped,
  and so are rows without an address (the registry requires one) and any row the imports
  refuse, each counted; established_on (required, unknown) is one fixed date.
- The registry `name` is a FORMAL name, as the PBoC registry holds, never the informal map
  name: the CNAPS legal name where the pairs file gives one (中国工商银行南京市花旗分理处),
  otherwise one built like the demo's formal names from the part in brackets:
  中国工商银行(新街口支行) → 中国工商银行股份有限公司南京新街口支行. Had the registry held
  the informal name, asking by the informal name would be an exact-string look-up and say
  nothing; this way "from the informal name" measures what the bot must really do (what
  people copy from a map app against what the registry calls the place).

Questions (one fresh user each, no location, a fixed Monday 10:00):

1. the informal name as is (中国工商银行(新街口支行)); not asked when the name is just
   the bank's (中国工商银行), which names no outlet;
2. the formal name, for the outlets that have one in the pairs file;
3. a shortened form people type: the bracketed part without 南京 and 支行/分理处/营业所…,
   then the bank's usual abbreviation (新街口工行, 二宫农行, 珠江路南京银行).

A hit is the outlet as the first result (top-1), or among the first three (top-3). When
several loaded outlets share the exact question (the same informal name at two
addresses) or the same registry name (中国邮政储蓄银行ATM(仙林营业所) and
中国邮政储蓄银行(仙林营业所) both become …南京市仙林营业所), any of them counts: nothing
in the text or the registry tells them apart. Results the bot offers after
"没有找到…你是不是要找" count too, and are reported separately.
"""

from __future__ import annotations

import argparse
import csv
import functools
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from itertools import zip_longest
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.demo.catalog import LEGAL_ENTITIES, LegalEntity, placeholder_check_digit
from backend.demo.generate import INSTITUTION_COLUMNS, PROFILE_COLUMNS
from backend.imports import import_profiles, import_registry
from bench.common import report, scratch_database
from bot.engine import BotEngine
from bot.messages import BotInput, BotReply
from core.database import make_engine, make_sessionmaker, session_scope
from profiles.profile_import import ProfileImportOptions
from registry.importer import ImportOptions
from registry.regions import find_by_name, full_name

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = ROOT.parent / "shared" / "data" / "real"
OUTLETS_FILE = "nanjing_amap_bank_outlets_2018.csv"
PAIRS_FILE = "derived_icbc_nanjing_amap_cnaps_pairs.csv"
OUTLET_COLUMNS = (
    "source_row",
    "name",
    "bank_category",
    "address",
    "lng_gcj02",
    "lat_gcj02",
    "province",
    "city",
    "district",
)
PAIR_COLUMNS = ("amap_source_row", "amap_name", "cnaps_LName")
ACTOR = "bench-real-names"
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SAMPLES = 15
ESTABLISHED = "2000-01-01"  # required by the registry; unknown, so one fixed date
KINDS = ("informal", "formal", "short")

# Names people and the map use that the catalogue's aliases do not start with.
EXTRA_PREFIXES = {
    "紫金": "zjrcb",  # 紫金家商银行, 紫金农业银行, 紫金县农村商业银行: the map's typos of 紫金农商
    "南京市商业银行": "njcb",  # 南京银行's former name
    "中国邮政": "psbc",
    "浦东发展银行": "spdb",
    "浦东银行": "spdb",
}
# The abbreviation people type for each bank (新街口工行), by catalogue key.
ABBREVIATIONS = {
    "icbc": "工行",
    "abc": "农行",
    "boc": "中行",
    "ccb": "建行",
    "bocom": "交行",
    "psbc": "邮储",
    "cmb": "招行",
    "spdb": "浦发",
    "citic": "中信银行",
    "ceb": "光大",
    "hxb": "华夏银行",
    "cmbc": "民生银行",
    "cgb": "广发",
    "pab": "平安银行",
    "cib": "兴业银行",
    "czb": "浙商银行",
    "hfb": "恒丰银行",
    "cbhb": "渤海银行",
    "jsb": "江苏银行",
    "njcb": "南京银行",
    "szb": "苏州银行",
    "bosc": "上海银行",
    "bob": "北京银行",
    "nbcb": "宁波银行",
    "hzbank": "杭州银行",
    "zjrcb": "紫金农商",
}
BRACKET_RE = re.compile(r"[(（]([^()（）]*)[)）]")
UNIT_SUFFIXES = ("支行", "分理处", "营业所", "储蓄所", "分行", "营业部", "营业室")
LEGAL_FORMS = ("股份有限公司", "有限责任公司", "有限公司")


@dataclass
class Outlet:
    source_row: int
    informal: str
    address: str
    lat: str
    lng: str
    entity: LegalEntity
    region_code: str
    formal_from_pairs: str | None
    fi_code: str = ""
    name: str = ""  # the registry's (formal) name

    @property
    def branch(self) -> str | None:
        """The part in brackets: 新街口支行 of 中国工商银行(新街口支行)."""
        found = BRACKET_RE.search(self.informal)
        return found.group(1).strip() if found and found.group(1).strip() else None


@dataclass
class Asked:
    kind: str
    text: str
    outlet: Outlet
    correct: frozenset[str]
    top: list[str] = field(default_factory=list)
    top_names: list[str] = field(default_factory=list)
    reply: str = ""
    understood: dict[str, Any] = field(default_factory=dict)

    @property
    def top1(self) -> bool:
        return bool(self.top) and self.top[0] in self.correct

    @property
    def top3(self) -> bool:
        return any(code in self.correct for code in self.top[:3])

    @property
    def suggested(self) -> bool:
        return self.reply.startswith("没有找到")

    def why_missed(self) -> str:
        """A rough cause of a top-1 miss, from what the bot says it understood."""
        u = self.understood
        if self.outlet.entity.fi_code not in (u.get("legal_entities") or ()):
            return "bank not understood, or with others"
        if not u.get("landmark"):
            if u.get("places"):
                return "branch words read as a place, none to rank by"
            return "no branch words to rank by"
        return "branch words kept, another ranked first"

    def understood_text(self) -> str:
        parts = []
        for key in ("legal_entities", "places", "landmark", "business_types"):
            value = self.understood.get(key)
            if isinstance(value, list) and len(value) > 3:
                value = f"{len(value)} values"
            if value:
                parts.append(f"{key}={value}")
        return ", ".join(parts) or "-"


# --- reading ---------------------------------------------------------------------------------


def read_csv(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    if not path.is_file():
        raise SystemExit(
            f"missing {path}: pass --data-dir, the directory holding {OUTLETS_FILE} and "
            f"{PAIRS_FILE} (the shared real data; see ../shared/data/README.md)"
        )
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in columns if c not in (reader.fieldnames or ())]
        if missing:
            raise SystemExit(f"{path}: columns {missing} missing (found {reader.fieldnames})")
        return list(reader)


def _without_legal_form(name: str) -> str:
    for form in LEGAL_FORMS:
        name = name.replace(form, "")
    return name


@functools.cache
def entity_prefixes() -> list[tuple[str, LegalEntity]]:
    """Name beginnings that identify a bank, longest first."""
    by_key = {e.key: e for e in LEGAL_ENTITIES}
    found: dict[str, LegalEntity] = {}
    for entity in LEGAL_ENTITIES:
        if entity.category not in ("bank", "rural_bank") or entity.weight == 0:
            continue
        for alias in (entity.brand, _without_legal_form(entity.name), *entity.short_names):
            if len(alias) >= 2 and not alias.isascii():
                found.setdefault(alias, entity)
    for alias, key in EXTRA_PREFIXES.items():
        found[alias] = by_key[key]
    return sorted(found.items(), key=lambda kv: -len(kv[0]))


def entity_of(row: dict[str, str], prefixes: list[tuple[str, LegalEntity]]) -> LegalEntity | None:
    category, name = row["bank_category"].strip(), row["name"].strip()
    for entity in LEGAL_ENTITIES:
        if entity.brand == category:
            return entity
    if category == "农村商业银行":
        return next(e for e in LEGAL_ENTITIES if e.key == "zjrcb") if "紫金" in name else None
    return next((e for alias, e in prefixes if name.startswith(alias)), None)


def region_of(row: dict[str, str]) -> str | None:
    """The county code of the district column, inside the row's city (鼓楼区 is in two)."""
    cities = find_by_name(row["city"].strip(), province=None)
    prefixes = {c.code[:4] for c in cities}
    counties = find_by_name(row["district"].strip(), province=None)
    inside = [r for r in counties if r.code[:4] in prefixes]
    return inside[0].code if len(inside) == 1 else None


def read_outlets(data_dir: Path) -> tuple[list[Outlet], Counter[str]]:
    rows = read_csv(data_dir / OUTLETS_FILE, OUTLET_COLUMNS)
    pairs = {
        int(p["amap_source_row"]): p["cnaps_LName"].strip()
        for p in read_csv(data_dir / PAIRS_FILE, PAIR_COLUMNS)
    }
    prefixes = entity_prefixes()
    dropped: Counter[str] = Counter()
    seen: set[tuple[str, str]] = set()
    outlets: list[Outlet] = []
    for row in rows:
        name, address = row["name"].strip(), row["address"].strip()
        if (name, address) in seen:
            dropped["exact duplicate (same name and address)"] += 1
            continue
        seen.add((name, address))
        entity = entity_of(row, prefixes)
        if entity is None:
            dropped[f"bank not in the catalogue ({row['bank_category'] or '?'})"] += 1
            continue
        region = region_of(row)
        if region is None:
            dropped["district not a known county"] += 1
            continue
        if not address:
            dropped["no address (the registry requires one)"] += 1
            continue
        outlets.append(
            Outlet(
                source_row=int(row["source_row"]),
                informal=name,
                address=address,
                lat=row["lat_gcj02"].strip(),
                lng=row["lng_gcj02"].strip(),
                entity=entity,
                region_code=region,
                formal_from_pairs=pairs.get(int(row["source_row"])),
            )
        )
    return outlets, dropped


# --- names -----------------------------------------------------------------------------------


def _strip_city(text: str, city: str) -> str:
    for prefix in (f"{city}市", city):
        if text.startswith(prefix) and len(text) > len(prefix):
            return text[len(prefix) :]
    return text


def formal_prefix(entity: LegalEntity, city: str) -> str:
    """What the entity's formal outlet names start with: 中国工商银行股份有限公司南京."""
    pattern = entity.branch_pattern.split("{place}")[0]
    return pattern.format(legal=entity.name, brand=entity.brand, city=city, district="")


def city_of(outlet: Outlet) -> str:
    return full_name(outlet.region_code[:4] + "00").removeprefix("江苏省").removesuffix("市")


def formal_name(outlet: Outlet) -> str:
    if outlet.formal_from_pairs:
        return outlet.formal_from_pairs
    city = city_of(outlet)
    branch = outlet.branch
    if branch is None:  # no brackets: what follows the bank's name, or the district
        rest = outlet.informal
        for alias, _ in entity_prefixes():
            if rest.startswith(alias):
                rest = rest[len(alias) :]
                break
        district = full_name(outlet.region_code).split("市")[-1]
        branch = rest or f"{district}营业网点"
    return formal_prefix(outlet.entity, city) + _strip_city(branch, city)


def short_form(outlet: Outlet) -> str | None:
    """新街口工行: the bracketed words without 南京 and 支行/分理处…, then the abbreviation."""
    branch = outlet.branch
    abbreviation = ABBREVIATIONS.get(outlet.entity.key)
    if branch is None or abbreviation is None:
        return None
    words = _strip_city(branch, "南京")
    stripped = True
    while stripped:
        stripped = False
        for suffix in UNIT_SUFFIXES:
            if words.endswith(suffix) and len(words) > len(suffix):
                words, stripped = words[: -len(suffix)], True
    if words in UNIT_SUFFIXES or len(words) < 2:
        return None
    return words + abbreviation


def names_only_the_bank(outlet: Outlet) -> bool:
    """中国工商银行 with nothing after it names no outlet: not asked by informal name."""
    rest = outlet.informal
    for alias, _ in entity_prefixes():
        if rest.startswith(alias):
            rest = rest[len(alias) :]
            break
    return not rest.strip() or outlet.informal in {e.brand for e in LEGAL_ENTITIES}


def level_of(name: str) -> str:
    if name.endswith("支行"):
        return "sub_branch"
    if name.endswith("分行"):
        return "branch"
    return "outlet"


# --- import files ----------------------------------------------------------------------------


def licence(entity: LegalEntity, org_class: str, authority: str, pref4: str, seq: int) -> str:
    if entity.licence_type is None or entity.licence_number is None or seq > 9999:
        return ""
    return f"{entity.licence_type}{entity.licence_number}{org_class}{authority}{pref4}{seq:04d}"


def write_import_files(outlets: list[Outlet], out_dir: Path) -> tuple[Path, Path]:
    """institutions.csv (head offices + outlets) and profiles.csv, the import formats."""
    next_seq: dict[str, int] = {}
    institutions = out_dir / "institutions.csv"
    profiles = out_dir / "profiles.csv"
    with (
        institutions.open("w", encoding="utf-8", newline="") as inst_fh,
        profiles.open("w", encoding="utf-8", newline="") as prof_fh,
    ):
        inst = csv.DictWriter(inst_fh, fieldnames=INSTITUTION_COLUMNS, lineterminator="\n")
        prof = csv.DictWriter(prof_fh, fieldnames=PROFILE_COLUMNS, lineterminator="\n")
        inst.writeheader()
        prof.writeheader()
        for entity in LEGAL_ENTITIES:
            row = dict.fromkeys(INSTITUTION_COLUMNS, "")
            row.update(
                fi_code=entity.fi_code,
                name=entity.name,
                short_name=entity.short_names[0] if entity.short_names else "",
                legal_entity_code=entity.fi_code,
                level="head_office",
                region_code=entity.home_region,
                address=full_name(entity.home_region),
                licence_no=licence(entity, "H", "1", entity.home_region[:4], 1),
                status="active",
                established_on=ESTABLISHED,
            )
            inst.writerow(row)
            # Jiangsu head offices hold sequence 00001 in province 32 (as demo generate)
            next_seq[entity.key] = 2 if entity.home_region.startswith("32") else 1
        for outlet in outlets:
            entity = outlet.entity
            seq = next_seq[entity.key]
            next_seq[entity.key] = seq + 1
            first13 = f"{entity.fi_code[:6]}32{seq:05d}"
            outlet.fi_code = first13 + placeholder_check_digit(first13[1:])
            outlet.name = formal_name(outlet)
            row = dict.fromkeys(INSTITUTION_COLUMNS, "")
            row.update(
                fi_code=outlet.fi_code,
                name=outlet.name,
                legal_entity_code=entity.fi_code,
                parent_code=entity.fi_code,
                level=level_of(outlet.name),
                region_code=outlet.region_code,
                address=outlet.address,
                licence_no=licence(entity, "S", "3", outlet.region_code[:4], seq),
                status="active",
                established_on=ESTABLISHED,
            )
            inst.writerow(row)
            prof.writerow(
                dict.fromkeys(PROFILE_COLUMNS, "")
                | {
                    "fi_code": outlet.fi_code,
                    "latitude": outlet.lat,
                    "longitude": outlet.lng,
                    "coord_system": "gcj02",
                }
            )
    return institutions, profiles


def load(url: str, outlets: list[Outlet]) -> tuple[list[Outlet], Counter[str]]:
    """Import through the product's imports; the outlets that became visible, and why not."""
    refused: Counter[str] = Counter()
    engine = make_engine(url, statement_timeout_ms=0)
    sessions = make_sessionmaker(engine)
    with tempfile.TemporaryDirectory(prefix="bf-real-names-") as tmp:
        institutions, profiles = write_import_files(outlets, Path(tmp))
        with sessions() as session, session.begin():
            registry = import_registry(session, institutions, ImportOptions(actor=ACTOR))
            profile = import_profiles(session, profiles, ProfileImportOptions(actor=ACTOR))
    engine.dispose()
    if registry.outcome == "rejected" or profile.outcome == "rejected":
        raise SystemExit(f"the import refused the file: {registry.summary} {profile.summary}")
    bad: dict[str, str] = {}
    for result in (registry, profile):
        for i in result.issues:
            if i.severity == "error" and i.fi_code:
                bad.setdefault(i.fi_code, i.rule_id)
    kept = []
    for outlet in outlets:
        rule = bad.get(outlet.fi_code)
        if rule is None:
            kept.append(outlet)
        else:
            refused[f"refused by the registry ({rule})"] += 1
    return kept, refused


# --- asking ----------------------------------------------------------------------------------


def questions(outlets: list[Outlet]) -> tuple[list[Asked], Counter[str]]:
    texts: dict[str, list[tuple[str, Outlet]]] = {k: [] for k in KINDS}
    not_asked: Counter[str] = Counter()
    for outlet in outlets:
        if names_only_the_bank(outlet):
            not_asked["informal: the name is only the bank's"] += 1
        else:
            texts["informal"].append((outlet.informal, outlet))
        if outlet.formal_from_pairs:
            texts["formal"].append((outlet.formal_from_pairs, outlet))
        short = short_form(outlet)
        if short is None:
            not_asked["short: no bracketed branch words or no abbreviation"] += 1
        else:
            texts["short"].append((short, outlet))
    by_name: dict[str, set[str]] = {}
    for outlet in outlets:
        by_name.setdefault(outlet.name, set()).add(outlet.fi_code)
    asked: list[Asked] = []
    for kind in KINDS:
        same: dict[str, set[str]] = {}
        for text, outlet in texts[kind]:
            same.setdefault(text, set()).add(outlet.fi_code)
        asked += [Asked(kind, t, o, frozenset(same[t] | by_name[o.name])) for t, o in texts[kind]]
    return asked, not_asked


def ask_all(url: str, asked: list[Asked]) -> list[float]:
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    bot = BotEngine("bench-real-names")
    names: dict[str, str] = {}
    times: list[float] = []
    for n, question in enumerate(asked):
        start = time.perf_counter()
        with session_scope(sessions) as session:
            answer: BotReply = bot.reply(
                session, BotInput(user=f"real-{n}", text=question.text), MONDAY_10
            )
        times.append((time.perf_counter() - start) * 1000)
        question.top = [r.fi_code for r in answer.results]
        for r in answer.results:
            names[r.fi_code] = r.name
        question.top_names = [names[c] for c in question.top]
        question.reply = answer.text
        question.understood = answer.understood
    engine.dispose()
    return times


def rate(hits: int, total: int) -> str:
    return f"{hits / total:6.1%} ({hits}/{total})" if total else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--samples", type=int, default=SAMPLES, help="failures shown per kind")
    args = parser.parse_args()

    outlets, dropped = read_outlets(args.data_dir.resolve())
    rows_read = len(outlets) + sum(dropped.values())
    with scratch_database("bot_real_names") as url:
        start = time.perf_counter()
        outlets, refused = load(url, outlets)
        load_s = time.perf_counter() - start
        asked, not_asked = questions(outlets)
        times = ask_all(url, asked)

    rows: list[tuple[str, str]] = [
        ("rows read", f"{rows_read:,} ({args.data_dir / OUTLETS_FILE})"),
        *((f"  dropped: {why}", str(n)) for why, n in sorted(dropped.items())),
        *((f"  dropped: {why}", str(n)) for why, n in sorted(refused.items())),
        ("outlets loaded and visible", f"{len(outlets):,} (import {load_s:.1f} s)"),
        (
            "  by bank",
            ", ".join(f"{k} {n}" for k, n in Counter(o.entity.key for o in outlets).most_common()),
        ),
        (
            "  with a formal name from the pairs file",
            str(sum(bool(o.formal_from_pairs) for o in outlets)),
        ),
        *((f"  not asked: {why}", str(n)) for why, n in sorted(not_asked.items())),
    ]
    for kind in KINDS:
        mine = [a for a in asked if a.kind == kind]
        shared = sum(len(a.correct) > 1 for a in mine)
        rows += [
            (f"{kind}: top-1", rate(sum(a.top1 for a in mine), len(mine))),
            (f"{kind}: top-3", rate(sum(a.top3 for a in mine), len(mine))),
            (
                f"{kind}: notes",
                f"{sum(a.top3 and a.suggested for a in mine)} of the top-3 hits only as "
                f"'没有找到…你是不是要找'; {sum(not a.top for a in mine)} without results; "
                f"{shared} questions with several right answers (same text or registry name)",
            ),
        ]
    ordered = sorted(times)
    rows.append(
        (
            "per message (this small database)",
            f"median {ordered[len(ordered) // 2]:.1f} ms, "
            f"p95 {ordered[int(len(ordered) * 0.95)]:.1f} ms, {len(times):,} messages",
        )
    )
    for kind in KINDS:
        causes = Counter(a.why_missed() for a in asked if a.kind == kind and not a.top1)
        rows += [(f"{kind}: misses, {why}", str(n)) for why, n in causes.most_common()]
    report(rows)
    for kind in KINDS:
        failures = [a for a in asked if a.kind == kind and not a.top1]
        print(
            f"\nfailures, {kind} (top-1 missed; {min(args.samples, len(failures))} of "
            f"{len(failures)}):"
        )
        by_cause: dict[str, list[Asked]] = {}
        for a in failures:
            by_cause.setdefault(a.why_missed(), []).append(a)
        spread = [a for group in zip_longest(*by_cause.values()) for a in group if a]
        for a in spread[: args.samples]:
            got = a.top_names[0] if a.top_names else a.reply.splitlines()[0][:60]
            rank = next((k + 1 for k, c in enumerate(a.top) if c in a.correct), None)
            print(f"  {a.text}    ({a.why_missed()})")
            print(f"      want {a.outlet.name}  [{a.outlet.address}]")
            print(f"      got  {got}" + (f"  (wanted at #{rank})" if rank else ""))
            print(f"      understood: {a.understood_text()}")


if __name__ == "__main__":
    main()
