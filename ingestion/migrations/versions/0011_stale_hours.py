"""Hours built from inputs that changed after they were built.

Two changes reach an hour already built without loading it:
- a message came twice, from sources whose clocks put the copies either side of the hour's edge,
  and the load of the neighbouring hour kept the better copy, deleting the other from this hour;
- an emote catalog snapshot loaded later covers the hour (a channel's first BTTV/FFZ/7TV set
  applies to its whole history), so its messages match emotes they did not when built.
The change notes the hour here (`stale_since`), a sensor runs it again, and the hour's own load
clears the note.

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
        alter table raw.partition_loads add column stale_since timestamptz;
        comment on column raw.partition_loads.stale_since is
            'When an input of this built hour changed without loading it (a neighbouring load'
            ' dropped a copy of an event, a catalog snapshot now covers it); null once this hour'
            ' is loaded again.';
        create index partition_loads_stale on raw.partition_loads (partition_start)
            where stale_since is not null;
        """
    )


def downgrade() -> None:
    op.execute("alter table raw.partition_loads drop column stale_since")
