"""Parsers for chat export formats: each `parse_records(lines)` maps landing lines to events.

Every line gives exactly one `ChatEvent` or one `Reject` (blank lines give nothing); no input,
however broken, raises.
"""

from __future__ import annotations

from ingestion.formats import (
    chat_downloader,
    gql,
    normvio,
    rechat_v5,
    text_log,
    twitchdownloader,
)

FORMATS = {
    "gql": gql.parse_records,
    "twitchdownloader": twitchdownloader.parse_records,
    "rechat_v5": rechat_v5.parse_records,
    "chat_downloader": chat_downloader.parse_records,
    "text_log": text_log.parse_records,
    "normvio": normvio.parse_records,
}

__all__ = ["FORMATS"]
