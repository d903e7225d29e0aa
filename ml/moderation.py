"""Moderation-supervised adaptation: learn what a channel's moderators act on.

Weak labels come from moderation itself (the author was timed out/banned shortly after the
message, or it was deleted). Features use only what was visible when the message was sent: the
text (toxicity score + hashed n-grams), the chatter's own recent messages and moderation history,
the surrounding chat rate, and the channel's norms (how this message compares to the chat around
it). Moderators act on context, so the context features carry much of the signal.

No model is shipped: the only moderation data at hand (NormVio) has no licence, so it is used for
evaluation alone. In the warehouse the models are fitted on the warehouse's own moderation
(`ml.warehouse.score_moderation_window`): `chat_windows` turns its messages and actions into the
event windows the functions here take.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize

from ml.text import copypasta_signature, tokenize, toxicity_tokens
from ml.toxicity import ToxicityModel

MODEL_VERSION = "moderation-1.1.0"
HISTORY_S = 30.0  # trailing window for context features
WEAK_LABEL_S = 20.0  # action within this many seconds after a message marks it
MIN_POSITIVES = 20  # weak positives needed to fit a model
# Warehouse event types of moderation acting on one chatter, as `ChatEvent.action`.
ACTIONS = {"timeout": "timeout", "ban": "ban", "delete": "delete_message"}


@dataclass(slots=True)
class ChatEvent:
    ts: float  # seconds
    user: str
    text: str | None  # None for moderation actions
    action: str = "message"  # message | timeout | ban | delete_message


DENSE_NAMES = (
    "tox",
    "tox_minus_chat",
    "tox_z",
    "len",
    "n_tokens",
    "caps_ratio",
    "non_ascii",
    "digits",
    "mention",
    "url",
    "question",
    "exclaim",
    "user_prev_msgs",
    "user_prev_mod",
    "user_prev_tox",
    "user_dup",
    "user_first",
    "chat_rate",
    "mod_rate",
    "same_sig_others",
    "novelty",
    "chat_tox_mean",
)


def parse_ts(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def weak_labels(events: Sequence[ChatEvent], horizon: float = WEAK_LABEL_S) -> list[int]:
    """1 if the author was timed out/banned within ``horizon`` s after the message and this was
    their last message before it, or the message was deleted; else 0."""
    labels = [0] * len(events)
    last_msg: dict[str, int] = {}
    for i, ev in enumerate(events):
        if ev.text is not None:
            last_msg[ev.user] = i
        elif ev.action in ("timeout", "ban", "delete_message"):
            j = last_msg.get(ev.user)
            if j is not None and ev.ts - events[j].ts <= horizon:
                labels[j] = 1
    return labels


@dataclass(slots=True, frozen=True)
class _TextFacts:
    """What context features need from one message text alone."""

    signature: str  # copypasta signature ("" for none)
    tokens: frozenset[str]
    stats: tuple[float, ...]  # len .. exclaim, in DENSE_NAMES order


def _text_facts(text: str) -> _TextFacts:
    tokens = frozenset(tokenize(text))
    letters = [c for c in text if c.isalpha()]
    size = max(len(text), 1)
    stats = (
        float(len(text)),
        float(len(tokens)),
        sum(map(str.isupper, letters)) / max(len(letters), 1),
        (len(text) - len(text.encode("ascii", "ignore"))) / size,  # non-ASCII share
        sum(map(str.isdigit, text)) / size,
        float("@" in text),
        float("http" in text or "www." in text),
        float("?" in text),
        float("!" in text),
    )
    return _TextFacts(copypasta_signature(text), tokens, stats)


def context_features(
    events: Sequence[ChatEvent], tox: np.ndarray, index: Sequence[int]
) -> np.ndarray:
    """Dense features for ``events[i]`` (i in ``index``) from the trailing HISTORY_S seconds
    and, for the chat's norm, every earlier message of the window: never from later events.

    One sliding pass over the window; ``tox`` is each event's toxicity (0 for actions). Chat
    repeats itself (emote spam, copypasta), so what depends on the text alone is worked out
    once per distinct text.
    """
    wanted = {i: r for r, i in enumerate(index)}
    out = np.zeros((len(index), len(DENSE_NAMES)), dtype=np.float32)
    toxl: list[float] = np.asarray(tox, dtype=np.float64).tolist()  # fast scalar reads
    seen_tox = seen_msgs = 0.0  # every earlier message of the window: the channel's norm
    win: deque[int] = deque()
    tok_seen: Counter[str] = Counter()
    sig_seen: Counter[str] = Counter()
    tox_sum = tox_sq = 0.0
    n_msgs = n_mod = 0
    known: dict[str, _TextFacts] = {}
    facts: dict[int, _TextFacts] = {}
    # Per chatter, in the trailing window: their messages, their signatures' counts and the
    # times moderation acted on them.
    user_msgs: dict[str, deque[tuple[int, str]]] = {}
    user_sigs: dict[str, Counter[str]] = {}
    user_mods: dict[str, deque[float]] = {}
    for i, ev in enumerate(events):
        now = ev.ts
        while win and now - events[win[0]].ts > HISTORY_S:
            j = win.popleft()
            if events[j].text is None:
                n_mod -= 1
                continue
            n_msgs -= 1
            tox_sum -= toxl[j]
            tox_sq -= toxl[j] * toxl[j]
            gone = facts.pop(j)
            tok_seen.subtract(gone.tokens)
            sig_seen[gone.signature] -= 1
        user = ev.user
        msgs = user_msgs.get(user)
        if msgs is None:
            msgs = user_msgs[user] = deque()
            user_sigs[user] = Counter()
            user_mods[user] = deque()
        sigs = user_sigs[user]
        while msgs and now - events[msgs[0][0]].ts > HISTORY_S:
            sigs[msgs.popleft()[1]] -= 1
        mods = user_mods[user]
        while mods and now - mods[0] > HISTORY_S:
            mods.popleft()
        text = ev.text
        if text is None:
            mods.append(now)
            win.append(i)
            n_mod += 1
            continue
        fact = known.get(text)
        if fact is None:
            fact = known[text] = _text_facts(text)
        facts[i] = fact
        t = toxl[i]
        if i in wanted:
            mean = tox_sum / n_msgs if n_msgs else t
            std = np.sqrt(max(tox_sq / n_msgs - mean * mean, 0.0)) if n_msgs else 0.0
            sig = fact.signature
            own_sig = sigs[sig] if sig else 0
            my_toks = fact.tokens
            out[wanted[i]] = (
                t,
                t - mean,
                (t - mean) / (std + 0.05),
                *fact.stats,
                len(msgs),
                len(mods),
                max((toxl[j] for j, _ in msgs), default=0.0),
                own_sig,
                not msgs,
                n_msgs / HISTORY_S,
                n_mod,
                (sig_seen[sig] - own_sig) if sig else 0,
                sum(tok_seen[tok] <= 0 for tok in my_toks) / max(len(my_toks), 1),
                seen_tox / seen_msgs if seen_msgs else t,
            )
        win.append(i)
        msgs.append((i, fact.signature))
        sigs[fact.signature] += 1
        n_msgs += 1
        seen_msgs += 1
        seen_tox += t
        tox_sum += t
        tox_sq += t * t
        tok_seen.update(fact.tokens)
        sig_seen[fact.signature] += 1
    return out


class ModerationModel:
    """Hashed text LR (what gets moderated, by wording) stacked under a gradient-boosted model
    over the text score, the toxicity score and the context features."""

    def __init__(self, toxicity: ToxicityModel, random_state: int = 0) -> None:
        self.toxicity = toxicity
        self.hasher = HashingVectorizer(
            n_features=2**18, analyzer="char_wb", ngram_range=(2, 4), alternate_sign=False
        )
        self.text_lr = LogisticRegression(C=0.5, max_iter=1000, class_weight="balanced")
        self.gbm = HistGradientBoostingClassifier(
            max_iter=200,
            learning_rate=0.05,
            max_leaf_nodes=15,
            l2_regularization=1.0,
            random_state=random_state,
        )

    def text_x(self, texts: Sequence[str]) -> sp.csr_matrix:
        """`hasher` over each text's toxicity normal form. Its char n-grams never cross a word
        boundary, so a text's counts are the sum of its words' counts: each distinct word is
        hashed once (chat reuses a small vocabulary), then rows are l2-normalised as the
        hasher would."""
        word_counts = HashingVectorizer(
            **{**self.hasher.get_params(), "norm": None, "lowercase": False}
        )
        tokens_cache: dict[str, str] = {}
        words: dict[str, list[int]] = {}  # text -> its words' columns
        vocab: dict[str, int] = {}
        indptr = [0]
        indices: list[int] = []
        for text in texts:
            columns = words.get(text)
            if columns is None:
                tokens = toxicity_tokens(text, self.toxicity.emotes, tokens_cache)
                columns = [vocab.setdefault(token.lower(), len(vocab)) for token in tokens]
                words[text] = columns
            indices.extend(columns)
            indptr.append(len(indices))
        incidence = sp.csr_matrix(
            (np.ones(len(indices)), indices, indptr), shape=(len(texts), max(len(vocab), 1))
        )
        counts = sp.csr_matrix(incidence @ word_counts.transform(list(vocab) or [""]))
        counts.sort_indices()
        return sp.csr_matrix(normalize(counts, norm=self.hasher.norm))

    def fit(
        self, xt: sp.csr_matrix, dense: np.ndarray, y: np.ndarray, groups: np.ndarray
    ) -> ModerationModel:
        """``xt`` from :meth:`text_x`; ``groups`` (channels/windows) keep the stacking honest."""
        # Out-of-fold text scores (by group) so the GBM does not learn to trust an overfit LR.
        oof = np.zeros(len(y))
        uniq = np.unique(groups)
        folds = np.array_split(np.random.default_rng(0).permutation(uniq), 3)
        for fold in folds:
            test = np.isin(groups, fold)
            if not test.any() or test.all() or len(np.unique(y[~test])) < 2:
                continue
            lr = LogisticRegression(C=0.5, max_iter=1000, class_weight="balanced")
            lr.fit(xt[~test], y[~test])
            oof[test] = lr.decision_function(xt[test])
        self.text_lr.fit(xt, y)
        self.gbm.fit(np.column_stack([oof, dense]), y)
        return self

    def predict_proba(self, xt: sp.csr_matrix, dense: np.ndarray) -> np.ndarray:
        text_score = self.text_lr.decision_function(xt)
        return self.gbm.predict_proba(np.column_stack([text_score, dense]))[:, 1]

    def score_window(
        self, events: Sequence[ChatEvent], index: Sequence[int], tox: np.ndarray | None = None
    ) -> np.ndarray:
        """Probability that each message ``events[i]`` (i in ``index``) gets moderated, from
        what was visible when it was sent (the window's earlier events). ``tox``: each event's
        toxicity when already known (NaN where not), else scored here."""
        if not index:
            return np.zeros(0)
        dense = context_features(events, known_toxicity(self.toxicity, events, tox), index)
        return self.predict_proba(self.text_x([events[i].text or "" for i in index]), dense)


def known_toxicity(
    toxicity: ToxicityModel, events: Sequence[ChatEvent], tox: np.ndarray | None = None
) -> np.ndarray:
    """Each event's toxicity: `tox` where known (not NaN), scored here for the other messages,
    0 for moderation actions."""
    tox = np.full(len(events), np.nan) if tox is None else np.array(tox, dtype=np.float64)
    unknown = [i for i, e in enumerate(events) if e.text is not None and np.isnan(tox[i])]
    tox[unknown] = toxicity.score_texts([events[i].text or "" for i in unknown])
    return np.nan_to_num(tox)


@dataclass
class ChatWindow:
    channel: str
    events: list[ChatEvent]
    event_ids: list[str | None]  # the message's event id; None for moderation actions
    sent_at: list[pd.Timestamp]
    toxicity: np.ndarray  # per event, when known (NaN where not; 0 for actions)

    def messages_since(self, since: datetime) -> list[int]:
        """Positions of the window's messages sent at or after `since`."""
        at = pd.Timestamp(since)
        pairs = zip(self.event_ids, self.sent_at, strict=True)
        return [
            i for i, (event_id, sent) in enumerate(pairs) if event_id is not None and sent >= at
        ]


def chat_windows(
    messages: pd.DataFrame, actions: pd.DataFrame, freq: str | None = "1h"
) -> list[ChatWindow]:
    """Warehouse chat as time-ordered event windows, one per channel and `freq` period (None:
    one per channel).

    `messages`: (channel, event_id, sent_at, user_login, body[, toxicity_probability]).
    `actions`: (channel, sent_at, action_type in `ACTIONS`, target_user_login,
    target_message_id); a deletion without a target chatter is attributed to the author of its
    target message when that message is in `messages`. At the same instant a message comes
    before an action, which can only follow it.
    """
    authors = dict(
        zip(zip(messages["channel"], messages["event_id"], strict=True),
            messages["user_login"], strict=True)
    )  # fmt: skip
    acting = actions[actions["action_type"].isin(list(ACTIONS))]
    target = [
        login if isinstance(login, str) else authors.get((channel, message_id))
        for channel, login, message_id in zip(
            acting["channel"], acting["target_user_login"], acting["target_message_id"],
            strict=True,
        )
    ]  # fmt: skip
    frames = [
        pd.DataFrame({
            "channel": messages["channel"], "sent_at": messages["sent_at"], "order": 0,
            "user": messages["user_login"], "text": messages["body"].fillna(""),
            "action": "message", "event_id": messages["event_id"],
            "tox": messages.get("toxicity_probability", np.nan),
        }),
        pd.DataFrame({
            "channel": acting["channel"], "sent_at": acting["sent_at"], "order": 1,
            "user": target, "text": None,
            "action": [ACTIONS[kind] for kind in acting["action_type"]],
            "event_id": None, "tox": 0.0,
        }),
    ]  # fmt: skip
    events = pd.concat([f for f in frames if not f.empty] or frames[:1], ignore_index=True)
    events = events[events["user"].notna()]
    if events.empty:
        return []
    sent_at = pd.Series(pd.to_datetime(events["sent_at"], utc=True), index=events.index)
    events = events.assign(
        sent_at=sent_at, period=sent_at.dt.floor(freq) if freq else sent_at.min()
    ).sort_values(["channel", "period", "sent_at", "order"], kind="stable")
    windows: list[ChatWindow] = []
    for key, group in events.groupby(["channel", "period"], sort=False):
        channel = cast(tuple, key)[0]
        seconds = (group["sent_at"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy()
        texts = group["text"].to_numpy()
        windows.append(
            ChatWindow(
                channel=str(channel),
                events=[
                    ChatEvent(float(ts), str(user), None if action != "message" else str(text),
                              str(action))
                    for ts, user, text, action in zip(
                        seconds, group["user"], texts, group["action"], strict=True
                    )
                ],
                event_ids=[None if e is None else str(e) for e in group["event_id"]],
                sent_at=list(group["sent_at"]),
                toxicity=group["tox"].to_numpy(dtype=np.float64, na_value=np.nan),
            )
        )  # fmt: skip
    return windows


def train_on_windows(
    windows: Sequence[ChatWindow], toxicity: ToxicityModel, min_positives: int = MIN_POSITIVES
) -> tuple[ModerationModel | None, int]:
    """A model of what moderators act on in `windows` (weak labels, each window a group for the
    stacking) and its weak positives; no model below `min_positives` or when every message was
    acted on. Toxicity already known for a message (`ChatWindow.toxicity`) is not scored again.
    """
    texts: list[str] = []
    dense: list[np.ndarray] = []
    labels: list[int] = []
    groups: list[int] = []
    for w, window in enumerate(windows):
        events = window.events
        index = [i for i, e in enumerate(events) if e.text is not None]
        if not index:
            continue
        weak = weak_labels(events)
        tox = known_toxicity(toxicity, events, window.toxicity)
        dense.append(context_features(events, tox, index))
        texts.extend(events[i].text or "" for i in index)
        labels.extend(weak[i] for i in index)
        groups.extend([w] * len(index))
    positives = sum(labels)
    if positives < min_positives or positives == len(labels):
        return None, positives
    model = ModerationModel(toxicity)
    xt = model.text_x(texts)
    return model.fit(xt, np.vstack(dense), np.asarray(labels), np.asarray(groups)), positives


def normvio_window(rec: dict) -> tuple[list[ChatEvent], int]:
    """NormVio record -> time-ordered events of its chat window and the moderated message's
    index. Only ``multi_user_context`` (what everyone saw) is used, never the annotations."""
    bad = rec["bad_utterance"]
    events: list[ChatEvent] = []
    bad_idx = -1
    for m in rec["multi_user_context"]:
        action = m.get("action") or "message"
        text = m.get("message") if action == "message" else None
        if action == "message" and text is None:
            continue
        if m.get("message_id") and m.get("message_id") == bad.get("message_id"):
            bad_idx = len(events)
        events.append(ChatEvent(parse_ts(m["timestamp"]), m.get("user") or "", text, action))
    if bad_idx < 0:
        ts = parse_ts(bad["timestamp"])
        bad_idx = next((i for i, e in enumerate(events) if e.ts > ts), len(events))
        events.insert(bad_idx, ChatEvent(ts, bad["user"], bad["message"]))
    return events, bad_idx
