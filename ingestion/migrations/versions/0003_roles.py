"""Least-privilege roles: loader, transformer and reporter, and the chatter opt-out list.

Roles are cluster-wide, so they are created only when missing (several warehouses, or tests,
can share one server); grants are per database. `warehouse_reporter` reads `marts` and nothing
else: the report build switches to it with `set role`, so PostgreSQL enforces what the report
reads. dbt recreates mart tables on every build, hence the default privileges: they apply to
tables later created in `marts` by the user running this migration, which is the user dbt runs as.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ROLES = ("warehouse_loader", "warehouse_transformer", "warehouse_reporter")


def upgrade() -> None:
    for role in ROLES:
        # duplicate_object: another database on the same server created it concurrently.
        op.execute(
            f"""
            do $$
            begin
                if not exists (select from pg_roles where rolname = '{role}') then
                    create role {role} nologin;
                end if;
            exception when duplicate_object then null;
            end
            $$;
            """
        )
    op.execute(
        """
        -- Chatters who asked not to appear in published reports. The report build reads it
        -- (see reports/queries.py) and drops them from every page.
        create table if not exists raw.chatter_optouts (
            user_login text primary key,
            opted_out_at timestamptz not null default now()
        );

        -- dbt creates marts later; the schema must exist to carry grants and default privileges.
        create schema if not exists marts;

        -- Reporter: marts only, read-only, including tables dbt creates after this migration.
        grant usage on schema marts to warehouse_reporter;
        grant select on all tables in schema marts to warehouse_reporter;
        alter default privileges in schema marts grant select on tables to warehouse_reporter;

        -- Loader: writes raw (ingestion) and ml (model outputs), nothing downstream.
        grant usage on schema raw, ml to warehouse_loader;
        grant select, insert, update, delete on all tables in schema raw, ml to warehouse_loader;
        alter default privileges in schema raw, ml
            grant select, insert, update, delete on tables to warehouse_loader;

        -- Transformer: reads raw and ml; dbt's own schemas are granted by ownership when it runs.
        grant usage on schema raw, ml to warehouse_transformer;
        grant select on all tables in schema raw, ml to warehouse_transformer;
        alter default privileges in schema raw, ml grant select on tables to warehouse_transformer;
        """
    )


def downgrade() -> None:
    # Roles stay: they are cluster-wide and other databases on the server may use them.
    op.execute(
        """
        alter default privileges in schema raw, ml revoke all on tables from warehouse_loader;
        alter default privileges in schema raw, ml revoke all on tables from warehouse_transformer;
        alter default privileges in schema marts revoke all on tables from warehouse_reporter;
        revoke all on all tables in schema raw, ml from warehouse_loader, warehouse_transformer;
        revoke usage on schema raw, ml from warehouse_loader, warehouse_transformer;
        revoke all on all tables in schema marts from warehouse_reporter;
        revoke usage on schema marts from warehouse_reporter;
        drop table if exists raw.chatter_optouts;
        """
    )
