"""The WeChat official-account adapter (/wechat), driven the way WeChat drives it.

Messages are WeChat's own samples and Tencent's published AES vectors
(tests/data/wechat, see SOURCES.md there), or are built and encrypted with
wechatpy's crypto exactly as WeChat sends them: `signature` over token,
timestamp and nonce in the query; in safe mode an `<Encrypt>` body and a
`msg_signature` over it. Replies are decrypted and parsed with wechatpy too.

The engines here are test doubles of the channel's one dependency, the
`bot.messages.Engine` protocol: they echo what they got, count their calls,
sleep past the budget, or fail. The real engine has its own tests.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import xmltodict
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from werkzeug.test import TestResponse

from backend.app import create_app
from bot.messages import BotInput, BotReply
from bot.wechat import FAILED_TEXT, HELP_TEXT, MAX_REPLY_BYTES, MORE_HINT, SLOW_TEXT, fit_reply
from bot.wechat_store import message_key, purge, store_reply
from core.coords import convert, distance_m
from tests.conftest import TestConfig, truncate_all

DATA = Path(__file__).resolve().parent / "data" / "wechat"
VECTORS: dict[str, Any] = json.loads((DATA / "encrypted" / "vectors.json").read_text("utf-8"))
OFFICIAL = VECTORS["official_python_sample_decrypt"]  # Tencent's WXBizMsgCrypt sample

TOKEN = OFFICIAL["token"]
AES_KEY = OFFICIAL["encoding_aes_key"]
APPID = OFFICIAL["appid"]
ACCOUNT = "gh_10f6c3c3ac5a"  # the sample's official account
OPENID = "oyORnuP8q7ou2gfYjqLzSIWZf0rs"  # the sample's user
WECHAT = {"wechat_token": TOKEN, "wechat_aes_key": AES_KEY, "wechat_appid": APPID}
ENGINE_KEY = "branchfinder.bot_engine"
MARKER = "test-engine-write"


# --- test engines ----------------------------------------------------------------------------


def describe(message: BotInput) -> str:
    if message.text is not None:
        return f"收到：{message.text}"
    if message.location is not None:
        loc = message.location
        return f"位置：{loc.lat:.6f},{loc.lng:.6f} {loc.label}"
    return f"事件：{message.event}"


class EchoEngine:
    """Answers what it understood and writes a row, to show its transaction is committed."""

    def __init__(self, answer: Callable[[BotInput], str] = describe) -> None:
        self.calls: list[BotInput] = []
        self.answer = answer
        self._lock = threading.Lock()

    def reply(self, session: Session, message: BotInput, now: datetime) -> BotReply:
        assert now.tzinfo is not None
        with self._lock:
            self.calls.append(message)
            n = len(self.calls)
        session.execute(
            text("INSERT INTO rate_limit_bucket (key, window_start, count) VALUES (:k, now(), 1)"),
            {"k": f"{MARKER}:{n}"},
        )
        return BotReply(text=self.answer(message))


class SlowEngine(EchoEngine):
    """Writes, then thinks for longer than any budget in these tests."""

    def __init__(self, delay_s: float) -> None:
        super().__init__()
        self.delay_s = delay_s

    def reply(self, session: Session, message: BotInput, now: datetime) -> BotReply:
        reply = super().reply(session, message, now)
        time.sleep(self.delay_s)
        return reply


class FailingEngine(EchoEngine):
    def reply(self, session: Session, message: BotInput, now: datetime) -> BotReply:
        super().reply(session, message, now)
        raise RuntimeError(f"cannot handle {message!r}")  # quotes the openid, as bugs do


# --- apps ------------------------------------------------------------------------------------


@pytest.fixture
def make_app(database_url: str, engine: Engine) -> Iterator[Callable[..., Flask]]:
    """Apps on the shared test database (like conftest's `app`), with WeChat configured."""
    apps: list[Flask] = []

    def make(bot: Any = None, **settings: Any) -> Flask:
        application = create_app(TestConfig(**{"database_url": database_url, **WECHAT, **settings}))
        if bot is not None:
            application.extensions[ENGINE_KEY] = bot
        apps.append(application)
        return application

    yield make
    _join_workers()
    for application in apps:
        application.extensions["branchfinder.db"].dispose()
    truncate_all(engine)


def _join_workers() -> None:
    """Let abandoned engine threads finish, so no test leaves work running into the next."""
    for thread in threading.enumerate():
        if thread.name == "bot-reply":
            thread.join(10)


@pytest.fixture
def bot() -> EchoEngine:
    return EchoEngine()


@pytest.fixture
def wechat(make_app: Callable[..., Flask], bot: EchoEngine) -> FlaskClient:
    return make_app(bot).test_client()


# --- building messages as WeChat does ---------------------------------------------------------


def signed(timestamp: str = "1700000000", nonce: str = "461056294", **extra: str) -> dict[str, str]:
    """Query parameters of a WeChat call: signature = sha1 of the sorted token, timestamp, nonce."""
    signature = hashlib.sha1("".join(sorted([TOKEN, timestamp, nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce, **extra}


def sample(name: str, **fields: str) -> str:
    """A plaintext sample, sent by our user to our account, with fields replaced."""
    xml = (DATA / "plain" / name).read_text("utf-8")
    xml = re.sub(r"\[CDATA\[[Ff]romUser\]\]", f"[CDATA[{OPENID}]]", xml)
    xml = xml.replace("[CDATA[toUser]]", f"[CDATA[{ACCOUNT}]]")
    for field, value in fields.items():
        xml, count = re.subn(
            rf"<{field}>.*?</{field}>", f"<{field}>{value}</{field}>", xml, flags=re.S
        )
        assert count == 1, field
    return xml


def message(
    msg_type: str, msg_id: int | None = 1, create_time: int = 1700000000, **fields: str
) -> str:
    """A message as WeChat writes it: strings in CDATA, numbers bare."""
    parts = [
        f"<ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>",
        f"<FromUserName><![CDATA[{OPENID}]]></FromUserName>",
        f"<CreateTime>{create_time}</CreateTime>",
        f"<MsgType><![CDATA[{msg_type}]]></MsgType>",
        *(f"<{name}><![CDATA[{value}]]></{name}>" for name, value in fields.items()),
    ]
    if msg_id is not None:
        parts.append(f"<MsgId>{msg_id}</MsgId>")
    return "<xml>" + "".join(parts) + "</xml>"


def post_plain(client: FlaskClient, xml: str, **query: str) -> TestResponse:
    return client.post(
        "/wechat",
        query_string=signed(openid=OPENID, **query),
        data=xml.encode("utf-8"),
        content_type="text/xml",
    )


def encrypt(
    xml: str, timestamp: str, nonce: str, crypto: WeChatCrypto | None = None
) -> tuple[str, str]:
    """WeChat's safe-mode body for `xml` and its msg_signature, made with wechatpy's crypto."""
    crypto = crypto or WeChatCrypto(TOKEN, AES_KEY, APPID)
    envelope = xmltodict.parse(crypto.encrypt_message(xml, nonce, timestamp))["xml"]
    body = (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
    )
    return body, envelope["MsgSignature"]


def post_aes(
    client: FlaskClient, xml: str, crypto: WeChatCrypto | None = None, tamper: bool = False
) -> TestResponse:
    timestamp, nonce = "1700000123", "987654321"
    body, msg_signature = encrypt(xml, timestamp, nonce, crypto)
    if tamper:
        msg_signature = ("0" if msg_signature[0] != "0" else "1") + msg_signature[1:]
    query = signed(timestamp, nonce, openid=OPENID, encrypt_type="aes", msg_signature=msg_signature)
    return client.post("/wechat", query_string=query, data=body, content_type="text/xml")


def plain_reply(response: TestResponse) -> Any:
    """The reply as wechatpy reads it, after checking it is addressed correctly."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/xml"
    reply = parse_message(response.get_data(as_text=True))
    assert reply.type == "text"
    assert (reply.source, reply.target) == (ACCOUNT, OPENID)
    return reply


def decrypted_reply(response: TestResponse) -> Any:
    """Decrypt a safe-mode reply with wechatpy, which also checks its MsgSignature."""
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_data(as_text=True)
    assert OPENID not in body and "Content" not in body  # nothing in clear
    envelope = xmltodict.parse(body)["xml"]
    crypto = WeChatCrypto(TOKEN, AES_KEY, APPID)
    plain = crypto.decrypt_message(
        body, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"]
    )
    reply = parse_message(plain)
    assert reply.type == "text"
    assert (reply.source, reply.target) == (ACCOUNT, OPENID)
    return reply


def assert_error(response: TestResponse, code: int) -> dict[str, Any]:
    assert response.status_code == code, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    assert body["code"] == code and body["message"]
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def marker_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM rate_limit_bucket WHERE key LIKE :p"),
                {"p": f"{MARKER}:%"},
            ).scalar_one()
        )


# --- URL verification ------------------------------------------------------------------------


def test_get_verification_echoes_echostr(wechat: FlaskClient) -> None:
    # the signature published with Tencent's sample, not one we computed
    query = {
        "signature": OFFICIAL["plain_mode_signature"],
        "timestamp": OFFICIAL["timestamp"],
        "nonce": OFFICIAL["nonce"],
        "echostr": "4758945372851906547",
    }
    response = wechat.get("/wechat", query_string=query)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "4758945372851906547"
    assert response.mimetype == "text/plain"


def test_get_with_a_bad_signature_is_403(wechat: FlaskClient) -> None:
    query = signed(echostr="abc")
    query["signature"] = hashlib.sha1(b"not our token").hexdigest()
    body = assert_error(wechat.get("/wechat", query_string=query), 403)
    assert "signature" in body["errors"]["query"]
    other_token = signed(echostr="abc", timestamp="1")  # signed over another timestamp
    other_token["timestamp"] = "2"
    assert_error(wechat.get("/wechat", query_string=other_token), 403)


@pytest.mark.parametrize("missing", ["signature", "timestamp", "nonce", "echostr"])
def test_get_with_a_missing_parameter_is_400_naming_it(wechat: FlaskClient, missing: str) -> None:
    query = signed(echostr="abc")
    del query[missing]
    body = assert_error(wechat.get("/wechat", query_string=query), 400)
    assert missing in body["errors"]["query"]


@pytest.mark.parametrize("missing", ["signature", "timestamp", "nonce"])
def test_post_with_a_missing_parameter_is_400_naming_it(wechat: FlaskClient, missing: str) -> None:
    query = signed()
    del query[missing]
    response = wechat.post("/wechat", query_string=query, data=message("text", Content="x"))
    body = assert_error(response, 400)
    assert missing in body["errors"]["query"]


def test_safe_mode_without_msg_signature_is_400(wechat: FlaskClient, bot: EchoEngine) -> None:
    body, _ = encrypt(message("text", Content="你好"), "1700000123", "1")
    query = signed("1700000123", "1", encrypt_type="aes")
    response = wechat.post("/wechat", query_string=query, data=body)
    assert "msg_signature" in assert_error(response, 400)["errors"]["query"]
    assert bot.calls == []


# --- messages --------------------------------------------------------------------------------


def test_plaintext_text_message(wechat: FlaskClient, bot: EchoEngine, engine: Engine) -> None:
    reply = plain_reply(post_plain(wechat, sample("text_message.xml")))
    assert reply.content == "收到：this is a test"
    assert bot.calls == [BotInput(user=OPENID, text="this is a test")]
    assert marker_rows(engine) == 1  # the engine's writes were committed with the answer


def test_safe_mode_official_vector(wechat: FlaskClient, bot: EchoEngine) -> None:
    """Tencent's published request decrypts to its text, and the answer goes back encrypted."""
    query = {
        "signature": OFFICIAL["plain_mode_signature"],
        "timestamp": OFFICIAL["timestamp"],
        "nonce": OFFICIAL["nonce"],
        "openid": OPENID,
        "encrypt_type": "aes",
        "msg_signature": OFFICIAL["msg_signature"],
    }
    response = wechat.post("/wechat", query_string=query, data=OFFICIAL["request_body"])
    assert decrypted_reply(response).content == "收到：abcdteT"
    assert bot.calls == [BotInput(user=OPENID, text="abcdteT")]


def test_safe_mode_official_cpp_vector(wechat: FlaskClient, bot: EchoEngine) -> None:
    vector = VECTORS["official_cpp_sample_decrypt"]
    expected = parse_message((DATA / "encrypted" / "official_cpp_sample_decrypted.xml").read_text())
    query = signed(
        vector["timestamp"],
        vector["nonce"],
        encrypt_type="aes",
        msg_signature=vector["msg_signature"],
    )
    response = wechat.post("/wechat", query_string=query, data=vector["request_body"])
    assert decrypted_reply(response).content == f"收到：{expected.content}"
    assert bot.calls == [BotInput(user=expected.source, text=expected.content)]


def test_safe_mode_chinese_text(wechat: FlaskClient, bot: EchoEngine) -> None:
    response = post_aes(wechat, message("text", msg_id=42, Content="新街口哪里能换外币"))
    assert decrypted_reply(response).content == "收到：新街口哪里能换外币"
    assert bot.calls == [BotInput(user=OPENID, text="新街口哪里能换外币")]


def test_location_is_converted_from_gcj02_to_wgs84(wechat: FlaskClient, bot: EchoEngine) -> None:
    gcj = (23.134521, 113.358803)  # the sample's Location_X (latitude), Location_Y (longitude)
    plain_reply(post_plain(wechat, sample("location_message.xml")))
    [got] = bot.calls
    assert got.user == OPENID and got.text is None and got.location is not None
    expected = convert(*gcj, "gcj02", "wgs84")
    assert (got.location.lat, got.location.lng) == pytest.approx(expected, abs=1e-9)
    assert distance_m(got.location.lat, got.location.lng, *gcj) > 100  # really converted
    assert got.location.label == "位置信息"


def test_location_in_safe_mode_nanjing(wechat: FlaskClient, bot: EchoEngine) -> None:
    gcj = (32.039452, 118.783309)  # Xinjiekou on WeChat's map
    xml = message("location", msg_id=7, Label="南京市秦淮区新街口")
    xml = xml.replace(
        "<Label>",
        f"<Location_X>{gcj[0]}</Location_X><Location_Y>{gcj[1]}</Location_Y><Scale>15</Scale><Label>",
    )
    reply = decrypted_reply(post_aes(wechat, xml))
    [got] = bot.calls
    assert got.location is not None
    assert (got.location.lat, got.location.lng) == pytest.approx(
        convert(*gcj, "gcj02", "wgs84"), abs=1e-9
    )
    assert reply.content.startswith("位置：32.04")


def test_subscribe_and_unsubscribe(wechat: FlaskClient, bot: EchoEngine) -> None:
    welcome = plain_reply(post_plain(wechat, sample("event_subscribe.xml")))
    assert welcome.content == "事件：subscribe"
    # subscribing by scanning a QR code with a scene is still a subscription
    scanned = sample("event_subscribe_scan_qrscene.xml", CreateTime="123456790")
    assert plain_reply(post_plain(wechat, scanned)).content == "事件：subscribe"
    gone = post_plain(wechat, sample("event_unsubscribe.xml"))
    assert gone.status_code == 200 and gone.get_data(as_text=True) == "success"
    assert [c.event for c in bot.calls] == ["subscribe", "subscribe", "unsubscribe"]
    assert {c.user for c in bot.calls} == {OPENID}


def test_subscribe_in_safe_mode(wechat: FlaskClient, bot: EchoEngine) -> None:
    reply = decrypted_reply(post_aes(wechat, sample("event_subscribe.xml")))
    assert reply.content == "事件：subscribe"


@pytest.mark.parametrize(
    "xml",
    [
        message("image", PicUrl="http://mmbiz.qpic.cn/x.jpg", MediaId="m1"),
        sample("voice_message.xml"),
        sample("link_message.xml"),
        message("video", MediaId="m2", ThumbMediaId="t2"),
        message("shortvideo", MediaId="m3", ThumbMediaId="t3"),
        message("miniprogrampage", AppId="wx1", Title="t", PagePath="p"),
        sample("event_menu_click.xml"),
        sample("event_scan.xml"),
    ],
    ids=["image", "voice", "link", "video", "shortvideo", "miniprogram", "click", "scan"],
)
def test_what_the_bot_cannot_read_is_answered_politely(
    wechat: FlaskClient, bot: EchoEngine, xml: str
) -> None:
    assert plain_reply(post_plain(wechat, xml)).content == HELP_TEXT
    assert "文字" in HELP_TEXT and "位置" in HELP_TEXT
    assert bot.calls == []


@pytest.mark.parametrize(
    "name", ["event_location_report.xml", "event_menu_view.xml", "event_location_select.xml"]
)
def test_passive_events_get_no_reply(wechat: FlaskClient, bot: EchoEngine, name: str) -> None:
    """Location reports come every time the chat opens; an answer to each would be spam."""
    response = post_plain(wechat, sample(name))
    assert response.status_code == 200 and response.get_data(as_text=True) == "success"
    assert bot.calls == []


def test_recognised_voice_is_read_as_text(wechat: FlaskClient, bot: EchoEngine) -> None:
    xml = message("voice", msg_id=9, MediaId="m", Format="amr", Recognition="最近的农业银行")
    assert plain_reply(post_plain(wechat, xml)).content == "收到：最近的农业银行"
    assert bot.calls == [BotInput(user=OPENID, text="最近的农业银行")]


# --- retries ---------------------------------------------------------------------------------


def test_retries_are_answered_once_across_app_instances(
    make_app: Callable[..., Flask], engine: Engine
) -> None:
    first_bot, second_bot = EchoEngine(), EchoEngine()
    first = make_app(first_bot).test_client()
    second = make_app(second_bot).test_client()  # another worker on the same database
    xml = message("text", msg_id=6054768590064713728, Content="最近的工行")
    replies = [plain_reply(post_plain(first, xml)).content]
    replies.append(plain_reply(post_plain(first, xml)).content)
    replies.append(plain_reply(post_plain(second, xml)).content)  # the retry lands elsewhere
    replies.append(decrypted_reply(post_aes(second, xml)).content)  # and in safe mode
    assert replies == ["收到：最近的工行"] * 4  # the stored reply is replayed
    assert len(first_bot.calls) == 1 and second_bot.calls == []
    assert marker_rows(engine) == 1
    # a new MsgId is a new message
    plain_reply(post_plain(second, message("text", msg_id=6054768590064713729, Content="再来")))
    assert len(second_bot.calls) == 1


def test_event_retries_are_keyed_by_sender_and_time(wechat: FlaskClient, bot: EchoEngine) -> None:
    for _ in range(3):
        assert plain_reply(post_plain(wechat, sample("event_subscribe.xml"))).content
    assert len(bot.calls) == 1
    later = sample("event_subscribe.xml", CreateTime="123456800")
    plain_reply(post_plain(wechat, later))
    assert len(bot.calls) == 2


def test_unsubscribe_retry_is_still_success(wechat: FlaskClient, bot: EchoEngine) -> None:
    for _ in range(2):
        response = post_plain(wechat, sample("event_unsubscribe.xml"))
        assert response.get_data(as_text=True) == "success"
    assert len(bot.calls) == 1


def test_retry_while_the_first_delivery_is_unfinished(
    make_app: Callable[..., Flask], engine: Engine
) -> None:
    bot = EchoEngine()
    application = make_app(bot, wechat_reply_budget_s=0.3)
    client = application.test_client()
    xml = message("text", msg_id=77, Content="慢")
    key = message_key(
        application.extensions["branchfinder.config"].secret_key, ACCOUNT, "77", OPENID, "", None
    )
    with engine.begin() as conn:  # the first delivery claimed it and is still thinking
        conn.execute(text("INSERT INTO wechat_message (msg_key) VALUES (:k)"), {"k": key})
    started = time.monotonic()
    assert plain_reply(post_plain(client, xml)).content == SLOW_TEXT
    assert time.monotonic() - started < 2.5  # waited about the budget, no more
    store_reply(engine, key, "收到：慢")  # the first delivery finishes
    assert plain_reply(post_plain(client, xml)).content == "收到：慢"
    assert bot.calls == []  # never asked twice


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "",
        "this is not xml",
        "<xml><ToUserName>unclosed</xml>",
        "<xml>just text</xml>",
        "<notxml><MsgType>text</MsgType></notxml>",
        '<!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><xml>&b;</xml>',
        message("text").replace(f"<FromUserName><![CDATA[{OPENID}]]></FromUserName>", ""),
        message("text").replace(
            "<CreateTime>1700000000</CreateTime>", "<CreateTime>x</CreateTime>"
        ),
        message("text", msg_id=None).replace("</xml>", "<MsgId>abc</MsgId></xml>"),
        message("text", Content="hi").replace("<![CDATA[text]]>", "<a/>"),
        message("location", Location_X="north", Location_Y="113.3"),
        message("location", Location_X="95", Location_Y="113.3"),
        message("location"),
        "\xff\xfe<xml/>",
    ],
    ids=[
        "empty",
        "text",
        "unclosed",
        "no-fields",
        "wrong-root",
        "entities",
        "no-sender",
        "bad-time",
        "bad-msgid",
        "nested-type",
        "bad-lat",
        "lat-off-globe",
        "no-position",
        "not-utf8",
    ],
)
def test_malformed_messages_are_400(wechat: FlaskClient, bot: EchoEngine, body: str) -> None:
    data = body.encode("latin-1") if body.startswith("\xff") else body.encode("utf-8")
    response = wechat.post("/wechat", query_string=signed(), data=data, content_type="text/xml")
    assert_error(response, 400)
    assert bot.calls == []


def test_undecryptable_safe_mode_body_is_400(wechat: FlaskClient) -> None:
    timestamp, nonce = "1700000123", "5"
    for encrypted in ["not base64 !!", "QUFBQQ==", ""]:
        body = (
            f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        )
        msg_signature = hashlib.sha1(
            "".join(sorted([TOKEN, timestamp, nonce, encrypted])).encode()
        ).hexdigest()
        query = signed(timestamp, nonce, encrypt_type="aes", msg_signature=msg_signature)
        assert_error(wechat.post("/wechat", query_string=query, data=body), 400)
    # well-formed ciphertexts that decrypt to garbage: never a 500
    rng = random.Random(7)
    for size in (16, 32, 48, 64) * 8:
        encrypted = base64.b64encode(rng.randbytes(size)).decode()
        body = (
            f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        )
        msg_signature = hashlib.sha1(
            "".join(sorted([TOKEN, timestamp, nonce, encrypted])).encode()
        ).hexdigest()
        query = signed(timestamp, nonce, encrypt_type="aes", msg_signature=msg_signature)
        response = wechat.post("/wechat", query_string=query, data=body)
        assert response.status_code in (400, 403), response.get_data(as_text=True)
        assert_error(response, response.status_code)
    no_encrypt = signed(timestamp, nonce, encrypt_type="aes", msg_signature="0" * 40)
    assert_error(wechat.post("/wechat", query_string=no_encrypt, data=message("text")), 400)


def test_bad_signatures_are_403(wechat: FlaskClient, bot: EchoEngine) -> None:
    xml = message("text", Content="你好")
    body = assert_error(post_aes(wechat, xml, tamper=True), 403)
    assert "msg_signature" in body["errors"]["query"]
    # encrypted with our key but for another official account
    other = WeChatCrypto(TOKEN, AES_KEY, "wx0000000000000000")
    assert_error(post_aes(wechat, xml, crypto=other), 403)
    # a plaintext message signed with another token
    query = signed()
    query["signature"] = hashlib.sha1(b"x").hexdigest()
    assert_error(wechat.post("/wechat", query_string=query, data=xml), 403)
    assert bot.calls == []


# --- long and slow replies -------------------------------------------------------------------


def test_long_reply_is_cut_on_a_line_under_2048_bytes(make_app: Callable[..., Flask]) -> None:
    lines = [
        f"{i}. 中国工商银行南京新街口支行 秦淮区中山路{i}号 距您{i * 10}米" for i in range(1, 80)
    ]
    client = make_app(EchoEngine(lambda _m: "\n".join(lines))).test_client()
    for reply in (
        plain_reply(post_plain(client, message("text", msg_id=1, Content="工行"))),
        decrypted_reply(post_aes(client, message("text", msg_id=2, Content="工行"))),
    ):
        content: str = reply.content
        assert len(content.encode("utf-8")) <= MAX_REPLY_BYTES
        *kept, hint = content.split("\n")
        assert hint == MORE_HINT
        assert kept == lines[: len(kept)] and 20 < len(kept) < len(lines)


def test_fit_reply() -> None:
    exact = "a" * MAX_REPLY_BYTES
    assert fit_reply(exact) == exact
    one_line = "网点" * 2000  # no line boundary at all: cut between characters
    cut = fit_reply(one_line)
    assert len(cut.encode("utf-8")) <= MAX_REPLY_BYTES and cut.endswith(MORE_HINT)
    assert one_line.startswith(cut.split("\n")[0])
    assert fit_reply("第一行\x00\x07\n第二行") == "第一行\n第二行"  # not allowed in XML


def test_reply_text_that_looks_like_xml_survives(make_app: Callable[..., Flask]) -> None:
    tricky = "a]]>b <Content>&amp; \n</xml>"
    client = make_app(EchoEngine(lambda _m: tricky)).test_client()
    assert plain_reply(post_plain(client, message("text", msg_id=3, Content="x"))).content == tricky
    assert (
        decrypted_reply(post_aes(client, message("text", msg_id=4, Content="x"))).content == tricky
    )


def test_slow_engine_gets_a_fallback_within_the_budget(
    make_app: Callable[..., Flask], engine: Engine
) -> None:
    slow = SlowEngine(delay_s=3.0)
    client = make_app(slow, wechat_reply_budget_s=0.3).test_client()
    xml = message("text", msg_id=11, Content="最近的工行")
    started = time.monotonic()
    reply = decrypted_reply(post_aes(client, xml))
    assert time.monotonic() - started < 2.0  # the budget, not the engine's 3 s
    assert reply.content == SLOW_TEXT
    _join_workers()
    assert len(slow.calls) == 1
    assert marker_rows(engine) == 0  # the abandoned engine's writes were rolled back
    # WeChat's retry of the same message replays the answer; the engine is not asked again
    assert plain_reply(post_plain(client, xml)).content == SLOW_TEXT
    assert len(slow.calls) == 1


def test_failing_engine_gets_an_apology(
    make_app: Callable[..., Flask], engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    failing = FailingEngine()
    client = make_app(failing).test_client()
    with _capture(caplog):
        reply = plain_reply(post_plain(client, message("text", msg_id=12, Content="你好")))
    assert reply.content == FAILED_TEXT
    assert marker_rows(engine) == 0  # rolled back
    failures = [r for r in caplog.records if "bot engine failed" in r.getMessage()]
    assert failures and "RuntimeError: cannot handle" in failures[0].getMessage()
    assert OPENID not in _everything_logged(caplog)


def test_engine_session_has_the_budget_as_statement_timeout(
    make_app: Callable[..., Flask],
) -> None:
    class TimeoutEcho(EchoEngine):
        def reply(self, session: Session, message: BotInput, now: datetime) -> BotReply:
            return BotReply(text=str(session.execute(text("SHOW statement_timeout")).scalar()))

    client = make_app(TimeoutEcho(), wechat_reply_budget_s=1.5).test_client()
    reply = plain_reply(post_plain(client, message("text", msg_id=13, Content="x")))
    assert reply.content == "1500ms"


def test_database_down_still_gets_an_answer(
    make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    bot = EchoEngine()
    client = make_app(bot, database_url="postgresql://nobody:x@127.0.0.1:1/none").test_client()
    with _capture(caplog):
        reply = plain_reply(post_plain(client, message("text", msg_id=14, Content="你好")))
    assert reply.content == FAILED_TEXT
    assert bot.calls == []
    assert "de-duplication failed" in _everything_logged(caplog)
    assert OPENID not in _everything_logged(caplog)


# --- configuration ---------------------------------------------------------------------------


def test_without_a_token_wechat_is_503(make_app: Callable[..., Flask]) -> None:
    client = make_app(EchoEngine(), wechat_token="").test_client()
    body = assert_error(client.get("/wechat", query_string=signed(echostr="x")), 503)
    assert "BRANCHFINDER_WECHAT_TOKEN" in body["message"]
    assert_error(post_plain(client, message("text")), 503)


def test_the_app_as_shipped_answers_503(client: FlaskClient) -> None:
    """conftest's app has no WeChat token configured: 503, never a crash."""
    assert_error(post_plain(client, message("text")), 503)


def test_safe_mode_without_an_aes_key_is_503(make_app: Callable[..., Flask]) -> None:
    client = make_app(EchoEngine(), wechat_aes_key="", wechat_appid="").test_client()
    assert_error(post_aes(client, message("text")), 503)
    assert plain_reply(post_plain(client, message("text", Content="明文"))).content == "收到：明文"


@pytest.mark.parametrize(
    "settings",
    [
        {"wechat_aes_key": "too-short"},
        {"wechat_reply_budget_s": 0},
        {"wechat_reply_budget_s": 5},
    ],
)
def test_bad_settings_fail_at_start_up(database_url: str, settings: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="BRANCHFINDER_WECHAT"):
        create_app(TestConfig(database_url=database_url, **{**WECHAT, **settings}))


def test_openapi_documents_wechat(wechat: FlaskClient) -> None:
    spec = wechat.get("/openapi.json").get_json()
    operations = spec["paths"]["/wechat"]
    assert {"400", "403", "503"} <= set(operations["post"]["responses"])
    assert "text/xml" in operations["post"]["requestBody"]["content"]
    params = {p["name"] for p in operations["post"]["parameters"]}
    assert {"signature", "timestamp", "nonce", "encrypt_type", "msg_signature"} <= params
    assert {"echostr"} <= {p["name"] for p in operations["get"]["parameters"]}


# --- privacy ---------------------------------------------------------------------------------


class _capture:
    """caplog at DEBUG, re-attached: create_app replaces the root logger's handlers."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog

    def __enter__(self) -> None:
        root = logging.getLogger()
        if self.caplog.handler not in root.handlers:
            root.addHandler(self.caplog.handler)
        self.level = root.level
        root.setLevel(logging.DEBUG)

    def __exit__(self, *_exc: object) -> None:
        logging.getLogger().setLevel(self.level)


def _everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    formatter = logging.Formatter()
    return "\n".join(
        r.getMessage()
        + (formatter.formatException(r.exc_info) if r.exc_info else "")
        + str(getattr(r, "fields", ""))
        for r in caplog.records
    )


def test_openid_is_neither_logged_nor_stored(
    make_app: Callable[..., Flask], engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    bot = EchoEngine()
    client = make_app(bot, log_level="DEBUG").test_client()
    slow = make_app(SlowEngine(1.0), wechat_reply_budget_s=0.2).test_client()
    with _capture(caplog):
        plain_reply(post_plain(client, sample("text_message.xml")))
        plain_reply(post_plain(client, sample("text_message.xml")))  # a retry
        decrypted_reply(post_aes(client, message("text", msg_id=5, Content="你好")))
        plain_reply(post_plain(client, sample("event_subscribe.xml")))
        plain_reply(post_plain(client, sample("location_message.xml", MsgId="99")))
        post_plain(client, sample("event_unsubscribe.xml"))
        plain_reply(post_plain(slow, message("text", msg_id=6, Content="慢")))
        assert_error(post_plain(client, "<xml>broken"), 400)
        _join_workers()
    logged = _everything_logged(caplog)
    assert "wechat text" in logged  # the adapter did log, just not who
    assert OPENID not in logged
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT msg_key, reply FROM wechat_message")).all()
    assert len(rows) == 6
    for msg_key, reply in rows:
        assert re.fullmatch(r"[0-9a-f]{64}", msg_key)
        assert OPENID not in (reply or "")
    dump = json.dumps([list(r) for r in rows], ensure_ascii=False)
    assert OPENID not in dump


def test_purge_deletes_old_rows(wechat: FlaskClient, engine: Engine) -> None:
    plain_reply(post_plain(wechat, sample("text_message.xml")))
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO wechat_message (msg_key, received_at) "
                "VALUES (:k, now() - interval '2 days')"
            ),
            {"k": "f" * 64},
        )
    assert purge(engine) == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM wechat_message")).scalar_one() == 1
