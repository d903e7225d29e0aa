"""The benchmark at a tiny volume: every stage runs and reports sane numbers (never timings)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from twitch_warehouse.bench import STAGES, BenchConfig, baseline_parse, run_bench

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("bench")]


def test_baseline_parser_reads_a_generated_line() -> None:
    from ingestion.generator import ChatGenerator

    chat = ChatGenerator(["chan"], datetime(2026, 1, 1, tzinfo=UTC), 1, messages_per_minute=5)
    line = next(ln for ln in chat.generate().lines_by_channel["chan"] if " PRIVMSG " in ln)
    parsed = baseline_parse(line.encode())
    assert parsed is not None
    assert parsed[1] == "chan" and parsed[2] == "PRIVMSG" and parsed[3] > 0


def test_chunked_generation_matches_one_generator(tmp_path: Path) -> None:
    """The bench generates channels in chunks across processes; the lines must not change."""
    from ingestion.generator import ChatGenerator
    from twitch_warehouse.bench import _generate_chunk

    cfg = BenchConfig(messages=600, channels=4, out_dir=tmp_path, workdir=tmp_path)
    names = cfg.channel_names()
    whole = ChatGenerator(names, cfg.start, 1, seed=cfg.seed, messages_per_minute=cfg.rate,
                          chatters_per_channel=cfg.chatters_per_channel).generate()  # fmt: skip
    _generate_chunk(cfg, 0, names[:1], False)
    _generate_chunk(cfg, 1, names[1:], False)
    for name in names:
        landed = next((cfg.landing_root / "irc" / name).rglob("*.log")).read_text()
        assert landed == "\n".join(whole.lines_by_channel[name]) + "\n"


def _recount(cfg: BenchConfig) -> tuple[int, int, int, int]:
    """Lines, parsed events, rejects and distinct events of the hour, from the same generator
    the bench runs (chunked generation yields these very lines, see the test above)."""
    from ingestion.events import ChatEvent
    from ingestion.generator import ChatGenerator
    from ingestion.irc import parse_lines

    names = cfg.channel_names()
    chat = ChatGenerator(names, cfg.start, 1, seed=cfg.seed, messages_per_minute=cfg.rate,
                         chatters_per_channel=cfg.chatters_per_channel).generate()  # fmt: skip
    lines = [line.encode() for name in names for line in chat.lines_by_channel[name]]
    items = list(parse_lines(lines))
    events = [item for item in items if isinstance(item, ChatEvent)]
    in_hour = {e.event_id for e in events if cfg.start <= e.sent_at < cfg.end}
    return len(lines), len(events), len(items) - len(events), len(in_hour)


def test_bench_smoke(tmp_path: Path) -> None:
    cfg = BenchConfig(
        messages=1_500, channels=3, out_dir=tmp_path / "out", quick=True,
        history_levels=(1,), history_rows_per_hour=20, parse_sample=1_500,
        copy_sample=1_500, to_sql_sample=200, insert_sample=200, ml_sample=1_500,
        processes=1, overlap_end_to_end=True,
    )  # fmt: skip
    report = run_bench(cfg, echo=lambda _: None)
    lines, events, rejects, stored = _recount(cfg)

    saved = json.loads((tmp_path / "out" / "bench.json").read_text())
    assert saved["stages"].keys() == set(STAGES) == report["stages"].keys()
    for key in ("cpu_count", "python", "postgresql", "git_commit"):
        assert saved["environment"][key]
    for name, stage in saved["stages"].items():
        assert "error" not in stage, (name, stage.get("traceback", stage.get("error")))
        assert stage["wall_s"] > 0 and stage["throughput"] > 0 and stage["items"] > 0, name
        assert stage["peak_rss_mb"] > 0, name
        for ratio, value in stage.get("ratios", {}).items():
            assert value > 0, (name, ratio)
    # Item counts equal the generated data, recounted here (not merely "> 0"): generation wrote
    # every line, parse read all of them (the sample covers the whole hour), and the load and the
    # end-to-end pipeline each stored every distinct event once.
    stages = saved["stages"]
    assert stages["generate"]["items"] == lines
    assert cfg.parse_sample >= lines and stages["parse"]["items"] == lines
    parse = stages["parse"]["details"]
    assert (parse["events"], parse["rejects"]) == (events, rejects)
    assert stages["load"]["items"] == stored == stages["end_to_end"]["items"]
    load = saved["stages"]["load"]["ratios"]
    assert {"project_vs_copy", "project_vs_to_sql", "project_vs_executemany"} <= load.keys()
    assert saved["stages"]["parse"]["ratios"]["project_vs_split_baseline"] > 0
    dbt = saved["stages"]["dbt"]["details"]
    assert [r["history_hours"] for r in dbt["incremental_hour"]] == [1]
    assert dbt["startup_s"] > 0 and dbt["full_rebuild"]["wall_s"] > 0
    assert saved["stages"]["end_to_end"]["details"]["success"] is True
    assert saved["stages"]["end_to_end"]["ratios"]["x_real_time"] > 0
    markdown = (tmp_path / "out" / "bench.md").read_text()
    for name in STAGES:
        assert f"| {name} |" in markdown
