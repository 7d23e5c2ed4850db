"""What kind of question this is, so the answer can take its shape.

Takes: the question text, its parsed references and the conversation (`understand.ParsedQuery`).
Gives: a `QuestionKind`: «article» (what does article N say), «compare», «which» (which instrument),
«yesno», «definition», «procedure», «facts» (what the research article states), «followup» or «other».
`question_parts` splits a message asking two things into its questions.
Cue patterns per language are data: `assistant/data/intents.toml`.
"""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from importlib import resources
from typing import Literal

from assistant.core.errors import ConfigError

QuestionKind = Literal[
    "article", "compare", "which", "yesno", "definition", "procedure", "facts", "followup", "other"
]


_WHERE = "assistant/data/intents.toml"


@lru_cache(maxsize=1)
def _intents() -> dict:
    """The parsed intents file: cue patterns per kind, the «contrast» cues and the pointer words."""
    try:
        return tomllib.loads(resources.files("assistant").joinpath("data/intents.toml").read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{_WHERE}: cannot read the question kinds ({exc}); fix the file") from None


def _compiled(patterns: list[str]) -> tuple[re.Pattern[str], ...]:
    try:
        return tuple(re.compile(p, re.I) for p in patterns)
    except re.error as exc:
        raise ConfigError(f"{_WHERE}: bad pattern ({exc}); fix the regular expression") from None


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]:
    raw = _intents()
    try:
        return tuple((kind, _compiled(raw[kind])) for kind in raw["order"])
    except KeyError as exc:
        raise ConfigError(f"{_WHERE}: cannot read the question kinds (no {exc}); fix the file") from None


def cue_kind(text: str) -> QuestionKind | None:
    """The first kind whose cue pattern occurs in `text`, or None."""
    for kind, patterns in _patterns():
        if any(p.search(text) for p in patterns):
            return kind  # type: ignore[return-value]
    return None


@lru_cache(maxsize=1)
def _contrast() -> tuple[re.Pattern[str], ...]:
    return _compiled(_intents().get("contrast", []))


def question_kind(
    text: str, *, named_articles: bool, research_article: bool, followup: bool, instruments: int = 0
) -> QuestionKind:
    """The shape the answer should take.

    An explicit article reference makes it an «article» question unless it asks to compare; a question
    about the research article is «facts»; a follow-up without cues of its own keeps «followup». «How do
    X and Y differ» compares when it names two or more `instruments`.
    """
    cue = cue_kind(text)
    if instruments >= 2 and any(p.search(text) for p in _contrast()):
        cue = "compare"
    if cue == "compare":
        return "compare"
    if research_article:
        return "facts"
    if named_articles:
        return "article"
    if cue is not None:
        return cue
    return "followup" if followup else "other"


@lru_cache(maxsize=1)
def _scopes() -> tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]:
    return tuple((name, _compiled(patterns)) for name, patterns in _intents().get("scopes", {}).items())


def which_scope(text: str) -> str | None:
    """The class of instrument a «which instrument» question asks among, as the first of the `scopes` in
    intents.toml whose pattern occurs: an organisation («конвенции ООН» → «un»), «bilateral» or
    «conventions»; None for any instrument."""
    for name, patterns in _scopes():
        if any(p.search(text) for p in patterns):
            return name
    return None


@lru_cache(maxsize=1)
def _part_break() -> re.Pattern[str] | None:
    pattern = _intents().get("part_break")
    return _compiled([pattern])[0] if pattern else None


def question_parts(text: str, *, min_words: int = 3) -> list[str]:
    """The questions one message asks, in order («куда направить запрос и на каком языке его составить?» →
    two); a part shorter than `min_words` words stays with the part before it, as written."""
    pattern = _part_break()
    spans = [] if pattern is None else [m.span() for m in pattern.finditer(text)]
    parts: list[str] = []
    start = 0
    for n, (brk, end) in enumerate(spans):
        nxt = spans[n + 1][0] if n + 1 < len(spans) else len(text)
        if len(text[end:nxt].split()) >= min_words and len(text[start:brk].split()) >= min_words:
            parts.append(text[start:brk])
            start = end
    parts.append(text[start:])
    return [p.strip(" ,;?") for p in parts if p.strip(" ,;?")] or [text]


@lru_cache(maxsize=8)
def pointer_stems(lang: str) -> frozenset[str]:
    """Stems of the words that only point at a provision («статья», «бап», "article", «говорит»), as
    `tokenize` gives them in `lang`: see intents.toml."""
    from assistant.text.tokenize import tokenize

    return frozenset(tokenize(" ".join(_intents().get("pointers", [])), lang))


@lru_cache(maxsize=1)
def interrogatives() -> dict[str, frozenset[str]]:
    """The question words of each topic-phrasing language (kk, ru, en, latin), folded: see intents.toml."""
    from assistant.text.tokenize import fold

    return {key: frozenset(fold(w) for w in ws) for key, ws in _intents().get("interrogatives", {}).items()}
