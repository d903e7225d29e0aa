"""`twitch-warehouse score`: one JSON line per input line, whatever the bytes of a line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from twitch_warehouse.cli import app


def test_every_line_is_scored_even_one_that_is_not_utf8(tmp_path: Path) -> None:
    messages = tmp_path / "chat.txt"
    messages.write_bytes(b"this is great Kappa\n\xff\xfe broken bytes\n\nLUL LUL\n")
    for model in ("sentiment", "toxicity"):
        result = CliRunner().invoke(app, ["score", model, str(messages)])
        assert result.exit_code == 0, result.output
        rows = [json.loads(line) for line in result.output.splitlines()]
        assert [row["text"] for row in rows] == [
            "this is great Kappa", "\ufffd\ufffd broken bytes", "", "LUL LUL"]  # fmt: skip
        assert all(row["model_version"] and -1 <= row["score"] <= 1 for row in rows)
