"""Opt-outs by Twitch user id as well as login.

A chatter can rename their account: an opt-out held only by login would store their messages
again under the new name. The user ids seen with the login when it opted out (or was forgotten)
are kept beside it, and the loader drops events by either.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        alter table raw.chatter_optouts add column user_ids text[] not null default '{}';
        comment on column raw.chatter_optouts.user_ids is
            'Twitch user ids seen with this login when it opted out or was forgotten: their'
            ' events are not stored under any login.';
        """
    )


def downgrade() -> None:
    op.execute("alter table raw.chatter_optouts drop column user_ids")
