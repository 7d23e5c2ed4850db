"""Repairs between a document's extracted text and the provision parser.

Takes: `readers.Extracted` (a PDF's lines page by page, or another format's blocks).
Gives: Markdown-like text the bundled texts' parser (`provisions.parse_treaty`) reads, and `Repairs`,
the count of each repair made, for the parse report:

- page furniture: running headers and footers (a line repeated at the top or bottom of most pages, page
  numbers folded) and page-number lines («12», «- 12 -», «Стр. 3 из 20», «Page 3»);
- lines wrapped by the PDF's layout joined back into paragraphs, and words hyphenated at a line end
  rejoined (the hyphen kept where the document itself writes the word with one: «5-бап», «Нью-Йорк»);
- tabs, non-breaking and zero-width spaces, soft hyphens;
- Latin letters that look like Cyrillic ones inside Cyrillic words («Cтатья», «iстер»), as PDF fonts
  and typists produce them;
- headings: lines that are article, chapter or title headings («Статья 5», «5-бап», «Article 5», «Глава
  II», «2-бөлім») become Markdown headings, as they are in the bundled texts; headings the document
  marks itself (DOCX heading styles, HTML <h1>..<h6>, Markdown #) keep their level.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from assistant.corpus.provisions import (  # the parser's own heading and marker patterns
    _ART_EN,
    _ART_KK,
    _ART_RU,
    _CHAPTER,
    _CHAPTER_KK_NUM,
    _PARA,
    _PREAMBLE,
    _SUB,
)
from assistant.corpus.readers import Block, Extracted

__all__ = ["Repairs", "to_markdown", "fix_lookalikes", "article_heading"]


@dataclass(frozen=True)
class Repairs:
    furniture: int = 0  # page header/footer/number lines removed
    hyphens: int = 0  # words rejoined across a line end
    joined: int = 0  # wrapped lines joined into their paragraph
    lookalikes: int = 0  # words whose Latin look-alike letters became Cyrillic
    headings: int = 0  # lines recognised as headings

    def summary(self) -> str:
        parts = [
            f"{self.furniture} page header/footer/number lines removed" if self.furniture else "",
            f"{self.hyphens} hyphenated words rejoined" if self.hyphens else "",
            f"{self.joined} wrapped lines joined" if self.joined else "",
            f"{self.lookalikes} words with Latin look-alike letters fixed" if self.lookalikes else "",
            f"{self.headings} heading lines recognised" if self.headings else "",
        ]
        return "; ".join(p for p in parts if p) or "none needed"


# ------------------------------------------------------------------------------------------ characters

_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile("[\t\u00a0\u2007\u202f\u2000-\u200a]+")
_CYR = "а-яёәіңғүұқөһА-ЯЁӘІҢҒҮҰҚӨҺ"
_MIXED = re.compile(rf"\b(?=\w*[{_CYR}])(?=\w*[A-Za-z])\w+\b")
_TO_CYRILLIC = str.maketrans(
    {
        "a": "а", "c": "с", "e": "е", "o": "о", "p": "р", "x": "х", "y": "у", "i": "і",
        "A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "K": "К", "M": "М", "O": "О",
        "P": "Р", "T": "Т", "X": "Х", "I": "І",
    }
)  # fmt: skip
_LOOKALIKE_LATIN = set("acepxyiABCEHKMOPTXI")


def _characters(line: str) -> str:
    return _SPACES.sub(" ", _INVISIBLE.sub("", line))


def fix_lookalikes(text: str) -> tuple[str, int]:
    """Latin look-alike letters inside Cyrillic words made Cyrillic; (text, words changed).

    Only words mixing both scripts whose every Latin letter has a Cyrillic twin: «IVПравовая» (a Roman
    numeral glued to a word) and «e-mail» are left alone.
    """
    count = 0

    def repl(m: re.Match[str]) -> str:
        nonlocal count
        word = m.group(0)
        latin = {ch for ch in word if "a" <= ch.lower() <= "z"}
        if not latin <= _LOOKALIKE_LATIN:
            return word
        if re.match(r"^[IVXLC]+(?=[А-ЯЁӘІҢҒҮҰҚӨҺ])", word):  # «IОбщие»: a glued Roman numeral
            return word
        count += 1
        return word.translate(_TO_CYRILLIC)

    return _MIXED.sub(repl, text), count


# ------------------------------------------------------------------------------------------ headings

_CHAPTER_NUM = re.compile(r"^\d+\s*-\s*(бөлім|бөлiм|бөлік|бөлiк|тарау)\b", re.I)
_TITLE_WORDS = re.compile(
    r"(соглашени|договор|конвенци|протокол|ратифика|келісім|келiсiм|шарт|бекіту|бекiту|конвенция|"
    r"agreement|treaty|convention|protocol)",
    re.I,
)
_ENDS_SENTENCE = re.compile(r"[.;:,!?]$")


def article_heading(line: str) -> bool:
    """Whether a plain line is an article heading («Статья 5», «Статья 5. Title», «5-бап», «Article 5»)."""
    text = line.replace("*", "").strip()
    if len(text) > 200 or text.endswith((",", ";")) or text[:1].islower():  # «статья 13 настоящего ...»
        return False
    for rx in (_ART_RU, _ART_EN, _ART_KK):
        m = rx.match(text)
        if m:
            rest = m.group(2)
            return not rest or not rest[:1].islower()
    return False


def _chapter_heading(line: str) -> bool:
    text = line.replace("*", "").strip()
    if len(text) > 160 or _ENDS_SENTENCE.search(text) or _PARA.match(text) or _SUB.match(text):
        return False
    if _CHAPTER_NUM.match(text) or _CHAPTER_KK_NUM.match(text):
        return True
    m = _CHAPTER.match(text)
    if not m:
        return False
    # «Глава 2», «РАЗДЕЛ I», «Part III»: the word is followed by a number, not by running text
    return bool(re.match(r"^\w+\s*(?:[IVXLІ]+|\d+)(?![a-zа-яёәіңғүұқөһ\d])", text)) or text.isupper()


def _promote(blocks: list[Block]) -> tuple[list[Block], int]:
    """Mark as headings the lines the bundled texts write as Markdown headings."""
    out: list[Block] = []
    count = 0
    seen_article = any(b.level and article_heading(b.text) for b in blocks)
    # a PDF that sets its headings in bold says which lines are titles: no guessing from the words then
    guess_titles = not any(b.bold for b in blocks)
    first_article = next((i for i, b in enumerate(blocks) if article_heading(b.text)), len(blocks))
    expect_title = False
    for i, block in enumerate(blocks):
        text = block.text.strip()
        if block.level or not text:
            out.append(block)
            expect_title = bool(block.level and article_heading(text) and not _rest_of_article(text))
            continue
        level = 0
        if article_heading(text):
            level = 3
        elif _chapter_heading(text) or _PREAMBLE.match(text) and len(text) < 40:
            level = 2
        elif block.bold and not text.endswith((".", ";", ",")):
            level = 1 if i < first_article else 4  # a title, or a section/article title set in bold
        elif (
            expect_title
            and len(text) < 150
            and not _ENDS_SENTENCE.search(text)
            and not _PARA.match(text)
            and not _SUB.match(text)
            and text[:1].isupper()
        ):
            level = 4  # «Article 5» on one line, its title on the next
        elif (
            guess_titles
            and i < first_article
            and not seen_article
            and ". " not in text
            and len(text) < 400
            and text[:1].isupper()
            and not _ENDS_SENTENCE.search(text)
            and _TITLE_WORDS.search(text)
        ):
            level = 1  # the treaty's title or its ratification act, before the first article
        expect_title = level == 3 and not _rest_of_article(text)
        if level:
            count += 1
        out.append(Block(text, level, block.bold))
    return out, count


def _rest_of_article(text: str) -> str:
    for rx in (_ART_RU, _ART_EN, _ART_KK):
        m = rx.match(text.replace("*", "").strip())
        if m:
            return m.group(2)
    return ""


# ------------------------------------------------------------------------------------------ PDF layout

_PAGE_NUMBER = re.compile(
    r"^(?:(?:page|стр\.?|страница|бет|p\.)\s*)?[-–—]?\s*\d{1,4}\s*[-–—]?"
    r"(?:\s*(?:из|of|/|-)\s*\d{1,4})?(?:\s*-?\s*бет)?$",
    re.I,
)
_ZONE = 3  # lines at the top and at the bottom of a page where headers and footers live


def _fold(line: str) -> str:
    return re.sub(r"\d+", "#", " ".join(line.split()).lower())


def _strip_furniture(pages: tuple[tuple[str, ...], ...]) -> tuple[list[list[str]], int]:
    """Drop running headers/footers and page numbers from each page's top and bottom lines."""
    cleaned = [[_characters(line).strip() for line in page] for page in pages]
    cleaned = [[line for line in page if line] for page in cleaned]
    seen: Counter[str] = Counter()
    for page in cleaned:
        zone = {_fold(line) for line in page[:_ZONE] + page[-_ZONE:]}
        seen.update(zone)
    repeated = {k for k, n in seen.items() if len(cleaned) >= 3 and n >= max(3, 0.5 * len(cleaned))}
    removed = 0
    out: list[list[str]] = []
    for page in cleaned:
        keep = []
        for j, line in enumerate(page):
            in_zone = j < _ZONE or j >= len(page) - _ZONE
            heading = article_heading(line) or _chapter_heading(line)  # «8-бап» tops many pages
            if in_zone and not heading and (_fold(line) in repeated or _PAGE_NUMBER.match(line)):
                removed += 1
                continue
            keep.append(line)
        out.append(keep)
    return out, removed


def _join_lines(lines: list[str], bold: frozenset[str] = frozenset()) -> tuple[list[Block], int, int]:
    """Re-join lines the PDF layout wrapped; rejoin words hyphenated at a line end. A bold line is only
    joined to a bold one (a heading wrapped over two lines), never to the body text around it."""
    if not lines:
        return [], 0, 0
    is_bold = [" ".join(line.split()) in bold for line in lines]
    lengths = sorted(len(line) for line in lines)
    full = lengths[int(0.9 * (len(lengths) - 1))]
    flat = " ".join(lines)
    hyphenated = {w.lower() for w in re.findall(r"\w+-\w+", flat)}
    words = {w.lower() for w in re.findall(r"\w+", flat)}
    out: list[str] = []
    out_bold: list[bool] = []
    hyphens = joined = 0
    last = ""  # the previous physical line (out[-1] may be several joined ones)
    for line, line_bold in zip(lines, is_bold, strict=True):
        if not out or out_bold[-1] != line_bold:
            out.append(line)
            out_bold.append(line_bold)
            last = line
            continue
        prev, physical, last = out[-1], last, line
        m = re.search(r"(\w+)-$", prev)
        n = re.match(r"(\w+)", line)
        if m and n and not article_heading(line):
            left, right = m.group(1), n.group(1)
            whole = (left + right).lower()
            keep = (
                left[-1].isdigit()
                or right[:1].isupper()
                or (f"{left}-{right}".lower() in hyphenated and whole not in words)
            )
            out[-1] = prev + line if keep else prev[:-1] + line
            hyphens += 1
            continue
        starts_item = bool(_PARA.match(line) or _SUB.match(line) or line.startswith(("- ", "• ", "– ")))
        heading = (
            article_heading(line) or article_heading(prev) or _chapter_heading(line) or _chapter_heading(prev)
        )
        wrapped = len(physical) >= 0.75 * full and not re.search(r"[.;:!?]$", prev)
        if line_bold:  # a bold heading wrapped over lines (capitals are wide: count no characters)
            wrapped = not re.search(r"[.;:!?]$", prev)
        continues = line[:1].islower() and not re.search(r"[.;:!?]$", prev)
        if re.fullmatch(r"(и|или|либо|және|немесе|and|or)", line, re.I) and prev.endswith(";"):
            continues = True  # «...; или» wrapped: the conjunction closes the item above
        # «... описанной в подпункте» / «а) настоящего пункта»: a full line ending mid-phrase wraps onto
        # what only looks like an item marker (lists follow «:», «;», «.» or a conjunction)
        mid_phrase = (
            len(physical) >= 0.9 * full
            and re.search(r"[^\W\d_]$", prev)
            and not re.search(r"\b(и|или|либо|және|немесе|не|and|or)$", prev, re.I)
        )
        if starts_item and mid_phrase and not line.startswith(("- ", "• ", "– ")):
            starts_item = False
        if not heading and not starts_item and (wrapped or continues):
            out[-1] = f"{prev} {line}"
            joined += 1
            continue
        out.append(line)
        out_bold.append(line_bold)
    return [Block(t, 0, b) for t, b in zip(out, out_bold, strict=True)], hyphens, joined


# ------------------------------------------------------------------------------------------ entry


def to_markdown(extracted: Extracted) -> tuple[str, Repairs]:
    """The document as the parser reads it (one paragraph per line, blank lines between, `#` headings)."""
    furniture = hyphens = joined = 0
    if extracted.format == "pdf":
        pages, furniture = _strip_furniture(extracted.pages)
        blocks, hyphens, joined = _join_lines([line for page in pages for line in page], extracted.bold)
    else:
        blocks = [Block(_characters(b.text).strip(), b.level) for b in extracted.blocks]
        if extracted.format in ("text", "markdown"):
            lines, hyphens, _ = _join_hyphens_only([b.text for b in blocks])
            levels = [b.level for b in blocks]
            blocks = [Block(t, lv) for t, lv in zip(lines, levels, strict=True)]
    blocks, headings = _promote([b for b in blocks if b.text])
    lookalikes = 0
    out: list[str] = []
    for block in blocks:
        text, n = fix_lookalikes(block.text)
        lookalikes += n
        out.append(f"{'#' * block.level} {text}" if block.level else text)
    markdown = "\n\n".join(out) + "\n"
    return markdown, Repairs(furniture, hyphens, joined, lookalikes, headings)


def _join_hyphens_only(lines: list[str]) -> tuple[list[str], int, int]:
    """Plain text keeps its lines; a word hyphenated across two of them is rejoined (the next line is
    moved up onto the first and left empty, so the list keeps its length and heading levels stay aligned)."""
    out = list(lines)
    count = 0
    for i in range(len(out) - 1):
        m = re.search(r"([^\W\d_]+)-$", out[i])
        n = re.match(r"([^\W\d_]+)\s*", out[i + 1])
        if m and n and n.group(1)[:1].islower():
            out[i] = out[i][:-1] + out[i + 1].lstrip()
            out[i + 1] = ""  # dropped with the other empty blocks
            count += 1
    return out, count, 0
