"""Moderation risk: what this warehouse's moderators act on.

`ml.moderation_models` keeps the model that scores a UTC week, fitted once on the four weeks
before it from the warehouse's own timeouts, bans and deletions (weak labels), over every
channel that had moderation, with the channels it scores (the most moderated). Like
`ml.hype_models`, each row records what it was fitted on (`history_fingerprint`) and is refitted
when that history changes. `ml.message_moderation_risk` holds each scored message's probability
of being moderated.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        create table ml.moderation_models (
            week_start_at timestamptz not null,
            model_version text not null,
            history_fingerprint text not null,
            trained_at timestamptz not null default now(),
            training_messages integer not null,
            training_positives integer not null,
            training_channels integer not null,
            scored_channels text[] not null,
            -- A pickled ml.moderation.ModerationModel; null when the history had too few
            -- moderated messages to fit one.
            model bytea,
            primary key (week_start_at, model_version)
        );
        comment on table ml.moderation_models is
            'Moderation model per UTC week, fitted on the four weeks before it.';

        create table ml.message_moderation_risk (
            channel text not null,
            event_id text not null,
            sent_at timestamptz not null,
            moderation_probability real not null check (moderation_probability between 0 and 1),
            model_version text not null,
            primary key (channel, event_id)
        );
        create index on ml.message_moderation_risk (sent_at);
        comment on table ml.message_moderation_risk is
            'Probability that a message gets its author timed out, banned or the message deleted,'
            ' learned from this warehouse''s own moderation.';
        """
    )


def downgrade() -> None:
    op.execute("drop table ml.message_moderation_risk; drop table ml.moderation_models;")
