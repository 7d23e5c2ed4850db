"""Exported memos read back: DOCX with python-docx, PDF with pypdf, Markdown parsed; conversation files;
the feedback report; the CLI's `export` and `feedback report`. Texts here are written for the tests."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path

import pytest
import yaml

from assistant.answer.citations import Citation
from assistant.answer.extractive import Answer
from assistant.answer.topical import ComparedProvision, Comparison, ComparisonRow
from assistant.cli import main
from assistant.core.errors import InputError
from assistant.core.prompts import all_templates
from assistant.corpus.manifest import load_manifest
from assistant.corpus.provisions import Provision
from assistant.export import conversation as conv_mod
from assistant.export.conversation import Conversation, parse_conversation
from assistant.export.feedback_report import questions_yaml, summarise, to_html, to_markdown
from assistant.export.memo import export_comparison, export_conversation

ROOT = Path(__file__).resolve().parents[2]
T = all_templates(ROOT / "prompts")
MANIFEST = load_manifest(ROOT / "corpus" / "sources.toml")
KK_LETTERS = "әғқңөұүі"
TODAY = dt.date(2025, 6, 11)

QUOTE_KK = (
    "Тарап өзінің ішкі құқығына сәйкес тәркілеу туралы шешімді орындау үшін қажетті шараларды қабылдайды."
)
QUOTE_RU = "Сторона принимает меры, необходимые для исполнения решения о конфискации."


def _citation(pid: str, lang: str, quote: str, summary: str = "") -> Citation:
    instrument, _, rest = pid.partition(":")
    return Citation(
        id=pid,
        instrument=instrument,
        article=rest.split(".")[0],
        title="",
        label=f"label of {pid}",
        quote=quote,
        source_lang=lang,
        summary=summary,
    )


def _answer(question: str, lang: str, cites: tuple[Citation, ...]) -> Answer:
    body = f"Жауап: {cites[0].label if cites else ''}.\n\n> {cites[0].quote if cites else ''}\n>\n> — **x**\n\n- бірінші тармақ\n- екінші тармақ"
    return Answer(question=question, language=lang, answer=body, refused=False, citations=cites)


CONV = Conversation(
    language="kk",
    turns=(
        _answer(
            "Страсбург конвенциясы бойынша тәркілеу қалай орындалады?",
            "kk",
            (
                _citation(
                    "strasbourg1990:13.1.a", "kk", QUOTE_KK, summary="Сұрау салынған Тарап шешімді орындайды."
                ),
                _citation("uncac:57.1", "ru", QUOTE_RU),
            ),
        ),
        _answer("Ал БҰҰ конвенциясы ше?", "kk", (_citation("uncac:54.1.a", "kk", QUOTE_KK),)),
    ),
    created="2025-06-11T09:00:00+00:00",
    corpus_version="ab" * 32,
)


class _Store:
    """The one ProvisionStore method memos use."""

    def get(self, pid, lang, fallback=("ru", "en", "kk")):  # noqa: ANN001, ANN201
        inst, _, art = pid.partition(":")
        return Provision(
            pid,
            inst,
            lang,
            "article",
            art,
            None,
            None,
            "Тақырып",
            "",
            f"{QUOTE_KK}\n\nЕкінші абзац {art}.",
            "",
        )


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _all_cites(c: Conversation) -> list[Citation]:
    return [x for turn in c.turns for x in turn.citations]


def test_docx_has_real_structure_and_kazakh_letters():
    from docx import Document

    doc = Document(io.BytesIO(export_conversation(CONV, "docx", T, manifest=MANIFEST, today=TODAY)))
    paras = doc.paragraphs
    headings = [p for p in paras if p.style.name.startswith("Heading") or p.style.name == "Title"]
    assert headings[0].text == T["kk"].get("export.title_conversation")
    assert {p.text for p in headings} >= {"1-сұрақ", "2-сұрақ", T["kk"].get("export.sources")}
    quotes = [p.text for p in paras if p.style.name == "Quote"]
    for c in _all_cites(CONV):
        assert any(c.label == p.text for p in headings)
        assert c.quote in quotes
    assert any(p.style.name == "List Bullet" for p in paras)
    text = "\n".join(p.text for p in paras)
    assert all(ch in text for ch in KK_LETTERS)
    assert T["kk"].get("answer.disclaimer") in text and "ab" * 32 in text and "2025-06-11" in text
    assert T["kk"].get("export.summary") in text  # the editorial summary is marked as such
    assert "13-бабы 1-тармағының" in text  # the formal Kazakh citation


def test_pdf_text_has_every_label_and_quote_opening():
    from pypdf import PdfReader

    data = export_conversation(CONV, "pdf", T, manifest=MANIFEST, today=TODAY)
    assert data.startswith(b"%PDF")
    text = _norm(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))
    for c in _all_cites(CONV):
        assert c.label in text
        assert " ".join(c.quote.split()[:5]) in text
    assert T["kk"].get("export.title_conversation") in text
    assert "Сұрау салынған Тарап" in text  # summaries and Kazakh letters survive the font
    assert _norm(T["kk"].get("answer.disclaimer")) in text


def test_markdown_parses_into_headings_quotes_and_lists():
    from markdown_it import MarkdownIt

    md = export_conversation(CONV, "md", T, manifest=MANIFEST, today=TODAY).decode("utf-8")
    tokens = MarkdownIt().parse(md)
    tags = [(t.type, t.tag) for t in tokens]
    assert tags.count(("heading_open", "h1")) == 1
    assert tags.count(("heading_open", "h2")) == 2  # one per turn
    assert tags.count(("blockquote_open", "blockquote")) >= len(_all_cites(CONV)) + len(CONV.turns)
    assert ("bullet_list_open", "ul") in tags
    inline = " ".join(t.content for t in tokens if t.type == "inline")
    for c in _all_cites(CONV):
        assert c.label in inline and c.quote in inline


def test_whole_articles_are_added_on_request():
    plain = export_conversation(CONV, "md", T, manifest=MANIFEST, today=TODAY).decode()
    whole = export_conversation(
        CONV, "md", T, manifest=MANIFEST, store=_Store(), whole_articles=True
    ).decode()
    head = T["kk"].get("export.whole_article")
    assert head not in plain
    assert whole.count(f"{head}: strasbourg1990:13") == 1 and "Екінші абзац 13." in whole
    with pytest.raises(InputError):
        export_conversation(CONV, "md", T, whole_articles=True)


def test_comparison_exports_in_three_formats():
    from docx import Document
    from pypdf import PdfReader

    row = ComparisonRow(
        "uncac",
        "UNCAC",
        (ComparedProvision("uncac:54.1", "UNCAC, Art. 54(1)", "brief", QUOTE_RU, "ru", "1"),),
        False,
        True,
    )
    none = ComparisonRow("vclt1969", "VCLT", (), True, True)
    cmp_ = Comparison("confiscation", "Confiscation", "en", (row, none))
    md = export_comparison(cmp_, "md", T).decode()
    assert "| UNCAC | UNCAC, Art. 54(1) | brief |" in md and f"> {QUOTE_RU}" in md
    doc = Document(io.BytesIO(export_comparison(cmp_, "docx", T)))
    assert doc.tables and doc.tables[0].rows[1].cells[0].text == "UNCAC"
    pdf = _norm(PdfReader(io.BytesIO(export_comparison(cmp_, "pdf", T))).pages[0].extract_text())
    assert "UNCAC, Art. 54(1)" in pdf and "Сторона принимает меры" in pdf


# ------------------------------------------------------------------------------------ conversation files


def test_conversation_round_trips_and_a_bare_answer_is_one_turn():
    back = parse_conversation(CONV.to_json().encode())
    assert back == CONV
    one = parse_conversation(json.dumps(CONV.turns[0].to_dict(), ensure_ascii=False).encode())
    assert one.language == "kk" and len(one.turns) == 1


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\xff\xfe{}", "not UTF-8"),
        (b"{not json", "not valid JSON"),
        (b"[]", "JSON object"),
        (b'{"language": "de", "turns": []}', "'language'"),
        (b'{"language": "ru", "turns": {}}', "'turns' must be a list"),
        (b'{"language": "ru", "turns": [{"question": "q"}]}', "missing 'answer'"),
        (
            b'{"language": "ru", "turns": [{"question": "q", "answer": "a", "citations": [{"id": "x"}]}]}',
            "citation 1",
        ),
        (b'{"language": "ru", "turns": [], "extra": 1}', "unknown key"),
    ],
)
def test_bad_conversation_files_get_one_line_errors(raw, message):
    with pytest.raises(InputError) as err:
        parse_conversation(raw, "c.json")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_too_large_and_empty(monkeypatch, tmp_path):
    monkeypatch.setattr(conv_mod, "MAX_BYTES", 100)
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"language": "ru", "turns": [], "created": "x" * 200}))
    with pytest.raises(InputError, match="too large"):
        conv_mod.load_conversation(big)
    with pytest.raises(InputError, match="nothing to export"):
        export_conversation(Conversation("ru", ()), "md", T)


# ------------------------------------------------------------------------------------ CLI


def test_cli_export_writes_each_format_and_refuses_bad_input(tmp_path, capsys):
    src = tmp_path / "conv.json"
    src.write_text(CONV.to_json(), encoding="utf-8")
    for fmt in ("md", "docx", "pdf"):
        out = tmp_path / f"memo.{fmt}"
        assert main(["export", str(src), "--out", str(out)]) == 0
        assert out.stat().st_size > 500
    (tmp_path / "empty.json").write_text('{"language": "en", "turns": []}')
    assert (
        main(["export", str(tmp_path / "empty.json"), "--format", "md", "--out", str(tmp_path / "e.md")]) == 2
    )
    assert "nothing to export" in capsys.readouterr().err
    assert main(["export", str(src), "--out", str(tmp_path / "memo.txt")]) == 2
    assert main(["export", str(tmp_path / "missing.json"), "--out", str(tmp_path / "m.md")]) == 2
    assert main(["export", str(src), "--out", str(tmp_path / "no" / "dir" / "m.md")]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 3 and len(err.strip().splitlines()) == 3


# ------------------------------------------------------------------------------------ feedback report

EVENTS = [
    {
        "ts": "2025-05-30T10:00:00+00:00",
        "rating": "not_helpful",
        "question": "старый вопрос",
        "language": "ru",
        "citations": [],
    },
    {
        "ts": "2025-06-02T10:00:00+00:00",
        "rating": "not_helpful",
        "comment": "нет ссылки на статью",
        "question": "Қайтару тәртібі қандай?",
        "language": "kk",
        "citations": ["uncac:57.1"],
        "refused": False,
    },
    {
        "ts": "2025-06-02T11:00:00+00:00",
        "rating": "not_helpful",
        "question": "Қайтару тәртібі қандай?",
        "language": "kk",
        "citations": [],
    },
    {
        "ts": "2025-06-03T10:00:00+00:00",
        "rating": "helpful",
        "question": "q",
        "language": "en",
        "citations": ["uncac:54"],
    },
]


def test_feedback_summary_counts_and_since():
    s = summarise(EVENTS, dt.date(2025, 6, 1))
    assert (
        s.total == 3
        and s.by_language == {"en": 1, "kk": 2}
        and s.by_rating == {"helpful": 1, "not_helpful": 2}
    )
    assert len(s.not_helpful) == 2 and summarise(EVENTS).total == 4
    md = to_markdown(s)
    assert "нет ссылки на статью" in md and "uncac:57.1" in md and "старый вопрос" not in md
    html = to_html(s)
    assert html.startswith("<!doctype html>") and "Қайтару тәртібі қандай?" in html


def test_draft_questions_yaml_is_valid_and_left_for_curators():
    entries = yaml.safe_load(questions_yaml(summarise(EVENTS).not_helpful))
    assert [e["question"] for e in entries] == [
        "старый вопрос",
        "Қайтару тәртібі қандай?",
    ]  # one entry per question
    for e in entries:
        assert e["kind"] == "" and e["split"] == "" and e["expect"] == {"cite": []}
        assert re.fullmatch(r"q\d+", e["id"])


def test_cli_feedback_report(tmp_path, capsys):
    log = tmp_path / "feedback.jsonl"
    log.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in EVENTS), encoding="utf-8")
    assert main(["feedback", "report", "--log", str(log), "--since", "2025-06-01"]) == 0
    assert "## Not helpful (2)" in capsys.readouterr().out
    out = tmp_path / "r.html"
    assert main(["feedback", "report", "--log", str(log), "--format", "html", "--out", str(out)]) == 0
    assert "<h1>Feedback report</h1>" in out.read_text(encoding="utf-8")
    assert main(["feedback", "report", "--log", str(log), "--since", "June"]) == 2
