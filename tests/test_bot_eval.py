"""The chat bot's evaluation: realistic conversations over the demo data, top-1 and top-3.

The data are what `./run.sh` loads (`generate(dir, outlets=5000, seed=1)` through the real
registry and profile imports). The expected outlets of every case (tests/bot_eval_cases.py)
are computed here from the generated CSV files alone, not through the engine or the search
service: names, addresses, region codes and business types as written, positions converted
to WGS-84 with `prcoords` (an implementation independent of core.coords), haversine distances
on the sphere PostGIS measures with (radius 6371008.8 m), and opening hours read from their
text with the official calendar's make-up working days. A check against the database makes
sure these are the outlets the engine sees.

Run `./test.sh tests/test_bot_eval.py -q -s` to see the report (per kind and overall, and
every failing case with what the bot answered); it is also written to a file whose path the
report prints. The goal is top-1 >= 95 % and top-3 >= 99 %.
"""

from __future__ import annotations

import csv
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

import chinese_calendar
import prcoords
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from backend.demo.catalog import LEGAL_ENTITIES
from bot.messages import BotInput, BotReply, SharedLocation
from bot.messages import Engine as ChatEngine
from tests.bot_eval_cases import (
    CASES,
    KINDS,
    MAKEUP_SATURDAY,
    NATIONAL_DAY,
    SHANGHAI,
    Ask,
    AskLocation,
    Case,
    Chat,
    Elsewhere,
    Find,
    More,
    Nothing,
    Spot,
    Want,
)
from tests.conftest import load_generated, truncate_all

OUTLETS, SEED = 5000, 1  # as ./run.sh loads the demo
PLACES_CSV = Path(__file__).resolve().parent.parent / "registry/data/jiangsu_places.csv"
EARTH_RADIUS_M = 6371008.8  # PostGIS's sphere (ST_Distance on geography, use_spheroid false)
TIE_M = 1.0  # outlets this close to the nearest one's distance are as near
MIN_CASES = 200
GOAL_TOP1, GOAL_TOP3 = 0.95, 0.99

HELP_HINTS = ("可以", "例如", "比如", "试试", "这样问")
NO_MATCH_WORDS = ("没有找到", "没找到", "找不到", "没有看懂", "没看懂", "你是不是", "抱歉")
_TIME_RE = re.compile(r"\d{2}:\d{2}")


# --- the ground truth, from the generated files ---------------------------------------------


@dataclass(frozen=True)
class Outlet:
    fi_code: str
    name: str
    address: str
    phone: str
    region: str
    entity: str  # catalogue key of the legal entity
    kind: str  # catalogue category: bank, rural_bank, insurance, securities
    types: frozenset[str]
    hours: str  # as generated: "Mo-Fr 09:00-17:00; Sa,Su 09:00-16:00"
    lat: float  # WGS-84
    lng: float
    outlet: str = "branch"  # the kind of outlet: branch, self_service, atm


def _to_wgs84(lat: float, lng: float, system: str) -> tuple[float, float]:
    if system == "wgs84":
        return lat, lng
    if system == "gcj02":
        found = prcoords.gcj_wgs_bored((lat, lng))
    elif system == "bd09":
        found = prcoords.bd_wgs_bored((lat, lng))
    else:
        raise AssertionError(f"unexpected coordinate system {system!r}")
    return found.lat, found.lon


def read_outlets(data: Path) -> dict[str, Outlet]:
    """Every outlet the public can see: an active institution with a profile."""
    keys = {e.fi_code: e.key for e in LEGAL_ENTITIES}
    kinds = {e.key: e.category for e in LEGAL_ENTITIES}
    with (data / "institutions.csv").open(encoding="utf-8", newline="") as f:
        institutions = {row["fi_code"]: row for row in csv.DictReader(f)}
    outlets: dict[str, Outlet] = {}
    with (data / "profiles.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            inst = institutions[row["fi_code"]]
            if inst["status"] != "active" or not row["latitude"]:
                continue
            lat, lng = _to_wgs84(
                float(row["latitude"]), float(row["longitude"]), row["coord_system"]
            )
            key = keys[inst["legal_entity_code"]]
            outlets[row["fi_code"]] = Outlet(
                fi_code=row["fi_code"],
                name=inst["name"],
                address=inst["address"],
                phone=row["phone"] or inst["phone"],
                region=inst["region_code"],
                entity=key,
                kind=kinds[key],
                types=frozenset(t for t in row["business_types"].split(";") if t),
                hours=row["opening_hours"],
                lat=lat,
                lng=lng,
                outlet=inst.get("kind") or "branch",
            )
    return outlets


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")


def weekly_hours(hours: str) -> dict[int, list[tuple[int, int]]]:
    """The generator's hours text as minutes per weekday (0 = Monday)."""
    week: dict[int, list[tuple[int, int]]] = {d: [] for d in range(7)}
    if hours.strip() == "24/7":  # a machine never shut
        return {d: [(0, 24 * 60)] for d in range(7)}
    for rule in filter(None, (r.strip() for r in hours.split(";"))):
        days, spans = rule.split(" ", 1)
        assert "PH" not in days, "the demo has no holiday rules; this reading would be wrong"
        minutes = []
        for span in spans.split(","):
            start, end = span.strip().split("-")
            minutes.append((_minute(start), _minute(end)))
        for part in days.split(","):
            first, _, last = part.partition("-")
            for d in range(_DAYS.index(first), _DAYS.index(last or first) + 1):
                week[d] += minutes
    return week


def _minute(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def _weekday_rules(day: date) -> int:
    """Which weekday's hours apply: a weekend worked for a holiday (调休) works as a Monday;
    an official holiday keeps its weekday's hours (the demo's hours say nothing else)."""
    if day.weekday() >= 5 and day in chinese_calendar.workdays:
        return 0
    return day.weekday()


def open_at(outlet: Outlet, moment: datetime) -> bool:
    local = moment.astimezone(SHANGHAI)
    minute = local.hour * 60 + local.minute
    spans = weekly_hours(outlet.hours)[_weekday_rules(local.date())]
    return any(start <= minute < end for start, end in spans)


def matches(outlet: Outlet, want: Want, now: datetime) -> bool:
    name, address = outlet.name, outlet.address
    return (
        (not want.entities or outlet.entity in want.entities)
        and (not want.kinds or outlet.kind in want.kinds)
        and outlet.outlet in want.outlets
        and (not want.regions or outlet.region.startswith(want.regions))
        and (not want.name_has or any(s in name for s in want.name_has))
        and (not want.text_has or any(s in name or s in address for s in want.text_has))
        and (want.name_ends is None or name.endswith(want.name_ends))
        and set(want.types) <= outlet.types
        and (not want.open_now or open_at(outlet, now))
    )


def place_centres() -> dict[str, tuple[float, float]]:
    """The centre of each prefecture and county, as the place table gives it (WGS-84)."""
    with PLACES_CSV.open(encoding="utf-8", newline="") as f:
        return {row["code"]: (float(row["lat"]), float(row["lng"])) for row in csv.DictReader(f)}


def last_position(case: Case) -> Spot | None:
    spots = [t.at for t in case.turns if t.at is not None]
    return spots[-1] if spots else None


def acceptable(outlets: Iterable[Outlet], find: Find, case: Case) -> set[str]:
    """The fi_codes a person accepts as the answer (of each reading, the nearest ones)."""
    pool = list(outlets)
    here = last_position(case)
    codes: set[str] = set()
    for want in find.wants:
        hits = [o for o in pool if matches(o, want, case.now)]
        if find.nearest and hits:
            assert here is not None, "a nearest case needs a shared position"
            dist = {o.fi_code: haversine_m(here.lat, here.lng, o.lat, o.lng) for o in hits}
            best = min(dist.values())
            codes |= {c for c, d in dist.items() if d <= best + TIE_M}
        else:
            codes |= {o.fi_code for o in hits}
    return codes


# --- running and scoring --------------------------------------------------------------------


@dataclass
class Outcome:
    case: Case
    top1: bool
    top3: bool
    why: str = ""
    replies: list[BotReply] = field(default_factory=list)
    expected: set[str] = field(default_factory=set)


def converse(session: Session, bot: ChatEngine, case: Case, user: str) -> list[BotReply]:
    replies: list[BotReply] = []
    for turn in case.turns:
        location = (
            SharedLocation(turn.at.lat, turn.at.lng, turn.at.label) if turn.at is not None else None
        )
        message = BotInput(user=user, text=turn.text, location=location)
        replies.append(bot.reply(session, message, case.now))
    return replies


def _field_values(outlet: Outlet, wanted: str) -> list[str]:
    if wanted == "phone":
        return [outlet.phone]
    if wanted == "address":
        return [outlet.address]
    if wanted == "hours":
        return sorted(set(_TIME_RE.findall(outlet.hours)))
    return [outlet.address, outlet.phone]  # detail


def score(case: Case, replies: list[BotReply], truth: dict[str, Outlet]) -> Outcome:
    last = replies[-1]
    said = last.text or ""
    codes = [r.fi_code for r in last.results]
    expect = case.expect
    if not said.strip():
        return Outcome(case, False, False, "empty reply text", replies)

    if isinstance(expect, Find):
        wanted = acceptable(truth.values(), expect, case)
        out = Outcome(case, False, False, "", replies, wanted)
        if not codes:
            out.why = "no results"
            return out
        if expect.count is not None and len(codes) != expect.count:
            out.why = f"{len(codes)} results, asked for {expect.count}"
            return out
        out.top1 = codes[0] in wanted
        out.top3 = any(c in wanted for c in codes[:3])
        if expect.show is not None:
            shown = [
                c
                for c in codes[:3]
                if c in wanted and all(v in said for v in _field_values(truth[c], expect.show))
            ]
            out.top1 = out.top1 and codes[0] in shown
            out.top3 = out.top3 and bool(shown)
            if not shown:
                out.why = f"the {expect.show} of an acceptable outlet is not in the reply"
        if not out.top1 and not out.why:
            out.why = "first result not acceptable" + ("" if out.top3 else ", nor the next two")
        return out

    if isinstance(expect, Ask):
        ok, why = _check_ask(expect, replies, truth)
        return Outcome(case, ok, ok, why, replies)

    if isinstance(expect, More):
        ok, why = _check_more(case, replies, truth)
        return Outcome(case, ok, ok, why, replies)

    if isinstance(expect, Chat):
        ok = not codes and any(h in said for h in HELP_HINTS)
        why = "" if ok else ("listed outlets" if codes else "no hint of what to ask")
        return Outcome(case, ok, ok, why, replies)

    if isinstance(expect, Elsewhere):
        return _check_elsewhere(case, expect, last, truth)

    if isinstance(expect, AskLocation):
        ok = not codes and "位置" in said
        return Outcome(case, ok, ok, "" if ok else "did not ask for the position", replies)

    assert isinstance(expect, Nothing)
    problems = []
    if not any(word in said for word in NO_MATCH_WORDS):
        problems.append("does not say nothing matched")
    if expect.suggest:
        if not codes:
            problems.append("suggests nothing")
        elif not any(matches(truth[codes[0]], s, case.now) for s in expect.suggest):
            problems.append(f"suggested {_short(truth[codes[0]].name)}")
    missing = [m for m in expect.mentions if m not in said]
    if missing:
        problems.append(f"does not repeat {'、'.join(missing)}")
    ok = not problems
    return Outcome(case, ok, ok, "; ".join(problems), replies)


def _entity_names(keys: tuple[str, ...]) -> list[str]:
    """How a reply may name these legal entities: name without the company form, brand,
    short names."""
    return [
        name
        for e in LEGAL_ENTITIES
        if e.key in keys
        for name in (_short(e.name), e.brand, *e.short_names)
        if name
    ]


def _check_elsewhere(
    case: Case, expect: Elsewhere, last: BotReply, truth: dict[str, Outlet]
) -> Outcome:
    said = last.text
    lat, lng = place_centres()[expect.place]
    listed = [truth[r.fi_code] for r in last.results]
    theirs = [
        (r, o) for r, o in zip(last.results, listed, strict=True) if o.entity in expect.entities
    ]
    problems = []
    if not any(name in said for name in expect.names):
        problems.append("does not name the place")
    if "没有" not in said and "暂无" not in said:
        problems.append("does not say the place has none")
    if not any(name in said for name in _entity_names(expect.entities)):
        problems.append("does not name the bank")
    if not theirs:
        problems.append("offers none of the bank's outlets")
    for item, outlet in theirs:
        from_centre = haversine_m(lat, lng, outlet.lat, outlet.lng)
        if item.distance_m is None or abs(item.distance_m - from_centre) > max(
            50.0, from_centre / 100
        ):
            problems.append(f"{_short(outlet.name)}: not its distance from the place's centre")
    if theirs and not ("公里" in said or "米" in said):
        problems.append("the reply shows no distance")
    first_other = next((k for k, o in enumerate(listed) if o.entity not in expect.entities), None)
    if first_other is not None:
        if any(o.entity in expect.entities for o in listed[first_other:]):
            problems.append("the bank's outlets are not listed first")
        strays = [
            o
            for o in listed[first_other:]
            if not any(matches(o, want, case.now) for want in expect.local)
        ]
        if strays:
            problems.append(f"lists {_short(strays[0].name)}, which is not in the place")
    # the bank's branches: its machines (an off-site ATM may stand nearer) are not asked for
    banks = [o for o in truth.values() if o.entity in expect.entities and o.outlet == "branch"]
    nearest: set[str] = set()
    if banks:
        dist = {o.fi_code: haversine_m(lat, lng, o.lat, o.lng) for o in banks}
        best = min(dist.values())
        nearest = {c for c, d in dist.items() if d <= best + TIE_M}
    out = Outcome(case, False, False, "; ".join(problems), [last], nearest)
    if problems:
        return out
    codes = [o.fi_code for o in listed]
    out.top1 = codes[0] in nearest
    out.top3 = any(c in nearest for c in codes[:3])
    if not out.top1:
        out.why = "first result is not the bank's nearest to the place" + (
            "" if out.top3 else ", nor the next two"
        )
    return out


def _check_ask(expect: Ask, replies: list[BotReply], truth: dict[str, Outlet]) -> tuple[bool, str]:
    if len(replies) < 2 or not replies[-2].results:
        return False, "the previous reply listed no outlets"
    listed = [truth[r.fi_code] for r in replies[-2].results]
    n = expect.index or 1
    if n > len(listed):
        return False, f"the previous reply listed {len(listed)} outlets, asked for #{n}"
    target = listed[n - 1]
    said = replies[-1].text
    missing = [v for v in _field_values(target, expect.field) if v not in said]
    if missing:
        return False, f"#{n}'s {expect.field} ({' '.join(missing)}) is not in the reply"
    if expect.index is not None and expect.field in ("phone", "address", "detail"):
        mine = set(_field_values(target, expect.field))
        for other in listed:
            if other.fi_code == target.fi_code:
                continue
            leaked = [v for v in _field_values(other, expect.field) if v not in mine and v in said]
            if leaked:
                return False, f"the reply also gives another outlet's {expect.field}"
    return True, ""


def _check_more(case: Case, replies: list[BotReply], truth: dict[str, Outlet]) -> tuple[bool, str]:
    if len(replies) < 2 or not replies[-2].results:
        return False, "the previous reply listed no outlets"
    before = [r.fi_code for r in replies[-2].results]
    after = [r.fi_code for r in replies[-1].results]
    if not after:
        return False, "no further outlets"
    if set(before) & set(after):
        return False, "repeats outlets already listed"
    here = last_position(case)
    if here is not None:
        far = haversine_m(here.lat, here.lng, truth[before[-1]].lat, truth[before[-1]].lng)
        nxt = haversine_m(here.lat, here.lng, truth[after[0]].lat, truth[after[0]].lng)
        if nxt + TIE_M < far:
            return False, "the next page is nearer than the last page's end"
    return True, ""


# --- the report -----------------------------------------------------------------------------


def _conversation(case: Case) -> str:
    parts = []
    for turn in case.turns:
        bits = []
        if turn.at is not None:
            bits.append(f"[位置 {turn.at.label or ''} {turn.at.lat:.4f},{turn.at.lng:.4f}]")
        if turn.text is not None:
            bits.append(f"“{turn.text}”")
        parts.append(" ".join(bits))
    return " → ".join(parts)


def _short(name: str) -> str:
    return re.sub(r"(股份有限公司|有限责任公司|有限公司)", "", name)


def _want_text(want: Want) -> str:
    parts = ["/".join(want.entities or want.kinds) or "any outlet"]
    if want.regions:
        parts.append("in " + "/".join(want.regions))
    if want.name_has:
        parts.append("name has " + "/".join(want.name_has))
    if want.text_has:
        parts.append("name or address has " + "/".join(want.text_has))
    if want.name_ends:
        parts.append("name ends " + want.name_ends)
    if want.types:
        parts.append("offering " + "+".join(want.types))
    if want.open_now:
        parts.append("open now")
    return " ".join(parts)


def _describe_expectation(out: Outcome, truth: dict[str, Outlet]) -> str:
    expect = out.case.expect
    if isinstance(expect, Find):
        here = last_position(out.case)
        sample = sorted(out.expected)[:3]
        if here is not None:
            sample = sorted(
                out.expected,
                key=lambda c: haversine_m(here.lat, here.lng, truth[c].lat, truth[c].lng),
            )[:3]
        names = []
        for code in sample:
            o = truth[code]
            dist = (
                f" {haversine_m(here.lat, here.lng, o.lat, o.lng):.0f}m" if here is not None else ""
            )
            names.append(f"{_short(o.name)}{dist}")
        extra = f" (+{len(out.expected) - len(sample)} more)" if len(out.expected) > 3 else ""
        how = "the nearest of: " if expect.nearest else ""
        count = f", exactly {expect.count}" if expect.count else ""
        show = f", stating its {expect.show}" if expect.show else ""
        wants = " | ".join(_want_text(w) for w in expect.wants)
        return f"{how}{wants}{count}{show} → {'；'.join(names)}{extra}"
    if isinstance(expect, Ask):
        which = f"#{expect.index}" if expect.index else "#1 (or all)"
        return f"the {expect.field} of {which} of the previous reply"
    if isinstance(expect, More):
        return "further outlets, none listed before"
    if isinstance(expect, Chat):
        return "help: no outlets, a hint of what to ask"
    if isinstance(expect, AskLocation):
        return "a request for the position"
    if isinstance(expect, Elsewhere):
        wanted = " | ".join(_want_text(w) for w in expect.absent)
        local = " | ".join(_want_text(w) for w in expect.local)
        return (
            f"says {'/'.join(expect.names)} has none ({wanted}), then the bank's nearest to "
            f"its centre, with distances from it, then {local}"
        )
    assert isinstance(expect, Nothing)
    parts = ["says nothing matches"]
    if expect.absent is not None:
        parts.append(f"(no {_want_text(expect.absent)})")
    if expect.suggest:
        parts.append("and suggests " + " | ".join(_want_text(w) for w in expect.suggest))
    if expect.mentions:
        parts.append("repeating " + "、".join(expect.mentions))
    return " ".join(parts)


def _describe_answer(out: Outcome, truth: dict[str, Outlet]) -> list[str]:
    if not out.replies:
        return []
    last = out.replies[-1]
    here = last_position(out.case)
    lines = []
    for r in last.results[:3]:
        mark = "✓" if r.fi_code in out.expected else "✗"
        o = truth.get(r.fi_code)
        dist = (
            f" {haversine_m(here.lat, here.lng, o.lat, o.lng):.0f}m"
            if here is not None and o is not None
            else ""
        )
        lines.append(f"      {mark} {_short(r.name)}{dist}")
    text_lines = [t for t in last.text.splitlines() if t.strip()][:3]
    lines += [f"      | {t}" for t in text_lines]
    understood = {k: v for k, v in last.understood.items() if v not in (None, False, [], {})}
    if understood:
        lines.append(f"      understood: {understood}")
    return lines


def report(outcomes: list[Outcome], truth: dict[str, Outlet]) -> tuple[str, float, float]:
    lines = ["", "=== chat bot evaluation (demo data: 5000 outlets, seed 1) ===", ""]
    lines.append(f"{'kind':<12} {'cases':>5} {'top-1':>7} {'top-3':>7}")
    by_kind: dict[str, list[Outcome]] = {}
    for out in outcomes:
        by_kind.setdefault(out.case.kind, []).append(out)
    for kind in KINDS:
        group = by_kind.get(kind, [])
        if group:
            t1 = sum(o.top1 for o in group) / len(group)
            t3 = sum(o.top3 for o in group) / len(group)
            lines.append(f"{kind:<12} {len(group):>5} {t1:>7.1%} {t3:>7.1%}")
    top1 = sum(o.top1 for o in outcomes) / len(outcomes)
    top3 = sum(o.top3 for o in outcomes) / len(outcomes)
    lines.append(f"{'overall':<12} {len(outcomes):>5} {top1:>7.1%} {top3:>7.1%}")
    lines.append(f"(goal: top-1 >= {GOAL_TOP1:.0%}, top-3 >= {GOAL_TOP3:.0%})")
    failing = [o for o in outcomes if not o.top1]
    if failing:
        lines += ["", f"--- {len(failing)} cases not right at top-1 ---"]
    for out in failing:
        tag = "top-3 ok" if out.top3 else "FAIL"
        lines.append(
            f"[{out.case.kind}] {tag}: {_conversation(out.case)}  @{out.case.now:%a %m-%d %H:%M}"
        )
        lines.append(f"    why: {out.why}")
        lines.append(f"    expected: {_describe_expectation(out, truth)}")
        lines.append("    answered:")
        lines += _describe_answer(out, truth)
    return "\n".join(lines) + "\n", top1, top3


# --- fixtures and tests ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo data as ./run.sh loads it, committed once for the module."""
    data = tmp_path_factory.mktemp("bot_eval_data")
    load_generated(engine, data, outlets=OUTLETS, seed=SEED)
    yield data
    truncate_all(engine)


@pytest.fixture(scope="module")
def truth(demo: Path) -> dict[str, Outlet]:
    return read_outlets(demo)


def test_the_ground_truth_is_what_the_database_holds(
    engine: Engine, truth: dict[str, Outlet]
) -> None:
    with engine.connect() as conn:
        rows = conn.execute(
            text("""
            SELECT i.fi_code, ST_Y(o.position::geometry) AS lat, ST_X(o.position::geometry) AS lng
            FROM institution i JOIN outlet_profile o ON o.institution_id = i.id
            WHERE i.status = 'active' AND o.position IS NOT NULL""")
        ).all()
    assert {r.fi_code for r in rows} == set(truth)
    worst = max(haversine_m(r.lat, r.lng, truth[r.fi_code].lat, truth[r.fi_code].lng) for r in rows)
    assert worst < 0.05, f"positions differ by up to {worst:.3f} m"


def test_the_cases_are_sound(truth: dict[str, Outlet]) -> None:
    assert len(CASES) >= MIN_CASES
    kinds = Counter(c.kind for c in CASES)
    assert set(kinds) == set(KINDS), set(KINDS) ^ set(kinds)
    regions = {o.region for o in truth.values()}
    centres = place_centres()
    problems = []
    for case in CASES:
        expect = case.expect
        label = f"{case.kind}: {_conversation(case)}"
        if not case.turns or case.now.tzinfo is None:
            problems.append(f"{label}: no turns or a naive moment")
        if isinstance(expect, Find):
            if expect.nearest and last_position(case) is None:
                problems.append(f"{label}: nearest without a position")
            found = acceptable(truth.values(), expect, case)
            if not found:
                problems.append(f"{label}: nothing in the data is acceptable")
            if case.kind == "open_now" and case.now not in (NATIONAL_DAY, MAKEUP_SATURDAY):
                anytime = replace(
                    expect, wants=tuple(replace(w, open_now=False) for w in expect.wants)
                )
                if acceptable(truth.values(), anytime, case) == found:
                    problems.append(f"{label}: being open changes nothing at this moment")
            wants: tuple[Want, ...] = expect.wants
        elif isinstance(expect, Nothing):
            if expect.absent is not None and any(
                matches(o, expect.absent, case.now) for o in truth.values()
            ):
                problems.append(f"{label}: the data has what it says is absent")
            wants = (*expect.suggest, *([expect.absent] if expect.absent else []))
        elif isinstance(expect, Elsewhere):
            if any(matches(o, a, case.now) for a in expect.absent for o in truth.values()):
                problems.append(f"{label}: the data has what it says the place has not")
            if not any(o.entity in expect.entities for o in truth.values()):
                problems.append(f"{label}: the data has no outlet of the bank at all")
            if expect.place not in centres:
                problems.append(f"{label}: no centre for {expect.place}")
            wants = (*expect.absent, *expect.local)
        elif isinstance(expect, Ask | More):
            wants = ()
            if len(case.turns) < 2:
                problems.append(f"{label}: a follow-up needs an earlier message")
        else:
            wants = ()
        for want in wants:
            for prefix in want.regions:
                if not any(r.startswith(prefix) for r in regions):
                    problems.append(f"{label}: no outlet in region {prefix}")
    assert not problems, "\n".join(problems)


def test_bot_evaluation(
    engine: Engine,
    truth: dict[str, Outlet],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from bot.engine import BotEngine  # being written alongside: import errors fail this test

    bot = BotEngine("bot-eval-secret")
    outcomes: list[Outcome] = []
    with Session(engine) as session:
        for number, case in enumerate(CASES):
            savepoint = session.begin_nested()
            try:
                replies = converse(session, bot, case, f"eval-user-{number}")
                outcomes.append(score(case, replies, truth))
            except Exception as error:  # one crashing case must not hide the others
                outcomes.append(Outcome(case, False, False, f"raised {error!r}"))
            finally:
                if savepoint.is_active:
                    savepoint.rollback()
        session.rollback()

    text_report, top1, top3 = report(outcomes, truth)
    path = tmp_path_factory.mktemp("bot_eval_report") / "report.txt"
    path.write_text(text_report, encoding="utf-8")
    print(text_report + f"report written to {path}")
    assert top1 >= GOAL_TOP1 and top3 >= GOAL_TOP3, (
        f"top-1 {top1:.1%} (goal {GOAL_TOP1:.0%}), top-3 {top3:.1%} (goal {GOAL_TOP3:.0%}); "
        f"see {path}"
    )
