"""Read a user's document (PDF, DOCX, HTML, Markdown, plain text) into lines of text, with well-kept
libraries only: `pypdf` (the PDF's text layer), `python-docx`, BeautifulSoup. Nothing is rendered and no
script is run: HTML is parsed as data and its scripts, styles, navigation and forms are dropped.

Takes: the bytes of one file (or a URL, fetched with a size cap) and the size limit.
Gives: `Extracted` (frozen): the format, the PDF's lines page by page or the other formats' blocks (a
block is a paragraph, with its heading level when the document marks one), and the page count. The
repairs (page headers, hyphenation, headings) are `corpus/repair.py`'s; the parse is `provisions.py`'s.

Every refusal is a `UserDocumentError` whose one-line message says what to do: an encrypted PDF, a PDF
without a text layer (needs OCR), a DOCX that is not a zip or unpacks to far more than it weighs, a file
over the size limit, an unknown format, an empty document.
"""

from __future__ import annotations

import io
import re
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from assistant.core.errors import FetchError, UserDocumentError

__all__ = ["FORMATS", "Block", "Extracted", "detect_format", "fetch_url", "read_bytes", "read_path"]

FORMATS = ("pdf", "docx", "html", "markdown", "text")
_EXTENSIONS = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
}
SUPPORTED = "PDF with a text layer, DOCX, HTML, Markdown or plain text"

# A DOCX is a zip of XML: Word's own files unpack to 3-20x their size. Far more is a zip bomb.
MAX_UNPACK_RATIO = 100
MAX_UNPACKED_BYTES = 200_000_000
# Fewer letters than this per page on average: the PDF is a scan (images) without a text layer.
MIN_LETTERS_PER_PAGE = 40


@dataclass(frozen=True)
class Block:
    text: str
    level: int = 0  # 1..6: a heading the document itself marks (DOCX heading style, <h1>..<h6>, `#`)
    bold: bool = False  # a PDF line set wholly in a bold font (headings, in most printed treaties)


@dataclass(frozen=True)
class Extracted:
    format: str  # one of FORMATS
    name: str  # the file name shown in reports
    pages: tuple[tuple[str, ...], ...] = ()  # PDF: the text layer's lines, page by page
    bold: frozenset[str] = frozenset()  # PDF: the text of every run set in a bold font (whitespace folded)
    blocks: tuple[Block, ...] = ()  # every other format
    page_count: int = 0

    @property
    def is_empty(self) -> bool:
        return not any(line.strip() for page in self.pages for line in page) and not any(
            b.text.strip() for b in self.blocks
        )


def _refuse(message: str) -> UserDocumentError:
    return UserDocumentError(message)


# ------------------------------------------------------------------------------------------ format


def detect_format(data: bytes, name: str) -> str:
    """The document's format from its first bytes, then its name; UserDocumentError when neither tells."""
    head = data[:1024].lstrip()
    suffix = PurePosixPath(name.lower()).suffix
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        if suffix in ("", ".docx") or _is_docx_zip(data):
            return "docx"
        raise _refuse(f"{name} is a zip archive but not a DOCX; add a {SUPPORTED} file")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise _refuse(f"{name} is an old Word (.doc) or Office binary file; save it as .docx and add that")
    if suffix == ".docx":
        raise _refuse(
            f"{name} is not a DOCX (not a zip archive); save it again as .docx from Word or LibreOffice"
        )
    if suffix == ".pdf":
        raise _refuse(f"{name} is not a PDF (no %PDF header); check the file or export it to PDF again")
    lowered = head[:200].lower()
    if suffix in (".html", ".htm", ".xhtml") or lowered.startswith((b"<!doctype html", b"<html", b"<?xml")):
        return "html"
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    if b"\x00" in data[:8192] or suffix:
        kind = suffix or "binary data"
        raise _refuse(f"{name}: unknown format ({kind}); add a {SUPPORTED} file")
    return "text"


def _is_docx_zip(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return "word/document.xml" in zf.namelist()
    except zipfile.BadZipFile:
        return False


# ------------------------------------------------------------------------------------------ reading


def read_path(path: Path, max_bytes: int) -> tuple[bytes, Extracted]:
    """The file's bytes and its extracted text; refused unread when over `max_bytes`."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise _refuse(f"{path} does not exist; check the path") from None
    except OSError as exc:
        raise _refuse(f"cannot read {path} ({exc.strerror}); check the path and permissions") from None
    if not path.is_file():
        raise _refuse(f"{path} is not a file; give the path of one document")
    _check_size(size, max_bytes, path.name)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _refuse(f"cannot read {path} ({exc.strerror}); check its permissions") from None
    return data, read_bytes(data, path.name, max_bytes)


def _check_size(size: int, max_bytes: int, name: str) -> None:
    if size > max_bytes:
        raise _refuse(
            f"{name} is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB document limit; "
            "split it, or raise ASSISTANT_MAX_DOCUMENT_BYTES"
        )
    if size == 0:
        raise _refuse(f"{name} is empty (0 bytes); add the document's full file")


def read_bytes(data: bytes, name: str, max_bytes: int) -> Extracted:
    _check_size(len(data), max_bytes, name)
    fmt = detect_format(data, name)
    reader = {"pdf": _read_pdf, "docx": _read_docx, "html": _read_html}.get(fmt)
    extracted = reader(data, name, max_bytes) if reader else _read_plain(data, name, fmt)
    if extracted.is_empty:
        if fmt == "pdf":
            raise _refuse(
                f"{name} has no text layer (a scan?); it needs OCR first (e.g. `ocrmypdf in.pdf out.pdf`), then add the result"
            )
        raise _refuse(f"{name} holds no text; check that it is the right file")
    return extracted


def _decode(data: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8-sig",):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise _refuse(f"{name}: cannot tell the text encoding; save it as UTF-8 and add it again")
    return str(best)


def _read_plain(data: bytes, name: str, fmt: str) -> Extracted:
    text = _decode(data, name).replace("\r\n", "\n").replace("\r", "\n")
    blocks = []
    for line in text.split("\n"):
        m = re.match(r"^(#{1,6})\s+(.*)$", line.strip()) if fmt == "markdown" else None
        blocks.append(Block(m.group(2), len(m.group(1))) if m else Block(line))
    return Extracted(format=fmt, name=name, blocks=tuple(blocks))


# ------------------------------------------------------------------------------------------ PDF


def _read_pdf(data: bytes, name: str, max_bytes: int) -> Extracted:
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # pypdf warns on every small flaw of a real PDF
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            # an owner password alone (printing/copying restrictions) still opens with an empty user password
            try:
                opened = reader.decrypt("")
            except Exception:  # noqa: BLE001 - unsupported algorithm (e.g. AES without `cryptography`)
                opened = 0
            if not opened:
                raise _refuse(
                    f"{name} is an encrypted PDF; remove the password (e.g. `qpdf --decrypt in.pdf out.pdf`) and add that file"
                )
        pages: list[tuple[str, ...]] = []
        bold: set[str] = set()

        def visit(text: str, cm, tm, font, size) -> None:  # noqa: ANN001
            base = str((font or {}).get("/BaseFont", ""))
            if text.strip() and re.search(r"bold|black|heavy|semibold|demi", base, re.I):
                bold.add(" ".join(text.split()))

        for page in reader.pages:
            text = page.extract_text(visitor_text=visit) or ""
            pages.append(tuple(text.replace("\r\n", "\n").replace("\r", "\n").split("\n")))
    except UserDocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        raise _refuse(
            f"{name} is a damaged PDF ({type(exc).__name__}); export it to PDF again and add that"
        ) from None
    letters = sum(ch.isalpha() for page in pages for line in page for ch in line)
    if pages and letters < MIN_LETTERS_PER_PAGE * len(pages) / 4 and letters < 200:
        raise _refuse(
            f"{name} has no text layer (a scan?); it needs OCR first (e.g. `ocrmypdf in.pdf out.pdf`), then add the result"
        )
    return Extracted(format="pdf", name=name, pages=tuple(pages), bold=frozenset(bold), page_count=len(pages))


# ------------------------------------------------------------------------------------------ DOCX

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _check_zip(data: bytes, name: str, max_bytes: int) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except zipfile.BadZipFile:
        raise _refuse(f"{name} is not a DOCX (damaged zip archive); save it again as .docx") from None
    total = sum(i.file_size for i in infos)
    worst = max((i.file_size / max(i.compress_size, 1) for i in infos if i.file_size > 1_000_000), default=0)
    if total > min(MAX_UNPACKED_BYTES, max(10 * max_bytes, 10_000_000)) or worst > MAX_UNPACK_RATIO:
        raise _refuse(
            f"{name} unpacks to {total / 1e6:.0f} MB from {len(data) / 1e6:.1f} MB (a zip bomb?); refused unread, "
            "save the document again as .docx"
        )
    if "word/document.xml" not in {i.filename for i in infos}:
        raise _refuse(f"{name} is a zip archive but not a DOCX; save it again as .docx")


def _read_docx(data: bytes, name: str, max_bytes: int) -> Extracted:
    _check_zip(data, name, max_bytes)
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise _refuse(
            f"{name} is not a readable DOCX ({type(exc).__name__}); save it again as .docx"
        ) from None
    except Exception as exc:  # noqa: BLE001 - lxml's XMLSyntaxError and friends: a damaged document
        raise _refuse(f"{name} is a damaged DOCX ({type(exc).__name__}); save it again as .docx") from None
    numbering = _Numbering(document)
    blocks: list[Block] = []
    body = document.element.body
    for element in body.iterchildren():
        if element.tag == f"{_W}p":
            blocks.append(_docx_paragraph(document, element, numbering))
        elif element.tag == f"{_W}tbl":
            # a table's cells, row by row (treaty files sometimes put signatures or forms in tables)
            for cell_p in element.iter(f"{_W}p"):
                blocks.append(_docx_paragraph(document, cell_p, numbering))
    return Extracted(format="docx", name=name, blocks=tuple(blocks))


def _docx_paragraph(document, p, numbering: _Numbering) -> Block:  # noqa: ANN001
    from docx.text.paragraph import Paragraph

    para = Paragraph(p, document._body)
    text = para.text
    level = 0
    style = para.style
    style_name = (style.name or "") if style is not None else ""
    m = re.match(r"^(?:heading|заголовок)\s*(\d)$", style_name.strip(), re.I)
    if m:
        level = max(1, min(6, int(m.group(1))))
    elif style_name.lower() == "title":
        level = 1
    marker = numbering.marker(p, style)
    if marker and not level:
        text = f"{marker} {text}" if marker != "-" else f"- {text}"
    return Block(text, level)


class _Numbering:
    """Word's list numbers («1.», «a)») are not in the paragraph text: count them as Word would."""

    _FORMATS = {
        "decimal": lambda n: str(n),
        "lowerLetter": lambda n: "abcdefghijklmnopqrstuvwxyz"[(n - 1) % 26],
        "upperLetter": lambda n: "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[(n - 1) % 26],
        "russianLower": lambda n: "абвгдежзиклмнопрстуфхцчшщэюя"[(n - 1) % 28],
        "russianUpper": lambda n: "АБВГДЕЖЗИКЛМНОПРСТУФХЦЧШЩЭЮЯ"[(n - 1) % 28],
        "lowerRoman": lambda n: _roman(n).lower(),
        "upperRoman": lambda n: _roman(n),
    }

    def __init__(self, document) -> None:  # noqa: ANN001
        self.levels: dict[tuple[str, int], tuple[str, str, int]] = {}  # (numId, ilvl) -> fmt, text, start
        self.counters: dict[str, list[int]] = {}
        try:
            root = document.part.numbering_part.element
        except (NotImplementedError, KeyError, AttributeError):
            return
        abstract: dict[str, dict[int, tuple[str, str, int]]] = {}
        for an in root.iter(f"{_W}abstractNum"):
            lvls = {}
            for lvl in an.iter(f"{_W}lvl"):
                ilvl = int(lvl.get(f"{_W}ilvl", "0"))
                fmt = _val(lvl, "numFmt") or "decimal"
                text = _val(lvl, "lvlText") or f"%{ilvl + 1}."
                start = int(_val(lvl, "start") or 1)
                lvls[ilvl] = (fmt, text, start)
            abstract[an.get(f"{_W}abstractNumId")] = lvls
        for num in root.iter(f"{_W}num"):
            num_id = num.get(f"{_W}numId")
            lvls = dict(abstract.get(_val(num, "abstractNumId") or "", {}))
            for override in num.iter(f"{_W}lvlOverride"):
                ilvl = int(override.get(f"{_W}ilvl", "0"))
                start = _val(override, "startOverride")
                if start is not None and ilvl in lvls:
                    fmt, text, _ = lvls[ilvl]
                    lvls[ilvl] = (fmt, text, int(start))
            for ilvl, spec in lvls.items():
                self.levels[(num_id, ilvl)] = spec

    def marker(self, p, style) -> str:  # noqa: ANN001
        num_pr = p.find(f"{_W}pPr/{_W}numPr")
        while num_pr is None and style is not None:
            num_pr = style.element.find(f"{_W}pPr/{_W}numPr")
            style = style.base_style
        if num_pr is None:
            return ""
        num_id = _val(num_pr, "numId")
        ilvl = int(_val(num_pr, "ilvl") or 0)
        if not num_id or num_id == "0" or (num_id, ilvl) not in self.levels:
            return ""
        counters = self.counters.setdefault(num_id, [])
        while len(counters) <= ilvl:
            counters.append(0)
        counters[ilvl] += 1
        del counters[ilvl + 1 :]  # a deeper list restarts under each new item
        fmt, text, _ = self.levels[(num_id, ilvl)]
        if fmt == "bullet":
            return "-"

        def number(level: int) -> str:
            lf, _, start = self.levels.get((num_id, level), ("decimal", "", 1))
            n = (counters[level] if level < len(counters) else 1) + start - 1
            return self._FORMATS.get(lf, str)(n)

        return re.sub(r"%(\d)", lambda m: number(int(m.group(1)) - 1), text).strip()


def _val(element, tag: str) -> str | None:  # noqa: ANN001
    child = element.find(f"{_W}{tag}")
    return None if child is None else child.get(f"{_W}val")


def _roman(n: int) -> str:
    out = ""
    for value, sym in ((10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out, n = out + sym, n - value
    return out


# ------------------------------------------------------------------------------------------ HTML

# Never text of the document: code, styling, page chrome, forms, embedded objects.
_DROP = (
    "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas",
    "nav", "header", "footer", "aside", "form", "button", "select", "input", "textarea", "head",
)  # fmt: skip
_BLOCKS = {"p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "pre", "blockquote", "dd", "dt"}


def _read_html(data: bytes, name: str, max_bytes: int) -> Extracted:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "html.parser")  # a parser only: no script runs, nothing is fetched
    for tag in soup.find_all(_DROP):
        tag.decompose()
    root = soup.find("main") or soup.find("article") or soup.body or soup
    blocks: list[Block] = []
    _walk(root, blocks)
    return Extracted(format="html", name=name, blocks=tuple(blocks))


def _inline_text(tag) -> str:  # noqa: ANN001
    text = tag.get_text()
    return re.sub(r"\s+", " ", text).strip()


def _walk(tag, blocks: list[Block]) -> None:  # noqa: ANN001
    from bs4 import NavigableString, Tag

    pending: list[str] = []

    def flush() -> None:
        text = re.sub(r"\s+", " ", "".join(pending)).strip()
        if text:
            blocks.append(Block(text))
        pending.clear()

    for child in tag.children:
        if isinstance(child, NavigableString):
            if type(child).__name__ in (
                "Comment",
                "Doctype",
                "CData",
                "ProcessingInstruction",
                "Declaration",
            ):
                continue
            pending.append(str(child))
            continue
        if not isinstance(child, Tag):
            continue
        tag_name = child.name.lower()
        if tag_name == "br":
            flush()
        elif tag_name in ("ol", "ul"):
            flush()
            _list(child, blocks)
        elif re.fullmatch(r"h[1-6]", tag_name):
            flush()
            text = _inline_text(child)
            if text:
                blocks.append(Block(text, int(tag_name[1])))
        elif tag_name in _BLOCKS or tag_name in (
            "section",
            "article",
            "main",
            "table",
            "tr",
            "tbody",
            "body",
        ):
            flush()
            if any(
                isinstance(c, Tag) and (c.name in _BLOCKS or c.name in ("ol", "ul", "br", "table"))
                for c in child.descendants
            ):
                _walk(child, blocks)
            else:
                text = _inline_text(child)
                if text:
                    blocks.append(Block(text))
        else:
            pending.append(child.get_text())  # inline markup (<b>, <a>, <span>) inside a paragraph
    flush()


def _list(tag, blocks: list[Block]) -> None:  # noqa: ANN001
    ordered = tag.name.lower() == "ol"
    try:
        n = int(tag.get("start", 1))
    except ValueError:
        n = 1
    kind = (tag.get("type") or "1") if ordered else ""
    for li in tag.find_all("li", recursive=False):
        if ordered:
            marker = {
                "a": "abcdefghijklmnopqrstuvwxyz"[(n - 1) % 26] + ")",
                "i": _roman(n).lower() + ")",
            }.get(kind, f"{n}.")
        else:
            marker = "-"
        inner: list[Block] = []
        _walk(li, inner)
        if inner:
            blocks.append(Block(f"{marker} {inner[0].text}"))
            blocks.extend(inner[1:])
        n += 1


# ------------------------------------------------------------------------------------------ URLs


def fetch_url(url: str, max_bytes: int, timeout: float) -> tuple[bytes, str]:
    """(bytes, file name) of an http(s) URL, read at most to the size limit; FetchError otherwise."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FetchError(f"{url} is not an http(s) URL; give a file path or an http(s) address")
    request = urllib.request.Request(url, headers={"User-Agent": "asset-recovery-assistant add"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - scheme checked
            data = response.read(max_bytes + 1)
            ctype = response.headers.get_content_type()
    except urllib.error.HTTPError as exc:
        raise FetchError(
            f"{url} answered HTTP {exc.code}; check the address, or download the file and add it"
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or type(exc).__name__
        raise FetchError(f"cannot fetch {url} ({reason}); download the file and add it from disk") from None
    if len(data) > max_bytes:
        raise UserDocumentError(
            f"{url} is over the {max_bytes / 1e6:.0f} MB document limit; split it, or raise ASSISTANT_MAX_DOCUMENT_BYTES"
        )
    name = PurePosixPath(parts.path).name or parts.netloc
    if not PurePosixPath(name).suffix:
        name += {
            "text/html": ".html",
            "application/pdf": ".pdf",
            "text/plain": ".txt",
            "text/markdown": ".md",
        }.get(ctype, "")
    return data, name
