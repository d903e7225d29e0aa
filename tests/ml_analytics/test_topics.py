from __future__ import annotations

import pandas as pd

from ml.topics import MODEL_VERSION, TOPIC_COLUMNS, segment_topics, stream_topic_shift

FOOD = [
    "that pizza looks amazing, how long in the oven",
    "extra cheese on the pizza please",
    "the oven temperature matters for pizza crust",
    "mozzarella cheese is the best pizza cheese",
    "homemade pizza dough needs time",
    "crust looks crispy from the oven",
    "pineapple pizza debate again",
    "cheese pull on that pizza",
]
BOSS = [
    "dodge the boss attack",
    "that sword combo on the boss was clean",
    "boss phase two is brutal, dodge left",
    "upgrade the sword before the boss",
    "the boss hitbox is unfair",
    "parry then sword slash",
    "dodge roll through the boss attack",
    "sword damage too low for this boss",
]
PASTA = "THIS IS THE GREATEST PLAY IN THE HISTORY OF BOSS FIGHTS"


def _chat() -> pd.DataFrame:
    t0 = pd.Timestamp("2025-03-01T20:00:00Z")
    rows = []
    for i in range(60):
        rows.append(
            (t0 + pd.Timedelta(seconds=9 * i), f"u{i % 13}", FOOD[i % 8] + " KEKW", ["KEKW"])
        )
        rows.append((t0 + pd.Timedelta(minutes=10, seconds=9 * i), f"u{i % 11}", BOSS[i % 8], []))
        rows.append((t0 + pd.Timedelta(minutes=10, seconds=9 * i + 1), f"p{i}", PASTA.lower(), []))
        rows.append(
            (
                t0 + pd.Timedelta(seconds=9 * i + 2),
                f"u{i % 7}",
                "@someone sooooo goood https://x.y/z",
                [],
            )
        )
    return pd.DataFrame(rows, columns=["sent_at", "user_login", "text", "emotes"]).assign(
        channel="chan", stream_id="s1"
    )


def test_topics_have_sensible_labels_and_shift() -> None:
    topics = segment_topics(_chat(), segment_minutes=10, n_topics=2, min_docs=5)
    assert list(topics.columns) == TOPIC_COLUMNS
    assert (topics["model_version"] == MODEL_VERSION).all()
    seg = sorted(topics["segment_start"].unique())
    assert len(seg) == 2
    first = topics[topics["segment_start"] == seg[0]]
    second = topics[topics["segment_start"] == seg[1]]
    first_terms = {t for terms in first["top_terms"] for t in terms}
    second_terms = {t for terms in second["top_terms"] for t in terms}
    assert {"pizza", "cheese"} <= first_terms
    assert {"boss", "sword"} <= second_terms
    assert "kekw" not in first_terms  # emotes dropped by default
    assert not {"someone", "https", "goood", "sooooo"} & first_terms  # mentions, URLs, letter runs
    assert "goo" not in second_terms
    # The copypasta was sent 60 times but counts once: it must not dominate the boss segment.
    assert second.iloc[0]["topic_label"].split(" / ")[0] in {"boss", "sword", "dodge"}
    assert first["shift_from_previous"].isna().all()
    assert (second["shift_from_previous"] > 0.6).all()
    assert abs(first["weight"].sum() - 1) < 1e-3
    assert all(
        len(t) == len(w) for t, w in zip(topics["top_terms"], topics["term_weights"], strict=True)
    )


def test_keep_emotes_flag() -> None:
    topics = segment_topics(_chat(), segment_minutes=10, n_topics=2, min_docs=5, keep_emotes=True)
    assert "KEKW" in {t for terms in topics["top_terms"] for t in terms}


def test_stream_shift() -> None:
    chat = _chat()
    same = chat.assign(stream_id="s2", sent_at=chat["sent_at"] + pd.Timedelta(days=1))
    food_only = chat[chat["text"].str.contains("pizza|cheese|oven|crust|dough")]
    other = food_only.assign(stream_id="s3", sent_at=food_only["sent_at"] + pd.Timedelta(days=2))
    shift = stream_topic_shift(pd.concat([chat, same, other]))
    by = shift.set_index("stream_id")["shift_from_previous_stream"]
    assert pd.isna(by["s1"])
    assert by["s2"] < 0.05
    assert by["s3"] > by["s2"] + 0.2


def test_real_irc_topics(xqc_messages: pd.DataFrame) -> None:
    """Real xQc chat: every topic term is a word its segment's chat used, never a link, mention
    or emote, and each segment's topic weights share out its chat."""
    from ml.text import collapse_repeats

    topics = segment_topics(xqc_messages, segment_minutes=3)
    assert len(topics) > 0
    emotes = {code for codes in xqc_messages["emotes"] for code in codes}
    first = xqc_messages["sent_at"].min().floor("min")
    segment = first + ((xqc_messages["sent_at"] - first) // pd.Timedelta(minutes=3)) * pd.Timedelta(
        minutes=3
    )
    words = {  # as chat wrote them, letter runs squeezed to two as the topics do
        start: {collapse_repeats(w, 2) for w in " ".join(texts).lower().split()}
        for start, texts in xqc_messages.groupby(segment)["text"]
    }
    for row in topics.itertuples(index=False):
        said = words[row.segment_start]
        for term in row.top_terms:
            assert any(term in word for word in said), (row.segment_start, term)
            assert not term.startswith(("@", "http")) and term not in emotes, term
        assert row.topic_label == " / ".join(row.top_terms[:3])
    shares = topics.groupby("segment_start")["weight"].sum()
    assert ((shares > 0.5) & (shares <= 1.0001)).all(), shares


def test_npmi_prefers_terms_that_occur_together() -> None:
    from ml.topics import npmi_coherence

    docs = [["pizza", "cheese", "oven"]] * 20 + [["boss", "sword", "dodge"]] * 20
    docs += [["pizza"], ["sword"], ["cheese", "boss"]]
    coherent, mixed, never = npmi_coherence(
        [["pizza", "cheese", "oven"], ["pizza", "sword", "cheese"], ["oven", "dodge"]], docs
    )
    assert 0.5 < coherent <= 1.0
    assert never == -1.0  # these two terms never share a document
    assert never < mixed < coherent


def test_npmi_independent_terms_near_zero_and_edge_cases() -> None:
    import math

    from ml.topics import npmi_coherence

    # a in half the docs, b in half, crossed evenly: independent -> NPMI 0.
    docs = [["a", "b"], ["a"], ["b"], []] * 25
    (score,) = npmi_coherence([["a", "b"]], docs)
    assert abs(score) < 1e-9
    single, unknown = npmi_coherence([["a"], ["zzz", "yyy"]], docs)
    assert math.isnan(single)
    assert unknown == -1.0
    assert all(math.isnan(v) for v in npmi_coherence([["a", "b"]], []))


def test_window_documents_pool_by_minute() -> None:
    from ml.topics import prepare_messages, window_documents

    prepared = prepare_messages(_chat())
    docs = window_documents(prepared, minutes=1)
    minutes = prepared["sent_at"].dt.floor("1min").nunique()
    assert len(docs) == minutes
    assert sum(len(d) for d in docs) == int(prepared["tokens"].str.len().sum())


def test_stream_shift_needs_words_on_both_sides() -> None:
    """A stream of emotes only keeps its place in the order, and neither it nor the stream after
    it gets a shift: there is no word distribution to compare."""
    chat = _chat()
    emotes_only = pd.DataFrame({
        "sent_at": chat["sent_at"].iloc[:5] + pd.Timedelta(days=1), "user_login": "u1",
        "text": "KEKW", "emotes": [["KEKW"]] * 5, "channel": "chan", "stream_id": "s2",
    })  # fmt: skip
    again = chat.assign(stream_id="s3", sent_at=chat["sent_at"] + pd.Timedelta(days=2))
    shift = stream_topic_shift(pd.concat([chat, emotes_only, again], ignore_index=True))
    by = shift.set_index("stream_id")
    assert pd.isna(by.loc["s1", "previous_stream_id"])
    assert by.loc[["s2", "s3"], "previous_stream_id"].tolist() == ["s1", "s2"]
    assert by["shift_from_previous_stream"].isna().all()
