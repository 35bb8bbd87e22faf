"""The chat bot's vocabularies: legal entities, places, business words and intent words.

People type "最近的工行", "jianhang", "邮储 江宁 征信查询": a short message made of a few
known words and a place or landmark the bot has never heard of. `bot.understand` reads a
message by looking its pieces up here, so everything it can recognise lives in one
`Lexicon`:

- **Legal entities** are built from records the caller passes in (in production the
  registry's head offices; in tests the demo catalogue), never from a list in code, because
  the registry is the truth about which institutions exist. What code does know is how
  people *call* them: `CONVENTIONS` (in `registry.entity_names`, shared with the registry
  search) gives the usual abbreviations (工行, ICBC, gonghang, gh) keyed by the legal name
  without its company form, and every name also yields aliases by
  rule (中国工商银行 → 工商银行, 江苏紫金农村商业银行 → 紫金农商行 ...) and their pinyin.
- **Places** are Jiangsu's prefectures and county-level units from `registry.regions`, with
  and without their suffix (鼓楼区/鼓楼); an ambiguous name keeps every code.
- **Business words** map everyday words (换外币, 破钱, ATM) onto the keys of
  `profiles.business_types`, the one vocabulary.
- **Intent words**: nearest, open now, follow-up questions, greetings, help, fillers.

The static vocabularies are built once per process (`functools.cache`); a `Lexicon` for a
given set of records is cached too (`lexicon_for`), so the engine may call it per message.
Pinyin is precomputed for every alias and typo candidates are indexed by their first
syllable, so a message costs dictionary look-ups plus a few comparisons (tens of
microseconds).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass
from typing import Literal

from pypinyin import Style, lazy_pinyin, pinyin
from rapidfuzz import fuzz, process

from profiles.business_types import BUSINESS_TYPES
from registry import regions
from registry.entity_names import CONTRACTIONS, CONVENTIONS, ENGLISH_NAMES, Convention
from registry.entity_names import stem as name_stem

__all__ = [
    "CONVENTIONS",
    "Convention",
    "EntityRecord",
    "Lexicon",
    "Meaning",
    "TypoMatch",
    "build_lexicon",
    "char_readings",
    "lexicon_for",
    "near_syllable",
]

Kind = Literal[
    "entity",  # value: legal entity code
    "category",  # value: institution category (bank, insurance, securities)
    "business",  # value: business type key
    "machine",  # a cash machine is asked for: an ATM or a self-service bank (outlet kinds)
    "place",  # value: GB/T 2260 region code
    "nearest",
    "open_now",
    "ask",  # value: phone, address, hours, detail, more
    "count",  # value: a number as text
    "greeting",
    "help",
    "filler",  # dropped: never part of a landmark
    "weak",  # dropped, unless it sits inside an unknown word (在 in 我在新街口 vs 存在路)
    "landmark",  # a known name that is no institution of ours: searched as text, never guessed
]


@dataclass(frozen=True, slots=True)
class Meaning:
    kind: Kind
    value: str = ""


@dataclass(frozen=True, slots=True)
class EntityRecord:
    """A legal entity as the registry has it: the head office's code, names and category."""

    legal_entity_code: str
    name: str
    short_name: str | None
    category: str


@dataclass(frozen=True, slots=True)
class TypoMatch:
    """A stretch of unknown text that reads like an alias: 建航 → 建行."""

    start: int
    end: int
    alias: str
    codes: tuple[str, ...]
    how: Literal["pinyin", "near_pinyin", "fuzzy"]
    score: float


def _w(text: str) -> tuple[str, ...]:
    """Words written as one space-separated string: the vocabularies stay readable."""
    return tuple(text.split())


# --- legal entities ---------------------------------------------------------------------------


# Groups named by one word: every entity whose name holds a marker. 农商行 means every rural
# commercial bank; Jiangsu people still call them 信用社 / 农信社 from before the reform.
_GROUPS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (
        _w("农村商业银行 农村合作银行 农村信用 农商银行"),
        _w(
            "农商行 农商银行 农村商业银行 农商 农信社 农村信用社 信用社 农合行 农村合作银行 "
            "nongshanghang nongshang nongxinshe"
        ),
    ),
    (
        _w("村镇银行"),
        _w("村镇银行 cunzhenyinhang"),
    ),
)

# --- business types ---------------------------------------------------------------------------

# Everyday words for each business type key; each type's own Chinese label is added too.
# Cash: taking or putting cash (取钱, 存钱) is a machine's job (MACHINE_WORDS: ATMs and
# self-service banks, which the search finds as kinds of outlet); 现金, 存取款, 定期 mean
# the counter. 24小时 means open all hours (self_service_24h). `understand` drops `cash`
# when `self_service_24h` is asked for, since the search requires every type named.
_BUSINESS_WORDS: dict[str, tuple[str, ...]] = {
    "cash": _w("存款 现金 存取款 定期 活期 存定期"),
    "cash_out": _w("取钱 取款 取现 提现 取现金 取点钱 取个钱 取取钱 取款机 提款机 自动取款机"),
    "cash_in": _w("存钱 存现金 存现 存点钱 存款机 存钱机"),
    "personal_account": _w(
        "开户 办卡 开卡 办银行卡 办张卡 开个户 开账户 开银行卡 申请银行卡 储蓄卡 借记卡"
    ),
    "corporate_account": _w(
        "对公 对公业务 公司开户 企业开户 单位开户 公户 开公户 基本户 开基本户 公司账户 企业账户"
    ),
    "foreign_exchange": _w(
        "换外币 兑换外币 换外汇 外汇 外币 换汇 购汇 结汇 换美元 换美金 换港币 换日元 换欧元 "
        "换英镑 换韩元 美元 美金 港币 港元 日元 欧元 英镑 韩元 泰铢 forex currency"
    ),
    "damaged_notes": _w(
        "残币 残钞 残损 残损币 残缺 污损 破损 破钱 破币 烂钱 钱破了 钱烂了 换残币 残损人民币"
    ),
    "coin_exchange": _w("换零钱 零钱 兑换零钱 硬币 换硬币 零钞 换零钞"),
    "credit_report": _w(
        "征信 查征信 打征信 征信报告 信用报告 个人信用报告 打印征信 信用记录 查信用"
    ),
    "foreign_card": _w(
        "外卡 境外卡 境外银行卡 外国卡 外国人 老外 外籍 visa mastercard 万事达 jcb 运通"
    ),
    "wealth_management": _w("理财 买理财 理财产品 基金 买基金"),
    "loans": _w("贷款 房贷 车贷 经营贷 消费贷 借钱 借款 按揭 办贷款"),
    "insurance": _w("保险 买保险 代理保险"),
    "securities": _w("证券 炒股 股票 股票开户 证券开户"),
    "precious_metals": _w("黄金 金条 买金条 买黄金 白银 积存金"),
    "social_security_card": _w("社保卡 社保 医保卡 市民卡 社会保障卡"),
    "self_service_24h": _w("24小时 24h 二十四小时 全天 通宵 24小时自助银行"),
    "wheelchair_access": _w("无障碍 轮椅 轮椅通道 残疾人 残障 坡道 盲道"),
    "elderly_friendly": _w("适老 适老化 老年人 老人 老年 敬老 爱老"),
    "parking": _w("停车 停车场 停车位 车位 好停车 能停车 方便停车"),
}

# Words that ask for a cash machine: the search then looks among ATMs and self-service
# banks (core.models.registry.OUTLET_KINDS) instead of branches.
MACHINE_WORDS = _w(
    "atm atm机 柜员机 自助 自助银行 自助机 自助设备 离行式自助银行 存取款机 存取款一体机 "
    "取钱 取款 取现 提现 取现金 取点钱 取个钱 取取钱 取款机 提款机 自动取款机 "
    "存钱 存现金 存现 存点钱 存款机 存钱机 24小时自助银行"
)

# Institution categories as `registry.codes` names them (the fi_code's first letter).
_CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "bank": _w("银行 银行网点 bank"),
    "insurance": _w("保险公司 保险网点 insurance"),
    "securities": _w("证券公司 券商 证券营业部 securities broker"),
}

# --- intents ----------------------------------------------------------------------------------

_INTENT_WORDS: tuple[tuple[Kind, str, tuple[str, ...]], ...] = (
    (
        "nearest",
        "",
        _w(
            "最近 附近 附近有 离我近 离我最近 离这最近 离这里最近 周边 旁边 周围 就近 身边 边上 "
            "近一点 近点 这附近 不远 zuijin fujin nearby nearest near closest"
        ),
    ),
    (
        "open_now",
        "",
        _w(
            "现在开门 现在开着 现在营业 营业中 正在营业 开着的 开着 还开着 还开门 还营业 还在营业 "
            "现在能去 现在可以去 开门 营业的 没关门 没下班 现在 此刻 这会儿 马上能去 open"
        ),
    ),
    (
        "ask",
        "phone",
        _w("电话 电话号码 号码 联系电话 联系方式 怎么联系 打电话 座机 客服电话 phone tel"),
    ),
    (
        "ask",
        "address",
        _w("地址 详细地址 具体地址 位置 具体位置 怎么走 怎么去 导航 路线"),
    ),
    (
        "ask",
        "hours",
        (
            *_w(
                "营业时间 几点开门 几点关门 几点下班 几点上班 开门时间 关门时间 上班时间 下班时间 "
                "工作时间 营业到几点 开到几点 几点营业 几点到几点 几点 时间 hours"
            ),
            # "is it open at the weekend": the answer is the hours, not "open now"
            *_w(
                "周末 周六 周日 星期六 星期天 星期日 节假日 假期 周末开门 周末营业 周末上班 "
                "周六开门 周日开门 节假日营业"
            ),
        ),
    ),
    (
        "ask",
        "detail",
        _w("详情 详细信息 详细 具体信息 介绍 detail details"),
    ),
    (
        "ask",
        "more",
        _w(
            "更多 下一页 还有吗 还有呢 还有没有 换一批 下一批 再来几个 再来几家 再多几个 其他的 "
            "其他 别的 更远的 more next"
        ),
    ),
    (
        "count",
        "3",
        _w("几家 几个 一些"),
    ),
    (
        "greeting",
        "",
        _w("你好 您好 哈喽 哈啰 嗨 在吗 在不在 早上好 上午好 下午好 晚上好 早安 hi hello hey"),
    ),
    (
        "help",
        "",
        _w(
            "帮助 怎么用 如何使用 怎么使用 使用说明 说明 你能干什么 你能做什么 你会什么 能做什么 "
            "功能 菜单 教程 用法 help"
        ),
    ),
    (
        "filler",
        "",
        (
            # particles and politeness
            *_w(
                "的 了 吗 嘛 呢 啊 呀 吧 哦 噢 哈 啦 么 请问 请 麻烦 麻烦你 谢谢 多谢 感谢 好的 嗯"
            ),
            # wanting and looking
            *_w(
                "我想 我要 想要 我想要 帮我 帮我找 给我 告诉我 问一下 问下 一下 找一下 查一下 "
                "查下 看一下 看下 查询 搜索 搜 查找 寻找 推荐 办理 办 兑换 打印 方便"
            ),
            # banking words without a business type of their own: not landmarks either
            *_w(
                "转账 汇款 挂失 补卡 销户 激活 改密码 密码 信用卡 银行卡 存折 网银 手机银行 流水 "
                "银行流水 回单 对账单"
            ),
            # doing and asking
            *_w(
                "业务 服务 哪里 哪儿 哪 在哪 在哪里 在哪儿 哪个 哪些 哪家 有没有 有吗 没有 可以 "
                "能不能 可不可以 能够 什么 啥 怎么 如何 多少 是多少 地方 我们 你们 这里 那里 这个 "
                "那个 这边 还是 或者 以及 还有"
            ),
            # times of day: "open now" is what they ask about, and 现在/开着 say it
            *_w("今天 明天 今晚 晚上 早上 上午 中午 下午 白天 等会 待会 马上"),
            # the whole country and province: the product covers Jiangsu only
            *_w("中国 江苏 江苏省"),
            # generic outlet words: they are in every outlet's name
            *_w(
                "网点 营业网点 支行 分行 总行 营业部 营业厅 分理处 储蓄所 分公司 支公司 "
                "营销服务部 服务点 门店 办事处 柜台 机构 金融机构"
            ),
            # English
            *_w(
                "please pls the a an where is are i want to find me my ok thanks thank you of in "
                "at for any now"
            ),
        ),
    ),
    # The central bank is no outlet, but sounds like 中国民生银行 to a typo matcher.
    (
        "landmark",
        "",
        _w("中国人民银行 人民银行 人行 央行"),
    ),
    (
        "weak",
        "",
        _w("我 你 在 去 到 有 能 要 想 找 查 看 问 是 还 都 就 也 可 给 帮 和 跟 与 及 换"),
    ),
)

# --- pinyin -----------------------------------------------------------------------------------

_CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@functools.lru_cache(maxsize=32768)
def char_readings(ch: str) -> tuple[str, ...]:
    """Every toneless reading of one character (行 → xing, hang, heng); itself if none.

    Cached per character because pypinyin costs tens of microseconds a call and the
    characters people type come from a small set.
    """
    if not _CJK_RE.match(ch):
        return (ch,)
    readings = pinyin(ch, style=Style.NORMAL, heteronym=True, errors="ignore")
    found = tuple(dict.fromkeys(r for group in readings for r in group if r))
    return found or (ch,)


def near_syllable(syllable: str) -> str:
    """The syllable as a southern or careless typist may hear it, for near-sound matching.

    Folds the usual fuzzy-pinyin pairs of Chinese input methods: zh/z, ch/c, sh/s, n/l,
    h/f, and -ng/-n endings, so 建航 (jianhang) and 监行 (jianhang) or 招行/早行 meet.
    """
    s = syllable
    for retroflex, flat in (("zh", "z"), ("ch", "c"), ("sh", "s")):
        if s.startswith(retroflex):
            s = flat + s[2:]
            break
    if s.startswith("n") and s != "ng":
        s = "l" + s[1:]
    elif s.startswith("f"):
        s = "h" + s[1:]
    if s.endswith("ng") and len(s) > 2:
        s = s[:-1]
    return s


def _syllables(text: str) -> tuple[str, ...]:
    """Phrase-aware pinyin of a known name (银行 → yin hang, not yin xing)."""
    return tuple(lazy_pinyin(text, style=Style.NORMAL, errors="ignore"))


def _is_cjk(text: str) -> bool:
    return bool(text) and all(_CJK_RE.match(ch) for ch in text)


def _ascii_key(text: str) -> str:
    """English and pinyin aliases are matched lower-case without spaces (China Life → chinalife)."""
    return re.sub(r"\s+", "", text.lower())


# --- static vocabularies, built once ------------------------------------------------------------


@dataclass(frozen=True)
class _Static:
    phrases: dict[str, tuple[Meaning, ...]]
    place_names: dict[str, str]  # code → official name
    # every name of a Jiangsu place (鼓楼区, 鼓楼) with its codes and pinyin, by the length
    # and the near-sound first syllable, for misspelt places (古楼区, 苏洲)
    place_typos: dict[tuple[int, str], tuple[_PlaceEntry, ...]]
    # names of real places elsewhere (宿州, 台州, 西山区) and of former Jiangsu ones (下关):
    # never a misspelling of a Jiangsu name that sounds the same
    elsewhere: frozenset[str]
    # characters many place names share (州, 城, 湖, 山, 区 ...): keeping one of them in
    # place is no sign of a misspelt place (淹城 is not 盐城, 近湖 not 金湖)
    place_generic: frozenset[str]


@dataclass(frozen=True, slots=True)
class _PlaceEntry:
    name: str
    codes: tuple[str, ...]
    syllables: tuple[str, ...]
    near: tuple[str, ...]


def _add(table: dict[str, list[Meaning]], surface: str, meaning: Meaning) -> None:
    key = surface if _is_cjk(surface) else _ascii_key(surface)
    if not key:
        return
    found = table.setdefault(key, [])
    if meaning not in found:
        found.append(meaning)


def _place_variants(name: str) -> set[str]:
    """南京市 → {南京市, 南京}; 丰县 stays whole because 丰 alone is too ambiguous."""
    variants = {name}
    if name[-1] in "市区县" and len(name) >= 3:
        variants.add(name[:-1])
    return variants


_GENERIC_PLACE_CHAR = 3  # a character in this many place names is no sign of one of them


@functools.cache
def _static() -> _Static:
    table: dict[str, list[Meaning]] = {}
    place_names: dict[str, str] = {}
    place_codes: dict[str, list[str]] = {}
    for region in regions.all_regions():
        if not region.code.startswith("32") or region.level == "province":
            continue
        place_names[region.code] = region.name
        for variant in _place_variants(region.name):
            _add(table, variant, Meaning("place", region.code))
            _add(table, "".join(_syllables(variant)), Meaning("place", region.code))
            place_codes.setdefault(variant, []).append(region.code)
    place_typos: dict[tuple[int, str], list[_PlaceEntry]] = {}
    for name, codes in place_codes.items():
        syllables = _syllables(name)
        if len(syllables) != len(name):
            continue
        near = tuple(near_syllable(x) for x in syllables)
        entry = _PlaceEntry(name, tuple(codes), syllables, near)
        place_typos.setdefault((len(name), near[0]), []).append(entry)
    stems = {min(_place_variants(name), key=len) for name in place_names.values()}
    shared: dict[str, int] = {}
    for stem in stems:
        for ch in set(stem):
            shared[ch] = shared.get(ch, 0) + 1
    generic = {ch for ch, n in shared.items() if n >= _GENERIC_PLACE_CHAR} | set("市区县")
    elsewhere = {
        variant
        for region in regions.all_regions(current_only=False)
        for variant in (region.name, region.name[:-1] if region.name[-1] in "市区县省" else "")
        if len(variant) >= 2 and variant not in place_codes
    }
    for bt in BUSINESS_TYPES:
        _add(table, bt.label_zh, Meaning("business", bt.key))
        for word in _BUSINESS_WORDS.get(bt.key, ()):
            _add(table, word, Meaning("business", bt.key))
    for word in MACHINE_WORDS:
        _add(table, word, Meaning("machine", "machine"))
    for category, words in _CATEGORY_WORDS.items():
        for word in words:
            _add(table, word, Meaning("category", category))
    for kind, value, words in _INTENT_WORDS:
        for word in words:
            _add(table, word, Meaning(kind, value))
    return _Static(
        {k: tuple(v) for k, v in table.items()},
        place_names,
        {k: tuple(v) for k, v in place_typos.items()},
        frozenset(elsewhere),
        frozenset(generic),
    )


# --- the lexicon ------------------------------------------------------------------------------


def _brand_aliases(record: EntityRecord) -> set[str]:
    """常熟银行 and CSRCB for 江苏常熟农村商业银行: how rural banks brand themselves.

    Only taken when no other entity has the name: 苏州银行 is a city commercial bank, not
    江苏苏州农村商业银行.
    """
    stem = name_stem(record.name).removeprefix("江苏省").removeprefix("江苏")
    head = stem.removesuffix("农村商业银行")
    if head == stem or len(head) < 2:
        return set()
    initials = "".join(s[0] for s in _syllables(head) if s)
    return {head + "银行", initials + "rcb"}  # 常熟银行, CSRCB


def _derived_aliases(record: EntityRecord) -> set[str]:
    """Names people use, by rule: without the company form, 中国 or 江苏, and contracted."""
    stem = name_stem(record.name)
    names = {record.name, stem}
    if record.short_name:
        names.add(record.short_name.strip())
    for prefix in ("中国", "江苏省", "江苏"):
        if stem.startswith(prefix) and len(stem) - len(prefix) >= 4:
            names.add(stem[len(prefix) :])
    for name in list(names):
        for long, shorts in CONTRACTIONS:
            head = name.removesuffix(long)
            if head != name and len(head) >= 2:
                names.update(head + short for short in shorts)
    return {n for n in names if len(n) >= 2}


@dataclass(frozen=True, slots=True)
class _TypoEntry:
    alias: str
    codes: tuple[str, ...]
    syllables: tuple[str, ...]
    near: tuple[str, ...]
    joined: str
    core: str  # the distinctive part: 北京 of 北京银行, 农业 of 中国农业银行
    chars: frozenset[str]
    # a two-character contraction (邮储): believed only when it sounds the same and is all
    # the unknown text, not a piece of a longer word
    strict: bool = False
    # of a four-character X银行 name, the character its X行 contraction keeps (建 of
    # 建设银行, as 建行 says): with it in place the other may be any typo (建没银行)
    anchor: str = ""


class Lexicon:
    """Everything `bot.understand` can recognise, for one set of legal entities.

    Build it with `build_lexicon` (or the cached `lexicon_for`); it is immutable after that
    and safe to share between threads.
    """

    def __init__(self, records: Iterable[EntityRecord]) -> None:
        static = _static()
        entities: dict[str, EntityRecord] = {}
        for record in records:
            entities.setdefault(record.legal_entity_code, record)
        self.entities: Mapping[str, EntityRecord] = entities
        self.place_names: Mapping[str, str] = static.place_names

        table: dict[str, list[Meaning]] = {k: list(v) for k, v in static.phrases.items()}
        reserved = set(table)  # vocabulary words a derived alias must not take over
        aliases: dict[str, list[str]] = {}  # Chinese alias → codes, for typo matching
        self._aliases_of: dict[str, list[str]] = {}

        def add_alias(surface: str, code: str, explicit: bool) -> None:
            key = surface if _is_cjk(surface) else _ascii_key(surface)
            if not key or (not explicit and key in reserved):
                return
            _add(table, key, Meaning("entity", code))
            self._aliases_of.setdefault(code, [])
            if key not in self._aliases_of[code]:
                self._aliases_of[code].append(key)
            if _is_cjk(key):
                codes = aliases.setdefault(key, [])
                if code not in codes:
                    codes.append(code)
                # typed pinyin of the alias: gongshangyinhang, jianhang
                _add(table, "".join(_syllables(key)), Meaning("entity", code))
                if len(key) >= 4:
                    initials = "".join(s[0] for s in _syllables(key) if s)
                    _add(table, initials, Meaning("entity", code))

        conventions = {c.stem: c for c in CONVENTIONS}
        for code, record in self.entities.items():
            convention = conventions.get(name_stem(record.name))
            if convention is not None:
                for alias in convention.aliases + ENGLISH_NAMES.get(convention.stem, ()):
                    add_alias(alias, code, explicit=True)
                for initials in convention.initials:
                    _add(table, initials, Meaning("entity", code))
            for alias in sorted(_derived_aliases(record)):
                add_alias(alias, code, explicit=False)
        for code, record in self.entities.items():
            for alias in _brand_aliases(record):
                if alias not in table:
                    add_alias(alias, code, explicit=False)
        for markers, words in _GROUPS:
            members = [
                code
                for code, record in self.entities.items()
                if any(marker in record.name for marker in markers)
            ]
            for code in members:
                for word in words:
                    add_alias(word, code, explicit=True)

        self.phrases: Mapping[str, tuple[Meaning, ...]] = {k: tuple(v) for k, v in table.items()}
        self.max_phrase_len = max((len(k) for k in self.phrases), default=1)
        self._ascii_entity_keys: list[str] = sorted(
            k
            for k, meanings in self.phrases.items()
            if k.isascii() and len(k) >= 5 and any(m.kind == "entity" for m in meanings)
        )
        self._typo_index: dict[tuple[str, int], list[_TypoEntry]] = {}
        place_words = {e.name for es in static.place_typos.values() for e in es}
        for alias, codes in aliases.items():
            contraction = all(alias not in name_stem(self.entities[c].name) for c in codes)
            if not _typo_eligible(alias, contraction):
                continue
            syllables = _syllables(alias)
            if len(syllables) != len(alias):
                continue
            near = tuple(near_syllable(s) for s in syllables)
            core = _core(alias)
            entry = _TypoEntry(
                alias,
                tuple(codes),
                syllables,
                near,
                "".join(syllables),
                core,
                frozenset(alias),
                strict=len(alias) == 2 and not alias.endswith("行"),
                anchor=_anchor(alias, core, codes, aliases, place_words | static.elsewhere),
            )
            self._typo_index.setdefault((near[0], len(alias)), []).append(entry)
        self._typo_memo = functools.lru_cache(maxsize=4096)(self._typo_match)
        self._place_typos = static.place_typos
        self._elsewhere = static.elsewhere
        self._place_generic = static.place_generic
        self._place_memo = functools.lru_cache(maxsize=4096)(self._place_typo)
        self.max_place_len = max(len(name) for name in place_words)
        self.max_typo_len = max(
            (len(e.alias) for es in self._typo_index.values() for e in es), default=2
        )

    # -- look-ups --------------------------------------------------------------------------

    def lookup(self, surface: str) -> tuple[Meaning, ...]:
        """Meanings of one exact phrase (Chinese as written, English/pinyin lower-case)."""
        return self.phrases.get(surface, ())

    def entity_name(self, code: str) -> str | None:
        record = self.entities.get(code)
        return record.name if record else None

    def aliases_of(self, code: str) -> tuple[str, ...]:
        """Every surface that names this entity, e.g. to strip it from a text search."""
        return tuple(self._aliases_of.get(code, ()))

    def place_name(self, code: str) -> str | None:
        return self.place_names.get(code)

    def ascii_entity_fuzzy(self, word: str) -> tuple[str, tuple[str, ...], float] | None:
        """A mistyped pinyin or English name (jianhnag → jianhang): best alias, codes, score.

        Only words of five letters or more: shorter ones are too close to everything.
        """
        if len(word) < 5:
            return None
        found = process.extractOne(
            word, self._ascii_entity_keys, scorer=fuzz.ratio, score_cutoff=85
        )
        if found is None:
            return None
        alias, score, _ = found
        codes = tuple(m.value for m in self.phrases[alias] if m.kind == "entity")
        return alias, codes, float(score)

    def typo_match(self, segment: str, prefer: frozenset[str] = frozenset()) -> TypoMatch | None:
        """The best stretch of `segment` that reads like an entity alias, if any.

        `segment` is text no dictionary word covered. Three tests, strongest first, on
        candidates sharing the first and the last syllable with the stretch (near-sound
        folded; a typo rarely hits both ends, and it keeps candidates to a handful): the
        same pinyin (建航 → 建行), near pinyin (监航, 早行), then edit ratios of pinyin and
        characters averaging at least 80 (农业行 → 农业银行). A match must keep characters of
        the alias, so a landmark that merely sounds like a bank (中心 / 中信) stays a
        landmark, and two-character brand words that are common words are never guessed.
        `prefer`: codes a neighbouring word already named (兴业|很行), whose aliases pass a
        lower bar (75). A two-character contraction (邮储) is read only from the same sound
        filling the whole segment (有储, 邮楚), and a four-character X银行 name also from a
        slip of its second character (建没银行) when the first is what its X行 says.
        Memoised per lexicon: the same landmarks come back all day.
        """
        return self._typo_memo(segment, prefer)

    def place_typo(self, window: str) -> TypoMatch | None:
        """A place name misspelt as `window` (苏洲 → 苏州, 古楼区 → 鼓楼区), if any.

        The whole window must read as one of the place's names (with or without 市/区/县),
        syllable by syllable, and keep in place at least one of its characters that few
        place names share (苏 of 苏州, not 州 or 城: 淹城 is a landmark, not 盐城). Two
        characters must sound exactly the same, the replaced one in its common reading
        (青口 is no 京口 by the rare jing of 青); longer names may also be near in sound
        (zh/z, n/l, -ng/-n as for entities). A real place elsewhere (宿州, 台州) is never a
        typo. Every code of the name is given (古楼 → both 鼓楼); the caller decides where
        a window may stand. Memoised like `typo_match`.
        """
        return self._place_memo(window)

    def _place_typo(self, window: str) -> TypoMatch | None:
        n = len(window)
        if n < 2 or window in self._elsewhere or not _is_cjk(window):
            return None
        readings = [char_readings(ch) for ch in window]
        near_readings = [{near_syllable(r) for r in rs} for rs in readings]
        # two characters: a replaced one counts in its common reading only
        sounds = [rs[:1] for rs in readings] if n == 2 else readings
        best_rank = 0
        names: list[str] = []
        codes: list[str] = []
        for first in near_readings[0]:
            for entry in self._place_typos.get((n, first), ()):
                if entry.name == window or entry.name in names:
                    continue
                same = [a == b for a, b in zip(window, entry.name, strict=True)]
                kept = [ch for ch, is_same in zip(window, same, strict=True) if is_same]
                if all(ch in self._place_generic for ch in kept):
                    continue  # nothing distinctive kept (or nothing kept at all)
                if all(same[i] or x in sounds[i] for i, x in enumerate(entry.syllables)):
                    rank = 2
                elif n >= 3 and all(x in near_readings[i] for i, x in enumerate(entry.near)):
                    rank = 1
                else:
                    continue
                if rank > best_rank:
                    best_rank, names, codes = rank, [], []
                if rank == best_rank:
                    names.append(entry.name)
                    codes.extend(c for c in entry.codes if c not in codes)
        if not names:
            return None
        how: Literal["pinyin", "near_pinyin"] = "pinyin" if best_rank == 2 else "near_pinyin"
        return TypoMatch(0, n, names[0], tuple(codes), how, 95.0 if best_rank == 2 else 90.0)

    def _typo_match(self, segment: str, prefer: frozenset[str]) -> TypoMatch | None:
        readings = [char_readings(ch) for ch in segment]
        near_readings = [{near_syllable(r) for r in rs} for rs in readings]
        best: TypoMatch | None = None
        best_key: tuple[int, int, float] = (-1, 0, 0.0)
        for start in range(len(segment)):
            if not _CJK_RE.match(segment[start]):
                continue
            firsts = near_readings[start]
            for length in range(2, min(len(segment) - start, self.max_typo_len) + 1):
                window = segment[start : start + length]
                if not _CJK_RE.match(window[-1]):
                    break
                lengths = range(max(3, length), length + 3) if length > 2 else (2, 3, 4)
                lasts = near_readings[start + length - 1]
                whole = length == len(segment)
                for first in firsts:
                    for entry in (e for m in lengths for e in self._typo_index.get((first, m), ())):
                        if entry.near[-1] not in lasts:
                            continue
                        if entry.strict and (not whole or window in self._elsewhere):
                            continue
                        cutoff = 75.0 if prefer.intersection(entry.codes) else 80.0
                        found = _compare(window, start, readings, near_readings, entry, cutoff)
                        if found is None:
                            continue
                        rank, how, score = found
                        key = (rank, length, score)
                        if key > best_key:
                            best_key = key
                            best = TypoMatch(
                                start, start + length, entry.alias, entry.codes, how, score
                            )
        return best


_GENERIC_PREFIXES = ("中国", "江苏省", "江苏")
_GENERIC_SUFFIXES = (
    "农村商业银行",
    "农商银行",
    "农商行",
    "商业银行",
    "银行",
    "行",
    "财产保险",
    "人寿保险",
    "保险",
    "财险",
    "产险",
    "寿险",
    "证券",
)


def _core(alias: str) -> str:
    """The alias without words every bank or insurer shares (北京 of 北京银行, 建设 of
    中国建设银行); whatever would leave nothing stays (江苏 of 江苏银行, 中国 of 中国银行)."""
    core = alias
    for suffix in _GENERIC_SUFFIXES:
        if core.endswith(suffix) and len(core) > len(suffix):
            core = core[: -len(suffix)]
            break
    for prefix in _GENERIC_PREFIXES:
        if core.startswith(prefix) and len(core) > len(prefix):
            core = core[len(prefix) :]
            break
    return core


_MAX_TYPO_ALIAS = 8


def _typo_eligible(alias: str, contraction: bool) -> bool:
    """Aliases worth guessing from a typo: names of three to eight characters, X行, and
    two-character contractions (邮储 of 邮政储蓄, 浦发 of 浦东发展).

    Two-character brand words (中信, 光大, 平安, 华夏) are the name itself, and ordinary
    words too; a near miss of one is far more often a landmark than a bank. A contraction
    picks characters from separate words of the name, which makes it no ordinary word.
    Nobody types a full legal name (…股份有限公司), and 江苏X names have their X form:
    leaving both out keeps the candidates per syllable few, so a look-up stays in
    microseconds.
    """
    if alias.startswith("江苏") and len(alias) > 4:
        return False
    if len(alias) == 2:
        return alias.endswith("行") or contraction
    return 3 <= len(alias) <= _MAX_TYPO_ALIAS


def _anchor(
    alias: str,
    core: str,
    codes: list[str],
    aliases: Mapping[str, list[str]],
    places: Set[str],
) -> str:
    """建 of 建设银行, because 建行 names the same bank; "" for most names.

    Only a four-character X银行 name whose distinctive part is no place (江苏银行 and
    江北银行, 苏州银行 and 广州银行 are different banks) and no generic word (中国银行).
    """
    if len(alias) != 4 or not alias.endswith("银行") or len(core) != 2:
        return ""
    if core in _GENERIC_PREFIXES or core in places:
        return ""
    short = aliases.get(core[0] + "行", [])
    return core[0] if short and set(codes) <= set(short) else ""


def _compare(
    window: str,
    start: int,
    readings: list[tuple[str, ...]],
    near_readings: list[set[str]],
    entry: _TypoEntry,
    cutoff: float,
) -> tuple[int, Literal["pinyin", "near_pinyin", "fuzzy"], float] | None:
    n, m = len(window), len(entry.alias)
    if window == entry.alias:
        return None  # an exact alias would have been a dictionary word
    same = sum(1 for a, b in zip(window, entry.alias, strict=False) if a == b)
    if n == m:
        if same == 0:
            return None
        idx = range(start, start + n)
        if all(s in readings[i] for s, i in zip(entry.syllables, idx, strict=True)):
            return 3, "pinyin", 95.0
        if entry.strict:
            return None
        if all(s in near_readings[i] for s, i in zip(entry.near, idx, strict=True)):
            return 2, "near_pinyin", 90.0
    if m < 3 or not m - 2 <= n <= m:
        return None  # a typo drops or replaces characters; extra ones are another word
    need = max(2, math.ceil(m / 2))
    if len(entry.chars.intersection(window)) < need and n == len(set(window)):
        return None  # cheap test first: distinct shared characters
    shared = sum(min(window.count(ch), entry.alias.count(ch)) for ch in entry.chars)
    if shared < need:
        return None
    # A typo in the distinctive part is believed only inside a long name (中国建没银行) or
    # beside the character the bank's X行 keeps (建没银行): 北银行 is not 北京银行, 中国建
    # not 中国建设, and 江北银行 is not 江阴银行.
    core_kept = sum(1 for ch in entry.core if ch in window)
    if core_kept < len(entry.core):
        anchored = (
            entry.anchor != ""
            and n == m
            and window[0] == entry.anchor
            and window[2:] == entry.alias[2:]
        )
        if not anchored and (n != m or m < 5):
            return None
        at = entry.alias.find(entry.core)
        in_place = sum(1 for k, ch in enumerate(entry.core) if window[at + k] == ch)
        if 2 * in_place < len(entry.core):
            return None  # 中国人民银行 keeps 民 of 中国民生银行, but not where it was
    # Sound and spelling count half each: 农业行 is close to 农业银行 in both, while 农合行
    # sounds like 农业行 but shares a character less.
    joined = "".join(_reading_like(readings[start + k], entry.syllables, k, n) for k in range(n))
    score = (fuzz.ratio(joined, entry.joined) + fuzz.ratio(window, entry.alias)) / 2
    if score < cutoff:
        return None
    return 1, "fuzzy", round(score, 1)


def _reading_like(readings: tuple[str, ...], target: tuple[str, ...], k: int, n: int) -> str:
    """The reading of a polyphonic character that fits the alias: 行 is hang in 很行."""
    m = len(target)
    aligned = {target[k]} if k < m else set()
    if 0 <= m - n + k < m:
        aligned.add(target[m - n + k])
    for pool in (aligned, set(target)):
        for reading in readings:
            if reading in pool:
                return reading
    return readings[0]


def build_lexicon(records: Iterable[EntityRecord]) -> Lexicon:
    """A lexicon over these legal entities (the registry's head offices in production)."""
    return Lexicon(records)


@functools.lru_cache(maxsize=8)
def lexicon_for(records: tuple[EntityRecord, ...]) -> Lexicon:
    """`build_lexicon`, cached: the engine passes the same records per registry state."""
    return Lexicon(records)
