"""Replies quote their parent: its author and text can be taken out without changing the reply."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from ingestion.clients.eventsub import parse_eventsub_records
from ingestion.events import ChatEvent
from ingestion.irc import parse_line
from ingestion.replies import quoted_authors, without_quote

SNAPSHOTS = "irc-eventsub-vectors/tests/snapshots/IrcMessageHandler"
EVENTSUB_MESSAGE = "irc-eventsub-vectors/lib/twitch-eventsub-ws/tests/resources/messages"


def test_an_irc_reply_loses_the_quoted_author_and_text_and_keeps_the_rest(
    data: Callable[[str], Path],
) -> None:
    line = json.loads((data(SNAPSHOTS) / "reply-child.json").read_text())["input"]
    before = parse_line(line)
    assert isinstance(before, ChatEvent) and before.params["reply-parent-msg-body"] == "@nerixyz b"
    assert quoted_authors(line) == {"nerixyz", "129546453"}

    scrubbed = without_quote(line)
    after = parse_line(scrubbed)
    assert isinstance(after, ChatEvent)
    assert "reply-parent-msg-body" not in scrubbed and "nerixyz\\sb" not in scrubbed
    assert quoted_authors(scrubbed) == frozenset()
    assert (after.event_id, after.text, after.user_login, after.sent_at, after.reply_parent_id) == (
        before.event_id, before.text, before.user_login, before.sent_at, before.reply_parent_id
    )  # fmt: skip
    assert after.params == {
        "reply-parent-msg-id": before.params["reply-parent-msg-id"],
        "reply-thread-parent-msg-id": before.params["reply-thread-parent-msg-id"],
    }


def test_an_eventsub_reply_loses_the_quoted_author_and_text(data: Callable[[str], Path]) -> None:
    record = json.loads((data(EVENTSUB_MESSAGE) / "channel.chat.message.json").read_text())
    record["payload"]["event"]["reply"] = {
        "parent_message_id": "p-1", "parent_message_body": "my secret words",
        "parent_user_id": "4242", "parent_user_name": "Quoted", "parent_user_login": "quoted",
        "thread_message_id": "t-1", "thread_user_id": "4242", "thread_user_name": "Quoted",
        "thread_user_login": "quoted",
    }  # fmt: skip
    line = json.dumps(record)
    assert quoted_authors(line) == {"quoted", "4242"}

    scrubbed = without_quote(line)
    assert "my secret words" not in scrubbed
    assert json.loads(scrubbed)["payload"]["event"]["reply"] == {
        "parent_message_id": "p-1", "thread_message_id": "t-1"}  # fmt: skip
    (before,), (after,) = (list(parse_eventsub_records([x.encode()])) for x in (line, scrubbed))
    assert isinstance(before, ChatEvent) and isinstance(after, ChatEvent)
    assert (after.event_id, after.text, after.reply_parent_id) == (
        before.event_id, before.text, "p-1")  # fmt: skip


def test_lines_that_quote_no_one_are_left_alone() -> None:
    plain = "@id=1;tmi-sent-ts=1 :a!a@a.tmi.twitch.tv PRIVMSG #c :reply-parent-msg-body is a word"
    for line in (plain, ":a!a@a.tmi.twitch.tv PRIVMSG #c :hi", '{"not": "eventsub"}', "{broken"):
        assert quoted_authors(line) == frozenset()
        assert without_quote(line) == line
