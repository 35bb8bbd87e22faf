"""Finding the record a pro call is about, inside the caller's jurisdiction, or refusing.

The views of info updates, upload tasks, held uploads and error reports all
start the same way: the signed-in account, then the record it names, looked up
*through the account's `Scope`*, so that a record outside the jurisdiction is
answered exactly like one that does not exist (404, same words, same audit
entry). And they all answer bad input the same way: 422 (or 409) naming the
field, in Chinese and English.
"""

from __future__ import annotations

from typing import Any, NoReturn, TypeVar

from flask_smorest import abort
from sqlalchemy import Select, select

from accounts.accounts import Account
from accounts.audit import Actor, Filed
from core.models.registry import Institution
from pro_api.access import deny, not_found
from registry.codes import FI_CODE_RE
from web.extensions import db_session

AnySelect = Select[*tuple[Any, ...]]  # a SELECT of any number of columns or entities
Stmt = TypeVar("Stmt", bound=AnySelect)


def filed_for(institution: Institution) -> Filed:
    """Where an entry about `institution` is filed: its region and legal entity."""
    return Filed(institution.region_code, institution.legal_entity_code)


def missing(kind: str, target_id: str | int, *, action: str, account: Account) -> NoReturn:
    """404 for something that does not exist or lies outside the jurisdiction (audited)."""
    not_found(kind, target_id, action=action, account=account)


def visible_institution(fi_code: str, *, account: Account, action: str) -> Institution:
    """The institution `fi_code` if it lies in the account's jurisdiction, else 404."""
    code = fi_code.strip().upper()
    found = None
    if FI_CODE_RE.match(code):  # anything else cannot exist (and a NUL cannot even be sent)
        stmt = account.scope.institutions(select(Institution).where(Institution.fi_code == code))
        found = db_session().execute(stmt).scalar_one_or_none()
    if found is None:
        missing("institution", code[:20], action=action, account=account)
    return found


def visible_row(
    stmt: AnySelect, kind: str, target_id: int, *, account: Account, action: str
) -> Any:
    """The one row of `stmt` (which selects from `institution`) inside the jurisdiction."""
    row = db_session().execute(account.scope.institutions(stmt)).one_or_none()
    if row is None:
        missing(kind, target_id, action=action, account=account)
    return row


def bilingual(message_zh: str, message_en: str) -> str:
    """One message in both languages (some Chinese messages already carry the English)."""
    return message_zh if " / " in message_zh else f"{message_zh} / {message_en}"


def refuse_input(
    field: str, message_zh: str, message_en: str, *, status: int = 422, location: str = "json"
) -> NoReturn:
    """A 4xx naming the offending input; whatever the request wrote is rolled back."""
    message = bilingual(message_zh, message_en)
    refuse_fields(message, {field: [message]}, status=status, location=location)


def refuse_fields(
    message: str, errors: dict[str, list[str]], *, status: int = 422, location: str = "json"
) -> NoReturn:
    """A 4xx with one or more messages per offending input (rolled back, like above)."""
    db_session().rollback()
    abort(status, message=message, errors={location: errors})
    raise AssertionError("abort returned")  # pragma: no cover


def actor_label(account: Account) -> str:
    """How an account appears in change events, provenance and decisions: `account:<id>`."""
    return Actor.account(account.id).label


def conflict(
    message: str, *, action: str, account: Account, kind: str, target_id: str | int, reason: str
) -> NoReturn:
    """409: the record's state does not allow the call (audited as a failed attempt)."""
    deny(
        409,
        message,
        action=action,
        account=account,
        reason=reason,
        outcome="failed",
        target_kind=kind,
        target_id=target_id,
    )
