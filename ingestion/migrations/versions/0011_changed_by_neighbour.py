"""Hours whose rows a neighbouring hour's load changed after they were built.

A message can reach the warehouse twice, from sources whose clocks put the copies either side of
an hour's edge. The load that sees both keeps the better copy, which can mean deleting the other
from an hour already built: that hour's scores and marts still count it. The load notes the hour
here, a sensor runs the hour again, and the hour's own load clears the note.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        alter table raw.partition_loads add column changed_by_neighbour_at timestamptz;
        comment on column raw.partition_loads.changed_by_neighbour_at is
            'When a neighbouring hour''s load deleted a worse copy of an event from this hour;'
            ' null once this hour is loaded again.';
        create index partition_loads_changed_by_neighbour on raw.partition_loads (partition_start)
            where changed_by_neighbour_at is not null;
        """
    )


def downgrade() -> None:
    op.execute("alter table raw.partition_loads drop column changed_by_neighbour_at")
