"""Moderation-supervised adaptation: learn what a channel's moderators act on.

Weak labels come from moderation itself (the author was timed out/banned shortly after the
message, or it was deleted). Features use only what was visible when the message was sent: the
text (toxicity score + hashed n-grams), the chatter's own recent messages and moderation history,
the surrounding chat rate, and the channel's norms (how this message compares to the chat around
it). Moderators act on context, so the context features carry much of the signal.

No model trained here is shipped: the only moderation data at hand (NormVio) has no licence.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import scipy.sparse as sp
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression

from ml.text import copypasta_signature, tokenize, toxicity_normalize
from ml.toxicity import ToxicityModel

HISTORY_S = 30.0  # trailing window for context features
WEAK_LABEL_S = 20.0  # action within this many seconds after a message marks it


@dataclass(slots=True)
class ChatEvent:
    ts: float  # seconds
    user: str
    text: str | None  # None for moderation actions
    action: str = "message"  # message | timeout | ban | delete_message


@dataclass(slots=True)
class Candidate:
    channel: str
    window: int  # which context window the message came from
    event: int  # index into the window's events
    weak_label: int
    eval_label: int  # 1 = the moderated message, 0 = other chatters, -1 = not evaluated


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


def context_features(
    events: Sequence[ChatEvent], tox: np.ndarray, index: Sequence[int]
) -> np.ndarray:
    """Dense features for ``events[i]`` (i in ``index``) from the trailing HISTORY_S seconds.

    One sliding pass over the window; ``tox`` is each event's toxicity (0 for actions).
    """
    wanted = {i: r for r, i in enumerate(index)}
    out = np.zeros((len(index), len(DENSE_NAMES)), dtype=np.float32)
    msg_tox = [float(tox[i]) for i, e in enumerate(events) if e.text is not None]
    chat_mean = float(np.mean(msg_tox)) if msg_tox else 0.0
    win: deque[int] = deque()
    tok_seen: Counter[str] = Counter()
    sig_seen: Counter[str] = Counter()
    tox_sum = tox_sq = 0.0
    n_msgs = n_mod = 0
    sigs: dict[int, str] = {}
    toks: dict[int, set[str]] = {}
    per_user: dict[str, deque[int]] = {}
    for i, ev in enumerate(events):
        while win and ev.ts - events[win[0]].ts > HISTORY_S:
            j = win.popleft()
            if events[j].text is None:
                n_mod -= 1
                continue
            n_msgs -= 1
            tox_sum -= tox[j]
            tox_sq -= tox[j] * tox[j]
            tok_seen.subtract(toks[j])
            sig_seen[sigs[j]] -= 1
        mine = per_user.setdefault(ev.user, deque())
        while mine and ev.ts - events[mine[0]].ts > HISTORY_S:
            mine.popleft()
        if ev.text is not None:
            sigs[i] = copypasta_signature(ev.text)
            toks[i] = set(tokenize(ev.text))
        if i in wanted and ev.text is not None:
            text = ev.text
            mine_msgs = [j for j in mine if events[j].text is not None]
            mean = tox_sum / n_msgs if n_msgs else float(tox[i])
            std = np.sqrt(max(tox_sq / n_msgs - mean * mean, 0.0)) if n_msgs else 0.0
            letters = [c for c in text if c.isalpha()]
            my_toks = toks[i]
            sig = sigs[i]
            own_sig = sum(sigs[j] == sig for j in mine_msgs) if sig else 0
            out[wanted[i]] = (
                tox[i],
                tox[i] - mean,
                (tox[i] - mean) / (std + 0.05),
                len(text),
                len(my_toks),
                sum(c.isupper() for c in letters) / max(len(letters), 1),
                sum(not c.isascii() for c in text) / max(len(text), 1),
                sum(c.isdigit() for c in text) / max(len(text), 1),
                "@" in text,
                "http" in text or "www." in text,
                "?" in text,
                "!" in text,
                len(mine_msgs),
                len(mine) - len(mine_msgs),
                max((tox[j] for j in mine_msgs), default=0.0),
                own_sig,
                not mine_msgs,
                n_msgs / HISTORY_S,
                n_mod,
                (sig_seen[sig] - own_sig) if sig else 0,
                sum(tok_seen[t] <= 0 for t in my_toks) / max(len(my_toks), 1),
                chat_mean,
            )
        win.append(i)
        mine.append(i)
        if ev.text is None:
            n_mod += 1
        else:
            n_msgs += 1
            tox_sum += tox[i]
            tox_sq += tox[i] * tox[i]
            tok_seen.update(toks[i])
            sig_seen[sigs[i]] += 1
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
        norm = [toxicity_normalize(t, self.toxicity.emotes) for t in texts]
        return sp.csr_matrix(self.hasher.transform(norm))

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
            if test.all() or len(np.unique(y[~test])) < 2:
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


def train_channel_model(
    windows: Iterable[Sequence[ChatEvent]],
    toxicity: ToxicityModel,
    channel_ids: Sequence[str] | None = None,
) -> ModerationModel:
    """Train on one channel's (or several channels') own chat with moderation weak labels.

    ``windows`` are time-ordered event lists (messages and moderation actions).
    """
    texts: list[str] = []
    dense: list[np.ndarray] = []
    ys: list[int] = []
    groups: list[str] = []
    for w, events in enumerate(windows):
        idx = [i for i, e in enumerate(events) if e.text is not None]
        if not idx:
            continue
        tox = np.zeros(len(events))
        tox[idx] = toxicity.score_texts([events[i].text or "" for i in idx])
        labels = weak_labels(events)
        dense.append(context_features(events, tox, idx))
        texts.extend(events[i].text or "" for i in idx)
        ys.extend(labels[i] for i in idx)
        groups.extend([channel_ids[w] if channel_ids else str(w)] * len(idx))
    model = ModerationModel(toxicity)
    xt = model.text_x(texts)
    return model.fit(xt, np.vstack(dense), np.asarray(ys), np.asarray(groups))


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
