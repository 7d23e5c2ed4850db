"""Letter folding: the one table of Latin/Cyrillic look-alikes and the two forms text is compared in.

Takes: any text (a question, a provision, a glossary term). Gives:
- `LOOKALIKES`: the one look-alike table, Latin → the Cyrillic letter it prints like. The sources and
  users type «запpoce», «Cтатья», «icтep» with Latin letters inside Cyrillic words; every stage reads
  them through this table (the lexical index, the query parser, the input guard) or through a view of
  it: `ITEM_LETTERS`, Cyrillic item markers → the Latin letter of provision ids, is its inverse.
- `KAZAKH_FOLD`: Kazakh-only letters → the nearest Russian letter, for Kazakh typed without a Kazakh
  keyboard («кандай» for «қандай»).
- `normalize(text)`: the *index form* (lexical index, answer overlap): NFKC, invisible characters
  dropped, look-alikes fixed, glued words split, lowercase, ё→е. Kazakh letters stay: the Kazakh
  stemmer needs them.
- `fold(text)`: the *match form* (query parser, input guard): lowercase, look-alikes fixed, Kazakh
  letters folded to Russian ones, accents dropped; it is what glossary terms, instrument names and
  injection patterns are matched on.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "ITEM_LETTERS",
    "KAZAKH_FOLD",
    "KAZAKH_FOLD_TABLE",
    "KAZAKH_LETTERS",
    "LOOKALIKES",
    "LOWER_LOOKALIKES",
    "fold",
    "fold_lookalikes",
    "normalize",
]

# Latin letters that print like Cyrillic ones. Case matters: capital B/H/M/T/K look like В/Н/М/Т/К,
# their lowercase forms do not look like в/н/м/т (к/k and у/y are close in both cases). Latin i becomes
# the Kazakh/Ukrainian і, which is what it stands for in these sources («icтep» = «істер»).
LOOKALIKES: dict[str, str] = {
    "a": "а", "c": "с", "e": "е", "o": "о", "p": "р", "x": "х", "y": "у", "i": "і", "k": "к", "h": "һ",
    "A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "I": "І", "K": "К", "M": "М", "O": "О", "P": "Р",
    "T": "Т", "X": "Х", "Y": "У",
}  # fmt: skip
_LOOKALIKE_TABLE = str.maketrans(LOOKALIKES)
# lowercase text: only the lowercase pairs apply (a lowercase «m» does not look like «м»)
LOWER_LOOKALIKES: dict[str, str] = {k: v for k, v in LOOKALIKES.items() if k.islower()}
_LOWER_LOOKALIKE_TABLE = str.maketrans(LOWER_LOOKALIKES)

# Item markers of provisions («а)», «в)», «н)»): a Cyrillic letter standing for the Latin item letter it
# looks like, in either case (so «в» is b, after capital B; «н» is h, after capital H). The inverse of
# `LOOKALIKES`, lowercased; `corpus.provisions` weighs it against the Russian alphabet order.
ITEM_LETTERS: dict[str, str] = {cyr.lower(): lat.lower() for lat, cyr in LOOKALIKES.items()}

# Kazakh letters folded to their nearest Russian letter: users often type Kazakh without its own
# letters («кандай», «сотынын»), so matching happens on the folded form of both sides. ё→е and й→и
# too: users drop the diacritics.
KAZAKH_FOLD: dict[str, str] = {
    "ә": "а", "ғ": "г", "қ": "к", "ң": "н", "ө": "о", "ұ": "у", "ү": "у", "һ": "х", "і": "и", "ё": "е",
    "й": "и",
}  # fmt: skip
KAZAKH_FOLD_TABLE = str.maketrans(KAZAKH_FOLD)
KAZAKH_LETTERS = frozenset("әғқңөұүһі")  # letters only Kazakh uses (of kk/ru/en)

CYRILLIC = re.compile(r"[\u0400-\u052f]")
_LATIN_LOWER = re.compile(r"[a-z]")


def fold_lookalikes(word: str) -> str:
    """A lowercase word with a Cyrillic and a Latin letter: its Latin look-alikes made Cyrillic."""
    if CYRILLIC.search(word) and _LATIN_LOWER.search(word):
        return word.translate(_LOWER_LOOKALIKE_TABLE)
    return word


# ------------------------------------------------------------------------------------ match form

_MATCH_WORD = re.compile(r"[^\W_]+")


def _fold_word(word: str) -> str:
    w = fold_lookalikes(word.lower()).translate(KAZAKH_FOLD_TABLE)
    if not w.isascii():
        w = "".join(c for c in unicodedata.normalize("NFD", w) if not unicodedata.combining(c))
        w = w.replace("ı", "i").replace("ß", "ss")
    return w


def fold(text: str) -> str:
    """The match form, word by word (a word is a run of letters and digits): lowercase; in a word with
    both scripts, Latin look-alikes made Cyrillic; Kazakh letters folded to Russian (қ→к, і→и, й→и);
    accents dropped (é→e). Everything between words is kept as it is."""
    return _MATCH_WORD.sub(lambda m: _fold_word(m.group()), text)


# ------------------------------------------------------------------------------------ index form

_INVISIBLE_RE = re.compile("[\u00ad\u200b\u200c\u200d\u200e\u200f\u2060\ufeff]")
_WS_RE = re.compile(r"\s+")
_LATIN_WORD_RE = re.compile(r"[^\W\d_]*[a-zA-Z][^\W\d_]*")  # letter runs with a Latin letter
# A lowercase letter directly followed by an uppercase one marks two words glued together in the
# sources (headings like «43-бапХалықаралық», «РеспубликуКазахстан»).
_GLUED_RE = re.compile(r"(?<=[a-zа-яёәғқңөұүһі])(?=[A-ZА-ЯЁӘҒҚҢӨҰҮҺІ])")


def _fix_mixed_script(match: re.Match[str]) -> str:
    word = match.group()  # has a Latin letter
    if not CYRILLIC.search(word):
        return word
    latin = {ch for ch in word if "a" <= ch.lower() <= "z"}
    if all(ch in LOOKALIKES for ch in latin):
        return word.translate(_LOOKALIKE_TABLE)
    return word  # a real Latin fragment (e.g. a name next to Cyrillic); leave it alone


def normalize(text: str) -> str:
    """The index form: NFKC, drop soft hyphens and zero-width characters, map Latin look-alikes inside
    Cyrillic words to Cyrillic, split glued words at a lower→upper case change, lowercase, ё→е,
    collapse whitespace."""
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE_RE.sub("", text)
    text = _LATIN_WORD_RE.sub(_fix_mixed_script, text)
    text = _GLUED_RE.sub(" ", text)
    text = text.lower().replace("ё", "е")
    return _WS_RE.sub(" ", text).strip()
