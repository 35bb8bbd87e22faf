"""What every professional view uses, so that each one authenticates, filters and audits
the same way:

- `current_account(action)`: the signed-in account, or 401 (no, expired or
  revoked token) / 403 (a temporary password still to be changed). Every
  refusal is written to the audit log before the answer.
- `current_scope(action, write=...)`: the account's `Scope` (jurisdiction);
  query through `scope.institutions(stmt)` / `scope.clause(Model)`, never by
  hand. `write=True` refuses read-only auditors.
- `require_role(account, roles, action)`: 403 for the other roles.
- `deny(...)` / `not_found(...)`: refuse with an audit entry. Rule of the
  whole API: something outside the caller's jurisdiction is answered 404
  exactly as if it did not exist (and audited identically), so ids cannot be
  probed; 403 is for what the caller can see but may not do, or may not do at
  all with its role.
- `audit(...)`: an audit entry in the request's transaction, for writes.
- `pro_api.paging`: keyset pages with a capped `limit`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NoReturn

from flask import current_app, g, request
from flask_smorest import abort

from accounts.accounts import Account, LoginPolicy, SignIn, make_login_policy
from accounts.audit import ANONYMOUS, NOWHERE, Actor, Filed, Outcome, record
from accounts.jurisdiction import Scope
from core import tokens
from core.config import Config
from web.extensions import db_session
from web.ratelimit import current_client_hash

PREFIX = "/api/pro/v1"
PRO_SECURITY: list[dict[str, list[str]]] = [{"proToken": []}]
NO_SECURITY: list[dict[str, list[str]]] = []
_POLICY_KEY = "branchfinder.login_policy"


def config() -> Config:
    cfg: Config = current_app.extensions["branchfinder.config"]
    return cfg


def login_policy() -> LoginPolicy:
    """One policy per app: it caches the hasher and the dummy hash of unknown usernames."""
    policy: LoginPolicy | None = current_app.extensions.get(_POLICY_KEY)
    if policy is None:
        policy = current_app.extensions[_POLICY_KEY] = make_login_policy(config())
    return policy


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def filed_under(account: Account | None) -> Filed:
    """The jurisdiction an entry about (or by) `account` is filed under."""
    if account is None:
        return NOWHERE
    return Filed(account.region_prefix, account.legal_entity_code)


def actor_of(account: Account | None) -> Actor:
    return ANONYMOUS if account is None else Actor.account(account.id)


def audit_own(
    action: str, outcome: Outcome, account: Account, detail: Mapping[str, Any] | None = None
) -> None:
    """An entry about an account's own act (its sign-in, sign-out, password): by it, about
    it, filed under it."""
    audit(
        action,
        outcome,
        actor=account,
        filed=filed_under(account),
        target_kind="account",
        target_id=account.id,
        detail=detail,
    )


def audit_sign_in(result: SignIn, username: str, extra: Mapping[str, Any] | None = None) -> None:
    """The entry of one sign-in attempt, whichever front end took it (the JSON API, the
    console, which adds its channel in `extra`): a failure names its reason, the lock it
    reached and, for no such account, the name tried."""
    account = result.account
    if result.outcome == "ok" and account is not None:
        detail = {"rehashed": True} if result.rehashed else {}
        audit_own("auth.login", "ok", account, {**detail, **(extra or {})} or None)
        return
    failed: dict[str, Any] = {"reason": result.outcome, **(extra or {})}
    if result.locked_now and account is not None and account.locked_until is not None:
        failed["locked_until"] = account.locked_until.isoformat()
    if account is None:
        failed["username"] = username[:64]
    audit(
        "auth.login",
        "failed" if result.outcome in ("unknown", "wrong_password") else "denied",
        actor=None,
        filed=filed_under(account),
        target_kind="account" if account else None,
        target_id=account.id if account else None,
        detail=failed,
    )


def audit(
    action: str,
    outcome: Outcome,
    *,
    actor: Account | None,
    filed: Filed,
    target_kind: str | None = None,
    target_id: str | int | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """An audit entry in this request's transaction, with the client's hash and request id."""
    record(
        db_session(),
        action,
        outcome,
        actor=actor_of(actor),
        filed=filed,
        target_kind=target_kind,
        target_id=target_id,
        detail=detail,
        client_hash=current_client_hash(),
        request_id=g.get("request_id"),
    )


def deny(
    status: int,
    message: str,
    *,
    action: str,
    account: Account | None,
    reason: str,
    outcome: Outcome = "denied",
    filed: Filed | None = None,
    target_kind: str | None = None,
    target_id: str | int | None = None,
    errors: Mapping[str, Any] | None = None,
) -> NoReturn:
    """Refuse the request: drop whatever it did, audit the refusal, answer `status`.

    Filed under the caller's own jurisdiction unless told otherwise, so that the
    entry says nothing about the target the caller could not already see.
    """
    session = db_session()
    session.rollback()
    audit(
        action,
        outcome,
        actor=account,
        filed=filed if filed is not None else filed_under(account),
        target_kind=target_kind,
        target_id=target_id,
        detail={"reason": reason, "call": f"{request.method} {request.path}"},
    )
    session.commit()
    headers = {"WWW-Authenticate": 'Bearer realm="pro"'} if status == 401 else None
    if errors is not None:
        abort(status, message=message, errors=errors, headers=headers)
    abort(status, message=message, headers=headers)
    raise AssertionError("abort returned")  # pragma: no cover


def unauthorized(message: str) -> NoReturn:
    """401 with the challenge a bearer-token client expects (no audit entry: see callers)."""
    abort(401, message=message, headers={"WWW-Authenticate": 'Bearer realm="pro"'})
    raise AssertionError("abort returned")  # pragma: no cover


NOT_FOUND_MESSAGE = "没有这个{what}，或不在你的辖区内 / no such {what_en} in your jurisdiction"
# The words of a 404 for each kind of target (the audit entry's target_kind).
KIND_WORDS = {
    "account": ("账户", "account"),
    "institution": ("机构", "institution"),
    "import_batch": ("批次", "batch"),
    "change_event": ("变更记录", "change event"),
    "upload_review": ("待审核上传", "held upload"),
    "error_report": ("纠错", "error report"),
    "photo": ("照片", "photo"),
}


def not_found(kind: str, target_id: str | int, *, action: str, account: Account) -> NoReturn:
    """404 for a target that does not exist *or* lies outside the caller's jurisdiction:
    the same answer and the same audit entry either way."""
    zh, en = KIND_WORDS.get(kind, (kind, kind))
    deny(
        404,
        NOT_FOUND_MESSAGE.format(what=zh, what_en=en),
        action=action,
        account=account,
        reason="not_found_or_outside_jurisdiction",
        target_kind=kind,
        target_id=target_id,
    )


def _token_refusal(token: str) -> tuple[str, Account | None]:
    """Why a token is not live, and whose it was, for the audit entry only."""
    session = db_session()
    row = session.get(tokens.AuthToken, tokens.digest(token)) if len(token) <= 200 else None
    if row is None or row.subject_kind != "account":
        return "unknown_token", None
    owner = session.get(Account, row.subject_id)
    return ("revoked_token" if row.revoked_at is not None else "expired_token"), owner


def current_account(action: str | None = None, *, allow_pending_password: bool = False) -> Account:
    """The signed-in account of this request, or a refusal (401/403, audited).

    `action` names the call in audit entries (default: method and route). Until
    a temporary password is changed, only the change-password and log-out
    views pass `allow_pending_password`.
    """
    action = action or f"{request.method} {request.url_rule.rule if request.url_rule else '?'}"
    token = bearer_token()
    if token is None:  # nobody to hold accountable: answered, not audited
        unauthorized("请先登录 / sign in first (Authorization: Bearer <token>)")
    session = db_session()
    account_id = tokens.subject(session, "account", token)
    account = None if account_id is None else session.get(Account, account_id)
    if account is None or account.is_disabled:
        reason, owner = ("account_disabled", account) if account else _token_refusal(token)
        deny(
            401,
            "登录已失效，请重新登录 / the token is invalid, expired or revoked",
            action=action,
            account=owner,
            reason=reason,
        )
    if account.must_change_password and not allow_pending_password:
        deny(
            403,
            f"请先修改临时密码 / change your temporary password first: POST {PREFIX}/auth/password",
            action=action,
            account=account,
            reason="password_change_required",
        )
    return account


def require_role(account: Account, roles: Iterable[str], action: str) -> None:
    """403 (audited) unless the account has one of `roles`."""
    allowed = tuple(roles)
    if account.role not in allowed:
        deny(
            403,
            "你的角色不能执行此操作 / your role does not allow this: needs " + " or ".join(allowed),
            action=action,
            account=account,
            reason=f"role {account.role}",
        )


def current_scope(action: str | None = None, *, write: bool = False) -> Scope:
    """The jurisdiction of the signed-in account; with `write`, auditors are refused."""
    account = current_account(action)
    scope = account.scope
    if write and not scope.can_write:
        deny(
            403,
            "只读账户不能修改数据 / a read-only account cannot change data",
            action=action or request.path,
            account=account,
            reason="read_only",
        )
    return scope
