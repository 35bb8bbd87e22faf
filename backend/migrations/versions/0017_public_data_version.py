"""One row saying when the public outlet data last changed, kept by triggers; rate-limit
counters unlogged.

The public finder's GETs answer `ETag` and `Last-Modified` from it (web/public_http.py)
before running any search, so that a client revalidating its copy costs a single-row
read instead of the search it cached. Triggers, not application code, keep it: every
route that changes what the public sees (registry and profile imports, staff uploads,
reviews, error-report decisions, the demo loader, a console edit) writes `institution`,
`outlet_profile` or `outlet_photo`, and none can forget to bump it.

The bump is one UPDATE of the one row, in the writing transaction, at its commit: a reader
sees the new version exactly when it sees the new data, never before (a sequence or an
append-only table would let a reader see version N+1 while an earlier transaction holding
N is still to commit, and a stale answer would then be revalidated as current). Readers
read the version before the data, so a race can only cost an extra 200, never a stale 304.

At its commit, not at its first write: the first statement of a transaction that changes
public data marks it (a row in `public_data_pending`, whose deferred trigger does the
UPDATE when the transaction commits). Updating the row at once would hold its lock until
commit, making every writer of public data queue behind a running import, and a writer
that had locked an outlet's row first (profile changes do, FOR UPDATE) could deadlock with
one holding the version row and wanting that outlet.

`changed_at` never moves back, even if the clock does.

`rate_limit_bucket` becomes UNLOGGED: every public GET now counts a hit there
(core.ratelimit), and a counter needs no WAL. A crash empties it (clients get a fresh
window), and standbys do not have it, which they need not: only the primary counts.

Revision ID: 0017_public_data_version
Revises: 0016_bot_text_bigrams
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_public_data_version"
down_revision = "0016_bot_text_bigrams"
branch_labels = None
depends_on = None

TABLES = ("institution", "outlet_profile", "outlet_photo")

MARK = """
CREATE FUNCTION mark_public_data_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- once per transaction (a savepoint rolled back forgets the setting with the insert)
    IF coalesce(current_setting('branchfinder.public_data_marked', true), '')
            <> txid_current()::text THEN
        PERFORM set_config('branchfinder.public_data_marked', txid_current()::text, true);
        INSERT INTO public_data_pending (txid) VALUES (txid_current());
    END IF;
    RETURN NULL;
END
$$
"""

BUMP = """
CREATE FUNCTION bump_public_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- an upsert: a TRUNCATE of every table (tests, a reset) may have emptied it
    INSERT INTO public_data_version AS v (id, version, changed_at)
    VALUES (1, 1, clock_timestamp())
    ON CONFLICT (id) DO UPDATE
       SET version = v.version + 1,
           changed_at = greatest(clock_timestamp(), v.changed_at);
    DELETE FROM public_data_pending WHERE txid = NEW.txid;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "public_data_version",
        sa.Column("id", sa.SmallInteger(), server_default="1", nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_public_data_version_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_data_version")),
    )
    op.execute("INSERT INTO public_data_version (id, version, changed_at) VALUES (1, 1, now())")
    op.create_table(
        "public_data_pending",
        sa.Column("txid", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("txid", name=op.f("pk_public_data_pending")),
    )
    op.execute("ALTER TABLE rate_limit_bucket SET UNLOGGED")
    op.execute(MARK)
    op.execute(BUMP)
    op.execute(
        "CREATE CONSTRAINT TRIGGER public_data_pending_bumps_version "
        "AFTER INSERT ON public_data_pending DEFERRABLE INITIALLY DEFERRED "
        "FOR EACH ROW EXECUTE FUNCTION bump_public_data_version()"
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_marks_public_data "
            f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION mark_public_data_changed()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_marks_public_data ON {table}")
    op.execute("DROP TRIGGER public_data_pending_bumps_version ON public_data_pending")
    op.execute("DROP FUNCTION mark_public_data_changed()")
    op.execute("DROP FUNCTION bump_public_data_version()")
    op.drop_table("public_data_pending")
    op.drop_table("public_data_version")
    op.execute("ALTER TABLE rate_limit_bucket SET LOGGED")
