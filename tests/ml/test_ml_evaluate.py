"""The evaluation report: missing baselines are reported, not silently dropped."""

import math

import numpy as np

from ml import evaluate


def test_profanity_baseline_is_measured_in_the_dev_environment() -> None:
    texts = ["fuck you, you stupid idiot", "nice play, gg"]
    rows = evaluate.profanity_check_rows(texts, np.array([1, 0]), "ds")
    by_metric = {r["metric"]: r["value"] for r in rows}
    assert by_metric == {"f1_toxic": 1.0, "roc_auc": 1.0}


def test_a_missing_profanity_baseline_is_reported_with_its_reason(monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "profanity_check", None)  # the import now fails
    rows = evaluate.profanity_check_rows(["a", "b"], np.array([1, 0]), "ds")
    assert {r["metric"] for r in rows} == {"f1_toxic", "roc_auc"}
    assert all(math.isnan(r["value"]) and r["note"].startswith("not available: ") for r in rows)


def test_markdown_renders_missing_values_and_extra_tables() -> None:
    nan_row = evaluate._row("roc_auc", "ds", 3, float("nan"), "pkg", note="not available: X")
    report = {
        "sentiment_version": "s",
        "toxicity_version": "t",
        "throughput": [],
        "toxicity": [nan_row],
        "bursts": [evaluate._row("precision", "gen", 10, 0.95, "bursts")],
        "top_real_bursts": [{"channel": "c", "emote": "LUL", "sample_messages": ["a | b", "c"]}],
    }
    md = evaluate.render_markdown(report)
    assert "| pkg | roc_auc | not available |" in md
    assert "## bursts" in md and "top real bursts" in md
    assert "| a \\| b / c |" in md  # cell pipes escaped, samples joined
