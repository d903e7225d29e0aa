"""A dbt test that fails on an hour's data fails the run at once; only errors are retried.

Real PostgreSQL, a real Dagster run of the raw staging op with the jobs' retry policy, real dbt.
The hour holds one message id twice (a copy the loader's edge dedupe cannot see, inserted by
hand), so staging's unique-key test fails, and would fail the same way on every retry.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from ingestion.landing import HourlyWriter, files_for_window
from ingestion.load import load_partition
from orchestration.dbt import dbt_project, failed_tests_only
from orchestration.defs.dbt_models import dbt_raw_staging
from orchestration.defs.resources import resources
from orchestration.partitions import hourly_partitions, partition_key
from orchestration.policy import RETRY_POLICY
from twitch_warehouse.db import PgUrl

TEN = datetime(2026, 6, 7, 10, tzinfo=UTC)


def _result(unique_id: str, status: str) -> dict[str, str]:
    return {"unique_id": unique_id, "status": status}


def test_only_builds_whose_failures_are_all_failed_tests_skip_retries() -> None:
    test = "test.twitch_warehouse.unique_stg_raw__chat_events_chat_event_key.1"
    model = "model.twitch_warehouse.stg_raw__chat_events"
    failed = {"results": [_result(model, "success"), _result(test, "fail")]}
    assert failed_tests_only(failed) == [test]
    errored = {"results": [_result(model, "error"), _result(test, "fail")]}
    assert failed_tests_only(errored) == []  # an error may be transient: retry
    assert failed_tests_only({"results": [_result(model, "success")]}) == []
    assert failed_tests_only(None) == []  # dbt wrote no results: retry


@pytest.mark.integration
def test_a_failing_dbt_test_is_not_retried(migrated: PgUrl, tmp_path: Path) -> None:
    at = TEN + timedelta(minutes=10)
    line = (f"@id=m1;room-id=7;user-id=1;tmi-sent-ts={int(at.timestamp() * 1000)}"
            " :bob!bob@bob.tmi.twitch.tv PRIVMSG #chan :hi")  # fmt: skip
    with HourlyWriter(tmp_path / "landing", "irc") as writer:
        writer.write("chan", at, line)
    end = TEN + timedelta(hours=1)
    with psycopg.connect(migrated.libpq(), autocommit=True) as conn:
        load_partition(conn, TEN, end, files_for_window(tmp_path / "landing", TEN, end))
        conn.execute(
            "insert into raw.chat_events (event_id, channel, event_type, sent_at, source,"
            " raw_payload) select event_id, channel, event_type, sent_at + interval '30 minutes',"
            " source, raw_payload from raw.chat_events"
        )

    job = dg.define_asset_job(
        "raw_staging", [dbt_raw_staging], partitions_def=hourly_partitions,
        op_retry_policy=RETRY_POLICY,
    )  # fmt: skip
    defs = dg.Definitions(assets=[dbt_raw_staging], jobs=[job], resources=resources().resources)
    result = defs.resolve_job_def("raw_staging").execute_in_process(
        partition_key=partition_key(TEN), raise_on_error=False
    )

    assert not result.success
    events = {event.event_type for event in result.all_events}
    assert dg.DagsterEventType.STEP_FAILURE in events
    assert dg.DagsterEventType.STEP_UP_FOR_RETRY not in events
    (failure,) = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    failed_tests = failure.step_failure_data.user_failure_data.metadata["failed_tests"].value
    assert [t.split(".")[2] for t in failed_tests] == ["unique_stg_raw__chat_events_chat_event_key"]
    # The failed invocation's dbt.log and run results stay for a person to read...
    target = dbt_project.project_dir / "target"
    (kept,) = target.glob(f"dbt_raw_staging-{result.run_id[:7]}-*")
    assert (kept / "run_results.json").is_file()

    # ...a successful one's folder (~5 MB each, every hour) is removed once Dagster has its events.
    with psycopg.connect(migrated.libpq(), autocommit=True) as conn:
        conn.execute(
            "delete from raw.chat_events where sent_at >= %s", (TEN + timedelta(minutes=30),)
        )
    again = defs.resolve_job_def("raw_staging").execute_in_process(
        partition_key=partition_key(TEN), raise_on_error=False
    )
    assert again.success
    assert not list(target.glob(f"dbt_raw_staging-{again.run_id[:7]}-*"))
