"""A deterministic generator of realistic Twitch chat, as raw IRC lines.

Used by `make demo` and by the benchmarks. The same seed gives the same lines, byte for byte.
It models what makes chat chat: Zipf-distributed chatters with different habits (lurkers who
speak once, regulars, emote spammers, copypasta posters, a few who get moderated), native emotes
(with IRC `emotes` positions) and third-party emotes (plain tokens), emote bursts at known times,
subs, resubs, gift subs, raids, bits, timeouts, bans and deleted messages.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import random
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ingestion.clients.emotes import EmoteSnapshot

# Native Twitch emotes (id, code); ids are the real global ids of these long-lived emotes.
NATIVE_EMOTES = [
    ("25", "Kappa"), ("88", "PogChamp"), ("425618", "LUL"), ("354", "4Head"),
    ("1902", "Keepo"), ("86", "BibleThump"), ("41", "Kreygasm"), ("58765", "NotLikeThis"),
    ("64138", "SeemsGood"), ("81273", "KomodoHype"), ("28087", "WutFace"),
]  # fmt: skip
# Third-party emotes: whitespace tokens matched against BTTV/FFZ/7TV catalogs downstream.
THIRD_PARTY_EMOTES = {
    "bttv": [
        "KEKW",
        "OMEGALUL",
        "monkaS",
        "PepeHands",
        "catJAM",
        "Clap",
        "pepeD",
        "FeelsStrongMan",
    ],
    "ffz": ["LULW", "monkaW", "Pog", "FeelsBadMan", "5Head"],
    "7tv": ["Aware", "Clueless", "xdd", "peepoHappy", "BOOBA", "GIGACHAD"],
}
POSITIVE = ["nice", "lets go", "so good", "love this", "gg", "amazing play", "W stream", "clean"]
NEGATIVE = ["that sucks", "so bad", "unlucky", "this is boring", "L", "terrible", "rip", "ugh"]
NEUTRAL = [
    "what game is this", "how long is stream today", "chat is fast", "first time here",
    "what rank is he", "is this a new map", "when is the next event", "hi chat", "o7",
    "what did i miss", "brb food", "back", "can you check the settings", "which build is that",
    "is the music from the game", "what keyboard do you use", "this boss again", "nah",
]  # fmt: skip
# Trolls' abuse: insults, and the profanity offensive-language models are trained to flag (the
# list keeps its length: the generator's random draws, and so every count, stay the same).
TOXIC = ["you are trash", "shut up bitch", "kys", "stfu you dumb bitch", "go cry loser"]
# Most abuse is removed within seconds of being sent, as on a moderated channel (the other
# moderation the generator writes comes late, on spam and at random).
QUICK_ACTION_SHARE = 0.75
QUICK_ACTION_DELAY_S = (1.5, 12.0)
COPYPASTAS = [
    "I am once again asking chat to stop spamming the same thing every five seconds",
    "This is the best stream on the whole platform and nobody can convince me otherwise",
]
_SENT_TS = re.compile(r"tmi-sent-ts=(\d+)")
SUB_PLANS = ["Prime", "1000", "2000", "3000"]


@dataclass
class Chatter:
    user_id: str
    login: str
    habit: str  # lurker, casual, regular, emote_spammer, copypasta, troll
    weight: float
    subscriber_months: int
    color: str


@dataclass
class InjectedBurst:
    channel: str
    emote: str
    started_at: datetime
    ended_at: datetime


@dataclass
class GeneratedChat:
    lines_by_channel: dict[str, list[str]]
    bursts: list[InjectedBurst] = field(default_factory=list)

    @property
    def line_count(self) -> int:
        return sum(len(v) for v in self.lines_by_channel.values())


# IRCv3 tag value escapes, applied in one pass (`\\` first is what makes one pass exact).
_ESCAPES = str.maketrans({"\\": "\\\\", ";": "\\:", " ": "\\s", "\r": "\\r", "\n": "\\n"})
# Emote pools, built once rather than per message.
_ALL_EMOTE_CODES = [code for _, code in NATIVE_EMOTES] + [
    code for codes in THIRD_PARTY_EMOTES.values() for code in codes
]
_SUFFIX_EMOTE_CODES = [c for _, c in NATIVE_EMOTES] + THIRD_PARTY_EMOTES["bttv"]
_HABITS = ["lurker"] * 40 + ["casual"] * 35 + ["regular"] * 15 + ["emote_spammer"] * 5
_HABITS += ["copypasta"] * 3 + ["troll"] * 2
_HABIT_WEIGHT = {"lurker": 0.05, "casual": 0.5, "regular": 3.0, "emote_spammer": 4.0,
                 "copypasta": 2.0, "troll": 1.5}  # fmt: skip
_LOGIN_HEADS = ["xx", "the", "lil", "big", "mr", "its", ""]
_LOGIN_BODIES = ["gamer", "wolf", "pixel", "noodle", "ghost", "fox", "tea"]
_MONTHS = [0, 0, 0, 1, 3, 6, 12, 24, 40]


def _escape(value: str) -> str:
    return value.translate(_ESCAPES)


def _tags(tags: dict[str, str]) -> str:
    values = "".join(tags.values())
    if "\\" in values or ";" in values or " " in values or "\r" in values or "\n" in values:
        return "@" + ";".join([f"{k}={v.translate(_ESCAPES)}" for k, v in tags.items()])
    return "@" + ";".join([f"{k}={v}" for k, v in tags.items()])  # nothing to escape


class ChatGenerator:
    """Generates `channels` x `hours` of chat starting at `start` (UTC), deterministically.

    A channel's chatters depend only on `seed`; `stream` numbers its streams, so two streams of
    one channel share their audience (its regulars come back) but not their chat.
    """

    def __init__(
        self,
        channels: list[str],
        start: datetime,
        hours: int,
        *,
        seed: int = 42,
        stream: int = 0,
        messages_per_minute: float = 30.0,
        chatters_per_channel: int = 400,
    ) -> None:
        self.channels = channels
        self.start = start.astimezone(UTC)
        self.hours = hours
        self.seed = seed
        self.stream = stream
        self.rate = messages_per_minute
        self.chatters_per_channel = chatters_per_channel

    def _chatters(self, rng: random.Random, channel: str) -> list[Chatter]:
        out = []
        choice, head = rng.choice, channel[:3]
        for rank in range(1, self.chatters_per_channel + 1):
            habit = choice(_HABITS)
            base = 1.0 / rank**0.9  # Zipf-like activity: a few chatters write most messages
            weight = base * _HABIT_WEIGHT[habit]
            login = f"{choice(_LOGIN_HEADS)}{choice(_LOGIN_BODIES)}{head}{rank}"
            months = choice(_MONTHS) if habit != "troll" else 0
            color = f"#{rng.randrange(0xFFFFFF):06X}"
            out.append(Chatter(str(10_000_000 + rank * 97 + len(channel)), login, habit, weight,
                               months, color))  # fmt: skip
        return out

    def _message(self, rng: random.Random, chatter: Chatter, burst_emote: str | None) -> str:
        if burst_emote is not None and rng.random() < 0.7:
            return " ".join([burst_emote] * rng.randint(1, 4))
        habit = chatter.habit
        if habit == "emote_spammer" or (habit != "copypasta" and rng.random() < 0.25):
            pool = _ALL_EMOTE_CODES
            return " ".join([rng.choice(pool) for _ in range(rng.randint(1, 3))])
        if habit == "copypasta" and rng.random() < 0.6:
            return rng.choice(COPYPASTAS)
        if habit == "troll" and rng.random() < 0.4:
            return rng.choice(TOXIC)
        roll = rng.random()
        text = rng.choice(POSITIVE if roll < 0.3 else NEGATIVE if roll < 0.45 else NEUTRAL)
        if rng.random() < 0.3:
            text += " " + rng.choice(_SUFFIX_EMOTE_CODES)
        if rng.random() < 0.05:
            text = f"@{rng.choice(['streamer', 'mod', 'chat'])} {text}"
        return text

    def generate(self) -> GeneratedChat:
        result = GeneratedChat(lines_by_channel={})
        native_ids = {code: eid for eid, code in NATIVE_EMOTES}
        for index, channel in enumerate(self.channels):
            rng = random.Random(f"{self.seed}:{channel}")
            room_id = str(100_000 + index * 7919)
            chatters = self._chatters(rng, channel)
            if self.stream:
                rng = random.Random(f"{self.seed}:{channel}:stream{self.stream}")
            # Cumulative weights once per channel: `choices(population, weights)` rebuilds them
            # on every call; given `cum_weights` it draws exactly the same chatters.
            cum_weights = list(itertools.accumulate(c.weight for c in chatters))
            lines: list[str] = []
            end = self.start + timedelta(hours=self.hours)
            # Bursts: two per hour per channel at random minutes, one emote each.
            bursts: list[InjectedBurst] = []
            for hour in range(self.hours):
                for _ in range(2):
                    at = self.start + timedelta(hours=hour, minutes=rng.randint(2, 55))
                    emote = rng.choice(["PogChamp", "KEKW", "LUL", "catJAM", "OMEGALUL"])
                    bursts.append(InjectedBurst(channel, emote, at, at + timedelta(minutes=2)))
            result.bursts.extend(bursts)
            recent_ids: list[tuple[str, Chatter]] = []
            # Abuse is usually acted on within seconds: (due ms, message id, author) of actions
            # already decided, drawn from their own stream so the chat itself stays the same.
            mod_rng = random.Random(f"{self.seed}:{channel}:moderators{self.stream}")
            pending: list[tuple[int, str, Chatter]] = []
            ts = self.start
            # A slow stream-shaped rate: quiet start, busy middle, spikes during bursts.
            while True:
                minute = (ts - self.start).total_seconds() / 60
                shape = 0.6 + 0.8 * min(1.0, minute / 90.0)
                active = next((b for b in bursts if b.started_at <= ts < b.ended_at), None)
                rate = self.rate * shape * (4.0 if active else 1.0)
                ts = ts + timedelta(seconds=rng.expovariate(rate / 60.0))
                if ts >= end:
                    break
                ms = int(ts.timestamp() * 1000)
                while pending and pending[0][0] <= ms:
                    due, msg_id, target = heapq.heappop(pending)
                    lines.append(self._moderation(mod_rng, channel, room_id, target, msg_id, due))
                chatter = rng.choices(chatters, cum_weights=cum_weights)[0]
                roll = rng.random()
                if roll < 0.004:
                    lines.append(self._usernotice(rng, channel, room_id, chatter, ms))
                    continue
                if roll < 0.0045:
                    lines.append(self._raid(rng, channel, room_id, ms))
                    continue
                if roll < 0.02 and recent_ids:
                    # Moderators mostly act on trolls and copypasta, sometimes on anyone.
                    suspects = [r for r in recent_ids[-60:] if r[1].habit in ("troll", "copypasta")]
                    if suspects or rng.random() < 0.2:
                        msg_id, target = rng.choice(suspects or recent_ids[-30:])
                        recent_ids.remove((msg_id, target))  # a message is moderated once
                        lines.append(self._moderation(rng, channel, room_id, target, msg_id, ms))
                        continue
                text = self._message(rng, chatter, active.emote if active else None)
                msg_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                lines.append(self._privmsg(rng, channel, room_id, chatter, text, msg_id, ms,
                                           native_ids))  # fmt: skip
                if text in TOXIC and mod_rng.random() < QUICK_ACTION_SHARE:
                    due = ms + int(mod_rng.uniform(*QUICK_ACTION_DELAY_S) * 1000)
                    heapq.heappush(pending, (due, msg_id, chatter))
                else:
                    recent_ids.append((msg_id, chatter))
                if len(recent_ids) > 200:
                    del recent_ids[:100]
            end_ms = int(end.timestamp() * 1000)
            for due, msg_id, target in sorted(pending):
                if due < end_ms:
                    lines.append(self._moderation(mod_rng, channel, room_id, target, msg_id, due))
            result.lines_by_channel[channel] = lines
        return result

    def _badges(self, chatter: Chatter) -> tuple[str, str]:
        if chatter.subscriber_months:
            tier = min(chatter.subscriber_months, 24)
            return f"subscriber/{tier}", f"subscriber/{chatter.subscriber_months}"
        return "", ""

    def _privmsg(self, rng: random.Random, channel: str, room_id: str, chatter: Chatter,
                 text: str, msg_id: str, ms: int, native_ids: dict[str, str]) -> str:  # fmt: skip
        positions: dict[str, list[str]] = {}
        offset = 0
        for token in text.split(" "):
            if token in native_ids:
                positions.setdefault(native_ids[token], []).append(
                    f"{offset}-{offset + len(token) - 1}"
                )
            offset += len(token) + 1
        emotes = "/".join(f"{eid}:{','.join(r)}" for eid, r in positions.items())
        badges, badge_info = self._badges(chatter)
        bits = rng.choice([100, 500, 1000]) if rng.random() < 0.003 else 0
        if bits:
            text = f"Cheer{bits} {text}"
            emotes = ""  # positions shifted; cheer messages here carry no native emotes
        tags = {
            "badge-info": badge_info, "badges": badges, "color": chatter.color,
            "display-name": chatter.login.capitalize(), "emotes": emotes,
            "first-msg": "1" if rng.random() < 0.01 else "0", "flags": "", "id": msg_id,
            "mod": "0", "room-id": room_id, "subscriber": "1" if badges else "0",
            "tmi-sent-ts": str(ms), "turbo": "0", "user-id": chatter.user_id, "user-type": "",
        }  # fmt: skip
        if bits:
            tags["bits"] = str(bits)
        prefix = f":{chatter.login}!{chatter.login}@{chatter.login}.tmi.twitch.tv"
        return f"{_tags(tags)} {prefix} PRIVMSG #{channel} :{text}"

    def _usernotice(self, rng: random.Random, channel: str, room_id: str, chatter: Chatter,
                    ms: int) -> str:  # fmt: skip
        kind = rng.choice(["sub", "resub", "resub", "subgift"])
        plan = rng.choice(SUB_PLANS)
        tags = {
            "badge-info": "", "badges": "", "display-name": chatter.login.capitalize(),
            "emotes": "", "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "login": chatter.login, "msg-id": kind, "room-id": room_id, "tmi-sent-ts": str(ms),
            "user-id": chatter.user_id, "msg-param-sub-plan": plan,
        }  # fmt: skip
        if kind == "resub":
            tags["msg-param-cumulative-months"] = str(max(2, chatter.subscriber_months))
            system = f"{chatter.login} subscribed for {tags['msg-param-cumulative-months']} months"
        elif kind == "subgift":
            tags["msg-param-recipient-user-name"] = f"lucky{rng.randint(1, 999)}"
            system = f"{chatter.login} gifted a sub to {tags['msg-param-recipient-user-name']}"
        else:
            system = f"{chatter.login} subscribed"
        tags["system-msg"] = system
        body = " :thanks for the stream" if kind == "resub" and rng.random() < 0.5 else ""
        return f"{_tags(tags)} :tmi.twitch.tv USERNOTICE #{channel}{body}"

    def _raid(self, rng: random.Random, channel: str, room_id: str, ms: int) -> str:
        raider = f"raider{rng.randint(1, 50)}"
        viewers = str(rng.randint(5, 3000))
        tags = {
            "display-name": raider, "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "login": raider, "msg-id": "raid", "msg-param-displayName": raider,
            "msg-param-login": raider, "msg-param-viewerCount": viewers, "room-id": room_id,
            "system-msg": f"{viewers} raiders from {raider} have joined!", "tmi-sent-ts": str(ms),
            "user-id": str(rng.randint(1, 10**8)),
        }  # fmt: skip
        return f"{_tags(tags)} :tmi.twitch.tv USERNOTICE #{channel}"

    def _moderation(self, rng: random.Random, channel: str, room_id: str, target: Chatter,
                    msg_id: str, ms: int) -> str:  # fmt: skip
        roll = rng.random()
        if roll < 0.45:  # delete one message
            tags = {"login": target.login, "room-id": "", "target-msg-id": msg_id,
                    "tmi-sent-ts": str(ms)}  # fmt: skip
            return f"{_tags(tags)} :tmi.twitch.tv CLEARMSG #{channel} :deleted"
        tags = {"room-id": room_id, "target-user-id": target.user_id, "tmi-sent-ts": str(ms)}
        if roll < 0.93:
            tags = {"ban-duration": str(rng.choice([10, 60, 600, 3600])), **tags}
        return f"{_tags(tags)} :tmi.twitch.tv CLEARCHAT #{channel} :{target.login}"


def iter_lines_by_hour(chat: GeneratedChat) -> Iterator[tuple[str, datetime, str]]:
    """(channel, hour, line) for landing, the hour taken from each line's tmi-sent-ts."""
    for channel, lines in chat.lines_by_channel.items():
        for line in lines:
            match = _SENT_TS.search(line)
            assert match is not None, "generated lines always carry tmi-sent-ts"
            ms = int(match.group(1))
            yield channel, datetime.fromtimestamp(ms / 1000, tz=UTC), line


def demo_emote_snapshots(channels: list[str], on: date) -> list[EmoteSnapshot]:
    """The third-party emote sets the generated chat uses: BTTV global, FFZ and 7TV per channel."""
    from ingestion.clients.emotes import CatalogEmote, EmoteSnapshot

    def emote(provider: str, scope: str, channel: str | None, code: str) -> CatalogEmote:
        digest = hashlib.blake2b(f"{provider}:{code}".encode(), digest_size=8).hexdigest()
        return CatalogEmote(provider, scope, channel, digest, code)  # type: ignore[arg-type]

    snapshots = [
        EmoteSnapshot(on, "bttv", "global", None,
                      [emote("bttv", "global", None, c) for c in THIRD_PARTY_EMOTES["bttv"]])
    ]  # fmt: skip
    for channel in channels:
        for provider in ("ffz", "7tv"):
            emotes = [emote(provider, "channel", channel, c) for c in THIRD_PARTY_EMOTES[provider]]
            snapshots.append(EmoteSnapshot(on, provider, "channel", channel, emotes))
    return snapshots
