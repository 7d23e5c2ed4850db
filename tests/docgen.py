"""Test documents made at test time from the corpus texts (never committed): a PDF as an official
gazette would print it (running header, footer with the page number, justified lines hyphenated at
their ends, DejaVu Sans from matplotlib for the Kazakh letters), a DOCX with real heading styles and
Word-numbered paragraphs, and an HTML page with navigation, scripts and styles around the treaty.

Each takes the Markdown of a bundled corpus file; headings (`#`..`####`) become the format's headings
(bold lines in the PDF), «N. text» paragraphs become numbered list items in DOCX and HTML.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from tests.helpers import ROOT

RAW = ROOT.parent / "shared" / "corpus-raw"
if not RAW.is_dir():  # a worktree beside the main checkout: ../shared is the main checkout's neighbour
    RAW = Path("/work/shared/corpus-raw")

_HEAD = re.compile(r"^(#{1,6})\s*(.*)$")
_NUMBERED = re.compile(r"^(\d{1,3})\.\s+(.*)$")


def raw_text(rel: str) -> str:
    return (RAW / rel).read_text(encoding="utf-8")


def _lines(markdown: str) -> list[tuple[int, str]]:
    """(heading level or 0, text) per non-empty line."""
    out = []
    for line in markdown.split("\n"):
        line = line.strip()
        if not line or line.startswith("<meta"):
            continue
        m = _HEAD.match(line)
        out.append((len(m.group(1)), m.group(2).strip()) if m else (0, line))
    return out


# ------------------------------------------------------------------------------------------ PDF


def _font_path(bold: bool = False) -> str:
    import matplotlib

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name)


def make_pdf(
    markdown: str, target: Path, *, header: str = "Бюллетень международных договоров", encrypt: bool = False
) -> Path:
    """A printed-looking PDF of `markdown`; pages have a running header and a numbered footer."""
    from fpdf import FPDF

    class Gazette(FPDF):
        def header(self) -> None:
            self.set_font("DejaVu", "", 8)
            self.cell(0, 5, header, align="C", new_x="LMARGIN", new_y="NEXT")
            self.ln(2)

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("DejaVu", "", 8)
            self.cell(0, 5, f"– {self.page_no()} –", align="C")

    pdf = Gazette(format="A4")
    pdf.add_font("DejaVu", "", _font_path())
    pdf.add_font("DejaVu", "B", _font_path(bold=True))
    pdf.set_margins(20, 15, 20)
    pdf.set_auto_page_break(True, margin=18)
    if encrypt:
        pdf.set_encryption(owner_password="owner", user_password="secret")
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    for level, text in _lines(markdown):
        pdf.set_font("DejaVu", "B" if level else "", 10)
        if level:
            pdf.ln(2)
        for line in _wrap(pdf, text, width):
            pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)
    pdf.output(str(target))
    return target


def _wrap(pdf, text: str, width: float) -> list[str]:  # noqa: ANN001
    """Lines of at most `width`, a long word split with a hyphen when the line has room for part of it."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if pdf.get_string_width(candidate) <= width:
            current = candidate
            continue
        split = None
        if len(word) >= 8 and word.isalpha():
            for k in range(len(word) - 3, 2, -1):
                head = f"{current} {word[:k]}-" if current else f"{word[:k]}-"
                if pdf.get_string_width(head) <= width:
                    split = k
                    break
        if split:
            lines.append(f"{current} {word[:split]}-" if current else f"{word[:split]}-")
            current = word[split:]
        else:
            if current:
                lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


# ------------------------------------------------------------------------------------------ DOCX


def make_docx(markdown: str, target: Path) -> Path:
    """A DOCX with Heading 1-4 styles and «N.» paragraphs as Word's own numbered list (restarted per article)."""
    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = docx.Document()
    numbering = document.part.numbering_part.element
    abstract = next(
        n.find(qn("w:abstractNumId")).get(qn("w:val"))
        for n in numbering.iter(qn("w:num"))
        if n.get(qn("w:numId")) == "5"
    )
    next_id = [100]

    def new_list() -> str:
        next_id[0] += 1
        num = OxmlElement("w:num")
        num.set(qn("w:numId"), str(next_id[0]))
        ab = OxmlElement("w:abstractNumId")
        ab.set(qn("w:val"), abstract)
        num.append(ab)
        override = OxmlElement("w:lvlOverride")
        override.set(qn("w:ilvl"), "0")
        start = OxmlElement("w:startOverride")
        start.set(qn("w:val"), "1")
        override.append(start)
        num.append(override)
        numbering.append(num)
        return str(next_id[0])

    lines = _lines(markdown)
    list_id = None
    expected = 1
    for level, text in lines:
        if level:
            document.add_heading(text, level=min(level, 4))
            list_id, expected = None, 1
            continue
        m = _NUMBERED.match(text)
        if m and int(m.group(1)) == expected:
            if list_id is None:
                list_id = new_list()
            p = document.add_paragraph(m.group(2), style="List Number")
            num_pr = p._p.get_or_add_pPr().get_or_add_numPr()
            num_pr.get_or_add_ilvl().val = 0
            num_pr.get_or_add_numId().val = int(list_id)
            expected += 1
            continue
        document.add_paragraph(text)
    document.save(str(target))
    return target


# ------------------------------------------------------------------------------------------ HTML


def make_html(markdown: str, target: Path) -> Path:
    """An HTML page: the treaty in <main> (h1-h4, <ol> for numbered paragraphs, <ul> for dashes, some
    inline markup), with navigation, a header, a footer, styles and scripts around it."""
    out = [
        "<!DOCTYPE html><html lang='ru'><head><meta charset='utf-8'><title>Правовая база</title>",
        "<style>body{font-family:sans-serif} .x{display:none}</style>",
        "<script>document.title = 'Статья 999. Это скрипт'; fetch('/track?x=1');</script></head><body>",
        "<header><nav><a href='/'>Главная</a> | <a href='/docs'>Документы</a> | <a href='#'>Статья 77 меню</a></nav></header>",
        "<aside>Популярное: Статья 88 другого закона</aside><main>",
    ]
    lines = _lines(markdown)
    i = 0
    while i < len(lines):
        level, text = lines[i]
        if level:
            out.append(f"<h{min(level, 4)}>{html.escape(text)}</h{min(level, 4)}>")
            i += 1
            continue
        m = _NUMBERED.match(text)
        if m:
            start = int(m.group(1))
            out.append(f"<ol start='{start}'>" if start != 1 else "<ol>")
            n = start
            while (
                i < len(lines)
                and not lines[i][0]
                and (mm := _NUMBERED.match(lines[i][1]))
                and int(mm.group(1)) == n
            ):
                out.append(f"<li>{_inline(mm.group(2))}</li>")
                n += 1
                i += 1
            out.append("</ol>")
            continue
        if text.startswith("- "):
            out.append("<ul>")
            while i < len(lines) and not lines[i][0] and lines[i][1].startswith("- "):
                out.append(f"<li>{_inline(lines[i][1][2:])}</li>")
                i += 1
            out.append("</ul>")
            continue
        out.append(f"<p>{_inline(text)}</p>")
        i += 1
    out.append(
        "</main><footer>© Портал <script>alert('Статья 55')</script><noscript>Включите JavaScript</noscript></footer>"
    )
    out.append("<script src='/app.js'></script></body></html>")
    target.write_text("\n".join(out), encoding="utf-8")
    return target


def _inline(text: str) -> str:
    """Escape, and wrap the first word in <b> the way legal portals mark terms."""
    escaped = html.escape(text)
    first, _, rest = escaped.partition(" ")
    return f"<b>{first}</b> {rest}" if rest else escaped
