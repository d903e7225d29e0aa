import numpy as np
import pytest

from ml import toxicity
from ml.toxicity import ToxicityModel


@pytest.fixture(scope="module")
def model() -> ToxicityModel:
    return ToxicityModel.load()


TOXIC = ["you are a stupid bitch", "f u c k you", "shut up you f4ggot", "kys retard"]
BENIGN = ["great stream today", "what game is this?", "hello everyone", "gg well played"]


def test_toxic_ranks_above_benign(model: ToxicityModel) -> None:
    tox = model.score_texts(TOXIC)
    ok = model.score_texts(BENIGN)
    assert tox.min() > ok.max()
    assert np.all(tox > 0.5)


def test_obfuscation_matches_plain(model: ToxicityModel) -> None:
    plain, leet = model.score_texts(["shit", "sh1t"])
    assert abs(plain - leet) < 1e-6


def test_emotes_not_leet_mangled(model: ToxicityModel) -> None:
    assert "4Head" in model.emotes
    assert model.score_texts(["4Head"])[0] < 0.5


def test_ranges_and_api() -> None:
    texts = ["", "   ", "LUL", "x" * 1000]
    p = toxicity.score_texts(texts)
    assert p.shape == (4,) and np.all((p >= 0) & (p <= 1))
    assert toxicity.score_texts([]).shape == (0,)
    assert isinstance(toxicity.MODEL_VERSION, str)
