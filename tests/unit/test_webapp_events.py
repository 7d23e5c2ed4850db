"""The web app's wiring, without a model: every event's handler returns only updates for components
that event lists as outputs, and `refresh` re-renders exactly the page's rendered components.

A fake `Assistant` (the real prompts, a tiny store, a fixed answer) stands in, so the Blocks app is
built in a second; handlers are called directly with the values the browser would send.
"""

from __future__ import annotations

import inspect
import types
from dataclasses import fields
from pathlib import Path

import pytest

from assistant.answer.citations import Citation
from assistant.answer.extractive import Answer
from assistant.core.prompts import all_templates
from assistant.core.settings import Settings
from assistant.corpus.provisions import Provision
from assistant.web.feedback import FILENAME, read_events
from assistant.web.runner import Session
from tests.helpers import article_provision

pytest.importorskip("gradio")

ROOT = Path(__file__).resolve().parents[2]
CITATION = Citation(
    id="test:5.1",
    instrument="test",
    article="5",
    title="T",
    label="Test, Art. 5",
    quote="q",
    source_lang="ru",
    role="provision",
)


class _Store:
    ids = frozenset({"test:5"})

    def __contains__(self, provision_id: str) -> bool:
        return provision_id in self.ids

    def versions(self, article_id: str) -> dict[str, Provision]:
        return (
            {"ru": article_provision(lang="ru"), "en": article_provision(lang="en")}
            if article_id == "test:5"
            else {}
        )

    def get(self, provision_id: str, lang: str) -> Provision | None:
        return self.versions(provision_id).get("ru")

    def instruments(self) -> set[str]:
        return {"test"}

    def articles(self, instrument: str) -> list[str]:
        return ["test:5"] if instrument == "test" else []


class _Topics:
    topics: dict = {}  # noqa: RUF012 - read only

    def topics_of(self, provision_id: str) -> list:
        return []


class _FakeAssistant:
    def __init__(self) -> None:
        self.templates = all_templates(ROOT / "prompts")
        self.index = types.SimpleNamespace(store=_Store())
        self.topic_map = _Topics()
        self.instrument_order = ["test"]
        self.short_names = {"test": {"kk": "T", "ru": "T", "en": "T"}}

    def label(self, article_id: str, lang: str) -> str:
        return f"{article_id}@{lang}"

    def ask(self, question, history=(), lang="auto"):  # noqa: ANN001, ANN201
        return Answer(question=question, language="kk", answer="A\n\nB", refused=False, citations=(CITATION,))


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from assistant.web.app import build_app

    settings = Settings().model_copy(update={"data_dir": tmp_path_factory.mktemp("web-data")})
    app = build_app(_FakeAssistant(), settings)
    yield app, settings
    app.ara_runner.close()


def _page(app):  # noqa: ANN001, ANN202
    """The app's `Page`: the handlers' `page`, found through any bound-method handler."""
    for fn in app.fns.values():
        owner = getattr(fn.fn, "__self__", None)
        if owner is not None and hasattr(owner, "page") and hasattr(owner, "views"):
            _VIEWS[id(owner.page)] = owner.views
            return owner.page
    raise AssertionError("no Handlers method is wired")


def _value(page, component, session: Session):  # noqa: ANN001, ANN202
    """What the browser sends for `component`."""
    values = {
        page.session: session,
        page.language: "auto",
        page.question: "Which treaty?",
        page.article: "test:5",
        page.versions: "en",
        page.comment: "useful",
        page.examples: ["Which treaty?"],
        page.export_format: "md",
        page.export_scope: "all",
    }
    views = _views(page)
    if views is not None:
        c, b = views.compare.page, views.browse.page
        values |= {c.topic: None, c.instruments: [], b.instrument: "test", b.article: "test:5"}
        d = views.documents.page
        values |= {
            d.upload: None,
            d.instrument: "",
            d.lang: "ru",
            d.title: "",
            d.aliases: "",
            d.kind: "bilateral",
        }
        values |= {d.pending: None, d.remove_choice: None, views.feedback.page.since: ""}
    return values[component]


def _views(page):  # noqa: ANN001, ANN202
    return _VIEWS.get(id(page))


_VIEWS: dict = {}


def _results(fn, args):  # noqa: ANN001, ANN202
    out = fn(*args)
    return list(out) if inspect.isgenerator(out) else [out]


ANSWERED = Session(last=Answer(question="Q", language="kk", answer="A", refused=False, citations=(CITATION,)))


@pytest.mark.parametrize("session", [Session(), ANSWERED], ids=["fresh", "answered"])
def test_every_event_updates_only_its_outputs(app, session):
    app, _ = app
    page = _page(app)
    seen = set()
    for block_fn in app.fns.values():
        if block_fn.name == "ask":  # the API: returns the answer's JSON, not updates
            continue
        args = [_value(page, c, session) for c in block_fn.inputs]
        if "request" in inspect.signature(block_fn.fn).parameters:
            args.append(types.SimpleNamespace(headers={"accept-language": "ru"}))
        outputs = set(block_fn.outputs)
        for result in _results(block_fn.fn, args):
            if len(outputs) == 1:
                continue  # a single output takes its value as is
            assert isinstance(result, dict) and result, block_fn.name
            assert set(result) <= outputs, f"{block_fn.name} returns updates for components it does not list"
        seen.add(block_fn.name)
    assert {"on_load", "refresh", "respond", "clear", "pick_article", "pick_version"} <= seen
    assert {"follow_link", "relabel", "compare", "browse_instrument", "browse_article"} <= seen
    assert {"check", "confirm", "cancel", "remove", "feedback", "prepare_download"} <= seen


def test_refresh_renders_every_rendered_component(app):
    app, _ = app
    page = _page(app)
    handlers = next(fn.fn.__self__ for fn in app.fns.values() if fn.name == "refresh")
    updates = handlers.refresh("ru", ANSWERED)
    assert list(updates) == page.rendered()
    assert {f.name for f in fields(page)} - {"session", "tabs", "feedback", "download", "export_status"} == {
        f.name for f in fields(page) if getattr(page, f.name) in updates
    }
    assert "test:5@ru" in str(updates[page.article]["choices"])


def test_respond_shows_the_question_then_the_answer_then_saves_the_session(app):
    app, _ = app
    page = _page(app)
    handlers = next(fn.fn.__self__ for fn in app.fns.values() if fn.name == "respond")
    steps = list(handlers.respond("Which treaty?", "auto", Session()))
    assert steps[0][page.question]["value"] == "" and steps[0][page.chat][-1]["role"] == "assistant"
    assert [s[page.chat][-1]["content"] for s in steps[1:-1]] == ["A", "A\n\nB"]
    final = steps[-1][page.session]
    assert final.questions == ("Which treaty?",) and final.article == "test:5" and final.version == "ru"
    assert list(handlers.respond("   ", "auto", Session())) == [{page.chat: {"__type__": "update"}}]


def test_feedback_is_logged_only_for_an_answer(app):
    app, settings = app
    page = _page(app)
    handlers = next(fn.fn.__self__ for fn in app.fns.values() if fn.name == "refresh")
    path = settings.path(settings.data_dir) / FILENAME
    before = len(read_events(path))
    nothing = handlers.give_feedback("helpful", "x", "en", Session())
    assert set(nothing) == {page.feedback} and len(read_events(path)) == before
    thanks = handlers.give_feedback("not_helpful", "x", "en", ANSWERED)
    assert thanks[page.comment] == "" and len(read_events(path)) == before + 1
    assert read_events(path)[-1]["rating"] == "not_helpful"


def test_download_offers_a_memo_only_when_there_is_an_answer(app):
    app, _ = app
    page = _page(app)
    handlers = next(fn.fn.__self__ for fn in app.fns.values() if fn.name == "prepare_download")
    empty = handlers.prepare_download("md", "all", "en", Session())
    assert empty[page.download]["value"] is None and empty[page.download]["interactive"] is False
    assert handlers.uis["en"]["export_nothing"].split(":")[0] in empty[page.export_status]
    s = Session(answers=(ANSWERED.last,), last=ANSWERED.last)
    ready = handlers.prepare_download("md", "last", "en", s)
    path = Path(ready[page.download]["value"])
    assert ready[page.download]["interactive"] is True and path.name.startswith("answer-")
    assert CITATION.label in path.read_text(encoding="utf-8")
