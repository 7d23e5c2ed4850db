"""A comparison table (answer.topical.Comparison) as Markdown, CSV or DOCX.

Takes: a `Comparison` and the language templates (column headers, «no such provision», the summary note).
Gives: the file's bytes. Summaries are marked as the assistant's editorial summaries; quotes are verbatim.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping

from assistant.answer.topical import Comparison
from assistant.core.prompts import Templates

FORMATS = ("md", "csv", "docx", "json")


def _status(row, t: Templates) -> str:  # noqa: ANN001 - ComparisonRow
    return t.get("compare.none") if row.none else t.get("compare.unmapped")


def to_markdown(c: Comparison, templates: Mapping[str, Templates]) -> str:
    t = templates[c.language]
    lines = [
        f"# {t.render('compare.title', topic=c.title)}",
        "",
        f"| {t.get('compare.instrument')} | {t.get('compare.provisions')} | {t.get('compare.says')} |",
        "|---|---|---|",
    ]
    for row in c.rows:
        if not row.provisions:
            lines.append(f"| {_cell(row.name)} | — | {_status(row, t)} |")
            continue
        labels = "; ".join(p.label for p in row.provisions)
        lines.append(
            f"| {_cell(row.name)} | {_cell(labels)} | {_cell(' '.join(p.says for p in row.provisions))} |"
        )
    lines += ["", f"_{t.get('topic.summary_note')}_", "", f"## {t.get('topic.quotes')}", ""]
    for row in c.rows:
        for p in row.provisions:
            lines += (
                [f"**{p.label}**", ""] + [f"> {x}" if x.strip() else ">" for x in p.quote.split("\n")] + [""]
            )
    return "\n".join(lines)


def to_csv(c: Comparison, templates: Mapping[str, Templates]) -> str:
    t = templates[c.language]
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(
        [
            "instrument_id",
            t.get("compare.instrument"),
            "provision_id",
            t.get("compare.provisions"),
            t.get("compare.says"),
            "quote",
        ]
    )
    for row in c.rows:
        if not row.provisions:
            w.writerow([row.instrument, row.name, "", "", _status(row, t), ""])
        for p in row.provisions:
            w.writerow([row.instrument, row.name, p.id, p.label, p.says, p.quote])
    return out.getvalue()


def to_docx(c: Comparison, templates: Mapping[str, Templates]) -> bytes:
    from docx import Document

    t = templates[c.language]
    doc = Document()
    doc.add_heading(t.render("compare.title", topic=c.title), level=1)
    table = doc.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    for cell, text in zip(
        table.rows[0].cells,
        (t.get("compare.instrument"), t.get("compare.provisions"), t.get("compare.says")),
        strict=True,
    ):
        cell.text = text
    for row in c.rows:
        cells = table.add_row().cells
        cells[0].text = row.name
        cells[1].text = "; ".join(p.label for p in row.provisions) or "—"
        cells[2].text = " ".join(p.says for p in row.provisions) or _status(row, t)
    doc.add_paragraph(t.get("topic.summary_note")).italic = True
    doc.add_heading(t.get("topic.quotes"), level=2)
    for row in c.rows:
        for p in row.provisions:
            doc.add_paragraph(p.label, style="Heading 3")
            doc.add_paragraph(p.quote, style="Intense Quote")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
