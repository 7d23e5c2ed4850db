"""Lexical retrieval: text normalisation, per-language analysis (kk/ru/en) and a BM25 index.

Takes: provision texts as `(doc_id, text, lang)` triples, and questions in Kazakh, Russian or English.
Gives: `normalize` (clean, lowercased text), `tokenize` (stemmed index terms), `stem_kk` (a light
Kazakh suffix-stripping stemmer), `detect_lang`, and `BM25Index` (Okapi BM25 over one vocabulary shared
by all languages; build, search with an optional doc-id filter, save/load as .npz + .json, no pickle).

Russian and English are stemmed with Snowball; Kazakh with the rule-based stemmer below. Nothing is
loaded at import time except compiled regular expressions; stemmers are created on first use.
"""

from __future__ import annotations

import json
import os
import re
import threading
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from assistant.core.errors import IndexCorruptError, IndexMismatchError, IndexMissingError

# Bump whenever normalisation, tokenisation or stemming changes: a saved index built with another
# analyzer would silently mismatch the query terms, so `BM25Index.load` refuses it.
ANALYZER_VERSION = "kkruen-1"
FORMAT_VERSION = 1

Lang = Literal["kk", "ru", "en", "auto"]
LANGS: frozenset[str] = frozenset({"kk", "ru", "en", "auto"})

# --------------------------------------------------------------------------- normalisation

_INVISIBLE_RE = re.compile("[\u00ad\u200b\u200c\u200d\u200e\u200f\u2060\ufeff]")
_WS_RE = re.compile(r"\s+")
_LATIN_WORD_RE = re.compile(r"[^\W\d_]*[a-zA-Z][^\W\d_]*")  # letter runs with a Latin letter
_CYRILLIC_RE = re.compile("[\u0400-\u04ff]")
_LATIN_LETTER_RE = re.compile("[a-z]")
# A lowercase letter directly followed by an uppercase one marks two words glued together in the
# sources (headings like «43-бапХалықаралық», «РеспубликуКазахстан»).
_GLUED_RE = re.compile(r"(?<=[a-zа-яёәғқңөұүһі])(?=[A-ZА-ЯЁӘҒҚҢӨҰҮҺІ])")

# Latin letters that print like Cyrillic ones. Case matters: capital B/H/M/T/K look like В/Н/М/Т/К,
# their lowercase forms do not look like в/н/м/т (к/k and у/y are close in both cases). Latin i becomes
# the Kazakh/Ukrainian і, which is what it stands for in these sources («icтep» = «істер»).
_LOOKALIKE = {
    "a": "а", "c": "с", "e": "е", "o": "о", "p": "р", "x": "х", "y": "у", "i": "і", "k": "к", "h": "һ",
    "A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "I": "І", "K": "К", "M": "М", "O": "О", "P": "Р",
    "T": "Т", "X": "Х", "Y": "У",
}  # fmt: skip
_LOOKALIKE_TABLE = str.maketrans(_LOOKALIKE)


def _fix_mixed_script(match: re.Match[str]) -> str:
    word = match.group()  # has a Latin letter
    if not _CYRILLIC_RE.search(word):
        return word
    latin = {ch for ch in word if "a" <= ch.lower() <= "z"}
    if all(ch in _LOOKALIKE for ch in latin):
        return word.translate(_LOOKALIKE_TABLE)
    return word  # a real Latin fragment (e.g. a name next to Cyrillic); leave it alone


def normalize(text: str) -> str:
    """NFKC, drop soft hyphens and zero-width characters, map Latin look-alikes inside Cyrillic words
    to Cyrillic, split glued words at a lower→upper case change, lowercase, ё→е, collapse whitespace."""
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE_RE.sub("", text)
    text = _LATIN_WORD_RE.sub(_fix_mixed_script, text)
    text = _GLUED_RE.sub(" ", text)
    text = text.lower().replace("ё", "е")
    return _WS_RE.sub(" ", text).strip()


# --------------------------------------------------------------------------- Kazakh stemmer


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_KK_SPECIFIC = frozenset("әғқңөұүһі")
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


# --------------------------------------------------------------------------- tokenisation

_TOKEN_RE = re.compile(r"\d+|[^\W\d_]+")

# Short function-word lists; IDF already discounts frequent words, these only remove noise and time.
_STOPWORDS: dict[str, frozenset[str]] = {
    "kk": _words(
        """және мен бен пен немесе не да де та те осы бұл сол ол олар оның олардың оны оларды оған
        оларға онда мұнда үшін туралы бойынша арқылы сияқты сайын бірақ егер әрі яғни ғана тек
        басқа барлық әрбір кез өз өзі өзінің өздерінің қандай мынадай осындай сондай мұндай деп
        дейін кейін бері соң ретінде ал ғой өзге қатысты қоса"""
    ),
    "ru": _words(
        """и в во на с со к ко по о об обо от до из за для при под над без через между а но или
        либо ни же ли бы что чтобы как так также то это этот эта эти этого этой этих тот та те того
        той тех он она оно они его ее их ему ей им ним нее них который которая которое которые
        которого которой которых которым свой своего своей своих такой такие такого также быть
        является являются был была были будет"""
    ),
    "en": _words(
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
_LOOKALIKE_LOWER = frozenset("aceopxyikh")
_LOWER_TO_CYR = str.maketrans({k: v for k, v in _LOOKALIKE.items() if k.islower()})

_SNOWBALL_NAMES = {"ru": "russian", "en": "english"}
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

        stemmer = cache[lang] = snowballstemmer.stemmer(_SNOWBALL_NAMES[lang])
    return stemmer


@lru_cache(maxsize=300_000)
def _stem(word: str, lang: str) -> str:
    if lang == "kk":
        return stem_kk(word)
    return _snowball(lang).stemWord(word)


def _script_lang(word: str) -> str:
    """kk for words with Kazakh-only letters, en for Latin, ru for other Cyrillic."""
    if any(ch in _KK_SPECIFIC for ch in word):
        return "kk"
    return "ru" if _CYRILLIC_RE.search(word) else "en"


def detect_lang(text: str) -> Literal["kk", "ru", "en"]:
    """Guess the language of a question: any Kazakh-only letter → kk, mostly Cyrillic → ru, else en."""
    text = normalize(text)
    if any(ch in _KK_SPECIFIC for ch in text):
        return "kk"
    cyr = len(_CYRILLIC_RE.findall(text))
    lat = len(_LATIN_LETTER_RE.findall(text))
    return "ru" if cyr > lat else "en"


@lru_cache(maxsize=300_000)
def _terms(word: str, lang: str, kk_expand: bool) -> tuple[str, ...]:
    if word.isdigit():
        return (word,)
    script = _script_lang(word)
    if lang in ("kk", "ru") and script == "en" and all(ch in _LOOKALIKE_LOWER for ch in word):
        # A word spelled only with look-alike Latin letters in a kk/ru text is Cyrillic («ic» = «іс»).
        script = "kk" if "i" in word or "h" in word else "ru"
        word = word.translate(_LOWER_TO_CYR)
    # The script decides (Latin → en, Kazakh letters → kk, other Cyrillic → ru), except that plain
    # Cyrillic in a Kazakh text is Kazakh («мемлекеттер» has no Kazakh-only letter).
    use = "kk" if script == "ru" and lang == "kk" else script
    word = _ABBREV.get(use, {}).get(word, word)
    if len(word) < 2 or word in _STOPWORDS[use]:
        return ()
    first = _stem(word, use)
    if lang == "auto" and use == "ru" and kk_expand and word not in _STOPWORDS["kk"]:
        # Cyrillic without Kazakh letters may still be Kazakh («мемлекеттер», «конвенцияны»).
        second = _stem(word, "kk")
        if second != first:
            return (first, second)
    return (first,)


def tokenize(text: str, lang: str, *, kk_expand: bool = True) -> list[str]:
    """Normalise `text` and return its index terms: numbers as they are ("13-бап" → "13", "бап"),
    words minus stopwords, stemmed for `lang` ("kk", "ru", "en", or "auto" to choose per word by
    script; in auto mode plain-Cyrillic words also yield their Kazakh stem when `kk_expand`)."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; use one of {sorted(LANGS)}")
    out: list[str] = []
    for word in _TOKEN_RE.findall(normalize(text)):
        out.extend(_terms(word, lang, kk_expand))
    return out


def words(text: str) -> list[str]:
    """The words and numbers of an already normalised text, as `tokenize` splits it (no stemming)."""
    return _TOKEN_RE.findall(text)


def is_stopword(word: str, lang: str) -> bool:
    """Whether `tokenize` drops `word` (normalised, lower case) as a function word of `lang`."""
    return word in _STOPWORDS[lang]


# --------------------------------------------------------------------------- BM25 index

_META = "bm25.json"
_ARRAYS = "bm25.npz"


class BM25Index:
    """Okapi BM25 over all documents of all languages (one vocabulary, IDF over every document).

    Postings are stored term-major (CSC-like: `indptr`, `docs`, `tf`); BM25 weights per posting are
    precomputed, so a query is a few numpy additions.
    """

    def __init__(self, k1: float = 1.2, b: float = 0.75, *, kk_expand: bool = True) -> None:
        self.k1 = k1
        self.b = b
        self.kk_expand = kk_expand
        self._doc_ids: list[str] = []
        self._langs: list[str] = []
        self._pos: dict[str, int] = {}
        self._vocab: dict[str, int] = {}
        self._indptr = np.zeros(1, dtype=np.int64)
        self._docs = np.zeros(0, dtype=np.int32)
        self._tf = np.zeros(0, dtype=np.int32)
        self._doc_len = np.zeros(0, dtype=np.int32)
        self._weights = np.zeros(0, dtype=np.float32)

    def __len__(self) -> int:
        return len(self._doc_ids)

    @property
    def doc_ids(self) -> list[str]:
        return list(self._doc_ids)

    @property
    def doc_langs(self) -> list[str]:
        return list(self._langs)

    @property
    def vocab_size(self) -> int:
        return len(self._vocab)

    def build(self, docs: Sequence[tuple[str, str, str]]) -> BM25Index:
        """Index `(doc_id, text, lang)` triples, replacing any previous content. Returns self."""
        ids = [d[0] for d in docs]
        if len(set(ids)) != len(ids):
            dup = next(i for i, c in Counter(ids).items() if c > 1)
            raise ValueError(f"duplicate doc id {dup!r}; doc ids must be unique")
        vocab: dict[str, int] = {}
        term_ids: list[int] = []
        doc_idx: list[int] = []
        tfs: list[int] = []
        lengths = np.zeros(len(docs), dtype=np.int32)
        for i, (_, text, lang) in enumerate(docs):
            tokens = tokenize(text, lang)
            lengths[i] = len(tokens)
            for term, tf in Counter(tokens).items():
                term_ids.append(vocab.setdefault(term, len(vocab)))
                doc_idx.append(i)
                tfs.append(tf)
        t = np.asarray(term_ids, dtype=np.int64)
        order = np.argsort(t, kind="stable")  # stable: docs stay ascending within a term
        self._vocab = vocab
        self._doc_ids = ids
        self._langs = [d[2] for d in docs]
        self._pos = {d: i for i, d in enumerate(ids)}
        self._indptr = np.concatenate([[0], np.cumsum(np.bincount(t, minlength=len(vocab)))]).astype(np.int64)
        self._docs = np.asarray(doc_idx, dtype=np.int32)[order]
        self._tf = np.asarray(tfs, dtype=np.int32)[order]
        self._doc_len = lengths
        self._compute_weights()
        return self

    def _compute_weights(self) -> None:
        n = len(self._doc_ids)
        if n == 0 or len(self._docs) == 0:
            self._weights = np.zeros(0, dtype=np.float32)
            return
        df = np.diff(self._indptr).astype(np.float64)
        idf = np.log1p((n - df + 0.5) / (df + 0.5))  # the +1 form: never negative for common terms
        avgdl = max(float(self._doc_len.mean()), 1e-9)
        norm = self.k1 * (1.0 - self.b + self.b * self._doc_len.astype(np.float64) / avgdl)
        tf = self._tf.astype(np.float64)
        per_term_idf = np.repeat(idf, np.diff(self._indptr))
        self._weights = (per_term_idf * tf * (self.k1 + 1.0) / (tf + norm[self._docs])).astype(np.float32)

    def scores(self, query: str, lang: str = "auto") -> np.ndarray:
        """BM25 score of every document (in build order) for `query`; 0 where no term matches."""
        out = np.zeros(len(self._doc_ids), dtype=np.float64)
        for term in dict.fromkeys(tokenize(query, lang, kk_expand=self.kk_expand)):
            t = self._vocab.get(term)
            if t is None:
                continue
            lo, hi = self._indptr[t], self._indptr[t + 1]
            out[self._docs[lo:hi]] += self._weights[lo:hi]  # docs are unique within a term
        return out

    def search(
        self, query: str, lang: str = "auto", k: int = 20, allowed: Collection[str] | None = None
    ) -> list[tuple[str, float]]:
        """Top `k` `(doc_id, score)` by BM25, best first, only documents that match at least one term;
        `allowed` restricts the result to those doc ids (unknown ids are ignored)."""
        if k <= 0 or not self._doc_ids:
            return []
        scores = self.scores(query, lang)
        if allowed is not None:
            cand = np.fromiter((self._pos[d] for d in allowed if d in self._pos), dtype=np.int64)
            cand = np.unique(cand)
        else:
            cand = np.flatnonzero(scores)
        if cand.size == 0:
            return []
        sub = scores[cand]
        keep = sub > 0
        cand, sub = cand[keep], sub[keep]
        if cand.size > k:
            part = np.argpartition(-sub, k - 1)[:k]
            cand, sub = cand[part], sub[part]
        order = np.lexsort((cand, -sub))  # ties: earlier document first, so results are deterministic
        return [(self._doc_ids[i], float(sub[j])) for j, i in ((j, cand[j]) for j in order)]

    # ------------------------------------------------------------------ persistence

    def save(self, directory: Path) -> None:
        """Write `bm25.npz` (postings) and `bm25.json` (ids, vocabulary, parameters) into `directory`."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        vocab = [""] * len(self._vocab)
        for term, i in self._vocab.items():
            vocab[i] = term
        meta = {
            "format": FORMAT_VERSION,
            "analyzer": ANALYZER_VERSION,
            "k1": self.k1,
            "b": self.b,
            "kk_expand": self.kk_expand,
            "doc_ids": self._doc_ids,
            "langs": self._langs,
            "vocab": vocab,
        }
        # Write both files under temporary names first, so an interrupted save never leaves a new
        # postings file next to an old vocabulary.
        tmp_arrays, tmp_meta = directory / (_ARRAYS + ".tmp"), directory / (_META + ".tmp")
        with tmp_arrays.open("wb") as fh:
            np.savez(fh, indptr=self._indptr, docs=self._docs, tf=self._tf, doc_len=self._doc_len)
        tmp_meta.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp_arrays, directory / _ARRAYS)
        os.replace(tmp_meta, directory / _META)

    @classmethod
    def load(cls, directory: Path) -> BM25Index:
        """Read an index written by `save`; raises IndexMissingError / IndexMismatchError /
        IndexCorruptError."""
        directory = Path(directory)
        meta_path, arrays_path = directory / _META, directory / _ARRAYS
        if not meta_path.exists() or not arrays_path.exists():
            raise IndexMissingError(f"no BM25 index in {directory}; build the index first")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            with np.load(arrays_path, allow_pickle=False) as z:
                arrays = {name: z[name] for name in ("indptr", "docs", "tf", "doc_len")}
            if not isinstance(meta, dict):
                raise TypeError("metadata is not an object")
        except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
            raise IndexCorruptError(
                f"BM25 index in {directory} is unreadable ({type(exc).__name__}); rebuild the index"
            ) from None
        if meta.get("format") != FORMAT_VERSION or meta.get("analyzer") != ANALYZER_VERSION:
            raise IndexMismatchError(
                f"BM25 index in {directory} was built by analyzer {meta.get('analyzer')!r} "
                f"(this code: {ANALYZER_VERSION!r}); rebuild the index"
            )
        try:
            index = cls(float(meta["k1"]), float(meta["b"]), kk_expand=bool(meta.get("kk_expand", True)))
            index._doc_ids = list(meta["doc_ids"])
            index._langs = list(meta["langs"])
            index._vocab = {term: i for i, term in enumerate(meta["vocab"])}
            index._indptr = arrays["indptr"].astype(np.int64, copy=False)
            index._docs = arrays["docs"].astype(np.int32, copy=False)
            index._tf = arrays["tf"].astype(np.int32, copy=False)
            index._doc_len = arrays["doc_len"].astype(np.int32, copy=False)
            n, nnz = len(index._doc_ids), len(index._docs)
            ok = (
                len(index._indptr) == len(index._vocab) + 1
                and index._indptr[-1] == nnz
                and len(index._tf) == nnz
                and len(index._doc_len) == n == len(index._langs)
                and (nnz == 0 or (int(index._docs.min()) >= 0 and int(index._docs.max()) < n))
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise IndexCorruptError(
                f"BM25 index in {directory} is malformed ({type(exc).__name__}); rebuild the index"
            ) from None
        if not ok:
            raise IndexCorruptError(f"BM25 index in {directory} has inconsistent arrays; rebuild the index")
        index._pos = {d: i for i, d in enumerate(index._doc_ids)}
        index._compute_weights()
        return index
