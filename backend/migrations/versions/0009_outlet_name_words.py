"""The words of outlet names (roads, districts, landmarks), counted, for the chat bot.

People mistype the place part of a branch name ("新街扣" for 新街口). To correct
it the bot compares what it did not recognise with the words that really occur
in outlet names. `outlet_name_word` holds them: each visible outlet's name
without its legal entity's name, split at the unit words (支行, 分理处, 营业部,
...) and ordinals, with how many names contain each. A few thousand rows for a
province; the imports refresh it (geo.landmarks), like outlet_grid.

Revision ID: 0009_outlet_name_words
Revises: 0008_bot_conversation
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0009_outlet_name_words"
down_revision = "0008_bot_conversation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        r"""
        CREATE MATERIALIZED VIEW outlet_name_word AS
        SELECT word, count(*)::integer AS n
        FROM (
            SELECT regexp_replace(i.name, '^.*(股份有限公司|有限责任公司|有限公司)', '') AS rest
            FROM institution i JOIN outlet_profile o ON o.institution_id = i.id
            WHERE i.status = 'active' AND o.position IS NOT NULL
        ) AS names,
        regexp_split_to_table(
            names.rest,
            '[一二三四五六七八九十]?(分理处|储蓄所|营业所)|支行|分行|营业部|营业室|支公司|分公司'
            '|营销服务部|服务部|第[0-9一二三四五六七八九十]+|[（）()·[:space:]]'
        ) AS word
        WHERE char_length(word) BETWEEN 2 AND 12
        GROUP BY word
        """
    )
    op.execute("CREATE UNIQUE INDEX ix_outlet_name_word_word ON outlet_name_word (word)")


def downgrade() -> None:
    op.execute("DROP MATERIALIZED VIEW IF EXISTS outlet_name_word")
