"""Query understanding: what a (kk/ru/en) question is about, before anything is retrieved.

Takes: one question (already through `guard.check_question`), the previous turns of the conversation,
and the instrument aliases of the corpus manifest (`aliases_from_manifest`). Gives: a frozen
`ParsedQuery` with the question's language, the instruments and article/paragraph/sub-paragraph
references it names (for a follow-up such as «Ал 55-бап ше?», the instrument is carried over from
the conversation), the glossary concepts it mentions, and those concepts' terms in kk/ru/en so that a
Kazakh question can also be searched in Russian and English texts.

Everything here is plain string work on the standard library: no model, no file IO except reading the
small packaged glossary once, well under 2 ms per question.

Sub-paragraph letters are normalised to Latin, as in provision ids (`uncac:54.1.a`):
* Latin letters stay as they are;
* Cyrillic letters that look exactly like a Latin one are read as that letter (а→a, с→c, е→e, о→o,
  р→p, х→x, у→y, к→k, і→i, һ→h): the corpus texts use them in place of Latin item letters, and users
  copy from those texts;
* any other Cyrillic letter is read by its position in the Russian item order а б в г д е ж з и к л м
  н о п р с т у ф х ц ч ш щ э ю я, so «в» → c and «г» → d (the third and fourth items, as a Russian
  lawyer means them).
Only «е», «с», «к», «о», «р», «у», «х» are read differently by the two rules; the look-alike reading wins
because Russian-ordered item lists in the corpus (Chisinau 2002, KZ–Bulgaria) rarely go past «д».
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from assistant.core.ids import make_id
from assistant.core.langs import LANGS, Lang
from assistant.search.intent import cue_kind
from assistant.text.detect import detect_language, language_scores
from assistant.text.guard import looks_like_injection
from assistant.text.normalize import LOWER_LOOKALIKES, fold
from assistant.text.tokenize import WORD, match_tokens, phrase_stems, stem_matches

__all__ = [
    "ArticleRef",
    "Concept",
    "ParsedQuery",
    "References",
    "aliases_from_manifest",
    "expand",
    "find_concepts",
    "glossary",
    "normalise_sub",
    "parse_references",
    "understand",
]


class _PhraseIndex:
    """Finds labelled phrases in a question, word by word on stems, allowing inflected endings.

    Between two words of a phrase at most `gap` other words may stand («Конвенция 1990 года» also
    finds «Конвенция от 1990 года»; «шешімін орындау» finds «шешімін тікелей орындауға»).
    """

    def __init__(
        self, entries: Iterable[tuple[str, str]], gap: int = 1, *, kazakh_cases: bool = False
    ) -> None:
        self.gap = gap
        self._by_key: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        seen: set[tuple[tuple[str, ...], str]] = set()
        for label, phrase in entries:
            stems = phrase_stems(phrase, kazakh_cases=kazakh_cases)
            if not stems or (stems, label) in seen:
                continue
            seen.add((stems, label))
            self._by_key.setdefault(stems[0][:3], []).append((stems, label))

    def find(self, tokens: Sequence[str]) -> list[tuple[int, int, str]]:
        """All (start, end, label) matches, as token positions (end exclusive)."""
        found: list[tuple[int, int, str]] = []
        n = len(tokens)
        for i, tok in enumerate(tokens):
            for k in {tok[:1], tok[:2], tok[:3]}:
                for stems, label in self._by_key.get(k, ()):
                    if not stem_matches(stems[0], tok):
                        continue
                    end = self._extend(tokens, i + 1, stems[1:], n)
                    if end is not None:
                        found.append((i, end, label))
        return found

    def _extend(self, tokens: Sequence[str], pos: int, rest: Sequence[str], n: int) -> int | None:
        for stem in rest:
            for j in range(pos, min(pos + self.gap + 1, n)):
                if stem_matches(stem, tokens[j]):
                    pos = j + 1
                    break
            else:
                return None
        return pos


def _longest_first(found: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Non-overlapping matches, longer ones first (the Warsaw title contains the Strasbourg one)."""
    chosen: list[tuple[int, int, str]] = []
    taken: set[int] = set()
    for start, end, label in sorted(found, key=lambda f: (f[0] - f[1], f[0])):
        if taken.isdisjoint(range(start, end)):
            chosen.append((start, end, label))
            taken.update(range(start, end))
    return sorted(chosen)


# ------------------------------------------------------------------------------------ references

_LATIN = "abcdefghijklmnopqrstuvwxyz"
_RU_ORDER = "абвгдежзиклмнопрстуфхцчшщэюя"
# Cyrillic letters that look like a lowercase Latin one (а→a, с→c, ... і→i, һ→h): the inverse of the
# lowercase pairs of the one look-alike table. A user types lowercase, so «в» is not b here (see above).
_LOOKALIKE = {cyr: lat for lat, cyr in LOWER_LOOKALIKES.items()}


def normalise_sub(letter: str) -> str:
    """A sub-paragraph letter as written by a user → the Latin letter used in provision ids."""
    c = letter.strip().lower()
    if c in _LATIN or not c:
        return c
    if c == "ё":
        c = "е"
    if c in _LOOKALIKE:
        return _LOOKALIKE[c]
    if c in _RU_ORDER and _RU_ORDER.index(c) < len(_LATIN):
        return _LATIN[_RU_ORDER.index(c)]
    return c


@dataclass(frozen=True)
class ArticleRef:
    """One reference to an article, optionally narrowed to a paragraph and a sub-paragraph letter."""

    article: str
    paragraph: str | None = None
    sub: str | None = None

    @property
    def key(self) -> str:
        """The part of a provision id after the instrument: "54", "54.1", "54.1.a"."""
        return make_id("", self.article, self.paragraph, self.sub)[1:]


@dataclass(frozen=True)
class References:
    instruments: tuple[str, ...] = ()
    articles: tuple[ArticleRef, ...] = ()

    def provision_ids(self) -> tuple[str, ...]:
        """Every instrument × article combination as a provision id (`uncac:54.1.a`)."""
        return tuple(
            make_id(inst, ref.article, ref.paragraph, ref.sub)
            for inst in self.instruments
            for ref in self.articles
        )

    def __bool__(self) -> bool:
        return bool(self.instruments or self.articles)


_L = r"[a-zа-яёәіһ]"  # a sub-paragraph letter (the regexes run case-insensitively)
_NUM = r"(?<!\d)(?<!\d[.,])\d{1,3}(?!\d)"
_PNUM = r"\d{1,2}(?!\d)"
_OPEN = r"[\"«„“'(]?"
_CLOSE = r"[\"»”')]?"
_ART_PRE = (
    r"(?<!\w)(?:стать(?:я|и|ю|е|ей|ям|ями|ях)|ст\.\s*ст\.|ст\.|ст(?=\s*\d)"
    r"|articles?|arts?\.|arts?(?=\s*\d))"
)
_PARA_PRE = (
    r"(?<!\w)(?:пункт(?:а|у|ом|е|ы|ов|ам|ах)?|п\.|п(?=\s*\d)|част(?:ь|и|ью|ей|ям)|ч\.|ч(?=\s*\d)"
    r"|paragraphs?|paras?\.|paras?(?=\s*\d)|par\.|§{1,2})"
)
_SUB_PRE = (
    r"(?<!\w)(?:подпункт(?:а|у|ом|е|ы|ов|ам|ах)?|подп\.|пп\.|пп(?=\s)|литер(?:а|ы|е|у)?|букв(?:а|ы|е|у)"
    r"|sub-?paragraphs?|sub-?paras?\.?|subpara|items?|letters?|points?)"
)
_ART_KK = r"(?:ба[пб][а-яәіңғүұқөһ]*|bap[a-z]*|bab[yi][a-z]*)"
_PARA_KK = r"(?:тарма[қкғг](?![шs])[а-яәіңғүұқөһ]*|tarma[qkg](?!sh)[a-z]*)"
_SUB_KK = r"(?:тарма[қк]ш[а-яәіңғүұқөһ]*|tarma[qk]sh[a-z]*)"
_SEP = r"(?:\s*(?:,|;|&|–|—|-|\.\.)\s*|\s+(?:and|or|to|through|и|или|по|до|және|жане|немесе)\s+)"
# «пункт «f»»: Russian usage often calls a lettered item a «пункт»; the letter must be quoted or bracketed
_QUOTED_L = r"(?:[\"«„“'](?P<{0}>[a-zа-яёәіһ])[\"»”']|\((?P<{0}_>[a-zа-яёәіһ])\)|(?P<{0}__>[a-zа-яёәіһ])\))"
_ITEM = rf"{_NUM}(?:\s*\({_PNUM}\))?(?:\s*\(?{_L}\))?"
_ITEM_RE = re.compile(
    rf"(?P<a>{_NUM})(?:\s*\((?P<p>{_PNUM})\))?(?:\s*\(?(?P<s>{_L})\))?|(?P<sep>{_SEP})", re.I
)

# «пункт 1 статьи 13», «подпункт а пункта 1 статьи 13», "paragraph 1(a) of article 13", "Art. 13(1)(a)",
# «статья 55 п. 1», "article 13, paragraph 1, subparagraph (a)", «статьи 54 и 55», "articles 54-55"
_PREFIX_FORM = re.compile(
    rf"(?:(?:{_SUB_PRE}\s*{_OPEN}(?P<gs>{_L})(?![^\W\d_]){_CLOSE}|{_PARA_PRE}\s*{_QUOTED_L.format('gsq')})\s*,?\s*)?"
    rf"(?:{_PARA_PRE}\s*(?P<gp>{_PNUM})(?:\s*\(?(?P<gps>{_L})\))?\s*,?\s*(?:of\s+(?:the\s+)?)?)?"
    rf"{_ART_PRE}\s*(?:(?:с|from)\s+)?(?P<list>{_ITEM}(?:{_SEP}{_ITEM})*)"
    rf"(?:\s*,?\s*{_PARA_PRE}\s*(?P<tp>{_PNUM})(?:\s*\(?(?P<tps>{_L})\))?)?"
    rf"(?:\s*,?\s*(?:{_SUB_PRE}\s*{_OPEN}(?P<ts>{_L})(?![^\W\d_]){_CLOSE}|{_PARA_PRE}\s*{_QUOTED_L.format('tsq')}))?",
    re.I,
)
# «54-я статья», «в 54 статье», «54 и 55 статьи»
_RU_POSTFIX_FORM = re.compile(
    rf"(?<![\w(])(?P<list>{_NUM}(?:{_SEP}{_NUM})*)\s*-?\s*(?:я|й|ой|ая|ую)?\s+стать[а-я]*", re.I
)
# «13-бап», «13-баптың 1-тармағы», «13 бап 1-тармақ (а) тармақшасы», «13-баптың 1 а) тармағында»,
# «54 және 55-баптар», «54-55-баптар», "13-bap"
_KK_FORM = re.compile(
    rf"(?<![\w(])(?P<list>{_NUM}(?:{_SEP}{_NUM})*)\s*-?\s*{_ART_KK}"
    rf"(?:\s*,?\s*(?P<kp>{_PNUM})(?:\s*-?\s*{_PARA_KK}|(?=\s*\(?{_L}\))))?"
    rf"(?:\s*{_OPEN}(?P<ks>{_L})(?:\)|[\"»”'](?:\s*\))?|(?=\s+{_SUB_KK}))\s*-?\s*(?:{_SUB_KK}|{_PARA_KK})?)?",
    re.I,
)
# bare provision ids: "uncac:54.1.a", "bilateral-usa:16", "strasbourg1990:13.a"
_ID_FORM = re.compile(
    r"(?<![\w/.:-])(?P<inst>[a-z][a-z0-9-]*[a-z0-9]):(?P<a>\d{1,3}|ratification|preamble|final)"
    r"(?:\.(?P<p>\d{1,2}))?(?:\.(?P<s>[a-z]))?(?![\w.])",
    re.I,
)
_RANGE_SEP = re.compile(r"^\s*(?:–|—|-|\.\.|to|through|по|до)\s*$", re.I)
_MAX_RANGE = 20


def _list_items(span: str) -> list[ArticleRef]:
    refs: list[ArticleRef] = []
    pending_range = False
    for m in _ITEM_RE.finditer(span):
        if m.group("sep") is not None:
            pending_range = bool(_RANGE_SEP.match(m.group("sep")))
            continue
        art = str(int(m.group("a")))
        if pending_range and refs and refs[-1].paragraph is None and m.group("p") is None:
            lo, hi = int(refs[-1].article), int(art)
            if 0 < hi - lo <= _MAX_RANGE:
                refs.extend(ArticleRef(str(n)) for n in range(lo + 1, hi))
        sub = normalise_sub(m.group("s")) if m.group("s") else None
        para = str(int(m.group("p"))) if m.group("p") else None
        refs.append(ArticleRef(art, para, sub))
        pending_range = False
    return refs


def _quoted(m: re.Match[str], name: str) -> str | None:
    return m.group(name) or m.group(name + "_") or m.group(name + "__")


def _narrow(ref: ArticleRef, para: str | None, sub: str | None) -> ArticleRef:
    if para is None and sub is None:
        return ref
    return ArticleRef(
        ref.article,
        ref.paragraph or (str(int(para)) if para else None),
        ref.sub or (normalise_sub(sub) if sub else None),
    )


def _article_matches(
    text: str, known_ids: Iterable[str]
) -> list[tuple[int, int, list[ArticleRef], str | None]]:
    found: list[tuple[int, int, list[ArticleRef], str | None]] = []
    for m in _PREFIX_FORM.finditer(text):
        refs = _list_items(m.group("list"))
        if not refs:
            continue
        refs[0] = _narrow(refs[0], m.group("gp"), m.group("gps") or m.group("gs") or _quoted(m, "gsq"))
        refs[-1] = _narrow(refs[-1], m.group("tp"), m.group("tps") or m.group("ts") or _quoted(m, "tsq"))
        found.append((m.start(), m.end(), refs, None))
    for m in _RU_POSTFIX_FORM.finditer(text):
        found.append((m.start(), m.end(), _list_items(m.group("list")), None))
    for m in _KK_FORM.finditer(text):
        refs = _list_items(m.group("list"))
        if refs:
            refs[-1] = _narrow(refs[-1], m.group("kp"), m.group("ks"))
        found.append((m.start(), m.end(), refs, None))
    known = set(known_ids)
    for m in _ID_FORM.finditer(text):
        inst = m.group("inst").lower()
        if inst in known:
            sub = m.group("s").lower() if m.group("s") else None
            found.append((m.start(), m.end(), [ArticleRef(m.group("a").lower(), m.group("p"), sub)], inst))
    # longest spans win; a shorter match inside a longer one is the same reference read less fully
    chosen: list[tuple[int, int, list[ArticleRef], str | None]] = []
    for f in sorted(found, key=lambda f: (f[0] - f[1], f[0])):
        if all(f[1] <= c[0] or f[0] >= c[1] for c in chosen):
            chosen.append(f)
    return [_trailing_paragraph(text, f, chosen) for f in sorted(chosen, key=lambda f: f[0])]


# «Статья 92 договора с Узбекистаном, пункт 5», "Article 13 of the Strasbourg Convention, paragraph 1": the
# paragraph follows the instrument's name, after a comma or a dash
_TRAILING_PARA = re.compile(
    rf"^[^.?!;]{{0,60}}?[,—–]\s*(?:{_PARA_PRE}\s*(?P<p>{_PNUM})|(?P<kp>{_PNUM})\s*-?\s*{_PARA_KK})(?!\s*-?\s*{_ART_KK})",
    re.I,
)


def _trailing_paragraph(
    text: str,
    f: tuple[int, int, list[ArticleRef], str | None],
    chosen: Sequence[tuple[int, int, list[ArticleRef], str | None]],
) -> tuple[int, int, list[ArticleRef], str | None]:
    start, end, refs, inst = f
    if len(refs) != 1 or refs[0].paragraph is not None or not refs[0].article.isdigit():
        return f
    nxt = min((c[0] for c in chosen if c[0] >= end), default=len(text))
    m = _TRAILING_PARA.match(text[end:nxt])
    if m is None:
        return f
    return (start, end + m.end(), [_narrow(refs[0], m.group("p") or m.group("kp"), None)], inst)


def _is_abbreviation(alias: str) -> bool:
    """«АҚШ», «США», «UNCAC», «АҚШ-пен»: one word in capitals (and a hyphenated ending), matched as a whole
    word only (see `_abbreviations`)."""
    head = alias.split("-")[0]
    return head.isupper() and len(head) <= 6 and head.isalpha() and " " not in alias


@lru_cache(maxsize=16)
def _alias_index(items: tuple[tuple[str, tuple[str, ...]], ...]) -> _PhraseIndex:
    # ids themselves are not names: "article" (the research article) is also an everyday word
    return _PhraseIndex(
        ((iid, a) for iid, aliases in items for a in aliases if not _is_abbreviation(a)), gap=1
    )


@lru_cache(maxsize=16)
def _abbreviations(items: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, str]:
    """Folded abbreviation → instrument. An abbreviation never takes an inflected ending as a stem does:
    «АҚШ» (USA) must not be found in «ақша» (money), nor «ОАЭ» in a longer word."""
    return {fold(a.split("-")[0]): iid for iid, aliases in items for a in aliases if _is_abbreviation(a)}


def _abbreviation_matches(
    text: str, key: tuple[tuple[str, tuple[str, ...]], ...]
) -> list[tuple[int, int, str]]:
    table = _abbreviations(key)
    out = []
    for i, (token, pos) in enumerate(match_tokens(text)):
        iid = table.get(token)
        if iid is not None and token in _ordinary_lowercase() and not text[pos : pos + len(token)].isupper():
            continue  # "US" is the USA, "us" is a pronoun
        if iid is None:
            # «АҚШтан» written without the hyphen: the capitals themselves, then a lower-case ending
            original = text[pos : pos + len(token)]
            head = next((a for a in table if len(a) < len(token) and token.startswith(a)), None)
            if head is None or not original[: len(head)].isupper() or not original[len(head) :].islower():
                continue
            iid = table[head]
        out.append((i, i + 1, iid))
    return out


def _alias_key(aliases: Mapping[str, Sequence[str]]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((iid, tuple(names)) for iid, names in aliases.items())


@lru_cache(maxsize=1)
def _not_names_data() -> dict[str, Any]:
    return tomllib.loads(resources.files("assistant").joinpath("data/not_names.toml").read_text("utf-8"))


@lru_cache(maxsize=1)
def _not_names() -> tuple[str, ...]:
    return tuple(p.lower() for p in _not_names_data()["prefixes"])


@lru_cache(maxsize=1)
def _ordinary_lowercase() -> frozenset[str]:
    return frozenset(fold(w) for w in _not_names_data().get("capitals_only", []))


def _ordinary_word(text: str, pos: int) -> bool:
    """Whether the word at `pos` is an ordinary word that merely begins like a name (data/not_names.toml)."""
    word = WORD.match(text, pos)
    return bool(word) and word.group().lower().startswith(_not_names())


def _instrument_matches(text: str, aliases: Mapping[str, Sequence[str]]) -> list[tuple[int, str]]:
    if not aliases:
        return []
    toks = match_tokens(text)
    words = [t for t, _ in toks]
    key = _alias_key(aliases)
    found = _alias_index(key).find(words) + _abbreviation_matches(text, key)
    found = [f for f in found if not any(_ordinary_word(text, toks[i][1]) for i in range(f[0], f[1]))]
    return [(toks[start][1], label) for start, _end, label in _longest_first(found)]


def parse_references(text: str, aliases: Mapping[str, Sequence[str]] | None = None) -> References:
    """The instruments (ids of `aliases`) and article references a text names, in order of mention.

    `aliases` maps instrument id → names (see `aliases_from_manifest`); names match after lowercasing,
    folding Kazakh letters and allowing inflected endings («Палермской конвенции», «Страсбург
    конвенциясының»). A bare provision id («uncac:54.1.a») counts when its instrument is known.
    """
    aliases = aliases or {}
    hits = _instrument_matches(text, aliases)
    articles: list[ArticleRef] = []
    for start, _end, refs, inst in _article_matches(text, aliases.keys()):
        articles.extend(refs)
        if inst:
            hits.append((start, inst))
    instruments = tuple(dict.fromkeys(label for _, label in sorted(hits)))
    return References(instruments=instruments, articles=tuple(dict.fromkeys(articles)))


def aliases_from_manifest(manifest: Any) -> dict[str, tuple[str, ...]]:
    """id → names (aliases, titles and short names in kk/ru/en) from a `corpus.Manifest`.

    Also accepts the parsed TOML of `corpus/sources.toml` (a dict with an "instruments" table).
    """
    instruments = manifest["instruments"] if isinstance(manifest, Mapping) else manifest.instruments
    out: dict[str, tuple[str, ...]] = {}
    for iid, inst in instruments.items():
        names: list[str] = []
        for key in ("aliases", "title", "short"):
            value = inst.get(key) if isinstance(inst, Mapping) else getattr(inst, key, None)
            if isinstance(value, str):
                names.append(value)
            elif isinstance(value, Mapping):
                names.extend(v for v in value.values() if isinstance(v, str))
            elif isinstance(value, (list, tuple)):
                names.extend(v for v in value if isinstance(v, str))
            elif value is not None and all(hasattr(value, lang) for lang in LANGS):
                names.extend(getattr(value, lang) for lang in LANGS)
        out[iid] = tuple(dict.fromkeys(n for n in names if n.strip()))
    return out


# ------------------------------------------------------------------------------------ glossary


@dataclass(frozen=True)
class Concept:
    id: str
    terms: Mapping[str, tuple[str, ...]]  # lang → terms, the first one canonical
    match: tuple[str, ...] = ()  # extra spellings used only to find the concept (Latin-typed Kazakh, ...)


@dataclass(frozen=True)
class _Glossary:
    concepts: dict[str, Concept]
    index: _PhraseIndex


@lru_cache(maxsize=1)
def _glossary() -> _Glossary:
    raw = tomllib.loads(resources.files("assistant").joinpath("data/glossary.toml").read_text("utf-8"))
    concepts: dict[str, Concept] = {}
    for cid, entry in raw.items():
        terms = {lang: tuple(entry.get(lang, ())) for lang in LANGS}
        concepts[cid] = Concept(cid, MappingProxyType(terms), tuple(entry.get("match", ())))
    entries = [(c.id, t) for c in concepts.values() for lang in LANGS for t in c.terms[lang]]
    entries += [(c.id, t) for c in concepts.values() for t in c.match]
    return _Glossary(concepts, _PhraseIndex(entries, gap=1, kazakh_cases=True))


def one_word_terms() -> tuple[tuple[str, str], ...]:
    """(match stem, concept id) of every one-word glossary term and spelling, in every language."""
    g = _glossary()
    pairs = {
        (stems[0], c.id)
        for c in g.concepts.values()
        for term in (*(t for lang in LANGS for t in c.terms[lang]), *c.match)
        if len(stems := phrase_stems(term, kazakh_cases=True)) == 1
    }
    return tuple(sorted(pairs))


def glossary() -> Mapping[str, Concept]:
    """The packaged kk/ru/en glossary of the field, concept id → Concept."""
    return MappingProxyType(_glossary().concepts)


def _concepts_in(words: Sequence[str], skip: Set[int] = frozenset()) -> tuple[str, ...]:
    hits = sorted(_glossary().index.find(words))
    return tuple(dict.fromkeys(label for start, end, label in hits if not skip.issuperset(range(start, end))))


def find_concepts(text: str) -> tuple[str, ...]:
    """Glossary concept ids mentioned in the text, in order of first mention."""
    return _concepts_in([t for t, _ in match_tokens(text)])


def _contains(words: Sequence[str], term: str) -> bool:
    return all(any(stem_matches(stem, w) for w in words) for stem in phrase_stems(term, kazakh_cases=True))


def _expand(concepts: Sequence[str], words: Sequence[str], lang: str | None) -> dict[str, str]:
    g = _glossary()
    out: dict[str, str] = {}
    for target in LANGS:
        terms: list[str] = []
        for cid in concepts:
            for term in g.concepts[cid].terms[target]:
                if target == lang and _contains(words, term):
                    continue
                terms.append(term)
        out[target] = ", ".join(dict.fromkeys(terms))
    return out


def expand(text: str, lang: str | None = None) -> dict[str, str]:
    """For each of kk/ru/en, the terms of every glossary concept found in the text, comma-separated.

    With `lang` (the question's language), that language's entry leaves out terms the question already
    contains, so the expansion adds synonyms rather than repeating the question.
    """
    words = [t for t, _ in match_tokens(text)]
    return _expand(_concepts_in(words), words, lang)


# ------------------------------------------------------------------------------------ understanding

# Words that point back to what was said before: «там», «онда», "there", «осы конвенция», «ше?» ...
_FOLLOWUP_START = re.compile(
    r"^\s*(?:а|ал|и|ещё|еще|тогда|также|and|also|what\s+about|how\s+about|so)(?!\w)", re.I
)
_FOLLOWUP_WORDS = re.compile(
    r"(?<!\w)(?:там|тут|в\s+ней|в\s+н[её]м|этой|этом|этого|этому|данной|данном|данного|той\s+же|том\s+же"
    r"|онда|сонда|мұнда|мунда|осы\s+(?:конвенция|шарт|құжат|кужат)\w*|оның|онын|ше"
    r"|in\s+it|does\s+it|(?:this|that|the\s+same)\s+(?:convention|treaty|agreement|instrument|one)"
    r"|(?<!is\s)(?<!are\s)there(?!\s+(?:is|are|be|any)\b))(?!\w)",
    re.I,
)
_SHORT_FOLLOWUP_WORDS = 3
_GENERAL = ("which", "compare", "definition")  # question kinds that range over instruments


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    language: Lang
    references: References
    concepts: tuple[str, ...] = ()
    expansions: Mapping[str, str] = field(default_factory=dict)
    injection: bool = False
    followup: bool = False


def _is_followup(question: str, refs: References, concepts: Sequence[str]) -> bool:
    if refs.instruments:
        return False
    if refs.articles or _FOLLOWUP_START.match(question) or _FOLLOWUP_WORDS.search(question):
        return True
    # «Тогда?», "Why?" lean on the previous turn; «Что такое конфискация?» is short but a topic of its own
    return not concepts and len(WORD.findall(question)) <= _SHORT_FOLLOWUP_WORDS


def understand(
    question: str,
    history: Sequence[str] = (),
    lang: str = "auto",
    aliases: Mapping[str, Sequence[str]] | None = None,
    places: Mapping[str, Sequence[str]] | None = None,
) -> ParsedQuery:
    """Parse one question in the context of the conversation (`history`: earlier turns, oldest first).

    A question that names no instrument but refers to an article, points back («там», «онда»,
    "there", «ше?») or is very short is a follow-up when there is history: it takes the instruments of
    the most recent turn that named one. `lang` "auto" detects the language; a short question with no
    language evidence of its own takes the language of the last turn. `places` (instrument id → cities of
    the other State) name a bilateral treaty when the question names none and is about the subject.
    """
    text = question.strip()
    aliases = aliases or {}
    if lang == "auto":
        scores = language_scores(text)
        if max(scores.values()) < 2.0 and history:
            language = detect_language(history[-1])
        else:
            language = detect_language(text)
    elif lang in LANGS:
        language = lang  # type: ignore[assignment]
    else:
        from assistant.core.errors import InputError

        raise InputError(f"unknown language {lang!r}; use one of auto, {', '.join(LANGS)}")

    refs = parse_references(text, aliases)
    # a concept word inside an instrument's name («Конвенция ООН против коррупции») is not a topic
    words = [t for t, _ in match_tokens(text)]
    in_names = _name_positions(text, words, aliases)
    concepts = _concepts_in(words, in_names)
    if places and (concepts or history) and not refs.instruments:
        # «Лондондағы банкке салынған ақшаны қалай қайтарамыз?»: the account is in the UK; «А если счёт в
        # Дубае?» in a conversation on the subject moves it to the UAE treaty
        refs = References(instruments=parse_references(text, places).instruments, articles=refs.articles)

    followup = bool(history) and _is_followup(text, refs, concepts)
    # «Тәркіленген мүлікпен кейін не істеледі?» after a question on the Palermo Convention goes on about
    # it: a question on the subject that names no instrument keeps the conversation's, unless it asks
    # which instrument, to compare, or what a term means (then it is about all of them)
    carries = bool(history) and bool(concepts) and not refs.instruments and cue_kind(text) not in _GENERAL
    if followup or carries:
        for turn in reversed(history):
            earlier = parse_references(turn, aliases).instruments
            if earlier:
                refs = References(instruments=earlier, articles=refs.articles)
                break
    return ParsedQuery(
        text=text,
        language=language,
        references=refs,
        concepts=concepts,
        expansions=MappingProxyType(_expand(concepts, words, language)),
        injection=looks_like_injection(text),
        followup=followup,
    )


def _name_positions(text: str, words: Sequence[str], aliases: Mapping[str, Sequence[str]] | None) -> set[int]:
    """Positions of the words (`words_of(text)`) that belong to an instrument's name or abbreviation."""
    out: set[int] = set()
    if aliases:
        key = _alias_key(aliases)
        found = _alias_index(key).find(list(words)) + _abbreviation_matches(text, key)
        for start, end, _label in _longest_first(found):
            out.update(range(start, end))
    return out


def without_names(text: str, aliases: Mapping[str, Sequence[str]] | None) -> str:
    """The question's words less the instruments' names, folded: what topic phrasings are matched in, so
    that a long name («БҰҰ-ның Сыбайлас жемқорлыққа қарсы конвенциясы») standing inside a phrasing
    («шешімін … орындату») does not push its words apart, nor lend it its own words."""
    words = words_of(text)
    names = _name_positions(text, words, aliases)
    return " ".join(w for i, w in enumerate(words) if i not in names)


# ------------------------------------------------------------------------------------ shared matcher


def words_of(text: str) -> list[str]:
    """The folded word tokens of `text`, as the phrase matcher reads them."""
    return [t for t, _ in match_tokens(text)]
