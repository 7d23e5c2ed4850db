"""Memos: an answer, a conversation or a comparison table as a document, written as Markdown, DOCX or PDF.

Takes: a `Conversation` (or a `Comparison`), the language templates, optionally the manifest (formal
citation strings) and the `ProvisionStore` (whole articles).
Gives: `conversation_blocks()` / `comparison_blocks()`, a small document model (headings, paragraphs,
quotes, lists, tables, notes), and `render(blocks, fmt)`, which writes it as real document structure:
Markdown headings and `>` quotes, DOCX «Heading n» / «Quote» / «List Bullet» styles, PDF headings,
indented quotes with a rule and bullet lists in DejaVu Sans (Kazakh letters included).

Every memo states its language, date, corpus version (the manifest's sha256) and the unofficial-copy /
not-legal-advice note; each cited provision comes with its label, formal citation, the verbatim quote,
the assistant's editorial summary (marked as such) when there is one, and on request the whole article.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.answer.citations import Citation
from assistant.core.errors import InputError
from assistant.core.prompts import Templates
from assistant.export.conversation import Conversation, require_turns

if TYPE_CHECKING:
    from assistant.answer.topical import Comparison
    from assistant.corpus.manifest import Manifest
    from assistant.index.store import ProvisionStore

FORMATS = ("md", "docx", "pdf")
MEDIA_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


@dataclass(frozen=True)
class Block:
    """One element of a memo. `text` may hold **bold** runs; quotes are verbatim (no markup read)."""

    kind: str  # heading | para | quote | bullets | note | meta | table
    text: str = ""
    level: int = 1  # heading level
    items: tuple[str, ...] = ()  # bullets; meta: (label, value)
    rows: tuple[tuple[str, ...], ...] = ()  # table: the first row is the header
    lang: str = ""


# ------------------------------------------------------------------------------------------ building


def _answer_blocks(markdown: str) -> list[Block]:
    """The answer's Markdown as blocks: `>` lines become quotes, `- ` lines lists, the rest paragraphs."""
    out: list[Block] = []
    quote: list[str] = []
    bullets: list[str] = []
    para: list[str] = []

    def flush() -> None:
        if quote:
            out.append(Block("quote", "\n".join(quote).strip("\n")))
            quote.clear()
        if bullets:
            out.append(Block("bullets", items=tuple(bullets)))
            bullets.clear()
        if para:
            out.append(Block("para", " ".join(para)))
            para.clear()

    for line in markdown.splitlines():
        stripped = line.strip()
        if stripped.startswith(">"):
            if bullets or para:
                flush()
            quote.append(stripped[1:].removeprefix(" ").replace("**", ""))  # the attribution's bold
        elif re.match(r"^[-*•] ", stripped):
            if quote or para:
                flush()
            bullets.append(stripped[2:])
        elif not stripped:
            flush()
        else:
            if quote or bullets:
                flush()
            para.append(stripped.lstrip("#").strip() if stripped.startswith("#") else stripped)
    flush()
    return out


def _meta_blocks(t: Templates, lang: str, created: str, corpus_version: str, today: dt.date) -> list[Block]:
    rows = [
        (t.get("export.language"), t.get(f"language_names.{lang}")),
        (t.get("export.date"), (created[:10] if created else today.isoformat())),
    ]
    if corpus_version:
        rows.append((t.get("export.corpus_version"), corpus_version))
    return [Block("meta", items=(k, v)) for k, v in rows] + [Block("note", t.get("answer.disclaimer"))]


def _citation_blocks(
    c: Citation,
    lang: str,
    t: Templates,
    manifest: Manifest | None,
    store: ProvisionStore | None,
    shown_articles: set[str],
) -> list[Block]:
    from assistant.answer.citation_strings import citation_string

    out = [Block("heading", f"{c.label}", level=4)]
    instrument = manifest.instruments.get(c.instrument) if manifest else None
    if instrument is not None:
        try:
            formal = citation_string(c.id, lang, instrument, {lang: t})
        except ValueError:  # an id the manifest's instrument does not own: no formal citation
            formal = ""
        if formal:
            out.append(Block("para", f"**{t.get('export.citation')}:** {formal}"))
    if c.summary:
        out.append(Block("note", f"{t.get('export.summary')}: {c.summary}"))
    language = t.entries.get(f"language_names.{c.source_lang}", c.source_lang) if c.source_lang else ""
    out.append(Block("para", f"**{t.render('export.quote', language=language)}**" if language else ""))
    out.append(Block("quote", c.quote, lang=c.source_lang))
    article_id = f"{c.instrument}:{c.article}"
    if store is not None and article_id not in shown_articles:
        provision = store.get(article_id, c.source_lang or lang)
        if provision is not None and provision.text.strip() and provision.text.strip() != c.quote.strip():
            shown_articles.add(article_id)
            head = f"{t.get('export.whole_article')}: {article_id}"
            if provision.title:
                head += f" — {provision.title}"
            out.append(Block("para", f"**{head}**"))
            out.extend(
                Block("quote", p.strip(), lang=provision.lang)
                for p in provision.text.split("\n\n")
                if p.strip()
            )
    return [b for b in out if b.kind != "para" or b.text]


def conversation_blocks(
    conversation: Conversation,
    templates: Mapping[str, Templates],
    *,
    manifest: Manifest | None = None,
    store: ProvisionStore | None = None,
    whole_articles: bool = False,
    today: dt.date | None = None,
) -> list[Block]:
    """The memo of a conversation (one turn: an answer memo). `store` is needed for `whole_articles`."""
    require_turns(conversation)
    if whole_articles and store is None:
        raise InputError("whole articles need the index (its provision store); run `assistant index` first")
    lang = conversation.language
    t = templates[lang]
    one = len(conversation.turns) == 1
    blocks = [Block("heading", t.get("export.title_answer" if one else "export.title_conversation"), level=1)]
    blocks += _meta_blocks(
        t, lang, conversation.created, conversation.corpus_version, today or dt.date.today()
    )
    for n, turn in enumerate(conversation.turns, 1):
        blocks.append(
            Block("heading", t.get("export.question") if one else t.render("export.turn", n=n), level=2)
        )
        blocks.append(Block("para", f"**{turn.question}**"))
        blocks.append(Block("heading", t.get("export.answer"), level=3))
        blocks += _answer_blocks(turn.answer)
        blocks.append(Block("heading", t.get("export.sources"), level=3))
        if not turn.citations:
            blocks.append(Block("para", t.get("export.no_sources")))
        shown: set[str] = set()
        for c in turn.citations:
            blocks += _citation_blocks(c, lang, t, manifest, store if whole_articles else None, shown)
    return blocks


def comparison_blocks(
    c: Comparison,
    templates: Mapping[str, Templates],
    *,
    corpus_version: str = "",
    today: dt.date | None = None,
) -> list[Block]:
    """The memo of a comparison table: the table (summaries, marked as such), then each provision's text."""
    t = templates[c.language]
    header = (t.get("compare.instrument"), t.get("compare.provisions"), t.get("compare.says"))
    rows = [header]
    for row in c.rows:
        status = t.get("compare.none") if row.none else t.get("compare.unmapped")
        rows.append(
            (
                row.name,
                "; ".join(p.label for p in row.provisions) or "—",
                " ".join(p.says for p in row.provisions) or status,
            )
        )
    blocks = [Block("heading", t.render("compare.title", topic=c.title), level=1)]
    blocks += _meta_blocks(t, c.language, "", corpus_version, today or dt.date.today())
    blocks += [Block("table", rows=tuple(rows)), Block("note", t.get("topic.summary_note"))]
    blocks.append(Block("heading", t.get("topic.quotes"), level=2))
    for row in c.rows:
        for p in row.provisions:
            blocks += [Block("heading", p.label, level=4), Block("quote", p.quote, lang=p.quote_lang)]
    return blocks


# ------------------------------------------------------------------------------------------ Markdown


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(blocks: Sequence[Block]) -> str:
    lines: list[str] = []
    previous = ""
    for b in blocks:
        if previous == "meta" and b.kind != "meta":
            lines.append("")  # the metadata list ends
        previous = b.kind
        if b.kind == "heading":
            lines += [f"{'#' * b.level} {b.text}", ""]
        elif b.kind == "para":
            lines += [b.text, ""]
        elif b.kind == "note":
            lines += [f"_{b.text}_", ""]
        elif b.kind == "meta":
            lines.append(f"- **{b.items[0]}:** {b.items[1]}")
        elif b.kind == "quote":
            lines += [f"> {x}" if x.strip() else ">" for x in b.text.split("\n")] + [""]
        elif b.kind == "bullets":
            lines += [f"- {x}" for x in b.items] + [""]
        elif b.kind == "table":
            head, *rest = b.rows
            lines.append("| " + " | ".join(_md_cell(x) for x in head) + " |")
            lines.append("|" + "---|" * len(head))
            lines += ["| " + " | ".join(_md_cell(x) for x in r) + " |" for r in rest]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# ------------------------------------------------------------------------------------------ DOCX

_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _runs(text: str) -> Iterable[tuple[str, bool]]:
    """(text, bold) pieces of a paragraph with **bold** markup."""
    pos = 0
    for m in _BOLD.finditer(text):
        if m.start() > pos:
            yield text[pos : m.start()], False
        yield m.group(1), True
        pos = m.end()
    if pos < len(text):
        yield text[pos:], False


def to_docx(blocks: Sequence[Block], *, title: str = "", lang: str = "") -> bytes:
    from docx import Document

    doc = Document()
    doc.core_properties.title = title or next((b.text for b in blocks if b.kind == "heading"), "")
    if lang:
        doc.core_properties.language = lang
    for b in blocks:
        if b.kind == "heading":
            doc.add_heading(b.text, level=b.level)
        elif b.kind in ("para", "note"):
            p = doc.add_paragraph()
            for text, bold in _runs(b.text):
                run = p.add_run(text)
                run.bold = bold
                run.italic = b.kind == "note"
        elif b.kind == "meta":
            p = doc.add_paragraph()
            p.add_run(f"{b.items[0]}: ").bold = True
            p.add_run(b.items[1])
        elif b.kind == "quote":
            doc.add_paragraph(b.text, style="Quote")
        elif b.kind == "bullets":
            for item in b.items:
                p = doc.add_paragraph(style="List Bullet")
                for text, bold in _runs(item):
                    p.add_run(text).bold = bold
        elif b.kind == "table":
            table = doc.add_table(rows=0, cols=len(b.rows[0]))
            table.style = "Table Grid"
            for i, row in enumerate(b.rows):
                cells = table.add_row().cells
                for cell, text in zip(cells, row, strict=True):
                    cell.text = text
                    if i == 0:
                        for run in cell.paragraphs[0].runs:
                            run.bold = True
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


# ------------------------------------------------------------------------------------------ PDF


def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


_SIZES = {1: 17, 2: 14, 3: 12, 4: 11}


def to_pdf(blocks: Sequence[Block], *, title: str = "") -> bytes:
    from fpdf import FPDF

    fonts = _font_dir()
    pdf = FPDF(format="A4")
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.add_font("DejaVu", "I", str(fonts / "DejaVuSans-Oblique.ttf"))
    pdf.add_font("DejaVu", "BI", str(fonts / "DejaVuSans-BoldOblique.ttf"))
    pdf.set_title(title or next((b.text for b in blocks if b.kind == "heading"), ""))
    pdf.set_creator("asset-recovery-assistant")
    pdf.add_page()
    left = pdf.l_margin

    def write(text: str, size: float = 10, style: str = "", height: float = 5.2) -> None:
        for piece, bold in _runs(text):
            pdf.set_font("DejaVu", ("B" if bold else "") + style.replace("B", ""), size)
            pdf.write(height, piece)
        pdf.ln(height)

    for b in blocks:
        pdf.set_x(left)
        if b.kind == "heading":
            size = _SIZES.get(b.level, 10)
            pdf.ln(2 if b.level > 2 else 4)
            pdf.set_font("DejaVu", "B", size)
            pdf.multi_cell(0, size * 0.5, b.text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1.5)
        elif b.kind == "para":
            write(b.text)
            pdf.ln(1.5)
        elif b.kind == "note":
            pdf.set_text_color(90, 90, 90)
            write(b.text, size=9, style="I")
            pdf.set_text_color(0, 0, 0)
            pdf.ln(1.5)
        elif b.kind == "meta":
            write(f"**{b.items[0]}:** {b.items[1]}", size=9)
        elif b.kind == "quote":
            top_page, top_y = pdf.page, pdf.get_y()
            pdf.set_left_margin(left + 6)
            pdf.set_x(left + 6)
            pdf.set_font("DejaVu", "", 9.5)
            pdf.set_text_color(40, 40, 40)
            pdf.multi_cell(0, 4.8, b.text, align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.set_text_color(0, 0, 0)
            pdf.set_left_margin(left)
            if pdf.page == top_page:  # the rule beside the quote (a quote across pages goes without)
                pdf.set_draw_color(150, 150, 150)
                pdf.set_line_width(0.6)
                pdf.line(left + 2, top_y, left + 2, pdf.get_y())
            pdf.ln(2)
        elif b.kind == "bullets":
            for item in b.items:
                pdf.set_x(left)
                pdf.set_font("DejaVu", "", 10)
                pdf.write(5.2, "•  ")
                pdf.set_left_margin(left + 5)
                write(item)
                pdf.set_left_margin(left)
            pdf.ln(1.5)
        elif b.kind == "table":
            pdf.set_font("DejaVu", "", 8.5)
            with pdf.table(col_widths=(25, 30, 45), line_height=4.4, first_row_as_headings=True) as table:
                for row in b.rows:
                    r = table.row()
                    for cell in row:
                        r.cell(cell)
            pdf.ln(2)
    return bytes(pdf.output())


# ------------------------------------------------------------------------------------------ entry point


def render(blocks: Sequence[Block], fmt: str, *, lang: str = "") -> bytes:
    """The memo's bytes in `fmt` (md, docx or pdf)."""
    if fmt == "md":
        return to_markdown(blocks).encode("utf-8")
    if fmt == "docx":
        return to_docx(blocks, lang=lang)
    if fmt == "pdf":
        return to_pdf(blocks)
    raise InputError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def export_conversation(
    conversation: Conversation,
    fmt: str,
    templates: Mapping[str, Templates],
    *,
    manifest: Manifest | None = None,
    store: ProvisionStore | None = None,
    whole_articles: bool = False,
    today: dt.date | None = None,
) -> bytes:
    """A conversation (or one answer) as a memo file: what the web download button and the CLI call."""
    blocks = conversation_blocks(
        conversation, templates, manifest=manifest, store=store, whole_articles=whole_articles, today=today
    )
    return render(blocks, fmt, lang=conversation.language)


def export_comparison(
    c: Comparison, fmt: str, templates: Mapping[str, Templates], *, corpus_version: str = ""
) -> bytes:
    return render(comparison_blocks(c, templates, corpus_version=corpus_version), fmt, lang=c.language)


def filename(stem: str, fmt: str, today: dt.date | None = None) -> str:
    """A download name like `answer-2025-06-11.pdf`."""
    return f"{stem}-{(today or dt.date.today()).isoformat()}.{fmt}"
