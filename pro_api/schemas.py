"""Schemas of the pro API's sign-in, accounts and audit log (the OpenAPI document's words)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from accounts.accounts import (
    DISPLAY_NAME_MAX_LENGTH,
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    ROLES,
    Account,
)
from accounts.audit import OUTCOMES, AuditEntry
from pro_api.paging import PageArgs, PageSchema
from registry import regions

_PASSWORD = ma.validate.Length(1, PASSWORD_MAX_LENGTH)


class ProLoginArgs(ma.Schema):
    username = ma.fields.String(required=True, validate=ma.validate.Length(1, 100))
    password = ma.fields.String(required=True, validate=_PASSWORD)


class ProChangePasswordArgs(ma.Schema):
    current_password = ma.fields.String(required=True, validate=_PASSWORD)
    new_password = ma.fields.String(
        required=True,
        validate=_PASSWORD,
        metadata={
            "description": f"at least {PASSWORD_MIN_LENGTH} characters, not only digits, "
            "not the username, not the current password"
        },
    )


class ProAccountSchema(ma.Schema):
    id = ma.fields.Integer()
    username = ma.fields.String()
    display_name = ma.fields.String()
    role = ma.fields.String(metadata={"enum": list(ROLES)})
    pboc_level = ma.fields.String(
        allow_none=True,
        metadata={"description": "province / city / county for a PBoC account, else null"},
    )
    region_prefix = ma.fields.String(
        metadata={"description": "jurisdiction: region-code prefix", "example": "3201"}
    )
    region_name = ma.fields.String(metadata={"example": "江苏省南京市"})
    legal_entity_code = ma.fields.String(allow_none=True)
    can_write = ma.fields.Boolean(metadata={"description": "false for read-only auditors"})
    must_change_password = ma.fields.Boolean()
    disabled = ma.fields.Boolean()
    disabled_at = ma.fields.DateTime(allow_none=True)
    locked_until = ma.fields.DateTime(
        allow_none=True, metadata={"description": "set while locked after wrong passwords"}
    )
    created_by = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()
    last_login_at = ma.fields.DateTime(allow_none=True)


def account_view(account: Account) -> dict[str, Any]:
    """An account as `ProAccountSchema` documents it."""
    return {
        "id": account.id,
        "username": account.username,
        "display_name": account.display_name,
        "role": account.role,
        "pboc_level": account.pboc_level,
        "region_prefix": account.region_prefix,
        "region_name": regions.full_name(account.region_prefix.ljust(6, "0")),
        "legal_entity_code": account.legal_entity_code,
        "can_write": account.scope.can_write,
        "must_change_password": account.must_change_password,
        "disabled": account.is_disabled,
        "disabled_at": account.disabled_at,
        "locked_until": account.locked_until,
        "created_by": account.created_by,
        "created_at": account.created_at,
        "last_login_at": account.last_login_at,
    }


class ProSessionSchema(ma.Schema):
    token = ma.fields.String(
        metadata={"description": "send as `Authorization: Bearer <token>`; shown once"}
    )
    expires_at = ma.fields.DateTime()
    must_change_password = ma.fields.Boolean(
        metadata={"description": "true: only POST /auth/password is allowed until changed"}
    )
    account = ma.fields.Nested(ProAccountSchema)


class ProCreateAccountArgs(ma.Schema):
    username = ma.fields.String(
        required=True,
        validate=ma.validate.Length(3, 64),
        metadata={"description": "3-64 lower-case letters, digits, . _ @ -", "example": "nj.li"},
    )
    display_name = ma.fields.String(
        required=True, validate=ma.validate.Length(1, DISPLAY_NAME_MAX_LENGTH)
    )
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ROLES))
    region_prefix = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(r"^([0-9]{2}){1,3}$", error="2, 4 or 6 digits"),
        metadata={
            "description": "inside your own; a PBoC account strictly below yours",
            "example": "3201",
        },
    )
    legal_entity_code = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(14, 14),
        metadata={
            "description": "fi_code of the legal entity (head office): required for an "
            "institution administrator, optional for an auditor, absent for PBoC"
        },
    )


class ProTemporaryPasswordSchema(ma.Schema):
    account = ma.fields.Nested(ProAccountSchema)
    temporary_password = ma.fields.String(
        metadata={"description": "shown once; must be changed at the first sign-in"}
    )


class ProRevokedSchema(ma.Schema):
    revoked = ma.fields.Integer(metadata={"description": "tokens that were live"})


class ProAccountListArgs(PageArgs):
    role = ma.fields.String(validate=ma.validate.OneOf(ROLES))
    disabled = ma.fields.Boolean(metadata={"description": "only (not) disabled accounts"})


class ProAccountPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(ProAccountSchema))


class ProAuditEntrySchema(ma.Schema):
    id = ma.fields.Integer()
    at = ma.fields.DateTime()
    actor_id = ma.fields.Integer(allow_none=True)
    actor = ma.fields.String(metadata={"example": "account:12"})
    action = ma.fields.String(metadata={"example": "account.create"})
    outcome = ma.fields.String(metadata={"enum": list(OUTCOMES)})
    target_kind = ma.fields.String(allow_none=True)
    target_id = ma.fields.String(allow_none=True)
    region_code = ma.fields.String(
        allow_none=True, metadata={"description": "the jurisdiction the entry is filed under"}
    )
    legal_entity_code = ma.fields.String(allow_none=True)
    detail = ma.fields.Dict()
    request_id = ma.fields.String(allow_none=True)


def audit_view(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at,
        "actor_id": entry.actor_id,
        "actor": entry.actor,
        "action": entry.action,
        "outcome": entry.outcome,
        "target_kind": entry.target_kind,
        "target_id": entry.target_id,
        "region_code": entry.region_code,
        "legal_entity_code": entry.legal_entity_code,
        "detail": entry.detail,
        "request_id": entry.request_id,
    }


class ProAuditListArgs(PageArgs):
    action = ma.fields.String(validate=ma.validate.Length(1, 48))
    outcome = ma.fields.String(validate=ma.validate.OneOf(OUTCOMES))
    account_id = ma.fields.Integer(
        validate=ma.validate.Range(min=1),
        metadata={"description": "entries by or about this account"},
    )


class ProAuditPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(ProAuditEntrySchema))
