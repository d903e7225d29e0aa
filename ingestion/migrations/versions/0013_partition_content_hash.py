"""A digest of each loaded hour's events.

An hour whose events changed (a late landing file, a withdrawn one, a changed one with the same
counts) must reach the built hours that read it: the hours after it, which look back into it, and
the weeks whose hype and moderation models were fitted on it. Counts cannot tell such a change; the
digest of the stored rows can. Hours already loaded get theirs here, from their stored rows (one
pass over raw.chat_events), so an upgrade's first reload of an unchanged hour changes nothing.

Revision ID: 0013
Revises: 0012
"""

from alembic import op

from ingestion.load import FILL_CONTENT_HASHES

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        alter table raw.partition_loads add column content_hash text;
        comment on column raw.partition_loads.content_hash is
            'md5 over the md5 of each event stored for this hour (sorted), as of its last load;'
            ' null: no events.';
        """
    )
    op.execute(FILL_CONTENT_HASHES)


def downgrade() -> None:
    op.execute("alter table raw.partition_loads drop column content_hash")
