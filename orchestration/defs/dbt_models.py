"""dbt models as Dagster assets, one op per layer and cadence.

Hourly groups take the partition window as `--vars`; ML assets sit between layers (message
scores before the intermediate models, window models before the marts), so each group is its
own op and the lineage in the UI is the real one.
"""

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.dbt import (
    clean_invocation_target,
    dbt_failure,
    ensure_manifest,
    rows_affected,
    translator,
    window_vars,
    with_rows_affected,
)
from orchestration.partitions import hourly_partitions, single_run_backfill
from orchestration.resources import WarehouseResource

MANIFEST = ensure_manifest()


def _dbt_group(
    name: str, select: str, exclude: str | None = None, *, hourly: bool
) -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=MANIFEST,
        select=select,
        exclude=exclude,
        dagster_dbt_translator=translator,
        partitions_def=hourly_partitions if hourly else None,
        backfill_policy=single_run_backfill if hourly else None,
        name=name,
    )
    def _assets(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
    ):
        warehouse.export_dbt_env()
        args = ["build"]
        if hourly:
            args += ["--vars", window_vars(context.partition_time_window)]
        invocation = dbt.cli(args, context=context, raise_on_error=False)
        # Held until dbt ends (seconds): the row counts come with its run results.
        events = list(invocation.stream())
        yield from with_rows_affected(events, rows_affected(invocation))
        failure = None if invocation.is_successful() else dbt_failure(invocation)
        clean_invocation_target(invocation)
        if failure is not None:
            raise failure

    return _assets


# Ops in run order: A raw staging -> ML message scores -> B hourly intermediate -> ML window
# models -> C hourly marts; daily: D intermediate -> ML stream models -> E marts. Each group is
# tagged in its models' config, so no op both feeds and reads an ML asset.
dbt_raw_staging = _dbt_group("dbt_raw_staging", "tag:raw_staging", hourly=True)
dbt_hourly_intermediate = _dbt_group(
    "dbt_hourly_intermediate", "tag:hourly_intermediate", hourly=True
)
dbt_hourly_marts = _dbt_group("dbt_hourly_marts", "tag:hourly_marts", hourly=True)
dbt_daily_intermediate = _dbt_group(
    "dbt_daily_intermediate", "tag:daily_intermediate", hourly=False
)
dbt_daily_marts = _dbt_group("dbt_daily_marts", "tag:daily_marts", hourly=False)
