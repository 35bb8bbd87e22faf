"""`POST /api/bot/v1/chat`: the chat bot for channels other than WeChat (web, apps, tests);
`GET /api/bot/v1/read`: how it reads a search text, for the H5 finder's search box.

Thin: the body becomes a `BotInput` (positions converted to WGS-84), the engine
answers, and the reply's positions go back in the caller's coordinate system.
The engine's memory of the user is written in this request's transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from flask import current_app
from flask.views import MethodView
from flask_smorest import abort

from bot.engine import BotEngine
from bot.messages import BotInput, Engine, SharedLocation
from bot.suggestions import guess
from bot.understand import understand
from bot.wechat import ENGINE_EXTENSION
from core.config import Config
from core.coords import COORD_SYSTEMS, CoordinateError, CoordSystem, convert, position_in
from registry import regions
from web.extensions import db_session, read_session
from web.public_blueprint import PublicBlueprint
from web.public_http import VOCABULARY
from web.ratelimit import limit_current_client
from web.schemas import PositionSchema

PREFIX = "/api/bot/v1"
MAX_TEXT = 500

blp = PublicBlueprint(
    "bot", __name__, description="聊天机器人 / Chat bot: questions about outlets in Chinese"
)


class LocationSchema(ma.Schema):
    lat = ma.fields.Float(required=True, validate=ma.validate.Range(-90, 90, error="纬度超出范围"))
    lng = ma.fields.Float(
        required=True, validate=ma.validate.Range(-180, 180, error="经度超出范围")
    )
    coord = ma.fields.String(
        load_default="gcj02",
        validate=ma.validate.OneOf(COORD_SYSTEMS, error="坐标系应为 wgs84、gcj02 或 bd09"),
    )
    label = ma.fields.String(load_default=None, validate=ma.validate.Length(max=100))


class ChatRequestSchema(ma.Schema):
    user = ma.fields.String(
        required=True,
        validate=ma.validate.Length(1, 64, error="user 应为 1–64 个字符"),
        metadata={"description": "a stable id of the person chatting, for follow-ups"},
    )
    text = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(max=MAX_TEXT, error=f"消息最长 {MAX_TEXT} 个字符"),
        metadata={"example": "新街口哪里能换外币"},
    )
    location = ma.fields.Nested(LocationSchema, load_default=None)

    @ma.validates_schema
    def _something(self, data: dict[str, Any], **_: Any) -> None:
        if not (data.get("text") or "").strip() and data.get("location") is None:
            raise ma.ValidationError("text 与 location 至少提供一项", "text")


class ChatResultSchema(ma.Schema):
    fi_code = ma.fields.String()
    name = ma.fields.String()
    address = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)
    position = ma.fields.Nested(PositionSchema, metadata={"description": "in the request's coord"})
    distance_m = ma.fields.Float(allow_none=True)
    open_now = ma.fields.Boolean(allow_none=True)


class ChatReplySchema(ma.Schema):
    reply = ma.fields.String(metadata={"description": "the answer as chat text (Chinese)"})
    results = ma.fields.List(ma.fields.Nested(ChatResultSchema))
    understood = ma.fields.Dict(
        metadata={"description": "what the bot read in the message: entities, places, ..."}
    )


@blp.route("/chat")
class Chat(MethodView):
    @blp.arguments(ChatRequestSchema)
    @blp.response(200, ChatReplySchema)
    @blp.alt_response(422, description="无效的请求 / invalid body, fields named in `errors`")
    @blp.alt_response(429, description="请求过于频繁 / too many messages from this client")
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """与机器人对话 — ask the bot: "最近的工行", "新街口哪里能换外币", "第二个的电话".

        The bot remembers each `user`'s last position and results for a while, so
        follow-ups work. Send `location` (gcj02 by default) to get nearest-first answers.
        """
        config: Config = current_app.extensions["branchfinder.config"]
        limit_current_client("chat", config.chat_rate_limit)
        engine: Engine = current_app.extensions[ENGINE_EXTENSION]
        coord: CoordSystem = "gcj02"
        location = None
        if body["location"] is not None:
            where = body["location"]
            coord = where["coord"]
            try:
                lat, lng = convert(where["lat"], where["lng"], coord, "wgs84")
            except CoordinateError as exc:
                abort(422, errors={"json": {"location": [str(exc)]}}, message=f"位置无效：{exc}")
                raise
            location = SharedLocation(lat, lng, where["label"])
        session = db_session()
        message = BotInput(user=body["user"], text=body["text"], location=location)
        answer = engine.reply(session, message, datetime.now(UTC))
        session.commit()
        results = []
        for item in answer.results:
            results.append(
                {
                    "fi_code": item.fi_code,
                    "name": item.name,
                    "address": item.address,
                    "phone": item.phone,
                    "position": position_in(item.lat, item.lng, coord),
                    "distance_m": None if item.distance_m is None else round(item.distance_m, 1),
                    "open_now": item.open_now,
                }
            )
        return {"reply": answer.text, "results": results, "understood": answer.understood}


class ReadArgs(ma.Schema):
    text = ma.fields.String(
        required=True,
        validate=ma.validate.Length(1, 100, error="text 应为 1–100 个字符"),
        metadata={"example": "宁行新街口"},
    )
    coord = ma.fields.String(
        load_default="gcj02",
        validate=ma.validate.OneOf(COORD_SYSTEMS, error="坐标系应为 wgs84、gcj02 或 bd09"),
        metadata={"description": "of the places' centres"},
    )


class ReadInstitutionSchema(ma.Schema):
    fi_code = ma.fields.String(metadata={"description": "the legal entity (head office)"})
    name = ma.fields.String()
    short_name = ma.fields.String(allow_none=True)


class ReadPlaceSchema(ma.Schema):
    code = ma.fields.String(metadata={"example": "320102"})
    name = ma.fields.String(metadata={"example": "玄武区"})
    centre = ma.fields.Nested(PositionSchema, allow_none=True)


class CorrectionSchema(ma.Schema):
    typed = ma.fields.String(metadata={"example": "中国建没"})
    meant = ma.fields.String(metadata={"example": "中国建设银行"})


class ReadingSchema(ma.Schema):
    institutions = ma.fields.List(ma.fields.Nested(ReadInstitutionSchema))
    places = ma.fields.List(ma.fields.Nested(ReadPlaceSchema))
    landmark = ma.fields.String(
        allow_none=True, metadata={"description": "the words left: a branch, road or building"}
    )
    business_types = ma.fields.List(ma.fields.String())
    open_now = ma.fields.Boolean()
    corrections = ma.fields.List(
        ma.fields.Nested(CorrectionSchema),
        metadata={"description": "what was read otherwise than typed (pinyin, typos)"},
    )


@blp.route("/read")
class Read(MethodView):
    @blp.arguments(ReadArgs, location="query")
    @blp.response(200, ReadingSchema)
    @blp.alt_response(422, description="无效的参数 / invalid parameters, named in `errors`")
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """如何理解一句搜索 — how the bot reads a search text: the institutions (工行, 宁行,
        gonghang, 中国建没), places and other words in it, and what it read otherwise than
        typed. The H5 finder's search box asks this, so that it understands what the chat bot
        understands."""
        engine = current_app.extensions[ENGINE_EXTENSION]
        if not isinstance(engine, BotEngine):  # pragma: no cover - a stand-in engine
            abort(503, message="机器人未就绪 / no bot engine")
        lexicon = engine.lexicon(read_session())
        u = understand(args["text"], lexicon)
        coord: CoordSystem = args["coord"]
        institutions = []
        for code in u.legal_entities:
            entity = lexicon.entities.get(code)
            if entity is not None:
                institutions.append(
                    {"fi_code": code, "name": entity.name, "short_name": entity.short_name}
                )
        places = []
        for code in u.places:
            seat = regions.place(code)
            places.append(
                {
                    "code": code,
                    "name": lexicon.place_name(code) or code,
                    "centre": None if seat is None else position_in(seat.lat, seat.lng, coord),
                }
            )
        landmark = u.landmark
        corrections = []
        if not institutions and u.landmarks:  # 中国建没: what the bot would offer instead
            meant = guess(u.text, u.landmarks, lexicon, engine.landmark_index(read_session()))
            if meant is not None:
                for code in meant.entities:
                    entity = lexicon.entities[code]
                    institutions.append(
                        {"fi_code": code, "name": entity.name, "short_name": entity.short_name}
                    )
                typed = args["text"].strip()
                landmark = meant.word
                said = [i["short_name"] or i["name"] for i in institutions]
                corrections.append(
                    {"typed": typed, "meant": " ".join([*said, meant.word or ""]).strip()}
                )
        if landmark and landmark.isascii():  # typed pinyin (xinjiekou) names no outlet as is
            spelt = engine.landmark_index(read_session()).spelt_from_pinyin(landmark)
            if spelt is not None:
                corrections.append({"typed": landmark, "meant": spelt})
                landmark = spelt
        for match in u.matches:
            if match.how not in ("pinyin", "near_pinyin", "fuzzy") or not match.values:
                continue
            first = match.values[0]
            meant = (
                lexicon.entities[first].short_name or lexicon.entities[first].name
                if first in lexicon.entities
                else lexicon.place_name(first)
            )
            if meant and meant != match.text:
                corrections.append({"typed": match.text, "meant": meant})
        return {
            "institutions": institutions,
            "places": places,
            "landmark": landmark,
            "business_types": list(u.business_types),
            "open_now": u.open_now,
            "corrections": corrections,
        }


blp.cache({"Read": VOCABULARY})
