"""Chatter pseudonyms and opt-outs for published pages.

A pseudonym is a keyed hash (HMAC-SHA256 with `PSEUDONYM_KEY`): stable across days, so a regular
stays recognisable from one report to the next, and not reversible without the key. Opted-out
chatters are dropped from every per-chatter row and their logins are removed from chat text.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

_WORD = re.compile(r"@?[A-Za-z0-9_]{3,25}")
REMOVED = "[removed]"
# Written into every built site: the pseudonyms of the chatters and channels its pages name, so
# `twitch-warehouse forget` removes exactly the published days that name someone (a login that
# is also a word, such as `stream`, would otherwise match every page).
NAMED_FILE = "named-chatters.txt"


def pseudonym(login: str, key: str) -> str:
    digest = hmac.new(key.encode(), login.lower().encode(), hashlib.sha256).hexdigest()
    return f"chatter-{digest[:10]}"


@dataclass
class ChatterPrivacy:
    """What the build may show of a chatter: a pseudonym (or the login when allowed), or nothing."""

    key: str
    show_logins: bool = False
    optouts: frozenset[str] = frozenset()
    known_logins: frozenset[str] = field(default_factory=frozenset)
    # Logins a page shows, as a name or as a word of chat text; shared by `with_known` copies.
    named: set[str] = field(default_factory=set)

    def hidden(self, login: object) -> bool:
        return isinstance(login, str) and login.lower() in self.optouts

    def name(self, login: object) -> str:
        if not isinstance(login, str) or not login:
            return "unknown"
        if self.hidden(login):
            return REMOVED
        self.named.add(login.lower())
        return login.lower() if self.show_logins else pseudonym(login, self.key)

    def drop_hidden(self, df: pd.DataFrame, column: str) -> pd.DataFrame:
        if df.empty or not self.optouts:
            return df
        return df.loc[~df[column].map(self.hidden)].reset_index(drop=True)

    def publish_logins(self, df: pd.DataFrame, column: str) -> pd.DataFrame:
        """Drop opted-out rows and replace `column` with what may be published."""
        out = self.drop_hidden(df, column).copy()
        out[column] = out[column].map(self.name)
        return out

    def scrub_text(self, text: object) -> str:
        """Chat text with known logins (bare or @mentioned) pseudonymized or removed."""
        if not isinstance(text, str):
            return ""
        sensitive = self.known_logins | self.optouts
        if not sensitive:
            return text

        def swap(match: re.Match[str]) -> str:
            word = match.group(0)
            at = "@" if word.startswith("@") else ""
            login = word.removeprefix("@").lower()
            if login not in sensitive:
                return word
            if self.show_logins and not self.hidden(login):
                self.named.add(login)
                return word
            return at + self.name(login)

        return _WORD.sub(swap, text)

    def named_pseudonyms(self, channels: Iterable[str]) -> list[str]:
        """What `NAMED_FILE` holds: pseudonyms of the logins shown and of the channels."""
        return sorted({pseudonym(login, self.key) for login in self.named.union(channels)})

    def with_known(self, logins: Iterable[object]) -> ChatterPrivacy:
        known = frozenset(x.lower() for x in logins if isinstance(x, str))
        return ChatterPrivacy(self.key, self.show_logins, self.optouts, known, self.named)
