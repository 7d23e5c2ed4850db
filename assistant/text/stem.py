"""Stemmers, one per language: our rule-based Kazakh stemmer, Snowball for Russian and English.

Takes: one normalised lowercase word (`text.normalize.normalize`) and its language. Gives: its stem
(`stem_word(word, lang)`, cached), or `stem_kk` directly. Which stemmer a language uses is its entry in
`core.langs.STEMMERS`: "ours" is `stem_kk`, any other value a snowballstemmer algorithm name.

A snowballstemmer object keeps the word being stemmed in its own fields, so each thread gets its own
(the web app answers on several threads). Nothing is created at import time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from assistant.core.langs import STEMMERS

__all__ = ["stem_kk", "stem_word"]

# --------------------------------------------------------------------------- Kazakh stemmer


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_VOWELS = frozenset("аәеиоөуұүыіэюя")  # for "a stem needs a vowel"; у counts as one there

# Kazakh suffixes come in variants chosen by the last sound of the stem (сот-та, заң-да, конвенция-да;
# тарап-тар, орган-дар, мүше-лер). Checking that sound before stripping keeps roots that merely end
# like a suffix intact (қайта is not қай + та: after й the locative would be -да).
_V = frozenset("аәеиоөұүыіэюя")  # true vowels; у and й behave like voiced consonants before suffixes
_VOICELESS = frozenset("кқпстфхцчшщбвгд")  # б/в/г/д: loanword-final, take the voiceless variants
_VOICED = frozenset("жзлмнңрйу")
_NASAL = frozenset("мнң")
_POSS = frozenset("ыі")  # the pronominal -н- of case endings follows the 3rd-person possessive
_CONS = frozenset("бвгғджзйкқлмнңпрстуфхһцчшщъь")

_Rule = tuple[str, frozenset[str], bool, int]  # suffix, letters allowed before it, marks a verb, min stem


def _rules(
    *groups: tuple[Iterable[str], frozenset[str]], verbal: bool = False, min_stem: int = 0
) -> list[_Rule]:
    return [(s, before, verbal, min_stem) for suffixes, before in groups for s in suffixes]


def _longest_first(rules: Iterable[_Rule]) -> tuple[_Rule, ...]:
    return tuple(sorted(rules, key=lambda r: -len(r[0])))


_CASE = _longest_first(
    [
        *_rules((("ндағы", "ндегі", "нда", "нде", "на", "не", "н"), _POSS)),  # after possessive
        *_rules((("дағы", "дегі"), _V | _VOICED), (("тағы", "тегі"), _VOICELESS)),  # attributive loc.
        *_rules((("дан", "ден"), _V | _VOICED - _NASAL), (("нан", "нен"), _NASAL | _POSS)),  # ablative
        *_rules((("тан", "тен"), _VOICELESS)),
        *_rules((("ның", "нің"), _V | _NASAL), (("дың", "дің"), _VOICED - _NASAL)),  # genitive
        *_rules((("тың", "тің"), _VOICELESS)),
        *_rules((("да", "де"), _V | _VOICED), (("та", "те"), _VOICELESS)),  # locative
        *_rules((("ға", "ге"), _V | _VOICED), (("қа", "ке"), _VOICELESS)),  # dative
        *_rules((("ны", "ні"), _V), (("ды", "ді"), _VOICED), (("ты", "ті"), _VOICELESS)),  # accusative
        *_rules((("мен", "бен", "пен"), _V | _CONS)),  # instrumental
    ]
)
# Finite verb endings (present 3rd person, conditional): after them come no possessive or plural.
# A two-letter stem is only trusted where the suffix is unambiguous (ал-ады, but not қо-са, қо-йды).
_FINITE = _longest_first(
    _rules((("ады", "еді"), _CONS))
    + _rules((("йды", "йді", "иды", "иді"), _V | _CONS), (("са", "се"), _V | _CONS), min_stem=3)
)
# -сы/-сі follows a vowel, but not ы/і: «табысы» is табыс-ы, not таб-ы-сы (nor бас-ы ба-сы).
_POSSESSIVE = _longest_first(_rules((("сы", "сі"), _V - _POSS), min_stem=3) + _rules((("ы", "і"), _CONS)))
_ROOT_VOWEL = _longest_first(_rules((("ы", "і"), _CONS)))  # кедергі-лер ~ кедерг-і
_PLURAL = _longest_first(
    _rules((("лар", "лер"), _V | frozenset("рйу")), (("дар", "дер"), _VOICED - frozenset("рйу")))
    + _rules((("тар", "тер"), _VOICELESS))
)
_PARTICIPLE = ("атын", "етін", "йтын", "йтін", "итын", "итін")
_VERBAL = _longest_first(
    _rules(
        (("у",), _V | _CONS),  # verbal noun
        (("ған", "ген"), _V | _VOICED),  # past participle
        (("қан", "кен"), _VOICELESS),
        (("атын", "етін", "ып", "іп"), _CONS),  # future participle, converb
        (("йтын", "йтін"), _V),
        (("итын", "итін"), _CONS),  # қамт-итын
        verbal=True,
    )
)
# Nominal derivation (-лық «-ness/-al»). After it the word is a noun again, so stripping restarts.
_DERIVATION = _longest_first(  # min 3: мүлік is not мү-лік
    _rules(
        (("лық", "лік"), _V | frozenset("рйу")),
        (("дық", "дік"), _VOICED - frozenset("рйу")),
        (("тық", "тік"), _VOICELESS),
        min_stem=3,
    )
)
# Passive/reflexive; bare -л/-н only on stems of 3+ letters (сұра-л-ған, but сал-у is not са-л-у).
_VOICE = _longest_first(_rules((("ыл", "іл", "ын", "ін"), _CONS)) + _rules((("л", "н"), _V), min_stem=3))

# Nouns whose possessive forms read like something else: -ат/-ет (and -ит/-йт) nouns with -ын/-ін
# look like a participle (мақсат-ын vs сал-атын); -н nouns with -ы look like an accusative (орган-ы vs
# конвенция-ны). Their possessive (+ case) forms are mapped straight to the noun.
_KK_NOUNS = _words(
    """ат бет зат хат сәт шет ақпарат мақсат сипат құжат саясат қызмет әрекет ниет комитет құзырет
    қаражат қағидат табиғат рұқсат мәлімет міндет қажет қасиет мемлекет қуат әдет сауат кредит
    депозит лимит транзит сайт орган нысан сан жан заман қазан экран кеден мазмұн мән құн мәтін"""
)
_CASE_AFTER_POSS = ("", "н", "на", "не", "нда", "нде", "ндағы", "ндегі", "нан", "нен", "ның", "нің", "мен")
_POSS_CASE = tuple(sorted({p + c for p in "ыі" for c in _CASE_AFTER_POSS}, key=len, reverse=True))
# Participles ending in -н take the same possessive: «табылатын-ы», «қатысқан-ы» (not -ны).
_N_PARTICIPLE = ("атын", "етін", "йтын", "йтін", "итын", "итін", "ған", "ген", "қан", "кен")
# Words whose ending only looks like a suffix (stripping it would merge unrelated words: «қолдан-у»
# to apply vs «қолда-у» to support; «жабдық» equipment vs «жабу» to close; «тұлға» person).
_KK_STOP = _words(
    """қолдан орын табын ойын түсін ұсын құрыл байлан басқа жүгін жабдық тәртіп кәсіп қауіп қалып
    тағы мүлік салық халық салдар айып тұлға пайда сауда пошта кеден түпнұсқа контрабанда қағида төмен кеңсе
    қазақстан өзбекстан қырғызстан тәжікстан түрікменстан пәкістан ауғанстан"""
)
# Roots that drop a vowel before a vowel-initial suffix (мүлік → мүлкі); map the short form back.
_KK_ELISION = {"мүлк": "мүлік", "халқ": "халық", "ерк": "ерік", "орн": "орын", "ауз": "ауыз", "ерн": "ерін"}
# Stem-final voiced consonants are the same phoneme as the dictionary form (тарабы/тарап, құқығы/құқық).
_DEVOICE = str.maketrans({"ғ": "қ", "г": "к", "б": "п"})


def _strip(word: str, rules: tuple[_Rule, ...], min_len: int) -> tuple[str, _Rule | None]:
    for rule in rules:
        suffix, before, _, min_stem = rule
        if len(word) - len(suffix) < max(min_len, min_stem) or not word.endswith(suffix):
            continue
        stem = word[: -len(suffix)]
        if stem[-1] in before and any(ch in _VOWELS for ch in stem):
            return stem, rule
    return word, None


def _canon(stem: str) -> str:
    stem = _KK_ELISION.get(stem, stem)
    return stem[:-1] + stem[-1].translate(_DEVOICE) if stem else stem


def stem_kk(word: str, min_len: int = 2) -> str:
    """Light Kazakh stemmer for a normalised lowercase word.

    Strips, right to left and at most once each: a case ending or a finite verb ending, the
    3rd-person possessive, the plural, then a participle / verbal noun / converb (after which passive
    and reflexive -ыл/-ын may go too) or a nominal derivation (after which it starts again), keeping
    at least `min_len` letters and a vowel. Not a morphological analyser: it aims at making the
    inflected forms of one word meet and, when in doubt, keeps the stem longer.
    """
    if word in _KK_NOUNS:
        return _canon(word)
    stem = word
    for ending in _POSS_CASE:
        if stem.endswith(ending):
            base = stem[: -len(ending)]
            if base in _KK_NOUNS:
                return _canon(base)
            if base.endswith(_N_PARTICIPLE) and len(base) > 5:
                stem = base
                break
    derived = False  # after a nominal derivation only nominal endings can precede it
    for _ in range(3):
        if stem in _KK_STOP:
            break
        verbal = False
        if not stem.endswith(_PARTICIPLE):
            if not derived:
                stem, rule = _strip(stem, _FINITE, min_len)
                verbal = rule is not None
            if not verbal:
                for rules in (_CASE, _POSSESSIVE, _PLURAL):
                    stem, rule = _strip(stem, rules, min_len)
                    if stem in _KK_STOP:
                        return _canon(stem)
                if rule is not None:  # a root-final ы/і goes in every form, not only the bare one
                    stem, _ = _strip(stem, _ROOT_VOWEL, min_len)
        if not verbal:
            if not derived:
                stem, rule = _strip(stem, _VERBAL, min_len)
                verbal = rule is not None
            if not verbal:
                stem, rule = _strip(stem, _DERIVATION, min_len)
                if rule is not None:
                    derived = True
                    continue
        if verbal:
            for _ in range(2):  # passive of a reflexive: қолдан-ыл-
                if stem in _KK_STOP:
                    break
                stem, rule = _strip(stem, _VOICE, min_len)
                if rule is None:
                    break
        break
    return _canon(stem)


# --------------------------------------------------------------------------- Russian, English

# A snowballstemmer object keeps the word being stemmed in its own fields: two threads sharing one get
# each other's stems (and lru_cache below would keep a wrong stem for good). The web app answers on
# several threads, so each thread gets its own stemmers.
_snowball_local = threading.local()


def _snowball(lang: str) -> Any:  # snowballstemmer ships no type information
    cache: dict[str, Any] | None = getattr(_snowball_local, "stemmers", None)
    if cache is None:
        cache = _snowball_local.stemmers = {}
    stemmer = cache.get(lang)
    if stemmer is None:
        import snowballstemmer

        stemmer = cache[lang] = snowballstemmer.stemmer(STEMMERS[lang])
    return stemmer


@lru_cache(maxsize=300_000)
def stem_word(word: str, lang: str) -> str:
    """The stem of a normalised lowercase word in `lang` (a code of `core.langs.LANGS`)."""
    if STEMMERS[lang] == "ours":
        return stem_kk(word)
    return _snowball(lang).stemWord(word)
