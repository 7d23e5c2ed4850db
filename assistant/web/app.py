"""The web chat's layout and event wiring: a Gradio Blocks app over one shared `Assistant`.

Takes: an `Assistant` (built and warmed once at start-up, shared by every request) and the `Settings`.
Gives: `build_app()`, the Blocks app (its `Runner` is `app.ara_runner`), plus the look it is launched
with (`CSS`, `theme()`). Start it with `assistant.web.server.launch` / `serve`.

The app only parses, calls `Assistant.ask` through a `Runner` (runner.py), and renders with the pure
functions of render.py; every label of the interface comes from the `[ui]` sections of
`prompts/<lang>.toml`. Every event returns its updates keyed by component (`{page.sources: ...}`), so
no update depends on its position in a list; `Handlers.refresh` re-renders the whole page from the
session.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.core.errors import InputError
from assistant.core.settings import Settings, force_offline
from assistant.web.documents import DocumentsView, documents_layout
from assistant.web.downloads import FORMAT_CHOICES, scope_choices
from assistant.web.feedback import FILENAME as FEEDBACK_FILE
from assistant.web.feedback import MAX_COMMENT_CHARS, append_event, feedback_event
from assistant.web.render import (
    DEFAULT_UI_LANG,
    LANG_CODES,
    UI_LANGS,
    answer_markdown,
    article_choices,
    article_html,
    browser_language,
    chat_value,
    check_language_code,
    choose_version,
    disclaimer_markdown,
    escape_markdown,
    example_questions,
    header_markdown,
    language_choices,
    link_params,
    progressive,
    question_link,
    sources_html,
    ui_language,
    version_choices,
    version_note,
)
from assistant.web.runner import Runner, Session
from assistant.web.views import (
    BrowseView,
    CompareView,
    FeedbackView,
    Views,
    browse_layout,
    compare_layout,
    feedback_layout,
)

# Before anything can import gradio: its analytics and version check read the environment at import.
force_offline()

if TYPE_CHECKING:
    import gradio as gr

    from assistant.answer.extractive import Answer
    from assistant.core.prompts import Templates
    from assistant.pipeline import Assistant

CSS = """
#ara-disclaimer { font-size: 0.9em; opacity: 0.85; }
.ara-sources h3 { margin: 0 0 0.4em 0; }
.ara-source-list { padding-left: 1.6em; margin: 0; max-height: 520px; overflow-y: auto; }
.ara-source { margin-bottom: 0.9em; }
.ara-source-label { font-weight: 600; }
.ara-source-title { font-style: italic; }
.ara-source-meta { font-size: 0.85em; opacity: 0.8; }
.ara-source-quote { margin: 0.3em 0 0 0; padding-left: 0.7em; border-left: 3px solid #bbb; }
.ara-note { font-size: 0.85em; opacity: 0.85; margin-top: 0.8em; }
.ara-source-cite { font-size: 0.85em; margin-top: 0.3em; }
.ara-cite { user-select: all; -webkit-user-select: all; cursor: text; white-space: normal; }
.ara-article { max-height: 420px; overflow-y: auto; }
.ara-article-note { font-style: italic; }
.ara-empty { opacity: 0.7; }
.ara-compare-table { width: 100%; border-collapse: collapse; }
.ara-compare-table td, .ara-compare-table th { border: 1px solid #ccc; padding: 0.4em; vertical-align: top; }
.ara-compare-name { font-weight: 600; width: 22%; }
.ara-compared { margin-bottom: 0.6em; }
.ara-says-mark { font-style: italic; opacity: 0.8; }
.ara-versions-row { display: flex; gap: 1.2em; align-items: flex-start; }
.ara-version { flex: 1 1 0; min-width: 0; }
"""

# Events that only re-render: no queue slot of their own, not in the API, no spinner.
_LIGHT = {"concurrency_limit": None, "api_visibility": "private", "show_progress": "hidden"}


def theme() -> Any:
    """Gradio's default look with system fonts only: no web font is fetched, not even a local one."""
    import gradio as gr

    return gr.themes.Default(
        font=("ui-sans-serif", "system-ui", "sans-serif"),
        font_mono=("ui-monospace", "Consolas", "monospace"),
    )


# ------------------------------------------------------------------------------ layout


@dataclass(frozen=True, eq=False)  # compared and hashed by identity, as the components are
class Page:
    """Every component an event reads or updates, by name."""

    session: gr.State
    tabs: gr.Tabs
    tab_chat: gr.Tab
    title: gr.Markdown
    language: gr.Radio
    disclaimer: gr.Markdown
    chat: gr.Chatbot
    question: gr.Textbox
    send: gr.Button
    clear: gr.Button
    examples: gr.Dataset
    helpful: gr.Button
    not_helpful: gr.Button
    comment: gr.Textbox
    feedback: gr.Markdown
    sources: gr.HTML
    article: gr.Dropdown
    versions: gr.Radio
    article_text: gr.HTML
    link: gr.Textbox
    export_format: gr.Radio
    export_scope: gr.Radio
    download: gr.DownloadButton
    export_status: gr.Markdown

    def rendered(self) -> list[Any]:
        """The components `Handlers.refresh` updates: all but the session, the tabs, the feedback status and
        the download button with its status (`Handlers.prepare_download` writes the file they offer)."""
        return [getattr(self, f.name) for f in fields(self) if f.name not in _NOT_REFRESHED]


_NOT_REFRESHED = ("session", "tabs", "feedback", "download", "export_status")


def _chat_column(first: Mapping[str, str], examples: list[str], limit: int) -> dict[str, Any]:
    """The left column: chat, disclaimer, question, buttons, examples, feedback (labels of `first`)."""
    import gradio as gr

    parts: dict[str, Any] = {}
    parts["chat"] = gr.Chatbot(
        value=[],
        label=first["chat"],
        placeholder=escape_markdown(first["chat_placeholder"]),
        height=520,
        elem_id="ara-chat",
        latex_delimiters=[],
        sanitize_html=True,
        allow_tags=False,
        feedback_options=None,
        buttons=["copy"],
    )
    parts["disclaimer"] = gr.Markdown(elem_id="ara-disclaimer")
    parts["question"] = gr.Textbox(
        label=first["question"],
        placeholder=first["question_placeholder"],
        info=first["question_info"].format(limit=limit),
        max_length=limit,
        lines=2,
        max_lines=8,
        elem_id="ara-question",
    )
    with gr.Row():
        parts["send"] = gr.Button(first["send"], variant="primary", elem_id="ara-send")
        parts["clear"] = gr.Button(first["clear"], elem_id="ara-clear")
    parts["examples"] = gr.Dataset(
        components=["textbox"],
        samples=[[q] for q in examples],
        label=first["examples"],
        type="values",
        samples_per_page=12,
        elem_id="ara-examples",
    )
    with gr.Row():
        parts["helpful"] = gr.Button(first["helpful"], size="sm", elem_id="ara-helpful")
        parts["not_helpful"] = gr.Button(first["not_helpful"], size="sm", elem_id="ara-unhelpful")
    parts["comment"] = gr.Textbox(
        label=first["comment"],
        placeholder=first["comment_placeholder"],
        max_length=MAX_COMMENT_CHARS,
        lines=1,
        elem_id="ara-comment",
    )
    parts["feedback"] = gr.Markdown(elem_id="ara-feedback-status")
    parts["link"] = gr.Textbox(
        label=first["link"], value="", interactive=False, buttons=["copy"], lines=1, elem_id="ara-link"
    )
    parts |= _download_row(first)
    return parts


def _download_row(first: Mapping[str, str]) -> dict[str, Any]:
    """The conversation's download control: format, scope (all / last answer), the button, its status."""
    import gradio as gr

    with gr.Row(equal_height=True):
        fmt = gr.Radio(
            FORMAT_CHOICES, value="docx", label=first["export_format"], elem_id="ara-export-format"
        )
        scope = gr.Radio(
            scope_choices(first), value="all", label=first["export_scope"], elem_id="ara-export-scope"
        )
        download = gr.DownloadButton(
            first["download"], value=None, interactive=False, size="sm", elem_id="ara-download"
        )
    status = gr.Markdown(elem_id="ara-export-status")
    return {"export_format": fmt, "export_scope": scope, "download": download, "export_status": status}


def _article_column(first: Mapping[str, str]) -> dict[str, Any]:
    """The right column: the sources panel and the whole-article panel with its two pickers."""
    import gradio as gr

    return {
        "sources": gr.HTML(elem_id="ara-sources", js_on_load=None),
        "article": gr.Dropdown(choices=[], value=None, label=first["article"], elem_id="ara-article-choice"),
        "versions": gr.Radio(choices=[], label=first["versions"], elem_id="ara-versions"),
        "article_text": gr.HTML(elem_id="ara-article", js_on_load=None),
    }


def layout(uis: Mapping[str, Mapping[str, str]], limit: int) -> tuple[Page, Any, Any, Any, Any]:
    """The page's components inside the current Blocks, labelled in the default interface language:
    the chat's `Page`, then the Compare, treaty-browser (views.py), Documents (documents.py) and
    feedback-review (views.py) pages."""
    import gradio as gr

    first = uis[DEFAULT_UI_LANG]
    session = gr.State(Session())
    title = gr.Markdown(elem_id="ara-title")
    language = gr.Radio(language_choices(first), value="auto", label=first["language"], elem_id="ara-lang")
    with gr.Tabs(selected="chat", elem_id="ara-tabs") as tabs:
        with (
            gr.Tab(first["tab_chat"], id="chat", elem_id="ara-tab-chat") as tab_chat,
            gr.Row(equal_height=False),
        ):
            with gr.Column(scale=3):
                left = _chat_column(first, example_questions(uis, DEFAULT_UI_LANG), limit)
            with gr.Column(scale=2):
                right = _article_column(first)
        compare = compare_layout(first)
        browse = browse_layout(first)
        documents = documents_layout(first)
        feedback = feedback_layout(first)
    page = Page(
        session=session, tabs=tabs, tab_chat=tab_chat, title=title, language=language, **left, **right
    )
    return page, compare, browse, documents, feedback


# ------------------------------------------------------------------------------ events


@dataclass(frozen=True, eq=False)  # its bound methods are hashed by gradio: identity, not fields
class Handlers:
    """The app's event handlers: each reads the session and returns its updates keyed by component."""

    page: Page
    templates: Mapping[str, Templates]
    uis: Mapping[str, Mapping[str, str]]
    names: Mapping[str, Mapping[str, str]]
    label: Callable[[str, str], str]  # (article id, language) -> its label
    versions_of: Callable[[str], Mapping[str, Any]]  # article id -> {language: Provision}
    runner: Runner
    feedback_path: Path
    limit: int  # longest question, in characters
    keep: int  # questions kept as follow-up history
    views: Views  # the Compare and treaty-browser tabs
    cite: Callable[[str, str], str]  # (provision id, language) -> its formal citation, "" when none
    memo: Callable[[Sequence[Answer], str, str], Path | None]  # (answers, format, scope) -> the file

    def _ui_lang(self, choice: str, s: Session) -> str:
        return ui_language(choice, s.answer_lang, s.browser_lang)

    def refresh(self, choice: str, s: Session) -> dict[Any, Any]:
        """Every label and panel of the page, in the interface language, from the session."""
        lang = self._ui_lang(choice, s)
        return {**self._labels(lang), **self._panels(lang, s)}

    def _labels(self, lang: str) -> dict[Any, Any]:
        import gradio as gr

        ui, p = self.uis[lang], self.page
        return {
            p.tab_chat: gr.update(label=ui["tab_chat"]),
            p.title: gr.update(value=header_markdown(ui)),
            p.language: gr.update(label=ui["language"], choices=language_choices(ui)),
            p.disclaimer: gr.update(value=disclaimer_markdown(self.templates[lang].get("answer.disclaimer"))),
            p.chat: gr.update(label=ui["chat"], placeholder=escape_markdown(ui["chat_placeholder"])),
            p.question: gr.update(
                label=ui["question"],
                placeholder=ui["question_placeholder"],
                info=ui["question_info"].format(limit=self.limit),
            ),
            p.send: gr.update(value=ui["send"]),
            p.clear: gr.update(value=ui["clear"]),
            p.examples: gr.update(
                label=ui["examples"], samples=[[q] for q in example_questions(self.uis, lang)]
            ),
            p.helpful: gr.update(value=ui["helpful"]),
            p.not_helpful: gr.update(value=ui["not_helpful"]),
            p.comment: gr.update(label=ui["comment"], placeholder=ui["comment_placeholder"]),
        }

    def _panels(self, lang: str, s: Session) -> dict[Any, Any]:
        import gradio as gr

        ui, names, p = self.uis[lang], self.names[lang], self.page
        citations = s.last.citations if s.last else ()
        versions = self.versions_of(s.article) if s.article else {}
        provision = versions.get(s.version) if s.version else None
        wanted = s.last.language if s.last else lang
        note = version_note(provision, versions, wanted, ui, names)
        heading = self.label(s.article, lang) if s.article else ""
        disclaimer = self.templates[lang].get("answer.disclaimer")
        return {
            p.sources: gr.update(
                value=sources_html(citations, ui, wanted, names, disclaimer, lambda pid: self.cite(pid, lang))
            ),
            p.article: gr.update(
                label=ui["article"], choices=article_choices(citations, self.label, lang), value=s.article
            ),
            p.versions: gr.update(
                label=ui["versions"],
                choices=version_choices(versions, ui),
                value=s.version if versions else None,
            ),
            p.article_text: gr.update(value=article_html(provision, heading, ui, note)),
            p.link: gr.update(
                label=ui["link"],
                value=question_link(s.base_url, s.last.question, s.last.language) if s.last else "",
            ),
            p.export_format: gr.update(label=ui["export_format"]),
            p.export_scope: gr.update(label=ui["export_scope"], choices=scope_choices(ui)),
        }

    def arrive(self, choice: str, s: Session, request: Any) -> dict[Any, Any]:
        """The page as it loads: the browser's language, and what its link asks for (`?q=`, `?p=`, `?lang=`).

        `?lang=` picks the language; `?p=` opens that provision in the treaty browser; `?q=` is kept in
        the session and asked by `follow_link` right after.
        """
        import gradio as gr

        headers = dict(getattr(request, "headers", None) or {})
        query = dict(getattr(request, "query_params", None) or {})
        question, provision, lang = link_params(query)
        base = headers.get("referer") or "/"
        s = replace(
            s, browser_lang=browser_language(headers.get("accept-language")), link=question, base_url=base
        )
        choice = lang or choice
        shown = self._ui_lang(choice, s)
        allowed = self.views.documents.allowed(request)
        out = {
            self.page.session: s,
            **self.refresh(choice, s),
            **self.views.labels(shown, allowed=allowed),
            **self.views.documents.arrive(shown, allowed),
        }
        out[self.page.language]["value"] = choice
        if provision:
            out.update(self.views.browse.open(provision, shown))
            out[self.page.tabs] = gr.update(selected="treaties")
        return out

    def follow_link(self, choice: str, s: Session) -> Iterator[dict[Any, Any]]:
        """Ask the link's question (once), as if typed: the usual refusals apply (too long, …)."""
        import gradio as gr

        if not s.link:
            yield {self.page.chat: gr.skip()}
            return
        yield from self.respond(s.link, choice, replace(s, link=None))

    def relabel(self, choice: str, s: Session, instrument: str | None, request: Any = None) -> dict[Any, Any]:
        """The other tabs' labels in the interface language."""
        allowed = self.views.documents.allowed(request)
        return self.views.labels(self._ui_lang(choice, s), instrument, allowed)

    def compare(
        self, topic: str | None, instruments: list[str] | None, choice: str, s: Session
    ) -> dict[Any, Any]:
        return self.views.compare.show(topic, instruments, self._ui_lang(choice, s))

    def browse_instrument(self, instrument: str | None, choice: str, s: Session) -> dict[Any, Any]:
        return self.views.browse.pick_instrument(instrument, self._ui_lang(choice, s))

    def browse_article(self, article: str | None, choice: str, s: Session) -> dict[Any, Any]:
        return self.views.browse.pick_article(article, self._ui_lang(choice, s))

    def respond(self, text: str, choice: str, s: Session) -> Iterator[dict[Any, Any]]:
        """Ask: the question and «searching…» at once, the answer paragraph by paragraph, then the session."""
        import gradio as gr

        p, text = self.page, text or ""
        if not text.strip():
            yield {p.chat: gr.skip()}
            return
        lang = choice if choice in LANG_CODES else "auto"
        searching = escape_markdown(self.uis[self._ui_lang(choice, s)]["searching"])
        asked = ("user", escape_markdown(text))
        shown = (*s.messages, asked)
        yield {p.chat: chat_value([*shown, ("assistant", searching)]), p.question: gr.update(value="")}
        answer = self.runner.ask(text, history=s.questions, lang=lang)
        body = answer_markdown(answer.answer)
        for partial in progressive(body):
            yield {p.chat: chat_value([*shown, ("assistant", partial)])}
        s = s.answered(text, asked, answer, body, keep=self.keep, versions_of=self.versions_of)
        yield {p.chat: chat_value(s.messages), p.session: s}

    def prepare_download(self, fmt: str, scope: str, choice: str, s: Session) -> dict[Any, Any]:
        """The download button with the memo of the conversation (or its last answer), or «nothing to export»."""
        import gradio as gr

        p, ui = self.page, self.uis[self._ui_lang(choice, s)]
        path = self.memo(s.answers, fmt or "docx", scope or "all")
        if path is None:
            return {
                p.download: gr.update(label=ui["download"], value=None, interactive=False),
                p.export_status: escape_markdown(ui["export_nothing"]),
            }
        return {
            p.download: gr.update(label=ui["download"], value=str(path), interactive=True),
            p.export_status: "",
        }

    def clear(self, s: Session) -> dict[Any, Any]:
        """An empty chat and feedback status; the session keeps only its languages."""
        p = self.page
        return {p.session: s.cleared(), p.chat: [], p.feedback: ""}

    def pick_article(self, article_id: str | None, choice: str, s: Session) -> dict[Any, Any]:
        """Show another cited article, in the answer's language when the corpus has it."""
        versions = self.versions_of(article_id) if article_id else {}
        wanted = s.last.language if s.last else self._ui_lang(choice, s)
        s = replace(s, article=article_id or None, version=choose_version(versions, wanted))
        return {self.page.session: s, **self.refresh(choice, s)}

    def pick_version(self, version: str | None, choice: str, s: Session) -> dict[Any, Any]:
        """Show another language version of the article."""
        s = replace(s, version=version)
        return {self.page.session: s, **self.refresh(choice, s)}

    def give_feedback(self, rating: str, note: str, choice: str, s: Session) -> dict[Any, Any]:
        """Log one click on a feedback button; thank (or say there is nothing to rate yet)."""
        p, lang = self.page, self._ui_lang(choice, s)
        ui = self.uis[lang]
        if s.last is None:
            return {p.feedback: escape_markdown(ui["feedback_nothing"])}
        append_event(self.feedback_path, feedback_event(s.last, rating, note, lang))
        return {p.feedback: escape_markdown(ui["feedback_thanks"]), p.comment: ""}


def _wire_page(app: gr.Blocks, h: Handlers, settings: Settings) -> None:
    """Connect the page's events to the handlers (inside the Blocks)."""
    import gradio as gr

    p, page, v = h.page, h.page.rendered(), h.views
    d = v.documents.page
    arrived = [p.session, *page, *v.relabelled(), v.browse.page.text, d.report, d.status, p.tabs]

    def on_load(choice: str, s: Session, request: gr.Request) -> dict[Any, Any]:
        return h.arrive(choice, s, request)

    # Gradio finds the request parameter by its type; with postponed annotations the name `gr`
    # is not resolvable from this module's globals, so give it the class itself.
    on_load.__annotations__["request"] = gr.Request
    asking = {
        "concurrency_limit": settings.concurrency_limit,
        "concurrency_id": "assistant",
        "api_visibility": "private",
        "show_progress": "minimal",
    }
    download = _download_event(h)
    app.load(on_load, inputs=[p.language, p.session], outputs=arrived, **_LIGHT).then(
        h.follow_link, inputs=[p.language, p.session], outputs=[p.chat, p.question, p.session], **asking
    ).then(h.refresh, inputs=[p.language, p.session], outputs=page, **_LIGHT).then(**download)

    _wire_views(h, asking)
    _wire_documents(h)
    p.language.input(h.refresh, inputs=[p.language, p.session], outputs=page, **_LIGHT).then(**download)
    p.export_format.input(**download)
    p.export_scope.input(**download)

    for trigger in (p.send.click, p.question.submit):
        trigger(
            h.respond,
            inputs=[p.question, p.language, p.session],
            outputs=[p.chat, p.question, p.session],
            **asking,
        ).then(h.refresh, inputs=[p.language, p.session], outputs=page, **_LIGHT).then(**download)

    def pick_example(sample: list[str] | None) -> Any:
        return sample[0] if sample else gr.skip()

    p.examples.click(pick_example, inputs=p.examples, outputs=p.question, **_LIGHT)

    # The chat's own trash icon clears the same way, so no old turn comes back with the next answer.
    for trigger in (p.clear.click, p.chat.clear):
        trigger(h.clear, inputs=p.session, outputs=[p.session, p.chat, p.feedback], **_LIGHT).then(
            h.refresh, inputs=[p.language, p.session], outputs=page, **_LIGHT
        ).then(**download)

    pickers = ((p.article, h.pick_article), (p.versions, h.pick_version))
    for picker, handler in pickers:
        picker.input(handler, inputs=[picker, p.language, p.session], outputs=[p.session, *page], **_LIGHT)

    for button, rating in ((p.helpful, "helpful"), (p.not_helpful, "not_helpful")):
        button.click(
            lambda note, choice, s, _r=rating: h.give_feedback(_r, note, choice, s),
            inputs=[p.comment, p.language, p.session],
            outputs=[p.feedback, p.comment],
            **_LIGHT,
        )


def _download_event(h: Handlers) -> dict[Any, Any]:
    """The keyword arguments of the event that prepares the download button (after answers, clearing, …)."""
    p = h.page
    return {
        "fn": h.prepare_download,
        "inputs": [p.export_format, p.export_scope, p.language, p.session],
        "outputs": [p.download, p.export_status],
        "concurrency_limit": 2,
        "concurrency_id": "downloads",
        "api_visibility": "private",
        "show_progress": "hidden",
    }


def _wire_views(h: Handlers, asking: Mapping[str, Any]) -> None:
    """The Compare and treaty-browser tabs' events, and every tab's labels on a language switch."""
    import gradio as gr

    p, v = h.page, h.views
    b, c = v.browse.page, v.compare.page

    def relabel(choice: str, s: Session, instrument: str | None, request: gr.Request) -> dict[Any, Any]:
        return h.relabel(choice, s, instrument, request)

    relabel.__annotations__["request"] = gr.Request  # found by its type, as on_load's
    p.language.input(relabel, inputs=[p.language, p.session, b.instrument], outputs=v.relabelled(), **_LIGHT)
    c.show.click(
        h.compare,
        inputs=[c.topic, c.instruments, p.language, p.session],
        outputs=[c.table, c.md, c.csv, c.docx],
        **asking,
    )
    b.instrument.input(
        h.browse_instrument,
        inputs=[b.instrument, p.language, p.session],
        outputs=[b.article, b.text],
        **_LIGHT,
    )
    b.article.input(h.browse_article, inputs=[b.article, p.language, p.session], outputs=[b.text], **_LIGHT)


def _wire_documents(h: Handlers) -> None:
    """The admins' events: check an upload, confirm or cancel it, remove a document; the feedback report."""
    import gradio as gr

    p, d, docs = h.page, h.views.documents.page, h.views.documents
    form = [d.instrument, d.lang, d.title, d.aliases, d.kind]
    idle = [d.pending, d.upload, d.confirm, d.cancel, d.status]
    changed = [*idle, d.listing, d.remove_choice]
    one_at_a_time = {"concurrency_limit": 1, "concurrency_id": "documents", "api_visibility": "private"}

    def check(path, instrument, lang, title, aliases, kind, choice, s, request: gr.Request):  # noqa: ANN001, ANN202
        fields = {
            "instrument": instrument or "",
            "lang": lang,
            "title": title or "",
            "aliases": aliases or "",
        }
        return docs.check(path, {**fields, "kind": kind}, h._ui_lang(choice, s), request)

    def confirm(prepared, choice, s, request: gr.Request):  # noqa: ANN001, ANN202
        return docs.confirm(prepared, h._ui_lang(choice, s), request)

    def cancel(path, choice, s):  # noqa: ANN001, ANN202
        return docs.cancel(path, h._ui_lang(choice, s))

    def remove(instrument, choice, s, request: gr.Request):  # noqa: ANN001, ANN202
        return docs.remove(instrument, h._ui_lang(choice, s), request)

    def feedback(since, choice, s, request: gr.Request):  # noqa: ANN001, ANN202
        return h.views.feedback.show(since, h._ui_lang(choice, s), docs.allowed(request))

    for fn in (check, confirm, remove, feedback):
        fn.__annotations__["request"] = gr.Request
    f = h.views.feedback.page
    f.show.click(feedback, inputs=[f.since, p.language, p.session], outputs=f.report, **_LIGHT)
    d.check.click(
        check, inputs=[d.upload, *form, p.language, p.session], outputs=[*idle, d.report], **one_at_a_time
    )
    d.confirm.click(confirm, inputs=[d.pending, p.language, p.session], outputs=changed, **one_at_a_time)
    d.cancel.click(cancel, inputs=[d.upload, p.language, p.session], outputs=idle, **_LIGHT)
    d.remove.click(remove, inputs=[d.remove_choice, p.language, p.session], outputs=changed, **one_at_a_time)


def _wire_api(runner: Runner, settings: Settings) -> None:
    """The one API endpoint, `ask` (inside the Blocks); the UI's own events stay private."""
    import gradio as gr

    def ask(question: str, language: str = "auto") -> dict[str, Any]:
        """Answer a question with citations: the same JSON object as `assistant ask --json`.

        language: auto, kk, ru or en.
        """
        try:
            lang = check_language_code(language)
        except InputError as exc:
            raise gr.Error(exc.message) from None
        if not isinstance(question, str):
            raise gr.Error("question must be text")
        return runner.ask(question, lang=lang).to_dict()

    gr.api(ask, api_name="ask", concurrency_limit=settings.concurrency_limit, concurrency_id="assistant")


def _citer(assistant: Assistant) -> Callable[[str, str], str]:
    """(provision id, language) -> its formal citation string from the manifest; "" when it has none."""
    from assistant.answer.citation_strings import citation_string

    def cite(provision_id: str, lang: str) -> str:
        manifest = getattr(assistant.index, "manifest", None)
        instrument = manifest.instruments.get(provision_id.split(":")[0]) if manifest else None
        if instrument is None:
            return ""
        try:
            return citation_string(provision_id, lang, instrument, assistant.templates)
        except (ValueError, KeyError):
            return ""

    return cite


def _memo_writer(assistant: Assistant, folder: Path) -> Callable[[Sequence[Answer], str, str], Path | None]:
    """(answers, format, scope) -> the memo file under `folder`, or None when there is nothing to export."""
    from datetime import UTC, datetime

    from assistant.web.downloads import conversation_of, write_memo

    def memo(answers: Sequence[Answer], fmt: str, scope: str) -> Path | None:
        index = assistant.index
        meta = getattr(index, "meta", None)
        conversation = conversation_of(
            answers,
            scope,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            corpus_version=getattr(meta, "manifest_hash", "") or "",
        )
        if conversation is None:
            return None
        manifest, store = getattr(index, "manifest", None), getattr(index, "store", None)
        return write_memo(
            conversation, fmt, scope, assistant.templates, folder, manifest=manifest, store=store
        )

    return memo


def build_app(assistant: Assistant, settings: Settings) -> gr.Blocks:
    """The Blocks app around one (already warmed) `Assistant`; nothing is loaded per request.

    The app's `Runner` (its worker threads) is `app.ara_runner`: call its `close()` after `app.close()`.
    """
    import gradio as gr

    templates = assistant.templates  # loads and checks every [ui] key now, not in front of a user
    uis = {lang: templates[lang].section("ui") for lang in UI_LANGS}
    runner = Runner(assistant, workers=settings.concurrency_limit, timeout_s=settings.request_timeout_s)
    # delete_cache: an upload left neither checked nor cancelled (a closed tab) is deleted within two hours.
    with gr.Blocks(
        title=uis[DEFAULT_UI_LANG]["title"], analytics_enabled=False, delete_cache=(3600, 3600)
    ) as app:
        page, compare_page, browse_page, documents_page, feedback_page = layout(
            uis, settings.max_question_chars
        )
        feedback_path = settings.path(settings.data_dir) / FEEDBACK_FILE
        # comparison files and memos, gone at exit
        downloads = Path(tempfile.mkdtemp(prefix="ara-downloads-"))
        atexit.register(shutil.rmtree, downloads, True)
        views = Views(
            CompareView(compare_page, assistant, uis, templates, downloads),
            BrowseView(browse_page, assistant, uis),
            DocumentsView(documents_page, assistant, settings, uis),
            FeedbackView(feedback_page, uis, feedback_path),
        )
        handlers = Handlers(
            page=page,
            views=views,
            templates=templates,
            uis=uis,
            names={lang: templates[lang].section("language_names") for lang in UI_LANGS},
            label=assistant.label,
            versions_of=lambda aid: assistant.index.store.versions(aid),  # the index may be reloaded
            runner=runner,
            feedback_path=feedback_path,
            limit=settings.max_question_chars,
            keep=settings.max_history_turns,
            cite=_citer(assistant),
            memo=_memo_writer(assistant, downloads),
        )
        _wire_page(app, handlers, settings)
        _wire_api(runner, settings)
    app.queue(
        default_concurrency_limit=settings.concurrency_limit,
        max_size=settings.max_queue,
        api_open=False,
    )
    app.ara_runner = runner  # type: ignore[attr-defined] - closed with the app by `launch` callers
    return app
