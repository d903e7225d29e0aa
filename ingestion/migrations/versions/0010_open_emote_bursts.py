"""Emote bursts still running at the end of an hour.

`ml.emote_bursts` holds a burst once it is over, so an hourly hype run could not see a burst that
fired in its hour and was still running when the hour ended. Each hourly bursts run now also
records those bursts as they stand at its end (`as_of_hour`), and the hour's hype run reads them
beside the finished ones. A finished burst keeps the id it had while running.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        create table ml.emote_bursts_open (
            as_of_hour timestamptz not null,
            burst_id text not null,
            channel text not null,
            emote_code text not null,
            started_at timestamptz not null,
            fired_at timestamptz not null,
            seen_until timestamptz not null,
            peak_at timestamptz not null,
            peak_uses integer not null,
            baseline_uses double precision not null,
            score double precision not null,
            model_version text not null,
            primary key (as_of_hour, burst_id),
            check (fired_at >= started_at and fired_at < seen_until),
            check (seen_until <= as_of_hour + interval '1 hour')
        );
        comment on table ml.emote_bursts_open is
            'Bursts still running at the end of as_of_hour, as that hour''s bursts run saw them.';
        comment on column ml.emote_bursts_open.seen_until is
            'Exclusive end of the burst''s minutes so far: its last minute with chat + 1 minute.';
        """
    )


def downgrade() -> None:
    op.execute("drop table ml.emote_bursts_open")
