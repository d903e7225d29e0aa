"""Artifacts load offline without the data folder; Kobs regression guard.

Load time is a benchmark figure (`model_load_s` in twitch_warehouse/bench.py), not a test."""

import subprocess
import sys
from pathlib import Path

import numpy as np

from ml.sentiment import ARTIFACT as SENT_ARTIFACT
from ml.sentiment import SentimentModel
from ml.toxicity import ARTIFACT as TOX_ARTIFACT
from tests.chat_data import missing

ROOT = Path(__file__).resolve().parents[2]


def test_artifacts_small() -> None:
    for path in (SENT_ARTIFACT, TOX_ARTIFACT):
        assert path.exists() and path.stat().st_size < 5 * 1024 * 1024


def test_load_offline_without_data(tmp_path: Path) -> None:
    """Fresh interpreter, data dir pointing nowhere, sockets disabled: scoring still works."""
    code = (
        "import socket\n"
        "def _deny(*a, **k): raise RuntimeError('network used')\n"
        "socket.socket.connect = _deny\n"
        "socket.create_connection = _deny\n"
        "from ml import sentiment, toxicity\n"
        "print(sentiment.score_texts(['PogChamp'])[1][0], toxicity.score_texts(['hi'])[0] < 1)\n"
    )
    env = {"CHAT_DATA_DIR": str(tmp_path / "missing"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["positive", "True"]


def test_shipped_sentiment_macro_f1_on_kobs() -> None:
    from sklearn.metrics import f1_score

    from ml.data import data_dir, load_kobs

    if not (data_dir() / "labels-sentiment-kobs" / "data" / "labeled_dataset.csv").exists():
        missing("Kobs evaluation data not available")
    texts, labels = load_kobs(data_dir())
    _, pred = SentimentModel.load().score_texts(texts)
    mapped = np.array([{"negative": -1, "neutral": 0, "positive": 1}[p] for p in pred])
    assert f1_score(labels, mapped, average="macro") >= 0.60
