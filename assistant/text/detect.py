"""Language detection: which of kk/ru/en a text is written in, the one detector every stage uses.

Takes: a question, an answer or any short text. Gives: `detect_language(text)` (kk, ru or en by
weighted word evidence: Kazakh-only letters, known function words and endings of each language, Kazakh
typed in Latin letters), `language_scores(text)` (the evidence itself, for callers that need to know
how sure it is) and `guess_language(text)` (the language to word a refusal in; never raises). With no
evidence at all, both answer `core.langs.FALLBACK_LANG`.

Plain string work on the standard library, well under a millisecond per question.
"""

from __future__ import annotations

import re
import unicodedata

from assistant.core.langs import FALLBACK_LANG, LANGS, Lang
from assistant.text.normalize import CYRILLIC, KAZAKH_FOLD_TABLE, KAZAKH_LETTERS, fold

__all__ = ["detect_language", "english_words", "guess_language", "kazakh_words", "language_scores"]

_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")
_LAT = re.compile(r"[a-z]")


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


_RU_ONLY_LETTERS = frozenset("ёъщэ")
# Kazakh words that carry no Kazakh-only letter, as users type them (folded: ә→а, қ→к, і→и, ...).
_KK_WORDS = _wordset(
    """
    туралы бойынша жане бап бабы бабын бабына бабында бабынын баптар баптын бапта бапка баптан шарт шарты
    шартка шартта шарттын шарттар ше ал кандаи каи кашан калаи неге неше кимге мен пен бен кайсы осы бул
    онда сонда оларды олар оны онын деген болады бола ма ме ба бе па пе бар жок ушин керек мумкин
    береди мемлекет мемлекеттер сот соты сотынын тараптар тарап конвенциясы конвенциясынын
    конвенциясында конвенциясына конвенциясын конвенцияда конвенцияга конвенцияны тармак тармагы
    тармакшасы таркилеу жылыстату сурау салу комек кайтару активтерди кылмыс кылмыстык
    карсы арасындагы жасалган кайда кимнин
    """
)
_KK_SUFFIX = re.compile(
    r"(?:(?:лар|лер|дар|дер|тар|тер)(?:ды|ди|ы|и|дын|дин|га|ге|да|де|мен)?|(?:нын|нин|дын|дин|тын|тин)"
    r"|иясы\w*|(?:ык|ик|лык|лик|дык|дик|тык|тик)(?:тар|тер|ты|ти|тын|ка|ке)|ынан|инен|ында|инде)$"
)
_RU_WORDS = _wordset(
    """
    и в во на по о об от для из к с со у за при без до не ли что как какой какая какое какие каков
    какова каким какими какую каких чем где когда кто это этот эта эти этой этом этого который которая
    которые которых а но или же ещё еще также только есть может можно нужно ли статья статьи статье
    статью статей пункт пункта пункте конвенция конвенции конвенцией договор договора договоре
    государство государства между против касается касаются предусматривает предусмотрено ст п ч там
    """
)
_RU_SUFFIX = re.compile(
    r"(?:ого|его|ому|ему|ыми|ими|ться|тся|ение|ения|ании|ание|ость|ости|ций|ция|ции|ются|ает)$"
)
_EN_WORDS = _wordset(
    """
    the a an of to in on for by with from and or is are was were be been does do did what which who whom
    when where why how can could may must shall should will would there this that these those it its
    article articles art paragraph convention treaty say says about under between against any all
    """
)
# Kazakh typed in Latin letters (Kazakh Latin alphabet or ad-hoc transliteration).
_KK_LATIN_WORDS = _wordset(
    """
    bap baby babynda babyna babynyn baptar tarmak tarmaq tarmagy tarmaqtyn tarmakshasy tarmaqshasy turaly
    boiynsha boyynsha boyinsha boıynsha jane zhane qandai qandaı kandai qai kai qaisy kaisy qashan kashan
    qalai kalai ushin memleket memlekettin sot sotynyn tarkileu tarkilew jylystatu zhylystatu qaitaru
    kaitaru aktivterdi komek kómek suratu surau salu sharty shart konvensiya konventsiya konvensiyasy
    konventsiyasy konvensiyasynyn konventsiyasynyn qylmys kylmys qylmystyq kylmystyk arasyndagy
    bola ma ba pa pe kerek mumkin beredi
    """
)
_KK_LATIN_LETTERS = frozenset("áǵńóúýı")  # letters of the Kazakh Latin alphabet English does not use


def language_scores(text: str) -> dict[str, float]:
    scores = {"kk": 0.0, "ru": 0.0, "en": 0.0}
    # NFKC: full-width and styled letters («ｉｇｎｏｒｅ», «𝐜𝐨𝐧𝐟𝐢𝐬𝐜𝐚𝐭𝐢𝐨𝐧») are the plain letters they look like
    for m in _WORD.finditer(unicodedata.normalize("NFKC", text).lower()):
        raw = m.group()
        for word in re.split(r"[-'’]", raw):
            if not word or word.isdigit() or not any(c.isalpha() for c in word):
                continue
            if CYRILLIC.search(word):
                folded = word.translate(KAZAKH_FOLD_TABLE)
                if KAZAKH_LETTERS.intersection(word):
                    scores["kk"] += 3.0
                elif folded in _KK_WORDS or (len(folded) > 5 and _KK_SUFFIX.search(folded)):
                    scores["kk"] += 2.0
                elif word in _RU_WORDS or _RU_ONLY_LETTERS.intersection(word):
                    scores["ru"] += 2.0
                elif len(word) > 4 and _RU_SUFFIX.search(word):
                    scores["ru"] += 1.0
                else:
                    scores["ru"] += 0.5
            elif word.isascii() or _LAT.search(fold(word)):
                folded = fold(word)
                if folded in _KK_LATIN_WORDS or _KK_LATIN_LETTERS.intersection(word):
                    scores["kk"] += 2.5
                elif word in _EN_WORDS:
                    scores["en"] += 2.0
                elif "q" in word and not re.search(r"qu", word):
                    scores["kk"] += 1.0  # «q» without «u» is Kazakh Latin, not English
                elif len(word) > 1:
                    scores["en"] += 0.75
    return scores


def kazakh_words(text: str) -> float:
    """Evidence that a Cyrillic text is Kazakh from its words alone (known words, endings), not its letters:
    a text read from Latin letters carries Kazakh letters whatever its language."""
    score = 0.0
    for m in _WORD.finditer(text.lower()):
        for word in re.split(r"[-'’]", m.group()):
            folded = word.translate(KAZAKH_FOLD_TABLE)
            if folded in _KK_WORDS or (len(folded) > 5 and _KK_SUFFIX.search(folded)):
                score += 2.0
            elif len(word) > 5 and _KK_CASE_ENDING.search(word):
                score += 1.0
    return score


def english_words(text: str) -> float:
    """Evidence that a Latin text is English from its function words alone (an unknown word proves nothing)."""
    return 2.0 * sum(w in _EN_WORDS for w in _WORD.findall(unicodedata.normalize("NFKC", text).lower()))


# case endings of Kazakh nouns as a Latin reading gives them («Кореямен», «шарттың», «тартуға»)
_KK_CASE_ENDING = re.compile(r"(?:ымен|імен|ямен|мен|пен|бен|ның|нің|дың|дің|тың|тің|ға|ге|ғы|гі|қа|ке)$")


def detect_language(text: str) -> Lang:
    """kk, ru or en by weighted word evidence; with no evidence at all, `FALLBACK_LANG`."""
    scores = language_scores(text)
    # an even score means Cyrillic words the tables do not know next to Kazakh ones: Kazakh typed
    # with Russian letters is the likelier source
    best = max(LANGS, key=lambda lang: (scores[lang], lang == "kk"))
    return best if scores[best] > 0 else FALLBACK_LANG


# Enough of a text to tell its language; detecting on megabytes would make refusing it the slowest request.
_LANGUAGE_SAMPLE = 2000


def guess_language(text: object, default: Lang = FALLBACK_LANG) -> Lang:
    """The language to word a refusal in: `detect_language` on the text's opening; never raises."""
    sample = text[:_LANGUAGE_SAMPLE] if isinstance(text, str) else ""
    try:
        return detect_language(sample) if sample.strip() else default
    except Exception:  # noqa: BLE001 - a refusal must not fail on the text it refuses
        return default
