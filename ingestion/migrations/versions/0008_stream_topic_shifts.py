"""Topic shift between a channel's consecutive streams.

`ml.stream_topic_shifts` holds, per stream, the Jensen-Shannon distance between its chat's term
distribution and that of the channel's previous stream, so dbt can set it beside the games of
both streams (does chat talk about something else when the game changes?).

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        create table ml.stream_topic_shifts (
            stream_id text primary key,
            channel text not null,
            first_chat_minute_at timestamptz not null,
            previous_stream_id text,
            shift_from_previous_stream double precision
                check (shift_from_previous_stream between 0 and 1),
            model_version text not null
        );
        comment on table ml.stream_topic_shifts is
            'Jensen-Shannon distance between the chat terms of a stream and of the channel''s'
            ' previous stream.';
        """
    )


def downgrade() -> None:
    op.execute("drop table ml.stream_topic_shifts")
