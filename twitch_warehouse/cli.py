"""`twitch-warehouse`: the commands people run by hand."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from twitch_warehouse.logging import configure_logging
from twitch_warehouse.settings import PROJECT_ROOT, get_settings

if TYPE_CHECKING:
    import psycopg

app = typer.Typer(help="Twitch chat analytics warehouse.", no_args_is_help=True)
db_app = typer.Typer(help="The warehouse PostgreSQL (embedded unless DATABASE_URL is set).")
app.add_typer(db_app, name="db")
console = Console(soft_wrap=True)  # paths and URLs stay whole when piped or logged


@app.callback()
def _main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging.")) -> None:
    import logging

    configure_logging(logging.DEBUG if verbose else logging.INFO)


@db_app.command("start")
def db_start() -> None:
    """Start the embedded PostgreSQL (if used) and bring the raw schemas up to date."""
    from ingestion.migrations import upgrade
    from twitch_warehouse.db import warehouse_url

    url = warehouse_url()
    upgrade(url.sqlalchemy())
    console.print(f"PostgreSQL ready: database {url.database!r}")


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded PostgreSQL."""
    from twitch_warehouse.db import stop_embedded

    console.print("stopped" if stop_embedded() else "embedded PostgreSQL was not running")


@db_app.command("url")
def db_url() -> None:
    """Print the warehouse URL for psql and BI tools (password hidden)."""
    from twitch_warehouse.db import warehouse_url
    from twitch_warehouse.logging import redact

    typer.echo(redact(warehouse_url().libpq()))  # one line, never wrapped: `$(... db url)`


@db_app.command("env")
def db_env() -> None:
    """Print `export DBT_PG...` lines for dbt and sqlfluff in a shell (`eval "$(... db env)"`)."""
    import shlex

    from twitch_warehouse.db import warehouse_url

    for key, value in warehouse_url().dbt_env().items():
        typer.echo(f"export {key}={shlex.quote(value)}")


@app.command()
def demo(
    hours: int = typer.Option(
        3, min=1, max=48, help="Hours of generated chat per channel in each of the two streams."
    ),
    seed: int = typer.Option(42, help="Generator seed: the same seed, the same chat."),
) -> None:
    """Generate chat, run every asset through Dagster and build the report site."""
    from twitch_warehouse.demo import run_demo

    run_demo(hours=hours, seed=seed, console=console)


@app.command("import")
def import_(
    paths: list[Path] = typer.Argument(..., exists=True, help="Files or folders of chat logs."),
    channel: str | None = typer.Option(None, help="Channel, when the files do not say."),
    start: str | None = typer.Option(
        None, help="Video start (ISO-8601 UTC) for text logs with relative [H:MM:SS] times."
    ),
    max_reject_ratio: float | None = typer.Option(
        None,
        min=0.0,
        max=1.0,
        help="Share of unparseable records accepted (default MAX_REJECT_RATIO, 0.01).",
    ),
    materialize: bool = typer.Option(True, help="Run the hourly and daily jobs afterwards."),
) -> None:
    """Import VOD chat exports and logs: detect the format, land hourly, run the warehouse."""
    from datetime import datetime

    from twitch_warehouse.importing import import_and_materialize

    try:
        video_start = datetime.fromisoformat(start) if start else None
    except ValueError:
        raise typer.BadParameter(
            f"{start!r} is not an ISO-8601 time, e.g. 2021-07-15T01:59:00Z", param_hint="--start"
        ) from None
    code = import_and_materialize(
        paths, channel=channel, start=video_start,
        max_reject_ratio=max_reject_ratio, materialize=materialize, console=console,
    )  # fmt: skip
    raise typer.Exit(code)


@app.command()
def collect(
    channel: list[str] = typer.Option(..., "--channel", "-c", help="Channel to capture (repeat)."),
    url: str = typer.Option(
        "ircs://irc.chat.twitch.tv:6697",
        help="ircs://host:port (TLS), irc://host:port (plain) or wss://... (IRC over WebSocket).",
    ),
    max_runtime: float | None = typer.Option(None, help="Stop after this many seconds."),
) -> None:
    """Capture live chat anonymously into hourly landing files (Ctrl-C to stop)."""
    from ingestion.collector import main as collector_main

    raise typer.Exit(collector_main(channel, url=url, max_runtime=max_runtime))


class Scorer(StrEnum):
    sentiment = "sentiment"
    toxicity = "toxicity"


@app.command()
def score(
    model: Scorer = typer.Argument(..., help="Which model."),
    file: typer.FileText = typer.Argument(
        ..., help="One message per line ('-' for stdin).", encoding="utf-8", errors="replace"
    ),
) -> None:
    """Score messages with a shipped model; prints JSON lines (text, score, label, version)."""
    import json

    texts = [line.rstrip("\n") for line in file]
    if model is Scorer.sentiment:
        from ml import sentiment

        scores, labels = sentiment.score_texts(texts)
        version = sentiment.MODEL_VERSION
    else:
        from ml import toxicity

        scores = toxicity.score_texts(texts)
        labels = ["toxic" if s >= toxicity.DECISION_THRESHOLD else "ok" for s in scores]
        version = toxicity.MODEL_VERSION
    for text, value, label in zip(texts, scores, labels, strict=True):
        row = {"text": text, "score": round(float(value), 4), "label": label,
               "model_version": version}  # fmt: skip
        typer.echo(json.dumps(row, ensure_ascii=False))


ml_app = typer.Typer(help="Train and evaluate the ML models.")
app.add_typer(ml_app, name="ml")


@ml_app.command("evaluate")
def ml_evaluate(
    out: Path = typer.Option(Path("ml/reports"), help="Folder for ml_eval.json and ml_eval.md."),
    skip_moderation: bool = typer.Option(False, help="Skip the NormVio moderation evaluation."),
) -> None:
    """Measure every model on labelled data (metrics named, datasets and n given)."""
    from ml import evaluate

    evaluate.main(["--out", str(out), *(["--skip-moderation"] if skip_moderation else [])])


@ml_app.command("train")
def ml_train() -> None:
    """Rebuild the shipped model artifacts from licence-compatible data in CHAT_DATA_DIR."""
    from ml import train

    train.main([])


def _pid_dir() -> Path:
    path = get_settings().warehouse_home / "run"
    path.mkdir(parents=True, exist_ok=True)
    return path


@app.command()
def ui(
    port: int = typer.Option(3000, help="Port of the Dagster webserver on 127.0.0.1."),
    wait: bool = typer.Option(True, help="Wait until the webserver answers."),
) -> None:
    """Start the Dagster webserver and daemon on 127.0.0.1 in the background."""
    from twitch_warehouse.runtime import prepare_environment

    env = {**os.environ, **prepare_environment()}
    bin_dir = Path(sys.executable).parent
    logs = get_settings().warehouse_home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    workspace = ["-w", str(PROJECT_ROOT / "workspace.yaml")]  # its code location name
    commands = {
        "webserver": [
            str(bin_dir / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port), *workspace,
        ],
        "daemon": [str(bin_dir / "dagster-daemon"), "run", *workspace],
    }  # fmt: skip
    for name, cmd in commands.items():
        pid_file = _pid_dir() / f"{name}.pid"
        if pid_file.exists() and _alive(int(pid_file.read_text())):
            console.print(f"{name} already running (pid {pid_file.read_text()})")
            continue
        if name == "webserver" and _port_taken(port):
            # Another warehouse's UI may answer there: never hand the user its address.
            console.print(f"[red]port {port} is taken by another program; try --port[/]")
            raise typer.Exit(1)
        with open(logs / f"{name}.log", "ab") as log:
            # Own session: `make stop` can end the process group, signals reach every child.
            proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=log, start_new_session=True)
        pid_file.write_text(str(proc.pid))
        console.print(f"started {name} (pid {proc.pid}), log {logs / f'{name}.log'}")
    if wait:
        import httpx

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/server_info", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(1)
        else:
            console.print("[red]webserver did not answer within 90 s; see its log[/]")
            raise typer.Exit(1)
    console.print(f"Dagster UI: http://127.0.0.1:{port} (assets lineage: /asset-groups)")


def _port_taken(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        # A UI stopped a moment ago leaves TIME_WAIT connections, not a listener: not taken.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


@app.command()
def stop() -> None:
    """Stop what the project started: the Dagster webserver and daemon, then PostgreSQL."""
    from twitch_warehouse.db import stop_embedded

    for pid_file in sorted(_pid_dir().glob("*.pid")):
        pid = int(pid_file.read_text())
        if _alive(pid):
            os.killpg(pid, signal.SIGTERM)
            for _ in range(50):
                if not _alive(pid):
                    break
                time.sleep(0.2)
            else:
                os.killpg(pid, signal.SIGKILL)
            console.print(f"stopped {pid_file.stem} (pid {pid})")
        pid_file.unlink()
    if get_settings().uses_embedded_postgres and stop_embedded():
        console.print("stopped embedded PostgreSQL")


@app.command()
def optout(
    user: str = typer.Argument(..., help="The chatter's Twitch login."),
    user_id: str | None = typer.Option(
        None, "--user-id", help="The account meant, when several Twitch accounts used the login."
    ),
    rebuild: bool = typer.Option(
        True, help="Rebuild and publish the report site now if today's site shows them."
    ),
) -> None:
    """Opt a chatter out: their new messages are not stored and reports hide them."""
    from twitch_warehouse.privacy import optout as add_optout
    from twitch_warehouse.privacy import rebuild as rebuild_now
    from twitch_warehouse.privacy import site_names
    from twitch_warehouse.runtime import pipeline_step

    settings = get_settings()
    with _privacy_connection() as conn:
        added = add_optout(conn, user, user_id)
    login = user.lower()
    console.print(f"{login} {'opted out' if added else 'was already opted out'}: new messages"
                  f" are not stored; stored ones stay until `forget {login}`.")  # fmt: skip
    if not site_names(settings.site_dir, login):
        return
    if rebuild:
        with pipeline_step(console, "Dagster: daily_report, so the site hides them…"):
            rebuild_now()
        console.print(f"report site rebuilt and published under {settings.report_publish_dir}")
    else:
        console.print("The report site still shows them until its next daily build (06:30 UTC).")


@app.command()
def forget(
    user: str = typer.Argument(..., help="The chatter's Twitch login."),
    user_id: str | None = typer.Option(
        None, "--user-id", help="The account meant, when several Twitch accounts used the login."
    ),
    rebuild: bool = typer.Option(
        True, help="Run the hours that held their events and the daily job again now."
    ),
) -> None:
    """Opt a chatter out and erase them: landing files, raw, ML, marts and published reports."""
    from rich.table import Table

    from twitch_warehouse.privacy import forget as forget_chatter
    from twitch_warehouse.privacy import rebuild as rebuild_now
    from twitch_warehouse.runtime import pipeline_step

    settings = get_settings()
    with _privacy_connection() as conn:
        counts = forget_chatter(
            conn, settings.landing_dir, settings.report_publish_dir, user, user_id=user_id,
            site_dir=settings.site_dir,
        )  # fmt: skip
    # What was erased is shown before the rebuild, which may fail on its own.
    table = Table(title=f"Forgotten: {user.lower()}", show_edge=False)
    table.add_column("where")
    table.add_column("removed", justify="right")
    for where, count in counts.items():
        table.add_row(where, f"{count:,}")
    console.print(table)
    if not rebuild:
        console.print("Counts built from their messages are rebuilt when the stale-hours sensor"
                      " runs those hours again; the site at its next daily build.")  # fmt: skip
        return
    with pipeline_step(console, "Dagster: the hours that held their events, then daily_report…"):
        rerun = rebuild_now()
    console.print(f"Ran {len(rerun)} range(s) of hours again and daily_report; report site"
                  f" published under {settings.report_publish_dir}")  # fmt: skip


@contextlib.contextmanager
def _privacy_connection() -> Iterator[psycopg.Connection]:
    """The warehouse, migrated (the opt-out list's columns), for `optout` and `forget`; a login
    they cannot act on safely ends the command with the reason, not a traceback."""
    from ingestion.migrations import upgrade
    from twitch_warehouse.db import connect, warehouse_url

    url = warehouse_url()
    upgrade(url.sqlalchemy())
    try:
        with connect(url) as conn:
            yield conn
    except ValueError as exc:  # not a login, or a login several accounts used
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None


@app.command()
def bench(
    quick: bool = typer.Option(False, "--quick", help="Short run (under 3 minutes)."),
    out: Path = typer.Option(Path("bench-results"), "--out", help="Where bench.json/.md go."),
    messages: int | None = typer.Option(None, "--messages", min=100, help="Lines in the hour."),
    channels: int | None = typer.Option(None, "--channels", min=1, help="Channels in the hour."),
    stages: str | None = typer.Option(
        None,
        "--stages",
        help="Comma-separated subset of stages (default: all), e.g. generate,end_to_end.",
    ),
) -> None:
    """Benchmark every stage on its own embedded PostgreSQL in a temporary folder."""
    from twitch_warehouse.bench import STAGES, BenchConfig, run_bench

    chosen = tuple(s.strip() for s in stages.split(",")) if stages else STAGES
    unknown = [s for s in chosen if s not in STAGES]
    if unknown or (chosen != STAGES and "generate" not in chosen):
        console.print(f"[red]--stages takes generate (always) and any of {', '.join(STAGES)}[/]")
        raise typer.Exit(2)
    cfg = BenchConfig.preset(quick=quick, out_dir=out, messages=messages, channels=channels)
    report = run_bench(
        cfg,
        stages=tuple(s for s in STAGES if s in chosen),
        echo=lambda line: console.print(line, markup=False, highlight=False),
    )
    console.print((out / "bench.md").read_text(), markup=False, highlight=False)
    failed = [name for name, stage in report["stages"].items() if "error" in stage]
    if failed:
        console.print(f"[red]failed stages: {', '.join(failed)}[/]")
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
