"""ML assets: models from `ml/` reading dbt models, written back for dbt to read as sources."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

import dagster as dg
import psycopg

from ml import warehouse as ml_io
from orchestration.partitions import hourly_partitions, single_run_backfill
from orchestration.resources import WarehouseResource

Window = Callable[[psycopg.Connection, datetime, datetime], ml_io.WriteResult]
Whole = Callable[[psycopg.Connection], ml_io.WriteResult]


def _metadata(results: list[ml_io.WriteResult]) -> dict[str, Any]:
    rows = sum(r.rows for r in results)
    seconds = sum(r.seconds for r in results)
    summary: dict[str, object] = {}
    for result in results:
        for key, value in result.summary.items():
            if isinstance(value, int | float) and isinstance(summary.get(key, 0), int | float):
                summary[key] = summary.get(key, 0) + value  # type: ignore[operator]
            else:
                summary[key] = value
    return {
        "rows_written": dg.MetadataValue.int(rows),
        "model_version": ", ".join(sorted({r.model_version for r in results})),
        "seconds": dg.MetadataValue.float(round(seconds, 3)),
        "rows_per_second": dg.MetadataValue.float(round(rows / seconds, 1) if seconds else 0.0),
        "summary": dg.MetadataValue.json(summary),
    }


def hourly_ml_asset(name: str, deps: list[list[str]], description: str, run: Window):
    @dg.asset(
        key=["ml", name],
        group_name="ml",
        deps=[dg.AssetKey(d) for d in deps],
        partitions_def=hourly_partitions,
        backfill_policy=single_run_backfill,
        kinds={"python", "scikitlearn", "postgres"},
        owners=["team:ml"],
        tags={"cadence": "hourly"},
        description=description,
    )
    def _asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        with warehouse.connect() as conn:
            window = context.partition_time_window
            results = [run(conn, window.start, window.end)]
        return dg.MaterializeResult(metadata=_metadata(results))

    return _asset


def daily_ml_asset(name: str, deps: list[list[str]], description: str, run: Whole):
    @dg.asset(
        key=["ml", name],
        group_name="ml",
        deps=[dg.AssetKey(d) for d in deps],
        kinds={"python", "scikitlearn", "postgres"},
        owners=["team:ml"],
        tags={"cadence": "daily"},
        description=description,
    )
    def _asset(warehouse: WarehouseResource):
        with warehouse.connect() as conn:
            return dg.MaterializeResult(metadata=_metadata([run(conn)]))

    return _asset


message_sentiment = hourly_ml_asset(
    "message_sentiment", [["staging", "stg_raw__chat_events"]],
    "Emote-aware sentiment score in [-1, 1] and a 3-class label for every message.",
    ml_io.score_sentiment_window,
)  # fmt: skip
message_toxicity = hourly_ml_asset(
    "message_toxicity", [["staging", "stg_raw__chat_events"]],
    "Calibrated toxicity probability for every message (char + word n-grams).",
    ml_io.score_toxicity_window,
)  # fmt: skip
emote_bursts = hourly_ml_asset(
    "emote_bursts",
    [["intermediate", "int_emote_occurrences"], ["intermediate", "int_chat_window_activity"]],
    "Emote bursts seen to end in the hour, against a rolling baseline of the channel's previous"
    " 30 active minutes; bursts still running at the hour's end are kept as of the hour"
    " (ml.emote_bursts_open) for that hour's hype.",
    ml_io.detect_bursts_window,
)  # fmt: skip
hype_predictions = hourly_ml_asset(
    "hype_predictions", [["intermediate", "int_chat_window_activity"], ["ml", "emote_bursts"]],
    "Probability that the next minute is a hype moment, from the week's model: fitted on the"
    " four weeks before (the rate-percentile baseline while they hold too few hype minutes).",
    ml_io.predict_hype_window,
)  # fmt: skip
message_moderation_risk = hourly_ml_asset(
    "message_moderation_risk",
    [["staging", "stg_raw__chat_events"], ["ml", "message_toxicity"],
     ["intermediate", "int_chat_window_activity"]],
    "Probability that moderators act on a message, learned from this warehouse's own timeouts,"
    " bans and deletions (a model fitted weekly on the four weeks before; scores the channels"
    " with the most moderation).",
    ml_io.score_moderation_window,
)  # fmt: skip
# What `ml.warehouse._stream_messages` reads: each stream's messages with their emotes.
STREAM_MESSAGES = [["intermediate", "int_stream_sessions"], ["staging", "stg_raw__chat_events"],
                   ["intermediate", "int_emote_occurrences"]]  # fmt: skip
chatter_segments = daily_ml_asset(
    "chatter_segments", [*STREAM_MESSAGES, ["intermediate", "int_moderation_events"]],
    "Named chatter segment per channel (KMeans over behaviour features, named by rules).",
    ml_io.build_segments,
)  # fmt: skip
chatter_stream_segments = daily_ml_asset(
    "chatter_stream_segments", [*STREAM_MESSAGES, ["intermediate", "int_moderation_events"]],
    "Each chatter's segment in each stream, to follow how segments change across streams.",
    ml_io.build_stream_segments,
)  # fmt: skip
stream_topics = daily_ml_asset(
    "stream_topics", STREAM_MESSAGES,
    "Topics per stream segment (spaCy tokens, scikit-learn NMF) with labels and shift.",
    ml_io.build_topics,
)  # fmt: skip
stream_topic_shifts = daily_ml_asset(
    "stream_topic_shifts", STREAM_MESSAGES,
    "Topic shift of each stream from the channel's previous stream (Jensen-Shannon distance"
    " between the word distributions of their chat), for comparing streams of different games.",
    ml_io.build_topic_shifts,
)  # fmt: skip
stream_patterns = daily_ml_asset(
    "stream_patterns",
    [["intermediate", "int_stream_sessions"], ["intermediate", "int_chat_window_activity"]],
    "Activity curve over the deciles of each stream and its named shape pattern.",
    ml_io.build_stream_patterns,
)  # fmt: skip
