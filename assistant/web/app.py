"""The web chat: a Gradio Blocks app over one shared `Assistant`.

Takes: an `Assistant` (built and warmed once at start-up, shared by every request) and the `Settings`.
Gives: `build_app()` (the Blocks app, for tests), `launch()` (start it with the safe defaults) and
`serve()` (what `assistant serve` and `app.py` call). The app only parses, calls `Assistant.ask`, and
renders; every label of the interface comes from the `[ui]` sections of `prompts/<lang>.toml`.

Rendering is inert by construction: the pure functions below escape every character of user and corpus
text that HTML or Markdown could interpret (tags, entities, links, images, emphasis, lists, math), so a
question or a document can only ever show up as text. They are unit-tested in
tests/unit/test_webapp_render.py.

Safe defaults: loopback bind, optional login (`ASSISTANT_AUTH=user:password`), never a share link, no
analytics, no server-side rendering, fonts from the system (no web-font fetch), a queue with a
concurrency limit and a maximum size, and a per-request time limit.
"""

from __future__ import annotations

import html
import ipaddress
import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from assistant.core.errors import ConfigError, InputError
from assistant.core.langs import FALLBACK_LANG, LANGS
from assistant.core.settings import Settings, force_offline
from assistant.web.feedback import FILENAME as FEEDBACK_FILE
from assistant.web.feedback import append_event

# Before anything can import gradio: its analytics and version check read the environment at import.
force_offline()

if TYPE_CHECKING:
    import gradio as gr

    from assistant.answer.citations import Citation
    from assistant.answer.extractive import Answer
    from assistant.corpus.provisions import Provision
    from assistant.pipeline import Assistant

log = logging.getLogger(__name__)

LANG_CODES = ("auto", *LANGS)
UI_LANGS = LANGS
DEFAULT_UI_LANG = "kk"  # the interface's first language; refusals fall back to core.langs.FALLBACK_LANG
MAX_COMMENT_CHARS = 2000

# ------------------------------------------------------------------------------ inert rendering

# Every ASCII character Markdown (CommonMark + GFM + Gradio's math) may treat as syntax. Escaping `:`
# and `.` also defeats GFM's bare-URL, www. and e-mail autolinks, which match on the raw text.
_MD_PUNCT = frozenset("\\`*_{}[]()#+-.!|~:$=^%@/")
_MD_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
# Control characters other than tab/newline have no business on screen.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean(text: str) -> str:
    return _CONTROL.sub("", str(text).replace("\r\n", "\n").replace("\r", "\n"))


def escape_markdown(text: str) -> str:
    """`text` as Markdown that renders to exactly this text: no tag, link, image, list or emphasis."""
    out: list[str] = []
    for ch in _clean(text):
        if ch in _MD_HTML:
            out.append(_MD_HTML[ch])
        elif ch in _MD_PUNCT:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def escape_html(text: str) -> str:
    """`text` safe inside HTML elements and attributes.

    `$ { } \\`` are encoded too: Gradio's HTML component evaluates its template as a JS template
    literal, and nothing we show should ever look like one.
    """
    escaped = html.escape(_clean(text), quote=True)
    return escaped.replace("$", "&#36;").replace("{", "&#123;").replace("}", "&#125;").replace("`", "&#96;")


def _html_lines(text: str) -> str:
    return "<br>".join(escape_html(line) for line in _clean(text).split("\n"))


_LABEL_LINE = re.compile(r"^— \*\*(.+)\*\*$")  # the label under a quote («> — **UNCAC, Art. 54**»)
_HEADING_LINE = re.compile(r"^\*\*(.+):\*\*$")  # «**Commentary in the research article:**»


def answer_markdown(text: str) -> str:
    """An `Answer.answer` (Markdown written by answer.render) made inert, keeping its own structure.

    Only the structure that answer.render itself writes survives: the `> ` of quoted lines, the bold
    label under a quote, the bold commentary heading, and hard line breaks. Everything else, including
    every character of the quoted corpus text, is escaped.
    """
    lines: list[str] = []
    for raw in _clean(text).split("\n"):
        hard_break = raw.endswith("  ")
        body = raw.rstrip()
        prefix = ""
        if body.startswith(">"):
            prefix, body = ">", body[1:].removeprefix(" ")
        if m := _LABEL_LINE.match(body):
            shown = "— **" + escape_markdown(m.group(1)) + "**"
        elif m := _HEADING_LINE.match(body):
            shown = "**" + escape_markdown(m.group(1)) + ":**"
        else:
            shown = escape_markdown(body)
        line = f"{prefix} {shown}" if prefix and shown else (prefix or shown)
        lines.append(line + ("  " if hard_break and shown else ""))
    return "\n".join(lines)


def progressive(markdown: str) -> list[str]:
    """The answer in growing pieces, one more paragraph each, for progressive display.

    Cut only at blank lines: an escaped paragraph is never split inside an escape sequence.
    """
    parts = markdown.split("\n\n")
    return ["\n\n".join(parts[: i + 1]) for i in range(len(parts))]


def sources_html(
    citations: Sequence[Citation],
    ui: Mapping[str, str],
    answer_lang: str,
    language_names: Mapping[str, str],
    disclaimer: str,
) -> str:
    """The sources panel: each citation's label, id, language note and quoted text; then the note."""
    head = f'<div class="ara-sources"><h3>{escape_html(ui["sources"])}</h3>'
    note = f'<p class="ara-note">{escape_html(disclaimer)}</p></div>'
    if not citations:
        return f'{head}<p class="ara-empty">{escape_html(ui["sources_empty"])}</p>{note}'
    items = []
    for c in citations:
        meta = [f"<code>{escape_html(c.id)}</code>"]
        if c.role == "commentary":
            meta.append(escape_html(ui["source_commentary"]))
        if c.source_lang != answer_lang:
            name = language_names.get(c.source_lang, c.source_lang)
            meta.append(escape_html(ui["source_language"].format(language=name)))
        title = f'<div class="ara-source-title">{escape_html(c.title)}</div>' if c.title else ""
        items.append(
            f'<li class="ara-source" data-id="{escape_html(c.id)}">'
            f'<div class="ara-source-label">{escape_html(c.label)}</div>{title}'
            f'<div class="ara-source-meta">{" · ".join(meta)}</div>'
            f'<blockquote class="ara-source-quote" lang="{escape_html(c.source_lang)}">'
            f"{_html_lines(c.quote)}</blockquote></li>"
        )
    return f'{head}<ol class="ara-source-list">{"".join(items)}</ol>{note}'


def article_html(provision: Provision | None, heading: str, ui: Mapping[str, str], note: str = "") -> str:
    """The whole-article panel: heading, title, an optional note, the article's paragraphs."""
    if provision is None:
        return f'<div class="ara-article"><p class="ara-empty">{escape_html(ui["article_empty"])}</p></div>'
    paragraphs = "".join(f"<p>{escape_html(p)}</p>" for p in _clean(provision.text).split("\n") if p.strip())
    title = f'<div class="ara-article-title">{escape_html(provision.title)}</div>' if provision.title else ""
    shown_note = f'<p class="ara-article-note">{escape_html(note)}</p>' if note else ""
    return (
        f'<div class="ara-article" lang="{escape_html(provision.lang)}">'
        f"<h4>{escape_html(heading)}</h4>{title}{shown_note}"
        f'<div class="ara-article-text">{paragraphs}</div></div>'
    )


def article_id_of(citation: Citation) -> str:
    return f"{citation.instrument}:{citation.article}"


def article_choices(
    citations: Iterable[Citation], label_of: Callable[[str, str], str], lang: str
) -> list[tuple[str, str]]:
    """(label, article id) of each cited article, once, in citation order (dropdown choices)."""
    seen: dict[str, str] = {}
    for c in citations:
        aid = article_id_of(c)
        if aid not in seen:
            seen[aid] = label_of(aid, lang)
    return [(lab, aid) for aid, lab in seen.items()]


def choose_version(available: Iterable[str], wanted: str | None) -> str | None:
    """The language version to show: the wanted one if the corpus has it, else ru, en, kk."""
    have = set(available)
    for lang in (wanted, "ru", "en", "kk"):
        if lang in have:
            return lang
    return None


def browser_language(accept_language: str | None) -> str | None:
    """The first of kk/ru/en in an Accept-Language header, by preference weight."""
    ranked: list[tuple[float, int, str]] = []
    for pos, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in UI_LANGS and q > 0:
            ranked.append((-q, pos, primary))
    return min(ranked)[2] if ranked else None


def ui_language(choice: str, answer_lang: str | None, browser_lang: str | None) -> str:
    """The interface language: the chosen one; for «auto», the last answer's, else the browser's."""
    for lang in (choice, answer_lang, browser_lang):
        if lang in UI_LANGS:
            return lang
    return DEFAULT_UI_LANG


def check_language_code(code: object) -> str:
    """A language code of the API, normalised; InputError naming the valid codes otherwise."""
    value = code.strip().lower() if isinstance(code, str) else code
    if value not in LANG_CODES:
        raise InputError(f"unknown language code {code!r}; use one of {', '.join(LANG_CODES)}")
    return str(value)


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """`user:password` → (user, password); the password may itself contain colons."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ConfigError("ASSISTANT_AUTH must look like user:password (both non-empty)")
    return user, password


def language_choices(ui: Mapping[str, str]) -> list[tuple[str, str]]:
    return [(ui["auto"], "auto"), *((ui[f"lang_{lang}"], lang) for lang in LANGS)]


def version_choices(available: Iterable[str], ui: Mapping[str, str]) -> list[tuple[str, str]]:
    have = set(available)
    return [(ui[f"lang_{lang}"], lang) for lang in UI_LANGS if lang in have]


def example_questions(uis: Mapping[str, Mapping[str, str]], ui_lang: str) -> list[str]:
    """Examples in the interface language first, then the Kazakh and Russian ones."""
    out: list[str] = []
    for lang in (ui_lang, "kk", "ru"):
        for line in uis[lang]["examples_list"].splitlines():
            if line.strip() and line.strip() not in out:
                out.append(line.strip())
    return out


def feedback_event(answer: Answer, rating: str, comment: str, ui_lang: str) -> dict[str, Any]:
    """The JSON record of one click on a feedback button."""
    return {
        "ts": datetime.now(UTC).isoformat(timespec="seconds"),
        "rating": rating,
        "comment": _clean(comment or "").strip()[:MAX_COMMENT_CHARS],
        "question": answer.question,
        "language": answer.language,
        "ui_language": ui_lang,
        "refused": answer.refused,
        "reason": answer.reason,
        "citations": [c.id for c in answer.citations],
        "mode": answer.mode,
    }


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# ------------------------------------------------------------------------------ requests


class Runner:
    """Calls `Assistant.ask` with a time limit and a cap on work in flight; always returns an `Answer`.

    Gradio's queue already bounds how many requests run at once; the cap here covers work that
    outlived its time limit (a thread cannot be killed) so that it cannot pile up: past the cap a
    request gets the «busy» refusal at once instead of waiting behind it.
    """

    def __init__(self, assistant: Assistant, *, workers: int, timeout_s: float) -> None:
        self.assistant = assistant
        self.timeout_s = timeout_s
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="ask")
        self._slots = threading.BoundedSemaphore(max(1, workers) * 2)

    def ask(self, question: str, history: Sequence[str] = (), lang: str = "auto") -> Answer:
        if not self._slots.acquire(blocking=False):
            return self._refusal(question, lang, "busy")
        try:
            future = self._pool.submit(self.assistant.ask, question, tuple(history), lang)
        except RuntimeError:  # pool shut down: the app is stopping
            self._slots.release()
            return self._refusal(question, lang, "busy")
        future.add_done_callback(lambda _f: self._slots.release())
        try:
            return future.result(timeout=self.timeout_s)
        except FutureTimeout:
            log.warning("question timed out after %.0f s: %.80r", self.timeout_s, question)
            return self._refusal(question, lang, "timeout")
        except Exception:  # noqa: BLE001 - a user sees a one-line refusal; the log has the traceback
            log.exception("answering failed for %.80r", question)
            return self._refusal(question, lang, "error")

    def _refusal(self, question: str, lang: str, reason: str) -> Answer:
        from assistant.answer.extractive import refusal
        from assistant.text.detect import guess_language

        shown = lang if lang in UI_LANGS else guess_language(question, FALLBACK_LANG)
        return refusal(question, shown, reason, self.assistant.templates)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


# ------------------------------------------------------------------------------ the app


@dataclass(frozen=True)
class Session:
    """One browser tab's state (Gradio keeps a copy per session)."""

    questions: tuple[str, ...] = ()  # the user's earlier questions, raw: the follow-up history
    messages: tuple[tuple[str, str], ...] = ()  # (role, inert Markdown) as shown in the chat
    last: Answer | None = None
    answer_lang: str | None = None  # language of the latest answer; survives clearing the chat
    browser_lang: str | None = None
    article: str | None = None  # article id shown in the whole-article panel
    version: str | None = None  # its language version shown


def _chat_value(messages: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"role": role, "content": content} for role, content in messages]


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
.ara-article { max-height: 420px; overflow-y: auto; }
.ara-article-note { font-style: italic; }
.ara-empty { opacity: 0.7; }
"""


def theme() -> Any:
    """Gradio's default look with system fonts only: no web font is fetched, not even a local one."""
    import gradio as gr

    return gr.themes.Default(
        font=("ui-sans-serif", "system-ui", "sans-serif"),
        font_mono=("ui-monospace", "Consolas", "monospace"),
    )


def build_app(assistant: Assistant, settings: Settings) -> gr.Blocks:
    """The Blocks app around one (already warmed) `Assistant`; nothing is loaded per request.

    The app's `Runner` (its worker threads) is `app.ara_runner`: call its `close()` after `app.close()`.
    """
    import gradio as gr

    templates = assistant.templates  # loads and checks every [ui] key now, not in front of a user
    uis = {lang: templates[lang].section("ui") for lang in UI_LANGS}
    names = {lang: templates[lang].section("language_names") for lang in UI_LANGS}
    store = assistant.index.store
    runner = Runner(assistant, workers=settings.concurrency_limit, timeout_s=settings.request_timeout_s)
    feedback_path = settings.path(settings.data_dir) / FEEDBACK_FILE
    limit = settings.max_question_chars
    first = uis[DEFAULT_UI_LANG]

    with gr.Blocks(title=first["title"], analytics_enabled=False) as app:
        session = gr.State(Session())
        title_md = gr.Markdown(elem_id="ara-title")
        lang_radio = gr.Radio(
            language_choices(first), value="auto", label=first["language"], elem_id="ara-lang"
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
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
                disclaimer_md = gr.Markdown(elem_id="ara-disclaimer")
                question = gr.Textbox(
                    label=first["question"],
                    placeholder=first["question_placeholder"],
                    info=first["question_info"].format(limit=limit),
                    max_length=limit,
                    lines=2,
                    max_lines=8,
                    elem_id="ara-question",
                )
                with gr.Row():
                    send_btn = gr.Button(first["send"], variant="primary", elem_id="ara-send")
                    clear_btn = gr.Button(first["clear"], elem_id="ara-clear")
                examples = gr.Dataset(
                    components=["textbox"],
                    samples=[[q] for q in example_questions(uis, DEFAULT_UI_LANG)],
                    label=first["examples"],
                    type="values",
                    samples_per_page=12,
                    elem_id="ara-examples",
                )
                with gr.Row():
                    helpful_btn = gr.Button(first["helpful"], size="sm", elem_id="ara-helpful")
                    unhelpful_btn = gr.Button(first["not_helpful"], size="sm", elem_id="ara-unhelpful")
                comment = gr.Textbox(
                    label=first["comment"],
                    placeholder=first["comment_placeholder"],
                    max_length=MAX_COMMENT_CHARS,
                    lines=1,
                    elem_id="ara-comment",
                )
                feedback_md = gr.Markdown(elem_id="ara-feedback-status")
            with gr.Column(scale=2):
                sources_box = gr.HTML(elem_id="ara-sources", js_on_load=None)
                article_dd = gr.Dropdown(
                    choices=[], value=None, label=first["article"], elem_id="ara-article-choice"
                )
                version_radio = gr.Radio(choices=[], label=first["versions"], elem_id="ara-versions")
                article_box = gr.HTML(elem_id="ara-article", js_on_load=None)

        # -- rendering the whole page from the session ----------------------------------------------

        def refresh(choice: str, s: Session) -> list[Any]:
            lang = ui_language(choice, s.answer_lang, s.browser_lang)
            ui = uis[lang]
            t = templates[lang]
            citations = s.last.citations if s.last else ()
            choices = article_choices(citations, assistant.label, lang)
            versions = store.versions(s.article) if s.article else {}
            provision = versions.get(s.version) if s.version else None
            note = ""
            wanted = s.last.language if s.last else lang
            if provision is not None and wanted not in versions:
                note = ui["version_missing"].format(language=names[lang].get(wanted, wanted))
            heading = assistant.label(s.article, lang) if s.article else ""
            return [
                gr.update(value=f"## {escape_markdown(ui['title'])}\n\n{escape_markdown(ui['subtitle'])}"),
                gr.update(label=ui["language"], choices=language_choices(ui)),
                gr.update(value=f"*{escape_markdown(t.get('answer.disclaimer'))}*"),
                gr.update(label=ui["chat"], placeholder=escape_markdown(ui["chat_placeholder"])),
                gr.update(
                    label=ui["question"],
                    placeholder=ui["question_placeholder"],
                    info=ui["question_info"].format(limit=limit),
                ),
                gr.update(value=ui["send"]),
                gr.update(value=ui["clear"]),
                gr.update(label=ui["examples"], samples=[[q] for q in example_questions(uis, lang)]),
                gr.update(value=ui["helpful"]),
                gr.update(value=ui["not_helpful"]),
                gr.update(label=ui["comment"], placeholder=ui["comment_placeholder"]),
                gr.update(
                    value=sources_html(
                        citations,
                        ui,
                        s.last.language if s.last else lang,
                        names[lang],
                        t.get("answer.disclaimer"),
                    )
                ),
                gr.update(label=ui["article"], choices=choices, value=s.article),
                gr.update(
                    label=ui["versions"],
                    choices=version_choices(versions, ui),
                    value=s.version if versions else None,
                ),
                gr.update(value=article_html(provision, heading, ui, note)),
            ]

        page = [
            title_md,
            lang_radio,
            disclaimer_md,
            chatbot,
            question,
            send_btn,
            clear_btn,
            examples,
            helpful_btn,
            unhelpful_btn,
            comment,
            sources_box,
            article_dd,
            version_radio,
            article_box,
        ]
        light = {"concurrency_limit": None, "api_visibility": "private", "show_progress": "hidden"}

        def on_load(choice: str, s: Session, request: gr.Request) -> list[Any]:
            header = request.headers.get("accept-language") if request is not None else None
            s = replace(s, browser_lang=browser_language(header))
            return [s, *refresh(choice, s)]

        # Gradio finds the request parameter by its type; with postponed annotations the name `gr`
        # is not resolvable from this module's globals, so give it the class itself.
        on_load.__annotations__["request"] = gr.Request
        app.load(on_load, inputs=[lang_radio, session], outputs=[session, *page], **light)
        lang_radio.input(refresh, inputs=[lang_radio, session], outputs=page, **light)

        # -- asking ---------------------------------------------------------------------------------

        def respond(text: str, choice: str, s: Session):  # noqa: ANN202 - a generator of updates
            text = text or ""
            if not text.strip():
                yield gr.skip(), gr.skip(), gr.skip()
                return
            lang = choice if choice in LANG_CODES else "auto"
            ui = uis[ui_language(choice, s.answer_lang, s.browser_lang)]
            shown = (*s.messages, ("user", escape_markdown(text)))
            yield (
                _chat_value([*shown, ("assistant", escape_markdown(ui["searching"]))]),
                gr.update(value=""),
                gr.skip(),
            )
            answer = runner.ask(text, history=s.questions, lang=lang)
            body = answer_markdown(answer.answer)
            for partial in progressive(body):
                yield _chat_value([*shown, ("assistant", partial)]), gr.skip(), gr.skip()
            first_article = article_id_of(answer.citations[0]) if answer.citations else None
            version = None
            if first_article:
                version = choose_version(store.versions(first_article), answer.language)
            keep = settings.max_history_turns
            s = replace(
                s,
                questions=(*s.questions, text)[-keep:] if keep else (),
                messages=(*shown, ("assistant", body)),
                last=answer,
                answer_lang=answer.language,
                article=first_article,
                version=version,
            )
            yield _chat_value(s.messages), gr.skip(), s

        ask_events = {
            "concurrency_limit": settings.concurrency_limit,
            "concurrency_id": "assistant",
            "api_visibility": "private",
            "show_progress": "minimal",
        }
        for trigger in (send_btn.click, question.submit):
            trigger(
                respond,
                inputs=[question, lang_radio, session],
                outputs=[chatbot, question, session],
                **ask_events,
            ).then(refresh, inputs=[lang_radio, session], outputs=page, **light)

        def pick_example(sample: list[str] | None) -> Any:
            return sample[0] if sample else gr.skip()

        examples.click(pick_example, inputs=examples, outputs=question, **light)

        def clear(s: Session) -> list[Any]:
            return [Session(answer_lang=s.answer_lang, browser_lang=s.browser_lang), [], ""]

        # The chat's own trash icon clears the same way, so no old turn comes back with the next answer.
        for trigger in (clear_btn.click, chatbot.clear):
            trigger(clear, inputs=session, outputs=[session, chatbot, feedback_md], **light).then(
                refresh, inputs=[lang_radio, session], outputs=page, **light
            )

        # -- the whole-article panel ----------------------------------------------------------------

        def pick_article(article_id: str | None, choice: str, s: Session) -> list[Any]:
            versions = store.versions(article_id) if article_id else {}
            wanted = s.last.language if s.last else ui_language(choice, s.answer_lang, s.browser_lang)
            s = replace(s, article=article_id or None, version=choose_version(versions, wanted))
            return [s, *refresh(choice, s)]

        def pick_version(version: str | None, choice: str, s: Session) -> list[Any]:
            return [replace(s, version=version), *refresh(choice, replace(s, version=version))]

        article_dd.input(
            pick_article, inputs=[article_dd, lang_radio, session], outputs=[session, *page], **light
        )
        version_radio.input(
            pick_version, inputs=[version_radio, lang_radio, session], outputs=[session, *page], **light
        )

        # -- feedback -------------------------------------------------------------------------------

        def give_feedback(rating: str, note: str, choice: str, s: Session) -> list[Any]:
            ui = uis[ui_language(choice, s.answer_lang, s.browser_lang)]
            if s.last is None:
                return [escape_markdown(ui["feedback_nothing"]), gr.skip()]
            lang = ui_language(choice, s.answer_lang, s.browser_lang)
            append_event(feedback_path, feedback_event(s.last, rating, note, lang))
            return [escape_markdown(ui["feedback_thanks"]), ""]

        for btn, rating in ((helpful_btn, "helpful"), (unhelpful_btn, "not_helpful")):
            btn.click(
                lambda note, choice, s, _r=rating: give_feedback(_r, note, choice, s),
                inputs=[comment, lang_radio, session],
                outputs=[feedback_md, comment],
                **light,
            )

        # -- the API ----------------------------------------------------------------------------------

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

        gr.api(
            ask,
            api_name="ask",
            concurrency_limit=settings.concurrency_limit,
            concurrency_id="assistant",
        )

    app.queue(
        default_concurrency_limit=settings.concurrency_limit,
        max_size=settings.max_queue,
        api_open=False,
    )
    app.ara_runner = runner  # type: ignore[attr-defined] - closed with the app by `launch` callers
    return app


class BodyLimit:
    """ASGI middleware: a request body over `max_bytes` gets 413 before the app reads it.

    Gradio reads any body whole (a 20 MB question costs ~180 MB of server memory); the question limit in
    guard.py only applies after that. A declared Content-Length is judged at once; a chunked body is read
    up to the limit and then refused.
    """

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_bytes
            except ValueError:
                too_big = True  # a malformed length is not something to trust
            if too_big:
                await self._refuse(send)
                return
            await self.app(scope, receive, send)
            return
        if scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        messages, size = [], 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._refuse(send)
                return
            if not message.get("more_body"):
                break

        async def replay() -> dict:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Callable) -> None:
        body = f'{{"error": "request body over {self.max_bytes} bytes"}}'.encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def launch(
    app: gr.Blocks,
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    block: bool = True,
) -> str:
    """Start `app` with the safe defaults; returns its local URL (blocks until stopped if `block`)."""
    host = host or settings.host
    port = port or settings.port
    auth = parse_auth(settings.auth)
    if not is_loopback(host) and auth is None:
        log.warning("listening on %s without a login; set ASSISTANT_AUTH=user:password", host)
    from starlette.middleware import Middleware

    try:
        app.launch(
            server_name=host,
            server_port=port,
            auth=auth,
            share=False,
            inbrowser=False,
            show_error=False,
            prevent_thread_lock=True,
            ssr_mode=False,
            pwa=False,
            mcp_server=False,
            enable_monitoring=False,
            footer_links=["api"],
            app_kwargs={"middleware": [Middleware(BodyLimit, max_bytes=settings.max_request_bytes)]},
            quiet=True,  # gradio's banner suggests `share=True`, which this app never does
            theme=theme(),
            css=CSS,
        )
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {host}:{port} ({exc}); stop the other server or choose --port / ASSISTANT_PORT"
        ) from None
    url = app.local_url or f"http://{host}:{port}/"
    log.info("web chat at %s%s", url, " (login required)" if auth else "")
    if block:
        app.block_thread()
    return url


def check_port_free(host: str, port: int) -> None:
    """Fail in a second, not after loading the model, when the address is taken."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise ConfigError(
            f"cannot resolve host {host!r} ({exc}); use an IP address such as 127.0.0.1"
        ) from None
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port} ({exc.strerror}); stop the other server or choose "
                "--port / ASSISTANT_PORT"
            ) from None


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    """Build one `Assistant`, load the model and index now, then serve the chat until stopped."""
    from assistant.pipeline import Assistant

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # gradio's own start-up probes of itself
    host, port = host or settings.host, port or settings.port
    check_port_free(host, port)
    parse_auth(settings.auth)
    assistant = Assistant(settings)
    log.info("loading the embedding model and the index…")
    assistant.warm_up()
    app = build_app(assistant, settings)
    try:
        launch(app, settings, host=host, port=port, block=True)
    finally:
        app.ara_runner.close()  # type: ignore[attr-defined]
