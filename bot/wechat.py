"""The WeChat official-account (公众号) adapter of the chat bot: `GET/POST /wechat`.

WeChat calls us, not the other way round: `GET` once to verify the URL (echo
`echostr` if the signature over token, timestamp and nonce is ours), then a
`POST` of XML per user message, plaintext or, in safe mode (安全模式,
`encrypt_type=aes`), AES-encrypted with its own `msg_signature`. Signatures,
AES and the reply XML are `wechatpy`'s; the body is parsed with `xmltodict`
(what wechatpy itself uses, entities disabled) because we need every field
checked, not wechatpy's best-effort message objects.

The adapter knows WeChat, not finding outlets: it turns a message into a
`bot.messages.BotInput`, asks the engine found in `app.extensions`, and renders
`BotReply.text` as a text reply, in the same mode the message came in.

WeChat's rules it follows:

- An answer within 5 seconds, or the user sees "该公众号暂时无法提供服务". The
  engine runs with a budget (`bot.budget`); when it is slow the user gets an
  honest "still searching, ask again" text instead of silence.
- Retries (same MsgId, or FromUserName + CreateTime for events) are answered
  once: `bot.wechat_store` marks each message in PostgreSQL, shared by every
  worker. A retry replays the stored reply rather than answering "success":
  WeChat retries only when our first answer did not reach it, so the user has
  seen nothing yet and the stored reply is exactly what they are waiting for.
  If that reply is not stored yet, the retry waits for it up to the budget and
  otherwise says "still searching"; the engine is never asked twice.
- A text reply holds at most 2048 bytes (UTF-8); longer ones are cut at a line
  boundary with a hint that more is available.
- "success" (WeChat's documented "no reply") goes to events that are not a
  user talking to us: unsubscribe (nobody to answer), location reports sent
  whenever the chat opens, link taps, and events whose content arrives as its
  own message (location_select, pic_*). Other messages the bot cannot read
  (image, voice without recognition, link, ...) and menu clicks or QR scans get
  a polite Chinese note saying what it understands.

Privacy: the openid goes to the engine as `BotInput.user` and into the reply's
ToUserName, nowhere else; it is never logged (tracebacks are scrubbed), and
de-duplication keys are keyed hashes (`bot.wechat_store`).
"""

from __future__ import annotations

import logging
import struct
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn
from xml.parsers.expat import ExpatError

import marshmallow as ma
import xmltodict
from flask import Flask, current_app, request
from flask.views import MethodView
from flask.wrappers import Response
from flask_smorest import Api, Blueprint, abort
from flask_smorest.error_handler import ErrorSchema
from sqlalchemy.exc import SQLAlchemyError
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from bot.budget import TimedOut, reply_within, scrubbed_traceback
from bot.messages import BotInput, Engine, SharedLocation
from bot.wechat_store import claim, message_key, store_reply, wait_for_reply
from core.config import Config
from core.coords import convert
from web.extensions import database

log = logging.getLogger("branchfinder.wechat")

ENGINE_EXTENSION = "branchfinder.bot_engine"
MAX_REPLY_BYTES = 2048  # WeChat's limit on a text reply's Content, in UTF-8 bytes
MAX_BUDGET_S = 4.5  # WeChat waits 5 s; the rest is for the database and the network
NO_REPLY = "success"  # WeChat's documented "received, nothing to say, do not retry"

MORE_HINT = "……（回复“更多”查看其余结果）"
HELP_TEXT = (
    "您好！我能看懂文字和位置：\n"
    "· 发文字，例如“最近的工商银行”“新街口哪里能换外币”；\n"
    "· 或点“+”→“位置”，发送您所在的位置，我来找附近的网点。\n"
    "图片、语音和链接暂时还看不懂，请用文字告诉我。"
)
SLOW_TEXT = "查询用时较长，这次没能及时给出结果。请稍等几秒后再发一次您的问题。"
FAILED_TEXT = "抱歉，系统暂时出了点问题，请稍后再试。"

# Events a user triggers by tapping and expecting an answer; other events get "success".
_POLITE_EVENTS = frozenset({"click", "scan", "scancode_waitmsg"})
_SUBSCRIBE_EVENTS = frozenset({"subscribe"})
_XML_ILLEGAL = {c: None for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)} | {
    0xFFFE: None,
    0xFFFF: None,
}


def init_wechat(app: Flask, engine: Engine, *, api: Api | None = None) -> None:
    """Mount `/wechat` (documented when `api` is given) and check its settings at start-up.

    `engine` answers the messages; it is kept in `app.extensions` for every channel.
    """
    config: Config = app.extensions["branchfinder.config"]
    check_settings(config)
    app.extensions[ENGINE_EXTENSION] = engine
    if api is not None:
        api.register_blueprint(blp)
    else:
        app.register_blueprint(blp)


def check_settings(config: Config) -> None:
    """Refuse settings that would fail on the first message, not at start-up."""
    if not 0 < config.wechat_reply_budget_s <= MAX_BUDGET_S:
        raise ValueError(
            f"BRANCHFINDER_WECHAT_REPLY_BUDGET_S must be above 0 and at most {MAX_BUDGET_S} "
            f"(WeChat waits 5 s), got {config.wechat_reply_budget_s}"
        )
    if config.wechat_aes_key:
        try:
            WeChatCrypto(config.wechat_token, config.wechat_aes_key, config.wechat_appid)
        except (ValueError, AssertionError) as exc:
            raise ValueError(
                "BRANCHFINDER_WECHAT_AES_KEY must be the 43-character EncodingAESKey "
                "from the official account's settings"
            ) from exc


blp = Blueprint(
    "wechat",
    __name__,
    description="微信公众号消息接口 / WeChat official-account callback (XML, called by WeChat)",
)


# --- parameters and their documentation ---------------------------------------------------


class _SignedArgs(ma.Schema):
    signature = ma.fields.String(
        required=True,
        metadata={"description": "sha1 of the sorted token, timestamp and nonce"},
    )
    timestamp = ma.fields.String(required=True, metadata={"example": "1409735669"})
    nonce = ma.fields.String(required=True, metadata={"example": "1320562132"})


class VerifyArgs(_SignedArgs):
    echostr = ma.fields.String(
        required=True, metadata={"description": "random string to echo when the signature is ours"}
    )


class CallbackArgs(_SignedArgs):
    encrypt_type = ma.fields.String(
        load_default="raw",
        validate=ma.validate.OneOf(("raw", "aes")),
        metadata={"description": "`aes` in safe mode (安全模式); absent or `raw` in plaintext"},
    )
    msg_signature = ma.fields.String(
        load_default=None,
        metadata={"description": "safe mode: sha1 of the sorted token, timestamp, nonce, Encrypt"},
    )

    @ma.validates_schema
    def _aes_needs_msg_signature(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("encrypt_type") == "aes" and not data.get("msg_signature"):
            raise ma.ValidationError(
                "required when encrypt_type is aes", field_name="msg_signature"
            )


_EXAMPLE_MESSAGE = (
    "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>"
    "<FromUserName><![CDATA[oUSER_OPENID]]></FromUserName><CreateTime>1409735668</CreateTime>"
    "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[最近的工商银行]]></Content>"
    "<MsgId>6054768590064713728</MsgId></xml>"
)
_EXAMPLE_REPLY = (
    "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n"
    "<Content><![CDATA[离您最近的工商银行网点：……]]></Content>\n"
    "<FromUserName><![CDATA[gh_10f6c3c3ac5a]]></FromUserName>\n"
    "<ToUserName><![CDATA[oUSER_OPENID]]></ToUserName>\n<CreateTime>1409735669</CreateTime>\n</xml>"
)
_XML_STRING = {"type": "string", "format": "xml"}
_BAD_REQUEST = {
    "schema": ErrorSchema,
    "description": "a parameter is missing (`errors` names it) or the body is not a WeChat message",
}
_FORBIDDEN = {"schema": ErrorSchema, "description": "signature or msg_signature is not ours"}
_UNAVAILABLE = {
    "schema": ErrorSchema,
    "description": "WeChat is not configured here (no token; in safe mode no EncodingAESKey "
    "or appid), or no bot engine is running",
}
_UNAVAILABLE_GET = {
    "schema": ErrorSchema,
    "description": "WeChat is not configured here (no token)",
}


# --- the endpoint --------------------------------------------------------------------------


class Unavailable(Exception):
    """This server cannot take WeChat's calls as configured (an operator's problem)."""


@blp.errorhandler(Unavailable)
def _unavailable(exc: Unavailable) -> tuple[dict[str, Any], int]:
    """503 in the project's error shape, answered here: the app-wide handler treats every
    5xx as a crash (logs a traceback, hides the message), and this is not one."""
    return {"code": 503, "status": "Service Unavailable", "message": str(exc)}, 503


@blp.before_request
def _available() -> None:
    """Unconfigured is the operator's problem, not the caller's: 503 before anything else."""
    if not _config().wechat_token:
        raise Unavailable("WeChat is not configured: set BRANCHFINDER_WECHAT_TOKEN.")


@blp.route("/wechat")
class WeChatCallback(MethodView):
    @blp.arguments(VerifyArgs, location="query", error_status_code=400)
    @blp.response(
        200,
        {"type": "string"},
        content_type="text/plain",
        description="the signature is ours: `echostr`, unchanged",
        example="4758945372851906547",
    )
    @blp.alt_response(403, **_FORBIDDEN)
    @blp.alt_response(503, **_UNAVAILABLE_GET)
    def get(self, args: dict[str, Any]) -> Response:
        """微信服务器地址验证 / URL verification by WeChat.

        WeChat calls this once when the server URL is saved in the official
        account's settings.
        """
        _verify_signature(args)
        return Response(args["echostr"], mimetype="text/plain")

    @blp.arguments(CallbackArgs, location="query", error_status_code=400)
    @blp.doc(
        requestBody={
            "required": True,
            "description": "a WeChat message or event; in safe mode the same with an "
            "`Encrypt` element holding the AES-encrypted message",
            "content": {"text/xml": {"schema": _XML_STRING, "example": _EXAMPLE_MESSAGE}},
        }
    )
    @blp.response(
        200,
        _XML_STRING,
        content_type="text/xml",
        description="a text reply (encrypted in safe mode: `Encrypt`, `MsgSignature`, "
        "`TimeStamp`, `Nonce`), or the plain text `success` when there is nothing to say",
        example=_EXAMPLE_REPLY,
    )
    @blp.alt_response(400, **_BAD_REQUEST)
    @blp.alt_response(403, **_FORBIDDEN)
    @blp.alt_response(503, **_UNAVAILABLE)
    def post(self, args: dict[str, Any]) -> Response:
        """用户消息与事件 / A user's message or event, pushed by WeChat.

        Text, shared locations (GCJ-02, converted to WGS-84 for the bot),
        subscribe and unsubscribe go to the chat bot; the answer comes within
        WeChat's 5 seconds, in the mode the message came in. WeChat also puts
        the sender's `openid` in the query string; it is ignored here, the
        sender is read from the signed body.
        """
        _verify_signature(args)
        encrypted = args["encrypt_type"] == "aes"
        body = request.get_data(cache=False)
        xml = _decrypt(args, body) if encrypted else body
        incoming = parse_message(xml)
        answer = _answer(incoming, encrypted)
        if not answer:
            return Response(NO_REPLY, mimetype="text/plain")
        reply = render_text_reply(incoming, answer)
        if encrypted:
            reply = _crypto().encrypt_message(reply, args["nonce"], args["timestamp"])
        return Response(reply, mimetype="text/xml")


def _config() -> Config:
    config: Config = current_app.extensions["branchfinder.config"]
    return config


def _engine() -> Engine:
    engine: Engine = current_app.extensions[ENGINE_EXTENSION]
    return engine


def _crypto() -> WeChatCrypto:
    config = _config()
    if not (config.wechat_aes_key and config.wechat_appid):
        raise Unavailable(
            "Safe-mode message, but BRANCHFINDER_WECHAT_AES_KEY or "
            "BRANCHFINDER_WECHAT_APPID is not configured."
        )
    return WeChatCrypto(config.wechat_token, config.wechat_aes_key, config.wechat_appid)


def _verify_signature(args: dict[str, Any]) -> None:
    try:
        check_signature(_config().wechat_token, args["signature"], args["timestamp"], args["nonce"])
    except InvalidSignatureException:
        _refuse(403, "The signature does not match this server's token.", "signature")


def _decrypt(args: dict[str, Any], body: bytes) -> bytes:
    crypto = _crypto()
    try:
        plain: str = crypto.decrypt_message(
            body, args["msg_signature"], args["timestamp"], args["nonce"]
        )
    except InvalidSignatureException:
        _refuse(403, "The msg_signature does not match the encrypted message.", "msg_signature")
    except InvalidAppIdException:
        _refuse(403, "The encrypted message is for another appid.", "AppId", "xml")
    except (ExpatError, ValueError, KeyError, TypeError, IndexError, struct.error) as exc:
        # No <Encrypt> (KeyError), bad base64 or block length, bad UTF-8 (ValueError), or
        # a ciphertext that decrypts to too little for its length prefix (IndexError,
        # struct.error): all only reachable with a valid msg_signature, i.e. the token.
        _refuse(
            400,
            f"The encrypted message cannot be decrypted ({type(exc).__name__}).",
            "Encrypt",
            "xml",
        )
    return plain.encode("utf-8")


def _refuse(status: int, message: str, field: str | None, location: str = "query") -> NoReturn:
    """Abort in the project's error shape; `errors` names the parameter or XML element."""
    abort(status, message=message, errors={location: {field: [message]} if field else [message]})
    raise AssertionError("abort returned")  # pragma: no cover


# --- messages ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Incoming:
    """The parts of a WeChat message the adapter uses (all text as WeChat sent it)."""

    account: str  # ToUserName: our official account's id
    sender: str  # FromUserName: the user's openid, never logged
    create_time: str
    msg_type: str  # lower case: text, location, image, voice, event, ...
    msg_id: str | None
    event: str | None  # lower case, events only
    fields: dict[str, Any]


def parse_message(xml: bytes) -> Incoming:
    """Read a (decrypted) WeChat message; 400 naming the problem if it is not one."""
    try:
        document = xmltodict.parse(xml)
    except (ExpatError, ValueError) as exc:  # ValueError: entities (refused) or bad UTF-8
        _refuse(400, f"The body is not well-formed XML: {exc}", None, "xml")
    root = document.get("xml") if isinstance(document, dict) else None
    if not isinstance(root, dict):
        _refuse(400, "The body is not a WeChat message: no <xml> element with fields.", None, "xml")
    values = {name: _field(root, name) for name in ("ToUserName", "FromUserName", "MsgType")}
    create_time = _field(root, "CreateTime")
    if not create_time.isdigit():
        _refuse(400, "CreateTime must be a number of seconds.", "CreateTime", "xml")
    msg_type = values["MsgType"].lower()
    msg_id = root.get("MsgId")
    if msg_id is not None and not (isinstance(msg_id, str) and msg_id.isdigit()):
        _refuse(400, "MsgId must be a number.", "MsgId", "xml")
    return Incoming(
        account=values["ToUserName"],
        sender=values["FromUserName"],
        create_time=create_time,
        msg_type=msg_type,
        msg_id=msg_id,
        event=_field(root, "Event").lower() if msg_type == "event" else None,
        fields=root,
    )


def _field(root: dict[str, Any], name: str) -> str:
    value = root.get(name)
    if not isinstance(value, str) or not value.strip():
        _refuse(400, f"The WeChat message has no {name}.", name, "xml")
    return value.strip()


@dataclass(frozen=True)
class _Route:
    """What to do with a message: ask the engine, or answer directly ('' = no reply)."""

    bot_input: BotInput | None = None
    answer: str = ""
    deliver: bool = True  # False: the engine hears of it, the user gets no reply


def route(incoming: Incoming) -> _Route:
    """Translate a WeChat message into the engine's input, or the adapter's own answer."""
    user = incoming.sender
    if incoming.msg_type == "text":
        return _Route(BotInput(user=user, text=_optional_text(incoming.fields, "Content") or ""))
    if incoming.msg_type == "location":
        return _Route(BotInput(user=user, location=_location(incoming.fields)))
    if incoming.msg_type == "voice":
        recognised = _optional_text(incoming.fields, "Recognition")  # speech recognition on
        if recognised:
            return _Route(BotInput(user=user, text=recognised))
        return _Route(answer=HELP_TEXT)
    if incoming.msg_type == "event":
        if incoming.event in _SUBSCRIBE_EVENTS:
            return _Route(BotInput(user=user, event="subscribe"))
        if incoming.event == "unsubscribe":
            return _Route(BotInput(user=user, event="unsubscribe"), deliver=False)
        if incoming.event in _POLITE_EVENTS:
            return _Route(answer=HELP_TEXT)
        return _Route(answer="")
    return _Route(answer=HELP_TEXT)  # image, video, shortvideo, link, file, ...


def _optional_text(fields: dict[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        _refuse(400, f"{name} must be text.", name, "xml")
    return value.strip()


def _location(fields: dict[str, Any]) -> SharedLocation:
    """WeChat's Location_X is the latitude and Location_Y the longitude, both GCJ-02."""
    try:
        lat, lng = float(fields["Location_X"]), float(fields["Location_Y"])
        lat, lng = convert(lat, lng, "gcj02", "wgs84")
    except (KeyError, TypeError, ValueError):  # CoordinateError is a ValueError
        _refuse(
            400, "A location message needs numeric Location_X and Location_Y.", "Location_X", "xml"
        )
    return SharedLocation(lat=lat, lng=lng, label=_optional_text(fields, "Label") or None)


# --- answering -----------------------------------------------------------------------------


def _answer(incoming: Incoming, encrypted: bool) -> str:
    """The reply text ('' for "success"), asking the engine at most once per message."""
    started = time.monotonic()
    decision = route(incoming)
    if decision.bot_input is None:
        answer, outcome = decision.answer, "direct"
    else:
        try:
            answer, outcome = _answer_once(incoming, decision.bot_input, decision.deliver)
        except SQLAlchemyError as exc:  # the database is down: say so rather than fall silent
            log.error("wechat de-duplication failed: %s", scrubbed_traceback(exc, incoming.sender))
            answer, outcome = FAILED_TEXT, "failed"
    log.info(
        "wechat %s: %s",
        incoming.msg_type,
        outcome,
        extra={
            "fields": {
                "msg_type": incoming.msg_type,
                "event": incoming.event,
                "mode": "aes" if encrypted else "raw",
                "outcome": outcome,
                "reply_bytes": len(answer.encode("utf-8")),
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
            }
        },
    )
    return answer


def _answer_once(incoming: Incoming, message: BotInput, deliver: bool) -> tuple[str, str]:
    """Ask the engine on the first delivery and store its answer; replay it on a retry."""
    db = database()
    config = _config()
    key = message_key(
        config.secret_key,
        incoming.account,
        incoming.msg_id,
        incoming.sender,
        incoming.create_time,
        incoming.event,
    )
    earlier = claim(db.engine, key)
    if not earlier.first:
        stored = earlier.reply
        if stored is None:
            stored = wait_for_reply(db.engine, key, config.wechat_reply_budget_s)
        return (stored, "replayed") if stored is not None else (SLOW_TEXT, "pending")
    answer, outcome = _ask_engine(message)
    answer = fit_reply(answer) if deliver else ""
    try:
        store_reply(db.engine, key, answer)
    except SQLAlchemyError as exc:  # the answer still goes out; only a retry would miss it
        log.warning("wechat reply not stored: %s", scrubbed_traceback(exc, incoming.sender))
    return answer, outcome


def _ask_engine(message: BotInput) -> tuple[str, str]:
    """The engine's reply text and how it went: answered, timeout or failed."""
    engine = _engine()
    config = _config()
    try:
        reply = reply_within(
            engine,
            database().sessions,
            message,
            datetime.now(UTC),
            config.wechat_reply_budget_s,
        )
    except TimedOut:
        return SLOW_TEXT, "timeout"
    except Exception as exc:
        log.error("bot engine failed: %s", scrubbed_traceback(exc, message.user))
        return FAILED_TEXT, "failed"
    return reply.text, "answered"


def fit_reply(text: str, limit: int = MAX_REPLY_BYTES, hint: str = MORE_HINT) -> str:
    """`text` as it can go out: XML-safe, and at most `limit` UTF-8 bytes.

    Too long a text keeps its first whole lines and ends with `hint` on a line
    of its own; only a first line longer than everything is cut inside the line.
    """
    text = text.translate(_XML_ILLEGAL)
    if len(text.encode("utf-8")) <= limit:
        return text
    room = limit - len(("\n" + hint).encode("utf-8"))
    kept: list[str] = []
    used = 0
    for line in text.split("\n"):
        size = len(line.encode("utf-8")) + (1 if kept else 0)
        if used + size > room:
            break
        kept.append(line)
        used += size
    head = "\n".join(kept).rstrip()
    if not head:
        head = text.encode("utf-8")[:room].decode("utf-8", "ignore").rstrip()
    return head + "\n" + hint


def render_text_reply(incoming: Incoming, content: str) -> str:
    """WeChat's text reply XML, from our account to the sender."""
    reply = TextReply(
        source=_cdata_safe(incoming.account),
        target=_cdata_safe(incoming.sender),
        content=_cdata_safe(content),
        time=int(time.time()),
    )
    xml: str = reply.render()
    return xml


def _cdata_safe(value: str) -> str:
    """wechatpy writes values into CDATA sections as they are; "]]>" would end one early."""
    return value.translate(_XML_ILLEGAL).replace("]]>", "]]]]><![CDATA[>")
