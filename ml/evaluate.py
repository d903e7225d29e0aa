"""Measure every model: ``python -m ml.evaluate [--out DIR] [--skip-moderation]``.

Writes ``ml_eval.json`` and ``ml_eval.md`` with (metric, dataset, n, value) rows and throughput.
Kobs (non-commercial) and NormVio (no licence) are only read here, for measurement.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    f1_score,
    roc_auc_score,
)
from sklearn.model_selection import StratifiedKFold, train_test_split

from ml import data
from ml.emote_seeds import SEED_EMOTES
from ml.sentiment import MODEL_VERSION as SENT_VERSION
from ml.sentiment import SentimentModel
from ml.text import toxicity_tokens
from ml.toxicity import MODEL_VERSION as TOX_VERSION
from ml.toxicity import ToxicityModel, clean_tweet

LABEL_TO_INT = {"negative": -1, "neutral": 0, "positive": 1}
Row = dict[str, Any]


def _row(metric: str, dataset: str, n: int, value: float, model: str, **extra: Any) -> Row:
    return {"metric": metric, "dataset": dataset, "n": n, "value": round(float(value), 4),
            "model": model, **extra}  # fmt: skip


def _three_class(model: str, y: np.ndarray, pred: np.ndarray, note: str = "") -> list[Row]:
    ds = "labels-sentiment-kobs (eval only, non-commercial)"
    n = len(y)
    return [
        _row("macro_f1", ds, n, f1_score(y, pred, average="macro"), model, note=note),
        _row("accuracy", ds, n, accuracy_score(y, pred), model, note=note),
    ]


def evaluate_sentiment(root: Path, shipped: SentimentModel) -> list[Row]:
    texts, labels = data.load_kobs(root)
    y = np.asarray(labels)
    rows: list[Row] = []

    def lab(model: SentimentModel) -> np.ndarray:
        return np.array([LABEL_TO_INT[v] for v in model.score_texts(texts)[1]])

    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    sia = SentimentIntensityAnalyzer()
    comp = np.array([sia.polarity_scores(t)["compound"] for t in texts])
    vader = np.where(comp >= 0.05, 1, np.where(comp <= -0.05, -1, 0))
    rows += _three_class("plain VADER (package, +-0.05)", y, vader)
    rows += _three_class(
        "words only (our VADER-rule scorer, no emotes)", y, lab(SentimentModel({}))
    )
    rows += _three_class("hand-written emote seeds only", y, lab(SentimentModel(SEED_EMOTES)))
    rows += _three_class(
        f"SHIPPED {shipped.version}: seeds + learned emote lexicon",
        y,
        lab(shipped),
        note="thresholds +-0.05 (VADER convention), not tuned on Kobs",
    )
    # Upper-bound variant trained ON Kobs (5-fold CV). Never shipped: Kobs is non-commercial.
    from scipy.sparse import csr_matrix, hstack

    def lex_feats(m: SentimentModel) -> np.ndarray:
        s = m.score_texts(texts)[0]
        return np.column_stack([s, s >= 0.05, s <= -0.05, s == 0])

    feats = np.hstack(
        [lex_feats(m) for m in (shipped, SentimentModel(SEED_EMOTES), SentimentModel({}))]
    ).astype(np.float64)
    pred = np.zeros_like(y)
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(texts, y):
        char = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(1, 5), lowercase=False, min_df=2, sublinear_tf=True
        )
        word = TfidfVectorizer(
            token_pattern=r"\S+", lowercase=False, ngram_range=(1, 2), sublinear_tf=True
        )
        tr = [texts[i] for i in train]
        te = [texts[i] for i in test]
        xtr = hstack([char.fit_transform(tr), word.fit_transform(tr), csr_matrix(feats[train])])
        xte = hstack([char.transform(te), word.transform(te), csr_matrix(feats[test])])
        clf = LogisticRegression(C=3.0, max_iter=3000, class_weight="balanced")
        clf.fit(xtr.tocsr(), y[train])
        pred[test] = clf.predict(xte.tocsr())
    rows += _three_class(
        "Kobs-trained LR (char+word tf-idf + lexicon-score features), 5-fold CV",
        y,
        pred,
        note="NOT shipped (non-commercial labels); C picked from a 6-point grid on this CV",
    )
    return rows


def evaluate_toxicity(root: Path, shipped: ToxicityModel) -> list[Row]:
    texts, labels = data.load_davidson(root)
    y = (np.asarray(labels) < 2).astype(int)
    tr, te, ytr, yte = train_test_split(texts, y, test_size=0.2, random_state=0, stratify=y)
    model = ToxicityModel.fit(list(tr), np.asarray(ytr), sorted(shipped.emotes))
    p = model.score_texts([clean_tweet(t) for t in te])
    ds = "labels-offensive-davidson, stratified 20% hold-out (seed 0)"
    name = f"{TOX_VERSION} retrained on the other 80%"
    return [
        _row("f1_toxic", ds, len(yte), f1_score(yte, p >= 0.5), name),
        _row("roc_auc", ds, len(yte), roc_auc_score(yte, p), name),
        _row("brier", ds, len(yte), brier_score_loss(yte, p), name, note="calibration"),
    ]


def _ngram_lexicon(root: Path) -> dict[str, float]:
    raw = (root / "labels-offensive-davidson" / "refined_ngram_dict.csv").read_text()
    lex: dict[str, float] = {}
    for line in raw.replace("\r", "\n").splitlines()[1:]:
        gram, _, val = line.rpartition(",")
        try:
            lex[gram.strip()] = float(val)
        except ValueError:
            continue
    return lex


def lexicon_score(
    texts: Sequence[str], lex: dict[str, float], emotes: frozenset[str]
) -> np.ndarray:
    """Plain lexicon baseline: max weight of any lexicon n-gram (1-4 words) in the message."""
    out = np.zeros(len(texts))
    cache: dict[str, str] = {}
    for i, text in enumerate(texts):
        toks = toxicity_tokens(text, emotes, cache)
        best = 0.0
        for n in range(1, 5):
            for k in range(len(toks) - n + 1):
                best = max(best, lex.get(" ".join(toks[k : k + n]), 0.0))
        out[i] = best
    return out


def evaluate_moderation(root: Path, tox: ToxicityModel, folds: int = 5) -> list[Row]:
    from ml.moderation import HISTORY_S, ModerationModel, context_features, normvio_window
    from ml.moderation import weak_labels as make_weak

    texts: list[str] = []
    dense_parts: list[np.ndarray] = []
    chan: list[str] = []
    weak: list[int] = []
    eval_label: list[int] = []
    before_bad: list[bool] = []
    for rec in data.iter_normvio(root):
        events, bad = normvio_window(rec)
        start = events[0].ts if events else 0.0
        bad_user = events[bad].user
        # Candidates need a full trailing history window so context features are not truncated.
        idx = [i for i, e in enumerate(events) if e.text is not None and e.ts - start >= HISTORY_S]
        if bad not in idx:
            idx.append(bad)
            idx.sort()
        msg_idx = [i for i, e in enumerate(events) if e.text is not None]
        tox_all = np.zeros(len(events))
        tox_all[msg_idx] = tox.score_texts([events[i].text or "" for i in msg_idx])
        wl = make_weak(events)
        dense_parts.append(context_features(events, tox_all, idx))
        for i in idx:
            texts.append(events[i].text or "")
            chan.append(rec["channel"])
            weak.append(wl[i])
            eval_label.append(1 if i == bad else (0 if events[i].user != bad_user else -1))
            before_bad.append(i <= bad)
    dense = np.vstack(dense_parts)
    channels = np.asarray(chan)
    yw = np.asarray(weak)
    ye = np.asarray(eval_label)
    mask = ye >= 0
    model = ModerationModel(tox)
    xt = model.text_x(texts)
    scores: dict[str, np.ndarray] = {k: np.full(len(texts), np.nan) for k in ("text", "full")}
    uniq = np.unique(channels)
    rng = np.random.default_rng(0)
    order = rng.permutation(uniq)
    fold_of = {c: k % folds for k, c in enumerate(order)}
    fold = np.array([fold_of[c] for c in channels])
    for k in range(folds):
        test = fold == k
        train = ~test
        # Keep all weak positives and a fixed sample of negatives: speed, same for every fold.
        neg = np.flatnonzero(train & (yw == 0))
        keep = np.concatenate([np.flatnonzero(train & (yw == 1)),
                               rng.choice(neg, min(len(neg), 150_000), replace=False)])  # fmt: skip
        keep.sort()
        text_only = LogisticRegression(C=0.5, max_iter=1000, class_weight="balanced")
        text_only.fit(xt[keep], yw[keep])
        scores["text"][test] = text_only.decision_function(xt[test])
        m = ModerationModel(tox).fit(xt[keep], dense[keep], yw[keep], channels[keep])
        scores["full"][test] = m.predict_proba(xt[test], dense[test])
    base = lexicon_score(texts, _ngram_lexicon(root), tox.emotes)
    ds = (f"moderation-normvio dev: moderated bad_utterance vs other chatters' messages, "
          f"{folds}-fold grouped by channel (unseen channels)")  # fmt: skip
    n = int(mask.sum())
    npos = int((ye == 1).sum())
    variants = {
        "lexicon baseline (Davidson refined n-gram dict, max weight)": base,
        f"Davidson-only toxicity ({TOX_VERSION})": dense[:, 0],
        "moderation text-only LR (hashed char n-grams, other channels' weak labels)": scores[
            "text"
        ],
        "moderation + context (chatter history, chat rate, channel norms; GBM)": scores["full"],
    }
    rows: list[Row] = []
    # Robustness: negatives only from before the moderated message, so no negative has the
    # window's own ban in its history (guards against a position artefact in the window).
    pre = mask & np.asarray(before_bad)
    for name, s in variants.items():
        rows.append(_row("roc_auc_pre_event_negatives", ds, int(pre.sum()),
                         roc_auc_score(ye[pre], s[pre]), name, positives=npos))  # fmt: skip
        per_fold = [
            roc_auc_score(ye[mask & (fold == k)], s[mask & (fold == k)])
            for k in range(folds)
            if len(np.unique(ye[mask & (fold == k)])) == 2
        ]
        fold_mean = round(float(np.mean(per_fold)), 4)
        rows.append(_row("roc_auc", ds, n, roc_auc_score(ye[mask], s[mask]), name, positives=npos,
                         channels=len(uniq), roc_auc_fold_mean=fold_mean))  # fmt: skip
        rows.append(_row("pr_auc", ds, n, average_precision_score(ye[mask], s[mask]), name,
                         positives=npos, base_rate=round(npos / n, 5)))  # fmt: skip
    return rows


def throughput(name: str, fn: Callable[[Sequence[str]], Any], texts: Sequence[str]) -> Row:
    t0 = time.perf_counter()
    fn(texts)
    dt = time.perf_counter() - t0
    return {"scorer": name, "messages": len(texts), "seconds": round(dt, 3),
            "msgs_per_s": round(len(texts) / dt)}  # fmt: skip


def render_markdown(report: dict[str, Any]) -> str:
    lines = ["# ML evaluation", "", f"sentiment `{report['sentiment_version']}`, "
             f"toxicity `{report['toxicity_version']}`", ""]  # fmt: skip
    for section in ("sentiment", "toxicity", "moderation"):
        rows = report.get(section) or []
        if not rows:
            continue
        lines += [f"## {section}", "", "| model | metric | value | n | dataset | note |",
                  "|---|---|---|---|---|---|"]  # fmt: skip
        for r in rows:
            extra = {k: v for k, v in r.items()
                     if k not in ("metric", "dataset", "n", "value", "model")}  # fmt: skip
            note = "; ".join(f"{k}={v}" for k, v in extra.items())
            lines.append(f"| {r['model']} | {r['metric']} | {r['value']} | {r['n']} | "
                         f"{r['dataset']} | {note} |")  # fmt: skip
        lines.append("")
    lines += ["## throughput", "", "| scorer | messages | seconds | msgs/s |", "|---|---|---|---|"]
    for r in report["throughput"]:
        lines.append(f"| {r['scorer']} | {r['messages']} | {r['seconds']} | {r['msgs_per_s']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Evaluate the ML models")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "reports")
    parser.add_argument("--skip-moderation", action="store_true")
    parser.add_argument("--only-moderation", action="store_true", help="debug: NormVio only")
    args = parser.parse_args(argv)
    root = data.data_dir()
    t0 = time.perf_counter()
    sent = SentimentModel.load()
    tox = ToxicityModel.load()
    load_s = time.perf_counter() - t0
    bench: list[str] = []
    for m in data.iter_normvio_context(root):
        bench.append(m.text)
        if len(bench) >= 50_000:
            break
    report: dict[str, Any] = {
        "sentiment_version": SENT_VERSION,
        "toxicity_version": TOX_VERSION,
        "artifact_load_seconds": round(load_s, 3),
        # Fresh models so throughput includes cold caches.
        "throughput": [
            throughput("sentiment.score_texts", SentimentModel.load().score_texts, bench),
            throughput("toxicity.score_texts", ToxicityModel.load().score_texts, bench),
        ],
    }
    if not args.only_moderation:
        report["sentiment"] = evaluate_sentiment(root, sent)
        report["toxicity"] = evaluate_toxicity(root, tox)
    if not args.skip_moderation:
        report["moderation"] = evaluate_moderation(root, tox)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ml_eval.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    (args.out / "ml_eval.md").write_text(render_markdown(report), encoding="utf-8")
    print(render_markdown(report))


if __name__ == "__main__":
    main()
