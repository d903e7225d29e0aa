"""Helix metadata snapshots: users (extended), channel information, videos and chat badges.

Each table holds the current version of one Helix object per key, with the original answer as
`payload`. Loaders upsert (`ingestion.helix_metadata`): a row is rewritten, and its `fetched_at`
moved, only when Helix returned something different, so fetching the same data twice leaves the
table as it was. `raw.helix_users` exists since 0002; it gains the profile columns here.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        alter table raw.helix_users
            add column if not exists broadcaster_type text,
            add column if not exists description text,
            add column if not exists created_at timestamptz,
            add column if not exists profile_image_url text;
        create index if not exists helix_users_login_idx on raw.helix_users (login);
        comment on table raw.helix_users is
            'Twitch users (Get Users) as last fetched; one row per user id.';

        -- Get Channel Information: what the channel is set to now (game, title, language, tags).
        create table raw.helix_channels (
            broadcaster_id text primary key,
            broadcaster_login text not null,
            broadcaster_name text,
            broadcaster_language text,
            game_id text,
            game_name text,
            title text,
            tags text[] not null default '{}',
            payload jsonb not null default '{}',
            fetched_at timestamptz not null default now()
        );
        comment on table raw.helix_channels is
            'Channel information (Get Channel Information) as last fetched; one row per channel.';

        -- Get Videos: past broadcasts (archives), highlights and uploads. Twitch deletes old
        -- archives; rows stay here once seen, so stream ids keep their video.
        create table raw.helix_videos (
            video_id text primary key,
            user_id text not null,
            user_login text not null,
            title text,
            video_type text not null,
            created_at timestamptz,
            published_at timestamptz,
            duration_seconds integer,
            view_count bigint,
            stream_id text,
            language text,
            payload jsonb not null default '{}',
            fetched_at timestamptz not null default now()
        );
        create index on raw.helix_videos (user_id);
        create index on raw.helix_videos (stream_id);
        comment on table raw.helix_videos is
            'Videos (Get Videos) as last fetched; one row per video id, kept after deletion.';

        -- Get Global / Channel Chat Badges, one row per badge version. A fetch replaces the
        -- whole set of its scope (global, or one channel): versions Twitch dropped are deleted.
        create table raw.helix_badges (
            scope text not null check (scope in ('global', 'channel')),
            broadcaster_id text not null default '',  -- '' for global badges
            set_id text not null,
            version_id text not null,
            title text,
            description text,
            image_url_1x text,
            payload jsonb not null default '{}',
            fetched_at timestamptz not null default now(),
            primary key (scope, broadcaster_id, set_id, version_id),
            check ((scope = 'global') = (broadcaster_id = ''))
        );
        comment on table raw.helix_badges is
            'Chat badge versions (global and per channel) as last fetched.';
        """
    )


def downgrade() -> None:
    op.execute(
        """
        drop table raw.helix_badges; drop table raw.helix_videos; drop table raw.helix_channels;
        drop index if exists raw.helix_users_login_idx;
        alter table raw.helix_users
            drop column profile_image_url, drop column created_at,
            drop column description, drop column broadcaster_type;
        """
    )
