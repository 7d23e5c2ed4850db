"""The chat's download control and the sources panel's citation field (web/downloads.py, render.py):
which answers go in the memo, the memo file written and read back, the citation string shown escaped."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.answer.citation_strings import citation_string
from assistant.answer.citations import Citation
from assistant.answer.extractive import Answer
from assistant.core.prompts import all_templates
from assistant.corpus.manifest import load_manifest
from assistant.web import render
from assistant.web.downloads import FORMAT_CHOICES, conversation_of, scope_choices, write_memo

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = all_templates(ROOT / "prompts")
UIS = {lang: t.section("ui") for lang, t in TEMPLATES.items()}
NAMES = {lang: t.section("language_names") for lang, t in TEMPLATES.items()}
MANIFEST = load_manifest(ROOT / "corpus" / "sources.toml")

CITATION = Citation(
    id="strasbourg1990:13.1.a",
    instrument="strasbourg1990",
    article="13",
    title="Confiscation orders",
    label="Strasbourg Convention, Art. 13(1)(a)",
    quote="a short quote written for this test",
    source_lang="en",
    role="provision",
)


def _answer(question: str, lang: str = "en") -> Answer:
    return Answer(question=question, language=lang, answer="An answer.", refused=False, citations=(CITATION,))


def test_nothing_to_export_without_answers():
    assert conversation_of((), "all", created="", corpus_version="x") is None
    assert conversation_of((), "last", created="", corpus_version="x") is None


def test_the_whole_conversation_or_only_its_last_answer():
    answers = (_answer("First?", "ru"), _answer("Second?", "kk"))
    whole = conversation_of(answers, "all", created="2026-01-02T03:04:05+00:00", corpus_version="abc")
    assert whole is not None and [a.question for a in whole.turns] == ["First?", "Second?"]
    assert whole.language == "kk" and whole.corpus_version == "abc" and whole.created.startswith("2026")
    last = conversation_of(answers, "last", created="", corpus_version="abc")
    assert last is not None and [a.question for a in last.turns] == ["Second?"]


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_choices_are_labelled_in_every_language(lang):
    ui = UIS[lang]
    assert [v for _, v in scope_choices(ui)] == ["all", "last"]
    assert all(label.strip() for label, _ in scope_choices(ui))
    for key in ("export_format", "export_scope", "download", "export_nothing", "copy_citation"):
        assert ui[key].strip()
    assert [v for _, v in FORMAT_CHOICES] == ["docx", "pdf", "md"]


def test_memo_written_once_and_read_back(tmp_path):
    docx = pytest.importorskip("docx")
    conversation = conversation_of((_answer("Қай конвенция?"),), "all", created="", corpus_version="abc123")
    assert conversation is not None
    path = write_memo(conversation, "docx", "all", TEMPLATES, tmp_path, manifest=MANIFEST)
    assert path.name.startswith("conversation-") and path.suffix == ".docx"
    text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    assert "Қай конвенция?" in text and CITATION.label in text
    again = write_memo(conversation, "docx", "all", TEMPLATES, tmp_path, manifest=MANIFEST)
    assert again == path and len(list(tmp_path.rglob("*.docx"))) == 1
    md = write_memo(conversation, "md", "last", TEMPLATES, tmp_path)
    assert md.name.startswith("answer-") and "Қай конвенция?" in md.read_text(encoding="utf-8")


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_sources_panel_shows_each_formal_citation_in_a_selectable_field(lang):
    instrument = MANIFEST.instruments["strasbourg1990"]
    formal = citation_string(CITATION.id, lang, instrument, TEMPLATES)

    def cite(pid: str) -> str:
        return citation_string(pid, lang, instrument, TEMPLATES)

    out = render.sources_html([CITATION], UIS[lang], lang, NAMES[lang], "note", cite)
    assert f'<code class="ara-cite">{render.escape_html(formal)}</code>' in out
    assert render.escape_html(UIS[lang]["copy_citation"]) in out
    # no citation string, no field
    assert "ara-cite" not in render.sources_html(
        [CITATION], UIS[lang], lang, NAMES[lang], "note", lambda _: ""
    )


def test_citation_field_is_inert():
    out = render.citation_field("<img src=x onerror=alert(1)> «ст. 13»", UIS["ru"])
    assert "<img" not in out and "&lt;img" in out and "«ст. 13»" in out
    assert render.citation_field("", UIS["ru"]) == ""
