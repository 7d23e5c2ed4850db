"""Kazakh typed in Latin letters, read back into Cyrillic.

Takes: a question. Gives: `kazakh_from_latin(text)`: the question in Cyrillic when it is Kazakh typed in
Latin letters («Qai konvensiia shet memleket sotynyn tarkileu turaly sheshimin oryndaudy qarastyrady?»,
the 2021 Latin alphabet with «á, ǵ, ń, ó, ú, ı, sh, ch», or the ad-hoc spelling of phones without Kazakh
keys), else None. Every later stage (instrument names, glossary, topics, BM25, the embedding model)
reads Kazakh in Cyrillic, so the question is read there once, at the start.

Latin spelling loses some distinctions (u: ұ/у/ү, i: і/и, k: к/қ when q is not used); the stages compare
words with Kazakh letters folded (қ→к, ә→а, і→и, ...), so the folded letter is enough. Pure string work.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from assistant.text.detect import english_words, kazakh_words, language_scores

__all__ = ["kazakh_from_latin"]

# Longer spellings first (ad-hoc and official), then single letters. Lower case; case is restored per letter.
_TRIGRAPHS = {"iia": "ия", "iya": "ия", "iiu": "ию", "iyu": "ию", "shch": "щ"}
_DIGRAPHS = {
    "ia": "ия",
    "iu": "ию",
    "sh": "ш",
    "ch": "ч",
    "zh": "ж",
    "gh": "ғ",
    "kh": "х",
    "ts": "ц",
    "ya": "я",
    "yu": "ю",
    "yo": "ё",
}
_LETTERS = {
    "a": "а", "á": "ә", "ä": "ә", "b": "б", "c": "ц", "d": "д", "e": "е", "f": "ф", "g": "г", "ǵ": "ғ",
    "ğ": "ғ", "h": "һ", "i": "і", "ı": "и", "j": "ж", "k": "к", "l": "л", "m": "м", "n": "н", "ń": "ң",
    "ñ": "ң", "o": "о", "ó": "ө", "ö": "ө", "p": "п", "q": "қ", "r": "р", "s": "с", "t": "т", "u": "ұ",
    "ú": "ү", "ü": "ү", "ý": "у", "v": "в", "w": "у", "x": "х", "y": "ы", "z": "з", "ş": "ш", "ç": "ч",
}  # fmt: skip
_VOWELS = set("aáäeiıoóöuúüýy")
_TOKEN = re.compile(r"[^\W\d_]+", re.UNICODE)
_CYRILLIC = re.compile(r"[а-яёәіңғүұқөһ]", re.I)
_LATIN = re.compile(r"[a-záäǵğıńñóöúüýşç]", re.I)


# Russian loanwords in «-ция» are typed as they sound, «konvensiia», «ratifikasiia»: read «ц»
_LOAN_TSIA = re.compile(r"(?<=[naeiou])s(?=i(?:ia|ya|ıa|a\b|a[a-z]))")


def _word(word: str) -> str:
    if not word.isupper():
        word = _LOAN_TSIA.sub("ts", word)
    low = word.lower()
    out: list[str] = []
    i = 0
    while i < len(low):
        upper = word[i].isupper()
        if low[i : i + 4] in _TRIGRAPHS:
            piece, i = _TRIGRAPHS[low[i : i + 4]], i + 4
        elif low[i : i + 3] in _TRIGRAPHS:
            piece, i = _TRIGRAPHS[low[i : i + 3]], i + 3
        elif low[i : i + 2] == "ng" and i + 2 == len(low):
            piece, i = "ң", i + 2  # «eldiń» typed «elding»; inside a word it is н+г as often («Vengriya»)
        elif low[i : i + 2] in _DIGRAPHS:
            piece, i = _DIGRAPHS[low[i : i + 2]], i + 2
        else:
            piece, i = _LETTERS.get(low[i], low[i]), i + 1
        # «AQSh» → «АҚШ»: a letter keeps its case (an abbreviation is matched in capitals)
        out.append(piece[:1].upper() + piece[1:] if upper else piece)
    return "".join(out)


def kazakh_from_latin(text: str, keep: Collection[str] = ()) -> str | None:
    """`text` in Cyrillic when it is Kazakh typed in Latin letters, else None (Cyrillic, English, mixed).
    Words in `keep` (Latin abbreviations that name an instrument, «UNCAC») stay as typed."""
    if _CYRILLIC.search(text) or len(_LATIN.findall(text)) < 6:
        return None
    cyrillic = _TOKEN.sub(lambda m: m.group() if m.group() in keep else _word(m.group()), text)
    # Kazakh words in the Cyrillic reading (or Kazakh Latin in the text itself) beat its English words
    kazakh = max(kazakh_words(cyrillic), language_scores(text)["kk"])
    return cyrillic if kazakh >= 2.0 and kazakh > english_words(text) else None
