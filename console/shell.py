"""What every console page shares: the blueprint, the session cookie, CSRF, headers, errors.

The session. Signing in issues the same kind of token as the JSON API's
`POST /auth/login` (`core.tokens`, subject kind "account": same expiry, same
revocation by sign-out, password change, reset or disabling), but the browser
holds it in a cookie that only this blueprint reads:

- `bf_console`: HttpOnly (no script reads it), SameSite=Strict (no other site's page sends
  it), Secure when the request came over https, Path=/console/ (never sent to /api/);
- the JSON API never looks at cookies, only at `Authorization: Bearer`, so a signed-in
  console does not make `/api/pro/v1` callable from another site (no CSRF there);
- every POST here carries `csrf_token`, the sha256 of a label and the cookie's value
  (the session token, or before sign-in the random `bf_console_pre`): another site can
  neither read that cookie nor compute the field, and a POST without it is refused (403)
  before the view runs. No server secret is needed, so every gunicorn worker agrees.

Pages are server-rendered with Jinja2's autoescaping, so a name holding `<script>` is
text; scripts come only from files under /console/static/ (the CSP forbids inline ones)
and read their figures from `<script type="application/json">` blocks via `textContent`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from functools import lru_cache, wraps
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urlencode, urlsplit

from flask import (
    Blueprint,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.wrappers import Response
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as AnyResponse

from accounts.accounts import ROLE_LABELS, Account
from core import tokens
from core.config import Config
from registry import regions
from web.extensions import db_session
from web.tiles import content_security_policy

STATIC = Path(__file__).parent / "static"
SESSION_COOKIE = "bf_console"
PRE_COOKIE = "bf_console_pre"
COOKIE_PATH = "/console/"
CSRF_FIELD = "csrf_token"
ECHARTS = "vendor/echarts-6.1.0"
LEAFLET = "vendor/leaflet-1.9.4"  # the H5 page's copy, served by its blueprint (one copy)
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})

blp = Blueprint(
    "console",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

_V = TypeVar("_V", bound=Callable[..., Any])


@lru_cache(maxsize=1)
def asset_version() -> str:
    """A hash of every asset, part of their URLs, so that they can be cached for a year."""
    digest = hashlib.sha256()
    for path in sorted(STATIC.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(STATIC).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def config() -> Config:
    cfg: Config = current_app.extensions["branchfinder.config"]
    return cfg


# --- the session ---------------------------------------------------------------------------


def _csrf_for(seed: str) -> str:
    return hashlib.sha256(b"branchfinder-console-csrf\0" + seed.encode()).hexdigest()


def _pre_nonce() -> str:
    """The sign-in form's random seed: the browser's, or a new one set with this answer."""
    nonce = g.get("console_pre")
    if nonce is None:
        nonce = request.cookies.get(PRE_COOKIE) or ""
        if not (20 <= len(nonce) <= 100):
            nonce = secrets.token_urlsafe(32)
            g.console_new_pre = nonce
        g.console_pre = nonce
    return str(nonce)


def csrf_token() -> str:
    """The token this browser's forms must carry (bound to its session, or its sign-in form)."""
    token = g.get("console_token")
    return _csrf_for(token if token else "pre:" + _pre_nonce())


def csrf_ok() -> bool:
    sent = request.form.get(CSRF_FIELD, "")
    # bytes: compare_digest refuses non-ASCII text, which a forged field may hold
    return bool(sent) and hmac.compare_digest(sent.encode(), csrf_token().encode())


def session_token() -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


def load_account() -> Account | None:
    """The signed-in account of this request (a live token, an enabled account), or None.

    Sets `g.console_token` only for a live session, so that the CSRF token of a stale
    cookie is that of the sign-in form."""
    if "console_account" in g:
        return cast(Account | None, g.console_account)
    account = None
    token = session_token()
    if token:
        session = db_session()
        account_id = tokens.subject(session, "account", token)
        found = None if account_id is None else session.get(Account, account_id)
        if found is not None and not found.is_disabled:
            account = found
            g.console_token = token
    g.console_account = account
    return account


def start_session(response: AnyResponse, token: str) -> None:
    """Hand the browser its session cookie (and forget the sign-in form's seed)."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Strict",
        secure=request.is_secure,
    )
    response.delete_cookie(PRE_COOKIE, path=COOKIE_PATH)


def end_session(response: AnyResponse) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path=COOKIE_PATH, httponly=True, samesite="Strict", secure=request.is_secure
    )


def safe_next(target: str | None) -> str | None:
    """A place inside the console to return to after signing in; anything else is dropped
    (no open redirect to another host or to the API)."""
    if not target or len(target) > 2000 or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith(COOKIE_PATH):
        return None
    if "/." in parts.path:  # /console/../api/... would leave the console once resolved
        return None
    if parts.path.startswith((COOKIE_PATH + "login", COOKIE_PATH + "logout")):
        return None
    return target


def _here() -> str:
    query = request.query_string.decode("utf-8", "replace")
    return request.path + (f"?{query}" if query else "")


def signed_in(*, allow_pending_password: bool = False, data: bool = False) -> Callable[[_V], _V]:
    """Only for a signed-in account; otherwise back to sign-in, keeping where one was
    (the page and its query string: a search form's content survives an expired session).

    An account with a temporary password is sent to the password page first. With `data`
    (JSON for a page's script) both are a 401 instead."""

    def decorate(view: _V) -> _V:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            account = load_account()
            if data and (account is None or account.must_change_password):
                # A script's request: no page to send it to; the script reloads its page.
                answer = jsonify(message="登录已过期，请重新登录")
                answer.status_code = 401
                return answer
            if account is None:
                query = {"next": _here()}
                if session_token():
                    query["reason"] = "expired"
                response = redirect(f"{url_for('console.login')}?{urlencode(query)}", 303)
                if session_token():
                    end_session(response)
                return response
            if account.must_change_password and not allow_pending_password:
                query = {"next": _here()}
                return redirect(f"{url_for('console.password')}?{urlencode(query)}", 303)
            return view(*args, **kwargs)

        return cast(_V, wrapper)

    return decorate


# --- rendering ------------------------------------------------------------------------------


def region_label(code: str | None) -> str:
    """江苏省南京市玄武区 for 320102, the code itself when unknown."""
    if not code:
        return ""
    try:
        return regions.full_name(code.ljust(6, "0"))
    except KeyError:
        return code


def jurisdiction_label(account: Account) -> str:
    text = region_label(account.region_prefix)
    if account.legal_entity_code:
        text += f" · 法人机构 {account.legal_entity_code}"
    return text


def role_label(role: str) -> str:
    return zh(ROLE_LABELS.get(role, role))


def zh(text: str) -> str:
    """The Chinese half of the library's bilingual "中文 / English" messages."""
    return text.split(" / ", 1)[0]


@blp.app_template_filter("zh")
def _zh_filter(text: str) -> str:
    return zh(text)


@blp.app_template_filter("pct")
def _pct(share: float | None) -> str:
    return "—" if share is None else f"{100 * share:.1f}%"


@blp.context_processor
def _shared() -> dict[str, Any]:
    account = g.get("console_account")
    return {
        "csrf_token": csrf_token,
        "csrf_field": CSRF_FIELD,
        "me": account,
        "role_label": role_label,
        "jurisdiction": jurisdiction_label(account) if account is not None else "",
        "region_label": region_label,
        "echarts": ECHARTS,
        "leaflet": LEAFLET,
        "version": asset_version(),
    }


def page(template: str, status: int = 200, **context: Any) -> Response:
    html = render_template(f"console/{template}", **context)
    return current_app.response_class(html, status=status, mimetype="text/html")


# --- every request ----------------------------------------------------------------------------


ERROR_TITLES = {403: "无权操作", 404: "未找到", 429: "请稍后再试"}
ERROR_MESSAGES = {
    400: "请求无法处理。",
    403: "你没有权限执行此操作。",
    404: "没有这个页面或记录，或它不在你的辖区内。",
    405: "不支持这种请求。",
    422: "输入有误，请检查后重试。",
    429: "操作过于频繁，请稍后再试。",
}


@blp.before_request
def _refuse_forged_posts() -> Response | None:
    """A state-changing request without this browser's CSRF token is refused here, before
    any view (the sign-in form handles its own, to keep what was typed)."""
    if request.method not in STATE_CHANGING or request.endpoint == "console.login_post":
        return None
    load_account()
    if csrf_ok():
        return None
    return page(
        "error.html",
        403,
        title="请求已拒绝",
        message="页面已过期或来源不明（缺少安全校验码），操作未执行。请返回页面刷新后重试。",
    )


@blp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    """Refusals of the shared helpers (404 outside the jurisdiction, 403, 429) as pages."""
    status = error.code or 500
    data = getattr(error, "data", None)
    detail = data.get("message") if isinstance(data, dict) else None
    message = ERROR_MESSAGES.get(status, "请求无法处理。")
    if status == 403 and isinstance(detail, str):
        message = zh(detail) + "。"
    return page("error.html", status, title=ERROR_TITLES.get(status, "无法处理"), message=message)


@blp.after_request
def _headers(response: Response) -> Response:
    if g.get("console_new_pre"):
        response.set_cookie(
            PRE_COOKIE,
            g.console_new_pre,
            path=COOKIE_PATH,
            httponly=True,
            samesite="Strict",
            secure=request.is_secure,
        )
    response.headers["Content-Security-Policy"] = content_security_policy(config())
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if response.mimetype in ("text/html", "application/json"):
        response.headers["Cache-Control"] = "no-store"  # a jurisdiction's data stays off disks
    elif response.status_code == 200 and request.args.get("v"):
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
