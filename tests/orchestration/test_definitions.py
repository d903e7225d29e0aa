"""The Dagster definitions: translator keys and groups, jobs, and a graph without op cycles."""

from __future__ import annotations

import re

import dagster as dg
import pytest

from orchestration.dbt import translator
from orchestration.definitions import defs


def _model(name: str, layer: str) -> dict:
    return {"resource_type": "model", "name": name, "fqn": ["twitch_warehouse", layer, name],
            "schema": layer}  # fmt: skip


def test_translator_keys_models_by_layer_and_sources_by_their_writer() -> None:
    props = _model("fct_chat_windows", "marts")
    assert translator.get_asset_key(props) == dg.AssetKey(["marts", "fct_chat_windows"])
    assert translator.get_group_name(props) == "marts"
    assert translator.get_owners(_model("stg_raw__chat_events", "staging")) == ["team:ingestion"]
    source = {"resource_type": "source", "source_name": "raw", "name": "chat_events"}
    assert translator.get_asset_key(source) == dg.AssetKey(["raw", "chat_events"])
    catalog = {"resource_type": "source", "source_name": "raw", "name": "emote_catalog_snapshots"}
    assert translator.get_asset_key(catalog) == dg.AssetKey(["raw", "emote_catalogs"])


def test_every_dbt_source_is_written_by_a_project_asset() -> None:
    graph = defs().resolve_asset_graph()
    materializable = {k for k in graph.get_all_asset_keys() if graph.get(k).is_materializable}
    external = {k.to_user_string() for k in graph.get_all_asset_keys()} - {
        k.to_user_string() for k in materializable
    }
    assert external == set()


def test_hourly_job_runs_each_dbt_group_once() -> None:
    """No op both feeds and reads an ML asset, so Dagster need not split dbt into subset steps."""
    job = defs().resolve_job_def("hourly_chat")
    steps = [node.name for node in job.graph.node_defs]
    dbt_steps = sorted(s for s in steps if s.startswith("dbt_"))
    assert dbt_steps == ["dbt_hourly_intermediate", "dbt_hourly_marts", "dbt_raw_staging"]
    daily = defs().resolve_job_def("daily_report")
    assert sorted(n.name for n in daily.graph.node_defs if n.name.startswith("dbt_")) == [
        "dbt_daily_intermediate", "dbt_daily_marts",
    ]  # fmt: skip


def test_schedules_cover_hourly_chat_daily_report_and_catalogs() -> None:
    schedules = {s.name: s.cron_schedule for s in defs().schedules or []}  # type: ignore[union-attr]
    assert schedules == {
        "hourly_chat_schedule": "5 * * * *",
        "daily_report_schedule": "30 6 * * *",
        "emote_catalogs_schedule": "0 0 * * *",
    }


def test_schedules_and_sensors_run_whenever_the_daemon_does() -> None:
    """A schedule left stopped by default would publish a daily report of chat never loaded."""
    running = dg.DefaultScheduleStatus.RUNNING
    assert {s.name: s.default_status for s in defs().schedules or []} == {  # type: ignore[union-attr]
        "hourly_chat_schedule": running,
        "daily_report_schedule": running,
        "emote_catalogs_schedule": running,
    }
    sensors = {s.name: (s.default_status, s.job_name) for s in defs().sensors or []}  # type: ignore[union-attr]
    assert sensors == {
        "stale_hours_sensor": (dg.DefaultSensorStatus.RUNNING, "hourly_chat"),
        "live_streams_sensor": (dg.DefaultSensorStatus.RUNNING, "live_streams"),
        "landed_hours_sensor": (dg.DefaultSensorStatus.RUNNING, "hourly_chat"),
    }


def test_live_streams_are_asked_for_every_ten_minutes_only_with_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from orchestration.defs import jobs
    from orchestration.resources import TwitchApiResource

    def run_keys(twitch: TwitchApiResource, at: float) -> list[str | None]:
        monkeypatch.setattr(jobs.time, "time", lambda: at)
        context = dg.build_sensor_context(resources={"twitch": twitch})
        out = list(jobs.live_streams_sensor(context) or [])
        return [r.run_key if isinstance(r, dg.RunRequest) else None for r in out]

    assert run_keys(TwitchApiResource(), 1_200.0) == [None]  # a SkipReason
    configured = TwitchApiResource(client_id="id", client_secret="secret")
    # One run key per ten-minute slot: evaluations within a slot ask for one run.
    assert (
        run_keys(configured, 1_200.0)
        == run_keys(configured, 1_799.0)
        != run_keys(configured, 1_800.0)
    )
    assert run_keys(configured, 1_800.0)[0] is not None


def test_twitch_secrets_reach_dagster_only_as_environment_variable_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from orchestration.resources import twitch_api_resource
    from twitch_warehouse.settings import get_settings

    monkeypatch.delenv("TWITCH_CLIENT_ID", raising=False)
    monkeypatch.delenv("TWITCH_CLIENT_SECRET", raising=False)
    monkeypatch.setenv("WAREHOUSE_HOME", "/nonexistent-home")  # no .env credentials either
    get_settings.cache_clear()
    try:
        assert not twitch_api_resource().configured

        monkeypatch.setenv("TWITCH_CLIENT_ID", "app-id")
        monkeypatch.setenv("TWITCH_CLIENT_SECRET", "s3cr3t-value")
        resource = twitch_api_resource()
        assert resource.client_secret == dg.EnvVar("TWITCH_CLIENT_SECRET")
        assert "s3cr3t-value" not in repr(resource)  # what the UI and the run config show
        live = resource.process_config_and_initialize()  # what an asset receives at run time
        assert live.configured and live.client_secret == "s3cr3t-value"
    finally:
        get_settings.cache_clear()


def test_the_report_reads_and_counts_every_mart() -> None:
    """The report site's dependencies and its data page's rows-per-mart table list every mart
    dbt builds: a new mart cannot be left out of either."""
    import re

    from orchestration.defs.reports import MARTS_READ
    from reports.queries import load_sql

    graph = defs().resolve_asset_graph()
    marts = {key.path[-1] for key in graph.get_all_asset_keys() if key.path[0] == "marts"}
    assert sorted(key.path[-1] for key in MARTS_READ) == sorted(marts)
    counted = re.findall(
        r"select '(\w+)'(?: as mart)?, count\(\*\)(?: as row_count)? from marts\.(\w+)",
        load_sql("mart_rows"),
    )
    assert all(label == table for label, table in counted), counted
    assert sorted(table for _, table in counted) == sorted(marts)


def test_stream_level_ml_assets_depend_on_every_table_their_stream_messages_read() -> None:
    """`ml.warehouse._STREAM_MESSAGES` joins sessions, staged chat and emote occurrences: each
    asset built on it shows all three upstream, so the UI marks it stale when any changes."""
    from ml.warehouse import _STREAM_MESSAGES

    graph = defs().resolve_asset_graph()
    read = {f"{schema}/{table}" for schema, table in
            re.findall(r"\b(intermediate|staging)\.(\w+)", _STREAM_MESSAGES)}  # fmt: skip
    assert read == {"intermediate/int_stream_sessions", "staging/stg_raw__chat_events",
                    "intermediate/int_emote_occurrences"}  # fmt: skip
    for name in ("chatter_segments", "chatter_stream_segments", "stream_topics",
                 "stream_topic_shifts"):  # fmt: skip
        parents = {key.to_user_string() for key in graph.get(dg.AssetKey(["ml", name])).parent_keys}
        assert read <= parents, name


def test_stale_hours_run_as_consecutive_ranges_of_at_most_a_week() -> None:
    from datetime import UTC, datetime, timedelta

    from orchestration.partitions import contiguous_ranges

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    marks = [t0 + timedelta(days=30, minutes=m) for m in range(3)]
    hours = [(t0 + timedelta(hours=h), marks[h % 3]) for h in [0, 1, 2, 5, *range(10, 10 + 200)]]
    ranges = contiguous_ranges(hours, timedelta(days=7))
    assert [(s - t0, e - t0) for s, e, _ in ranges] == [
        (timedelta(hours=0), timedelta(hours=3)),
        (timedelta(hours=5), timedelta(hours=6)),
        (timedelta(hours=10), timedelta(hours=10 + 168)),
        (timedelta(hours=10 + 168), timedelta(hours=210)),
    ]
    assert ranges[0][2] == max(marks)  # a range's run key moves with its latest change
    assert ranges[1][2] == marks[5 % 3]
