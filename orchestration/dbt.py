"""dagster-dbt wiring: the dbt project, its manifest and one translator for the whole graph."""

from __future__ import annotations

import fcntl
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliInvocation,
    DbtProject,
)

from twitch_warehouse.settings import PROJECT_ROOT

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)

# dbt sources are the Dagster assets that write them.
SOURCE_ASSET_KEYS = {
    ("raw", "emote_catalog_snapshots"): dg.AssetKey(["raw", "emote_catalogs"]),
}
LAYER_OWNERS = {
    "staging": "team:ingestion",
    "intermediate": "team:analytics",
    "marts": "team:analytics",
}


def ensure_manifest(project_dir: Path = DBT_PROJECT_DIR) -> Path:
    """Parse the dbt project when its manifest is missing or older than any model or macro.

    Processes that load the definitions at once (test workers, the webserver and the daemon)
    take turns: one parses, the others wait and then read the whole manifest, never half of it.
    """
    manifest = project_dir / "target" / "manifest.json"
    manifest.parent.mkdir(exist_ok=True)
    sources = [*project_dir.glob("models/**/*"), *project_dir.glob("macros/**/*"),
               project_dir / "dbt_project.yml", *project_dir.glob("tests/**/*")]  # fmt: skip
    newest = max((p.stat().st_mtime for p in sources if p.is_file()), default=0.0)
    with (manifest.parent / ".manifest.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not manifest.exists() or manifest.stat().st_mtime < newest:
            dbt = Path(sys.executable).with_name("dbt")
            subprocess.run(
                [str(dbt), "parse", "--quiet", "--project-dir", str(project_dir),
                 "--profiles-dir", str(project_dir)],
                check=True, cwd=project_dir,
            )  # fmt: skip
    return manifest


class WarehouseTranslator(DagsterDbtTranslator):
    """Models keyed by schema and name, grouped by layer; sources mapped to their writers."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            key = (dbt_resource_props["source_name"], dbt_resource_props["name"])
            # Every other source is the table its writer asset is named after.
            return SOURCE_ASSET_KEYS.get(key, dg.AssetKey(list(key)))
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            return dg.AssetKey([self._layer(dbt_resource_props), dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return self._layer(dbt_resource_props)

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return [LAYER_OWNERS.get(self._layer(dbt_resource_props), "team:analytics")]

    @staticmethod
    def _layer(props: Mapping[str, Any]) -> str:
        fqn = props.get("fqn", [])
        for layer in ("staging", "intermediate", "marts"):
            if layer in fqn:
                return layer
        return props.get("schema") or "dbt"


translator = WarehouseTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def window_vars(window: dg.TimeWindow) -> str:
    """The partition window as dbt --vars (JSON is valid YAML)."""
    import json

    return json.dumps(
        {"window_start": window.start.isoformat(), "window_end": window.end.isoformat()}
    )


def failed_tests_only(run_results: Mapping[str, Any] | None) -> list[str]:
    """The failed data and unit tests, when they are the build's only failures.

    A test that ran and failed (status `fail`) fails again on the same data, so retrying the
    build only repeats it. An `error` (a model that did not build, a test that could not run)
    may be a dropped connection or a restarted database, so any error returns no names and the
    build is retried.
    """
    results = (run_results or {}).get("results", [])
    if any(result["status"] == "error" for result in results):
        return []
    return sorted(result["unique_id"] for result in results if result["status"] == "fail")


def dbt_failure(invocation: DbtCliInvocation) -> dg.Failure:
    """The failed build as a Dagster failure that the retry policy skips when retrying is futile."""
    try:
        run_results = invocation.get_artifact("run_results.json")
    except FileNotFoundError:  # dbt stopped before writing results: nothing says it is futile
        run_results = None
    failed_tests = failed_tests_only(run_results)
    return dg.Failure(
        description=str(invocation.get_error()),
        metadata={"failed_tests": failed_tests},
        allow_retries=not failed_tests,
    )


# Failed invocations' folders kept for a person to read (dbt.log, run_results.json).
KEPT_FAILED_INVOCATIONS = 20


def clean_invocation_target(invocation: DbtCliInvocation) -> None:
    """Remove a finished invocation's own target folder (about 5 MB: manifest, compiled SQL,
    dbt.log) once Dagster has its events, or the hourly schedule fills the disk. A failed
    one stays for a person to read; only the newest few failed ones are kept."""
    import shutil

    folder = invocation.target_path
    if invocation.is_successful():
        shutil.rmtree(folder, ignore_errors=True)
        return
    # Invocation folders sit beside dbt's own (`compiled`, `run`) and are named by op and run.
    failed = sorted(
        (p for p in folder.parent.iterdir() if p.is_dir() and p.name.startswith("dbt_")),
        key=lambda p: p.stat().st_mtime,
    )
    for old in failed[:-KEPT_FAILED_INVOCATIONS]:
        shutil.rmtree(old, ignore_errors=True)


def rows_affected(invocation: DbtCliInvocation) -> dict[str, int]:
    """Rows each model wrote, by unique id, as the database reported them (dbt's adapter
    response): the window's rows for an incremental model, all rows for a table. Views and
    tests report none."""
    try:
        results = invocation.get_artifact("run_results.json").get("results", [])
    except FileNotFoundError:
        return {}
    counts: dict[str, int] = {}
    for result in results:
        affected = (result.get("adapter_response") or {}).get("rows_affected")
        if result["unique_id"].startswith("model.") and isinstance(affected, int) and affected >= 0:
            counts[result["unique_id"]] = affected
    return counts


def with_rows_affected(events: list[Any], counts: Mapping[str, int]) -> list[Any]:
    """The dbt op's events, each model's output carrying `rows_affected`."""
    out = []
    for event in events:
        if isinstance(event, dg.Output):
            unique_id = event.metadata.get("unique_id")
            count = counts.get(str(getattr(unique_id, "value", unique_id)))
            if count is not None:
                event = event.with_metadata(
                    {**event.metadata, "rows_affected": dg.MetadataValue.int(count)}
                )
        out.append(event)
    return out
