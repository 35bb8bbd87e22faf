"""Professional accounts (《金融数据汇》): roles, passwords, lock-out, who may create whom.

A library over an SQLAlchemy session (no Flask here), used by the pro API and
the `branchfinder accounts` commands.

Roles, after the domain's "统一管理，分级维护" (each office maintains its own area):

- `pboc_admin`: a PBoC office. Its jurisdiction is a region-code prefix whose
  length is its level: 2 digits a provincial branch (分行), 4 a city central
  sub-branch (中心支行), 6 a county sub-branch (县支行).
- `institution_admin`: an institution's own administrator: one legal entity
  (法人机构, by its head office's fi_code) within a region prefix.
- `auditor`: read-only, a region prefix and optionally one legal entity.

Accounts are handed out downwards only: a PBoC account creates PBoC accounts
strictly below it (a longer prefix inside its own) and institution
administrators and auditors inside its jurisdiction; nobody else creates
accounts. The first provincial account comes from the command line.

Passwords: argon2id (argon2-cffi), parameters from `Config` so that tests run
cheap ones, and a stored hash is upgraded at the next sign-in when they
change. A temporary password (new account, reset by an administrator) must be
changed before the account can do anything else. Five wrong passwords in a row
lock the account for 15 minutes (both configurable); while locked even the
right password is refused, and the answer never differs from "wrong username
or password", so neither the lock nor the username's existence can be probed.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ColumnElement,
    DateTime,
    ForeignKey,
    Identity,
    Integer,
    String,
    Text,
    false,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from accounts.jurisdiction import PREFIX_RE, Scope
from core import tokens
from core.base import Base
from core.config import Config
from core.models.registry import Institution
from registry import regions
from registry.codes import FI_CODE_RE

Role = Literal["pboc_admin", "institution_admin", "auditor"]
ROLES: tuple[Role, ...] = ("pboc_admin", "institution_admin", "auditor")
ROLE_LABELS: dict[str, str] = {
    "pboc_admin": "人民银行管理员 / PBoC administrator",
    "institution_admin": "机构管理员 / institution administrator",
    "auditor": "只读审计员 / read-only auditor",
}
PBOC_LEVELS: dict[int, str] = {2: "province", 4: "city", 6: "county"}

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@-]{2,63}$")
PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 256  # argon2 takes any length; a bound keeps a request cheap to refuse
DISPLAY_NAME_MAX_LENGTH = 100
# Temporary passwords are read aloud or copied by hand: no 0/O, 1/I/L.
_TEMPORARY_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz"


class Account(Base):
    """One person's sign-in to the professional app; never deleted, only disabled."""

    __tablename__ = "pro_account"
    __table_args__ = (
        CheckConstraint("role IN ('pboc_admin', 'institution_admin', 'auditor')", name="role"),
        CheckConstraint("region_prefix ~ '^([0-9]{2}){1,3}$'", name="region_prefix_format"),
        CheckConstraint(
            "role <> 'pboc_admin' OR legal_entity_code IS NULL", name="pboc_no_legal_entity"
        ),
        CheckConstraint(
            "role <> 'institution_admin' OR legal_entity_code IS NOT NULL",
            name="institution_admin_legal_entity",
        ),
        CheckConstraint("username ~ '^[a-z0-9][a-z0-9._@-]{2,63}$'", name="username_format"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    username: Mapped[str] = mapped_column(Text, unique=True)
    display_name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(20))
    region_prefix: Mapped[str] = mapped_column(String(6))
    legal_entity_code: Mapped[str | None] = mapped_column(String(14))
    password_hash: Mapped[str] = mapped_column(Text)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("pro_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def scope(self) -> Scope:
        """What this account may see (and, unless an auditor, change)."""
        return Scope(
            self.region_prefix,
            self.legal_entity_code,
            can_write=self.role != "auditor",
        )

    @property
    def pboc_level(self) -> str | None:
        """province / city / county for a PBoC account, else None."""
        return PBOC_LEVELS[len(self.region_prefix)] if self.role == "pboc_admin" else None

    @property
    def is_disabled(self) -> bool:
        return self.disabled_at is not None


# --- passwords ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginPolicy:
    """How passwords are hashed and how many wrong ones lock an account, for how long."""

    time_cost: int = 3
    memory_kib: int = 65_536  # argon2-cffi's default: RFC 9106's low-memory profile
    parallelism: int = 4
    lockout_threshold: int = 5
    lockout_s: int = 900

    @cached_property
    def hasher(self) -> PasswordHasher:
        return PasswordHasher(
            time_cost=self.time_cost, memory_cost=self.memory_kib, parallelism=self.parallelism
        )

    @cached_property
    def dummy_hash(self) -> str:
        """Verified against when the username is unknown, so that the answer takes as
        long as for a real account and timing does not tell which usernames exist."""
        return self.hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, stored: str, password: str) -> bool:
        try:
            return bool(self.hasher.verify(stored, password))
        except (VerificationError, InvalidHashError):
            return False


def make_login_policy(config: Config) -> LoginPolicy:
    return LoginPolicy(
        time_cost=config.argon2_time_cost,
        memory_kib=config.argon2_memory_kib,
        parallelism=config.argon2_parallelism,
        lockout_threshold=config.pro_lockout_threshold,
        lockout_s=config.pro_lockout_s,
    )


class PasswordRejected(ValueError):
    """A new password that breaks the policy; `problems` are shown to the user."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def password_problems(password: str, username: str) -> list[str]:
    """Why a new password is refused (Chinese / English), or nothing.

    Length is what makes a password strong; the other rules refuse the choices
    people make first and attackers try first.
    """
    problems = []
    if len(password) < PASSWORD_MIN_LENGTH:
        problems.append(
            f"密码至少 {PASSWORD_MIN_LENGTH} 个字符 / at least {PASSWORD_MIN_LENGTH} characters"
        )
    if len(password) > PASSWORD_MAX_LENGTH:
        problems.append(
            f"密码最多 {PASSWORD_MAX_LENGTH} 个字符 / at most {PASSWORD_MAX_LENGTH} characters"
        )
    if password.isdigit():
        problems.append("密码不能只有数字 / must not be only digits")
    if password.strip().lower() == username.strip().lower():
        problems.append("密码不能与用户名相同 / must not be the username")
    return problems


def check_password(password: str, username: str) -> None:
    problems = password_problems(password, username)
    if problems:
        raise PasswordRejected(problems)


def temporary_password() -> str:
    """A random password to hand over once: 15 characters (~86 bits) in groups of five."""
    while True:
        raw = "".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(15))
        candidate = f"{raw[:5]}-{raw[5:10]}-{raw[10:]}"
        if not password_problems(candidate, ""):
            return candidate


# --- creation -----------------------------------------------------------------------------


class AccountInvalid(ValueError):
    """Input that cannot make an account, whoever asks (answered 422, naming the field)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class CreationRefused(AccountInvalid):
    """Input that is valid, but the creator may not hand out such an account (403)."""


class UsernameTaken(AccountInvalid):
    """The username belongs to another account (409)."""


@dataclass(frozen=True)
class NewAccount:
    username: str
    display_name: str
    role: str
    region_prefix: str
    legal_entity_code: str | None = None


@dataclass(frozen=True)
class Created:
    account: Account
    password: str  # the temporary password, shown once; never stored


def normalise_username(username: str) -> str:
    return username.strip().lower()


def validate(session: Session, new: NewAccount) -> NewAccount:
    """`new` normalised, or AccountInvalid naming the first wrong field."""
    username = normalise_username(new.username)
    if not USERNAME_RE.match(username):
        raise AccountInvalid(
            "username",
            "用户名为 3–64 个小写字母、数字或 . _ @ - / 3-64 lower-case letters, digits, . _ @ -",
        )
    display_name = " ".join(new.display_name.split())
    if not 1 <= len(display_name) <= DISPLAY_NAME_MAX_LENGTH:
        raise AccountInvalid(
            "display_name",
            f"姓名为 1–{DISPLAY_NAME_MAX_LENGTH} 个字符 / 1-{DISPLAY_NAME_MAX_LENGTH} characters",
        )
    if new.role not in ROLES:
        raise AccountInvalid("role", "角色应为 " + ", ".join(ROLES) + " / unknown role")
    prefix = new.region_prefix.strip()
    if not PREFIX_RE.match(prefix):
        raise AccountInvalid(
            "region_prefix",
            "辖区为 2、4 或 6 位行政区划代码前缀 / a region prefix of 2, 4 or 6 digits",
        )
    region = regions.get(prefix.ljust(6, "0"))
    if region is None or not region.is_current:
        raise AccountInvalid(
            "region_prefix", f"没有行政区划 {prefix} / {prefix} is not a current GB/T 2260 region"
        )
    legal_entity = (new.legal_entity_code or "").strip().upper() or None
    if new.role == "pboc_admin" and legal_entity is not None:
        raise AccountInvalid(
            "legal_entity_code",
            "人民银行账户不属于法人机构 / a PBoC account has no legal entity",
        )
    if new.role == "institution_admin" and legal_entity is None:
        raise AccountInvalid(
            "legal_entity_code",
            "机构管理员需要法人机构编码 / an institution administrator needs a legal entity",
        )
    if legal_entity is not None:
        if not FI_CODE_RE.match(legal_entity):
            raise AccountInvalid(
                "legal_entity_code",
                "法人机构编码为 14 位金融机构编码 / the legal entity's 14-character fi_code",
            )
        known = session.execute(
            Scope(prefix)
            .institutions(
                select(Institution.id).where(Institution.legal_entity_code == legal_entity)
            )
            .limit(1)
        ).first()
        if known is None:
            raise AccountInvalid(
                "legal_entity_code",
                f"辖区 {prefix} 内没有法人机构 {legal_entity} 的机构 / "
                f"no institution of legal entity {legal_entity} in region {prefix}",
            )
    return NewAccount(username, display_name, new.role, prefix, legal_entity)


def creation_refusal(creator: Account | None, new: NewAccount) -> CreationRefused | None:
    """Why `creator` may not create `new` (already validated), or None.

    `creator` None is the command line, trusted to bootstrap PBoC accounts only.
    """
    if creator is None:
        if new.role != "pboc_admin":
            return CreationRefused(
                "role", "命令行只创建人民银行账户 / the command line creates PBoC accounts only"
            )
        return None
    if creator.role != "pboc_admin" or creator.is_disabled:
        return CreationRefused(
            "role", "只有人民银行管理员可以创建账户 / only PBoC administrators create accounts"
        )
    if not creator.scope.covers(Scope(new.region_prefix, new.legal_entity_code)):
        return CreationRefused(
            "region_prefix",
            f"辖区 {new.region_prefix} 不在你的辖区 {creator.region_prefix} 内 / "
            "outside your jurisdiction",
        )
    if new.role == "pboc_admin" and len(new.region_prefix) <= len(creator.region_prefix):
        return CreationRefused(
            "region_prefix",
            "只能创建下级人民银行账户 / PBoC accounts can only be created for a lower level",
        )
    return None


def create_account(
    session: Session,
    creator: Account | None,
    new: NewAccount,
    policy: LoginPolicy,
    password: str | None = None,
) -> Created:
    """Create an account with a temporary password (generated unless given); the caller
    commits. Raises AccountInvalid (or its CreationRefused, UsernameTaken) or
    PasswordRejected."""
    checked = validate(session, new)
    refusal = creation_refusal(creator, checked)
    if refusal is not None:
        raise refusal
    if password is None:
        password = temporary_password()
    else:
        check_password(password, checked.username)
    taken = session.execute(select(Account.id).where(Account.username == checked.username)).first()
    if taken is not None:
        raise UsernameTaken("username", "用户名已被使用 / the username is taken")
    account = Account(
        username=checked.username,
        display_name=checked.display_name,
        role=checked.role,
        region_prefix=checked.region_prefix,
        legal_entity_code=checked.legal_entity_code,
        password_hash=policy.hash(password),
        must_change_password=True,
        failed_logins=0,
        created_by=None if creator is None else creator.id,
    )
    session.add(account)
    session.flush()
    return Created(account, password)


# --- who sees whom ------------------------------------------------------------------------


def visible_clause(viewer: Account) -> ColumnElement[bool]:
    """The accounts `viewer` may see, as a WHERE condition; everything else is "not found".

    A PBoC administrator sees itself and the accounts below it: institution
    accounts and auditors inside its prefix, PBoC accounts with a longer one
    (not its peers at the same level, nor its superiors). An auditor sees
    itself and every account in its jurisdiction. An institution administrator
    sees only itself.
    """
    own = Account.id == viewer.id
    if viewer.is_disabled:
        return false()
    if viewer.role == "pboc_admin":
        below = viewer.scope.columns_clause(Account.region_prefix) & or_(
            Account.role != "pboc_admin",
            func.length(Account.region_prefix) > len(viewer.region_prefix),
        )
        return or_(own, below)
    if viewer.role == "auditor":
        return or_(
            own, viewer.scope.columns_clause(Account.region_prefix, Account.legal_entity_code)
        )
    return own


def visible_account(session: Session, viewer: Account, account_id: int) -> Account | None:
    """The account if `viewer` may see it, else None (whether or not it exists)."""
    return session.execute(
        select(Account).where(Account.id == account_id, visible_clause(viewer))
    ).scalar_one_or_none()


def manageable_account(
    session: Session, manager: Account, account_id: int, *, lock: bool = False
) -> Account | None:
    """The account if `manager` may change it: a PBoC administrator, an account below it."""
    if manager.role != "pboc_admin" or account_id == manager.id:
        return None
    stmt = select(Account).where(Account.id == account_id, visible_clause(manager))
    return session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()


# --- signing in ---------------------------------------------------------------------------

SignInOutcome = Literal["ok", "unknown", "wrong_password", "locked", "disabled"]


@dataclass(frozen=True)
class SignIn:
    outcome: SignInOutcome
    account: Account | None = None
    locked_now: bool = False  # this failure reached the threshold and locked the account
    rehashed: bool = False


def _now(session: Session) -> datetime:
    """The database's clock: every time comparison uses one clock, whatever the host."""
    now: datetime = session.execute(select(func.now())).scalar_one()
    return now


def authenticate(session: Session, username: str, password: str, policy: LoginPolicy) -> SignIn:
    """Check a username and password; update the failure count, the lock and the hash.

    The account row is locked (SELECT ... FOR UPDATE) so that concurrent wrong
    guesses are all counted. The caller commits, whatever the outcome.
    """
    name = normalise_username(username)
    account = None
    if USERNAME_RE.match(name):
        account = session.execute(
            select(Account).where(Account.username == name).with_for_update()
        ).scalar_one_or_none()
    now = _now(session)
    usable = (
        account is not None
        and not account.is_disabled
        and not (account.locked_until is not None and account.locked_until > now)
    )
    if account is None or not usable:
        policy.verify(policy.dummy_hash, password)  # same time as a real check
        if account is None:
            return SignIn("unknown")
        return SignIn("disabled" if account.is_disabled else "locked", account)
    if not policy.verify(account.password_hash, password):
        account.failed_logins += 1
        if account.failed_logins >= policy.lockout_threshold:
            account.locked_until = now + timedelta(seconds=policy.lockout_s)
            account.failed_logins = 0
            return SignIn("wrong_password", account, locked_now=True)
        return SignIn("wrong_password", account)
    account.failed_logins = 0
    account.locked_until = None
    account.last_login_at = now
    rehashed = policy.hasher.check_needs_rehash(account.password_hash)
    if rehashed:
        account.password_hash = policy.hash(password)
    return SignIn("ok", account, rehashed=rehashed)


class WrongPassword(ValueError):
    """The current password given to change it is wrong (or the account is locked)."""


def change_password(
    session: Session, account: Account, current: str, new: str, policy: LoginPolicy
) -> None:
    """Replace the password after checking the current one; ends every session of the
    account (the caller issues a new token). A wrong current password counts towards
    the lock-out like a failed sign-in. The caller commits either way."""
    now = _now(session)
    session.refresh(account, with_for_update=True)
    if account.locked_until is not None and account.locked_until > now:
        raise WrongPassword("locked")
    if not policy.verify(account.password_hash, current):
        account.failed_logins += 1
        if account.failed_logins >= policy.lockout_threshold:
            account.locked_until = now + timedelta(seconds=policy.lockout_s)
            account.failed_logins = 0
        raise WrongPassword("wrong password")
    problems = password_problems(new, account.username)
    if new == current:
        problems.append("新密码不能与当前密码相同 / must differ from the current password")
    if problems:
        raise PasswordRejected(problems)
    account.password_hash = policy.hash(new)
    account.must_change_password = False
    account.failed_logins = 0
    account.password_changed_at = now
    tokens.revoke_all(session, "account", account.id)


def reset_password(session: Session, account: Account, policy: LoginPolicy) -> str:
    """A new temporary password (returned once), to be changed at the next sign-in;
    ends every session and lifts a lock. The caller commits."""
    password = temporary_password()
    account.password_hash = policy.hash(password)
    account.must_change_password = True
    account.failed_logins = 0
    account.locked_until = None
    account.password_changed_at = _now(session)
    tokens.revoke_all(session, "account", account.id)
    return password


def revoke_tokens(session: Session, account: Account) -> int:
    """End every session of the account; returns how many were live (unexpired and
    unrevoked), which is what an administrator means by "signed in". The caller commits."""
    live = session.execute(
        select(func.count()).where(
            tokens.AuthToken.subject_kind == "account",
            tokens.AuthToken.subject_id == account.id,
            tokens.AuthToken.revoked_at.is_(None),
            tokens.AuthToken.expires_at > func.now(),
        )
    ).scalar_one()
    tokens.revoke_all(session, "account", account.id)
    return int(live)


def disable(session: Session, account: Account) -> int:
    """Disable the account and revoke its tokens; returns how many were live. Disabling
    twice keeps the first date. The caller commits."""
    if account.disabled_at is None:
        account.disabled_at = _now(session)
    return revoke_tokens(session, account)


def find_by_username(session: Session, username: str) -> Account | None:
    return session.execute(
        select(Account).where(Account.username == normalise_username(username))
    ).scalar_one_or_none()
