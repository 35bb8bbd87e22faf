"""Staff sign-in for the mini-program: `wx.login()` code → our bearer token.

The openid from WeChat is turned into a staff id at once (`uploads.staff.
sign_in`, which stores only a keyed hash of it) and never leaves this view:
not in the answer, not in a URL, not in a log line.
"""

from __future__ import annotations

from typing import Any, NoReturn

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import abort

from core import tokens
from core.config import Config
from miniprogram_api.staff_schemas import LoginArgs, LoginSchema
from miniprogram_api.wechat_login import LoginFailed, MiniProgramLogin
from uploads import staff
from web.extensions import database, db_session
from web.public_blueprint import PublicBlueprint
from web.ratelimit import limit_current_client

STAFF_SECURITY: list[dict[str, list[str]]] = [{"staffToken": []}]

blp = PublicBlueprint(
    "staff_auth",
    __name__,
    description="网点人员：登录 / Outlet staff: sign in with WeChat (wx.login)",
)


def _config() -> Config:
    config: Config = current_app.extensions["branchfinder.config"]
    return config


def wechat_login() -> MiniProgramLogin:
    login: MiniProgramLogin = current_app.extensions["branchfinder.mp_login"]
    return login


def _unauthorized(message: str) -> NoReturn:
    abort(401, message=message, headers={"WWW-Authenticate": 'Bearer realm="staff"'})
    raise AssertionError


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def current_staff() -> int:
    """The signed-in staff member of this request, or a 401."""
    token = bearer_token()
    if token is None:
        _unauthorized("请先登录 / sign in first (Authorization: Bearer <token>)")
    with database().reader.connect() as connection:  # given back before the request's work
        staff_id = tokens.subject(connection, "staff", token)
    if staff_id is None:
        _unauthorized("登录已失效，请重新登录 / the token is invalid, expired or revoked")
    return staff_id


@blp.route("/auth/login")
class Login(MethodView):
    @blp.arguments(LoginArgs())
    @blp.response(200, LoginSchema)
    @blp.alt_response(401, description="登录凭证无效或已使用 / invalid or used wx.login code")
    @blp.alt_response(403, description="微信拒绝该用户 / WeChat refused this user")
    @blp.alt_response(429, description="登录过于频繁 / too many sign-ins (ours or WeChat's)")
    @blp.alt_response(503, description="微信不可用或未配置 / WeChat unreachable or not set up")
    def post(self, args: dict[str, Any]) -> dict[str, Any]:
        """登录 — exchange a `wx.login()` code for a session token (code2Session)."""
        config = _config()
        limit_current_client("login", config.login_rate_limit)
        try:
            openid = wechat_login().openid(args["code"])
        except LoginFailed as exc:
            abort(exc.status, message=exc.message, errors={"json": {"code": [exc.reason]}})
            raise
        session = db_session()
        staff_id = staff.sign_in(session, openid, config.secret_key)
        issued = tokens.issue(session, "staff", staff_id, config.staff_session_ttl_s)
        session.commit()
        return {"token": issued.token, "expires_at": issued.expires_at, "staff_id": staff_id}


@blp.route("/auth/logout")
class Logout(MethodView):
    @blp.response(204)
    @blp.alt_response(401, description="没有有效的登录 / no valid token")
    @blp.doc(security=STAFF_SECURITY)
    def post(self) -> None:
        """退出登录 — revoke this token."""
        current_staff()
        token = bearer_token()
        assert token is not None
        session = db_session()
        tokens.revoke(session, "staff", token)
        session.commit()
