"""The Documents view («Құжаттар / Документы / Documents»): add and remove a user's own treaties.

Takes: the shared `Assistant` (reloaded after each change so the chat, Compare and the treaty browser
see the new index at once), the `Settings` (user corpus folder, document size limit, `ASSISTANT_AUTH`
and `ASSISTANT_ADMINS`) and the `[ui]` labels.
Gives: `DocumentsPage` (laid out by `documents_layout`) and `DocumentsView`, whose handlers return
updates keyed by component. Upload → `corpus.user.prepare` (nothing written) → the parse report →
confirm (`user.add`, the index updated incrementally) or cancel; the uploaded temporary file is deleted
as soon as it is parsed, or when the upload is cancelled. Who may add or remove:
`server.may_manage_documents`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.core.errors import AssistantError
from assistant.core.langs import LANGS
from assistant.web.render import escape_markdown, instruments_html, report_html
from assistant.web.server import may_manage_documents

if TYPE_CHECKING:
    import gradio as gr

    from assistant.core.settings import Settings
    from assistant.pipeline import Assistant

log = logging.getLogger(__name__)
FILE_TYPES = [".pdf", ".docx", ".html", ".htm", ".md", ".markdown", ".txt"]


@dataclass(frozen=True, eq=False)
class DocumentsPage:
    tab: gr.Tab
    pending: gr.State  # the `user.Prepared` awaiting confirmation, or None
    upload: gr.File
    instrument: gr.Textbox
    lang: gr.Radio
    title: gr.Textbox
    aliases: gr.Textbox
    kind: gr.Radio
    check: gr.Button
    report: gr.HTML
    confirm: gr.Button
    cancel: gr.Button
    status: gr.Markdown
    listing: gr.HTML
    remove_choice: gr.Dropdown
    remove: gr.Button


def documents_layout(first: Mapping[str, str]) -> DocumentsPage:
    import gradio as gr

    from assistant.corpus.user import USER_KINDS

    with gr.Tab(first["tab_documents"], id="documents", elem_id="ara-tab-documents") as tab:
        pending = gr.State(None)
        with gr.Row(equal_height=False):
            with gr.Column(scale=2):
                upload = gr.File(
                    label=first["docs_file"], file_types=FILE_TYPES, type="filepath", elem_id="ara-docs-file"
                )
                instrument = gr.Textbox(label=first["docs_id"], max_lines=1, elem_id="ara-docs-id")
                lang = gr.Radio(list(LANGS), value="ru", label=first["docs_lang"], elem_id="ara-docs-lang")
                title = gr.Textbox(label=first["docs_title"], max_lines=1, elem_id="ara-docs-title")
                aliases = gr.Textbox(label=first["docs_aliases"], lines=2, elem_id="ara-docs-aliases")
                kind = gr.Radio(
                    list(USER_KINDS), value="bilateral", label=first["docs_kind"], elem_id="ara-docs-kind"
                )
                check = gr.Button(first["docs_check"], variant="primary", elem_id="ara-docs-check")
            with gr.Column(scale=3):
                report = gr.HTML(elem_id="ara-docs-report", js_on_load=None)
                with gr.Row():
                    confirm = gr.Button(first["docs_confirm"], interactive=False, elem_id="ara-docs-confirm")
                    cancel = gr.Button(first["docs_cancel"], interactive=False, elem_id="ara-docs-cancel")
                status = gr.Markdown(elem_id="ara-docs-status")
        listing = gr.HTML(elem_id="ara-docs-list", js_on_load=None)
        with gr.Row():
            remove_choice = gr.Dropdown(
                choices=[], value=None, label=first["docs_remove"], elem_id="ara-docs-remove"
            )
            remove = gr.Button(first["docs_remove_button"], variant="stop", elem_id="ara-docs-remove-button")
    return DocumentsPage(
        tab, pending, upload, instrument, lang, title, aliases, kind, check, report, confirm, cancel, status,
        listing, remove_choice, remove,
    )  # fmt: skip


def _uploads_dir() -> Path:
    return Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio").resolve()


def _delete(path: str | None) -> None:
    """Delete an uploaded temporary (Gradio's copy of the file), and nothing outside Gradio's upload folder."""
    if path and Path(path).resolve().is_relative_to(_uploads_dir()):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError:
            log.warning("could not delete the uploaded temporary %s", path)
        with contextlib.suppress(OSError):
            os.rmdir(Path(path).parent)  # Gradio's folder for that one upload, when now empty


@dataclass(frozen=True, eq=False)
class DocumentsView:
    page: DocumentsPage
    assistant: Assistant
    settings: Settings
    uis: Mapping[str, Mapping[str, str]]

    def allowed(self, request: Any) -> bool:
        return may_manage_documents(self.settings, getattr(request, "username", None))

    def labels(self, lang: str, allowed: bool) -> dict[Any, Any]:
        """Labels in `lang`; the add and remove controls only for those who may use them."""
        import gradio as gr

        ui, p = self.uis[lang], self.page
        shown = {"visible": allowed}
        return {
            p.tab: gr.update(label=ui["tab_documents"]),
            p.upload: gr.update(label=ui["docs_file"], **shown),
            p.instrument: gr.update(label=ui["docs_id"], **shown),
            p.lang: gr.update(label=ui["docs_lang"], **shown),
            p.title: gr.update(label=ui["docs_title"], **shown),
            p.aliases: gr.update(label=ui["docs_aliases"], **shown),
            p.kind: gr.update(label=ui["docs_kind"], **shown),
            p.check: gr.update(value=ui["docs_check"], **shown),
            p.confirm: gr.update(value=ui["docs_confirm"], **shown),
            p.cancel: gr.update(value=ui["docs_cancel"], **shown),
            p.remove_choice: gr.update(label=ui["docs_remove"], choices=self._removable(), **shown),
            p.remove: gr.update(value=ui["docs_remove_button"], **shown),
            p.listing: self._listing(lang),
        }

    def arrive(self, lang: str, allowed: bool) -> dict[Any, Any]:
        """As the page loads: the labels, an empty report, and why the controls are missing, if they are."""
        ui, p = self.uis[lang], self.page
        return {
            **self.labels(lang, allowed),
            p.report: report_html(None, ui) if allowed else "",
            p.status: "" if allowed else escape_markdown(ui["docs_forbidden"]),
        }

    def relabelled(self) -> list[Any]:
        """The components `labels` updates."""
        p = self.page
        return [p.tab, p.upload, p.instrument, p.lang, p.title, p.aliases, p.kind, p.check, p.confirm, p.cancel,
                p.remove_choice, p.remove, p.listing]  # fmt: skip

    def _listing(self, lang: str) -> str:
        from assistant.corpus.user import list_instruments

        return instruments_html(list_instruments(self.settings, title_lang=lang), self.uis[lang])

    def _removable(self) -> list[str]:
        from assistant.corpus.user import user_entries

        return sorted({e.instrument for e in user_entries(self.settings)})

    def _idle(self, lang: str, status: str) -> dict[Any, Any]:
        """No upload pending: the confirm and cancel buttons off, the status shown."""
        import gradio as gr

        p = self.page
        return {
            p.pending: None,
            p.upload: None,
            p.confirm: gr.update(interactive=False),
            p.cancel: gr.update(interactive=False),
            p.status: escape_markdown(status),
        }

    def check(self, path: str | None, form: Mapping[str, str], lang: str, request: Any) -> dict[Any, Any]:
        """Parse the upload (nothing written), show its report; the temporary is deleted either way."""
        import gradio as gr

        from assistant.corpus import user

        ui, p = self.uis[lang], self.page
        try:
            if not self.allowed(request):
                return self._idle(lang, ui["docs_forbidden"])
            if not path:
                return {**self._idle(lang, ""), p.report: report_html(None, ui)}
            prepared = user.prepare(
                self.settings,
                path,
                instrument=form["instrument"].strip(),
                lang=form["lang"],
                title=form["title"].strip(),
                aliases=[a.strip() for a in form["aliases"].splitlines() if a.strip()],
                kind=form["kind"],
                data=Path(path).read_bytes(),
                name=Path(path).name,
                added_by=getattr(request, "username", None) or "",
            )
        except (AssistantError, OSError) as exc:
            message = getattr(exc, "message", None) or str(exc)
            return {
                **self._idle(lang, ui["docs_failed"].format(error=message)),
                p.report: report_html(None, ui),
            }
        finally:
            _delete(path)
        return {
            p.pending: prepared,
            p.upload: None,
            p.report: report_html(prepared.report, ui),
            p.confirm: gr.update(interactive=True),
            p.cancel: gr.update(interactive=True),
            p.status: "",
        }

    def confirm(self, prepared: Any, lang: str, request: Any) -> dict[Any, Any]:
        """Add the checked document: stored, indexed (its provisions only), and served at once."""
        from assistant.corpus import user

        ui = self.uis[lang]
        if prepared is None:
            return self._idle(lang, "")
        if not self.allowed(request):
            return self._idle(lang, ui["docs_forbidden"])
        try:
            user.add(self.settings, prepared, embeddings=self.assistant.embeddings)
        except AssistantError as exc:
            return self._idle(lang, ui["docs_failed"].format(error=exc.message))
        self.assistant.reload()
        iid = prepared.entry.instrument
        return {**self._idle(lang, ui["docs_added"].format(id=iid)), **self._after_change(lang)}

    def cancel(self, path: str | None, lang: str) -> dict[Any, Any]:
        _delete(path)
        return self._idle(lang, self.uis[lang]["docs_cancelled"])

    def remove(self, instrument: str | None, lang: str, request: Any) -> dict[Any, Any]:
        from assistant.corpus import user

        ui = self.uis[lang]
        if not self.allowed(request):
            return self._idle(lang, ui["docs_forbidden"])
        if not instrument:
            return self._idle(lang, "")
        try:
            user.remove(self.settings, instrument, embeddings=self.assistant.embeddings)
        except AssistantError as exc:
            return self._idle(lang, ui["docs_failed"].format(error=exc.message))
        self.assistant.reload()
        return {**self._idle(lang, ui["docs_removed"].format(id=instrument)), **self._after_change(lang)}

    def _after_change(self, lang: str) -> dict[Any, Any]:
        import gradio as gr

        p = self.page
        return {
            p.listing: self._listing(lang),
            p.remove_choice: gr.update(choices=self._removable(), value=None),
        }
