"""The open data change feed: each change event records the transaction that wrote it.

`change_event.id` is taken from its identity at insert, but transactions commit in
another order: a reader paging by `id > cursor` would pass over an event whose
transaction, having taken a smaller id, commits after a larger id was served. The feed
(`open_data/feed.py`) therefore orders events by `(xid, id)`, where `xid` is the
writing transaction's 64-bit id (`pg_current_xact_id()`, the top-level transaction's even
inside a savepoint), and serves only events whose `xid` is below the oldest transaction
still in progress (`pg_snapshot_xmin(pg_current_snapshot())`): below that horizon no
transaction can still commit, so the set of served events never grows behind a cursor.

Existing rows get xid 0: they were all committed before this migration ran, so they
sort first, in id order. The constant default makes adding the column a catalogue
change only; the volatile default is set afterwards and applies to new rows.

Revision ID: 0018_change_feed_xid
Revises: 0017_public_data_version
Create Date: 2026-12-10
"""

from __future__ import annotations

from alembic import op

revision = "0018_change_feed_xid"
down_revision = "0017_public_data_version"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE change_event ADD COLUMN xid xid8 NOT NULL DEFAULT '0'")
    op.execute("ALTER TABLE change_event ALTER COLUMN xid SET DEFAULT pg_current_xact_id()")
    op.create_index("ix_change_event_xid_id", "change_event", ["xid", "id"])


def downgrade() -> None:
    op.drop_index("ix_change_event_xid_id", table_name="change_event")
    op.drop_column("change_event", "xid")
