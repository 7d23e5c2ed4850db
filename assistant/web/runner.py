"""Running questions for the web chat: a time limit, a cap on work in flight, and one tab's state.

Takes: an `Assistant` (anything with `ask(question, history, lang)` and `templates`), a worker count and
a per-request time limit.
Gives: `Runner.ask()`, which always returns an `Answer` — the real one, or a refusal in the question's
language when the app is busy, the time limit passed or answering failed — and `Session`, the state
Gradio keeps per browser tab. Nothing here imports gradio.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from assistant.core.langs import FALLBACK_LANG
from assistant.web.render import UI_LANGS, article_id_of, choose_version

if TYPE_CHECKING:
    from assistant.answer.extractive import Answer
    from assistant.pipeline import Assistant

log = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class Session:
    """One browser tab's state (Gradio keeps a copy per session)."""

    questions: tuple[str, ...] = ()  # the user's earlier questions, raw: the follow-up history
    messages: tuple[tuple[str, str], ...] = ()  # (role, inert Markdown) as shown in the chat
    last: Answer | None = None
    answers: tuple[Answer, ...] = ()  # every answer of the chat, in order: what «download» exports
    answer_lang: str | None = None  # language of the latest answer; survives clearing the chat
    browser_lang: str | None = None
    article: str | None = None  # article id shown in the whole-article panel
    version: str | None = None  # its language version shown
    link: str | None = None  # a question from the page's link (`/?q=…`), asked once the page has loaded
    base_url: str = "/"  # the page's address without its query: the base of «copy link»

    def answered(
        self,
        question: str,
        asked: tuple[str, str],
        answer: Answer,
        body: str,
        *,
        keep: int,
        versions_of: Callable[[str], Iterable[str]],
    ) -> Session:
        """This session after `answer` to `question`.

        `asked` is the question's chat message and `body` the answer's inert Markdown; the history keeps
        the last `keep` questions (none when 0); the article panel turns to the first cited article, in
        the answer's language if `versions_of(article id)` has it (see `choose_version`).
        """
        article = article_id_of(answer.citations[0]) if answer.citations else None
        version = choose_version(versions_of(article), answer.language) if article else None
        return replace(
            self,
            questions=(*self.questions, question)[-keep:] if keep else (),
            messages=(*self.messages, asked, ("assistant", body)),
            last=answer,
            answers=(*self.answers, answer),
            answer_lang=answer.language,
            article=article,
            version=version,
        )

    def cleared(self) -> Session:
        """An empty chat that remembers only the languages (of the last answer and of the browser)."""
        return Session(answer_lang=self.answer_lang, browser_lang=self.browser_lang, base_url=self.base_url)
