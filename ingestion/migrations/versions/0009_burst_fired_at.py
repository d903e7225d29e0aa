"""When each emote burst became detectable.

A burst's `started_at` is the first minute of its run, which is only known to be a burst once a
later minute fires (crosses the onset threshold). Features that must use only what was known at
a minute (hype's `burst_active`) count a burst from `fired_at`. Rows written before this
revision get their peak minute as the nearest stand-in (a burst usually fires at or before its
peak); rerunning the bursts asset over recent weeks replaces them with detected values.
`closed_at` may now also be the minute the session gap ran out without chat.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        alter table ml.emote_bursts add column fired_at timestamptz;
        update ml.emote_bursts set fired_at = peak_at;
        alter table ml.emote_bursts alter column fired_at set not null;
        alter table ml.emote_bursts add constraint emote_bursts_fired_within
            check (fired_at >= started_at and fired_at < ended_at);
        comment on column ml.emote_bursts.fired_at is
            'First minute of the burst that crossed the onset threshold: when it became known.';
        comment on column ml.emote_bursts.closed_at is
            'First minute with chat after the burst, or 30 minutes after it without chat (the'
            ' stream ended): the hourly partition holding it owns the row.';
        """
    )


def downgrade() -> None:
    op.execute("alter table ml.emote_bursts drop column fired_at")
