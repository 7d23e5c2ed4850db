"""The languages the assistant speaks, defined once.

Takes: nothing (the table below). Gives: `LANGS` (the language codes, in order), `Lang` (their type),
`STEMMERS` (the stemmer entry of each language, read by `text.stem`), `FALLBACK_LANG` (the one language
a refusal or a detection falls back to when a text gives no evidence) and `check_languages`, which
compares `LANGS` with what a prompts folder and the glossary provide.

`LANGS` is derived from `STEMMERS`, so adding a language is three steps:
1. a stemmer entry here (a Snowball algorithm name, or our own as for Kazakh);
2. a prompts file `prompts/<lang>.toml` (answer templates, refusals, interface labels);
3. a column `<lang> = [...]` in every concept of `assistant/data/glossary.toml`.
`check_languages` (run when the templates are loaded, and by the unit tests) names whatever is missing.
The language detector (`text.detect`) then needs word evidence for the new language to pick it
automatically; until it has some, users choose the language explicitly.

The order of `LANGS` is meaningful: it is the order of language columns in reports, of language versions
of a document, and the tie-break of the detector (Kazakh first: a Cyrillic question the word lists do not
know is likelier Kazakh typed without its own letters than Russian).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

__all__ = ["FALLBACK_LANG", "LANGS", "STEMMERS", "Lang", "check_languages", "missing_languages"]

Lang = Literal["kk", "ru", "en"]

# language → stemmer: a snowballstemmer algorithm name, or "ours" for the rule-based one in text/stem.py
STEMMERS: Mapping[str, str] = {"kk": "ours", "ru": "russian", "en": "english"}

LANGS: tuple[Lang, ...] = tuple(STEMMERS)  # type: ignore[assignment]

# When a text gives no language evidence at all (an empty question, «???», a crash while detecting),
# refusals and the detector both answer in Russian. One rule for both: an empty question and an
# unreadable one are refused in the same language, whatever the entry point (the web app used «kk»,
# the pipeline «ru»; the detector already said «ru»). Russian, because it is the language every
# version of the corpus has and that practically all users of a Kazakh legal tool read. The web
# interface's own default language (web/app.py, DEFAULT_UI_LANG = kk) is a separate, layout choice.
FALLBACK_LANG: Lang = "ru"


def missing_languages(prompt_langs: Iterable[str], glossary_langs: Iterable[str]) -> list[str]:
    """One line per language that lacks a stemmer entry, a prompts file or a glossary column."""
    prompts, glossary = set(prompt_langs), set(glossary_langs)
    problems: list[str] = []
    for lang in sorted(set(LANGS) | prompts | glossary):
        missing = [
            what
            for what, have in (
                ("a stemmer entry in assistant/core/langs.py", lang in STEMMERS),
                (f"a prompts file {lang}.toml", lang in prompts),
                (f"a glossary column `{lang}`", lang in glossary),
            )
            if not have
        ]
        if missing:
            problems.append(f"language {lang!r} lacks {' and '.join(missing)}")
    return problems


def check_languages(prompts_dir: Path, glossary_langs: Iterable[str] | None = None) -> list[str]:
    """`missing_languages` for a prompts folder (every `*.toml` file in it is a language) and the
    packaged glossary (or `glossary_langs`). Empty when every language is complete."""
    prompt_langs = [p.stem for p in Path(prompts_dir).glob("*.toml")]
    if glossary_langs is None:
        import tomllib
        from importlib import resources

        raw = tomllib.loads(resources.files("assistant").joinpath("data/glossary.toml").read_text("utf-8"))
        # a language is a glossary column when every concept has it ("match" is not a language)
        columns = [set(entry) - {"match"} for entry in raw.values()]
        glossary_langs = set.intersection(*columns) if columns else set()
    return missing_languages(prompt_langs, glossary_langs)
