"""The web app's other views beside the chat: Compare («Салыстыру») and the treaty browser («Шарттар»).

Takes: the shared `Assistant` (its topic map, `compare`, provision store, labels and instrument names),
the `[ui]` labels and templates of each language, and a folder for downloadable files.
Gives: for each view, its components (`ComparePage`, `BrowsePage`, laid out by `compare_layout` /
`browse_layout` inside the current Blocks) and its handlers (`CompareView`, `BrowseView`), whose events
return updates keyed by component, as app.py's `Handlers` do. The views read the Assistant's index at
each event, never a copy, so a document added in the Documents view shows here at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.core.errors import InputError
from assistant.web.render import (
    comparison_html,
    escape_html,
    instrument_choices,
    nearest_ids,
    not_found_html,
    provision_html,
    toc_choices,
    topic_choices,
)

if TYPE_CHECKING:
    import gradio as gr

    from assistant.core.prompts import Templates
    from assistant.pipeline import Assistant
    from assistant.web.documents import DocumentsView


# ------------------------------------------------------------------------------ compare


@dataclass(frozen=True, eq=False)
class ComparePage:
    tab: gr.Tab
    topic: gr.Dropdown
    instruments: gr.Dropdown
    show: gr.Button
    table: gr.HTML
    md: gr.DownloadButton
    csv: gr.DownloadButton
    docx: gr.DownloadButton


def compare_layout(first: Mapping[str, str]) -> ComparePage:
    """The Compare tab's components (labels in the default language; `CompareView.labels` relabels)."""
    import gradio as gr

    with gr.Tab(first["tab_compare"], id="compare", elem_id="ara-tab-compare") as tab:
        with gr.Row():
            topic = gr.Dropdown(
                choices=[], value=None, label=first["compare_topic"], elem_id="ara-compare-topic"
            )
            instruments = gr.Dropdown(
                choices=[],
                value=[],
                multiselect=True,
                label=first["compare_instruments"],
                info=first["compare_instruments_info"],
                elem_id="ara-compare-instruments",
            )
        show = gr.Button(first["compare_show"], variant="primary", elem_id="ara-compare-show")
        with gr.Row():
            md = gr.DownloadButton(first["download_md"], value=None, size="sm", elem_id="ara-compare-md")
            csv = gr.DownloadButton(first["download_csv"], value=None, size="sm", elem_id="ara-compare-csv")
            docx = gr.DownloadButton(
                first["download_docx"], value=None, size="sm", elem_id="ara-compare-docx"
            )
        table = gr.HTML(elem_id="ara-compare", js_on_load=None)
    return ComparePage(tab, topic, instruments, show, table, md, csv, docx)


@dataclass(frozen=True, eq=False)
class CompareView:
    page: ComparePage
    assistant: Assistant
    uis: Mapping[str, Mapping[str, str]]
    templates: Mapping[str, Templates]
    files: Path  # where the downloads are written (one file per distinct table and format)

    def labels(self, lang: str) -> dict[Any, Any]:
        import gradio as gr

        ui, p, a = self.uis[lang], self.page, self.assistant
        titles = {tid: t.title for tid, t in a.topic_map.topics.items()}
        return {
            p.tab: gr.update(label=ui["tab_compare"]),
            p.topic: gr.update(label=ui["compare_topic"], choices=topic_choices(titles, lang)),
            p.instruments: gr.update(
                label=ui["compare_instruments"],
                info=ui["compare_instruments_info"],
                choices=instrument_choices(a.instrument_order, a.short_names, lang),
            ),
            p.show: gr.update(value=ui["compare_show"]),
            p.md: gr.update(label=ui["download_md"]),
            p.csv: gr.update(label=ui["download_csv"]),
            p.docx: gr.update(label=ui["download_docx"]),
        }

    def show(self, topic: str | None, instruments: list[str] | None, lang: str) -> dict[Any, Any]:
        """The table of `topic` across `instruments` (all mapped ones when none), and its downloads."""
        import gradio as gr

        ui, p = self.uis[lang], self.page
        if not topic:
            return {p.table: comparison_html(None, ui, {}, ""), **self._downloads(None)}
        try:
            comparison = self.assistant.compare(topic, list(instruments or ()), lang)
        except InputError as exc:
            return {p.table: f'<p class="ara-empty">{escape_html(exc.message)}</p>', **self._downloads(None)}
        t = self.templates[comparison.language]
        table = comparison_html(comparison, ui, t.section("compare"), t.get("topic.summary_note"))
        return {p.table: gr.update(value=table), **self._downloads(comparison)}

    def _downloads(self, comparison) -> dict[Any, Any]:  # noqa: ANN001 - answer.topical.Comparison | None
        import gradio as gr

        p = self.page
        if comparison is None:
            return {b: gr.update(value=None, interactive=False) for b in (p.md, p.csv, p.docx)}
        return {
            button: gr.update(value=str(self._write(comparison, fmt)), interactive=True)
            for button, fmt in ((p.md, "md"), (p.csv, "csv"), (p.docx, "docx"))
        }

    def _write(self, comparison, fmt: str) -> Path:  # noqa: ANN001
        from assistant.export import comparison as export

        if fmt == "md":
            data = export.to_markdown(comparison, self.templates).encode("utf-8")
        elif fmt == "csv":
            data = export.to_csv(comparison, self.templates).encode(
                "utf-8-sig"
            )  # Excel reads UTF-8 with a BOM
        else:
            data = export.to_docx(comparison, self.templates)
        digest = hashlib.sha256(data).hexdigest()[:12]
        path = self.files / digest / f"comparison-{comparison.topic}-{comparison.language}.{fmt}"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        return path


# ------------------------------------------------------------------------------ treaty browser


@dataclass(frozen=True, eq=False)
class BrowsePage:
    tab: gr.Tab
    instrument: gr.Dropdown
    article: gr.Dropdown
    text: gr.HTML


def browse_layout(first: Mapping[str, str]) -> BrowsePage:
    import gradio as gr

    with gr.Tab(first["tab_treaties"], id="treaties", elem_id="ara-tab-treaties") as tab:
        with gr.Row():
            instrument = gr.Dropdown(
                choices=[], value=None, label=first["browse_instrument"], elem_id="ara-browse-instrument"
            )
            article = gr.Dropdown(
                choices=[], value=None, label=first["browse_article"], elem_id="ara-browse-article"
            )
        text = gr.HTML(elem_id="ara-browse", js_on_load=None)
    return BrowsePage(tab, instrument, article, text)


@dataclass(frozen=True, eq=False)
class BrowseView:
    page: BrowsePage
    assistant: Assistant
    uis: Mapping[str, Mapping[str, str]]

    def labels(self, lang: str, instrument: str | None = None) -> dict[Any, Any]:
        import gradio as gr

        ui, p, a = self.uis[lang], self.page, self.assistant
        shown = [i for i in a.instrument_order if i in a.index.store.instruments()]
        return {
            p.tab: gr.update(label=ui["tab_treaties"]),
            p.instrument: gr.update(
                label=ui["browse_instrument"], choices=instrument_choices(shown, a.short_names, lang)
            ),
            p.article: gr.update(label=ui["browse_article"], choices=self._toc(instrument, lang)),
        }

    def _toc(self, instrument: str | None, lang: str) -> list[tuple[str, str]]:
        if not instrument:
            return []
        store = self.assistant.index.store

        def title_of(aid: str) -> str:
            p = store.get(aid, lang)
            return p.title if p is not None else ""

        return toc_choices(store.articles(instrument), self.assistant.label, title_of, lang)

    def pick_instrument(self, instrument: str | None, lang: str) -> dict[Any, Any]:
        """The instrument's table of contents, and its first article."""
        import gradio as gr

        toc = self._toc(instrument, lang)
        first = toc[0][1] if toc else None
        return {
            self.page.article: gr.update(choices=toc, value=first),
            self.page.text: self._html(first, lang),
        }

    def pick_article(self, article: str | None, lang: str) -> dict[Any, Any]:
        return {self.page.text: self._html(article, lang)}

    def open(self, provision_id: str, lang: str) -> dict[Any, Any]:
        """A link's provision (`?p=strasbourg1990:13.1.a`): its instrument, article and text, or «not found»."""
        store, p = self.assistant.index.store, self.page
        if provision_id not in store:
            return {
                p.text: not_found_html(provision_id, nearest_ids(provision_id, store.ids), self.uis[lang])
            }
        first = store.get(provision_id, lang)
        instrument, article = first.instrument, first.article_id
        out = self.labels(lang, instrument)
        out[p.instrument]["value"] = instrument
        out[p.article]["value"] = article
        return {**out, p.text: self._html(provision_id, lang)}

    def _html(self, provision_id: str | None, lang: str) -> str:
        ui, a = self.uis[lang], self.assistant
        if not provision_id or provision_id not in a.index.store:
            return f'<p class="ara-empty">{escape_html(ui["browse_empty"])}</p>'
        topics = [t.title[lang] for t in a.topic_map.topics_of(provision_id)]
        return provision_html(
            a.label(provision_id, lang), a.index.store.versions(provision_id), topics, ui, lang
        )


# ------------------------------------------------------------------------------ feedback review


@dataclass(frozen=True, eq=False)
class FeedbackPage:
    tab: gr.Tab
    since: gr.Textbox
    show: gr.Button
    report: gr.HTML


def feedback_layout(first: Mapping[str, str]) -> FeedbackPage:
    """The admin-only feedback tab (hidden until the page knows who is looking)."""
    import gradio as gr

    with gr.Tab(first["tab_feedback"], id="feedback", visible=False, elem_id="ara-tab-feedback") as tab:
        with gr.Row():
            since = gr.Textbox(label=first["feedback_since"], max_lines=1, elem_id="ara-feedback-since")
            show = gr.Button(first["feedback_show"], variant="primary", elem_id="ara-feedback-show")
        report = gr.HTML(elem_id="ara-feedback-report", js_on_load=None)
    return FeedbackPage(tab, since, show, report)


def report_body(document: str) -> str:
    """The body of export.feedback_report.to_html's page, safe inside the app's page: no <head> or <style>
    (they would restyle the app), and no dollar, brace or backquote (Gradio's HTML component reads a JS
    template)."""
    start, end = document.find("<body>"), document.rfind("</body>")
    body = document[start + len("<body>") : end] if start >= 0 and end > start else escape_html(document)
    for ch, entity in (("$", "&#36;"), ("{", "&#123;"), ("}", "&#125;"), ("`", "&#96;")):
        body = body.replace(ch, entity)
    return f'<div class="ara-feedback-report">{body}</div>'


@dataclass(frozen=True, eq=False)
class FeedbackView:
    page: FeedbackPage
    uis: Mapping[str, Mapping[str, str]]
    log: Path  # the feedback log the chat writes

    def labels(self, lang: str, allowed: bool) -> dict[Any, Any]:
        import gradio as gr

        ui, p = self.uis[lang], self.page
        return {
            p.tab: gr.update(label=ui["tab_feedback"], visible=allowed),
            p.since: gr.update(label=ui["feedback_since"]),
            p.show: gr.update(value=ui["feedback_show"]),
        }

    def show(self, since: str | None, lang: str, allowed: bool) -> str:
        """The feedback report (counts, the not-helpful answers, a draft questions.yaml), for admins only."""
        from assistant.export.feedback_report import parse_since, summarise, to_html
        from assistant.web.feedback import read_events

        if not allowed:
            return f'<p class="ara-empty">{escape_html(self.uis[lang]["docs_forbidden"])}</p>'
        try:
            summary = summarise(read_events(self.log), parse_since((since or "").strip() or None))
        except InputError as exc:
            return f'<p class="ara-empty">{escape_html(exc.message)}</p>'
        return report_body(to_html(summary))


# ------------------------------------------------------------------------------ both


@dataclass(frozen=True, eq=False)
class Views:
    """The tabs beside the chat, relabelled together when the interface language changes."""

    compare: CompareView
    browse: BrowseView
    documents: DocumentsView
    feedback: FeedbackView

    def labels(self, lang: str, instrument: str | None = None, allowed: bool = False) -> dict[Any, Any]:
        """Every tab's labels; the Documents controls and the feedback tab only for those `allowed`
        (server.may_manage_documents: the admins)."""
        return {
            **self.compare.labels(lang),
            **self.browse.labels(lang, instrument),
            **self.documents.labels(lang, allowed),
            **self.feedback.labels(lang, allowed),
        }

    def relabelled(self) -> list[Any]:
        """The components `labels` updates."""
        c, b = self.compare.page, self.browse.page
        return [
            c.tab, c.topic, c.instruments, c.show, c.md, c.csv, c.docx, b.tab, b.instrument, b.article,
            *self.documents.relabelled(), self.feedback.page.tab, self.feedback.page.since, self.feedback.page.show,
        ]  # fmt: skip
