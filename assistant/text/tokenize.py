"""Tokenising, per language: the words of a text as the lexical index and the query parser read them.

Takes: any text and, for index terms, its language. Gives two analyses built on the same letter folding
(`text.normalize`), stopword lists and stemmers (`text.stem`):
- `tokenize(text, lang)`: index terms for BM25 (`index.lexical`) and for the answer's word overlap
  (`answer.extractive`): the index form of the text (`normalize`), split into words and numbers, each
  word's language taken from its script, stopwords dropped, abbreviations spelled out, stemmed with its
  language's stemmer. Bump `ANALYZER_VERSION` whenever these terms change.
- `match_tokens(text)` / `match_stem` / `stem_matches`: the query parser's (`search.understand`) words,
  in the match form (`fold`: Kazakh letters folded, so «кандай» meets «қандай») with their offsets, and
  the prefix stems it matches glossary terms and instrument names with, allowing inflected endings
  across kk/ru/en («Палермской конвенции», «Страсбург конвенциясының»).
The two differ on purpose: index terms must be exact enough to rank thousands of provisions; phrase
matching must find a handful of known names whatever the user's keyboard.
"""

from __future__ import annotations

import re
from functools import lru_cache

from assistant.core.langs import LANGS
from assistant.text.normalize import (
    CYRILLIC,
    KAZAKH_LETTERS,
    LOWER_LOOKALIKES,
    fold,
    normalize,
)
from assistant.text.stem import stem_word

__all__ = [
    "ANALYZER_VERSION",
    "STOPWORDS",
    "TOKEN_RE",
    "WORD",
    "match_stem",
    "phrase_stems",
    "match_tokens",
    "stem_matches",
    "tokenize",
]

# Bump whenever normalisation, tokenisation or stemming changes: a saved index built with another
# analyzer would silently mismatch the query terms, so `BM25Index.load` refuses it.
ANALYZER_VERSION = "kkruen-1"


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --------------------------------------------------------------------------- index terms

TOKEN_RE = re.compile(r"\d+|[^\W\d_]+")

# Short function-word lists; IDF already discounts frequent words, these only remove noise and time.
STOPWORDS: dict[str, frozenset[str]] = {
    "kk": _wordset(
        """және мен бен пен немесе не да де та те осы бұл сол ол олар оның олардың оны оларды оған
        оларға онда мұнда үшін туралы бойынша арқылы сияқты сайын бірақ егер әрі яғни ғана тек
        басқа барлық әрбір кез өз өзі өзінің өздерінің қандай мынадай осындай сондай мұндай деп
        дейін кейін бері соң ретінде ал ғой өзге қатысты қоса"""
    ),
    "ru": _wordset(
        """и в во на с со к ко по о об обо от до из за для при под над без через между а но или
        либо ни же ли бы что чтобы как так также то это этот эта эти этого этой этих тот та те того
        той тех он она оно они его ее их ему ей им ним нее них который которая которое которые
        которого которой которых которым свой своего своей своих такой такие такого также быть
        является являются был была были будет"""
    ),
    "en": _wordset(
        """the a an and or nor of to in on at by for with from into upon as is are be been being was
        were that this these those which who whom whose it its they them their there such any each
        other than then shall would should could if so"""
    ),
}
# Abbreviations that stand for a word the texts spell out («ст. 54», «art. 31»).
_ABBREV = {
    "ru": {"ст": "статья", "пп": "подпункт"},
    "en": {"art": "article", "arts": "article", "para": "paragraph", "paras": "paragraph"},
}
_LOWER_TO_CYR = str.maketrans(LOWER_LOOKALIKES)


def _script_lang(word: str) -> str:
    """kk for words with Kazakh-only letters, en for Latin, ru for other Cyrillic."""
    if any(ch in KAZAKH_LETTERS for ch in word):
        return "kk"
    return "ru" if CYRILLIC.search(word) else "en"


@lru_cache(maxsize=300_000)
def _terms(word: str, lang: str, kk_expand: bool) -> tuple[str, ...]:
    if word.isdigit():
        return (word,)
    script = _script_lang(word)
    if lang in ("kk", "ru") and script == "en" and all(ch in LOWER_LOOKALIKES for ch in word):
        # A word spelled only with look-alike Latin letters in a kk/ru text is Cyrillic («ic» = «іс»).
        script = "kk" if "i" in word or "h" in word else "ru"
        word = word.translate(_LOWER_TO_CYR)
    # The script decides (Latin → en, Kazakh letters → kk, other Cyrillic → ru), except that plain
    # Cyrillic in a Kazakh text is Kazakh («мемлекеттер» has no Kazakh-only letter).
    use = "kk" if script == "ru" and lang == "kk" else script
    word = _ABBREV.get(use, {}).get(word, word)
    if len(word) < 2 or word in STOPWORDS[use]:
        return ()
    first = stem_word(word, use)
    if lang == "auto" and use == "ru" and kk_expand and word not in STOPWORDS["kk"]:
        # Cyrillic without Kazakh letters may still be Kazakh («мемлекеттер», «конвенцияны»).
        second = stem_word(word, "kk")
        if second != first:
            return (first, second)
    return (first,)


def tokenize(text: str, lang: str, *, kk_expand: bool = True) -> list[str]:
    """Normalise `text` and return its index terms: numbers as they are ("13-бап" → "13", "бап"),
    words minus stopwords, stemmed for `lang` ("kk", "ru", "en", or "auto" to choose per word by
    script; in auto mode plain-Cyrillic words also yield their Kazakh stem when `kk_expand`)."""
    if lang != "auto" and lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; use one of {sorted((*LANGS, 'auto'))}")
    out: list[str] = []
    for word in TOKEN_RE.findall(normalize(text)):
        out.extend(_terms(word, lang, kk_expand))
    return out


# --------------------------------------------------------------------------- match tokens (query parser)

# A word of a question: letters and digits, joined by hyphens or apostrophes («БҰҰ-ның», "UN's").
WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")

# Case endings written after a hyphen or apostrophe («БҰҰ-ның», «АҚШ-пен», "UN's"), in folded form.
_HYPHEN_SUFFIXES = _wordset(
    "нын нин дын дин тын тин га ге ка ке на не а е да де та те нда нде дан ден тан тен нан нен ны ни ды ди "
    "ты ти н ын ин мен бен пен ы и сы си ша ше дагы деги тагы теги ндагы ндеги ка ке лар лер дар дер тар "
    "тер s ов ом ой"
)
# Endings a short stem («сот», «оон») may take and still be the same word («сотынын», «ООН-а»).
_SHORT_SUFFIXES = _wordset(
    "а ы и у е о я ю ь ом ем ой ей ов ев ам ям ах ях ами ями н ын ин нын нин дын дин тын тин ынын инин "
    "ына ине на не га ге ка ке да де та те нда нде ында инде дан ден тан тен нан нен ынан инен ны ни ды ди "
    "ты ти ын ин мен бен пен ымен имен лар лер дар дер тар тер ларды лерди тары тери дары дери лары лери "
    "сы си сын син сына сине сынын синин сында синде с es"
)
# Inflectional endings stripped from glossary terms and aliases to get the stem that a question's word
# must start with. Folded forms (й→и), longest first; a stem keeps at least four letters.
_ENDINGS = tuple(
    sorted(
        _wordset(
            "иями ями ами ией иям иях ого его ому ему ыми ими "
            "сынын синин сынан синен сында синде сына сине сын син сы си "
            "нын нин дын дин тын тин лар лер дар дер тар тер дан ден тан тен нан нен "
            "ая яя ои еи ую юю ое ее ые ие ых их ыи ии ия ию ье ья ом ем ам ям ах ях ов ев "
            "а я ы и у ю е о ь "
            "ations ation ings ing ions ion ies es ed s y e"
        ),
        key=len,
        reverse=True,
    )
)
# Kazakh case endings (accusative, locative, dative, instrumental, «-дағы»), stripped only from phrases
# written with Kazakh letters: «активтерді бөлу» must find «активтер», «мүлікті» must find «мүлік».
_KK_ENDINGS = tuple(
    sorted(
        _wordset(
            "ларды лерди дарды дерди тарды терди ларда лерде дарда дерде тарда терде "
            "ндагы ндеги дагы деги тагы теги нда нде ды ди ты ти ны ни да де та те га ге ка ке мен бен пен "
            # verb endings (present tense, verbal noun, past participle): «беріледі» must find «берілуі»,
            # «тәркіленеді» «тәркіленген»
            "ади еди ады иды иди уга уге уы уи ган ген кан кен"
        ),
        key=len,
        reverse=True,
    )
)
# both lists, longest first: the endings a phrase known to be Kazakh may lose
_ALL_ENDINGS = tuple(sorted((*_ENDINGS, *_KK_ENDINGS), key=len, reverse=True))
_MIN_STEM = 4


def match_tokens(text: str) -> list[tuple[str, int]]:
    """Folded word tokens with their character offsets; hyphen/apostrophe case endings dropped."""
    out: list[tuple[str, int]] = []
    for m in WORD.finditer(text):
        parts = re.split(r"[-'’]", m.group())
        pos = m.start()
        for i, part in enumerate(parts):
            folded = fold(part)
            if not (i and folded in _HYPHEN_SUFFIXES):
                out.append((folded, pos))
            pos += len(part) + 1
    return out


def match_stem(token: str, *, kazakh: bool = False) -> str:
    """A folded token minus its longest known inflectional ending, keeping at least four letters (with
    `kazakh`, Kazakh case endings count too)."""
    if len(token) <= _MIN_STEM or token.isdigit():
        return token
    for ending in _ALL_ENDINGS if kazakh else _ENDINGS:
        if token.endswith(ending) and len(token) - len(ending) >= _MIN_STEM:
            return token[: -len(ending)]
    return token


def stem_matches(stem: str, token: str) -> bool:
    """Whether `token` is an inflected form of `stem` (a short stem only takes a known ending)."""
    if len(stem) < _MIN_STEM:
        return token == stem or (token.startswith(stem) and token[len(stem) :] in _SHORT_SUFFIXES)
    return token.startswith(stem)


@lru_cache(maxsize=4096)
def phrase_stems(phrase: str, *, kazakh_cases: bool = False, kazakh: bool = False) -> tuple[str, ...]:
    """The match stems of a phrase's words (a glossary term, a topic phrasing, an instrument name). With
    `kazakh_cases`, a phrase written with Kazakh letters also loses its Kazakh case and verb endings
    («мүлікті» finds «мүлік»); with `kazakh`, a phrase known to be Kazakh does, whatever its letters
    («бас тартады» finds «бас тартуы»). Instrument names keep theirs, so that an alias «мақалада» (in the
    article) does not claim the ordinary word «мақала»."""
    kazakh = kazakh or (kazakh_cases and any(ch in KAZAKH_LETTERS for ch in phrase.lower()))
    return tuple(match_stem(t, kazakh=kazakh) for t, _ in match_tokens(phrase))


def words(text: str) -> list[str]:
    """The words and numbers of an already normalised text, as `tokenize` splits it (no stemming)."""
    return TOKEN_RE.findall(text)


def is_stopword(word: str, lang: str) -> bool:
    """Whether `tokenize` drops `word` (normalised, lower case) as a function word of `lang`."""
    return word in STOPWORDS[lang]
