"""Split treaty texts and the research article into citable provisions.

Takes: the text of one instrument in one language (its manifest files concatenated in `part` order).
Gives: `Provision`s with canonical ids `instrument:article[.paragraph[.sub]]` (e.g. `uncac:54.1.a`),
plus `instrument:ratification` (the Kazakh ratification law in front of a treaty), `instrument:preamble`,
`instrument:final` (closing formula), and `article:<section>.<n>` for the research article.

The same id in kk/ru/en denotes the same provision in another language; that alignment is what lets an
answer show a provision in the user's language. Sub-paragraph letters are always Latin in ids: the
sources write them with Cyrillic look-alikes («а)», «с)», «е)») or in Russian alphabet order
(«а) б) в) г)»), and both are mapped back to a, b, c, d.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from assistant.core.errors import DocumentError
from assistant.core.ids import RESEARCH_ARTICLE, ProvisionId, is_framing, make_id
from assistant.text.normalize import ITEM_LETTERS, LOOKALIKES

LEVELS = ("article", "paragraph", "sub")


@dataclass(frozen=True)
class Provision:
    id: str
    instrument: str
    lang: str
    level: str  # "article" | "paragraph" | "sub" (ratification/preamble/final/article sections are "article")
    article: str
    paragraph: str | None
    sub: str | None
    title: str
    chapter: str
    text: str
    source_file: str

    @property
    def pid(self) -> ProvisionId:
        return ProvisionId(self.instrument, self.article, self.paragraph, self.sub)

    @property
    def article_id(self) -> str:
        return str(self.pid.article_id)

    @property
    def parent_id(self) -> str | None:
        parent = self.pid.parent
        return str(parent) if parent else None

    @property
    def is_research_article(self) -> bool:
        return self.instrument == RESEARCH_ARTICLE


# --- headings -------------------------------------------------------------------------------------

_HEADING = re.compile(r"^(#{1,6})\s*(.*?)\s*$")
_ART_RU = re.compile(r"^[СC]тать[яи]\s*(\d+)\s*[.:]?\s*(.*)$", re.I)
_ART_EN = re.compile(r"^Article\s+(\d+)\s*[.:]?\s*(.*)$", re.I)
_ART_KK = re.compile(r"^(\d+)\s*-?\s*бап(?:ы)?\s*[.:]?\s*(.*)$", re.I)  # «6-БАПСҰРАУ»: upper case too
_CHAPTER = re.compile(
    r"^(глава|раздел|часть|chapter|part|section|тарау|бөлім|бөлiм|бөлік|бөлiк|[IVXLІ]+\s*(?:тарау|бөлім|бөлiм|бөлік|бөлiк))\b",
    re.I,
)
_CHAPTER_KK_NUM = re.compile(r"^[IVXLІ]+\s*(тарау|бөлім|бөлiм|бөлік|бөлiк)", re.I)
_PREAMBLE = re.compile(r"^\**\s*(преамбула|кіріспе|preamble)\b", re.I)
_ANNEX = re.compile(r"^(annex|приложение|қосымша)\b", re.I)
_OPTIONAL_PROTOCOL = re.compile(r"^optional protocol\b", re.I)
_TREATY_TITLE = re.compile(
    r"(конвенци|договор|соглашени|шарт|пакт|протокол|convention|covenant|treaty|agreement|келісім)", re.I
)
_RATIFICATION = re.compile(r"(ратифика|присоединени|бекіту|бекiту|қосылу)", re.I)
_FINAL = re.compile(
    r"^(in (faith|witness) whereof|done at|совершено|удостоверяю|в удостоверени[еи]|в подтверждение|в свидетельство|"
    r"осыны куәландыр|осының куәсі|куәлікке)",
    re.I,
)
# The Kazakh closing formula names the place or the date first and ends in «жасалды» (or «жасалған»):
# «Астана қаласында 2011 жылғы … жасалды», «Нью-Делиде 1999 жылғы …», «2018 жылғы 29 қазанда …». An
# article's own «Осы Келісім белгісіз мерзімге жасалды» names neither and stays in its article.
_FINAL_KK = re.compile(
    r"^(?=.{0,160}?\b\d{4}\s*ж)(?:осы\s+\w+\s+)?(?:(?:[\w-]+\s+){1,3}қаласында|[\w-]+(?:да|де|та|те)\b|\d{4}\s*ж)"
    r".{0,400}?\bжасал(?:ды|ған|ады)\b",
    re.I,
)
# A protocol amending the treaty, printed after it in the same file («## ПРОТОКОЛ к Договору …»,
# «### … шартқа ХАТТАМА»): its numbered points become paragraphs of the article `protocol`.
_AMENDING_PROTOCOL = re.compile(r"^протокол\b|\bхаттама$", re.I)
# An article heading printed as a body line after its chapter name («Қорытынды ережелер 19-бап Халықаралық …»).
_INLINE_ARTICLE = re.compile(
    r"^([А-ЯЁӘІҢҒҮҰҚӨҺ][\w-]*\s+(?:[\w-]+\s+){0,3})(?:(\d+)\s*-\s*бап|[СC]татья\s+(\d+))\s+([А-ЯЁӘІҢҒҮҰҚӨҺ].{0,150}[^.;:])$"
)
# An item of a protocol that has no articles: «2. Статьи 5 и 6 изложить в следующей редакции:».
_ITEM = re.compile(r"^(\d{1,2})\.\s+\S")
_ART_HEADINGS = (_ART_RU, _ART_EN, _ART_KK)
_DASH_ITEM = re.compile(r"^[-–—]\s")
_DUTCH_TITLE = re.compile(r"\b(verdrag|van de|inzake|betreffende)\b", re.I)
_DUTCH_HEADING = re.compile(r"^(artikel|hoofdstuk|deel|preambule|afdeling|bijlage)\b", re.I)

# --- paragraph / sub-paragraph markers --------------------------------------------------------------

_PARA = re.compile(r"^(\d{1,3})\s*[.)]\s*(.*)$")
# «a)», «(а)», «а/», «b.» — but not «Б. Пискорский»: a letter with a full stop must open lowercase text.
# Kazakh texts also letter items «һ)» (for h) and «ә)» (Kazakh alphabet order: а ә б …).
_SUB = re.compile(r"^\(?([a-zа-яіһә])(?:\)|/(?=\s)|\.(?=\s+(?![A-ZА-ЯЁӘІӨҮҰҚҒҢҺ])))\s*(.*)$")
_ROMAN = re.compile(r"^\(?([ivxіх]{1,4})(?:\)|\.(?=\s))\s*(.*)$", re.I)
_ROMANS = {"i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii"}

# Visually identical Cyrillic letters used in place of Latin item letters (а→a, в→b, н→h, ...): the
# item-marker view of the one look-alike table, `text.normalize.ITEM_LETTERS`.
_LOOKALIKE = ITEM_LETTERS
# Russian alphabet order used for item lists («а) б) в) г)»): map by position.
_RU_ORDER = "абвгдежзиклмнопрстуфхцчшщэюя"
# Kazakh alphabet order («а) ә) б) в)»), used when a list has «ә)».
_KK_ORDER = "аәбвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюя"
_LATIN = "abcdefghijklmnopqrstuvwxyz"
_ROMAN_LATIN = str.maketrans({"і": "i", "х": "x"})
# Latin markers that may be a Cyrillic letter typed in Latin (so a Latin «e)» in a Russian-ordered list
# can be its sixth item, «е»):
# the look-alike table lowercased, except «b» and «h», which as item markers are always Latin letters
# (read as в and н they would pass for the third and the thirteenth Russian item).
_LATIN_TO_CYR = {lat.lower(): cyr.lower() for lat, cyr in LOOKALIKES.items() if lat.lower() not in "bh"}


def _letter_candidates(marker: str) -> list[str]:
    """Latin letters an item marker may stand for, most likely first."""
    m = marker.lower()
    out: list[str] = []
    if m in _LATIN:
        out.append(m)
    if m in _LOOKALIKE:
        out.append(_LOOKALIKE[m])
    cyr = _LATIN_TO_CYR.get(m, m)
    if cyr in _RU_ORDER and _RU_ORDER.index(cyr) < len(_LATIN):
        out.append(_LATIN[_RU_ORDER.index(cyr)])
    if cyr in _KK_ORDER and _KK_ORDER.index(cyr) < len(_LATIN):
        out.append(_LATIN[_KK_ORDER.index(cyr)])
    return out or [m]


def _assign_letters(markers: list[str]) -> list[str]:
    """Latin letters for one list of item markers.

    The sources mix Latin letters, Cyrillic look-alikes and Russian alphabet order, and now and then
    repeat or mistype a letter («а) b) с) е) е) f)»). When reading the list as a, b, c, ... agrees with
    most markers, that reading wins; otherwise each marker keeps its own most likely letter.
    """
    cands = [_letter_candidates(m) for m in markers]
    consecutive = [_LATIN[i] if i < len(_LATIN) else f"z{i}" for i in range(len(markers))]
    agree = sum(1 for c, want in zip(cands, consecutive, strict=True) if want in c)
    if markers and agree / len(markers) >= 0.6:
        return consecutive
    return [c[0] for c in cands]


def _next_letter(letter: str | None) -> str:
    if letter is None:
        return "a"
    return _LATIN[_LATIN.index(letter) + 1] if letter in _LATIN[:-1] else "?"


def _heading_text(raw: str) -> str:
    return raw.replace("*", "").strip(" .:")


_GLUED = re.compile(
    r"(?<=[a-zа-яёәіңғүұқөһ])(?=[А-ЯЁӘІҢҒҮҰҚӨҺ][а-яёәіңғүұқөһ])|(?<=\b[IVXLІ])(?=[А-ЯЁӘІҢҒҮҰҚӨҺ][а-яёәіңғүұқөһ])"
)


_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^\s]*\)")


def _clean(line: str) -> str:
    """Fold whitespace and un-glue words the sources ran together («тарауАктивтерді», «Глава VМеры»)."""
    line = line.replace("\u00ad", "").replace("\ufffd", "•").replace("\t", " ")
    line = _MD_LINK.sub(r"\1", line)  # links point at other files of the source site, never shown
    line = _GLUED.sub(" ", line)
    return re.sub(r"\s+", " ", line).strip()


def strip_dutch(text: str) -> str:
    """Drop the Dutch translation that follows the authentic English text in the statengeneraal files.

    The Dutch half starts with a repeat of the Dutch title heading (the file's first heading); failing
    that, with the first Dutch article/chapter heading and the heading lines just before it.
    """
    lines = text.split("\n")
    headings = [(i, _HEADING.match(line)) for i, line in enumerate(lines)]
    headings = [(i, m) for i, m in headings if m and m.group(1)]
    if not headings:
        return text
    title = _heading_text(headings[0][1].group(2)).lower()
    if not _DUTCH_TITLE.search(title):
        title = ""
    for i, m in headings[1:]:
        if title and _heading_text(m.group(2)).lower() == title:
            return "\n".join(lines[:i])
    for i, m in headings[1:]:
        if _DUTCH_HEADING.match(_heading_text(m.group(2))):
            j = i
            while j > 0 and (not lines[j - 1].strip() or lines[j - 1].lstrip().startswith("#")):
                j -= 1
            return "\n".join(lines[:j])
    return text


def _drop_dutch_title(lines: list[str]) -> list[str]:
    """The first heading of an English statengeneraal file is the Dutch title: skip it."""
    for k, line in enumerate(lines):
        if line.strip():
            if line.startswith("<meta"):
                continue
            m = _HEADING.match(line)
            if m and m.group(1) and _DUTCH_TITLE.search(m.group(2)):
                return lines[:k] + lines[k + 1 :]
            return lines
    return lines


# --- the treaty parser -------------------------------------------------------------------------------


@dataclass
class _Sub:
    marker: str
    lines: list[str] = field(default_factory=list)


@dataclass
class _Para:
    number: str
    style: str = "."
    lines: list[str] = field(default_factory=list)
    subs: list[_Sub] = field(default_factory=list)


@dataclass
class _Article:
    key: str
    title: str
    chapter: str
    source_file: str
    intro: list[str] = field(default_factory=list)
    paras: list[_Para] = field(default_factory=list)
    subs: list[_Sub] = field(default_factory=list)  # subs directly under the article (no paragraphs)
    plain: list[str] = field(default_factory=list)  # every body line, in order


class _TreatyParser:
    def __init__(self, instrument: str, lang: str) -> None:
        self.instrument = instrument
        self.lang = lang
        self.chapter = ""
        self.prefix = ""  # "op" inside the ICCPR Optional Protocol
        self.articles: list[_Article] = []
        self.current: _Article | None = None
        self.seen_treaty = False
        self.pending_title = False
        self.keys: set[str] = set()
        self.last_number = 0  # the last numbered article opened
        self.after_chapter = False  # a chapter heading came after the last article heading
        # A text without article headings (a protocol of amendments): its numbered items are its articles.
        self.items = False
        self.item_keys: set[str] = set()

    def _open(self, key: str, title: str, source_file: str) -> None:
        base, n = key, 2
        while key in self.keys:
            key = f"{base}-{n}"
            n += 1
        self.keys.add(key)
        if key != base and base.isdigit():
            key = base  # a heading repeated by the next excerpt file: `_dedupe` keeps the first
        if key.isdigit():
            self.last_number = int(key)
        self.after_chapter = False
        self.current = _Article(key=key, title=title, chapter=self.chapter, source_file=source_file)
        self.articles.append(self.current)

    def feed(self, text: str, source_file: str) -> None:
        lines = text.split("\n")
        if self.lang == "en":
            lines = _drop_dutch_title(lines)
        for raw in lines:
            line = raw.strip()
            if not line or line.startswith("<meta"):
                continue
            m = _HEADING.match(line)
            if m and m.group(1):
                self._heading(_heading_text(m.group(2)), source_file)
                continue
            self.pending_title = False
            self._body(_clean(line), source_file)

    def _heading(self, text: str, source_file: str) -> None:
        if not text:
            return
        for rx in _ART_HEADINGS:
            m = rx.match(text)
            if m:
                self.seen_treaty = True
                title = _clean(m.group(2))
                self._open(f"{self.prefix}{int(m.group(1))}", title, source_file)
                self.pending_title = not title
                return
        pm = _PARA.match(text)
        art = self.current
        if pm and art is not None and art.paras and pm.group(1) == str(len(art.paras) + 1):
            # «#### 5. Часть наказания …»: the next paragraph of the article, marked up as a heading.
            self.pending_title = False
            self._body(_clean(text), source_file)
            return
        if self.pending_title and self.current is not None and not _CHAPTER.match(text):
            # English files put the article title on its own `####` line after `### Article N`.
            self.current.title = _clean(text)
            self.pending_title = False
            return
        self.pending_title = False
        if _OPTIONAL_PROTOCOL.match(text):
            self.prefix = "op"
            self.chapter = _clean(text)
            self._open("op-preamble", _clean(text), source_file)
            return
        if self.seen_treaty and self.last_number and self.lang != "en" and _AMENDING_PROTOCOL.search(text):
            self.chapter = _clean(text)
            self._open("protocol", _clean(text), source_file)
            return
        if _ANNEX.match(text):
            self._open(f"{self.prefix}annex", _clean(text), source_file)
            self.chapter = _clean(text)
            return
        if _PREAMBLE.match(text):
            self.seen_treaty = True
            if self.current is None or not self.current.key.endswith("preamble"):
                self._open(f"{self.prefix}preamble", _clean(text), source_file)
            return
        if _CHAPTER.match(text) or _CHAPTER_KK_NUM.match(text):
            self.seen_treaty = True
            self.chapter = _clean(text)
            self.after_chapter = True
            return
        if self.chapter and text.isupper() and len(text) < 120:
            # `### CHAPTER V` followed by `####ASSET RECOVERY`: the second line names the chapter.
            self.chapter = f"{self.chapter}. {_clean(text)}"
            return
        if not self.seen_treaty and not self.articles and _RATIFICATION.search(text) and self.lang != "en":
            self._open("ratification", _clean(text), source_file)
            return
        if not self.seen_treaty and text.lower().startswith("сертификат"):
            return  # the depositary's certificate stays with the ratification act in front of the treaty
        if not self.seen_treaty and _TREATY_TITLE.search(text):
            # The treaty's own title: what follows (until the first article) is its preamble.
            if self.current is None or not self.current.key.endswith("preamble"):
                self._open(f"{self.prefix}preamble", _clean(text), source_file)
            return
        # Any other heading (section names, part titles) is chapter context.
        if self.current is None or self.current.plain:
            self.chapter = _clean(text)

    def _body(self, line: str, source_file: str) -> None:
        if self.current is None:
            key = "preamble" if self.lang == "en" or self.seen_treaty else "ratification"
            self._open(key, "", source_file)
        art = self.current
        assert art is not None
        if self._inline_article(line, source_file) or self._item(line, source_file):
            return
        if art.key.endswith("final") and _ANNEX.match(line) and len(line) < 30:
            # «Приложение» on a line of its own after the closing formula opens the annex.
            self._open(f"{self.prefix}annex", line, source_file)
            self.chapter = line
            return
        if self.after_chapter and art.key.isdigit() and len(line) < 200 and not _PARA.match(line):
            # «## II ТАРАУ Арнаулы ережелер» followed by a plain line naming the chapter: it names the
            # chapter and is not the end of the article before the chapter heading.
            self.chapter = f"{self.chapter}. {line}"
            return
        self.after_chapter = False
        closing = _FINAL.match(line) or (self.lang == "kk" and _FINAL_KK.match(line))
        if closing and not is_framing(art.key):
            self._open(f"{self.prefix}final", "", source_file)
            art = self.current
            assert art is not None
        art.plain.append(line)
        if is_framing(art.key):
            art.intro.append(line)
            return
        pm = _PARA.match(line)
        style = line[len(pm.group(1)) :].lstrip()[:1] if pm else ""
        if pm and pm.group(1) == str(len(art.paras) + 1) and (not art.paras or art.paras[0].style == style):
            art.paras.append(_Para(number=pm.group(1), style=style, lines=[line]))
            inline = _SUB.match(pm.group(2))  # «4. а) По получении ...»: paragraph and its first item
            if inline and "a" in _letter_candidates(inline.group(1)):
                art.paras[-1].subs.append(_Sub(marker=inline.group(1), lines=[pm.group(2)]))
            return
        last = self._last_sub(art)
        sm = _SUB.match(line)
        rm = _ROMAN.match(line)
        if rm and last is not None and rm.group(1).lower().translate(_ROMAN_LATIN) in _ROMANS:
            expected = _next_letter(_letter_candidates(last.marker)[0])
            if not (sm and expected in _letter_candidates(sm.group(1))):
                # (i), (ii) items nest inside the current item; they get no id of their own.
                self._append(art, line)
                return
        if not sm:
            self._append(art, line, continuation=True)
            return
        sub = _Sub(marker=sm.group(1), lines=[line])
        if art.paras:
            art.paras[-1].subs.append(sub)
            art.paras[-1].lines.append(line)
        else:
            art.subs.append(sub)

    def _inline_article(self, line: str, source_file: str) -> bool:
        """«Қорытынды ережелер 19-бап Халықаралық міндеттемелер» as a body line: chapter, article 19."""
        m = _INLINE_ARTICLE.match(line)
        if not m or self.prefix or int(m.group(2) or m.group(3)) != self.last_number + 1:
            return False
        self.chapter = m.group(1).strip()
        self._open(str(self.last_number + 1), m.group(4).strip(), source_file)
        return True

    def _item(self, line: str, source_file: str) -> bool:
        """In a protocol without articles, «N. …» with the next item number opens item N.

        Quoted paragraphs of the amended articles («"4. Вызов …», «1.» inside a new article text) do not
        continue the item numbering and stay in their item; one missing item number is tolerated.
        """
        m = _ITEM.match(line) if self.items else None
        art = self.current
        if not m or art is None or not (art.key.endswith("preamble") or art.key.isdigit()):
            return False
        if int(m.group(1)) not in (self.last_number + 1, self.last_number + 2):
            return False
        self.seen_treaty = True
        self._open(m.group(1), "", source_file)
        self.item_keys.add(m.group(1))
        assert self.current is not None
        self.current.plain.append(line)
        self.current.intro.append(line)
        return True

    @staticmethod
    def _last_sub(art: _Article) -> _Sub | None:
        if art.paras:
            return art.paras[-1].subs[-1] if art.paras[-1].subs else None
        return art.subs[-1] if art.subs else None

    @staticmethod
    def _append(art: _Article, line: str, continuation: bool = False) -> None:
        if art.paras:
            para = art.paras[-1]
            para.lines.append(line)
            if para.subs and not continuation:
                para.subs[-1].lines.append(line)
        elif art.subs:
            if not continuation:
                art.subs[-1].lines.append(line)
            else:
                art.intro.append(line)
        elif art.intro and _DASH_ITEM.match(line):
            art.intro[-1] += "\n" + line  # «- item» lines belong to the paragraph that lists them
        else:
            art.intro.append(line)

    def provisions(self) -> list[Provision]:
        out: list[Provision] = []
        for art in self.articles:
            if not art.plain:
                continue
            base = dict(
                instrument=self.instrument,
                lang=self.lang,
                title=art.title,
                chapter=art.chapter,
                source_file=art.source_file,
            )
            out.append(
                Provision(
                    id=make_id(self.instrument, art.key),
                    level="article",
                    article=art.key,
                    paragraph=None,
                    sub=None,
                    text="\n".join(art.plain),
                    **base,
                )
            )
            paras = art.paras
            if (
                not paras
                and not art.subs
                and len(art.intro) > 1
                and not is_framing(art.key)
                and art.key not in self.item_keys  # lines of an amendment item: instruction, quoted text
            ):
                # Unnumbered paragraphs (e.g. the Inter-American convention): number them by position.
                paras = [_Para(number=str(i + 1), lines=[line]) for i, line in enumerate(art.intro)]
            for para in paras:
                out.append(
                    Provision(
                        id=make_id(self.instrument, art.key, para.number),
                        level="paragraph",
                        article=art.key,
                        paragraph=para.number,
                        sub=None,
                        text="\n".join(para.lines),
                        **base,
                    )
                )
                out.extend(self._subs(para.subs, art.key, para.number, base))
            out.extend(self._subs(art.subs, art.key, None, base))
        return out

    def _subs(self, subs: list[_Sub], article: str, paragraph: str | None, base: dict) -> Iterator[Provision]:
        seen: set[str] = set()
        for sub, letter in zip(subs, _assign_letters([s.marker for s in subs]), strict=True):
            if letter in seen:  # a repeated letter is a nested list, not a new provision
                continue
            seen.add(letter)
            yield Provision(
                id=make_id(self.instrument, article, paragraph, letter),
                level="sub",
                article=article,
                paragraph=paragraph,
                sub=letter,
                text="\n".join(sub.lines),
                **base,
            )


def parse_treaty(instrument: str, lang: str, parts: Iterable[tuple[str, str]]) -> list[Provision]:
    """Parse one instrument in one language from its (source_file, text) parts, in order."""
    parser = _TreatyParser(instrument, lang)
    parts = list(parts)
    parser.items = not any(
        rx.match(_heading_text(m.group(2)))
        for _, text in parts
        for m in map(_HEADING.match, text.split("\n"))
        if m and m.group(1)
        for rx in _ART_HEADINGS
    )
    for source_file, text in parts:
        if lang == "en":
            text = strip_dutch(text)
        parser.feed(text, source_file)
    provisions = parser.provisions()
    if not provisions:
        names = ", ".join(name for name, _ in parts) if isinstance(parts, list) else instrument
        raise DocumentError(
            f"no provisions found in {names}; is it a treaty text in Markdown? check the file"
        )
    return _dedupe(provisions)


def _dedupe(provisions: list[Provision]) -> list[Provision]:
    """Keep the first provision of an id (an excerpt file may repeat a heading of the previous part)."""
    seen: set[str] = set()
    out = []
    for p in provisions:
        if p.id in seen:
            continue
        seen.add(p.id)
        out.append(p)
    return out


# --- the research article ----------------------------------------------------------------------------

# The research article's sections, in reading order (ids `article:<section>.<n>`).
ARTICLE_SECTIONS = (
    "title",
    "abstract-kk",
    "keywords-kk",
    "introduction",
    "methods",
    "results",
    "conclusion",
    "abstract-ru",
    "abstract-en",
)

_ARTICLE_SECTIONS = [
    (re.compile(r"^аңдатпа$", re.I), "abstract-kk", "kk"),
    (re.compile(r"^тірек сөздер", re.I), "keywords-kk", "kk"),
    (re.compile(r"^кіріспе$", re.I), "introduction", "kk"),
    (re.compile(r"^материалдар мен әдістер$", re.I), "methods", "kk"),
    (re.compile(r"^нәтижелер мен талқылау$", re.I), "results", "kk"),
    (re.compile(r"^қорытынды$", re.I), "conclusion", "kk"),
    (re.compile(r"^аннотация$", re.I), "abstract-ru", "ru"),
    (re.compile(r"^the article\b", re.I), "abstract-en", "en"),
    (
        re.compile(r"^(әдебиеттер|пайдаланылған әдебиет|references|список литературы)", re.I),
        "references",
        "kk",
    ),
]
_SUBHEAD = re.compile(r"^[А-ЯӘІҢҒҮҰҚӨҺA-Z]\w+(?: \w+){0,2}\.$")

SECTION_TITLES = {
    "title": "Title",
    "abstract-kk": "Аңдатпа",
    "keywords-kk": "Тірек сөздер",
    "introduction": "Кіріспе",
    "methods": "Материалдар мен әдістер",
    "results": "Нәтижелер мен талқылау",
    "conclusion": "Қорытынды",
    "abstract-ru": "Аннотация",
    "abstract-en": "Abstract",
    "references": "Әдебиеттер",
}


def _repair_pdf_lines(lines: list[str], vocabulary: set[str]) -> list[str]:
    """Tabs to spaces, runs of spaces folded; the lines are kept (joining happens per paragraph)."""
    return [re.sub(r"[ \t]+", " ", line.replace("\ufffd", "•")).strip() for line in lines]


def _join_hyphenated(lines: list[str], vocabulary: set[str]) -> str:
    """Join a paragraph's lines; a word split by a line-end hyphen is glued back unless the hyphen is real."""
    out = ""
    for line in lines:
        if not out:
            out = line
            continue
        m = re.search(r"(\w+)-$", out)
        n = re.match(r"(\w+)", line)
        if m and n and line[:1].islower():
            joined = (m.group(1) + n.group(1)).lower()
            hyphenated = f"{m.group(1)}-{n.group(1)}".lower()
            keep_hyphen = hyphenated in vocabulary and joined not in vocabulary
            out = out + line if keep_hyphen else out[:-1] + line
        else:
            out = f"{out} {line}"
    return out


def parse_research_article(text: str, source_file: str) -> list[Provision]:
    """Split the PDF-extracted research article into `article:<section>.<n>` provisions."""
    if "\x00" in text:
        raise DocumentError(f"{source_file} looks binary; re-run `assistant corpus fetch`")
    raw_lines = text.replace("\r", "").split("\n")
    flat = re.sub(r"\s+", " ", text.replace("\t", " "))
    vocabulary = {w.lower() for w in re.findall(r"\w+(?:-\w+)*", flat)}
    lines = _repair_pdf_lines(raw_lines, vocabulary)
    width = max((len(line) for line in lines), default=0)

    sections: list[tuple[str, str, list[list[str]]]] = [("title", "kk", [[]])]
    for line in lines:
        if not line:
            continue  # blank lines are page/column artefacts of the PDF, not paragraph breaks
        matched = False
        for rx, name, lang in _ARTICLE_SECTIONS:
            if rx.match(line):
                if name == "abstract-en" or name == "keywords-kk":
                    sections.append((name, lang, [[line]]))
                else:
                    sections.append((name, lang, [[]]))
                matched = True
                break
        if matched:
            continue
        paras = sections[-1][2]
        if line.startswith("•") and paras[-1]:
            paras.append([])
        if _SUBHEAD.match(line) and len(line) < 40:
            # «Аймақтық шарттар.»: a run-in subheading; it names the paragraphs after it.
            if paras[-1]:
                paras.append([])
            paras[-1].append(f"\x00{line}")
            paras.append([])
            continue
        if paras[-1] == [] and len(paras) > 1 and line[:1].islower() and not paras[-2][0].startswith("\x00"):
            paras.pop()  # a lowercase line continues the sentence that a short line («2003 ж.») seemed to end
        paras[-1].append(line)
        # A short line that ends a sentence closes the paragraph (justified PDF lines are full width).
        if re.search(r"[.:;!?»]$", line) and len(line) < 0.75 * width:
            paras.append([])

    provisions: list[Provision] = []
    for name, lang, paras in sections:
        n = 0
        chapter = ""
        for para in paras:
            if not para:
                continue
            if para[0].startswith("\x00"):
                chapter = para[0][1:].rstrip(". ")
                continue
            body = _join_hyphenated(para, vocabulary).strip()
            if not body:
                continue
            n += 1
            provisions.append(
                Provision(
                    id=make_id(RESEARCH_ARTICLE, name, str(n)),
                    instrument=RESEARCH_ARTICLE,
                    lang=lang,
                    level="paragraph",
                    article=name,
                    paragraph=str(n),
                    sub=None,
                    title=SECTION_TITLES.get(name, name),
                    chapter=chapter,
                    text=body,
                    source_file=source_file,
                )
            )
    if not provisions:
        raise DocumentError(f"no text found in {source_file}; check the file")
    return provisions


# First line of a user document added with `assistant add --as-paragraphs` (it has no article headings):
# each paragraph becomes a provision `instrument:p<n>`. (The treaty parser skips `<meta` lines.)
PARAGRAPHS_MARK = '<meta name="assistant-layout" content="paragraphs">'


def parse_paragraphs(instrument: str, lang: str, parts: Iterable[tuple[str, str]]) -> list[Provision]:
    """A document without article headings: one provision per paragraph (blank-line separated)."""
    out: list[Provision] = []
    for source_file, text in parts:
        for block in re.split(r"\n\s*\n", text.replace(PARAGRAPHS_MARK, "")):
            body = "\n".join(_clean(line) for line in block.split("\n") if line.strip())
            if not body:
                continue
            key = f"p{len(out) + 1}"
            out.append(
                Provision(
                    id=make_id(instrument, key),
                    instrument=instrument,
                    lang=lang,
                    level="article",
                    article=key,
                    paragraph=None,
                    sub=None,
                    title="",
                    chapter="",
                    text=body.lstrip("# "),
                    source_file=source_file,
                )
            )
    if not out:
        raise DocumentError(f"no text found for {instrument} ({lang}); check the document")
    return out


def provisions_from_texts(instrument: str, lang: str, parts: list[tuple[str, str]]) -> list[Provision]:
    """Dispatch one instrument-language to its parser (the research article has a format of its own)."""
    if parts and parts[0][1].startswith(PARAGRAPHS_MARK):
        return parse_paragraphs(instrument, lang, parts)
    if instrument == RESEARCH_ARTICLE:
        out: list[Provision] = []
        for source_file, text in parts:
            out.extend(parse_research_article(text, source_file))
        return out
    return parse_treaty(instrument, lang, parts)


def load_provisions(manifest, corpus_dir) -> list[Provision]:  # noqa: ANN001 - corpus.Manifest, Path
    """Every provision of every manifest document, read (and checksum-verified) from `corpus_dir`."""
    from assistant.corpus.manifest import read_document

    groups: dict[tuple[str, str], list] = {}
    for doc in manifest.documents:
        groups.setdefault((doc.instrument, doc.lang), []).append(doc)
    out: list[Provision] = []
    for (instrument, lang), docs in sorted(groups.items()):
        docs.sort(key=lambda d: d.part)
        parts = [(d.file, read_document(corpus_dir, d)) for d in docs]
        out.extend(provisions_from_texts(instrument, lang, parts))
    return out
