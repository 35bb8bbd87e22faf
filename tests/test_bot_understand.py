"""The bot's understanding of chat messages (bot.lexicon, bot.understand).

Table-driven: each case is a message as people type it (typos, abbreviations, pinyin, no
punctuation) and everything the bot should read from it. Fields a case does not name must
be empty, so every case also checks that nothing else was matched. The lexicon is built
from the demo catalogue's legal entities, as the engine builds it from the registry's head
offices. No database is used.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.demo.catalog import LEGAL_ENTITIES, PLACES, ROADS, by_key
from bot.lexicon import (
    CONVENTIONS,
    EntityRecord,
    Lexicon,
    Meaning,
    build_lexicon,
    lexicon_for,
    near_syllable,
)
from bot.understand import FollowUp, Understanding, normalise, understand
from profiles.business_types import BY_KEY
from registry import regions
from registry.codes import fi_code_category

RECORDS: tuple[EntityRecord, ...] = tuple(
    EntityRecord(
        legal_entity_code=e.fi_code,
        name=e.name,
        short_name=e.short_names[0] if e.short_names else None,  # as the demo registry has it
        category=fi_code_category(e.fi_code) or "",
    )
    for e in LEGAL_ENTITIES
)
KEY_BY_CODE = {e.fi_code: e.key for e in LEGAL_ENTITIES}
RURAL = frozenset(e.key for e in LEGAL_ENTITIES if e.category == "rural_bank")


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return lexicon_for(RECORDS)


# --- the table --------------------------------------------------------------------------------
# expected: entities (catalogue keys), places (region codes), business, categories, landmark,
# nearest, radius (metres), open_now, count, follow_up (field, index), greeting, help.
# Unnamed = empty.

NANJING_GULOU, XUZHOU_GULOU = "320106", "320302"

CASES: list[tuple[str, dict[str, Any]]] = [
    # ICBC in every spelling
    ("最近的工行", {"entities": {"icbc"}, "nearest": True}),
    ("工商银行", {"entities": {"icbc"}}),
    ("中国工商银行", {"entities": {"icbc"}}),
    ("ICBC", {"entities": {"icbc"}}),
    ("icbc新街口", {"entities": {"icbc"}, "landmark": "新街口"}),
    ("gonghang", {"entities": {"icbc"}}),
    ("gh", {"entities": {"icbc"}}),
    ("gongshangyinhang", {"entities": {"icbc"}}),
    ("公行", {"entities": {"icbc"}}),
    ("工航", {"entities": {"icbc"}}),
    ("工商行", {"entities": {"icbc"}}),
    ("工商很行", {"entities": {"icbc"}}),
    # CCB
    ("建行", {"entities": {"ccb"}}),
    ("建设银行", {"entities": {"ccb"}}),
    ("中国建设银行", {"entities": {"ccb"}}),
    ("CCB", {"entities": {"ccb"}}),
    ("jianhang", {"entities": {"ccb"}}),
    ("JianHang", {"entities": {"ccb"}}),
    ("jh", {"entities": {"ccb"}}),
    ("jian hang", {"entities": {"ccb"}}),
    ("jianhnag", {"entities": {"ccb"}}),
    ("建航", {"entities": {"ccb"}}),
    ("建设行", {"entities": {"ccb"}}),
    ("中国建没银行", {"entities": {"ccb"}}),
    ("建没银行", {"entities": {"ccb"}}),  # 建 in place, as 建行 says: a slip of 设
    ("建没银行附近", {"entities": {"ccb"}, "nearest": True}),
    # ABC
    ("农行", {"entities": {"abc"}}),
    ("农业银行", {"entities": {"abc"}}),
    ("农业行", {"entities": {"abc"}}),
    ("nonghang", {"entities": {"abc"}}),
    ("弄行", {"entities": {"abc"}}),
    ("中国农业很行", {"entities": {"abc"}}),
    # BOC: 中国银行 is not 中国工商银行 or 中国建设银行
    ("中国银行", {"entities": {"boc"}}),
    ("中行", {"entities": {"boc"}}),
    ("BOC", {"entities": {"boc"}}),
    ("zhonghang", {"entities": {"boc"}}),
    ("zh", {"entities": {"boc", "cmb"}}),  # 中行 and 招行 share their initials
    # BOCOM
    ("交通银行", {"entities": {"bocom"}}),
    ("交行", {"entities": {"bocom"}}),
    ("交航", {"entities": {"bocom"}}),
    ("交通局", {"landmark": "交通局"}),
    # PSBC
    ("邮储", {"entities": {"psbc"}}),
    ("邮政储蓄", {"entities": {"psbc"}}),
    ("邮政", {"entities": {"psbc"}}),
    ("邮储银行", {"entities": {"psbc"}}),
    ("youzheng", {"entities": {"psbc"}}),
    ("PSBC", {"entities": {"psbc"}}),
    # a contraction (邮政储蓄 → 邮储) misheard: the same sound, all of the unknown text
    ("有储", {"entities": {"psbc"}}),
    ("邮楚", {"entities": {"psbc"}}),
    ("江宁邮楚", {"entities": {"psbc"}, "places": {"320115"}}),
    ("附近的有储", {"entities": {"psbc"}, "nearest": True}),
    ("邮楚路", {"landmark": "邮楚路"}),  # a piece of a longer word is no contraction
    # CMB
    ("招行", {"entities": {"cmb"}}),
    ("招航", {"entities": {"cmb"}}),
    ("zhaohang", {"entities": {"cmb"}}),
    ("zhaoshang", {"entities": {"cmb"}}),
    ("招商银行", {"entities": {"cmb"}}),
    ("CMB", {"entities": {"cmb"}}),
    ("招商行", {"entities": {"cmb"}}),
    # joint-stock and city banks
    ("浦发", {"entities": {"spdb"}}),
    ("中信", {"entities": {"citic"}}),
    ("光大银行", {"entities": {"ceb"}}),
    ("民生", {"entities": {"cmbc"}}),
    ("兴业很行", {"entities": {"cib"}}),
    ("平安银行", {"entities": {"pab"}}),
    ("华夏", {"entities": {"hxb"}}),
    ("广发", {"entities": {"cgb"}}),
    ("南京银行", {"entities": {"njcb"}}),
    ("江苏银行", {"entities": {"jsb"}}),
    ("苏州银行", {"entities": {"szb"}}),
    ("江苏很行", {"entities": {"jsb"}}),
    ("南京很行", {"entities": {"njcb"}}),
    ("nanjingyinhang", {"entities": {"njcb"}}),
    # rural commercial banks: the group word, and each bank by its own name
    ("农商行", {"entities": RURAL}),
    ("附近的农商行", {"entities": RURAL, "nearest": True}),
    ("信用社", {"entities": RURAL}),
    ("紫金农商行", {"entities": {"zjrcb"}}),
    ("紫金农商", {"entities": {"zjrcb"}}),
    ("常熟农商银行", {"entities": {"csrcb"}}),
    ("常熟银行", {"entities": {"csrcb"}}),
    ("张家港农商行", {"entities": {"zrcb"}}),
    ("昆山农商行", {"entities": {"ksrcb"}}),
    ("无锡农商", {"entities": {"wrcb"}}),
    ("紫金农上行", {"entities": {"zjrcb"}}),
    ("吴江的农商行", {"entities": RURAL, "places": {"320509"}}),
    # insurers and securities firms
    ("人保", {"entities": {"picc_pc"}}),
    ("中国人寿", {"entities": {"chinalife"}}),
    ("国寿", {"entities": {"chinalife"}}),
    ("太保", {"entities": {"cpic_pc", "cpic_life"}}),
    ("平安保险", {"entities": {"pingan_pc", "pingan_life"}}),
    ("华泰证券", {"entities": {"htsc"}}),
    ("华泰正券", {"entities": {"htsc"}}),
    ("中信证券", {"entities": {"citics"}}),
    ("招商证券", {"entities": {"cmsc"}}),
    ("南京证券", {"entities": {"njzq"}}),
    ("广发证券", {"entities": {"gfzq"}}),
    ("国泰君安", {"entities": {"gtht"}}),
    # several at once
    ("工行和建行", {"entities": {"icbc", "ccb"}}),
    ("工行 建行 中行", {"entities": {"icbc", "ccb", "boc"}}),
    # places
    (
        "鼓楼区现在开门的建行",
        {"entities": {"ccb"}, "places": {NANJING_GULOU, XUZHOU_GULOU}, "open_now": True},
    ),
    ("鼓楼", {"places": {NANJING_GULOU, XUZHOU_GULOU}}),
    ("gulou", {"places": {NANJING_GULOU, XUZHOU_GULOU}}),
    ("南京鼓楼工行", {"entities": {"icbc"}, "places": {NANJING_GULOU}}),
    ("南京市鼓楼区建行", {"entities": {"ccb"}, "places": {NANJING_GULOU}}),
    ("徐州鼓楼区的农行", {"entities": {"abc"}, "places": {XUZHOU_GULOU}}),
    ("江宁", {"places": {"320115"}}),
    ("江宁区", {"places": {"320115"}}),
    ("苏州", {"places": {"320500"}}),
    ("苏州市", {"places": {"320500"}}),
    ("昆山", {"places": {"320583"}}),
    ("昆山市的招行", {"entities": {"cmb"}, "places": {"320583"}}),
    ("淮安", {"places": {"320800", "320803"}}),
    ("南京", {"places": {"320100"}}),
    ("江苏南京的工行", {"entities": {"icbc"}, "places": {"320100"}}),
    ("无锡梁溪区农行", {"entities": {"abc"}, "places": {"320213"}}),
    (
        "邮储 江宁 征信查询",
        {"entities": {"psbc"}, "places": {"320115"}, "business": {"credit_report"}},
    ),
    (
        "邮储江宁征信查询",
        {"entities": {"psbc"}, "places": {"320115"}, "business": {"credit_report"}},
    ),
    (
        "江宁万达广场工行",
        {"entities": {"icbc"}, "places": {"320115"}, "landmark": "万达广场"},
    ),
    # a place followed by a street named by itself: the place and the street
    (
        "常州南大街邮储",
        {"entities": {"psbc"}, "places": {"320400"}, "landmark": "南大街"},
    ),
    ("常州市南大街", {"places": {"320400"}, "landmark": "南大街"}),
    ("江宁人民路", {"places": {"320115"}, "landmark": "人民路"}),
    # ... but a road named after the place is a landmark (江宁路, 南京东路)
    ("江宁路", {"landmark": "江宁路"}),
    ("江宁东路工行", {"entities": {"icbc"}, "landmark": "江宁东路"}),
    ("南京东路", {"landmark": "南京东路"}),
    ("玄武湖南路", {"landmark": "玄武湖南路"}),
    ("平安南大街", {"landmark": "平安南大街"}),  # a brand word: no place to keep
    # misspelt places: the same pinyin, a distinctive character kept in place
    ("苏洲工行", {"entities": {"icbc"}, "places": {"320500"}}),
    ("扬洲中行", {"entities": {"boc"}, "places": {"321000"}}),
    ("徐洲建行", {"entities": {"ccb"}, "places": {"320300"}}),
    ("徐洲的建行", {"entities": {"ccb"}, "places": {"320300"}}),
    ("古楼区建行", {"entities": {"ccb"}, "places": {NANJING_GULOU, XUZHOU_GULOU}}),
    ("南京古楼", {"places": {NANJING_GULOU}}),
    ("张家岗", {"places": {"320582"}}),
    ("建业区", {"places": {"320105"}}),
    ("苏洲观前街", {"places": {"320500"}, "landmark": "观前街"}),
    # ... and what only sounds like one
    ("宿州", {"landmark": "宿州"}),  # a real place elsewhere (Anhui)
    ("台州路", {"landmark": "台州路"}),
    ("淹城", {"landmark": "淹城"}),  # keeps only 城, which many place names share
    ("近湖", {"landmark": "近湖"}),
    ("青口", {"landmark": "青口"}),  # 青 is jing only rarely: not 京口
    ("西山", {"landmark": "西山"}),  # Kunming's 西山区, not Wuxi's 锡山
    ("西山公园", {"landmark": "西山公园"}),
    ("兴华路", {"landmark": "兴华路"}),
    ("海岸城", {"landmark": "海岸城"}),
    ("苏宁", {"landmark": "苏宁"}),
    # landmarks, and words that only look like a bank or a place
    ("新街口哪里能换外币", {"landmark": "新街口", "business": {"foreign_exchange"}}),
    ("新街口能换外币吗", {"landmark": "新街口", "business": {"foreign_exchange"}}),
    (
        "南京银行珠江路支行电话多少",
        {"entities": {"njcb"}, "landmark": "珠江路", "follow_up": ("phone", None)},
    ),
    ("新街口工行", {"entities": {"icbc"}, "landmark": "新街口"}),
    ("工行新街口支行", {"entities": {"icbc"}, "landmark": "新街口"}),
    ("新街口有工行吗", {"entities": {"icbc"}, "landmark": "新街口"}),
    ("玄武湖附近的建行", {"entities": {"ccb"}, "landmark": "玄武湖", "nearest": True}),
    ("民生路", {"landmark": "民生路"}),
    ("平安大厦旁边的工行", {"entities": {"icbc"}, "landmark": "平安大厦", "nearest": True}),
    ("南京站附近", {"landmark": "南京站", "nearest": True}),
    ("市中心的工行", {"entities": {"icbc"}, "landmark": "市中心"}),
    ("中心", {"landmark": "中心"}),
    ("和平路农行", {"entities": {"abc"}, "landmark": "和平路"}),
    ("我在新街口", {"landmark": "新街口"}),
    ("去珠江路", {"landmark": "珠江路"}),
    ("家乐福附近的工行", {"entities": {"icbc"}, "landmark": "家乐福", "nearest": True}),
    (
        "中山路100号附近的银行",
        {"landmark": "中山路100号", "categories": {"bank"}, "nearest": True},
    ),
    ("建设路", {"landmark": "建设路"}),
    ("北京东路", {"landmark": "北京东路"}),
    ("江北银行", {"landmark": "江北", "categories": {"bank"}}),
    ("中原银行", {"landmark": "中原", "categories": {"bank"}}),  # not 中国银行
    ("恒生银行", {"landmark": "恒生", "categories": {"bank"}}),  # not 恒丰银行
    ("光打", {"landmark": "光打"}),  # brand words (光大, 平安, 中信) are never guessed
    ("平按", {"landmark": "平按"}),
    ("中新", {"landmark": "中新"}),
    ("人民银行", {"landmark": "人民银行"}),  # the central bank: no outlet, and not 民生银行
    ("中国人民银行", {"landmark": "中国人民银行"}),
    ("周末开门的工行", {"entities": {"icbc"}, "follow_up": ("hours", None)}),
    ("今天开门吗", {"open_now": True}),
    ("晚上还开门的银行", {"categories": {"bank"}, "open_now": True}),
    ("Bank of China", {"entities": {"boc"}}),
    ("bank of china near me", {"entities": {"boc"}, "nearest": True}),
    ("ICBC xinjiekou", {"entities": {"icbc"}, "landmark": "xinjiekou"}),
    ("China Construction Bank", {"entities": {"ccb"}}),
    ("银行", {"categories": {"bank"}}),
    ("附近的银行", {"categories": {"bank"}, "nearest": True}),
    ("保险公司", {"categories": {"insurance"}}),
    ("证券公司", {"categories": {"securities"}}),
    # business types by everyday words
    ("换零钱", {"business": {"coin_exchange"}}),
    ("哪里可以换硬币", {"business": {"coin_exchange"}}),
    ("征信", {"business": {"credit_report"}}),
    ("查征信去哪", {"business": {"credit_report"}}),
    ("打印信用报告", {"business": {"credit_report"}}),
    ("残币兑换", {"business": {"damaged_notes"}}),
    ("钱破了能换吗", {"business": {"damaged_notes"}}),
    ("破钱", {"business": {"damaged_notes"}}),
    ("atm", {"machine": True}),
    ("附近的ATM取钱", {"business": {"cash_out"}, "nearest": True, "machine": True}),
    ("取钱", {"business": {"cash_out"}, "machine": True}),
    ("存钱", {"business": {"cash_in"}, "machine": True}),
    ("取款机", {"business": {"cash_out"}, "machine": True}),
    ("自助银行", {"machine": True}),
    ("现金业务", {"business": {"cash"}}),
    ("24小时自助银行", {"business": {"self_service_24h"}, "machine": True}),
    ("哪里有轮椅通道", {"business": {"wheelchair_access"}}),
    ("无障碍", {"business": {"wheelchair_access"}}),
    ("开户", {"business": {"personal_account"}}),
    ("办卡", {"business": {"personal_account"}}),
    ("公司开户", {"business": {"corporate_account"}}),
    ("对公", {"business": {"corporate_account"}}),
    ("理财", {"business": {"wealth_management"}}),
    ("贷款", {"business": {"loans"}}),
    ("房贷", {"business": {"loans"}}),
    ("社保卡", {"business": {"social_security_card"}}),
    ("停车方便的建行", {"entities": {"ccb"}, "business": {"parking"}}),
    ("适老", {"business": {"elderly_friendly"}}),
    ("老年人", {"business": {"elderly_friendly"}}),
    ("外卡", {"business": {"foreign_card"}}),
    ("外国人取钱", {"business": {"foreign_card", "cash_out"}, "machine": True}),
    ("换美元", {"business": {"foreign_exchange"}}),
    ("换港币", {"business": {"foreign_exchange"}}),
    ("外汇", {"business": {"foreign_exchange"}}),
    ("黄金", {"business": {"precious_metals"}}),
    ("买保险", {"business": {"insurance"}}),
    ("工行换外币", {"entities": {"icbc"}, "business": {"foreign_exchange"}}),
    # nearest, counts, open now
    ("附近三家招行", {"entities": {"cmb"}, "nearest": True, "count": 3}),
    ("3个最近的建行", {"entities": {"ccb"}, "nearest": True, "count": 3}),
    ("两个工行", {"entities": {"icbc"}, "count": 2}),
    ("附近几家中行", {"entities": {"boc"}, "nearest": True, "count": 3}),
    ("最近的一家农行", {"entities": {"abc"}, "nearest": True, "count": 1}),
    ("离我最近的3个ATM", {"machine": True, "nearest": True, "count": 3}),
    ("前五家", {"count": 5}),
    ("附近十家建行", {"entities": {"ccb"}, "nearest": True, "count": 10}),
    ("附近十二家建行", {"entities": {"ccb"}, "nearest": True, "count": 12}),
    ("附近100家工行", {"entities": {"icbc"}, "nearest": True, "count": 20}),
    ("现在开门的工行", {"entities": {"icbc"}, "open_now": True}),
    ("营业中的银行", {"categories": {"bank"}, "open_now": True}),
    ("现在能去的建行", {"entities": {"ccb"}, "open_now": True}),
    ("周边还开着的邮储", {"entities": {"psbc"}, "open_now": True, "nearest": True}),
    ("附近3公里的工行", {"entities": {"icbc"}, "nearest": True, "radius": 3000}),
    ("1km内的ATM", {"machine": True, "radius": 1000}),
    ("半公里内的建行", {"entities": {"ccb"}, "radius": 500}),
    ("三公里内", {"radius": 3000}),
    ("100公里内的工行", {"entities": {"icbc"}, "radius": 50_000}),
    ("中山路5号", {"landmark": "中山路5号"}),
    ("最近的银行几点关门", {"categories": {"bank"}, "nearest": True, "follow_up": ("hours", None)}),
    ("江苏银行和南京银行哪个近", {"entities": {"jsb", "njcb"}}),
    (
        "南京南站附近的ATM",
        {"landmark": "南京南站", "machine": True, "nearest": True},
    ),
    ("鼓楼医院附近的工行", {"entities": {"icbc"}, "landmark": "鼓楼医院", "nearest": True}),
    (
        "江宁百家湖附近的南京银行",
        {"entities": {"njcb"}, "places": {"320115"}, "landmark": "百家湖", "nearest": True},
    ),
    ("仙林的邮储", {"entities": {"psbc"}, "landmark": "仙林"}),
    ("我想换点美元", {"business": {"foreign_exchange"}}),
    ("我要去银行存钱", {"categories": {"bank"}, "business": {"cash_in"}, "machine": True}),
    ("附近能打印流水的银行", {"categories": {"bank"}, "nearest": True}),
    ("转账", {}),
    # follow-ups about the last results
    ("第二个的电话", {"follow_up": ("phone", 2)}),
    ("第2家地址", {"follow_up": ("address", 2)}),
    ("第三个几点开门", {"follow_up": ("hours", 3)}),
    ("第一个", {"follow_up": ("detail", 1)}),
    ("2", {"follow_up": ("detail", 2)}),
    ("电话", {"follow_up": ("phone", None)}),
    ("地址", {"follow_up": ("address", None)}),
    ("营业时间", {"follow_up": ("hours", None)}),
    ("几点关门", {"follow_up": ("hours", None)}),
    ("更多", {"follow_up": ("more", None)}),
    ("下一页", {"follow_up": ("more", None)}),
    ("还有吗", {"follow_up": ("more", None)}),
    # greetings and help
    ("你好", {"greeting": True}),
    ("您好", {"greeting": True}),
    ("hi", {"greeting": True}),
    ("在吗", {"greeting": True}),
    ("帮助", {"help": True}),
    ("怎么用", {"help": True}),
    ("HELP", {"help": True}),
    ("?", {"help": True}),
    ("？", {"help": True}),
    ("你好 最近的工行", {"greeting": True, "entities": {"icbc"}, "nearest": True}),
    # normalisation: full width, case, punctuation
    ("ＩＣＢＣ　新街口", {"entities": {"icbc"}, "landmark": "新街口"}),
    ("最近的工行！！！", {"entities": {"icbc"}, "nearest": True}),
    ("第３个的电话", {"follow_up": ("phone", 3)}),
    ("请问，附近有建行吗？", {"entities": {"ccb"}, "nearest": True}),
    # nothing to understand
    ("", {}),
    ("   ", {}),
    ("。。。", {}),
    ("中国", {}),
    ("江苏", {}),
    ("谢谢", {}),
    ("好的谢谢", {}),
]


def _actual(u: Understanding) -> dict[str, Any]:
    return {
        "entities": {KEY_BY_CODE.get(c, c) for c in u.legal_entities},
        "places": set(u.places),
        "business": set(u.business_types),
        "categories": set(u.categories),
        "landmark": u.landmark,
        "nearest": u.wants_nearest,
        "radius": u.radius_m,
        "open_now": u.open_now,
        "count": u.count,
        "follow_up": (u.follow_up.field, u.follow_up.index) if u.follow_up else None,
        "greeting": u.greeting,
        "help": u.help,
        "machine": u.kinds == ("self_service", "atm"),
    }


_EMPTY: dict[str, Any] = {
    "entities": set(),
    "places": set(),
    "business": set(),
    "categories": set(),
    "landmark": None,
    "nearest": False,
    "radius": None,
    "open_now": False,
    "count": None,
    "follow_up": None,
    "greeting": False,
    "help": False,
    "machine": False,
}


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] or "<empty>" for c in CASES])
def test_understands(lexicon: Lexicon, text: str, expected: dict[str, Any]) -> None:
    want = {**_EMPTY, **{k: set(v) if isinstance(v, frozenset) else v for k, v in expected.items()}}
    assert _actual(understand(text, lexicon)) == want


def test_cases_are_many_and_distinct() -> None:
    texts = [t for t, _ in CASES]
    assert len(texts) >= 120
    assert len(set(texts)) == len(texts)


# --- whole catalogue --------------------------------------------------------------------------


@pytest.mark.parametrize("entity", LEGAL_ENTITIES, ids=[e.key for e in LEGAL_ENTITIES])
def test_every_legal_entity_by_its_names(lexicon: Lexicon, entity: Any) -> None:
    """Full name, brand and registry short name each name the entity (maybe among others)."""
    for name in {entity.name, entity.brand, entity.short_names[0]}:
        u = understand(name, lexicon)
        assert entity.fi_code in u.legal_entities, name
        assert not u.landmarks and not u.places, name


def test_landmarks_of_the_catalogue_are_never_institutions(lexicon: Lexicon) -> None:
    """Road and area names from real branch names: none reads as a bank or a service."""
    names = sorted(
        {p for ps in PLACES.values() for p in ps} | {r for rs in ROADS.values() for r in rs}
    )
    wrong = []
    for name in names:
        u = understand(name, lexicon)
        if u.legal_entities or u.business_types or u.categories:
            wrong.append(name)
        elif not u.places:
            assert u.landmarks == (name,), name
    assert wrong == []


def test_landmarks_of_the_catalogue_are_never_misspelt_places(lexicon: Lexicon) -> None:
    """A road or area name may hold a place spelt right (江宁万达), never one read by sound."""
    names = sorted(
        {p for ps in PLACES.values() for p in ps} | {r for rs in ROADS.values() for r in rs}
    )
    wrong = [
        name
        for name in names
        for m in understand(name, lexicon).matches
        if m.kind == "place" and m.how != "exact"
    ]
    assert wrong == []


def test_place_typo(lexicon: Lexicon) -> None:
    found = lexicon.place_typo("苏洲")
    assert found is not None and found.codes == ("320500",) and found.how == "pinyin"
    found = lexicon.place_typo("古楼区")
    assert found is not None and set(found.codes) == {NANJING_GULOU, XUZHOU_GULOU}
    found = lexicon.place_typo("连云刚市")
    assert found is not None and found.codes == ("320700",)
    assert lexicon.place_typo("苏州") is None  # spelt right: a dictionary word
    assert lexicon.place_typo("宿州") is None  # Anhui's
    assert lexicon.place_typo("淹城") is None  # 城 is in too many place names
    assert lexicon.place_typo("苏周市") is not None
    assert lexicon.place_typo("苏走") is None  # two characters: the same sound only


def test_every_jiangsu_place_by_name(lexicon: Lexicon) -> None:
    for region in regions.all_regions():
        if not region.code.startswith("32") or region.level == "province":
            continue
        u = understand(region.name, lexicon)
        assert region.code in u.places, region.name
        assert not u.legal_entities, region.name


def test_roads_and_landmarks_combine_with_a_bank(lexicon: Lexicon) -> None:
    """A road then 工行 is always ICBC plus the road, never anything else."""
    icbc = by_key("icbc").fi_code
    for road in ROADS["3201"]:
        u = understand(f"{road}工行", lexicon)
        assert u.legal_entities == (icbc,), road
        assert u.landmarks == (road,), road


# --- the lexicon ------------------------------------------------------------------------------


def test_lexicon_is_built_from_the_records_passed_in() -> None:
    icbc = by_key("icbc")
    only = build_lexicon(
        [EntityRecord(icbc.fi_code, icbc.name, None, "bank")],
    )
    assert understand("工行", only).legal_entities == (icbc.fi_code,)
    assert understand("ICBC", only).legal_entities == (icbc.fi_code,)
    # a conventional name of an entity the registry does not have means nothing
    assert understand("建行", only).legal_entities == ()
    assert understand("农商行", only).legal_entities == ()
    assert only.entity_name(icbc.fi_code) == icbc.name
    assert "工行" in only.aliases_of(icbc.fi_code)


def test_conventions_follow_the_registry_name_not_the_code() -> None:
    """A registry code never seen before still gets 建行 when its name is 中国建设银行."""
    lex = build_lexicon(
        [EntityRecord("C9999932000001", "中国建设银行股份有限公司", "建设银行", "bank")]
    )
    assert understand("jianhang", lex).legal_entities == ("C9999932000001",)
    assert understand("建航", lex).legal_entities == ("C9999932000001",)


def test_rural_bank_aliases_are_derived_by_rule() -> None:
    lex = build_lexicon(
        [EntityRecord("C1149932000001", "江苏海安农村商业银行股份有限公司", None, "bank")]
    )
    for text in ("海安农商行", "海安农商银行", "海安农商", "海安农村商业银行", "农商行", "harcb"):
        assert understand(text, lex).legal_entities == ("C1149932000001",), text
    # the place alone is still the place
    assert understand("海安", lex).places == ("320685",)


def test_lexicon_for_is_cached() -> None:
    assert lexicon_for(RECORDS) is lexicon_for(RECORDS)


def test_vocabulary_uses_only_known_business_keys(lexicon: Lexicon) -> None:
    keys = {m.value for ms in lexicon.phrases.values() for m in ms if m.kind == "business"}
    assert keys == set(BY_KEY)  # every type reachable by some word, and no unknown key


def test_place_words_never_mean_a_bank(lexicon: Lexicon) -> None:
    mixed = [
        word
        for word, meanings in lexicon.phrases.items()
        if {m.kind for m in meanings} >= {"place", "entity"}
    ]
    assert mixed == []


def test_every_convention_names_a_catalogue_entity_or_a_known_other() -> None:
    stems = {
        e.name.removesuffix("股份有限公司").removesuffix("有限责任公司") for e in LEGAL_ENTITIES
    }
    unused = [c.stem for c in CONVENTIONS if c.stem not in stems]
    # the former name of 国泰海通, kept for registries not yet renamed
    assert unused == ["国泰君安证券"]


def test_near_syllable_folds_the_usual_confusions() -> None:
    assert near_syllable("zhang") == near_syllable("zan")
    assert near_syllable("shi") == near_syllable("si")
    assert near_syllable("nan") == near_syllable("lan")
    assert near_syllable("hang") == "han"
    assert near_syllable("ng") == "ng"


def test_lookup_returns_meanings(lexicon: Lexicon) -> None:
    assert Meaning("business", "foreign_exchange") in lexicon.lookup("换外币")
    assert lexicon.lookup("没有这个词") == ()
    assert lexicon.place_name("320115") == "江宁区"


# --- the result -------------------------------------------------------------------------------


def test_as_dict_is_the_api_shape(lexicon: Lexicon) -> None:
    u = understand("鼓楼区现在开门的建行", lexicon)
    d = u.as_dict()
    assert d == {
        "legal_entities": [by_key("ccb").fi_code],
        "categories": [],
        "business_types": [],
        "kinds": [],
        "places": [NANJING_GULOU, XUZHOU_GULOU],
        "landmark": None,
        "wants_nearest": False,
        "radius_m": None,
        "open_now": True,
        "count": None,
        "follow_up": None,
        "greeting": False,
        "help": False,
    }
    explained = u.as_dict(explain=True)["matches"]
    assert {"text": "建行", "kind": "entity", "values": [by_key("ccb").fi_code], "how": "exact",
            "score": 100.0} in explained  # fmt: skip
    typo = understand("建航", lexicon).as_dict(explain=True)["matches"]
    assert typo[0]["how"] == "pinyin"


def test_follow_up_and_search_terms(lexicon: Lexicon) -> None:
    own = understand("南京银行珠江路支行电话多少", lexicon)
    assert own.follow_up == FollowUp("phone") and own.has_search_terms
    last = understand("第二个的电话", lexicon)
    assert last.follow_up == FollowUp("phone", 2) and not last.has_search_terms


def test_understanding_is_frozen(lexicon: Lexicon) -> None:
    u = understand("工行", lexicon)
    with pytest.raises(AttributeError):
        u.count = 3  # type: ignore[misc]


def test_normalise() -> None:
    assert normalise("ＩＣＢＣ　３个？") == "icbc 3个?"


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=60))
def test_never_raises_and_stays_in_vocabulary(text: str) -> None:
    lex = lexicon_for(RECORDS)
    u = understand(text, lex)
    assert set(u.legal_entities) <= set(lex.entities)
    assert set(u.business_types) <= set(BY_KEY)
    assert all(code in lex.place_names for code in u.places)
    assert u.count is None or 1 <= u.count <= 20
    assert u.follow_up is None or u.follow_up.index is None or u.follow_up.index >= 1
    u.as_dict(explain=True)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["工行", "建航", "新街口", "附近", "三家", "第2个", "电话", "鼓楼", "jianhang", " ",
             "的", "换外币", "吗", "？", "ATM", "现在开门", "农商行", "和", "在", "路"]
        ),
        max_size=8,
    )
)  # fmt: skip
def test_never_raises_on_chat_like_text(words: list[str]) -> None:
    u = understand("".join(words), lexicon_for(RECORDS))
    assert isinstance(u.as_dict(), dict)


# --- questions about the bot, and suggestions -------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "你是谁",
        "你是谁啊",
        "您好，你是谁？",
        "你能帮我做什么",
        "你能做什么呀",
        "你会干啥",
        "你可以干嘛",
        "这个怎么用",
        "我该怎么问",
        "有什么功能",
        "介绍一下你自己",
        "你是机器人吗",
        "你叫什么名字",
        "Who are you?",
        "what can you do",
    ],
)
def test_questions_about_the_bot_are_help(lexicon: Lexicon, text: str) -> None:
    u = understand(text, lexicon)
    assert u.help and not u.has_search_terms and u.follow_up is None
    assert [m.kind for m in u.matches] == ["about"]


@pytest.mark.parametrize(
    ("text", "entity"),
    [("你能帮我找工行吗", "icbc"), ("你好 你会找建行吗", "ccb"), ("你知道招行在哪吗", "cmb")],
)
def test_asking_the_bot_to_search_stays_a_search(lexicon: Lexicon, text: str, entity: str) -> None:
    u = understand(text, lexicon)
    assert not u.help and {KEY_BY_CODE[c] for c in u.legal_entities} == {entity}


def test_suggestions_correct_a_slip_against_the_vocabularies(lexicon: Lexicon) -> None:
    from bot.landmarks import LandmarkIndex
    from bot.suggestions import guess

    words = LandmarkIndex(
        [("新街口", 40), ("珠江路", 30), ("建邺", 5)], lexicon.place_names.values()
    )

    def read(text: str) -> tuple[set[str], str | None] | None:
        u = understand(text, lexicon)
        found = guess(u.text, u.landmarks, lexicon, words)
        return None if found is None else ({KEY_BY_CODE[c] for c in found.entities}, found.word)

    assert read("中国建没") == ({"ccb"}, None)  # 没 for 设: one character in four, in place
    assert read("中国光打") == ({"ceb"}, None)  # the start of 中国光大银行
    assert read("中国建没新街扣") == ({"ccb"}, "新街口")  # and the rest is a place word
    assert read("新街扣") == (set(), "新街口")
    assert read("村镇银行") is None  # three of 镇江银行's letters, moved: no slip
    assert read("今天天气怎么样") is None
    assert read("qwxzv") is None


@pytest.mark.parametrize(
    ("text", "landmark"),
    [
        ("工行新街口之行", "新街口"),
        ("建行珠江路知行", "珠江路"),
        ("中行湖南路枝行", "湖南路"),
        ("工行新街口支行", "新街口"),  # as when spelt right
        ("之行", "之行"),  # too short to be a branch's name: left as typed
    ],
)
def test_a_unit_word_typed_by_sound_is_spelt_as_names_spell_it(
    lexicon: Lexicon, text: str, landmark: str | None
) -> None:
    assert understand(text, lexicon).landmark == landmark
