"""Lower bounds on toxicity for what chat moderators act on and the tweet model cannot see.

The shipped classifier learned "offensive" from Davidson's tweets, where it means slurs and
profanity. Telling someone to kill themselves, or calling them an idiot, has neither, so after
the shift to chat's prior such messages score about 0.001 ("kys" 0.0009, "shut up idiot" 0.0016).
A short hand-written list (our own, written from common chat moderation rules) sets a floor under
the probability of two kinds of message, matched on the classifier's own normalised tokens (so
"k y s" and "1d10t" match too):

- urging someone to harm or kill themselves, or wishing them dead: `SELF_HARM_FLOOR`;
- an insult aimed at the reader ("you ... idiot", "shut up, clown"): `DIRECTED_INSULT_FLOOR`.

A floor never lowers a score, so rankings among the other messages stay the model's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

SELF_HARM_FLOOR = 0.9
DIRECTED_INSULT_FLOOR = 0.6

_SELF = r"(?:your ?self|ur ?self|yoself|urslf)"
_SELF_HARM = re.compile(
    rf"\b(?:kys|(?:kill|neck|hang|off|unalive|end) {_SELF}"
    r"|go (?:and )?die|(?:hope|wish) (?:you|u) (?:die|get cancer)|drink bleach)\b"
)
# "you", "ur" (you're), "u r a" as the tokenizer joins it; not "your": "your idea is stupid".
_YOU = r"(?:you|u|ya|youre|you're|ur|ure|ura|yo)"
# Up to two words between, none a negation: "you are so stupid", not "you are not stupid".
_GAP = r"(?: (?!not\b|never\b|no\b|arent\b|aren't\b)\S+){0,2}"
_INSULT = (
    r"(?:idiot|idiots|moron|morons|imbecile|loser|losers|clown|braindead|brainless|stupid"
    r"|dumb|dumbass|pathetic|worthless|useless|trash|garbage|ugly|disgusting|retarded|subhuman"
    r"|scum|parasite|waste of (?:space|air|oxygen))"
)
_DIRECTED = re.compile(rf"\b(?:{_YOU}|shut up|stfu){_GAP} {_INSULT}\b")


def insult_floor(tokens: Sequence[str]) -> float:
    """The least toxicity probability a message with these normalised tokens can have (an
    emote named like a word, `E_stupid`, counts as the word)."""
    text = " ".join(token.removeprefix("E_").lower() for token in tokens)
    if _SELF_HARM.search(text):
        return SELF_HARM_FLOOR
    if _DIRECTED.search(text):
        return DIRECTED_INSULT_FLOOR
    return 0.0
