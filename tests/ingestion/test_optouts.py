"""Which events the opt-out list keeps out (`ingestion.load.OptOuts`), without a database."""

from __future__ import annotations

from datetime import UTC, datetime

from ingestion.events import ChatEvent, Reject
from ingestion.load import OptOuts

AT = datetime(2026, 11, 1, 18, tzinfo=UTC)


def _event(
    login: str | None,
    user_id: str | None,
    target_user_login: str | None = None,
    target_user_id: str | None = None,
) -> ChatEvent:
    return ChatEvent(
        event_id=f"{login}-{user_id}", channel="alpha", event_type="message", sent_at=AT,
        source="irc", raw="line", user_login=login, user_id=user_id, text="hi",
        target_user_login=target_user_login, target_user_id=target_user_id,
    )  # fmt: skip


def test_a_login_with_known_ids_drops_only_that_account() -> None:
    """Twitch frees logins: once the owner's ids are known, another id under the login is the
    account that took it later, and stays; a line without ids (text logs) cannot tell, and goes."""
    optouts = OptOuts(frozenset({"alice"}), frozenset({"111"}), id_bound=frozenset({"alice"}))
    assert optouts.covers(_event("alice", "111"))
    assert optouts.covers(_event("alice_renamed", "111"))
    assert optouts.covers(_event("Alice", None))
    assert not optouts.covers(_event("alice", "222"))
    assert optouts.covers(_event("mod", "9", target_user_login="bob", target_user_id="111"))
    assert not optouts.covers(_event("mod", "9", target_user_login="alice", target_user_id="222"))


def test_a_login_with_no_known_ids_drops_every_account_using_it() -> None:
    """Opted out before they ever chatted: nothing tells owners apart, so the login decides."""
    optouts = OptOuts(frozenset({"alice"}))
    assert optouts.covers(_event("alice", "222")) and optouts.covers(_event("alice", None))
    assert optouts.covers(_event("mod", "9", target_user_login="alice", target_user_id="5"))
    assert not optouts.covers(_event("bob", "222"))
    assert optouts.drops(Reject("irc", b"garbage from @alice", "unparseable"))
    assert not optouts.drops(Reject("irc", b"garbage from malice", "unparseable"))
