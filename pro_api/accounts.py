"""Account administration in the professional app: create, list, read, disable, reset, revoke.

Thin views over `accounts.accounts`. Who may do what:

- create: PBoC administrators only, downwards only (`accounts.creation_refusal`);
- list and read: what `accounts.visible_clause` allows (a PBoC administrator:
  itself and the accounts below it; an auditor: its jurisdiction; an
  institution administrator: itself);
- disable, reset password, revoke tokens: a PBoC administrator, on an account
  below it (never itself).

An account the caller may not see is answered 404 like one that does not
exist; a caller whose role never allows the call gets 403 before any account
is looked up. Both are audited.
"""

from __future__ import annotations

from typing import Any, NoReturn

from flask.views import MethodView
from flask_smorest import Blueprint, abort
from flask_smorest.error_handler import ErrorSchema
from sqlalchemy import select

from accounts import accounts
from accounts.accounts import (
    Account,
    AccountInvalid,
    CreationRefused,
    NewAccount,
    UsernameTaken,
)
from pro_api.access import (
    PRO_SECURITY,
    audit,
    current_account,
    deny,
    filed_under,
    login_policy,
    not_found,
    require_role,
)
from pro_api.paging import keyset_page
from pro_api.schemas import (
    ProAccountListArgs,
    ProAccountPageSchema,
    ProAccountSchema,
    ProCreateAccountArgs,
    ProRevokedSchema,
    ProTemporaryPasswordSchema,
    account_view,
)
from web.extensions import db_session

blp = Blueprint(
    "pro_accounts",
    __name__,
    description="专业版：账户管理（逐级下发）/ Professional app: accounts, handed out downwards",
)

_UNAUTHORIZED = "没有有效的登录 / no valid token"
_NOT_VISIBLE = "不存在或不在你的辖区内 / no such account in your jurisdiction"
_ROLE_OR_SELF = "角色不允许，或不能对自己操作 / role does not allow it, or your own account"
_ADMINS = ("pboc_admin",)


def _invalid(field: str, message: str, status: int = 422) -> NoReturn:
    abort(status, message=message, errors={"json": {field: [message]}})
    raise AssertionError("abort returned")  # pragma: no cover


def _manageable(caller: Account, account_id: int, action: str) -> Account:
    """The account below `caller` it wants to change, or a refusal (403 self, else 404)."""
    require_role(caller, _ADMINS, action)
    if account_id == caller.id:
        deny(
            403,
            "不能对自己的账户执行此操作 / not on your own account",
            action=action,
            account=caller,
            reason="own_account",
            target_kind="account",
            target_id=account_id,
        )
    target = accounts.manageable_account(db_session(), caller, account_id, lock=True)
    if target is None:
        not_found("account", account_id, action=action, account=caller)
    return target


def _done(
    action: str, caller: Account, target: Account, detail: dict[str, Any] | None = None
) -> None:
    """Audit a change `caller` made to `target` and commit it with the change."""
    audit(
        action,
        "ok",
        actor=caller,
        filed=filed_under(target),
        target_kind="account",
        target_id=target.id,
        detail=detail,
    )
    db_session().commit()


@blp.route("/accounts")
class Accounts(MethodView):
    @blp.arguments(ProAccountListArgs, location="query")
    @blp.response(200, ProAccountPageSchema)
    @blp.alt_response(401, schema=ErrorSchema, description=_UNAUTHORIZED)
    @blp.alt_response(
        403, schema=ErrorSchema, description="须先修改临时密码 / temporary password to change first"
    )
    @blp.doc(security=PRO_SECURITY)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """账户列表 — the accounts you may see, by id (keyset pages)."""
        caller = current_account("account.list")
        stmt = select(Account).where(accounts.visible_clause(caller))
        if "role" in args:
            stmt = stmt.where(Account.role == args["role"])
        if "disabled" in args:
            disabled = Account.disabled_at.is_not(None)
            stmt = stmt.where(disabled if args["disabled"] else ~disabled)
        page = keyset_page(db_session(), stmt, Account.id, args)
        return {"items": [account_view(a) for a in page.items], "next_after": page.next_after}

    @blp.arguments(ProCreateAccountArgs)
    @blp.response(201, ProTemporaryPasswordSchema)
    @blp.alt_response(401, schema=ErrorSchema, description=_UNAUTHORIZED)
    @blp.alt_response(
        403,
        schema=ErrorSchema,
        description="只有人民银行管理员，且只能向下级、在辖区内创建 / only PBoC administrators, "
        "downwards and inside their jurisdiction (errors name the field)",
    )
    @blp.alt_response(409, schema=ErrorSchema, description="用户名已被使用 / the username is taken")
    @blp.doc(security=PRO_SECURITY)
    def post(self, args: dict[str, Any]) -> dict[str, Any]:
        """创建账户 — a new account with a temporary password, shown only in this answer."""
        action = "account.create"
        caller = current_account(action)
        require_role(caller, _ADMINS, action)
        session = db_session()
        new = NewAccount(
            username=args["username"],
            display_name=args["display_name"],
            role=args["role"],
            region_prefix=args["region_prefix"],
            legal_entity_code=args.get("legal_entity_code"),
        )
        try:
            created = accounts.create_account(session, caller, new, login_policy())
        except CreationRefused as exc:
            deny(
                403,
                exc.message,
                action=action,
                account=caller,
                reason=f"creation refused: {exc.field}",
                errors={"json": {exc.field: [exc.message]}},
            )
        except UsernameTaken as exc:
            session.rollback()
            _invalid(exc.field, exc.message, 409)
        except AccountInvalid as exc:
            session.rollback()
            _invalid(exc.field, exc.message)
        account = created.account
        audit(
            action,
            "ok",
            actor=caller,
            filed=filed_under(account),
            target_kind="account",
            target_id=account.id,
            detail={
                "username": account.username,
                "role": account.role,
                "region_prefix": account.region_prefix,
                "legal_entity_code": account.legal_entity_code,
            },
        )
        session.commit()
        return {"account": account_view(account), "temporary_password": created.password}


@blp.route("/accounts/<int:account_id>")
class OneAccount(MethodView):
    @blp.response(200, ProAccountSchema)
    @blp.alt_response(401, schema=ErrorSchema, description=_UNAUTHORIZED)
    @blp.alt_response(
        403, schema=ErrorSchema, description="须先修改临时密码 / temporary password to change first"
    )
    @blp.alt_response(404, schema=ErrorSchema, description=_NOT_VISIBLE)
    @blp.doc(security=PRO_SECURITY)
    def get(self, account_id: int) -> dict[str, Any]:
        """账户 — one account you may see."""
        action = "account.read"
        caller = current_account(action)
        account = accounts.visible_account(db_session(), caller, account_id)
        if account is None:
            not_found("account", account_id, action=action, account=caller)
        return account_view(account)


@blp.route("/accounts/<int:account_id>/disable")
class DisableAccount(MethodView):
    @blp.response(200, ProAccountSchema)
    @blp.alt_response(401, schema=ErrorSchema, description=_UNAUTHORIZED)
    @blp.alt_response(403, schema=ErrorSchema, description=_ROLE_OR_SELF)
    @blp.alt_response(404, schema=ErrorSchema, description=_NOT_VISIBLE)
    @blp.doc(security=PRO_SECURITY)
    def post(self, account_id: int) -> dict[str, Any]:
        """停用账户 — disable an account below you; its tokens are revoked at once."""
        action = "account.disable"
        caller = current_account(action)
        target = _manageable(caller, account_id, action)
        revoked = accounts.disable(db_session(), target)
        _done(action, caller, target, {"revoked_tokens": revoked})
        return account_view(target)


@blp.route("/accounts/<int:account_id>/reset-password")
class ResetPassword(MethodView):
    @blp.response(200, ProTemporaryPasswordSchema)
    @blp.alt_response(401, schema=ErrorSchema, description=_UNAUTHORIZED)
    @blp.alt_response(403, schema=ErrorSchema, description=_ROLE_OR_SELF)
    @blp.alt_response(404, schema=ErrorSchema, description=_NOT_VISIBLE)
    @blp.doc(security=PRO_SECURITY)
    def post(self, account_id: int) -> dict[str, Any]:
        """重置密码 — a new temporary password for an account below you (shown once).

        Ends the account's sessions and lifts a lock; it must change the password
        at its next sign-in.
        """
        action = "account.reset_password"
        caller = current_account(action)
        target = _manageable(caller, account_id, action)
        password = accounts.reset_password(db_session(), target, login_policy())
        _done(action, caller, target)
        return {"account": account_view(target), "temporary_password": password}


@blp.route("/accounts/<int:account_id>/revoke-tokens")
class RevokeTokens(MethodView):
    @blp.response(200, ProRevokedSchema)
    @blp.alt_response(401, schema=ErrorSchema, description=_UNAUTHORIZED)
    @blp.alt_response(403, schema=ErrorSchema, description=_ROLE_OR_SELF)
    @blp.alt_response(404, schema=ErrorSchema, description=_NOT_VISIBLE)
    @blp.doc(security=PRO_SECURITY)
    def post(self, account_id: int) -> dict[str, int]:
        """注销全部登录 — revoke every live token of an account below you (lost device)."""
        action = "account.revoke_tokens"
        caller = current_account(action)
        target = _manageable(caller, account_id, action)
        revoked = accounts.revoke_tokens(db_session(), target)
        _done(action, caller, target, {"revoked_tokens": revoked})
        return {"revoked": revoked}
