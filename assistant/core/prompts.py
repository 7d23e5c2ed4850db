"""Prompt and answer-template files: `prompts/<lang>.toml`, one per language.

Takes: the prompts folder. Gives: `Templates` for each language of `core.langs.LANGS`, each a flat
mapping of dotted keys (`labels.article`, `answer.lead_one`, ...) to `str.format` templates. Every key the code uses is
declared in `REQUIRED` with the named variables it may use; loading fails with a one-line error naming
the file, key and problem when a key is missing or a template uses a variable that is not offered, so a
typo in a translation is caught at start-up, not in front of a user.
"""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from assistant.core.errors import ConfigError
from assistant.core.langs import LANGS, check_languages
from assistant.corpus.provisions import ARTICLE_SECTIONS

# key -> variables the template may use
# The [ui] keys of the Compare, Treaties, Documents and Feedback tabs (assistant/web/views.py, documents.py).
_VIEW_UI_KEYS = """
tab_chat tab_compare tab_treaties tab_documents tab_feedback compare_topic compare_instruments
compare_instruments_info compare_show compare_empty compare_summary compare_quote download_md
download_csv download_docx browse_instrument browse_article browse_empty browse_topics
browse_nearest link docs_file docs_id docs_lang docs_title docs_aliases docs_kind docs_check
docs_confirm docs_cancel docs_list docs_remove docs_remove_button docs_cancelled docs_forbidden
docs_report_empty docs_columns feedback_since feedback_show
"""

_CHAT_EXPORT_UI_KEYS = (
    "export_format export_scope export_all export_last download export_nothing copy_citation"
)

REQUIRED: dict[str, frozenset[str]] = {
    "labels.article": frozenset({"n"}),
    "labels.with_paragraph": frozenset({"art", "p"}),
    "labels.with_paragraph_sub": frozenset({"art", "p", "s"}),
    "labels.with_sub": frozenset({"art", "s"}),
    "labels.ratification": frozenset(),
    "labels.preamble": frozenset(),
    "labels.final": frozenset(),
    "labels.annex": frozenset(),
    "labels.protocol": frozenset({"n"}),
    "labels.amending_protocol": frozenset(),
    "labels.research_article": frozenset(),
    "labels.research_paragraph": frozenset({"section", "p"}),
    "labels.join": frozenset({"instrument", "where"}),
    "answer.lead_one": frozenset({"provision"}),
    "answer.lead_many": frozenset({"provisions"}),
    "answer.lead_lookup": frozenset({"provision"}),
    "answer.lead_missing_article": frozenset({"reference", "instrument"}),
    "answer.quote_other_language": frozenset({"language"}),
    "answer.commentary": frozenset(),
    "answer.also_relevant": frozenset(),
    "answer.and": frozenset(),
    "answer.disclaimer": frozenset(),
    # answers from the topic map (answer/topical.py) and comparison tables
    "topic.lead": frozenset({"topic"}),
    "topic.summary_line": frozenset({"provision", "says"}),
    "topic.quotes": frozenset(),
    "topic.has": frozenset({"instrument"}),
    "topic.has_related": frozenset({"instrument"}),
    "topic.none": frozenset({"instrument"}),
    "topic.see_also": frozenset({"provisions"}),
    "topic.nearest": frozenset(),
    "topic.summary_note": frozenset(),
    "compare.title": frozenset({"topic"}),
    "compare.instrument": frozenset(),
    "compare.provisions": frozenset(),
    "compare.says": frozenset(),
    "compare.none": frozenset(),
    "compare.unmapped": frozenset(),
    # formal citation strings (answer/citation_strings.py)
    "cite.article": frozenset({"n"}),
    "cite.paragraph": frozenset({"n", "p"}),
    "cite.sub": frozenset({"n", "s"}),
    "cite.paragraph_sub": frozenset({"n", "p", "s"}),
    "cite.preamble": frozenset(),
    "cite.ratification": frozenset(),
    "cite.final": frozenset(),
    "cite.annex": frozenset(),
    "cite.point": frozenset({"p"}),
    **{
        f"cite.{form}": frozenset({"where", "title", "title_dat", "origin"})
        for form in ("form", "optional_protocol_form", "amending_protocol_form", "research_form")
    },
    "cite.origin": frozenset({"place", "date"}),
    "cite.date": frozenset({"d", "month", "y"}),
    "cite.months": frozenset(),
    # exported memos (export/memo.py)
    "export.title_answer": frozenset(),
    "export.title_conversation": frozenset(),
    "export.question": frozenset(),
    "export.answer": frozenset(),
    "export.turn": frozenset({"n"}),
    "export.sources": frozenset(),
    "export.quote": frozenset({"language"}),
    "export.summary": frozenset(),
    "export.citation": frozenset(),
    "export.whole_article": frozenset(),
    "export.language": frozenset(),
    "export.date": frozenset(),
    "export.corpus_version": frozenset(),
    "export.no_sources": frozenset(),
    "refusal.no_treaty": frozenset({"country", "partners"}),
    "refusal.other_task": frozenset({"coverage"}),
    "refusal.out_of_scope": frozenset({"coverage"}),
    "refusal.injection": frozenset({"coverage"}),
    "refusal.empty": frozenset(),
    "refusal.too_long": frozenset({"limit"}),
    "refusal.no_words": frozenset(),
    "refusal.unsupported_language": frozenset(),
    "refusal.busy": frozenset(),
    "refusal.timeout": frozenset(),
    "refusal.error": frozenset(),
    "coverage": frozenset(),
    **{f"language_names.{lang}": frozenset() for lang in LANGS},
    **{f"sections.{name}": frozenset() for name in ARTICLE_SECTIONS},
    "llm.system": frozenset({"language"}),
    "llm.user": frozenset({"question", "provisions"}),
    # web chat labels (assistant/web/app.py)
    "ui.title": frozenset(),
    "ui.subtitle": frozenset(),
    "ui.language": frozenset(),
    "ui.auto": frozenset(),
    **{f"ui.lang_{lang}": frozenset() for lang in LANGS},
    "ui.chat": frozenset(),
    "ui.chat_placeholder": frozenset(),
    "ui.question": frozenset(),
    "ui.question_placeholder": frozenset(),
    "ui.question_info": frozenset({"limit"}),
    "ui.send": frozenset(),
    "ui.clear": frozenset(),
    "ui.examples": frozenset(),
    "ui.examples_list": frozenset(),
    "ui.searching": frozenset(),
    "ui.sources": frozenset(),
    "ui.sources_empty": frozenset(),
    "ui.source_commentary": frozenset(),
    "ui.source_language": frozenset({"language"}),
    "ui.article": frozenset(),
    "ui.article_empty": frozenset(),
    "ui.versions": frozenset(),
    "ui.version_missing": frozenset({"language"}),
    "ui.helpful": frozenset(),
    "ui.not_helpful": frozenset(),
    "ui.comment": frozenset(),
    "ui.comment_placeholder": frozenset(),
    "ui.feedback_thanks": frozenset(),
    "ui.feedback_nothing": frozenset(),
    **{f"ui.{k}": frozenset() for k in _VIEW_UI_KEYS.split()},
    # the chat's download control and the sources panel's citation field (assistant/web/downloads.py)
    **{f"ui.{k}": frozenset() for k in _CHAT_EXPORT_UI_KEYS.split()},
    "ui.browse_not_found": frozenset({"id"}),
    "ui.docs_added": frozenset({"id"}),
    "ui.docs_removed": frozenset({"id"}),
    "ui.docs_failed": frozenset({"error"}),
}


def _flatten(data: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in data.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{full}."))
        else:
            out[full] = value
    return out


@dataclass(frozen=True)
class Templates:
    lang: str
    entries: dict[str, str]

    def get(self, key: str) -> str:
        return self.entries[key]

    def render(self, key: str, **values: object) -> str:
        return self.entries[key].format(**values)

    def section(self, prefix: str) -> dict[str, str]:
        """All entries under `prefix.` (e.g. the web UI's labels), keys without the prefix."""
        cut = len(prefix) + 1
        return {k[cut:]: v for k, v in self.entries.items() if k.startswith(prefix + ".")}


def _check(path: Path, entries: dict[str, object], required: dict[str, frozenset[str]]) -> dict[str, str]:
    checked: dict[str, str] = {}
    for key, value in entries.items():
        if not isinstance(value, str):
            raise ConfigError(f"{path}: `{key}` must be a string; fix the template file")
        allowed = required.get(key)
        try:
            used = {field for _, field, _, _ in string.Formatter().parse(value) if field is not None}
        except ValueError as exc:
            raise ConfigError(f"{path}: `{key}` is not a valid template ({exc}); fix the braces") from None
        if allowed is not None and not used <= allowed:
            bad = ", ".join(sorted(used - allowed))
            raise ConfigError(
                f"{path}: `{key}` uses unknown variable(s) {bad}; allowed: {sorted(allowed) or 'none'}"
            )
        checked[key] = value
    missing = sorted(set(required) - set(checked))
    if missing:
        raise ConfigError(f"{path}: missing template(s) {', '.join(missing[:5])}; add them to the file")
    return checked


def load_templates(folder: Path, lang: str, required: dict[str, frozenset[str]] | None = None) -> Templates:
    path = Path(folder) / f"{lang}.toml"
    if not path.exists():
        raise ConfigError(
            f"template file {path} is missing; restore it from git or set ASSISTANT_PROMPTS_DIR"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); fix the file") from None
    return Templates(
        lang=lang, entries=_check(path, _flatten(data), REQUIRED if required is None else required)
    )


@lru_cache(maxsize=8)
def _cached(folder: str) -> dict[str, Templates]:
    templates = {lang: load_templates(Path(folder), lang) for lang in LANGS}
    problems = check_languages(Path(folder))  # e.g. a new prompts file without its stemmer entry
    if problems:
        raise ConfigError(f"{folder}: {problems[0]}; see assistant/core/langs.py for adding a language")
    return templates


def all_templates(folder: Path) -> dict[str, Templates]:
    """Templates for every language, loaded and checked once per folder."""
    return _cached(str(Path(folder).resolve()))
