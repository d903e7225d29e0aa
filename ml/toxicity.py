"""Fast toxicity scorer: hashed word unigrams + char n-grams -> logistic regression (Davidson, MIT).

Text goes through :func:`ml.text.toxicity_normalize` (leetspeak, spaced-out letters, stretched
letters, links/mentions) so ``f u c k`` and ``sh1t`` hit the same features as their plain forms,
while known emotes stay verbatim behind an ``E_`` marker. HashingVectorizer is stateless, so the
artifact only holds the emote list, the (float16) coefficients, the intercept and the prior shift.

Davidson's tweets were sampled by a hate-speech lexicon: 83 % of them are offensive, against about
1 % of chat messages. A model calibrated on that sample says "probably offensive" for any message
it knows nothing about ("gg", "LUL LUL"). So the shipped model is moved to chat's prior
(`adapt_prior`): the chat prior is estimated by EM on unlabelled chat (Saerens, Latinne and
Decaestecker, 2002, "Adjusting the outputs of a classifier to new a priori probabilities") and
the logit is shifted by the difference of the two priors' log-odds. Rankings are unchanged.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import joblib
import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression

from ml.insults import insult_floor, might_insult, without_punctuation
from ml.text import toxicity_tokens

# 1.2: probability floors for self-harm incitement and directed insults (`ml.insults`).
MODEL_VERSION = "toxicity-hashlr-1.2"
ARTIFACT = Path(__file__).parent / "models" / "toxicity.joblib"
# `is_toxic`: more likely offensive than not, under chat's prior (see `adapt_prior`).
DECISION_THRESHOLD = 0.5
N_WORD = 2**18
N_CHAR = 2**18
_RT_RE = re.compile(r"^\s*(?:rt\s+)?", re.IGNORECASE)


def _vectorizers() -> tuple[HashingVectorizer, HashingVectorizer]:
    # Raw counts per token; rows are summed per message and normalised afterwards.
    common = {"alternate_sign": False, "norm": None, "lowercase": False, "dtype": np.float32}
    word = HashingVectorizer(n_features=N_WORD, analyzer=str.split, **common)  # pyright: ignore[reportArgumentType]
    char = HashingVectorizer(n_features=N_CHAR, analyzer="char_wb", ngram_range=(2, 4), **common)
    return word, char


def clean_tweet(text: str) -> str:
    """Remove Twitter-only artefacts (HTML entities, leading 'RT') so they are not learned."""
    return _RT_RE.sub("", html.unescape(text))


def _logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


class ToxicityModel:
    def __init__(
        self,
        coef: np.ndarray,
        intercept: float,
        emotes: Sequence[str],
        training_prior: float = 0.5,
        target_prior: float | None = None,
    ) -> None:
        self.coef = np.asarray(coef, dtype=np.float32)
        self.intercept = float(intercept)
        self.emotes = frozenset(emotes)
        self.training_prior = float(training_prior)  # share of positives it was fitted on
        self.target_prior = target_prior  # the prior its probabilities are for; None: training's
        self.version = MODEL_VERSION
        self._word, self._char_raw = _vectorizers()
        self._tok_cache: dict[str, str] = {}
        self._score_cache: dict[str, float] = {}

    @classmethod
    def load(cls, path: Path | str | None = None) -> ToxicityModel:
        path = Path(path or ARTIFACT)
        blob = joblib.load(path)
        if blob.get("version") != MODEL_VERSION:
            raise ValueError(f"{path} holds {blob.get('version')}, this code is {MODEL_VERSION}:"
                             " rebuild it with `python -m ml.train`")  # fmt: skip
        return cls(blob["coef"].astype(np.float32), blob["intercept"], blob["emotes"],
                   blob["training_prior"], blob["target_prior"])  # fmt: skip

    def save(self, path: Path | str = ARTIFACT) -> None:
        blob = {
            "version": self.version,
            "coef": self.coef.astype(np.float16),
            "intercept": self.intercept,
            "emotes": sorted(self.emotes),
            "training_prior": self.training_prior,
            "target_prior": self.target_prior,
        }
        joblib.dump(blob, Path(path), compress=("xz", 6))  # pyright: ignore[reportArgumentType]

    def _token_rows(self, tokens: Sequence[str]) -> sp.csr_matrix:
        """l2-normalised [word-hash | char_wb 2-4-gram] row per distinct token."""
        rows = sp.hstack(
            [self._word.transform(tokens), self._char_raw.transform(tokens)], format="csr"
        )
        norms = np.sqrt(np.asarray(rows.multiply(rows).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sp.csr_matrix(sp.diags(1.0 / norms).dot(rows), dtype=np.float32)

    def _tokenize(self, texts: Sequence[str]) -> list[list[str]]:
        return [toxicity_tokens(t, self.emotes, self._tok_cache) for t in texts]

    def features(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Message vector = sum of its token vectors / sqrt(#tokens).

        Pooling per token (instead of n-grams over the whole text) makes the linear score a sum
        of per-token scores, so scoring is a dictionary lookup per token once a token was seen:
        chat reuses a small vocabulary, which is what makes >50k msgs/s possible in Python.
        """
        vocab: dict[str, int] = {}
        indptr = [0]
        indices: list[int] = []
        data: list[float] = []
        for toks in self._tokenize(texts):
            w = 1.0 / np.sqrt(len(toks)) if toks else 0.0
            for tok in toks:
                indices.append(vocab.setdefault(tok, len(vocab)))
                data.append(w)
            indptr.append(len(indices))
        incidence = sp.csr_matrix(
            (np.asarray(data, dtype=np.float32), indices, indptr),
            shape=(len(texts), max(len(vocab), 1)),
        )
        return sp.csr_matrix(incidence @ self._token_rows(list(vocab) or [""]))

    def decision(self, texts: Sequence[str]) -> np.ndarray:
        return self._decision(self._tokenize(texts))

    def _decision(self, token_lists: list[list[str]]) -> np.ndarray:
        cache = self._score_cache
        new = list({t for toks in token_lists for t in toks if t not in cache})
        if new:
            scores = self._token_rows(new) @ self.coef
            if len(cache) > 1_000_000:
                cache.clear()
            cache.update(zip(new, map(float, np.asarray(scores).ravel()), strict=True))
        out = np.empty(len(token_lists), dtype=np.float64)
        for i, toks in enumerate(token_lists):
            out[i] = sum(cache[t] for t in toks) / np.sqrt(len(toks)) if toks else 0.0
        return out + self.intercept

    @property
    def prior_shift(self) -> float:
        """Log-odds added to move probabilities from the training prior to the target prior."""
        if self.target_prior is None:
            return 0.0
        return _logit(self.target_prior) - _logit(self.training_prior)

    def score_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Probability in [0, 1] that each message is offensive or hateful, at the target prior;
        at least `ml.insults`' floor for self-harm incitement and directed insults."""
        if len(texts) == 0:
            return np.zeros(0, dtype=np.float64)
        token_lists = self._tokenize(texts)
        model = 1.0 / (1.0 + np.exp(-(self._decision(token_lists) + self.prior_shift)))
        floors = np.fromiter(map(self._floor, texts, token_lists), dtype=np.float64,
                             count=len(texts))  # fmt: skip
        return np.maximum(model, floors)

    def _floor(self, text: str, tokens: list[str]) -> float:
        """`ml.insults`' floor for a message, read again without punctuation when it may apply."""
        if not might_insult(tokens):
            return 0.0
        return insult_floor(
            toxicity_tokens(without_punctuation(text), self.emotes, self._tok_cache)
        )

    def adapt_prior(self, texts: Sequence[str], tol: float = 1e-7) -> float:
        """Estimate the share of offensive messages among unlabelled `texts` by EM (Saerens et
        al. 2002: rescale each posterior to a candidate prior, take their mean as the next
        candidate) and calibrate to it; returns the estimate."""
        base = self.decision(texts) - _logit(self.training_prior)
        prior = self.training_prior
        for _ in range(1000):
            posterior = 1.0 / (1.0 + np.exp(-(base + _logit(prior))))
            estimate = float(np.clip(posterior.mean(), 1e-6, 1 - 1e-6))
            converged = abs(estimate - prior) < tol
            prior = estimate
            if converged:
                break
        self.target_prior = prior
        return prior

    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        labels: Sequence[int] | np.ndarray,
        emotes: Sequence[str],
        c: float = 4.0,
    ) -> ToxicityModel:
        """``labels``: 1 = offensive/hateful. Plain L2 logistic regression is already close to
        calibrated on its own training distribution (it minimises log-loss); `adapt_prior`
        moves it to another one."""
        y = np.asarray(labels)
        model = cls(np.zeros(N_WORD + N_CHAR, dtype=np.float32), 0.0, emotes, float(y.mean()))
        x = model.features([clean_tweet(t) for t in texts])
        lr = LogisticRegression(C=c, max_iter=2000, solver="liblinear")
        lr.fit(x, y)
        model.coef = lr.coef_.ravel().astype(np.float16).astype(np.float32)
        model.intercept = float(np.ravel(lr.intercept_)[0])
        return model


@lru_cache(maxsize=1)
def default_model() -> ToxicityModel:
    return ToxicityModel.load()


def score_texts(texts: Sequence[str]) -> np.ndarray:
    """Calibrated toxicity probability per message with the shipped model."""
    return default_model().score_texts(texts)
