"""Rebuild the shipped artifacts in ``ml/models`` deterministically: ``python -m ml.train``.

Sources (licence-checked):
* sentiment emote lexicon: hand-written seeds and chat words + co-occurrence learned from
  UNLABELLED chat text
  (vod-chat-gql, NormVio surrounding chat, irc-raw-xqcow); no labels of any kind are read.
  Only aggregate per-emote numbers ship, never messages.
* toxicity: Davidson et al. labels (MIT), moved to the prior of offensive messages in chat,
  estimated by EM on the same UNLABELLED chat. Emote list for the normaliser: MIT catalogs +
  emotes natively marked in chat.
Kobs (non-commercial) and NormVio moderation labels (no licence) are never used here.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from ml import data
from ml.sentiment import SentimentModel, learn_emote_lexicon
from ml.toxicity import ToxicityModel

MODELS_DIR = Path(__file__).parent / "models"


def unlabelled_chat(root: Path) -> Iterator[tuple[str, list[str]]]:
    for source in (data.iter_vod_chat, data.iter_normvio_context, data.iter_irc_xqcow):
        for m in source(root):
            yield m.text, m.emotes


def build_sentiment(root: Path, chat: Iterable[tuple[str, list[str]]] | None = None
                    ) -> SentimentModel:  # fmt: skip
    chat = unlabelled_chat(root) if chat is None else chat
    return SentimentModel(learn_emote_lexicon(chat, data.catalog_emotes(root)))


def build_toxicity(
    root: Path, emotes: set[str], chat_texts: Sequence[str] | None = None,
    texts: list[str] | None = None, labels: list[int] | None = None,
) -> ToxicityModel:  # fmt: skip
    """Fitted on Davidson (or `texts`/`labels`); calibrated to `chat_texts`' prior when given."""
    if texts is None or labels is None:
        texts, labels = data.load_davidson(root)
    y = (np.asarray(labels) < 2).astype(int)  # hate or offensive -> toxic
    model = ToxicityModel.fit(texts, y, sorted(emotes))
    if chat_texts is not None:
        model.adapt_prior(chat_texts)
    return model


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=MODELS_DIR)
    args = parser.parse_args(argv)
    root = data.data_dir()
    args.out.mkdir(parents=True, exist_ok=True)
    chat = list(unlabelled_chat(root))
    sentiment = build_sentiment(root, chat)
    sentiment.save(args.out / "sentiment.json")
    print(f"sentiment: {len(sentiment.emote_lexicon)} emotes -> {args.out / 'sentiment.json'}")
    # Emotes the toxicity normaliser must keep verbatim: catalogs + those with a learned valence.
    emotes = data.catalog_emotes(root) | set(sentiment.emote_lexicon)
    toxicity = build_toxicity(root, emotes, [text for text, _ in chat])
    toxicity.save(args.out / "toxicity.joblib")
    print(
        f"toxicity: {len(toxicity.emotes)} emotes, prior {toxicity.training_prior:.3f} in"
        f" training -> {toxicity.target_prior:.4f} in chat -> {args.out / 'toxicity.joblib'}"
    )


if __name__ == "__main__":
    main()
