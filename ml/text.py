"""Chat-specific text normalisation shared by the sentiment and toxicity models.

Twitch chat differs from ordinary prose: emotes are case-sensitive whitespace-separated tokens
(``LUL`` is an emote, ``lul`` is not), letters are stretched for emphasis (``sooooo``,
``LULLLL``), and toxic words are disguised with digits or spacing (``sh1t``, ``f u c k``).
"""

from __future__ import annotations

import hashlib
import re

URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
MENTION_RE = re.compile(r"@\w+")
# Three or more of the same character: stretched words keep two letters so "soo" != "so" stays
# visible as emphasis while all stretch lengths share one form.
REPEAT3_RE = re.compile(r"(.)\1{2,}")
REPEAT2_RE = re.compile(r"(.)\1+")
# Digits and symbols only count as leetspeak inside a token that also holds letters (so "2024"
# or "$5" are left alone).
LEET_MAP = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "@": "a",
        "$": "s",
        "!": "i",
        "|": "l",
        "+": "t",
    }
)
LEET_TOKEN_RE = re.compile(r"(?=\S*[a-z])(?=\S*[0-9@$!|+])\S+", re.IGNORECASE)
WORD_STRIP = "\"'.,!?;:()[]{}<>*~`^_-–—…"
# Tokens that look like emotes: CamelCase / trailing-capital (PogChamp, monkaS, FeelsBadMan),
# digit-led (4Head) or short all-caps (LUL, KEKW). Only used when no emote vocabulary is known.
EMOTE_SHAPE_RE = re.compile(
    r"^(?:[a-z0-9]+[A-Z][A-Za-z0-9]*|[A-Z][a-z]+[A-Z][A-Za-z0-9]*|"
    r"[0-9][A-Z][a-z]+|[A-Z]{3,8})$"
)
EMOTICON_RE = re.compile(r"^(?:[:;=xX8][\-o']?[()\[\]DPpO3/\\|*]+|<3|[()\[\]][\-o']?[:;=])$")


def collapse_repeats(text: str, keep: int = 2) -> str:
    """``sooooo`` -> ``soo`` (keep=2) or ``so`` (keep=1)."""
    if keep == 1:
        return REPEAT2_RE.sub(r"\1", text)
    return REPEAT3_RE.sub(r"\1\1", text)


def emote_variants(token: str) -> tuple[str, ...]:
    """Lookup keys for a possibly stretched emote: ``LULLLL`` -> (``LULLLL``, ``LULL``, ``LUL``)."""
    two = collapse_repeats(token, 2)
    one = collapse_repeats(token, 1)
    return tuple(dict.fromkeys((token, two, one)))


def strip_links(text: str) -> str:
    if "@" not in text and "://" not in text and "www." not in text.lower():
        return text  # neither pattern can match: skip two regex passes over most chat
    return MENTION_RE.sub(" ", URL_RE.sub(" ", text))


def tokenize(text: str) -> list[str]:
    """Whitespace tokens with URLs/@mentions removed and edge punctuation stripped.

    Case is preserved because emotes are case-sensitive; callers lowercase word lookups.
    Emoticons such as ``:)`` are kept whole.
    """
    out: list[str] = []
    for raw in strip_links(text).split():
        if EMOTICON_RE.match(raw):
            out.append(raw)
            continue
        tok = raw.strip(WORD_STRIP)
        if tok:
            out.append(tok)
    return out


def is_emote_shaped(token: str) -> bool:
    return bool(EMOTE_SHAPE_RE.match(token))


_DOTTED_RE = re.compile(r"^(?:[a-z0-9@$!*][.\-_*]){2,}[a-z0-9@$!*][.\-_*]?$", re.IGNORECASE)
_SEP_RE = re.compile(r"[.\-_*]")


def match_emote(token: str, emotes: frozenset[str] | set[str]) -> str | None:
    """The known emote a (possibly stretched) token stands for, else None."""
    if token in emotes:
        return token
    if token.islower() or len(token) < 3:
        return None  # stretched emote codes keep their capitals (LULLL, PogChampp)
    for variant in emote_variants(token)[1:]:
        if variant in emotes:
            return variant
    return None


def normalize_token(token: str, emotes: frozenset[str] | set[str] = frozenset()) -> str:
    """One whitespace token -> canonical toxicity form (see :func:`toxicity_tokens`)."""
    emote = match_emote(token, emotes) if emotes else None
    if emote is not None:
        return "E_" + emote
    if _DOTTED_RE.match(token):
        token = _SEP_RE.sub("", token)  # f.u.c.k -> fuck
    low = token.lower()
    if not low.isalpha() and LEET_TOKEN_RE.fullmatch(low):
        low = low.translate(LEET_MAP)
    return collapse_repeats(low, 2)


def toxicity_tokens(
    text: str, emotes: frozenset[str] | set[str] = frozenset(), cache: dict[str, str] | None = None
) -> list[str]:
    """Canonical lowercase tokens for toxicity n-grams.

    Known emotes are kept verbatim (case intact) behind an ``E_`` marker: leetspeak mapping would
    otherwise turn ``4Head`` into ``ahead`` and lowercasing would merge ``LUL`` with ``lul``.
    Runs of >= 3 single characters (``f u c k``) are joined. ``cache`` memoises per-token work,
    which dominates scoring cost because chat reuses a small vocabulary.
    """
    if "@" in text or "http" in text or "www." in text:
        text = MENTION_RE.sub(" xmentionx ", URL_RE.sub(" xurlx ", text))
    raw = text.split()
    if sum(len(t) == 1 for t in raw) >= 3:
        raw = _join_spaced(raw)
    out: list[str] = []
    for tok in raw:
        if cache is None:
            out.append(normalize_token(tok, emotes))
            continue
        norm = cache.get(tok)
        if norm is None:
            norm = normalize_token(tok, emotes)
            if len(cache) < 500_000:
                cache[tok] = norm
        out.append(norm)
    return out


def _join_spaced(raw: list[str]) -> list[str]:
    out: list[str] = []
    run: list[str] = []
    for tok in [*raw, ""]:
        if len(tok) == 1 and tok not in ".,!?":
            run.append(tok)
            continue
        if len(run) >= 3:
            out.append("".join(run))
        else:
            out.extend(run)
        run = []
        if tok:
            out.append(tok)
    return out


def toxicity_normalize(text: str, emotes: frozenset[str] | set[str] = frozenset()) -> str:
    return " ".join(toxicity_tokens(text, emotes))


_SIG_STRIP_RE = re.compile(r"[^\w\s]+")


def copypasta_signature(text: str) -> str:
    """Stable 16-hex signature so re-posts of one copypasta group together.

    Ignores case, links, mentions, punctuation, stretched letters and spacing, which are the
    usual edits people make when re-pasting. Empty text maps to "".
    """
    norm = collapse_repeats(strip_links(text).lower(), 1)
    norm = " ".join(_SIG_STRIP_RE.sub(" ", norm).split())
    if not norm:
        return ""
    return hashlib.blake2b(norm.encode("utf-8"), digest_size=8).hexdigest()
