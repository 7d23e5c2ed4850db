"""The question file: its schema (docs/evaluation.md), loading with one-line errors, and gold-id checks.

Takes: a YAML question file (the format of tests/questions.yaml). Gives: `Question`s with their `Expect`ations,
kind and tune/test split; a schema error raises `QuestionFileError` naming the file, the entry (id or position)
and the reason, before any question runs. Gold citation ids are then checked against the index.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.core.errors import QuestionFileError
from assistant.core.ids import instrument_of
from assistant.core.langs import LANGS

ENTRY_KEYS = frozenset({"id", "lang", "question", "history", "expect", "kind", "split"})
EXPECT_KEYS = frozenset({"cite", "also", "facts", "refuse", "instruments"})
# Optional labels (tests/questions.yaml sets both on every entry): the question's type, and the half of a
# fixed tune/test split it belongs to (tune for development, test for the figures reported).
KINDS = frozenset(
    {"which", "yesno", "article", "procedure", "compare", "definition", "facts", "followup", "scenario"}
    | {"refuse", "other"}
)
SPLITS = frozenset({"tune", "test"})
# "instrument", "instrument:article", "instrument:article.para", "instrument:article.para.sub"
CITE_ID = re.compile(r"^[a-z][a-z0-9-]*(:[a-z0-9-]+(\.[a-z0-9-]+){0,2})?$")
QUESTION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

# ------------------------------------------------------------------------------ the question file


@dataclass(frozen=True)
class Expect:
    cite: tuple[str, ...] = ()
    also: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()
    refuse: bool = False
    instruments: tuple[str, ...] = ()  # kind compare: the instruments a good comparison must cover

    def to_dict(self) -> dict[str, Any]:
        return {
            "cite": list(self.cite),
            "also": list(self.also),
            "facts": list(self.facts),
            "refuse": self.refuse,
            "instruments": list(self.instruments),
        }


@dataclass(frozen=True)
class Question:
    id: str
    lang: str
    question: str
    expect: Expect
    history: tuple[str, ...] = ()
    kind: str | None = None
    split: str | None = None


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def _entry_error(path: Path, where: str, reason: str) -> QuestionFileError:
    return QuestionFileError(f"{path}: {where}: {reason}; fix the entry and re-run")


def _where(entry: Any, position: int) -> str:
    qid = entry.get("id") if isinstance(entry, dict) else None
    if isinstance(qid, str | int) and str(qid).strip():
        return f"entry {str(qid)!r} (#{position})"
    return f"entry #{position}"


def _id_list(value: Any, key: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError(f"expect.{key} must be a list of citation ids like 'uncac:54.1.a'")
    for item in value:
        if not isinstance(item, str) or not CITE_ID.match(item):
            raise ValueError(
                f"malformed citation id {item!r} in expect.{key} "
                "(use 'instrument', 'instrument:article' or 'instrument:article.para[.sub]', lower case)"
            )
    return tuple(value)


def _facts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError("expect.facts must be a list of regexes")
    for fact in value:
        if not isinstance(fact, str):
            raise ValueError(f"fact {fact!r} is not a string")
        try:
            pattern = re.compile(fact, re.IGNORECASE)
        except re.error as exc:
            raise ValueError(f"bad regex {fact!r} in expect.facts ({exc})") from None
        if pattern.fullmatch(""):
            raise ValueError(f"fact {fact!r} matches the empty string, so it checks nothing")
    return tuple(value)


def parse_entry(entry: Any) -> Question:
    """One question entry → `Question`; raises ValueError with the reason when it breaks the schema."""
    if not isinstance(entry, dict):
        raise ValueError(
            f"an entry must be a mapping with id, lang, question, expect; got {type(entry).__name__}"
        )
    unknown = sorted(str(k) for k in set(entry) - ENTRY_KEYS)
    if unknown:
        raise ValueError(f"unknown key(s) {unknown} (allowed: {sorted(ENTRY_KEYS)})")
    for key in ("id", "lang", "question", "expect"):
        if key not in entry:
            raise ValueError(f"missing {key!r}")
    qid = entry["id"]
    if not isinstance(qid, str) or not QUESTION_ID.match(qid):
        raise ValueError(f"id {qid!r} must be a string of letters, digits, '_', '.', '-' (e.g. q001)")
    if entry["lang"] not in LANGS:
        raise ValueError(f"unknown lang {entry['lang']!r} (use one of {', '.join(LANGS)})")
    question = entry["question"]
    if not isinstance(question, str) or not question.strip():
        raise ValueError("question must be a non-empty string")
    history = entry.get("history", [])
    if history is None:
        history = []
    if not isinstance(history, list) or not all(isinstance(h, str) and h.strip() for h in history):
        raise ValueError("history must be a list of earlier questions (non-empty strings)")
    for key, allowed in (("kind", KINDS), ("split", SPLITS)):
        if key in entry and entry[key] not in allowed:
            raise ValueError(f"unknown {key} {entry[key]!r} (use one of {', '.join(sorted(allowed))})")
    expect = entry["expect"]
    if not isinstance(expect, dict):
        raise ValueError("expect must be a mapping with cite, also, facts, refuse")
    unknown = sorted(str(k) for k in set(expect) - EXPECT_KEYS)
    if unknown:
        raise ValueError(f"unknown key(s) {unknown} in expect (allowed: {sorted(EXPECT_KEYS)})")
    for key in ("cite", "refuse"):
        if key not in expect:
            raise ValueError(f"missing expect.{key}")
    cite = _id_list(expect["cite"], "cite")
    also = _id_list(expect.get("also") or [], "also")
    facts = _facts(expect.get("facts") or [])
    instruments = _id_list(expect.get("instruments") or [], "instruments")
    if any(":" in i for i in instruments):
        raise ValueError("expect.instruments lists instrument ids only (e.g. 'uncac'), not provisions")
    refuse = expect["refuse"]
    if not isinstance(refuse, bool):
        raise ValueError(f"expect.refuse must be true or false, not {refuse!r}")
    if refuse and (cite or also or facts):
        raise ValueError("a question expecting a refusal has no cite, also or facts")
    if not refuse and not cite:
        raise ValueError("an answerable question (refuse: false) needs at least one expect.cite id")
    return Question(
        id=qid,
        lang=entry["lang"],
        question=question,
        history=tuple(history),
        expect=Expect(cite=cite, also=also, facts=facts, refuse=refuse, instruments=instruments),
        kind=entry.get("kind"),
        split=entry.get("split"),
    )


def parse_questions(text: str, path: Path) -> list[Question]:
    """Validate a whole question file's text; raises `QuestionFileError` at the first problem."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = "somewhere"
        if mark is not None:
            # The entry is the last top-level list item that starts at or before the broken line.
            starts = [i for i, line in enumerate(text.splitlines()[: mark.line + 1]) if line.startswith("-")]
            entry = f" (in entry #{len(starts)})" if starts else ""
            where = f"line {mark.line + 1}, column {mark.column + 1}{entry}"
        problem = getattr(exc, "problem", None) or str(exc)
        raise QuestionFileError(
            f"{path}: invalid YAML at {where}: {one_line(problem)}; fix the syntax and re-run"
        ) from None
    if not isinstance(data, list) or not data:
        raise QuestionFileError(
            f"{path}: the file must be a non-empty YAML list of question entries (- id: q001 ...)"
        )
    questions: list[Question] = []
    first_seen: dict[str, int] = {}
    for position, entry in enumerate(data, start=1):
        try:
            q = parse_entry(entry)
        except ValueError as exc:
            raise _entry_error(path, _where(entry, position), one_line(str(exc))) from None
        if q.id in first_seen:
            raise _entry_error(
                path, _where(entry, position), f"duplicate id (first used by entry #{first_seen[q.id]})"
            )
        first_seen[q.id] = position
        questions.append(q)
    return questions


def load_questions(path: Path | str) -> list[Question]:
    """Read and validate a question file; every problem is a one-line `QuestionFileError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise QuestionFileError(f"{path}: no such question file; check the --questions path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionFileError(
            f"{path}: cannot read the question file ({one_line(str(exc))}); save it as UTF-8 text"
        ) from None
    return parse_questions(text, path)


def check_gold_ids(questions: Sequence[Question], path: Path | str, index_ids: Collection[str]) -> None:
    """Every gold id must name an instrument or a provision of the index (else it could never match)."""
    instruments = {instrument_of(i) for i in index_ids}
    for position, q in enumerate(questions, start=1):
        for key, ids in (
            ("cite", q.expect.cite),
            ("also", q.expect.also),
            ("instruments", q.expect.instruments),
        ):
            for gold in ids:
                known = gold in instruments if ":" not in gold else gold in index_ids
                if not known:
                    raise _entry_error(
                        Path(path),
                        f"entry {q.id!r} (#{position})",
                        f"expect.{key} id {gold!r} is not in the index (check `assistant search` for the id)",
                    )
