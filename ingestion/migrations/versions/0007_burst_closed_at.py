"""Emote bursts belong to the hour in which they were seen to end.

A burst that runs across an hour boundary is only complete once chat after it has been seen, so
each row records `closed_at`, the first minute with chat after the burst, and the hourly
partition containing `closed_at` owns (writes and replaces) the row. Rows written before this
revision get their exclusive end as `closed_at`.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        alter table ml.emote_bursts add column closed_at timestamptz;
        update ml.emote_bursts set closed_at = ended_at;
        alter table ml.emote_bursts alter column closed_at set not null;
        create index on ml.emote_bursts (closed_at);
        comment on column ml.emote_bursts.closed_at is
            'First minute with chat after the burst: the hourly partition holding it owns the row.';
        """
    )


def downgrade() -> None:
    op.execute("alter table ml.emote_bursts drop column closed_at")
