"""The language layer: letter folding, language detection, tokenising, and the language table."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.core.langs import FALLBACK_LANG, LANGS, STEMMERS, check_languages, missing_languages
from assistant.text.detect import detect_language, guess_language
from assistant.text.normalize import ITEM_LETTERS, LOOKALIKES, LOWER_LOOKALIKES, fold, normalize
from assistant.text.stem import stem_word
from assistant.text.tokenize import match_tokens, phrase_stems, stem_matches, tokenize

ROOT = Path(__file__).resolve().parents[2]

# ----------------------------------------------------------------------------- the language table


def test_langs_are_the_stemmer_entries_in_order() -> None:
    assert LANGS == ("kk", "ru", "en") == tuple(STEMMERS)
    assert FALLBACK_LANG in LANGS


def test_repository_prompts_and_glossary_cover_every_language() -> None:
    assert check_languages(ROOT / "prompts") == []


@pytest.mark.parametrize(
    ("prompts", "glossary", "problem"),
    [
        ({"kk", "ru", "en"}, {"kk", "ru", "en"}, None),
        ({"kk", "ru", "en", "de"}, {"kk", "ru", "en"}, "'de' lacks a stemmer entry"),
        ({"kk", "ru", "en", "de"}, {"kk", "ru", "en", "de"}, "'de' lacks a stemmer entry"),
        ({"kk", "ru"}, {"kk", "ru", "en"}, "'en' lacks a prompts file en.toml"),
        ({"kk", "ru", "en"}, {"kk", "en"}, "'ru' lacks a glossary column `ru`"),
    ],
)
def test_missing_languages(prompts: set[str], glossary: set[str], problem: str | None) -> None:
    problems = missing_languages(prompts, glossary)
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0]


def test_a_prompts_file_without_a_stemmer_is_named(tmp_path: Path) -> None:
    for lang in (*LANGS, "de"):
        (tmp_path / f"{lang}.toml").write_text("", encoding="utf-8")
    assert check_languages(tmp_path, glossary_langs=LANGS) == [
        "language 'de' lacks a stemmer entry in assistant/core/langs.py and a glossary column `de`"
    ]


# ----------------------------------------------------------------------------- folding tables


def test_item_letters_are_the_inverse_of_the_lookalikes() -> None:
    # the provisions parser's table of item markers, as it was written out by hand before
    assert ITEM_LETTERS == {
        "а": "a", "в": "b", "с": "c", "е": "e", "о": "o", "р": "p", "х": "x",
        "і": "i", "к": "k", "һ": "h", "т": "t", "у": "y", "м": "m", "н": "h",
    }  # fmt: skip
    assert all(LOOKALIKES[lat] == cyr for lat, cyr in LOWER_LOOKALIKES.items())
    assert set(LOWER_LOOKALIKES) == set("aceopxyikh")


@pytest.mark.parametrize(
    ("raw", "index_form", "match_form"),
    [
        ("запpoce", "запросе", "запросе"),  # Latin p, o, c, e inside a Cyrillic word
        ("icтep", "істер", "истер"),  # Latin i is the Kazakh і; the match form folds it to и
        ("Cтатья 14", "статья 14", "статья 14"),
        ("Bзаимной", "взаимной", "bзаимнои"),  # capital B looks like В; lowercase b does not
        ("ёлка Ёж", "елка еж", "елка еж"),
        ("Қандай", "қандай", "кандаи"),  # Kazakh letters kept for stemming / folded for matching
        ("ӘҒҚҢӨҰҮҺІ", "әғқңөұүһі", "агкноуухи"),
        ("Bank of England", "bank of england", "bank of england"),  # real Latin words untouched
        ("Rосс", "rосс", "rосс"),  # R has no Cyrillic twin
        ("43-бапХалықаралық", "43-бап халықаралық", "43-бапхалыкаралык"),  # glued words split (index)
        ("tärkileu", "tärkileu", "tarkileu"),  # accents dropped for matching
        ("ＡＢＣ１２", "abc12", "ａｂｃ１２"),  # NFKC is the index form's (the guard applies it first)
    ],
)
def test_index_and_match_forms(raw: str, index_form: str, match_form: str) -> None:
    assert normalize(raw) == index_form
    assert fold(raw) == match_form


# ----------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Активтерді қайтару туралы сұрау", "kk"),  # Kazakh-only letters
        ("Кай конвенция таркилеу туралы?", "kk"),  # Kazakh typed with Russian letters
        ("Strasbourg konventsiyasy qandai tarkileu turaly?", "kk"),  # Kazakh in Latin letters
        ("Какие основания для отказа в конфискации?", "ru"),
        ("Что говорит UNCAC о возврате активов?", "ru"),
        ("What does article 54 say?", "en"),
        ("Which questions does the request need to answer?", "en"),  # «q» followed by «u»
        ("12345 ???", FALLBACK_LANG),  # no evidence
    ],
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", FALLBACK_LANG), ("   ", FALLBACK_LANG), (None, FALLBACK_LANG), ("Ал 55-бап ше?", "kk")],
)
def test_guess_language_never_raises(text: object, expected: str) -> None:
    assert guess_language(text) == expected


def test_guess_language_takes_a_default() -> None:
    assert guess_language("", "en") == "en"


# ----------------------------------------------------------------------------- tokenising


@pytest.mark.parametrize(
    ("text", "lang", "terms"),
    [
        ("13-бап", "kk", ["13", "бап"]),  # numbers stay, hyphens split
        ("и в на конфискации", "ru", [stem_word("конфискации", "ru")]),  # stopwords dropped
        ("ст. 54", "ru", [stem_word("статья", "ru"), "54"]),  # abbreviations spelled out
        ("Art. 31", "en", ["articl", "31"]),
        ("мемлекеттер", "kk", [stem_word("мемлекеттер", "kk")]),  # plain Cyrillic in kk text is kk
        ("ic", "kk", [stem_word("іс", "kk")]),  # a look-alike-only Latin word in a kk text is Cyrillic
        ("Confiscation", "auto", ["confisc"]),  # auto: Latin is English
    ],
)
def test_index_terms(text: str, lang: str, terms: list[str]) -> None:
    assert tokenize(text, lang) == terms


def test_auto_gives_plain_cyrillic_both_stems() -> None:
    # «мемлекеттер» has no Kazakh-only letter: in auto mode it is Russian by script, and Kazakh too
    ru, kk = stem_word("мемлекеттер", "ru"), stem_word("мемлекеттер", "kk")
    assert ru != kk
    assert tokenize("мемлекеттер", "auto") == [ru, kk]
    assert tokenize("мемлекеттер", "auto", kk_expand=False) == [ru]
    assert tokenize("активтерді", "auto") == [stem_word("активтерді", "kk")]  # Kazakh letter: kk only


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("БҰҰ-ның конвенциясы", [("буу", 0), ("конвенциясы", 8)]),  # hyphenated case ending dropped
        ("UN's rules", [("un", 0), ("rules", 5)]),
        ("Кандай қандай", [("кандаи", 0), ("кандаи", 7)]),  # both spellings meet
        ("13-бап", [("13", 0), ("бап", 3)]),
    ],
)
def test_match_tokens(text: str, tokens: list[tuple[str, int]]) -> None:
    assert match_tokens(text) == tokens


@pytest.mark.parametrize(
    ("phrase", "word", "matches"),
    [
        ("конфискация", "конфискации", True),
        ("тәркілеу", "таркилеуге", True),
        ("сот", "сотынын", True),  # a short stem takes a known ending
        ("сот", "сотрудничество", False),  # but not any continuation
        ("confiscation", "confiscated", True),  # English endings are stripped too
        ("confiscation", "conference", False),
        # Kazakh case endings of a phrase written with Kazakh letters: the bare noun matches too
        # (question words arrive folded: «мүлік» → «мулик»)
        ("мүлікті", "мулик", True),
        ("активтерді", "активтер", True),
        ("мүлікке", "мулки", False),  # a vowel dropped inside the stem is not an ending
        ("перевода", "перевозка", False),  # Russian words keep their «-да»: no Kazakh letter in them
        # Kazakh verb endings: tense, verbal noun and participle forms of one verb find each other
        ("беріледі", "берилуи", True),
        ("тәркіленеді", "таркиленген", True),
        ("тәркілеуге", "таркиленеди", True),
        ("қайтарылады", "каитарылуы", True),
        ("беріледі", "берет", False),  # the stem keeps the passive: no other verb on «бер-»
    ],
)
def test_phrase_stems_match_inflected_words(phrase: str, word: str, matches: bool) -> None:
    (stem,) = phrase_stems(phrase, kazakh_cases=True)
    assert stem_matches(stem, word) is matches


def test_a_phrase_known_to_be_kazakh_loses_its_endings_whatever_its_letters() -> None:
    # «тартады» has no letter that only Kazakh uses; a Kazakh topic phrasing still finds «тартуы»
    assert phrase_stems("бас тартады", kazakh_cases=True) == ("бас", "тартад")
    assert phrase_stems("бас тартады", kazakh=True) == ("бас", "тарт")


def test_instrument_names_keep_their_kazakh_case_endings() -> None:
    # an alias «мақалада» (in the article) must not claim the ordinary word «мақала»
    assert phrase_stems("мақалада") == ("макалад",)
    assert phrase_stems("мақалада", kazakh_cases=True) == ("макала",)
