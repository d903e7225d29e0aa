"""Lower bounds on toxicity for what chat moderators act on and the tweet model cannot see.

The shipped classifier learned "offensive" from Davidson's tweets, where it means slurs and
profanity. Telling someone to kill themselves, or calling them an idiot, has neither, so after
the shift to chat's prior such messages score about 0.001 ("kys" 0.0009, "shut up idiot" 0.0016).
A short hand-written list (our own, written from common chat moderation rules) sets a floor under
the probability of two kinds of message, matched on the classifier's own normalisation of the
words without their punctuation (so "k y s!" and "1d10t" match too):

- telling someone to harm or kill themselves, or wishing them dead: `SELF_HARM_FLOOR`;
- an insult aimed at the reader ("you are such an idiot", "shut up, clown"): only "you" and
  words that keep the sentence about them ("are", "so", "a", "guys are") may stand between, so
  "you are not stupid", "your idea is stupid" and "did you see that trash" do not match.

A floor never lowers a score, so rankings among the other messages stay the model's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

SELF_HARM_FLOOR = 0.9
DIRECTED_INSULT_FLOOR = 0.6

_PUNCTUATION = '!?.,;:…"()[]{}<>*~'
_SELF = r"(?:your ?self|yourselves|ur ?self|urselves|yo ?self)"
# A command or a wish, not advice or a prediction ("dont kill yourself on the spikes", "you'll
# kill yourself with that jump", "lets go die in lava", "hope you die laughing"); a bare "die"
# is a game's ("just die and get rezzed").
_SELF_HARM = re.compile(
    rf"\bkys\b"
    rf"|(?:^|\b(?:just|go|pls|please|plz|now|then|and|should|lol|so) )"
    rf"(?:kill|neck|hang|off|unalive|end) {_SELF}\b"
    rf"|^(?:kill|neck|hang|off|unalive|end) {_SELF}\b"
    r"|(?:^|\b(?:you|u|just|pls|please|plz|now|then|lol|so) )go (?:and )?die\b"
    r"|\b(?:hope|wish) (?:you|u) (?:die|get cancer)\b(?! (?:laughing|inside))"
    r"|(?:^|\b(?:go|just|pls|please|plz) )drink bleach\b"
)
# Words that may stand between "you" and the insult without changing whom it is about.
_BETWEEN = (
    r"(?:are|r|re|is|a|an|so|such|the|just|literally|really|actually|fucking|fkn|fking|complete"
    r"|total|absolute|little|big|biggest|guys are|all are|people are|lot are)"
)
_INSULT = (
    r"(?:idiots?|morons?|imbeciles?|losers?|clowns?|braindead|brainless|stupid|dumb|dumbass(?:es)?"
    r"|pathetic|worthless|useless|trash|garbage|ugly|disgusting|retards?|retarded|subhuman"
    r"|scum|parasites?|waste of (?:space|air|oxygen))"
)
# "ur" is "you're" only before an article or intensifier: "ur a clown", not "ur mic is trash".
_YOU = r"(?:you|u|youre|you're|ure|ura|ur(?= (?:a|an|so|such|the|just|literally|really)\b))"
_DIRECTED = re.compile(rf"\b(?:{_YOU}|shut up|stfu)(?: {_BETWEEN})* {_INSULT}\b")


# Every word either pattern needs contains one of these stems, in the classifier's tokens too
# (where "idiot!" may read "idioti"): a message without any is never floored, unparsed again.
_STEMS = re.compile(
    r"kys|kill|neck|hang|off|unalive|end|die|bleach|idiot|moron|imbecil|loser|clown|brain"
    r"|stupid|dumb|pathetic|worthless|useless|trash|garbage|ugly|disgust|retard|subhuman|scum"
    r"|parasit|waste"
)


def might_insult(tokens: Sequence[str]) -> bool:
    """False when no floor can apply to a message the classifier tokenised so (a cheap test
    before `insult_floor`, which reads the words again without their punctuation)."""
    return any(_STEMS.search(token.lower()) for token in tokens)


def without_punctuation(text: str) -> str:
    """The words of `text` without the punctuation around them ("you, idiot!" -> "you idiot"),
    which the classifier's tokens keep (and leetspeak would read "!" as "i")."""
    return " ".join(word.strip(_PUNCTUATION) for word in text.split())


def insult_floor(tokens: Sequence[str]) -> float:
    """The least toxicity probability of a message whose words (`without_punctuation`) the
    classifier normalised to `tokens` (an emote named like a word, `E_stupid`, counts as it)."""
    text = " ".join(token.removeprefix("E_").lower() for token in tokens)
    if _SELF_HARM.search(text):
        return SELF_HARM_FLOOR
    if _DIRECTED.search(text):
        return DIRECTED_INSULT_FLOOR
    return 0.0
