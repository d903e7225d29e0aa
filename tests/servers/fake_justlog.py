"""A justlog/rustlog-compatible log server on a pytest-httpserver (127.0.0.1).

It serves one channel's raw lines for the days they fall on (`/channel/{c}/{y}/{m}/{d}?raw`
and `?json`), rustlog's `?from=&to=` range (RFC 3339 or unix), `/list` and `/channels`, and
answers the next requests with the statuses queued in `faults` (or stalls for `stall` s).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from ingestion.clients.justlog import line_time, parse_timestamp


def shift_hours(lines: list[str], per_hour: int) -> list[str]:
    """Spread lines over consecutive hours (k-th block of `per_hour` lines moved k hours later)
    by rewriting only their `tmi-sent-ts`, so hour filtering has several hours to choose from."""
    out = []
    for i, line in enumerate(lines):
        shift = (i // per_hour) * 3_600_000
        out.append(
            re.sub(
                r"tmi-sent-ts=(\d+)",
                lambda m, s=shift: f"tmi-sent-ts={int(m[1]) + s}",
                line,
                count=1,
            )
        )
    return out


@dataclass
class FakeJustlog:
    server: HTTPServer
    channel: str
    lines: list[str]
    faults: list[int] = field(default_factory=list)
    stall: float = 0.0  # seconds the next request hangs (client timeout test)
    requests: list[str] = field(default_factory=list)
    untimed: list[str] = field(default_factory=list)  # served with every log response

    def __post_init__(self) -> None:
        self.server.expect_request(re.compile(r"^/.*$")).respond_with_handler(self._handle)

    @property
    def url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def _handle(self, request: Request) -> Response:
        self.requests.append(request.full_path)
        if self.stall:
            stall, self.stall = self.stall, 0.0
            time.sleep(stall)
        if self.faults:
            return Response("injected", self.faults.pop(0))
        parts = [p for p in request.path.split("/") if p]
        if parts == ["channels"]:
            return _json({"channels": [{"name": self.channel, "userID": "71092938"}]})
        if parts == ["list"]:
            days = sorted({ts.date() for ts in map(line_time, self.lines) if ts})
            return _json(
                {
                    "availableLogs": [
                        {"year": str(d.year), "month": str(d.month), "day": str(d.day)}
                        for d in days
                    ]
                }
            )
        if len(parts) < 2 or parts[0] != "channel" or parts[1] != self.channel:
            return Response("not found", 404)
        if len(parts) == 5:
            y, m, d = map(int, parts[2:])
            selected = [
                ln
                for ln in self.lines
                if (ts := line_time(ln)) and (ts.year, ts.month, ts.day) == (y, m, d)
            ]
        elif len(parts) == 2 and "from" in request.args:
            lo, hi = parse_timestamp(request.args["from"]), parse_timestamp(request.args["to"])
            selected = [ln for ln in self.lines if (ts := line_time(ln)) and lo <= ts <= hi]
        else:
            return Response("not found", 404)
        selected += self.untimed
        if not selected:
            return Response("no logs", 404)
        if "json" in request.args:
            return _json({"messages": [_as_json(ln) for ln in selected]})
        return Response("\n".join(selected) + "\n", 200, content_type="text/plain")


def _as_json(line: str) -> dict:
    ts = line_time(line) or datetime.now(UTC)
    return {
        "raw": line,
        "timestamp": ts.isoformat().replace("+00:00", "Z"),
        "channel": "xqcow",
        "type": 1,
    }


def _json(body: object) -> Response:
    return Response(json.dumps(body), 200, content_type="application/json")
