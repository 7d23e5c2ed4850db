"""The web chat's pure pieces: render (user and corpus text comes out inert), runner, server checks.

Markdown is checked by rendering it with markdown-it (CommonMark, as Gradio's renderer) and
comparing the visible text with the input; HTML by looking for any tag or template syntax that did
not come from the renderer itself. Texts are short strings written for these tests.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from assistant.answer.citations import Citation
from assistant.answer.extractive import Answer
from assistant.core.errors import ConfigError, InputError
from assistant.core.prompts import all_templates
from assistant.web import feedback, render, server
from assistant.web.runner import Runner, Session
from tests.helpers import article_provision

ROOT = Path(__file__).resolve().parents[2]
MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])
UIS = {lang: t.section("ui") for lang, t in all_templates(ROOT / "prompts").items()}
NAMES = {lang: t.section("language_names") for lang, t in all_templates(ROOT / "prompts").items()}

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "<script>alert('x')</script>",
    '<a href="javascript:alert(1)">click</a>',
    "![tracker](http://203.0.113.9/pixel.png)",
    "[click](javascript:alert(1))",
    "[ref]: http://203.0.113.9/",
    "**bold** _italic_ `code` ~~struck~~",
    "# heading",
    "1. not a list",
    "- not a list",
    "> not a quote",
    "| a | b |",
    "see https://example.org and www.example.org or a@example.org",
    "<http://example.org>",
    "$x^2$ and $$\\int f$$",
    "&amp; &lt;b&gt; &#x3C;",
    "${alert(1)} {{value}} `${x}`",
    "back\\slash \\*star\\*",
    "Қай конвенция шет мемлекет сотының шешімін орындайды?",
    "Статья 54, п. 1 (a); art. 13(1)",
]


def _visible(rendered: str) -> str:
    """The text a browser would show for markdown-it's output of a single paragraph."""
    assert rendered.startswith("<p>") and rendered.endswith("</p>\n"), rendered
    inner = rendered[3:-5]
    assert "<" not in inner, f"markup leaked: {inner}"
    return html.unescape(inner)


def _titled(text: str, lang: str = "kk"):  # noqa: ANN202
    return article_provision(text, lang, title="<b>Title</b>")


@pytest.mark.parametrize("text", HOSTILE)
def test_escape_markdown_renders_to_exactly_the_text(text):
    out = render.escape_markdown(text)
    assert _visible(MD.render(out)) == text
    assert "<" not in out and ">" not in out
    # GFM autolinks (marked, in the browser) match on raw `://`, `www.` and `x@y.z`: all broken up.
    assert "://" not in out and "www." not in out and not re.search(r"\w@\w", out)


@pytest.mark.parametrize("text", HOSTILE)
def test_escape_html_leaves_no_tag_or_template(text):
    out = render.escape_html(text)
    assert not re.search(r"[<>`$]|\{|\}", out)
    assert html.unescape(out) == text


def test_control_characters_and_carriage_returns_are_dropped():
    assert render.escape_html("a\x00b\r\nc\x1b") == "ab\nc"
    assert render.escape_markdown("a\rb") == "a\nb"


ANSWER_TEXT = (
    "Lead sentence about <b>A</b> and [B](http://x.example).\n\n"
    "> 1. First paragraph ![img](http://x.example/i.png)\n"
    "> … a) an item with **stars** <script>x</script>\n"
    ">\n"
    "> — **Test Convention, Art. 5(1)(a)**  \n"
    "> (quoted in another language)\n\n"
    "**Commentary:**\n\n"
    "> # not a heading\n"
    ">\n"
    "> — **Research article, Introduction, para. 2**"
)


def test_answer_markdown_keeps_its_structure_and_nothing_else():
    out = render.answer_markdown(ANSWER_TEXT)
    rendered = MD.render(out)
    tags = re.findall(r"<(/?\w+)", rendered)
    assert set(tags) <= {"p", "/p", "blockquote", "/blockquote", "strong", "/strong", "br"}
    assert rendered.count("<blockquote>") == 2
    strongs = re.findall(r"<strong>(.*?)</strong>", rendered)
    assert [html.unescape(s) for s in strongs] == [
        "Test Convention, Art. 5(1)(a)",
        "Commentary:",
        "Research article, Introduction, para. 2",
    ]
    visible = html.unescape(re.sub(r"<[^>]+>", "", rendered))
    for literal in (
        "<b>A</b>",
        "[B](http://x.example)",
        "![img](",
        "**stars**",
        "<script>x</script>",
        "# not",
    ):
        assert literal in visible
    assert "1. First paragraph" in visible  # not turned into a list


# A leading `>` is the one piece of structure answer.render writes that a refusal could start with.
@pytest.mark.parametrize("text", [t for t in HOSTILE if not t.startswith(">")])
def test_answer_markdown_of_a_refusal_is_plain_text(text):
    assert _visible(MD.render(render.answer_markdown(text))) == text


def test_a_quote_line_starting_with_a_bracket_stays_inside_the_quote():
    out = render.answer_markdown("> > nested?\n> <i>x</i>")
    rendered = MD.render(out)
    assert rendered.count("<blockquote>") == 1 and "<i>" not in rendered


def test_progressive_grows_by_paragraph_and_ends_with_the_whole():
    md = render.answer_markdown(ANSWER_TEXT)
    steps = render.progressive(md)
    assert steps[-1] == md
    assert all(b.startswith(a) for a, b in zip(steps, steps[1:], strict=False))
    assert len(steps) == md.count("\n\n") + 1


def _citation(**kw) -> Citation:
    base = dict(
        id="test:5.1.a",
        instrument="test",
        article="5",
        title="Title <em>x</em>",
        label="Test <img src=x onerror=alert(1)>, Art. 5",
        quote="1. First line ${alert(1)}\n<script>alert(2)</script>",
        source_lang="ru",
        role="provision",
    )
    base.update(kw)
    return Citation(**base)


def _tags(fragment: str) -> set[str]:
    return set(re.findall(r"<(\w+)", fragment))


ALLOWED_TAGS = {"div", "h3", "h4", "p", "ol", "li", "code", "blockquote", "br"}


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_sources_panel_escapes_everything_and_shows_each_citation(lang):
    cits = [_citation(), _citation(id="test:6", article="6", role="commentary", source_lang=lang)]
    out = render.sources_html(cits, UIS[lang], lang, NAMES[lang], "Unofficial <copies>")
    assert _tags(out) <= ALLOWED_TAGS
    assert "${" not in out and "<img" not in out and "<script" not in out and "<em" not in out
    assert "&lt;img src=x onerror=alert(1)&gt;" in out
    assert out.count('class="ara-source"') == 2
    assert UIS[lang]["sources"] in out and "Unofficial &lt;copies&gt;" in out
    # the other-language note only for the citation whose text is not in the answer language
    note = render.escape_html(UIS[lang]["source_language"].format(language=NAMES[lang]["ru"]))
    assert (note in out) == (lang != "ru")
    assert render.escape_html(UIS[lang]["source_commentary"]) in out


def test_sources_panel_without_citations_says_where_they_will_appear():
    out = render.sources_html([], UIS["en"], "en", NAMES["en"], "note")
    assert UIS["en"]["sources_empty"] in out and "ara-source-list" not in out


def test_article_panel_shows_each_paragraph_escaped():
    out = render.article_html(_titled("1. One <i>a</i>\n\n2. Two ${x}"), "Test, Art. 5", UIS["en"], "no kk")
    assert out.count("<p>") == 2 and _tags(out) <= ALLOWED_TAGS
    assert "&lt;b&gt;Title&lt;/b&gt;" in out and "no kk" in out and "${" not in out


def test_article_panel_empty_state():
    assert UIS["ru"]["article_empty"] in render.article_html(None, "", UIS["ru"])


def test_article_choices_once_per_article_in_citation_order():
    cits = [_citation(id="a:5.1"), _citation(id="a:5.2"), _citation(id="b:7", instrument="b", article="7")]
    cits[0] = _citation(id="a:5.1", instrument="a")
    cits[1] = _citation(id="a:5.2", instrument="a")
    choices = render.article_choices(cits, lambda aid, lang: f"{aid}@{lang}", "kk")
    assert choices == [("a:5@kk", "a:5"), ("b:7@kk", "b:7")]


@pytest.mark.parametrize(
    "available, wanted, expected",
    [
        (["kk", "ru", "en"], "kk", "kk"),
        (["ru", "en"], "kk", "ru"),
        (["en"], "kk", "en"),
        (["kk"], "en", "kk"),
        (["kk", "en"], None, "en"),
        ([], "kk", None),
    ],
)
def test_choose_version(available, wanted, expected):
    assert render.choose_version(available, wanted) == expected


@pytest.mark.parametrize(
    "header, expected",
    [
        ("kk-KZ,kk;q=0.9,ru;q=0.8", "kk"),
        ("en-US,en;q=0.9", "en"),
        ("de-DE,de;q=0.9,ru;q=0.5,en;q=0.7", "en"),
        ("ru;q=0.3, kk;q=0.6", "kk"),
        ("fr-FR", None),
        ("en;q=0", None),
        ("ru;q=bad, en", "en"),
        ("", None),
        (None, None),
    ],
)
def test_browser_language(header, expected):
    assert render.browser_language(header) == expected


@pytest.mark.parametrize(
    "choice, answer_lang, browser, expected",
    [
        ("ru", "kk", "en", "ru"),
        ("auto", "kk", "en", "kk"),
        ("auto", None, "en", "en"),
        ("auto", None, None, "kk"),
        ("bogus", None, "ru", "ru"),
    ],
)
def test_ui_language(choice, answer_lang, browser, expected):
    assert render.ui_language(choice, answer_lang, browser) == expected


@pytest.mark.parametrize("code, expected", [("auto", "auto"), ("kk", "kk"), (" RU ", "ru"), ("en", "en")])
def test_language_codes_accepted(code, expected):
    assert render.check_language_code(code) == expected


@pytest.mark.parametrize("code", ["de", "", "kz", "russian", None, 1])
def test_unknown_language_code_names_the_valid_ones(code):
    with pytest.raises(InputError, match="auto, kk, ru, en"):
        render.check_language_code(code)


@pytest.mark.parametrize(
    "value, expected",
    [(None, None), ("", None), ("ann:secret", ("ann", "secret")), ("ann:a:b", ("ann", "a:b"))],
)
def test_parse_auth(value, expected):
    assert server.parse_auth(value) == expected


@pytest.mark.parametrize("value", ["nocolon", ":pw", "user:"])
def test_parse_auth_rejects_half_credentials(value):
    with pytest.raises(ConfigError, match="user:password"):
        server.parse_auth(value)


@pytest.mark.parametrize(
    "host, expected",
    [("127.0.0.1", True), ("::1", True), ("localhost", True), ("0.0.0.0", False), ("example.org", False)],
)
def test_is_loopback(host, expected):
    assert server.is_loopback(host) is expected


@pytest.mark.parametrize("ui_lang", ["kk", "ru", "en"])
def test_examples_always_include_kazakh_and_russian(ui_lang):
    questions = render.example_questions(UIS, ui_lang)
    assert (
        "Қай конвенция шет мемлекет сотының тәркілеу туралы шешімін тікелей орындауға мүмкіндік береді?"
        in questions
    )
    assert any(re.search(r"[ӘәҒғҚқҢңӨөҰұҮүІі]", q) for q in questions)
    assert any(re.search(r"[ыэё]", q) for q in questions)
    assert len(questions) == len(set(questions))
    assert UIS[ui_lang]["examples_list"].strip().splitlines()[0] == questions[0]


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_every_ui_label_is_translated(lang):
    # The same keys everywhere (prompts.py enforces presence); labels differ from English except names.
    assert set(UIS[lang]) == set(UIS["en"])
    if lang != "en":
        same = {k for k in UIS[lang] if UIS[lang][k] == UIS["en"][k]}
        assert same <= {"lang_kk", "lang_ru", "lang_en"}


def test_language_choices_carry_codes_and_translated_auto():
    assert [code for _, code in render.language_choices(UIS["ru"])] == ["auto", "kk", "ru", "en"]
    assert render.language_choices(UIS["ru"])[0][0] == UIS["ru"]["auto"]


def test_feedback_event_records_the_answer_and_a_bounded_comment():
    answer = Answer(
        question="Q?",
        language="ru",
        answer="A",
        refused=False,
        citations=(_citation(id="uncac:54.1.a"),),
    )
    event = feedback.feedback_event(answer, "helpful", "x" * 5000 + "\x00", "kk")
    assert event["rating"] == "helpful" and event["citations"] == ["uncac:54.1.a"]
    assert event["question"] == "Q?" and event["language"] == "ru" and event["ui_language"] == "kk"
    assert len(event["comment"]) == feedback.MAX_COMMENT_CHARS and "\x00" not in event["comment"]
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$", event["ts"])


# ------------------------------------------------------------------------------ the request runner


class _FakeAssistant:
    """Stands in for `Assistant`: answers after `delay` seconds, or raises `error`."""

    def __init__(self, delay: float = 0.0, error: Exception | None = None) -> None:
        self.delay, self.error = delay, error
        self.templates = all_templates(ROOT / "prompts")
        self.calls: list[tuple] = []

    def ask(self, question, history=(), lang="auto"):
        import time

        self.calls.append((question, tuple(history), lang))
        time.sleep(self.delay)
        if self.error:
            raise self.error
        return Answer(question=question, language="en", answer="ok", refused=False)


def test_runner_passes_question_history_and_language():
    fake = _FakeAssistant()
    runner = Runner(fake, workers=2, timeout_s=5)
    answer = runner.ask("Q2", history=["Q1"], lang="ru")
    assert answer.answer == "ok" and fake.calls == [("Q2", ("Q1",), "ru")]
    runner.close()


@pytest.mark.parametrize("lang, expected", [("ru", "ru"), ("kk", "kk"), ("en", "en")])
def test_runner_times_out_with_a_refusal_in_the_language(lang, expected):
    fake = _FakeAssistant(delay=1.0)
    runner = Runner(fake, workers=1, timeout_s=0.05)
    answer = runner.ask("Q", lang=lang)
    assert answer.refused and answer.reason == "timeout" and answer.language == expected
    assert answer.answer == fake.templates[expected].get("refusal.timeout")
    runner.close()


def test_runner_refuses_busy_when_timed_out_work_piles_up():
    fake = _FakeAssistant(delay=1.0)
    runner = Runner(fake, workers=1, timeout_s=0.05)
    reasons = [runner.ask("Q", lang="en").reason for _ in range(3)]
    # One slot per worker runs, one waits; the third finds both taken by timed-out work.
    assert reasons == ["timeout", "timeout", "busy"]
    runner.close()


def test_runner_turns_a_failure_into_the_error_refusal():
    runner = Runner(_FakeAssistant(error=RuntimeError("boom")), workers=1, timeout_s=5)
    answer = runner.ask("Какой договор?", lang="auto")
    assert answer.refused and answer.reason == "error" and answer.language in ("kk", "ru", "en")
    runner.close()


# ------------------------------------------------------------------------------ small render pieces


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a\r\nb", "a\nb"),
        ("a\rb", "a\nb"),
        ("a\x00\x1b\x7fb", "ab"),
        ("tab\tkept\n", "tab\tkept\n"),
        (3, "3"),
    ],
)
def test_clean(text, expected):
    assert render.clean(text) == expected


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_header_and_disclaimer_are_inert(lang):
    header = render.header_markdown({"title": "T <b>", "subtitle": "*s*"})
    assert header == "## T &lt;b&gt;\n\n\\*s\\*"
    assert render.disclaimer_markdown(UIS[lang]["title"] + " [x](y)").startswith("*")
    assert "[x](y)" not in render.disclaimer_markdown("[x](y)")


def test_chat_value_keeps_order_and_roles():
    assert render.chat_value([("user", "q"), ("assistant", "a")]) == [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "a"},
    ]
    assert render.chat_value([]) == []


@pytest.mark.parametrize(
    "shown, available, wanted, expected",
    [
        (None, [], "kk", ""),  # nothing shown: no note
        ("p", ["kk", "ru"], "kk", ""),  # the wanted version exists
        ("p", ["ru", "en"], "kk", "Kazakh"),  # shown in another language: say which one is missing
        ("p", ["ru"], "xx", "xx"),  # a language without a name shows its code
    ],
)
def test_version_note(shown, available, wanted, expected):
    ui = {"version_missing": "no {language} version"}
    note = render.version_note(shown, available, wanted, ui, {"kk": "Kazakh"})
    assert note == (f"no {expected} version" if expected else "")


@pytest.mark.parametrize(
    "available, expected",
    [(["en", "kk"], ["kk", "en"]), (["ru"], ["ru"]), ([], []), (["de", "ru"], ["ru"])],
)
def test_version_choices_in_interface_order(available, expected):
    choices = render.version_choices(available, UIS["en"])
    assert [code for _, code in choices] == expected
    assert all(label == UIS["en"][f"lang_{code}"] for label, code in choices)


# ------------------------------------------------------------------------------ the session


def _answer(*cits: Citation, language: str = "ru") -> Answer:
    return Answer(question="Q", language=language, answer="A", refused=False, citations=cits)


@pytest.mark.parametrize(
    "before, keep, expected",
    [((), 3, ("new",)), (("a", "b", "c"), 3, ("b", "c", "new")), (("a",), 0, ()), (("a",), 1, ("new",))],
)
def test_session_keeps_the_last_questions_as_history(before, keep, expected):
    s = Session(questions=before).answered(
        "new", ("user", "new"), _answer(), "A", keep=keep, versions_of=lambda _a: {}
    )
    assert s.questions == expected


@pytest.mark.parametrize(
    "cits, versions, expected_article, expected_version",
    [
        ((), {"ru": 1}, None, None),  # no citation: the article panel stays empty
        ((_citation(),), {"ru": 1, "en": 1}, "test:5", "ru"),  # the answer's language
        ((_citation(),), {"kk": 1, "en": 1}, "test:5", "en"),  # else ru, en, kk
        ((_citation(), _citation(id="b:7", instrument="b", article="7")), {}, "test:5", None),
    ],
)
def test_session_after_an_answer_shows_the_first_cited_article(
    cits, versions, expected_article, expected_version
):
    asked_for: list[str] = []

    def versions_of(article_id):
        asked_for.append(article_id)
        return versions

    before = Session(messages=(("user", "old"), ("assistant", "old answer")), browser_lang="en")
    answer = _answer(*cits)
    s = before.answered("Q", ("user", "Q"), answer, "A!", keep=5, versions_of=versions_of)
    assert s.article == expected_article and s.version == expected_version
    assert asked_for == ([expected_article] if expected_article else [])
    assert s.messages == (*before.messages, ("user", "Q"), ("assistant", "A!"))
    assert s.last is answer and s.answer_lang == "ru" and s.browser_lang == "en"


def test_cleared_session_remembers_only_the_languages():
    full = Session(
        questions=("q",),
        messages=(("user", "q"),),
        last=_answer(),
        answer_lang="ru",
        browser_lang="en",
        article="a:1",
        version="ru",
    )
    assert full.cleared() == Session(answer_lang="ru", browser_lang="en")
