from ml.text import (
    copypasta_signature,
    emote_variants,
    match_emote,
    tokenize,
    toxicity_normalize,
)

EMOTES = frozenset({"LUL", "4Head", "PogChamp", "KEKW"})


def test_stretched_letters_collapse() -> None:
    assert toxicity_normalize("sooooo goooood") == "soo good"
    assert "LUL" in emote_variants("LULLLL")
    assert match_emote("LULLLL", EMOTES) == "LUL"


def test_emotes_are_case_sensitive_and_kept_verbatim() -> None:
    assert match_emote("lul", EMOTES) is None
    assert toxicity_normalize("4Head LUL lul", EMOTES) == "E_4Head E_LUL lul"


def test_leetspeak_and_spacing() -> None:
    assert toxicity_normalize("sh1t") == "shit"
    assert toxicity_normalize("f u c k you") == "fuck you"
    assert toxicity_normalize("F.U.C.K") == "fuck"
    assert toxicity_normalize("trump 2024 $5") == "trump 2024 $5"  # no letters: not leet


def test_urls_and_mentions() -> None:
    assert tokenize("hi @bob see https://x.com/y :)") == ["hi", "see", ":)"]
    assert toxicity_normalize("@bob www.x.com") == "xmentionx xurlx"


def test_copypasta_signature_groups_reposts() -> None:
    a = copypasta_signature("Hello   WORLD!!! this is a pasta")
    b = copypasta_signature("hello world this is a pastaaaa @someone")
    assert a == b and len(a) == 16
    assert copypasta_signature("different text") != a
    assert copypasta_signature("   ") == ""
