"""Emote catalog snapshots, Helix metadata, collector gaps and every ML output table.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        -- Emote sets as they were on a date, so a message is matched against the sets valid then.
        create table raw.emote_catalog_snapshots (
            snapshot_date date not null,
            provider text not null,      -- twitch, bttv, ffz, 7tv
            scope text not null,         -- global or channel
            channel text not null default '',  -- '' for global sets
            emote_id text not null,
            code text not null,
            payload jsonb not null default '{}',
            loaded_at timestamptz not null default now(),
            primary key (snapshot_date, provider, scope, channel, emote_id)
        );

        create table raw.helix_streams (
            stream_id text primary key,
            channel text not null,
            channel_id text,
            title text,
            game_name text,
            started_at timestamptz not null,
            ended_at timestamptz,
            payload jsonb not null default '{}',
            fetched_at timestamptz not null default now()
        );

        create table raw.helix_users (
            user_id text primary key,
            login text not null,
            display_name text,
            payload jsonb not null default '{}',
            fetched_at timestamptz not null default now()
        );

        -- Time the live collector could not cover (disconnects, restarts).
        create table raw.collector_gaps (
            channel text not null,
            gap_start timestamptz not null,
            gap_end timestamptz not null,
            reason text not null,
            primary key (channel, gap_start)
        );

        create table ml.message_toxicity (
            channel text not null,
            event_id text not null,
            sent_at timestamptz not null,
            toxicity_probability real not null,
            is_toxic boolean not null,
            model_version text not null,
            primary key (channel, event_id)
        );
        create index on ml.message_toxicity (sent_at);

        create table ml.emote_bursts (
            burst_id text primary key,
            channel text not null,
            emote_code text not null,
            started_at timestamptz not null,
            ended_at timestamptz not null,
            peak_at timestamptz not null,
            peak_uses integer not null,
            baseline_uses double precision not null,
            score double precision not null,
            model_version text not null
        );
        create index on ml.emote_bursts (started_at);

        create table ml.hype_predictions (
            channel text not null,
            window_start_at timestamptz not null,
            hype_probability double precision not null,
            is_hype_label boolean,
            model_version text not null,
            primary key (channel, window_start_at)
        );

        create table ml.chatter_segments (
            channel text not null,
            user_login text not null,
            segment text not null,
            segment_confidence double precision not null,
            model_version text not null,
            primary key (channel, user_login)
        );

        create table ml.chatter_stream_segments (
            stream_id text not null,
            channel text not null,
            user_login text not null,
            segment text not null,
            model_version text not null,
            primary key (stream_id, user_login)
        );

        create table ml.stream_topics (
            channel text not null,
            stream_id text not null,
            segment_start_at timestamptz not null,
            segment_end_at timestamptz not null,
            topic_rank integer not null,
            topic_label text not null,
            top_terms jsonb not null,
            weight double precision not null,
            shift_from_previous double precision,
            model_version text not null,
            primary key (stream_id, segment_start_at, topic_rank)
        );

        create table ml.stream_patterns (
            stream_id text primary key,
            channel text not null,
            activity_deciles jsonb not null,
            pattern text not null,
            model_version text not null
        );
        """
    )


def downgrade() -> None:
    op.execute(
        """
        drop table ml.stream_patterns; drop table ml.stream_topics;
        drop table ml.chatter_stream_segments; drop table ml.chatter_segments;
        drop table ml.hype_predictions; drop table ml.emote_bursts; drop table ml.message_toxicity;
        drop table raw.collector_gaps; drop table raw.helix_users; drop table raw.helix_streams;
        drop table raw.emote_catalog_snapshots;
        """
    )
