"""Indexes for finding the chat bot's words (Chinese place words) in names and addresses.

pg_trgm cannot serve `name ILIKE '%头桥%'`: a two-character pattern yields no
trigram inside a word, so PostgreSQL read every row (0.7 s at 200,000 outlets,
seconds at a million), and three or four characters give one or two trigrams
that are each shared by many names. Chinese place words are two to four
characters long. `text_bigrams(text)` is the set of overlapping two-character
pieces of the lower-cased text (新街口 → {新街, 街口}); a name containing a word
contains all the word's bigrams, so `text_bigrams(name) @> text_bigrams(word)`
is a necessary condition that GIN indexes answer from one posting list per
bigram; geo.search (Filters.words) tests the words exactly on the rows they
select. text_bigrams itself is slow, about 0.1 ms a call (a SQL function with a
subquery is never inlined), so queries use it only where an index answers it.

Words are ranked as the chat bot reads them: first the outlets named after the
word (新街口支行 for 新街口: the name without its unit word ends with it), then
other names containing it, then addresses. `name_stem(name)` is the name without
one unit word at its end (支行, 分理处, ...); a B-tree index on its reverse finds
the names ending with a word as a prefix range (reverse(stem) LIKE '口街新%'), so
a common word's first page is found without ranking its thousands of matches.
name_stem is a plain SQL expression that the planner inlines: about a
microsecond a row where it is evaluated.

Revision ID: 0016_bot_text_bigrams
Revises: 0015_pro_quality
Create Date: 2026-12-10
"""

from __future__ import annotations

from alembic import op

revision = "0016_bot_text_bigrams"
down_revision = "0015_pro_quality"
branch_labels = None
depends_on = None

COLUMNS = ("name", "address", "short_name")
# The unit words that end outlet names, as bot.engine's _UNIT (two and three characters).
UNITS_2 = "'支行', '分行'"
UNITS_3 = "'营业部', '支公司', '分公司', '分理处', '营业所', '储蓄所'"


def upgrade() -> None:
    # IMMUTABLE (it depends on nothing but its argument) so it may be indexed;
    # lower() as ILIKE does, so `x ILIKE '%w%'` implies the bigram containment.
    op.execute(
        """
        CREATE FUNCTION text_bigrams(value text) RETURNS text[]
            LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
            RETURN ARRAY(
                SELECT DISTINCT substr(lower(value), i, 2)
                FROM generate_series(1, char_length(value) - 1) AS i
            )
        """
    )
    for column in COLUMNS:
        op.execute(
            f"CREATE INDEX ix_institution_{column}_bigrams ON institution "
            f"USING gin (text_bigrams({column}))"
        )
    # Not STRICT and written as a SELECT: only such a SQL function is inlined.
    op.execute(
        f"""
        CREATE FUNCTION name_stem(name text) RETURNS text
            LANGUAGE sql IMMUTABLE PARALLEL SAFE
            AS $$
            SELECT CASE
                WHEN right(name, 2) IN ({UNITS_2}) THEN left(name, -2)
                WHEN right(name, 3) IN ({UNITS_3}) THEN left(name, -3)
                ELSE name
            END
            $$
        """
    )
    op.execute(
        "CREATE INDEX ix_institution_name_stem_reversed ON institution "
        "(reverse(name_stem(name)) text_pattern_ops)"
    )
    op.execute("ANALYZE institution")  # statistics of the indexed expressions, for the planner


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_institution_name_stem_reversed")
    op.execute("DROP FUNCTION IF EXISTS name_stem(text)")
    for column in COLUMNS:
        op.execute(f"DROP INDEX IF EXISTS ix_institution_{column}_bigrams")
    op.execute("DROP FUNCTION IF EXISTS text_bigrams(text)")
