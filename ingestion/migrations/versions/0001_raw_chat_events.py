"""Raw chat events (time-partitioned), quarantine, load log and the ML output schema.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        create schema if not exists raw;
        create schema if not exists ml;

        -- Every chat event from every source. Partitioned by day on sent_at so an hour's
        -- replace touches one partition and old days can be detached or archived.
        create table raw.chat_events (
            event_id text not null,
            channel text not null,
            event_type text not null,
            sent_at timestamptz not null,
            source text not null,
            channel_id text,
            user_id text,
            user_login text,
            display_name text,
            body text,
            is_action boolean not null default false,
            emotes jsonb not null default '[]',
            badges jsonb not null default '{}',
            badge_info jsonb not null default '{}',
            bits integer not null default 0,
            is_first_message boolean not null default false,
            reply_parent_id text,
            source_channel_id text,
            notice_kind text,
            target_user_id text,
            target_user_login text,
            target_message_id text,
            duration_seconds integer,
            params jsonb not null default '{}',
            raw_payload text not null,
            loaded_at timestamptz not null default now(),
            primary key (channel, event_id, sent_at)
        ) partition by range (sent_at);
        create index on raw.chat_events (sent_at);
        comment on table raw.chat_events is
            'Every chat event from every source, once per (channel, event_id), with its payload.';

        -- Lines or records that could not be parsed, with the reason; nothing is dropped.
        create table raw.quarantine (
            partition_start timestamptz not null,
            source text not null,
            landing_file text not null,
            line_no integer,
            channel text,
            payload bytea not null,
            reason text not null,
            quarantined_at timestamptz not null default now()
        );
        create index on raw.quarantine (partition_start);

        -- One row per loaded hourly partition: what was read, loaded and rejected.
        create table raw.partition_loads (
            partition_start timestamptz primary key,
            files integer not null,
            events integer not null,
            rejects integer not null,
            loaded_at timestamptz not null default now()
        );

        -- Message sentiment written by the ML asset, replaced per hourly partition.
        create table ml.message_sentiment (
            channel text not null,
            event_id text not null,
            sent_at timestamptz not null,
            sentiment_score real not null,
            sentiment_label text not null,
            model_version text not null,
            primary key (channel, event_id)
        );
        create index on ml.message_sentiment (sent_at);
        """
    )


def downgrade() -> None:
    op.execute("drop table ml.message_sentiment; drop table raw.partition_loads;")
    op.execute("drop table raw.quarantine; drop table raw.chat_events;")
