"""Every query the site needs, run once and shared by the pages, with privacy applied.

Per-chatter rows leave this module already filtered: opted-out chatters dropped, logins replaced
by pseudonyms (unless `show_chatter_logins`), chat text scrubbed of known logins. Pages never see
a raw login.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import psycopg

from reports.privacy import ChatterPrivacy
from reports.queries import run_query


@dataclass
class ReportData:
    totals: dict[str, object]
    channels: pd.DataFrame
    windows: pd.DataFrame
    heatmap: pd.DataFrame
    sentiment: pd.DataFrame
    streams: pd.DataFrame
    stream_windows: pd.DataFrame
    bursts: pd.DataFrame
    burst_messages: pd.DataFrame
    moderation: pd.DataFrame
    hype: pd.DataFrame
    topics: pd.DataFrame
    emote_totals: pd.DataFrame
    emote_timeline: pd.DataFrame
    chatter_segments: pd.DataFrame
    stream_segments: pd.DataFrame
    retention: pd.DataFrame
    top_chatters: pd.DataFrame
    signatures: pd.DataFrame
    similarity: pd.DataFrame
    freshness: pd.DataFrame
    mart_rows: pd.DataFrame
    hidden_chatters: int


def load(conn: psycopg.Connection, privacy: ChatterPrivacy) -> tuple[ReportData, ChatterPrivacy]:
    """Run every report query; returns the data and the privacy filter that knows all logins."""
    privacy = privacy.with_known(run_query(conn, "chatter_logins")["user_login"])

    burst_messages = privacy.publish_logins(run_query(conn, "burst_messages"), "user_login")
    burst_messages["body"] = burst_messages["body"].map(privacy.scrub_text)

    # Moderation rows stay (the counts and effects are not about the target); the name goes.
    moderation = run_query(conn, "moderation_events")
    moderation["target_user_login"] = moderation["target_user_login"].map(privacy.name)
    # Topic labels are chat words: a login frequent in a segment could be one of them.
    topics = run_query(conn, "topics")
    topics["topic_label"] = topics["topic_label"].map(privacy.scrub_text)
    top_chatters = privacy.publish_logins(run_query(conn, "top_chatters"), "user_login")
    top_chatters = top_chatters.groupby("channel", sort=False).head(15).reset_index(drop=True)

    return ReportData(
        totals=run_query(conn, "overview_totals").iloc[0].to_dict(),
        channels=run_query(conn, "channels"),
        windows=run_query(conn, "windows_5min"),
        heatmap=run_query(conn, "activity_heatmap"),
        sentiment=run_query(conn, "sentiment_labels"),
        streams=run_query(conn, "streams"),
        stream_windows=run_query(conn, "stream_windows"),
        bursts=run_query(conn, "emote_bursts"),
        burst_messages=burst_messages,
        moderation=moderation,
        hype=run_query(conn, "hype_moments"),
        topics=topics,
        emote_totals=run_query(conn, "emote_totals"),
        emote_timeline=run_query(conn, "emote_timeline"),
        chatter_segments=run_query(conn, "chatter_segments"),
        stream_segments=run_query(conn, "stream_segments"),
        retention=run_query(conn, "stream_retention"),
        top_chatters=top_chatters,
        signatures=run_query(conn, "signatures"),
        similarity=run_query(conn, "similarity"),
        freshness=run_query(conn, "freshness"),
        mart_rows=run_query(conn, "mart_rows"),
        hidden_chatters=len(privacy.optouts),
    ), privacy
