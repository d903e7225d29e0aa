"""The evaluation report: missing baselines are reported, not silently dropped."""

import math

import numpy as np

from ml import evaluate


def test_profanity_baseline_row_is_present_either_way() -> None:
    rows = evaluate.profanity_check_rows(["you are trash", "nice play"], np.array([1, 0]), "ds")
    assert {r["metric"] for r in rows} == {"f1_toxic", "roc_auc"}
    for r in rows:
        if math.isnan(r["value"]):
            assert "not available" in r["note"]
        else:
            assert 0.0 <= r["value"] <= 1.0


def test_markdown_renders_missing_values_and_extra_tables() -> None:
    nan_row = evaluate._row("roc_auc", "ds", 3, float("nan"), "pkg", note="not available: X")
    report = {
        "sentiment_version": "s",
        "toxicity_version": "t",
        "throughput": [],
        "toxicity": [nan_row],
        "bursts": [evaluate._row("precision", "gen", 10, 0.95, "bursts")],
        "top_real_bursts": [{"channel": "c", "emote": "LUL", "sample_messages": "a | b"}],
    }
    md = evaluate.render_markdown(report)
    assert "| pkg | roc_auc | not available |" in md
    assert "## bursts" in md and "top real bursts" in md
    assert "a \\| b" in md  # cell pipes escaped
