"""Memos from the real assistant: `assistant ask --format … --out`, and `assistant ask --json` saved as a
conversation file and exported with `assistant export`; every file read back."""

from __future__ import annotations

import io
import json
import re

import pytest

from tests.helpers import run_cli

pytestmark = pytest.mark.pipeline

QUESTION_KK = "Страсбург конвенциясының 13-бабы тәркілеу туралы не дейді?"


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def answer_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("memo") / "answer.json"
    r = run_cli(["ask", QUESTION_KK, "--lang", "kk", "--json"])
    assert r.returncode == 0, r.stderr
    answer = json.loads(r.stdout)
    assert answer["citations"], answer
    out.write_text(r.stdout, encoding="utf-8")
    return out, answer


def test_ask_writes_a_docx_memo(tmp_path):
    from docx import Document

    out = tmp_path / "memo.docx"
    r = run_cli(["ask", QUESTION_KK, "--lang", "kk", "--format", "docx", "--out", str(out)])
    assert r.returncode == 0, r.stderr
    doc = Document(str(out))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert "Сұрақ бойынша анықтама" in headings
    text = "\n".join(p.text for p in doc.paragraphs)
    assert QUESTION_KK in text and "Корпус нұсқасы" in text and "ресми емес көшірмелер" in text
    assert any(p.style.name == "Quote" for p in doc.paragraphs)


def test_exported_pdf_has_every_label_and_quote(answer_file, tmp_path):
    from pypdf import PdfReader

    src, answer = answer_file
    out = tmp_path / "memo.pdf"
    r = run_cli(["export", str(src), "--format", "pdf", "--out", str(out), "--whole-articles"])
    assert r.returncode == 0, r.stderr
    text = _norm(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(out.read_bytes())).pages))
    for c in answer["citations"]:
        assert _norm(c["label"]) in text
        assert " ".join(c["quote"].split()[:5]) in text
    assert "Баптың толық мәтіні" in text  # the whole article, on request


def test_exported_markdown_parses(answer_file, tmp_path):
    from markdown_it import MarkdownIt

    src, answer = answer_file
    out = tmp_path / "memo.md"
    assert run_cli(["export", str(src), "--out", str(out)]).returncode == 0
    tokens = MarkdownIt().parse(out.read_text(encoding="utf-8"))
    assert [t.tag for t in tokens if t.type == "heading_open"][:2] == ["h1", "h2"]
    inline = " ".join(t.content for t in tokens if t.type == "inline")
    for c in answer["citations"]:
        assert c["label"] in inline
    assert sum(t.type == "blockquote_open" for t in tokens) >= len(answer["citations"])
