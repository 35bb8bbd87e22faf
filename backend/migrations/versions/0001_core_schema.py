"""Core schema: PostGIS and pg_trgm, institutions, outlet profiles, change events, batches.

Revision ID: 0001_core_schema
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001_core_schema"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")

    op.create_table(
        "import_batch",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source_name", sa.Text(), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("receipt", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.CheckConstraint("kind IN ('registry', 'profiles')", name=op.f("ck_import_batch_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batch")),
    )

    op.create_table(
        "institution",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("fi_code", sa.String(length=14), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("short_name", sa.Text(), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("legal_entity_code", sa.String(length=14), nullable=False),
        sa.Column("parent_code", sa.String(length=14), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("postcode", sa.String(length=6), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("licence_no", sa.String(length=15), nullable=True),
        sa.Column("uscc", sa.String(length=18), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("established_on", sa.Date(), nullable=True),
        sa.Column("revoked_on", sa.Date(), nullable=True),
        sa.Column("batch_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "level IN ('head_office', 'branch', 'sub_branch', 'outlet')",
            name=op.f("ck_institution_level"),
        ),
        sa.CheckConstraint("status IN ('active', 'revoked')", name=op.f("ck_institution_status")),
        sa.CheckConstraint("char_length(fi_code) = 14", name=op.f("ck_institution_fi_code_length")),
        sa.CheckConstraint(
            "region_code ~ '^[0-9]{6}$'", name=op.f("ck_institution_region_code_format")
        ),
        sa.CheckConstraint(
            "(status = 'revoked') = (revoked_on IS NOT NULL)",
            name=op.f("ck_institution_revoked_on_iff_revoked"),
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batch.id"], name=op.f("fk_institution_batch_id_import_batch")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institution")),
        sa.UniqueConstraint("fi_code", name=op.f("uq_institution_fi_code")),
    )
    op.create_index(op.f("ix_institution_legal_entity_code"), "institution", ["legal_entity_code"])
    op.create_index(op.f("ix_institution_parent_code"), "institution", ["parent_code"])
    op.create_index(
        "ix_institution_region_code_prefix",
        "institution",
        ["region_code"],
        postgresql_ops={"region_code": "text_pattern_ops"},
    )

    op.create_table(
        "outlet_profile",
        sa.Column("institution_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "position",
            geoalchemy2.types.Geography(
                geometry_type="POINT",
                srid=4326,
                spatial_index=False,
                from_text="ST_GeogFromText",
                name="geography",
            ),
            nullable=True,
        ),
        sa.Column("position_coord_system", sa.String(length=5), nullable=True),
        sa.Column("position_accuracy_m", sa.Float(), nullable=True),
        sa.Column("business_types", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("opening_hours", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("service_links", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("provenance", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "position_coord_system IS NULL OR position_coord_system IN ('wgs84', 'gcj02', 'bd09')",
            name=op.f("ck_outlet_profile_position_coord_system"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_outlet_profile_institution_id_institution"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("institution_id", name=op.f("pk_outlet_profile")),
    )
    op.create_index(
        "ix_outlet_profile_position", "outlet_profile", ["position"], postgresql_using="gist"
    )

    op.create_table(
        "change_event",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("fi_code", sa.String(length=14), nullable=False),
        sa.Column("field_group", sa.String(length=32), nullable=True),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            "channel IN ('registry_sync', 'staff_upload', 'pro_update', 'public_report', 'system')",
            name=op.f("ck_change_event_channel"),
        ),
        sa.CheckConstraint(
            "entity IN ('institution', 'outlet_profile')", name=op.f("ck_change_event_entity")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batch.id"], name=op.f("fk_change_event_batch_id_import_batch")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_event")),
    )
    op.create_index(op.f("ix_change_event_batch_id"), "change_event", ["batch_id"])
    op.create_index("ix_change_event_fi_code_at", "change_event", ["fi_code", "at"])

    # History must not be rewritten: refuse UPDATE and DELETE on change events.
    op.execute(
        """
        CREATE FUNCTION change_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'change_event is append-only (% refused)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER change_event_append_only BEFORE UPDATE OR DELETE ON change_event "
        "FOR EACH ROW EXECUTE FUNCTION change_event_append_only()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS change_event_append_only ON change_event")
    op.execute("DROP FUNCTION IF EXISTS change_event_append_only()")
    op.drop_table("change_event")
    op.drop_table("outlet_profile")
    op.drop_table("institution")
    op.drop_table("import_batch")
    # The extensions stay: other databases objects may depend on them.
