import numpy as np
import pytest

from ml import sentiment
from ml.sentiment import SentimentModel


@pytest.fixture(scope="module")
def model() -> SentimentModel:
    return SentimentModel.load()


def label(model: SentimentModel, text: str) -> str:
    return model.score_texts([text])[1][0]


def test_emote_only_messages(model: SentimentModel) -> None:
    assert label(model, "PogChamp") == "positive"
    assert label(model, "FeelsBadMan") == "negative"
    assert label(model, "BibleThump BibleThump") == "negative"
    assert label(model, "LULLLLL") == "positive"  # stretched emote still resolves


def test_case_sensitive_emotes(model: SentimentModel) -> None:
    assert model.score("pogchamp") == 0.0 or "pogchamp" not in model.emote_lexicon


def test_negation_flips(model: SentimentModel) -> None:
    assert model.score("this is good") > 0
    assert model.score("this is not good") < 0
    assert model.score("not bad at all") > model.score("bad")


def test_intensifiers_and_caps(model: SentimentModel) -> None:
    assert model.score("this is very good") > model.score("this is good")
    assert model.score("this is GOOD guys") > model.score("this is good guys")
    assert model.score("good!!!") > model.score("good")


def test_ranges_and_api() -> None:
    texts = ["", "hello", "I love this PogChamp", "I hate this DansGame", "a" * 500]
    scores, labels = sentiment.score_texts(texts)
    assert scores.shape == (len(texts),)
    assert np.all((scores >= -1) & (scores <= 1))
    assert labels[0] == "neutral" and labels[1] == "neutral"
    assert set(labels) <= {"negative", "neutral", "positive"}
    assert isinstance(sentiment.MODEL_VERSION, str)
