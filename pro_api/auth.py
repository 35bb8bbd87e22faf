"""Signing in to the professional app: password → bearer token, change password, log out.

Thin views over `accounts.accounts`. Every failed sign-in is answered with the
same 401 whether the username is unknown, the password wrong, the account
locked after too many wrong passwords or disabled, so none of these can be
probed; the audit log keeps the real reason.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint, abort
from flask_smorest.error_handler import ErrorSchema

from accounts import accounts
from accounts.accounts import Account, PasswordRejected, WrongPassword
from core import tokens
from pro_api.access import (
    NO_SECURITY,
    PRO_SECURITY,
    audit_own,
    audit_sign_in,
    bearer_token,
    config,
    current_account,
    login_policy,
    unauthorized,
)
from pro_api.schemas import (
    ProAccountSchema,
    ProChangePasswordArgs,
    ProLoginArgs,
    ProSessionSchema,
    account_view,
)
from web.extensions import db_session
from web.ratelimit import limit_current_client

blp = Blueprint(
    "pro_auth",
    __name__,
    description="专业版：登录、修改密码、退出 / Professional app: sign in, password, sign out",
)

LOGIN_FAILED_MESSAGE = "用户名或密码错误，或账户暂时锁定 / wrong username or password, or locked"


def _new_session(account: Account) -> dict[str, Any]:
    """Issue a token for `account` (the caller commits) and the answer that carries it."""
    issued = tokens.issue(db_session(), "account", account.id, config().pro_session_ttl_s)
    return {
        "token": issued.token,
        "expires_at": issued.expires_at,
        "must_change_password": account.must_change_password,
        "account": account_view(account),
    }


@blp.route("/auth/login")
class Login(MethodView):
    @blp.arguments(ProLoginArgs)
    @blp.response(200, ProSessionSchema)
    @blp.alt_response(
        401,
        schema=ErrorSchema,
        description="用户名或密码错误、账户锁定或停用（同一回答）/ wrong username or password, "
        "locked or disabled account (one answer for all)",
    )
    @blp.alt_response(
        429, schema=ErrorSchema, description="登录过于频繁 / too many sign-ins from this client"
    )
    @blp.doc(security=NO_SECURITY)
    def post(self, args: dict[str, Any]) -> dict[str, Any]:
        """登录 — exchange a username and password for a session token (expires, revocable).

        `must_change_password` true: the token only serves POST /auth/password.
        """
        limit_current_client("pro_login", config().login_rate_limit)
        session = db_session()
        result = accounts.authenticate(session, args["username"], args["password"], login_policy())
        account = result.account
        audit_sign_in(result, args["username"])
        if result.outcome != "ok" or account is None:
            session.commit()
            unauthorized(LOGIN_FAILED_MESSAGE)
        answer = _new_session(account)
        session.commit()
        return answer


@blp.route("/auth/password")
class ChangePassword(MethodView):
    @blp.arguments(ProChangePasswordArgs)
    @blp.response(200, ProSessionSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="没有有效的登录 / no valid token")
    @blp.alt_response(
        403,
        schema=ErrorSchema,
        description="当前密码错误或账户锁定 / the current password is wrong, or locked",
    )
    @blp.doc(security=PRO_SECURITY)
    def post(self, args: dict[str, Any]) -> dict[str, Any]:
        """修改密码 — set a new password (required after a temporary one).

        Ends every session of the account, this one included; the answer carries
        a new token. A policy violation is a 422 naming `new_password`.
        """
        action = "account.change_password"
        account = current_account(action, allow_pending_password=True)
        session = db_session()
        try:
            accounts.change_password(
                session, account, args["current_password"], args["new_password"], login_policy()
            )
        except WrongPassword as exc:
            # The failure count (and a lock it reaches) must survive: commit, then refuse.
            audit_own(action, "failed", account, {"reason": str(exc)})
            session.commit()
            abort(
                403,
                message="当前密码错误或账户暂时锁定 / the current password is wrong, or locked",
                errors={"json": {"current_password": ["wrong password, or account locked"]}},
            )
        except PasswordRejected as exc:
            session.rollback()
            abort(
                422,
                message="新密码不符合要求 / the new password breaks the policy: "
                + "; ".join(exc.problems),
                errors={"json": {"new_password": exc.problems}},
            )
        answer = _new_session(account)
        audit_own(action, "ok", account)
        session.commit()
        return answer


@blp.route("/auth/logout")
class Logout(MethodView):
    @blp.response(204)
    @blp.alt_response(401, schema=ErrorSchema, description="没有有效的登录 / no valid token")
    @blp.doc(security=PRO_SECURITY)
    def post(self) -> None:
        """退出登录 — revoke this token (allowed before a temporary password is changed)."""
        account = current_account("auth.logout", allow_pending_password=True)
        token = bearer_token()
        assert token is not None
        session = db_session()
        tokens.revoke(session, "account", token)
        audit_own("auth.logout", "ok", account)
        session.commit()


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, ProAccountSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="没有有效的登录 / no valid token")
    @blp.alt_response(
        403, schema=ErrorSchema, description="须先修改临时密码 / temporary password to change first"
    )
    @blp.doc(security=PRO_SECURITY)
    def get(self) -> dict[str, Any]:
        """我的账户 — the signed-in account: role, jurisdiction, whether it may write."""
        return account_view(current_account("me.read"))
