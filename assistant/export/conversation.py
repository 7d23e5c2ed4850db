"""A conversation as data: the turns (question + `Answer`) a memo is exported from, and its JSON file.

Takes: `Answer` objects (the web chat, `assistant ask`) or a conversation file.
Gives: the frozen `Conversation`, `to_dict()` and `parse_conversation()` / `load_conversation()`, which check
the file and raise one-line `InputError`s (too large, not UTF-8, not JSON, wrong schema, no turns).

File schema (UTF-8 JSON, at most MAX_BYTES):
    {"language": "kk" | "ru" | "en",            the conversation's language
     "turns": [ANSWER, ...],                    oldest first; ANSWER is what `assistant ask --json` prints
     "created": "2025-06-11T10:00:00+00:00",    optional: when the conversation took place
     "corpus_version": "<manifest sha256>"}     optional: the corpus the answers were built from
A bare ANSWER (the output of `assistant ask --json`) is read as a conversation of one turn.
ANSWER needs "question" and "answer" (strings); "language", "refused", "citations" (objects with at least
"id", "label" and "quote") and the other `Answer` fields are optional.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from assistant.answer.citations import Citation
from assistant.answer.extractive import Answer
from assistant.core.errors import InputError
from assistant.core.langs import LANGS

MAX_BYTES = 5_000_000  # a long conversation with whole quotes is well under 1 MB
MAX_TURNS = 500
SCHEMA_HINT = 'expected {"language": "kk|ru|en", "turns": [answers as printed by `assistant ask --json`]}'

_CITATION_FIELDS = {f.name for f in fields(Citation)}


@dataclass(frozen=True)
class Conversation:
    language: str
    turns: tuple[Answer, ...]
    created: str = ""
    corpus_version: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "created": self.created,
            "corpus_version": self.corpus_version,
            "turns": [a.to_dict() for a in self.turns],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1)


def _bad(where: str, what: str) -> InputError:
    return InputError(f"{where}: {what}; {SCHEMA_HINT}")


def _str(where: str, data: Mapping[str, Any], key: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise _bad(where, f"'{key}' must be a string" if key in data else f"missing '{key}'")
    return value


def citation_from_dict(data: Any, where: str) -> Citation:
    if not isinstance(data, dict):
        raise _bad(where, "a citation must be an object")
    values = {k: v for k, v in data.items() if k in _CITATION_FIELDS}
    for key in ("id", "label", "quote"):
        _str(where, values, key)
    for key, value in values.items():
        if not isinstance(value, str):
            raise _bad(where, f"citation field '{key}' must be a string")
    pid = values["id"]
    instrument, _, rest = pid.partition(":")
    values.setdefault("instrument", instrument)
    values.setdefault("article", rest.partition(".")[0])
    values.setdefault("title", "")
    values.setdefault("source_lang", "")
    return Citation(**values)


def answer_from_dict(data: Any, where: str, language: str = "") -> Answer:
    """An `Answer` from its `to_dict()` form; only question and answer are required."""
    if not isinstance(data, dict):
        raise _bad(where, "a turn must be an object")
    lang = _str(where, data, "language", language or "en")
    if lang not in LANGS:
        raise _bad(where, f"unknown language {lang!r} (kk, ru or en)")
    refused = data.get("refused", False)
    if not isinstance(refused, bool):
        raise _bad(where, "'refused' must be true or false")
    cites = data.get("citations", [])
    if not isinstance(cites, list):
        raise _bad(where, "'citations' must be a list")
    return Answer(
        question=_str(where, data, "question"),
        language=lang,
        answer=_str(where, data, "answer"),
        refused=refused,
        citations=tuple(citation_from_dict(c, f"{where}, citation {i + 1}") for i, c in enumerate(cites)),
        reason=data.get("reason") if isinstance(data.get("reason"), str) else None,
        mode=data.get("mode") if isinstance(data.get("mode"), str) else "extractive",
        topic=data.get("topic") if isinstance(data.get("topic"), str) else None,
        kind=data.get("kind") if isinstance(data.get("kind"), str) else None,
    )


def parse_conversation(raw: bytes, name: str = "conversation") -> Conversation:
    """Check and read a conversation file's bytes; InputError (one line) when they are not usable."""
    if len(raw) > MAX_BYTES:
        raise InputError(
            f"{name}: file too large ({len(raw)} bytes, at most {MAX_BYTES}); export fewer turns"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InputError(f"{name}: not valid JSON ({str(exc).splitlines()[0]}); {SCHEMA_HINT}") from None
    if isinstance(data, dict) and "turns" not in data and "question" in data and "answer" in data:
        one = answer_from_dict(data, f"{name}, the answer")
        return Conversation(language=one.language, turns=(one,), corpus_version=_opt(data, "corpus_version"))
    if not isinstance(data, dict):
        raise _bad(name, "the file must hold a JSON object")
    unknown = sorted(set(data) - {"language", "turns", "created", "corpus_version"})
    if unknown:
        raise _bad(name, f"unknown key(s) {', '.join(unknown)}")
    turns = data.get("turns")
    if not isinstance(turns, list):
        raise _bad(name, "'turns' must be a list")
    if len(turns) > MAX_TURNS:
        raise InputError(f"{name}: {len(turns)} turns, at most {MAX_TURNS}; split the conversation")
    language = data.get("language")
    if language is None and turns and isinstance(turns[0], dict):
        language = turns[0].get("language")
    if language not in LANGS:
        raise _bad(name, f"'language' must be kk, ru or en, not {language!r}")
    return Conversation(
        language=language,
        turns=tuple(answer_from_dict(t, f"{name}, turn {i + 1}", language) for i, t in enumerate(turns)),
        created=_opt(data, "created"),
        corpus_version=_opt(data, "corpus_version"),
    )


def _opt(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key, "")
    return value if isinstance(value, str) else ""


def load_conversation(path: Path | str) -> Conversation:
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise InputError(
                f"{path}: file too large ({size} bytes, at most {MAX_BYTES}); export fewer turns"
            )
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file; give the path of a conversation JSON file") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a folder; give the path of a conversation JSON file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror})") from None
    return parse_conversation(raw, str(path))


def require_turns(conversation: Conversation) -> None:
    """InputError when there is nothing to export."""
    if not conversation.turns:
        raise InputError("nothing to export: the conversation has no turns")
