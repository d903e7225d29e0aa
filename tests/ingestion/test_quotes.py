"""Replies quote their parent, gifts name their recipient: the fields naming another chatter can be
taken out without changing the event."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from ingestion.clients.eventsub import parse_eventsub_records
from ingestion.events import ChatEvent
from ingestion.irc import parse_line
from ingestion.quotes import quoted_chatters, without_quotes_of

SNAPSHOTS = "irc-eventsub-vectors/tests/snapshots/IrcMessageHandler"
EVENTSUB_MESSAGE = "irc-eventsub-vectors/lib/twitch-eventsub-ws/tests/resources/messages"


def test_an_irc_reply_loses_the_quoted_author_and_text_and_keeps_the_rest(
    data: Callable[[str], Path],
) -> None:
    line = json.loads((data(SNAPSHOTS) / "reply-child.json").read_text())["input"]
    before = parse_line(line)
    assert isinstance(before, ChatEvent) and before.params["reply-parent-msg-body"] == "@nerixyz b"
    assert quoted_chatters(line) == {"nerixyz", "129546453"}

    scrubbed, _ = without_quotes_of(line, {"nerixyz"})
    after = parse_line(scrubbed)
    assert isinstance(after, ChatEvent)
    assert "reply-parent-msg-body" not in scrubbed and "nerixyz\\sb" not in scrubbed
    assert quoted_chatters(scrubbed) == frozenset()
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
    assert quoted_chatters(line) == {"quoted", "4242"}

    scrubbed, _ = without_quotes_of(line, {"4242"})
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
        assert quoted_chatters(line) == frozenset()
        assert without_quotes_of(line, {"a", "c"}) == (line, [])


def test_a_gift_sub_loses_its_recipient_and_keeps_the_gift(data: Callable[[str], Path]) -> None:
    """Chatterino's `sub-gift` vector: TWW2 gifts Mr_Woodchuck a sub. Forgetting the recipient
    keeps the gifter's event (a sub is still counted) without the recipient's name, id or the
    system sentence naming them; forgetting someone else changes nothing."""
    line = json.loads((data(SNAPSHOTS) / "sub-gift.json").read_text())["input"]
    before = parse_line(line)
    assert isinstance(before, ChatEvent)
    assert quoted_chatters(line) == {"mr_woodchuck", "89614178"}
    assert without_quotes_of(line, {"tww2", "13405587"}) == (line, [])

    scrubbed, gone = without_quotes_of(line, {"89614178"})
    after = parse_line(scrubbed)
    assert isinstance(after, ChatEvent) and "woodchuck" not in scrubbed.lower()
    assert {"msg-param-recipient-id", "system-msg"} <= set(gone)
    assert (after.event_id, after.event_type, after.user_login, after.sent_at) == (
        before.event_id, before.event_type, "tww2", before.sent_at)  # fmt: skip
    assert (
        after.params == {k: v for k, v in before.params.items() if k not in gone}
        and after.params["msg-param-sub-plan"] == "1000"
    )


def test_a_gift_paid_forward_loses_its_first_gifter(data: Callable[[str], Path]) -> None:
    """EventSub's pay-it-forward vector names the gifter the chatter got their gift from."""
    raw = (data(EVENTSUB_MESSAGE) / "channel.chat.notification-pay-it-forward.json").read_text()
    line = json.dumps(json.loads(raw))
    assert quoted_chatters(line) == {"casinozeberus", "967793245"}

    scrubbed, gone = without_quotes_of(line, {"casinozeberus"})
    assert "casinozeberus" not in scrubbed.lower() and "system_message" in gone
    event = json.loads(scrubbed)["payload"]["event"]
    assert event["pay_it_forward"] == {
        "recipient_user_id": None, "recipient_user_name": None, "recipient_user_login": None,
        "gifter_is_anonymous": False,
    }  # fmt: skip
    (before,), (after,) = (list(parse_eventsub_records([x.encode()])) for x in (line, scrubbed))
    assert isinstance(before, ChatEvent) and isinstance(after, ChatEvent)
    assert (after.event_id, after.event_type, after.user_login) == (
        before.event_id, before.event_type, "kecogluali5")  # fmt: skip
    assert "gifter_user_login" in before.params and "gifter_user_login" not in after.params


def test_a_record_holding_a_lone_surrogate_can_still_be_scrubbed() -> None:
    """JSON may escape half a UTF-16 pair; the scrubbed line must still be writable as UTF-8."""
    line = json.dumps({"payload": {"event": {
        "message": {"text": "broken \ud800 emoji"},
        "reply": {"parent_message_id": "p", "parent_user_login": "quoted", "parent_user_id": "7"},
    }}})  # fmt: skip
    scrubbed, gone = without_quotes_of(line, {"quoted"})
    scrubbed.encode("utf-8")
    assert "parent_user_login" in gone and "quoted" not in scrubbed
    assert json.loads(scrubbed)["payload"]["event"]["message"]["text"] == "broken \ud800 emoji"
