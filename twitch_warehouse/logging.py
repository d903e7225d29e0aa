"""Structured logging (structlog) with secrets scrubbed from every event."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_SECRET_PATTERNS = [
    re.compile(r"(postgres(?:ql)?(?:\+\w+)?://[^:/@\s]*:)[^@\s]+(@)"),
    re.compile(r"(?i)((?:oauth:|bearer\s+|password=|secret=|token=))[^\s&'\"]+"),
]


def redact(text: str) -> str:
    """Remove passwords in URLs and token-looking values from a string."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(
            lambda m: m.group(1) + "***" + (m.group(2) if m.lastindex == 2 else ""), text
        )
    return text


def _scrub(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    return {k: redact(v) if isinstance(v, str) else v for k, v in event_dict.items()}


class _CurrentStderr:
    """`sys.stderr` as it is when a line is written. Bound at configuration instead, logs went
    to a stream that no longer existed after the CLI ran under a swapped stderr (a test
    runner's), and every later log line failed with "I/O operation on closed file"."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(level: int = logging.INFO, *, json: bool = False) -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _scrub,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=_CurrentStderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )
    # The standard library's level too: what Dagster's console and dbt's output follow (`-v`).
    logging.getLogger().setLevel(level)


def verbose() -> bool:
    """Whether the process logs at DEBUG (`twitch-warehouse -v`): Dagster's console and dbt's
    output then show on screen."""
    return logging.getLogger().getEffectiveLevel() <= logging.DEBUG


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    return structlog.get_logger(name)
