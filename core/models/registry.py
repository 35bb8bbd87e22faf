"""The core tables: institutions from the PBoC registry, outlet profiles, change events.

Design notes that are not obvious from the columns:

- `institution.fi_code` is the natural key everything outside refers to; the
  integer `id` exists only to keep joins and the profile's primary key small.
- An outlet profile is what the public sees of an institution. Its position is
  a `geography(Point, 4326)` in WGS-84 (RFC 7946), whatever system it was
  captured in; `position_coord_system` keeps that system so that a wrong
  conversion can be traced and repaired.
- `provenance` holds, per field group (`FIELD_GROUPS`), who set it, from which
  channel, when, and whether the institution confirmed it. The quality
  reports and the "not updated" lists are queries over it and over the
  change events.
- `change_event` is append-only: a trigger (in the migration) refuses UPDATE
  and DELETE, so history cannot be rewritten by application bugs.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from geoalchemy2 import Geography
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    String,
    Text,
    func,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql.base import ischema_names
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import UserDefinedType

from core.base import Base

LEVELS = ("head_office", "branch", "sub_branch", "outlet")
# What kind of place an outlet is: a staffed branch (营业网点), a self-service bank (自助银行:
# a room of machines, cash in and out, often open all hours) or a single ATM. Self-service
# points are registry records of level `outlet` under the branch they belong to or stand in.
OUTLET_KINDS = ("branch", "self_service", "atm")
STATUSES = ("active", "revoked")
CHANNELS = ("registry_sync", "staff_upload", "pro_update", "public_report", "system")
FIELD_GROUPS = ("position", "business_types", "hours", "phone", "photos", "service_links")
BATCH_KINDS = ("registry", "profiles")

Level = Literal["head_office", "branch", "sub_branch", "outlet"]
OutletKind = Literal["branch", "self_service", "atm"]
Status = Literal["active", "revoked"]
Channel = Literal["registry_sync", "staff_upload", "pro_update", "public_report", "system"]


class XID8(UserDefinedType[int]):
    """PostgreSQL's 64-bit transaction id (`xid8`), read as an int."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "xid8"

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        return lambda value: None if value is None else int(value)


ischema_names["xid8"] = XID8  # reflected as such (Alembic's comparison of the models)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class ImportBatch(Base):
    """One submitted file (registry sync or profile import) and its error receipt."""

    __tablename__ = "import_batch"
    __table_args__ = (CheckConstraint(_in("kind", BATCH_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    source_name: Mapped[str] = mapped_column(Text)
    source_sha256: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(Text, default="system")
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    summary: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    options: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class ImportIssue(Base):
    """One line of a batch's error receipt (错误回执)."""

    __tablename__ = "import_issue"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("import_batch.id", ondelete="CASCADE"), index=True
    )
    row_no: Mapped[int | None] = mapped_column()
    fi_code: Mapped[str | None] = mapped_column(Text)
    column_name: Mapped[str | None] = mapped_column(Text)
    rule_id: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(8))
    value: Mapped[str | None] = mapped_column(Text)
    message_zh: Mapped[str] = mapped_column(Text)
    message_en: Mapped[str] = mapped_column(Text)
    # Whose jurisdiction the line belongs to: the region and legal entity its row declared
    # (when valid), else those of the stored record with its fi_code; NULL when neither is
    # known (file and header problems). A batch is one province-wide file, and an office
    # reads only the lines of its own area (registry.receipts.attribute_issues).
    region_code: Mapped[str | None] = mapped_column(String(6))
    legal_entity_code: Mapped[str | None] = mapped_column(String(14))


class Institution(Base):
    """A registry record: head office, branch, sub-branch or outlet (金融业机构)."""

    __tablename__ = "institution"
    __table_args__ = (
        CheckConstraint(_in("level", LEVELS), name="level"),
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint(_in("kind", OUTLET_KINDS), name="kind"),
        CheckConstraint("kind = 'branch' OR level = 'outlet'", name="self_service_is_outlet"),
        CheckConstraint("char_length(fi_code) = 14", name="fi_code_length"),
        CheckConstraint("region_code ~ '^[0-9]{6}$'", name="region_code_format"),
        CheckConstraint(
            "(status = 'revoked') = (revoked_on IS NOT NULL)", name="revoked_on_iff_revoked"
        ),
        # Jurisdiction filters are region-code prefixes ("3201%"): a pattern-ops
        # index serves LIKE-prefix under the C.UTF-8 collation.
        # Text search (geo.search): trigram GIN indexes, see migration 0005.
        Index(
            "ix_institution_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ),
        Index(
            "ix_institution_address_trgm",
            "address",
            postgresql_using="gin",
            postgresql_ops={"address": "gin_trgm_ops"},
        ),
        Index(
            "ix_institution_short_name_trgm",
            "short_name",
            postgresql_using="gin",
            postgresql_ops={"short_name": "gin_trgm_ops"},
        ),
        # Words in names and addresses (geo.search, Filters.words): GIN indexes of the
        # character bigrams, see migration 0013.
        Index("ix_institution_name_bigrams", text("text_bigrams(name)"), postgresql_using="gin"),
        Index(
            "ix_institution_address_bigrams", text("text_bigrams(address)"), postgresql_using="gin"
        ),
        Index(
            "ix_institution_short_name_bigrams",
            text("text_bigrams(short_name)"),
            postgresql_using="gin",
        ),
        # Names ending with a word (新街口支行 for 新街口), as a prefix of the reversed stem.
        Index(
            "ix_institution_name_stem_reversed",
            literal_column("reverse(name_stem(name))").label("stem_reversed"),
            postgresql_ops={"stem_reversed": "text_pattern_ops"},
        ),
        # A legal entity's outlets in fi_code order (the bot lists them so); migration 0010.
        Index("ix_institution_legal_entity_code_fi_code", "legal_entity_code", "fi_code"),
        Index(
            "ix_institution_region_code_prefix",
            "region_code",
            postgresql_ops={"region_code": "text_pattern_ops"},
        ),
        # The head offices (a few hundred among a million outlets): /institutions and the
        # bot's lexicon list them; migration 0019.
        Index(
            "ix_institution_head_offices",
            "fi_code",
            postgresql_where=text("level = 'head_office'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    fi_code: Mapped[str] = mapped_column(String(14), unique=True)
    name: Mapped[str] = mapped_column(Text)
    short_name: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32))
    legal_entity_code: Mapped[str] = mapped_column(String(14))
    parent_code: Mapped[str | None] = mapped_column(String(14), index=True)
    level: Mapped[str] = mapped_column(String(16))
    # OUTLET_KINDS; a self-service point's parent is the branch it belongs to or stands in
    kind: Mapped[str] = mapped_column(String(16), default="branch", server_default="branch")
    region_code: Mapped[str] = mapped_column(String(6))
    address: Mapped[str | None] = mapped_column(Text)
    postcode: Mapped[str | None] = mapped_column(String(6))
    phone: Mapped[str | None] = mapped_column(Text)
    licence_no: Mapped[str | None] = mapped_column(String(15))
    uscc: Mapped[str | None] = mapped_column(String(18))
    status: Mapped[str] = mapped_column(String(8), default="active")
    established_on: Mapped[date | None] = mapped_column(Date)
    revoked_on: Mapped[date | None] = mapped_column(Date)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))
    # md5 of the raw record last loaded without any issue; voided by a trigger when the
    # data change by another route (see migration 0003). Lets a re-sent file skip validation.
    source_fingerprint: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    profile: Mapped[OutletProfile | None] = relationship(back_populates="institution")


class OutletProfile(Base):
    """What the public sees of an outlet (网点信息), one per visitable institution."""

    __tablename__ = "outlet_profile"
    __table_args__ = (
        CheckConstraint(
            "position_coord_system IS NULL OR position_coord_system IN ('wgs84', 'gcj02', 'bd09')",
            name="position_coord_system",
        ),
        CheckConstraint(_in("kind", OUTLET_KINDS), name="kind"),
        Index("ix_outlet_profile_position", "position", postgresql_using="gist"),
        # Nearest branches without walking past the self-service points around them
        # (two to three per branch): see geo.search and migration 0020.
        Index(
            "ix_outlet_profile_position_branch",
            "position",
            postgresql_using="gist",
            postgresql_where=text("kind = 'branch'"),
        ),
        # And the machines alone (取钱, 附近的ATM): without it, the nearest ATMs were looked
        # for among every branch, all of them where a county has none (migration 0021).
        Index(
            "ix_outlet_profile_position_machines",
            "position",
            postgresql_using="gist",
            postgresql_where=text("kind IN ('atm', 'self_service')"),
        ),
        Index("ix_outlet_profile_business_types", "business_types", postgresql_using="gin"),
    )

    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institution.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[Any] = mapped_column(
        Geography(geometry_type="POINT", srid=4326, spatial_index=False), nullable=True
    )
    position_coord_system: Mapped[str | None] = mapped_column(String(5))
    # A copy of institution.kind, kept by triggers (migration 0020), never written by the
    # application: the spatial index can only be narrowed by a column of its own table, and
    # the nearest branches come from a partial GiST index of branches alone.
    kind: Mapped[str] = mapped_column(String(16), default="branch", server_default="branch")
    position_accuracy_m: Mapped[float | None] = mapped_column(Float)
    business_types: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    opening_hours: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    phone: Mapped[str | None] = mapped_column(Text)
    service_links: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    provenance: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    institution: Mapped[Institution] = relationship(back_populates="profile")


class ChangeEvent(Base):
    """One change to an institution or a profile field group; never updated or deleted."""

    __tablename__ = "change_event"
    __table_args__ = (
        CheckConstraint(_in("channel", CHANNELS), name="channel"),
        CheckConstraint("entity IN ('institution', 'outlet_profile')", name="entity"),
        Index("ix_change_event_fi_code_at", "fi_code", "at"),
        Index("ix_change_event_xid_id", "xid", "id"),  # the open data feed's order
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    entity: Mapped[str] = mapped_column(String(16))
    fi_code: Mapped[str] = mapped_column(String(14))
    field_group: Mapped[str | None] = mapped_column(String(32))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    actor: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"), index=True)
    # False: an upload held for review (uploads.reviews), recorded but not applied.
    published: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # The writing transaction (migration 0018): the change feed's order, see open_data/feed.py.
    xid: Mapped[int] = mapped_column(XID8(), server_default=text("pg_current_xact_id()"))
