"""Emote-aware sentiment for Twitch chat.

Score = VADER-style valence sum over tokens, squashed to [-1, 1]. Valences come from
* the VADER word lexicon (shipped inside the ``vaderSentiment`` package, read offline) with
  hand-written chat-slang overrides (:data:`ml.emote_seeds.CHAT_WORDS`: "W", "L", "pog", "rip"),
* emoji valences derived from the VADER emoji descriptions,
* hand-written emote seeds (:data:`ml.emote_seeds.SEED_EMOTES`), which always win, and
* an emote lexicon LEARNED from unlabelled chat (see :func:`learn_emote_lexicon`): an emote's
  valence is how far the word sentiment of the messages it appears in departs from the average
  message, shrunk toward 0 by how well that estimator recovers the seeds' valences,
* unknown subscriber emotes (``forsenLUL``, ``xqcLove``) fall back to the valence of their name.
Negation, intensifiers, ``but`` and CAPS emphasis follow VADER's published rules (reimplemented
here as a vectorisable loop). The 3-class cut is VADER's documented +-0.05 convention, not tuned
on any labelled set.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from ml.emote_seeds import CHAT_WORDS, SEED_EMOTES
from ml.text import emote_variants, is_emote_shaped, tokenize

MODEL_VERSION = "sentiment-emotelex-1.1"
ARTIFACT = Path(__file__).parent / "models" / "sentiment.json"
LABELS = ("negative", "neutral", "positive")

# Constants from the VADER paper (Hutto & Gilbert 2014): empirically derived effect sizes.
BOOST = 0.293
CAPS_BOOST = 0.733
NEGATE = -0.74
EXCLAIM = 0.292
ALPHA = 15.0
# Hand-written function-word lists (chat spellings included).
NEGATORS = frozenset(
    [
        "not",
        "no",
        "never",
        "none",
        "nobody",
        "nothing",
        "neither",
        "nor",
        "nowhere",
        "cannot",
        "cant",
        "dont",
        "doesnt",
        "didnt",
        "isnt",
        "arent",
        "wasnt",
        "werent",
        "wont",
        "wouldnt",
        "shouldnt",
        "couldnt",
        "hasnt",
        "havent",
        "hadnt",
        "aint",
        "without",
        "dont'",
        "nah",
        "nope",
    ]
)
BOOST_UP = frozenset(
    [
        "very",
        "really",
        "so",
        "soo",
        "super",
        "extremely",
        "absolutely",
        "totally",
        "completely",
        "incredibly",
        "hugely",
        "especially",
        "insanely",
        "mega",
        "ultra",
        "fucking",
        "fuckin",
        "freaking",
        "frickin",
        "damn",
        "hella",
        "mad",
        "most",
        "more",
        "too",
        "truly",
        "utterly",
        "highly",
        "deeply",
        "purely",
        "majorly",
        "literally",
    ]
)
BOOST_DOWN = frozenset(
    [
        "slightly",
        "somewhat",
        "kinda",
        "kind",
        "sorta",
        "sort",
        "barely",
        "hardly",
        "little",
        "bit",
        "partly",
        "marginally",
        "occasionally",
        "less",
    ]
)

# Stretched laughter ("hahahaha", "lolol", "lmaooo", "xDDD") is very common in chat and never
# matches a dictionary entry literally.
LAUGH_RE = re.compile(r"^(?:a?(?:ha|he|ja|ah){2,}h?|l+o+l+(?:o+l+)*|l+m+f*a+o+|x+d+|ro+fl+)$")

# Subscriber emote codes: a lowercase channel prefix (letters, digits) and a capitalised name of
# at least three characters.
SUB_EMOTE_RE = re.compile(r"^[a-z][a-z0-9]{1,11}([A-Z][A-Za-z0-9]{2,})$")


def _vader_dir() -> Path:
    import vaderSentiment

    return Path(vaderSentiment.__file__).parent


@lru_cache(maxsize=1)
def vader_word_lexicon() -> dict[str, float]:
    lex: dict[str, float] = {}
    for line in (_vader_dir() / "vader_lexicon.txt").read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            try:
                lex[parts[0]] = float(parts[1])
            except ValueError:
                continue
    return lex


@lru_cache(maxsize=1)
def chat_word_lexicon() -> dict[str, float]:
    """VADER words with the chat-slang overrides of :data:`ml.emote_seeds.CHAT_WORDS`."""
    lex = dict(vader_word_lexicon())
    for word, val in CHAT_WORDS.items():
        if val == 0.0:
            lex.pop(word, None)
        else:
            lex[word] = val
    return lex


@lru_cache(maxsize=1)
def emoji_lexicon() -> dict[str, float]:
    """Emoji -> mean valence of the sentiment words in its description (e.g. 'smiling face')."""
    words = vader_word_lexicon()
    out: dict[str, float] = {}
    path = _vader_dir() / "emoji_utf8_lexicon.txt"
    for line in path.read_text(encoding="utf-8").splitlines():
        emoji, _, desc = line.partition("\t")
        vals = [words[w] for w in desc.lower().replace("-", " ").split() if w in words]
        if emoji and vals:
            out[emoji] = sum(vals) / len(vals)
    return out


def _is_negator(low: str) -> bool:
    return low in NEGATORS or low.endswith("n't")


class SentimentModel:
    """Lexicon scorer; instances are immutable after construction and thread-safe to share."""

    def __init__(
        self,
        emote_lexicon: dict[str, float],
        *,
        word_lexicon: dict[str, float] | None = None,
        pos_threshold: float = 0.05,
        neg_threshold: float = -0.05,
        version: str = MODEL_VERSION,
    ) -> None:
        self.emote_lexicon = dict(emote_lexicon)
        self.word_lexicon = dict(word_lexicon if word_lexicon is not None else chat_word_lexicon())
        self.emoji_lexicon = emoji_lexicon()
        self.pos_threshold = pos_threshold
        self.neg_threshold = neg_threshold
        self.version = version
        # Stretched emotes (LULLLL) resolve through variants; cache the resolution per token.
        self._emote_cache: dict[str, float | None] = {}

    @classmethod
    def load(cls, path: Path | str | None = None) -> SentimentModel:
        blob = json.loads(Path(path or ARTIFACT).read_text(encoding="utf-8"))
        return cls(
            blob["emote_lexicon"],
            pos_threshold=blob["pos_threshold"],
            neg_threshold=blob["neg_threshold"],
            version=blob["version"],
        )

    def save(self, path: Path | str = ARTIFACT) -> None:
        blob = {
            "version": self.version,
            "pos_threshold": self.pos_threshold,
            "neg_threshold": self.neg_threshold,
            "emote_lexicon": {k: round(v, 3) for k, v in sorted(self.emote_lexicon.items())},
        }
        Path(path).write_text(json.dumps(blob, ensure_ascii=False, indent=0), encoding="utf-8")

    def _emote_valence(self, tok: str) -> float | None:
        cached = self._emote_cache.get(tok, False)
        if cached is not False:
            return cached  # type: ignore[return-value]
        val = None
        for variant in emote_variants(tok):
            if variant in self.emote_lexicon:
                val = self.emote_lexicon[variant]
                break
        if val is None:
            val = self._sub_emote_valence(tok)
        if len(self._emote_cache) < 200_000:
            self._emote_cache[tok] = val
        return val

    def _sub_emote_valence(self, tok: str) -> float | None:
        """Channel emotes are ``<lowercase prefix><Name>`` (``forsenLUL``, ``xqcLove``): an
        unknown one takes the valence of its name when that is a known emote or a chat word."""
        m = SUB_EMOTE_RE.match(tok)
        if m is None:
            return None
        name = m.group(1)
        if name in self.emote_lexicon:
            return self.emote_lexicon[name]
        return self.word_lexicon.get(name.lower())

    def _word_valence(self, low: str) -> float | None:
        val = self.word_lexicon.get(low)
        if val is None and len(low) > 2:
            # "sooo goooood" -> "good": try stretch-collapsed forms.
            for variant in emote_variants(low)[1:]:
                val = self.word_lexicon.get(variant)
                if val is not None:
                    break
        if val is None and LAUGH_RE.match(low):
            val = self.word_lexicon.get("haha", 2.0)
        if val is None and not low.isascii():
            vals = [self.emoji_lexicon[ch] for ch in low if ch in self.emoji_lexicon]
            if vals:
                val = sum(vals)
        return val

    def valence(self, text: str, *, use_emotes: bool = True, skip: str | None = None) -> float:
        """Raw (unsquashed) valence sum; ``skip`` ignores one token (used when learning)."""
        toks = tokenize(text)
        if not toks:
            return 0.0
        lows = [t.lower() for t in toks]
        shouting = all(t.isupper() for t in toks if t.isalpha())
        vals: list[float] = []
        but_at = -1
        for i, tok in enumerate(toks):
            low = lows[i]
            if low == "but":
                but_at = len(vals)
            if tok == skip:
                continue
            val = self._emote_valence(tok) if use_emotes else None
            is_emote = val is not None
            if val is None:
                val = self._word_valence(low)
            if val is None or val == 0.0:
                continue
            sign = 1.0 if val > 0 else -1.0
            if not is_emote and not shouting and tok.isupper() and len(tok) > 1:
                val += sign * CAPS_BOOST
            if i > 0:
                prev = lows[i - 1]
                if prev in BOOST_UP:
                    val += sign * BOOST
                elif prev in BOOST_DOWN:
                    val -= sign * BOOST
            if any(_is_negator(lows[j]) for j in range(max(0, i - 3), i)):
                val *= NEGATE
            vals.append(val)
        if not vals:
            return 0.0
        if but_at >= 0:
            vals = [v * (0.5 if k < but_at else 1.5) for k, v in enumerate(vals)]
        total = sum(vals)
        bangs = min(text.count("!"), 4)
        if bangs and total:
            total += math.copysign(bangs * EXCLAIM, total)
        return total

    def valence_parts(self, text: str) -> tuple[float, float, float, float]:
        """(positive emote, negative emote, positive word, negative word) valence sums, without
        the VADER rules: features for a learned model on top of the lexicon."""
        parts = [0.0, 0.0, 0.0, 0.0]
        for tok in tokenize(text):
            val = self._emote_valence(tok)
            offset = 0
            if val is None:
                val = self._word_valence(tok.lower())
                offset = 2
            if val:
                parts[offset + (0 if val > 0 else 1)] += val
        return parts[0], parts[1], parts[2], parts[3]

    def score(self, text: str) -> float:
        v = self.valence(text)
        return v / math.sqrt(v * v + ALPHA)

    def label_scores(self, scores: np.ndarray) -> list[str]:
        neg_or_neutral = np.where(scores <= self.neg_threshold, 0, 1)
        idx = np.where(scores >= self.pos_threshold, 2, neg_or_neutral)
        return [LABELS[i] for i in idx]

    def score_texts(self, texts: Sequence[str]) -> tuple[np.ndarray, list[str]]:
        raw = np.fromiter((self.valence(t) for t in texts), dtype=np.float64, count=len(texts))
        scores = raw / np.sqrt(raw * raw + ALPHA)
        return scores, self.label_scores(scores)


@lru_cache(maxsize=1)
def default_model() -> SentimentModel:
    return SentimentModel.load()


def score_texts(texts: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Scores in [-1, 1] and 'negative'/'neutral'/'positive' labels with the shipped model."""
    return default_model().score_texts(texts)


def _reliability(pairs: Sequence[tuple[float, float]]) -> float:
    """Squared Pearson correlation of (estimate, reference) pairs, 0 when anti-correlated."""
    if len(pairs) < 3:
        return 1.0
    arr = np.asarray(pairs, dtype=np.float64)
    if float(arr[:, 0].std()) == 0.0 or float(arr[:, 1].std()) == 0.0:
        return 0.0
    r = float(np.corrcoef(arr[:, 0], arr[:, 1])[0, 1])
    return max(r, 0.0) ** 2


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


def is_emote_candidate(
    token: str, marked: set[str] | frozenset[str], known_emotes: set[str] | frozenset[str]
) -> bool:
    """Could ``token`` be an emote when learning from unlabelled chat?

    Natively marked and catalog emotes always count. Otherwise the token must be emote-shaped and
    must not be an ordinary word: all-caps tokens are only emotes when marked or catalogued,
    because shouted words (``THE``, ``CHAT``, ``WHY``) are far more common than all-caps emotes
    and would otherwise learn the mood of shouting. A token the word lexicon rates (also when
    marked: Twitch marks ``:D`` and ``<3``) or a stopword is read as a word.
    """
    words = chat_word_lexicon()
    low = token.lower()
    if token in words or low in words:
        return False  # the word lexicon already rates it (":D", "<3", "WTF", "Love")
    if token in marked or token in known_emotes:
        return True
    if not is_emote_shaped(token) or token.isupper():
        return False
    return low not in _stopwords()


def learn_emote_lexicon(
    messages: Iterable[tuple[str, Sequence[str]]],
    known_emotes: set[str],
    *,
    min_count: int = 30,
    prior: float = 10.0,
    rounds: int = 2,
    target_std: float | None = None,
    seeds: dict[str, float] | None = None,
    z_min: float = 2.0,
) -> dict[str, float]:
    """Distant supervision: emote valence from the sentiment of the words around it.

    ``messages`` are (text, natively marked emote codes). Emote identity is case-sensitive (see
    :func:`is_emote_candidate`). For each emote we take the mean polarity of the rest of its
    messages (+1 positive, -1 negative, 0 neutral at VADER's +-0.05 cut) minus the corpus mean,
    shrunk toward 0 with ``prior`` pseudo-messages. Neutral contexts count: an emote that mostly
    sits in neutral messages (a greeting, a channel mascot) gets a small valence even if its few
    sentiment-bearing contexts lean one way; a pos-vs-neg log-odds ignored them and overstated
    such emotes. Estimates within ``z_min`` standard errors of 0 are dropped. Round 1 uses words
    and ``seeds`` (default: the hand-written :data:`ml.emote_seeds.SEED_EMOTES`, never
    overwritten); later rounds also let the emotes learned so far vote, which reaches emote-only
    messages. Polarity differences become valences via the least-squares slope (through 0) that
    maps the seeds' own estimates onto their hand-written valences.
    """
    words = chat_word_lexicon()
    word_model = SentimentModel({}, word_lexicon=words)
    rows: list[tuple[float, list[str]]] = []
    counts: dict[str, int] = defaultdict(int)
    known = set(known_emotes)
    for text, marked in messages:
        marked_set = set(marked)
        toks = tokenize(text)
        ems = sorted({t for t in toks if is_emote_candidate(t, marked_set, known)})
        for e in ems:
            counts[e] += 1
        if ems:
            rows.append((word_model.valence(text, use_emotes=False), ems))
    vocab = {e for e, c in counts.items() if c >= min_count}
    if target_std is None:
        target_std = float(np.std(list(words.values())))
    seeds = dict(SEED_EMOTES if seeds is None else seeds)
    lexicon: dict[str, float] = dict(seeds)
    for _ in range(rounds):
        pos: dict[str, int] = defaultdict(int)
        neg: dict[str, int] = defaultdict(int)
        tot: dict[str, int] = defaultdict(int)
        n_pos = n_neg = n_all = 0
        for wval, ems in rows:
            present = [e for e in ems if e in vocab]
            if not present:
                continue
            emo_sum = sum(lexicon.get(e, 0.0) for e in present)
            for e in present:
                v = wval + emo_sum - lexicon.get(e, 0.0)
                c = v / math.sqrt(v * v + ALPHA)
                tot[e] += 1
                n_all += 1
                if c >= 0.05:
                    pos[e] += 1
                    n_pos += 1
                elif c <= -0.05:
                    neg[e] += 1
                    n_neg += 1
        base = (n_pos - n_neg) / max(n_all, 1)
        diffs: dict[str, float] = {}
        for e in vocab:
            a, b, n = pos[e], neg[e], tot[e]
            if a + b < min_count // 3:
                continue  # too few sentiment-bearing contexts to say anything
            mean = (a - b + prior * base) / (n + prior)
            second = (a + b + prior * abs(base)) / (n + prior)  # E[polarity^2]
            se = math.sqrt(max(second - mean * mean, 1e-9) / (n + prior))
            d = mean - base
            # Keep only estimates that clear ~2 standard errors: most emotes are sentiment-free
            # reactions and a noisy small valence still flips a neutral message.
            if abs(d) >= z_min * se:
                diffs[e] = d
        # Put polarity differences on the valence scale with the hand-written anchors; falls back
        # to matching the spread of the VADER word lexicon when too few seeds occur.
        pairs = [(diffs[e], v) for e, v in seeds.items() if e in diffs]
        if len(pairs) >= 10:
            scale = sum(d * v for d, v in pairs) / max(sum(d * d for d, _ in pairs), 1e-9)
        else:
            scale = target_std / max(float(np.std(list(diffs.values()) or [1.0])), 1e-9)
        # Reliability shrinkage: the squared correlation between the seeds' co-occurrence
        # estimates and their hand-written valences is the share of valence the co-occurrence
        # signal explains (laughter emotes, for one, sit next to words about failure), so learned
        # valences are scaled by it toward 0. Computed from the seeds alone, never from labels.
        shrink = _reliability([(d * scale, v) for d, v in pairs]) if len(pairs) >= 10 else 1.0
        learned = {e: max(-4.0, min(4.0, d * scale * shrink)) for e, d in diffs.items()}
        lexicon = {**learned, **seeds}  # hand-written anchors win over co-occurrence estimates
    return lexicon
