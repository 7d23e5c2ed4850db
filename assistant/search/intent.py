"""What kind of question this is, so the answer can take its shape.

Takes: the question text, its parsed references and the conversation (`understand.ParsedQuery`).
Gives: a `QuestionKind`: «article» (what does article N say), «compare», «which» (which instrument),
«yesno», «definition», «procedure», «facts» (what the research article states), «followup» or «other».
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


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]:
    where = "assistant/data/intents.toml"
    try:
        raw = tomllib.loads(resources.files("assistant").joinpath("data/intents.toml").read_text("utf-8"))
        return tuple((kind, tuple(re.compile(p, re.I) for p in raw[kind])) for kind in raw["order"])
    except (OSError, tomllib.TOMLDecodeError, KeyError, re.error) as exc:
        raise ConfigError(f"{where}: cannot read the question kinds ({exc}); fix the file") from None


def cue_kind(text: str) -> QuestionKind | None:
    """The first kind whose cue pattern occurs in `text`, or None."""
    for kind, patterns in _patterns():
        if any(p.search(text) for p in patterns):
            return kind  # type: ignore[return-value]
    return None


@lru_cache(maxsize=1)
def _contrast() -> tuple[re.Pattern[str], ...]:
    raw = tomllib.loads(resources.files("assistant").joinpath("data/intents.toml").read_text("utf-8"))
    return tuple(re.compile(p, re.I) for p in raw.get("contrast", ()))


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
def pointer_words() -> tuple[str, ...]:
    """Words that only point at a provision («статья», «бап», "article", «говорит»): see intents.toml."""
    raw = tomllib.loads(resources.files("assistant").joinpath("data/intents.toml").read_text("utf-8"))
    return tuple(raw.get("pointers", ()))
