"""Stored weekly hype models.

The hype model that scores a UTC week is fitted once, on the four weeks before it, and kept here,
so an hourly run reads a few hours of chat instead of refitting on a month of it. Each row records
what it was fitted on (`history_fingerprint`, from `raw.partition_loads`); when that history
changes (a late import, a reloaded hour) the model is fitted again.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        create table ml.hype_models (
            week_start_at timestamptz not null,
            model_version text not null,
            history_fingerprint text not null,
            trained_at timestamptz not null default now(),
            training_windows integer not null,
            training_positives integer not null,
            training_channels integer not null,
            -- A pickled ml.hype.HypeModel; null when history had too few hype minutes to fit
            -- one (the week is then scored by the baseline).
            model bytea,
            primary key (week_start_at, model_version)
        );
        comment on table ml.hype_models is
            'Hype model per UTC week, fitted on the four weeks before it.';
        """
    )


def downgrade() -> None:
    op.execute("drop table ml.hype_models;")
