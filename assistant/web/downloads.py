"""The chat's «download» control: the conversation (or its last answer) as a DOCX, PDF or Markdown memo.

Takes: the session's answers, the chosen format and scope, the templates, the manifest (formal citations),
the provision store and the corpus version (the index's manifest hash).
Gives: `FORMAT_CHOICES`, `scope_choices()`, `conversation_of()` (pure: which answers go in the memo) and
`write_memo()`, which writes the file under a folder named by its content's hash and returns its path.
Nothing here imports gradio.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.export.conversation import Conversation

if TYPE_CHECKING:
    from assistant.answer.extractive import Answer
    from assistant.core.prompts import Templates

FORMAT_CHOICES = [("DOCX", "docx"), ("PDF", "pdf"), ("Markdown", "md")]
SCOPES = ("all", "last")


def scope_choices(ui: Mapping[str, str]) -> list[tuple[str, str]]:
    """(label, value) of the two scopes: the whole conversation, the last answer."""
    return [(ui["export_all"], "all"), (ui["export_last"], "last")]


def conversation_of(
    answers: Sequence[Answer], scope: str, *, created: str, corpus_version: str
) -> Conversation | None:
    """The memo's conversation: every answer, or only the last (`scope` "last"); None when there is none."""
    if not answers:
        return None
    turns = tuple(answers[-1:]) if scope == "last" else tuple(answers)
    return Conversation(
        language=turns[-1].language, turns=turns, created=created, corpus_version=corpus_version
    )


def memo_stem(scope: str) -> str:
    return "answer" if scope == "last" else "conversation"


def write_memo(
    conversation: Conversation,
    fmt: str,
    scope: str,
    templates: Mapping[str, Templates],
    folder: Path,
    *,
    manifest: Any = None,
    store: Any = None,
) -> Path:
    """Write the memo under `folder/<hash of its bytes>/` (the same memo is written once); its path."""
    from assistant.export.memo import export_conversation, filename

    data = export_conversation(conversation, fmt, templates, manifest=manifest, store=store)
    path = folder / hashlib.sha256(data).hexdigest()[:16] / filename(memo_stem(scope), fmt)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return path
