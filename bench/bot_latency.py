"""Chat bot latency per message, in process, at 200,000 and 1,000,000 generated outlets.

A fixed list of about 200 messages (built from the demo catalogue's names, never from the
real data): a bank alone, a bank and a place, a bank and its branch words, a landmark and a
business, typos, typed pinyin, questions with a shared position, short conversations with
follow-ups (第二个的电话, 更多) and a few chats. Each message is answered the way the chat
API does it: a session of its own, `BotEngine.reply`, commit. A warm-up pass (other users)
builds the lexicon and warms the caches first; then every message is timed.

Baseline, in the same run: plain `rapidfuzz.process.extract(text, names, scorer=WRatio,
limit=5)` over every outlet name held in memory (`SELECT name FROM institution`), on the
same texts. It costs seconds a message at 1,000,000 names, so it runs on an evenly spread
subset (`--baseline-queries`, default 50).

Goal: p95 <= 30 ms and no message over 100 ms at 1,000,000 outlets.

Every SQL statement is timed through SQLAlchemy's cursor events, so the report also says
how much of a message is SQL, which messages dominate the p95, and shows EXPLAIN (ANALYZE,
BUFFERS) of the slowest statements behind them, with their parameters.

Databases: `branchfinder_bench_geo_<N>`, shared with bench/geo_search.py (generated and
loaded once, kept for later runs); `--database-prefix` names others, e.g. copies made with
`CREATE DATABASE branchfinder_bench_bot_200000 TEMPLATE branchfinder_bench_geo_200000`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rapidfuzz import fuzz, process
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import DBAPIError

from backend.demo.catalog import CITY_NAMES, LEGAL_ENTITIES, PLACES, LegalEntity
from bench.common import report
from bench.geo_search import bench_database
from bot.engine import BotEngine
from bot.messages import BotInput, SharedLocation
from core.database import make_engine, make_sessionmaker, session_scope
from registry.regions import jiangsu_places

GOAL_P95_MS = 30.0  # issue 16's goal at a million outlets, with
GOAL_MAX_MS = 100.0  # no message slower than this
GOAL_OUTLETS = 1_000_000
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
DATABASE_PREFIX = "branchfinder_bench_geo_"
SLOWEST = 12  # messages listed
PLANS = 5  # statement shapes explained (their slowest run), at the largest size
PLAN_LINES = 45


@dataclass(frozen=True)
class Message:
    kind: str
    conversation: int  # messages of one conversation share a user
    text: str | None
    location: SharedLocation | None = None


@dataclass
class Timing:
    message: Message
    ms: float
    sql: list[tuple[float, str, Any]] = field(default_factory=list)  # ms, statement, params
    results: int = 0
    error: str | None = None

    @property
    def sql_ms(self) -> float:
        return sum(ms for ms, _, _ in self.sql)


# --- the messages ----------------------------------------------------------------------------


def _aliases(entity: LegalEntity) -> list[str]:
    return [a for a in (entity.brand, *entity.short_names) if not a.isascii()]


def _point(rng: random.Random, pref4: str) -> SharedLocation:
    """A WGS-84 point near the built-up centre of a county of this prefecture."""
    counties = [p for p in jiangsu_places() if p.code[:4] == pref4 and not p.code.endswith("00")]
    county = rng.choices(counties, weights=[c.weight for c in counties])[0]
    return SharedLocation(
        county.lat + rng.gauss(0, county.radius_km / 111 / 3),
        county.lng + rng.gauss(0, county.radius_km / 100 / 3),
        county.name,
    )


def messages(seed: int = 11) -> list[Message]:
    """About 200 realistic messages, the same for every run (catalogue names only)."""
    rng = random.Random(seed)
    banks = [e for e in LEGAL_ENTITIES if e.category in ("bank", "rural_bank") and e.weight > 0]
    weights = [e.weight for e in banks]
    others = [e for e in LEGAL_ENTITIES if e.category in ("insurance", "securities")]
    counties = [p for p in jiangsu_places() if not p.code.endswith("00")]
    out: list[Message] = []
    conversation = 0

    def add(kind: str, text_: str | None, location: SharedLocation | None = None) -> None:
        nonlocal conversation
        conversation += 1
        out.append(Message(kind, conversation, text_, location))

    def bank() -> LegalEntity:
        return rng.choices(banks, weights=weights)[0]

    def in_scope(entity: LegalEntity) -> str:
        return rng.choice(entity.prefectures)

    # 1. a bank (or insurer, broker) alone
    for k in range(20):
        entity = bank() if k < 15 else rng.choice(others)
        alias = rng.choice(_aliases(entity))
        add("entity", rng.choice((alias, alias, f"{alias}在哪", f"{alias}的网点")))
    # 2. a bank and a place
    for _ in range(25):
        entity = bank()
        county = rng.choice([c for c in counties if entity.operates_in(c.code[:4])])
        alias = rng.choice(_aliases(entity))
        short = county.name[:-1] if len(county.name) > 2 else county.name
        city = CITY_NAMES[county.code[:4]]
        form = rng.choice(
            (f"{county.name}的{alias}", f"{short}{alias}", f"{alias} {county.name}", city + alias)
        )
        add("entity+place", form)
    # 3. a bank and its branch words (the branch exists in generated data: PLACES come first)
    for _ in range(25):
        entity = bank()
        pref = in_scope(entity)
        place = rng.choice(PLACES[pref][:12])
        alias = rng.choice(_aliases(entity))
        city = CITY_NAMES[pref]
        form = rng.choice(
            (
                f"{alias}{place}支行",
                f"{place}{alias}",
                f"{alias}{place}",
                f"{entity.name}{city}{place}支行",
                f"{city}{place}的{alias}电话",
            )
        )
        add("entity+branch", form)
    # 4. a landmark and a business
    business = (
        "{p}哪里能换外币",
        "{p}附近取钱",
        "{p} ATM",
        "{p}能办社保卡的银行",
        "{p}哪里可以打征信",
        "{p}换零钱",
        "{p}有没有能存钱的银行",
        "{p}买黄金",
        "{p}残币兑换",
        "{p}对公开户",
    )
    for k in range(25):
        pref = rng.choice(sorted(PLACES))
        add("landmark+business", business[k % len(business)].format(p=rng.choice(PLACES[pref])))
    # 5. typos
    typos = (
        "建航",
        "工航",
        "农航",
        "招商很行",
        "中国农业很行",
        "南京很行",
        "江苏引行",
        "建没银行",
        "邮政储畜",
        "新街口建航",
        "鼓楼公行",
        "中国建没",
        "交通很行",
        "紫金农伤",
        "平安很行",
    )
    for typo in typos:
        add("typo", typo)
    # 6. typed pinyin and English
    pinyin = (
        "jianhang",
        "gonghang",
        "nonghang",
        "zhaohang",
        "youchu",
        "gonghang xinjiekou",
        "jianhang gulou",
        "nanjingyinhang",
        "ICBC",
        "bank of china",
        "jian hang",
        "gong hang jiangning",
        "zhonghang suzhou",
        "jiaohang",
        "CMB",
    )
    for word in pinyin:
        add("pinyin", word)
    # 7. with a shared position
    near = (
        "最近的{a}",
        "附近的{a}",
        "附近能换外币的银行",
        "3公里内的{a}",
        "附近的ATM",
        "现在开门的{a}",
        "离我最近的{a}在哪",
        "附近哪里能取钱",
    )
    for k in range(25):
        entity = bank()
        pref = in_scope(entity)
        form = near[k % len(near)].format(a=rng.choice(_aliases(entity)))
        add("with position", form, _point(rng, pref))
    # 8. conversations: a search, then follow-ups about its results (same user)
    follow = ("第二个的电话", "第1个地址", "第三个几点开门", "更多", "第二个", "第一个的电话")
    for k in range(15):
        entity = bank()
        pref = in_scope(entity)
        alias = rng.choice(_aliases(entity))
        conversation += 1
        if k % 3 == 2:  # asks for a position first, then gets it
            out.append(Message("conversation", conversation, f"最近的{alias}"))
            out.append(Message("conversation", conversation, None, _point(rng, pref)))
        else:
            out.append(Message("conversation", conversation, f"附近的{alias}", _point(rng, pref)))
        out.append(Message("follow-up", conversation, follow[k % len(follow)]))
        out.append(Message("follow-up", conversation, follow[(k + 3) % len(follow)]))
    # 9. chat and nothing found
    for chat in ("你好", "帮助", "谢谢", "工行月球路支行", "qwxzv", "?", "南京银行火星路支行"):
        add("chat / nothing found", chat)
    return out


# --- timing ----------------------------------------------------------------------------------


class SqlLog:
    """Times every statement on an engine (cursor events), for the current message."""

    def __init__(self, engine: Engine) -> None:
        self.current: list[tuple[float, str, Any]] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def _after(self, conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        started = conn.info["bench_started"].pop()
        self.current.append(((time.perf_counter() - started) * 1000, statement, params))


def run_messages(
    engine: Engine, log: SqlLog, bot: BotEngine, batch: list[Message], tag: str
) -> list[Timing]:
    sessions = make_sessionmaker(engine)
    timings: list[Timing] = []
    for message in batch:
        log.current = []
        item = BotInput(
            user=f"{tag}-{message.conversation}", text=message.text, location=message.location
        )
        start = time.perf_counter()
        error = None
        results = 0
        try:
            with session_scope(sessions) as session:
                results = len(bot.reply(session, item, MONDAY_10).results)
        except DBAPIError as exc:  # e.g. the statement timeout: counted, shown, not fatal
            error = str(exc.orig).splitlines()[0]
        ms = (time.perf_counter() - start) * 1000
        timings.append(Timing(message, ms, log.current, results, error))
    return timings


def baseline(names: list[str], texts: list[str]) -> list[float]:
    times = []
    for t in texts:
        start = time.perf_counter()
        process.extract(t, names, scorer=fuzz.WRatio, limit=5)
        times.append((time.perf_counter() - start) * 1000)
    return times


def pct(values: list[float], p: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def explain(engine: Engine, statement: str, params: Any) -> list[str]:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("SET statement_timeout = 0")
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
        lines = [str(row[0]) for row in cursor.fetchall()]
        raw.rollback()
        return lines
    finally:
        raw.close()


def _one_line(statement: str, width: int = 160) -> str:
    flat = " ".join(statement.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


@dataclass
class SizeResult:
    outlets: int
    timings: list[Timing]
    base: list[float]
    lexicon_ms: float
    engine: Engine


def measure(
    outlets: int, batch: list[Message], warmup: int, baseline_every: int, prefix: str
) -> SizeResult:
    url = bench_database(outlets, prefix)
    engine = make_engine(url)
    log = SqlLog(engine)
    bot = BotEngine("bench-latency")
    start = time.perf_counter()
    with session_scope(make_sessionmaker(engine)) as session:
        bot.lexicon(session)
    lexicon_ms = (time.perf_counter() - start) * 1000
    step = max(1, len(batch) // max(warmup, 1))
    print(f"{outlets:,}: warming up ({len(batch[::step])} messages)", file=sys.stderr)
    run_messages(engine, log, bot, batch[::step], "warm")
    print(f"{outlets:,}: timing {len(batch)} messages", file=sys.stderr)
    timings = run_messages(engine, log, bot, batch, "timed")
    log.current = []  # the statements below belong to no message
    with engine.connect() as conn:
        names = list(conn.execute(text("SELECT name FROM institution")).scalars())
    texts = [m.text for m in batch[::baseline_every] if m.text]
    print(f"{outlets:,}: baseline over {len(names):,} names, {len(texts)} texts", file=sys.stderr)
    base = baseline(names, texts)
    del names
    with engine.begin() as conn:  # leave no benchmark users behind
        conn.execute(text("DELETE FROM bot_conversation"))
    return SizeResult(outlets, timings, base, lexicon_ms, engine)


def summary_rows(result: SizeResult) -> list[tuple[str, str]]:
    ms = [t.ms for t in result.timings]
    sql = [t.sql_ms for t in result.timings]
    n = f"{result.outlets:,}"
    p95, b95 = pct(ms, 95), pct(result.base, 95)
    rows = [
        (
            f"{n}: bot per message",
            f"p50 {pct(ms, 50):.1f} ms, p95 {p95:.1f} ms, max {max(ms):.0f} ms "
            f"({len(ms)} messages)",
        ),
        (
            f"{n}:   of which SQL",
            f"p50 {pct(sql, 50):.1f} ms, p95 {pct(sql, 95):.1f} ms, "
            f"{sum(sql) / sum(ms):.0%} of all time",
        ),
        (
            f"{n}: baseline rapidfuzz extract (WRatio, limit 5)",
            f"p50 {pct(result.base, 50):.0f} ms, p95 {b95:.0f} ms ({len(result.base)} texts)",
        ),
        (
            f"{n}: bot vs baseline",
            f"p50 {pct(result.base, 50) / pct(ms, 50):.1f}x, p95 {b95 / p95:.1f}x faster",
        ),
        (f"{n}: lexicon build (first message)", f"{result.lexicon_ms:.0f} ms"),
    ]
    errors = [t for t in result.timings if t.error]
    if errors:
        rows.append((f"{n}: failed messages", f"{len(errors)}, e.g. {errors[0].error}"))
    by_kind: dict[str, list[float]] = defaultdict(list)
    for t in result.timings:
        by_kind[t.message.kind].append(t.ms)
    for kind, values in by_kind.items():
        rows.append(
            (
                f"{n}:   {kind}",
                f"p50 {pct(values, 50):.1f} ms, p95 {pct(values, 95):.1f} ms, "
                f"max {max(values):.0f} ms ({len(values)})",
            )
        )
    return rows


def shape_of(statement: str) -> str:
    """A short name for a statement's shape: which table, which filters, which order."""
    s = statement.lower()
    if "bot_conversation" in s:
        return "memory: " + s.split()[0]
    if "import_batch" in s:
        return "lexicon: registry version"
    if "head_office" in s or "level =" in s:
        return "lexicon: legal entities"
    if "fi_code in" in s and "limit" not in s:
        return "by_fi_codes (follow-up)"
    parts = [
        label
        for needle, label in (
            ("<->", "near"),
            ("legal_entity_code in", "entities"),
            ("legal_entity_code = any", "entities"),
            ("category in", "category"),
            ("region_code like", "region"),
            ("business_types @>", "business"),
            ("ilike", "text"),
            ("text_bigrams", "words"),
            ("name_stem", "named"),
        )
        if needle in s
    ]
    return "search: " + ("+".join(parts) or "all") if "from institution" in s else s[:40]


def diagnose(result: SizeResult, plans: bool) -> None:
    """Which statements the time goes to, the slowest messages, and plans of the worst."""
    ms = [t.ms for t in result.timings]
    total_sql = sum(t.sql_ms for t in result.timings)
    shapes: dict[str, list[tuple[float, str, Any, str]]] = defaultdict(list)
    for t in result.timings:
        for sql_ms, statement, params in t.sql:
            shapes[shape_of(statement)].append((sql_ms, statement, params, t.message.text or ""))
    print(f"\nSQL by statement shape at {result.outlets:,} outlets (timed pass):")
    print(f"  {'shape':<44} {'count':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'share':>6}")
    ranked = sorted(shapes.items(), key=lambda kv: -sum(x[0] for x in kv[1]))
    for shape, runs in ranked:
        times = [x[0] for x in runs]
        print(
            f"  {shape:<44} {len(runs):>5} {pct(times, 50):>8.1f} {pct(times, 95):>8.1f} "
            f"{max(times):>8.0f} {sum(times) / total_sql:>6.0%}"
        )
    cut = pct(ms, 95)
    print(f"\nslowest messages at {result.outlets:,} outlets (p95 {cut:.0f} ms):")
    for t in sorted(result.timings, key=lambda t: -t.ms)[:SLOWEST]:
        top = max(t.sql, default=(0.0, "", None))
        where = f" at {t.message.location.label}" if t.message.location else ""
        print(
            f"  {t.ms:7.0f} ms  {t.message.text or '(position)'}{where} [{t.message.kind}]: "
            f"{len(t.sql)} statements, SQL {t.sql_ms:.0f} ms, slowest {top[0]:.0f} ms "
            f"({shape_of(top[1])})"
        )
    if not plans:
        return
    shown = 0
    for shape, runs in ranked:
        sql_ms, statement, params, said = max(runs, key=lambda x: x[0])
        if sql_ms < GOAL_P95_MS or shown >= PLANS:
            continue
        shown += 1
        print(f"\n--- {shape}: slowest {sql_ms:.0f} ms, for {said!r}")
        print(f"    SQL: {_one_line(statement, 2000)}")
        print(f"    parameters: {_one_line(repr(params), 600)}")
        for line in explain(result.engine, statement, params)[:PLAN_LINES]:
            print(f"    {line}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--outlets", type=int, nargs="+", default=[200_000, 1_000_000])
    parser.add_argument("--warmup", type=int, default=50, help="messages in the warm-up pass")
    parser.add_argument(
        "--baseline-queries", type=int, default=50, help="texts timed for the baseline"
    )
    parser.add_argument(
        "--database-prefix",
        default=DATABASE_PREFIX,
        help="databases are <prefix><outlets>, e.g. a copy made with CREATE DATABASE … TEMPLATE",
    )
    args = parser.parse_args()

    batch = messages()
    texts = sum(1 for m in batch if m.text)
    every = max(1, texts // max(args.baseline_queries, 1))
    results = [measure(n, batch, args.warmup, every, args.database_prefix) for n in args.outlets]
    rows: list[tuple[str, str]] = []
    for result in results:
        rows += summary_rows(result)
    biggest = max(results, key=lambda r: r.outlets)
    p95 = pct([t.ms for t in biggest.timings], 95)
    worst = max(t.ms for t in biggest.timings)
    verdict = "met" if p95 <= GOAL_P95_MS and worst <= GOAL_MAX_MS else "NOT met"
    rows.append(
        (
            "goal",
            f"p95 <= {GOAL_P95_MS:.0f} ms, max <= {GOAL_MAX_MS:.0f} ms at {GOAL_OUTLETS:,} "
            f"outlets: p95 {p95:.1f} ms, max {worst:.0f} ms at {biggest.outlets:,}, {verdict}",
        )
    )
    report(rows)
    for result in results:
        diagnose(result, plans=result is biggest)
        result.engine.dispose()


if __name__ == "__main__":
    main()
