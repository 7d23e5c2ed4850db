"""The Compare, treaty-browser and link pieces of render.py: pure functions, table-driven.

Texts are short strings written for these tests; hostile ones must come out as text.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from assistant.answer.topical import ComparedProvision, Comparison, ComparisonRow
from assistant.core.prompts import all_templates
from assistant.corpus.provisions import Provision
from assistant.web import render

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = all_templates(ROOT / "prompts")
UIS = {lang: t.section("ui") for lang, t in TEMPLATES.items()}
HOSTILE = "<img src=x onerror=alert(1)> ${x} `y`"


def _comparison(quote: str = "a) enforce the order;\nor") -> Comparison:
    p = ComparedProvision("x:13.1.a", "X, Art. 13(1)(a)", "Enforces the order.", quote, "en", "main")
    return Comparison(
        "direct-enforcement",
        "Direct enforcement",
        "en",
        (
            ComparisonRow("x", "Convention X", (p,), none=False, mapped=True),
            ComparisonRow("y", "Treaty Y", (), none=True, mapped=True),
            ComparisonRow("z", "Treaty Z", (), none=False, mapped=False),
        ),
    )


def _provision(lang: str, text: str, title: str = "Obligation") -> Provision:
    return Provision("x:13", "x", lang, "article", "13", None, None, title, "", text, "x.txt")


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_comparison_table_marks_summaries_and_folds_quotes(lang):
    words = TEMPLATES[lang].section("compare")
    out = render.comparison_html(_comparison(), UIS[lang], words, TEMPLATES[lang].get("topic.summary_note"))
    assert out.count("<tr data-instrument=") == 3
    assert UIS[lang]["compare_summary"] in out and "Enforces the order." in out
    assert (
        f'<details class="ara-quote"><summary>{render.escape_html(UIS[lang]["compare_quote"])}</summary>'
        in out
    )
    assert "a) enforce the order;<br>or" in out
    assert render.escape_html(words["none"]) in out and render.escape_html(words["unmapped"]) in out
    assert render.escape_html(TEMPLATES[lang].get("topic.summary_note")) in out


def test_comparison_table_is_inert():
    out = render.comparison_html(_comparison(HOSTILE), UIS["en"], TEMPLATES["en"].section("compare"), HOSTILE)
    assert "<img" not in out and "${" not in out and "`" not in out


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_no_comparison_says_what_to_do(lang):
    assert render.escape_html(UIS[lang]["compare_empty"]) in render.comparison_html(None, UIS[lang], {}, "")


@pytest.mark.parametrize(
    ("titles", "lang", "expected"),
    [
        (
            {"b": {"en": "Bank secrecy"}, "a": {"en": "Asset sharing"}},
            "en",
            [("Asset sharing", "a"), ("Bank secrecy", "b")],
        ),
        ({"a": {"ru": "Я"}, "b": {"ru": "а"}}, "ru", [("а", "b"), ("Я", "a")]),
        ({"a": {}}, "kk", [("a", "a")]),
    ],
)
def test_topic_choices_sorted_by_title(titles, lang, expected):
    assert render.topic_choices(titles, lang) == expected


def test_instrument_choices_keep_display_order():
    names = {"uncac": {"en": "UNCAC"}, "strasbourg1990": {"en": "Strasbourg"}}
    assert render.instrument_choices(["strasbourg1990", "uncac", "new"], names, "en") == [
        ("Strasbourg", "strasbourg1990"),
        ("UNCAC", "uncac"),
        ("new", "new"),
    ]


@pytest.mark.parametrize(
    ("title", "expected"),
    [("Scope", "X 13 — Scope"), ("", "X 13"), ("Two\nlines", "X 13 — Two lines")],
)
def test_toc_choices(title, expected):
    assert render.toc_choices(["x:13"], lambda a, lang: "X 13", lambda a: title, "en") == [(expected, "x:13")]


@pytest.mark.parametrize(
    ("available", "wanted", "order"),
    [("kk ru en", "ru", ["ru", "kk", "en"]), ("ru en", "kk", ["ru", "en"]), ("kk", "en", ["kk"])],
)
def test_provision_versions_side_by_side_wanted_first(available, wanted, order):
    versions = {lang: _provision(lang, f"text {lang}") for lang in available.split()}
    out = render.provision_html("X, Art. 13", versions, ["Direct enforcement"], UIS["en"], wanted)
    shown = [part.split('"')[0] for part in out.split('class="ara-version" lang="')[1:]]
    assert shown == order
    assert "Direct enforcement" in out and UIS["en"]["browse_topics"] in out


def test_provision_html_is_inert_and_without_topics_has_no_list():
    out = render.provision_html(HOSTILE, {"en": _provision("en", HOSTILE, HOSTILE)}, [], UIS["en"], "en")
    assert "<img" not in out and "${" not in out and "ara-topics" not in out


@pytest.mark.parametrize(
    ("wanted", "ids", "expected"),
    [
        (
            "strasbourg1990:13.9.z",
            ["uncac:13.1", "strasbourg1990:13.1.a", "strasbourg1990:13.1"],
            {"strasbourg1990:13.1.a", "strasbourg1990:13.1"},
        ),
        ("uncac:54.1.x", ["vienna1988:5", "uncac:54.1.a", "uncac:54.1.b"], {"uncac:54.1.a", "uncac:54.1.b"}),
        ("nothing-like-it", ["uncac:1"], set()),
    ],
)
def test_nearest_ids_of_the_same_instrument_first(wanted, ids, expected):
    found = render.nearest_ids(wanted, ids)
    assert set(found[: len(expected)]) == expected


def test_not_found_names_the_id_and_the_nearest():
    out = render.not_found_html("x:<b>", ["x:1", "x:2"], UIS["ru"])
    assert render.escape_html(UIS["ru"]["browse_not_found"].format(id="x:<b>")) in out
    assert "<code>x:1</code>" in out and "<b>" not in out


@pytest.mark.parametrize(
    ("base", "question", "lang", "query"),
    [
        ("http://127.0.0.1:7860/", "Что такое UNCAC?", "ru", {"q": ["Что такое UNCAC?"], "lang": ["ru"]}),
        ("http://h/app/?q=old&lang=kk#x", "a&b=c", "auto", {"q": ["a&b=c"]}),
        ("/", "13-бап Страсбург", "kk", {"q": ["13-бап Страсбург"], "lang": ["kk"]}),
    ],
)
def test_question_link_round_trips(base, question, lang, query):
    link = render.question_link(base, question, lang)
    assert link.startswith(base.split("?")[0].split("#")[0]) and parse_qs(urlsplit(link).query) == query
    q, p, got = render.link_params({k: v[0] for k, v in query.items()})
    assert (q, p, got) == (question, None, lang if lang != "auto" else None)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"p": " uncac:54.1.a ", "lang": "KK"}, (None, "uncac:54.1.a", "kk")),
        ({"q": "  ", "lang": "de"}, (None, None, None)),
        ({}, (None, None, None)),
    ],
)
def test_link_params(query, expected):
    assert render.link_params(query) == expected


# ------------------------------------------------------------------------------ documents


def _report(**overrides):  # noqa: ANN003, ANN202
    from assistant.corpus.user import ArticleRow

    values = {
        "instrument": "bilateral-peru",
        "lang": "ru",
        "detected_lang": "ru",
        "source": "peru.docx",
        "format": "docx",
        "size": 4096,
        "sha256": "0" * 64,
        "pages": 0,
        "provisions": 7,
        "articles": (ArticleRow("1", 3, "Стороны оказывают"), ArticleRow("2", 4, HOSTILE)),
        "gaps": (),
        "duplicates": (),
        "outside": (ArticleRow("preamble", 1, "Республика Казахстан"),),
        "repairs": "none",
        "warnings": ("one warning",),
    }
    return _ParseReport(**{**values, **overrides})


from assistant.corpus.user import InstrumentRow  # noqa: E402
from assistant.corpus.user import ParseReport as _ParseReport  # noqa: E402


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_report_table_has_a_row_per_article_and_outside_text(lang):
    out = render.report_html(_report(), UIS[lang])
    assert out.count("<tr><td>") == 3
    for header in UIS[lang]["docs_columns"].split("|"):
        assert f"<th>{render.escape_html(header)}</th>" in out
    assert "Стороны оказывают" in out and "preamble" in out and "warning: one warning" in out
    assert "<img" not in out and "${" not in out


def test_no_report_says_what_to_do():
    assert render.escape_html(UIS["en"]["docs_report_empty"]) in render.report_html(None, UIS["en"])


def test_instrument_list_puts_user_documents_first():
    rows = [
        InstrumentRow("uncac", "UNCAC", "bundled", ("en", "ru"), {"en": 300, "ru": 310}, {}),
        InstrumentRow("bilateral-peru", HOSTILE, "user", ("ru",), {"ru": 7}, {}),
    ]
    out = render.instruments_html(rows, UIS["ru"])
    assert out.index('data-id="bilateral-peru"') < out.index('data-id="uncac"')
    assert "ru:7" in out and "en:300 ru:310" in out and "<img" not in out


@pytest.mark.parametrize(
    ("auth", "admins", "host", "user", "allowed"),
    [
        (None, "", "127.0.0.1", None, True),  # local, no login: the single user
        (None, "", "0.0.0.0", None, False),  # open to the network without a login: nobody
        ("ana:pw", "", "127.0.0.1", "ana", False),  # a login, but no admins named
        ("ana:pw", "ana, bo", "0.0.0.0", "ana", True),
        ("ana:pw", "bo", "0.0.0.0", "ana", False),
        ("ana:pw", "ana", "0.0.0.0", None, False),
    ],
)
def test_who_may_manage_documents(auth, admins, host, user, allowed):
    from assistant.core.settings import Settings
    from assistant.web.server import may_manage_documents

    settings = Settings(auth=auth, admins=admins, host=host)
    assert may_manage_documents(settings, user) is allowed


def _call(middleware, path: str, size: int) -> int:  # noqa: ANN001
    """Send one POST of `size` bytes through `middleware`; the status it answers."""
    import asyncio

    sent: list[dict] = []

    async def app(scope, receive, send):  # noqa: ANN001, ANN202
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive():  # noqa: ANN202
        return {"type": "http.request", "body": b"x" * size, "more_body": False}

    async def send(message):  # noqa: ANN001, ANN202
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "headers": [(b"content-length", str(size).encode())],
    }
    asyncio.run(middleware(app, scope, receive, send))
    return sent[0]["status"]


@pytest.mark.parametrize(
    ("path", "size", "may_upload", "status"),
    [
        ("/gradio_api/queue/join", 2_000, True, 413),  # the 1 MB (here 1 KB) limit everywhere else
        ("/gradio_api/upload", 2_000, True, 200),  # the document limit on the upload route
        ("/gradio_api/upload", 20_000, True, 413),
        ("/gradio_api/upload", 10, False, 403),  # no uploads for those who may not add documents
        ("/gradio_api/queue/join", 10, False, 200),
    ],
)
def test_body_limit_on_the_upload_route(path, size, may_upload, status):
    from assistant.web.server import BodyLimit

    def middleware(app, scope, receive, send):  # noqa: ANN001, ANN202
        limit = BodyLimit(app, max_bytes=1_024, upload_bytes=10_000, may_upload=lambda _scope: may_upload)
        return limit(scope, receive, send)

    assert _call(middleware, path, size) == status


def test_reload_drops_the_index_and_what_was_derived_from_it():
    from assistant.core.settings import Settings
    from assistant.pipeline import Assistant

    a = Assistant(Settings())
    a._index = object()
    a.__dict__.update({name: object() for name in Assistant._INDEX_DERIVED})
    a.__dict__["templates"] = kept = object()
    a.reload()
    assert a._index is None and not set(Assistant._INDEX_DERIVED) & set(a.__dict__)
    assert a.__dict__["templates"] is kept


# ------------------------------------------------------------------------------ feedback review


def test_feedback_report_for_admins_only_and_inert(tmp_path):
    from assistant.web.feedback import append_event
    from assistant.web.views import FeedbackView

    log = tmp_path / "feedback.jsonl"
    event = {"ts": "2026-12-01T10:00:00+00:00", "rating": "not_helpful", "comment": HOSTILE, "language": "ru"}
    append_event(log, {**event, "question": "Что такое ${x}?", "citations": ["uncac:54.1.a"]})
    append_event(log, {**event, "ts": "2026-11-01T10:00:00+00:00", "rating": "helpful", "question": "old"})
    view = FeedbackView(page=None, uis=UIS, log=log)  # type: ignore[arg-type] - show() needs no components

    out = view.show("", "ru", allowed=True)
    assert "uncac:54.1.a" in out and "<style" not in out and "<head" not in out
    assert "${" not in out and "<img" not in out and "`" not in out
    assert "2 event(s)" in out
    assert "1 event(s)" in view.show("2026-11-15", "ru", allowed=True)
    assert "YYYY-MM-DD" in view.show("yesterday", "ru", allowed=True)
    assert (
        view.show("", "kk", allowed=False)
        == f'<p class="ara-empty">{render.escape_html(UIS["kk"]["docs_forbidden"])}</p>'
    )
