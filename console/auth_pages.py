"""Signing in and out of the console, and changing the password (forced at first sign-in).

The same library calls as the JSON API's `/auth/*` views (`accounts.authenticate`,
`accounts.change_password`, `core.tokens`), the same rate limit bucket ("pro_login", so
the console is no way around it) and the same audit actions, with `channel: console` in
the entry's detail. A failed sign-in says the same thing whether the username is unknown,
the password wrong, the account locked or disabled (as the API does, so that none of
these can be probed), but says it in plain words, naming the lock-out rule.
"""

from __future__ import annotations

from typing import Any

from flask import g, redirect, request, url_for
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from accounts import accounts
from accounts.accounts import PasswordRejected, WrongPassword
from console.shell import (
    blp,
    config,
    csrf_ok,
    end_session,
    load_account,
    page,
    safe_next,
    session_token,
    signed_in,
    start_session,
    zh,
)
from core import tokens
from pro_api.access import audit_own, audit_sign_in, login_policy
from web.extensions import db_session
from web.ratelimit import limit_current_client

CHANNEL = {"channel": "console"}
REASONS = {
    "expired": "登录已过期或已在别处退出，请重新登录。",
    "signed_out": "你已安全退出。",
    "password_changed": "密码已修改，请用新密码登录。",
}


def _failed_message() -> str:
    policy = login_policy()
    minutes = max(1, policy.lockout_s // 60)
    return (
        "用户名或密码不正确，或账户已被暂时锁定、停用。"
        f"连续输错 {policy.lockout_threshold} 次密码，账户将锁定 {minutes} 分钟；"
        "忘记密码请联系你的上级管理员重置。"
    )


def _login_page(status: int = 200, **context: Any) -> Response:
    context.setdefault("username", "")
    context.setdefault("next", safe_next(request.values.get("next")) or "")
    context.setdefault("notice", REASONS.get(request.args.get("reason", ""), ""))
    return page("login.html", status, title="登录", **context)


@blp.get("/login")
def login() -> Response:
    """The sign-in form; a signed-in browser goes on to where it was going."""
    if load_account() is not None:
        return redirect(safe_next(request.args.get("next")) or url_for("console.dashboard"), 303)
    return _login_page()


@blp.post("/login")
def login_post() -> Response:
    username = request.form.get("username", "")[:64]
    password = request.form.get("password", "")[:256]
    if not csrf_ok():
        # A form left open past its seed (or forged): nothing is checked, what was typed
        # (but the password) is given back.
        return _login_page(403, username=username, error="页面已过期，请重新输入密码后登录。")
    if not username or not password:
        return _login_page(422, username=username, error="请输入用户名和密码。")
    try:
        limit_current_client("pro_login", config().login_rate_limit)
    except TooManyRequests:
        return _login_page(429, username=username, error="登录尝试过于频繁，请稍后再试。")
    session = db_session()
    result = accounts.authenticate(session, username, password, login_policy())
    account = result.account
    audit_sign_in(result, username, CHANNEL)
    if result.outcome != "ok" or account is None:
        session.commit()
        return _login_page(401, username=username, error=_failed_message())
    issued = tokens.issue(session, "account", account.id, config().pro_session_ttl_s)
    session.commit()
    target = safe_next(request.form.get("next"))
    if account.must_change_password:
        response = redirect(url_for("console.password", next=target), 303)
    else:
        response = redirect(target or url_for("console.dashboard"), 303)
    start_session(response, issued.token)
    return response


@blp.post("/logout")
def logout() -> Response:
    """Revoke this browser's token (the CSRF check ran before) and forget the cookie."""
    account = load_account()
    token = session_token()
    if account is not None and token:
        session = db_session()
        tokens.revoke(session, "account", token)
        audit_own("auth.logout", "ok", account, CHANNEL)
        session.commit()
    response = redirect(url_for("console.login", reason="signed_out"), 303)
    end_session(response)
    return response


def _password_page(status: int = 200, **context: Any) -> Response:
    account = g.console_account
    context.setdefault("next", safe_next(request.values.get("next")) or "")
    return page(
        "password.html",
        status,
        title="修改密码",
        forced=account.must_change_password,
        **context,
    )


@blp.get("/password")
@signed_in(allow_pending_password=True)
def password() -> Response:
    """Change the password; the only page a temporary password opens."""
    return _password_page()


@blp.post("/password")
@signed_in(allow_pending_password=True)
def password_post() -> Response:
    account = g.console_account
    current = request.form.get("current_password", "")[:256]
    new = request.form.get("new_password", "")[:300]
    repeated = request.form.get("new_password_again", "")[:300]
    if new != repeated:
        return _password_page(422, errors=["两次输入的新密码不一致。"])
    session = db_session()
    try:
        accounts.change_password(session, account, current, new, login_policy())
    except WrongPassword as exc:
        audit_own("account.change_password", "failed", account, {"reason": str(exc), **CHANNEL})
        session.commit()  # the failure count (and a lock it reaches) must survive
        return _password_page(403, errors=["当前密码不正确，或账户已被暂时锁定。"])
    except PasswordRejected as exc:
        session.rollback()
        return _password_page(422, errors=[zh(p) + "。" for p in exc.problems])
    # Every session of the account ended, this one too: a new one for this browser.
    issued = tokens.issue(session, "account", account.id, config().pro_session_ttl_s)
    audit_own("account.change_password", "ok", account, CHANNEL)
    session.commit()
    response = redirect(safe_next(request.form.get("next")) or url_for("console.dashboard"), 303)
    start_session(response, issued.token)
    return response
