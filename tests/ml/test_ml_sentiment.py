import json

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
    # Emote codes match case-sensitively ("feelsbadman" is not the emote); only slang that
    # chat also types as a word ("lul", "pogchamp", "sadge") is scored in lowercase.
    for emote in ("FeelsBadMan", "BibleThump", "FeelsGoodMan", "NotLikeThis"):
        assert emote in model.emote_lexicon and model.score(emote) != 0.0
        assert model.score(emote.lower()) == 0.0 and model.score(emote.upper()) == 0.0
    assert model.score("lul") > 0 and model.score("sadge") < 0


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
    # The warehouse labels scored rows with MODEL_VERSION while scoring with the artifact's
    # lexicon (whose version `load` keeps): both must name the same model.
    shipped = json.loads(sentiment.ARTIFACT.read_text(encoding="utf-8"))["version"]
    assert shipped == sentiment.MODEL_VERSION == sentiment.default_model().version


def test_chat_slang_overrides_prose_meaning() -> None:
    words_only = SentimentModel({})
    assert words_only.score("L") < 0 < words_only.score("W")  # a loss / a win, not "laugh"
    assert words_only.score("that was so cringe") < 0
    assert words_only.score("pog") > 0 and words_only.score("kekw") > 0
    assert words_only.score("ff") == 0.0


def test_unknown_sub_emote_takes_its_name_valence() -> None:
    model = SentimentModel({"LUL": 1.5, "Sadge": -2.0})
    assert model.score("forsenLUL") > 0
    assert model.score("xqcSadge") < 0
    assert model.score("moon2Love") > 0  # name is a chat word
    assert model.score("iPhone") == 0.0  # capitalised name that means nothing
    assert model.score("xqcL") == 0.0  # names shorter than 3 characters are not guessed


def test_emote_candidates_exclude_shouted_words_and_rated_words() -> None:
    from ml.sentiment import is_emote_candidate

    assert not is_emote_candidate("THE", set(), set())
    assert not is_emote_candidate("CHAT", set(), set())
    assert is_emote_candidate("AYAYA", {"AYAYA"}, set())  # all-caps emote when marked
    assert is_emote_candidate("forsenE", set(), set())
    assert not is_emote_candidate("<3", {"<3"}, set())  # the word lexicon rates it
    assert not is_emote_candidate("Love", set(), {"Love"})


def test_learned_lexicon_keeps_seeds_and_shrinks_by_seed_agreement() -> None:
    """Distant supervision on a toy corpus: seeds win, co-occurrence valences are shrunk by how
    well the same estimator recovers the seeds."""
    seeds = {f"Happy{i}": 2.0 for i in range(6)} | {f"Sad{i}": -2.0 for i in range(6)}
    corpus = []
    for i in range(6):
        corpus += [(f"I love this great game Happy{i}", [f"Happy{i}"])] * 40
        corpus += [(f"this is awful and sad Sad{i}", [f"Sad{i}"])] * 40
        corpus += [(f"what a game Sad{i}", [f"Sad{i}"])] * 5
    corpus += [("love it so good wonderful NewJoy", ["NewJoy"])] * 40
    corpus += [("terrible horrible bad NewGloom", ["NewGloom"])] * 40
    corpus += [("hello there Mascot", ["Mascot"])] * 200
    lex = sentiment.learn_emote_lexicon(corpus, set(), min_count=10, seeds=seeds)
    assert {k: lex[k] for k in seeds} == seeds
    assert 0 < lex["NewJoy"] <= 2.5 and -2.5 <= lex["NewGloom"] < 0
    assert "Mascot" not in lex  # only neutral contexts: nothing to learn


def test_reliability_is_squared_agreement() -> None:
    from ml.sentiment import _reliability

    assert _reliability([(1.0, 2.0), (2.0, 4.0), (-1.0, -2.0)]) == pytest.approx(1.0)
    assert _reliability([(1.0, -2.0), (2.0, -4.0), (-1.0, 2.0)]) == 0.0
    assert 0 < _reliability([(1.0, 1.0), (2.0, 1.5), (-1.0, 0.5), (0.5, -1.0)]) < 1
