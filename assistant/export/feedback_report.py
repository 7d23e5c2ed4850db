"""The feedback review: what users said about the answers, for the people who improve the assistant.

Takes: the events of `<data_dir>/feedback.jsonl` (assistant/web/feedback.py writes them: ts, rating,
comment, question, language, ui_language, refused, reason, citations, mode).
Gives: `summarise()` (counts by language and by rating, the «not helpful» answers with their questions,
comments and citations), rendered as Markdown or HTML (`to_markdown`, `to_html`), and `questions_yaml()`,
a draft fragment of tests/questions.yaml with the not-helpful questions (kind, split and expect are left
for curators to fill in).
"""

from __future__ import annotations

import datetime as dt
import html
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from assistant.core.errors import InputError

NOT_HELPFUL = ("not_helpful", "down", "bad", "-1", "no")


@dataclass(frozen=True)
class Summary:
    total: int
    since: str
    by_language: dict[str, int]
    by_rating: dict[str, int]
    by_language_rating: dict[str, dict[str, int]]
    not_helpful: tuple[dict[str, Any], ...] = field(default_factory=tuple)


def parse_since(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"--since {text!r} is not a date; use YYYY-MM-DD, e.g. --since 2025-06-01") from None


def _day(event: Mapping[str, Any]) -> dt.date | None:
    ts = event.get("ts")
    if not isinstance(ts, str):
        return None
    try:
        return dt.datetime.fromisoformat(ts.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def is_not_helpful(event: Mapping[str, Any]) -> bool:
    return str(event.get("rating", "")).strip().lower().replace("-", "_").replace(" ", "_") in NOT_HELPFUL


def summarise(events: Iterable[Mapping[str, Any]], since: dt.date | None = None) -> Summary:
    """Counts and the not-helpful answers of the events on or after `since` (events without a date are kept
    only when there is no `since`)."""
    kept = []
    for e in events:
        if since is not None:
            day = _day(e)
            if day is None or day < since:
                continue
        kept.append(e)
    by_lang = Counter(str(e.get("language") or "?") for e in kept)
    by_rating = Counter(str(e.get("rating") or "?") for e in kept)
    cross: dict[str, Counter] = {}
    for e in kept:
        cross.setdefault(str(e.get("language") or "?"), Counter())[str(e.get("rating") or "?")] += 1
    return Summary(
        total=len(kept),
        since=since.isoformat() if since else "",
        by_language=dict(sorted(by_lang.items())),
        by_rating=dict(sorted(by_rating.items())),
        by_language_rating={k: dict(sorted(v.items())) for k, v in sorted(cross.items())},
        not_helpful=tuple(dict(e) for e in kept if is_not_helpful(e)),
    )


def _cites(e: Mapping[str, Any]) -> list[str]:
    c = e.get("citations") or []
    return [str(x) for x in c] if isinstance(c, list) else []


def questions_yaml(not_helpful: Sequence[Mapping[str, Any]], first_id: int = 900) -> str:
    """A draft questions.yaml fragment: one entry per distinct not-helpful question, ids qNNN from `first_id`.

    kind, split and expect.cite are left empty for curators; the citations the assistant gave are kept in a
    comment-like `given` field so a curator sees what was wrong."""
    seen: set[tuple[str, str]] = set()
    entries = []
    for e in not_helpful:
        q = str(e.get("question") or "").strip()
        lang = str(e.get("language") or "")
        if not q or (lang, q) in seen:
            continue
        seen.add((lang, q))
        entries.append(
            {
                "id": f"q{first_id + len(entries)}",
                "lang": lang,
                "kind": "",  # to fill: which | yesno | article | procedure | ... (see tests/questions.yaml)
                "split": "",  # to fill: tune | test
                "question": q,
                "expect": {"cite": []},
                "draft": {"given": _cites(e), "comment": str(e.get("comment") or "")},
            }
        )
    header = (
        "# Draft from `assistant feedback report`: questions users marked «not helpful».\n"
        "# Curators: fill in kind, split and expect.cite (gold provision ids), then drop `draft`.\n"
    )
    if not entries:
        return header + "[]\n"
    return header + yaml.safe_dump(entries, allow_unicode=True, sort_keys=False, width=110)


def _table_md(title: str, counts: Mapping[str, int]) -> list[str]:
    lines = [f"| {title} | count |", "|---|---:|"]
    lines += [f"| {k} | {v} |" for k, v in counts.items()] or ["| — | 0 |"]
    return lines + [""]


def to_markdown(s: Summary) -> str:
    lines = ["# Feedback report", ""]
    lines.append(f"{s.total} event(s)" + (f" since {s.since}" if s.since else "") + ".")
    lines += ["", "## By language", ""] + _table_md("language", s.by_language)
    lines += ["## By rating", ""] + _table_md("rating", s.by_rating)
    lines += [f"## Not helpful ({len(s.not_helpful)})", ""]
    for i, e in enumerate(s.not_helpful, 1):
        lines.append(f"### {i}. {str(e.get('question') or '').strip() or '(no question)'}")
        lines.append("")
        lines.append(
            f"- **when:** {e.get('ts', '?')}  **language:** {e.get('language', '?')}  **mode:** {e.get('mode', '?')}"
        )
        if e.get("refused"):
            lines.append(f"- **refused:** {e.get('reason') or 'yes'}")
        if e.get("comment"):
            lines.append(f"- **comment:** {e['comment']}")
        lines.append(f"- **citations:** {', '.join(_cites(e)) or '—'}")
        lines.append("")
    lines += [
        "## Draft questions.yaml fragment",
        "",
        "```yaml",
        questions_yaml(s.not_helpful).rstrip(),
        "```",
        "",
    ]
    return "\n".join(lines)


def _table_html(title: str, counts: Mapping[str, int]) -> str:
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{v}</td></tr>" for k, v in counts.items())
    return f"<table><thead><tr><th>{title}</th><th>count</th></tr></thead><tbody>{rows}</tbody></table>"


def to_html(s: Summary) -> str:
    esc = html.escape
    items = []
    for e in s.not_helpful:
        parts = [
            f"<h3>{esc(str(e.get('question') or '(no question)'))}</h3><ul>",
            f"<li><b>when:</b> {esc(str(e.get('ts', '?')))}; <b>language:</b> {esc(str(e.get('language', '?')))}</li>",
        ]
        if e.get("refused"):
            parts.append(f"<li><b>refused:</b> {esc(str(e.get('reason') or 'yes'))}</li>")
        if e.get("comment"):
            parts.append(f"<li><b>comment:</b> {esc(str(e['comment']))}</li>")
        parts.append(f"<li><b>citations:</b> {esc(', '.join(_cites(e)) or '—')}</li></ul>")
        items.append("".join(parts))
    since = f" since {esc(s.since)}" if s.since else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Feedback report</title>'
        "<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.2rem .6rem}pre{background:#f6f6f6;padding:1rem}</style></head><body>"
        f"<h1>Feedback report</h1><p>{s.total} event(s){since}.</p>"
        f"<h2>By language</h2>{_table_html('language', s.by_language)}"
        f"<h2>By rating</h2>{_table_html('rating', s.by_rating)}"
        f"<h2>Not helpful ({len(s.not_helpful)})</h2>{''.join(items)}"
        f"<h2>Draft questions.yaml fragment</h2><pre>{esc(questions_yaml(s.not_helpful))}</pre>"
        "</body></html>\n"
    )
