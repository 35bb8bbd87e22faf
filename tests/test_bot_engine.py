"""The chat engine on real PostGIS: conversations, memory, the chat API and the terminal chat.

Accuracy over many realistic questions is tests/test_bot_eval.py; this checks
the mechanics each of those answers relies on.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from backend.app import create_app
from backend.cli import main
from backend.demo.catalog import by_key
from bot.conversation import LOCATION_TTL, RESULTS_TTL
from bot.engine import BotEngine
from bot.messages import BotInput, BotReply, SharedLocation
from core.coords import convert, distance_m
from tests.conftest import TestConfig, load_generated, truncate_all

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
XINJIEKOU = SharedLocation(32.0415, 118.7781, "新街口")  # WGS-84
ICBC = "C1010211000012"


@pytest.fixture(scope="module")
def loaded(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    data = tmp_path_factory.mktemp("bot")
    load_generated(engine, data, outlets=1500, seed=3)
    yield engine
    truncate_all(engine)


@pytest.fixture
def session(loaded: Engine) -> Iterator[Session]:
    with Session(loaded) as db:
        yield db
        db.rollback()
    with loaded.begin() as conn:
        conn.execute(text("DELETE FROM bot_conversation"))


@pytest.fixture(scope="module")
def bot() -> BotEngine:
    return BotEngine("test-secret")


def say(
    bot: BotEngine,
    session: Session,
    text_: str | None = None,
    *,
    user: str = "u",
    at: datetime = MONDAY_10,
    location: SharedLocation | None = None,
) -> BotReply:
    return bot.reply(session, BotInput(user=user, text=text_, location=location), at)


def icbc_by_distance(session: Session, point: SharedLocation) -> list[tuple[float, str]]:
    rows = session.execute(
        text(
            "SELECT i.fi_code, ST_Y(o.position::geometry), ST_X(o.position::geometry) "
            "FROM institution i JOIN outlet_profile o ON o.institution_id = i.id "
            "WHERE i.legal_entity_code = :le AND i.status = 'active' AND o.position IS NOT NULL"
            " AND i.kind = 'branch'"  # 工行 means its branches; 取钱 would mean its machines
        ),
        {"le": ICBC},
    ).all()
    return sorted((distance_m(point.lat, point.lng, lat, lng), code) for code, lat, lng in rows)


def test_nearest_waits_for_a_position_then_answers_nearest_first(
    bot: BotEngine, session: Session
) -> None:
    asked = say(bot, session, "最近的工行")
    assert asked.results == [] and "位置" in asked.text
    answer = say(bot, session, location=XINJIEKOU)
    expected = [code for _, code in icbc_by_distance(session, XINJIEKOU)[:5]]
    assert [r.fi_code for r in answer.results] == expected
    distances = [r.distance_m for r in answer.results]
    assert distances == sorted(distances)  # type: ignore[type-var]


def test_follow_ups_refer_to_the_last_results(bot: BotEngine, session: Session) -> None:
    listed = say(bot, session, "附近的工行", location=XINJIEKOU).results
    second = say(bot, session, "第二个的电话")
    assert second.results[0].fi_code == listed[1].fi_code
    assert listed[1].phone and listed[1].phone in second.text
    address = say(bot, session, "第3个地址")
    assert listed[2].address and listed[2].address in address.text
    hours = say(bot, session, "第一个几点开门")
    assert "营业时间" in hours.text and "周" in hours.text
    more = say(bot, session, "更多")
    assert more.results and not {r.fi_code for r in more.results} & {r.fi_code for r in listed}
    assert "6." in more.text  # numbering goes on


def test_memory_is_shared_by_engines_and_expires(bot: BotEngine, session: Session) -> None:
    say(bot, session, "附近的工行", location=XINJIEKOU)
    other_worker = BotEngine("test-secret")
    assert say(other_worker, session, "第二个的电话").results
    later = MONDAY_10 + RESULTS_TTL + timedelta(minutes=1)
    assert "请先告诉我" in say(other_worker, session, "第二个的电话", at=later).text
    much_later = MONDAY_10 + LOCATION_TTL + timedelta(minutes=1)
    assert "位置" in say(bot, session, "最近的工行", at=much_later).text


def test_users_do_not_see_each_others_memory(bot: BotEngine, session: Session) -> None:
    say(bot, session, "附近的工行", location=XINJIEKOU, user="a")
    assert "请先告诉我" in say(bot, session, "第二个的电话", user="b").text
    stored = session.execute(text("SELECT user_key FROM bot_conversation")).scalars().all()
    assert stored and all(key not in ("a", "b") and len(key) == 64 for key in stored)


def test_a_named_branch_beats_a_nearer_outlet_on_that_street(
    bot: BotEngine, session: Session
) -> None:
    name = session.execute(
        text(
            "SELECT name FROM institution WHERE legal_entity_code = :le "
            "AND name LIKE '%南京%支行' AND name NOT LIKE '%分理处' ORDER BY fi_code LIMIT 1"
        ),
        {"le": ICBC},
    ).scalar_one()
    branch = name.split("南京", 1)[1].removesuffix("支行")
    answer = say(bot, session, f"工行{branch}支行", location=XINJIEKOU)
    assert answer.results[0].name == name


def test_a_landmark_without_a_position_lists_the_branch_named_after_it_first(
    bot: BotEngine, session: Session
) -> None:
    name = session.execute(
        text(
            "SELECT name FROM institution WHERE legal_entity_code = :le AND status = 'active' "
            "AND name LIKE '%南京%支行' ORDER BY fi_code LIMIT 1"
        ),
        {"le": ICBC},
    ).scalar_one()
    branch = name.split("南京", 1)[1].removesuffix("支行")
    answer = say(bot, session, f"{branch}的工行")
    assert answer.results[0].name.endswith(f"{branch}支行")
    assert all(branch in r.name or branch in (r.address or "") for r in answer.results)


def test_a_county_without_a_position_lists_outlets_nearest_its_centre(
    bot: BotEngine, session: Session
) -> None:
    from registry import regions

    code = session.execute(
        text(
            "SELECT i.region_code FROM institution i JOIN outlet_profile o "
            "ON o.institution_id = i.id WHERE i.status = 'active' AND o.position IS NOT NULL "
            "AND i.region_code LIKE '3201%' AND i.region_code <> '320100' "
            "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
        )
    ).scalar_one()
    place = regions.place(code)
    assert place is not None
    answer = say(bot, session, f"{place.name}的银行")
    assert answer.results and all(r.distance_m is None for r in answer.results)
    rows = session.execute(
        text(
            "SELECT i.fi_code, ST_Y(o.position::geometry), ST_X(o.position::geometry) "
            "FROM institution i JOIN outlet_profile o ON o.institution_id = i.id "
            "WHERE i.region_code = :code AND i.status = 'active' AND i.category = 'bank' "
            "AND o.position IS NOT NULL AND i.kind = 'branch'"
        ),
        {"code": code},
    ).all()
    nearest = sorted((distance_m(place.lat, place.lng, lat, lng), c) for c, lat, lng in rows)
    got = [r.fi_code for r in answer.results]
    assert got == [c for _, c in nearest[: len(got)]]


def test_open_now_lists_only_open_outlets(bot: BotEngine, session: Session) -> None:
    saturday = datetime(2026, 11, 21, 10, 0, tzinfo=SHANGHAI)  # some banks open, some not
    everyone = say(bot, session, "附近的银行", location=XINJIEKOU, at=saturday, user="x")
    assert not all(r.open_now for r in everyone.results)
    answer = say(bot, session, "现在开门的银行", location=XINJIEKOU, at=saturday)
    assert answer.results and all(r.open_now for r in answer.results)


def test_when_nothing_is_open_it_says_so_and_offers_the_nearest(
    bot: BotEngine, session: Session
) -> None:
    late = datetime(2026, 11, 22, 23, 30, tzinfo=SHANGHAI)
    answer = say(bot, session, "现在开门的工行", location=XINJIEKOU, at=late)
    assert "没有找到" in answer.text and "不限营业状态" in answer.text
    assert answer.results and not any(r.open_now for r in answer.results)


def test_a_count_limits_the_list(bot: BotEngine, session: Session) -> None:
    assert len(say(bot, session, "附近三家工行", location=XINJIEKOU).results) == 3


def test_nothing_found_says_what_was_understood(bot: BotEngine, session: Session) -> None:
    answer = say(bot, session, "工行月球路支行")
    assert "没有找到" in answer.text and "月球路" in answer.text
    assert "你是不是要找" in answer.text  # without 月球路: ICBC outlets
    gibberish = say(bot, session, "qwxzv")
    assert gibberish.text and not gibberish.results


def test_greetings_and_events_get_help(bot: BotEngine, session: Session) -> None:
    assert "最近的工行" in say(bot, session, "你好").text
    assert "最近的工行" in bot.reply(session, BotInput("u", event="subscribe"), MONDAY_10).text
    say(bot, session, "附近的工行", location=XINJIEKOU)
    assert bot.reply(session, BotInput("u", event="unsubscribe"), MONDAY_10).text == ""
    assert "请先告诉我" in say(bot, session, "第二个的电话").text  # forgotten


def test_an_index_outside_the_list_is_explained(bot: BotEngine, session: Session) -> None:
    say(bot, session, "附近的工行", location=XINJIEKOU)
    assert "请换个序号" in say(bot, session, "第九个").text


# --- the chat API --------------------------------------------------------------------------


@pytest.fixture
def chat(loaded: Engine, database_url: str) -> Iterator[FlaskClient]:
    """An app on the module's data (conftest's `app` would truncate it afterwards)."""
    application = create_app(TestConfig(database_url=database_url))
    yield application.test_client()
    application.extensions["branchfinder.db"].dispose()
    with loaded.begin() as conn:
        conn.execute(text("DELETE FROM bot_conversation; DELETE FROM rate_limit_bucket"))


def test_chat_api_answers_in_the_callers_coordinates(chat: FlaskClient) -> None:
    lat, lng = convert(XINJIEKOU.lat, XINJIEKOU.lng, "wgs84", "gcj02")
    response = chat.post(
        "/api/bot/v1/chat",
        json={"user": "web-1", "text": "最近的工行", "location": {"lat": lat, "lng": lng}},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["results"] and body["understood"]["legal_entities"] == [ICBC]
    first = body["results"][0]
    wlat, wlng = convert(first["position"]["lat"], first["position"]["lng"], "gcj02", "wgs84")
    assert distance_m(XINJIEKOU.lat, XINJIEKOU.lng, wlat, wlng) == pytest.approx(
        first["distance_m"], abs=2
    )
    follow = chat.post("/api/bot/v1/chat", json={"user": "web-1", "text": "第一个的电话"})
    assert follow.get_json()["results"][0]["fi_code"] == first["fi_code"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": "工行"}, "user"),
        ({"user": "", "text": "工行"}, "user"),
        ({"user": "x"}, "text"),
        ({"user": "x", "text": "   "}, "text"),
        ({"user": "x", "text": "工" * 501}, "text"),
        ({"user": "x", "location": {"lat": 95, "lng": 118}}, "location"),
        ({"user": "x", "location": {"lat": 32, "lng": 118, "coord": "mars"}}, "location"),
        ({"user": "x", "text": "工行", "extra": 1}, "extra"),
    ],
)
def test_chat_api_refuses_bad_bodies_naming_the_field(
    chat: FlaskClient, body: dict[str, object], field: str
) -> None:
    response = chat.post("/api/bot/v1/chat", json=body)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]["json"]


def test_terminal_chat_answers_a_piped_script(loaded: Engine, database_url: str) -> None:
    script = "最近的工行\n/loc 32.0390,118.7843 新街口\n第二个的电话\n/loc nowhere\n"
    result = CliRunner().invoke(main, ["chat", "--database-url", database_url], input=script)
    assert result.exit_code == 0, result.output
    assert "位置" in result.output and "025-" in result.output and "用法" in result.output


def test_cli_chat_help_says_how(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["chat", "--help"])
    assert result.exit_code == 0 and "/loc" in result.output


def test_a_mistyped_place_word_is_corrected_by_sound(bot: BotEngine, session: Session) -> None:
    name = session.execute(
        text(
            "SELECT name FROM institution WHERE legal_entity_code = :le "
            "AND name ~ '南京.+路支行$' ORDER BY fi_code LIMIT 1"
        ),
        {"le": ICBC},
    ).scalar_one()
    road = name.split("南京", 1)[1].removesuffix("支行")
    typed = road[:-1] + "陆"  # 路 and 陆 sound the same (lù)
    answer = say(bot, session, f"工行{typed}支行")
    assert answer.results[0].name == name
    assert f"按“{road}”" in answer.text


def test_questions_about_the_bot_get_help(bot: BotEngine, session: Session) -> None:
    for question in ("你是谁", "你能帮我做什么", "这个怎么用？", "who are you"):
        answer = say(bot, session, question)
        assert "金融网点通" in answer.text and "最近的工行" in answer.text, question
        assert not answer.results
    assert say(bot, session, "你能帮我找工行吗", location=XINJIEKOU).results  # a search


def _bank_missing_from_a_county(session: Session) -> tuple[str, str, str]:
    """(legal entity code, its name, county code): a bank with outlets, a county of the
    data with banks, and none of that bank's outlets in the county or named after it."""
    from registry import regions

    rows = session.execute(
        text(
            "SELECT h.fi_code, h.name, c.region_code FROM institution h "
            "CROSS JOIN (SELECT DISTINCT i.region_code FROM institution i "
            "  JOIN outlet_profile o ON o.institution_id = i.id "
            "  WHERE i.status = 'active' AND i.category = 'bank' AND o.position IS NOT NULL "
            "  AND i.region_code LIKE '3201%' AND i.region_code <> '320100') c "
            "WHERE h.fi_code = h.legal_entity_code AND h.category = 'bank' "
            "AND h.fi_code IN (:cmb, :ccb, :icbc) "
            "AND NOT EXISTS (SELECT 1 FROM institution i WHERE i.legal_entity_code = h.fi_code "
            "  AND i.status = 'active' AND i.region_code = c.region_code) "
            "ORDER BY h.fi_code, c.region_code"
        ),
        {"cmb": by_key("cmb").fi_code, "ccb": by_key("ccb").fi_code, "icbc": ICBC},
    ).all()
    for code, name, county in rows:
        place = regions.place(county)
        assert place is not None
        stem = place.name[:-1] if len(place.name) > 2 else place.name
        named = session.execute(
            text(
                "SELECT count(*) FROM institution WHERE legal_entity_code = :le "
                "AND status = 'active' AND strpos(name, :stem) > 0"
            ),
            {"le": code, "stem": stem},
        ).scalar_one()
        if not named:
            return code, name, county
    pytest.fail(
        "the seeded sample no longer has a bank absent from a Nanjing district: pick another"
    )


def test_a_bank_in_a_place_without_it_says_so_and_offers_its_nearest(
    bot: BotEngine, session: Session
) -> None:
    from bot.replies import display_name
    from registry import regions

    code, legal_name, county = _bank_missing_from_a_county(session)
    place = regions.place(county)
    assert place is not None
    bank = display_name(legal_name)
    answer = say(bot, session, f"{place.name}的{bank}")
    assert answer.text.startswith(f"{place.name}没有{bank}的网点。")
    assert f"离{place.name}中心最近的{bank}网点" in answer.text
    rows = session.execute(
        text(
            "SELECT i.fi_code, i.legal_entity_code, i.region_code, "
            "ST_Y(o.position::geometry) AS lat, ST_X(o.position::geometry) AS lng "
            "FROM institution i JOIN outlet_profile o ON o.institution_id = i.id "
            "WHERE i.status = 'active' AND o.position IS NOT NULL AND i.kind = 'branch'"
        )
    ).all()
    by_code = {r.fi_code: r for r in rows}
    theirs = sorted(
        (distance_m(place.lat, place.lng, r.lat, r.lng), r.fi_code)
        for r in rows
        if r.legal_entity_code == code
    )
    listed = [by_code[r.fi_code] for r in answer.results]
    mine = [r for r in answer.results if by_code[r.fi_code].legal_entity_code == code]
    assert [r.fi_code for r in mine] == [c for _, c in theirs[: len(mine)]]
    assert mine[0].fi_code == answer.results[0].fi_code  # the bank's own come first
    for result, (metres, _) in zip(mine, theirs, strict=False):
        assert result.distance_m == pytest.approx(metres, rel=1e-3)  # from the centre
    others = listed[len(mine) :]
    assert others and all(r.region_code == county for r in others)
    assert f"{place.name}的其他银行" in answer.text
    # the listing is remembered: its numbers answer follow-ups
    detail = say(bot, session, f"第{len(mine) + 1}个")
    assert display_name(answer.results[len(mine)].name) in detail.text


def test_a_long_name_with_a_slip_is_offered_from_the_vocabulary(
    bot: BotEngine, session: Session
) -> None:
    answer = say(bot, session, "中国建没")
    assert "没有找到" in answer.text and "你是不是要找" in answer.text
    ccb = by_key("ccb").fi_code
    codes = [r.fi_code for r in answer.results]
    le = dict(
        session.execute(
            text("SELECT fi_code, legal_entity_code FROM institution WHERE fi_code = ANY(:c)"),
            {"c": codes},
        ).all()
    )
    assert codes and all(le[c] == ccb for c in codes)
