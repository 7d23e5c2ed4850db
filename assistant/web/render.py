"""What the web chat shows, as pure functions of text: escaping, the answer, the panels, the choices.

Takes: plain values (answer Markdown from answer.render, `Citation`s, a `Provision`, the `[ui]` labels
of one language, an Accept-Language header, a language code).
Gives: strings of inert Markdown or HTML, lists of (label, value) choices, and the language picks of the
interface (`ui_language`, `browser_language`, `choose_version`, `check_language_code`). Nothing here
imports gradio or touches the index, so all of it is unit-tested in tests/unit/test_webapp_render.py.

Rendering is inert by construction: every character of user and corpus text that HTML or Markdown
could interpret (tags, entities, links, images, emphasis, lists, math) is escaped, so a question or a
document can only ever show up as text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from assistant.core.errors import InputError
from assistant.core.langs import LANGS

if TYPE_CHECKING:
    from assistant.answer.citations import Citation
    from assistant.corpus.provisions import Provision

LANG_CODES = ("auto", *LANGS)
UI_LANGS = LANGS
DEFAULT_UI_LANG = "kk"  # the interface's first language; refusals fall back to core.langs.FALLBACK_LANG

# ------------------------------------------------------------------------------ inert text

# Every ASCII character Markdown (CommonMark + GFM + Gradio's math) may treat as syntax. Escaping `:`
# and `.` also defeats GFM's bare-URL, www. and e-mail autolinks, which match on the raw text.
_MD_PUNCT = frozenset("\\`*_{}[]()#+-.!|~:$=^%@/")
_MD_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
# Control characters other than tab/newline have no business on screen.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean(text: str) -> str:
    """`text` with one kind of line break and no control characters (other than tab and newline)."""
    return _CONTROL.sub("", str(text).replace("\r\n", "\n").replace("\r", "\n"))


def escape_markdown(text: str) -> str:
    """`text` as Markdown that renders to exactly this text: no tag, link, image, list or emphasis."""
    out: list[str] = []
    for ch in clean(text):
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
    escaped = html.escape(clean(text), quote=True)
    return escaped.replace("$", "&#36;").replace("{", "&#123;").replace("}", "&#125;").replace("`", "&#96;")


def _html_lines(text: str) -> str:
    return "<br>".join(escape_html(line) for line in clean(text).split("\n"))


_LABEL_LINE = re.compile(r"^— \*\*(.+)\*\*$")  # the label under a quote («> — **UNCAC, Art. 54**»)
_HEADING_LINE = re.compile(r"^\*\*(.+):\*\*$")  # «**Commentary in the research article:**»


def answer_markdown(text: str) -> str:
    """An `Answer.answer` (Markdown written by answer.render) made inert, keeping its own structure.

    Only the structure that answer.render itself writes survives: the `> ` of quoted lines, the bold
    label under a quote, the bold commentary heading, and hard line breaks. Everything else, including
    every character of the quoted corpus text, is escaped.
    """
    lines: list[str] = []
    for raw in clean(text).split("\n"):
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


def chat_value(messages: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    """(role, inert Markdown) pairs as the chat component's list of messages."""
    return [{"role": role, "content": content} for role, content in messages]


def header_markdown(ui: Mapping[str, str]) -> str:
    """The page heading: title and subtitle."""
    return f"## {escape_markdown(ui['title'])}\n\n{escape_markdown(ui['subtitle'])}"


def disclaimer_markdown(disclaimer: str) -> str:
    """The disclaimer under the chat, in italics."""
    return f"*{escape_markdown(disclaimer)}*"


# ------------------------------------------------------------------------------ panels


def sources_html(
    citations: Sequence[Citation],
    ui: Mapping[str, str],
    answer_lang: str,
    language_names: Mapping[str, str],
    disclaimer: str,
    cite: Callable[[str], str] | None = None,
) -> str:
    """The sources panel: each citation's label, id, language note and quoted text; then the note.

    `cite(provision id)` gives its formal citation string ("" for none), shown in a field one click
    selects whole («copy citation»)."""
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
            f"{_html_lines(c.quote)}</blockquote>{citation_field(cite(c.id) if cite else '', ui)}</li>"
        )
    return f'{head}<ol class="ara-source-list">{"".join(items)}</ol>{note}'


def citation_field(citation: str, ui: Mapping[str, str]) -> str:
    """A provision's formal citation as text one click selects whole (CSS `user-select: all`); "" for none."""
    if not citation:
        return ""
    return (
        f'<div class="ara-source-cite"><span class="ara-cite-label">{escape_html(ui["copy_citation"])}</span> '
        f'<code class="ara-cite">{escape_html(citation)}</code></div>'
    )


def article_html(provision: Provision | None, heading: str, ui: Mapping[str, str], note: str = "") -> str:
    """The whole-article panel: heading, title, an optional note, the article's paragraphs."""
    if provision is None:
        return f'<div class="ara-article"><p class="ara-empty">{escape_html(ui["article_empty"])}</p></div>'
    paragraphs = "".join(f"<p>{escape_html(p)}</p>" for p in clean(provision.text).split("\n") if p.strip())
    title = f'<div class="ara-article-title">{escape_html(provision.title)}</div>' if provision.title else ""
    shown_note = f'<p class="ara-article-note">{escape_html(note)}</p>' if note else ""
    return (
        f'<div class="ara-article" lang="{escape_html(provision.lang)}">'
        f"<h4>{escape_html(heading)}</h4>{title}{shown_note}"
        f'<div class="ara-article-text">{paragraphs}</div></div>'
    )


def version_note(
    shown: Provision | None,
    available: Iterable[str],
    wanted: str,
    ui: Mapping[str, str],
    names: Mapping[str, str],
) -> str:
    """The note over an article shown in another language than `wanted` («no Kazakh version»), else ""."""
    if shown is None or wanted in set(available):
        return ""
    return ui["version_missing"].format(language=names.get(wanted, wanted))


# ------------------------------------------------------------------------------ choices and languages


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


def language_choices(ui: Mapping[str, str]) -> list[tuple[str, str]]:
    """The language radio's (label, code) pairs: auto first, then kk, ru, en."""
    return [(ui["auto"], "auto"), (ui["lang_kk"], "kk"), (ui["lang_ru"], "ru"), (ui["lang_en"], "en")]


def version_choices(available: Iterable[str], ui: Mapping[str, str]) -> list[tuple[str, str]]:
    """The (label, code) pairs of the language versions an article has, in kk, ru, en order."""
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


# ------------------------------------------------------------------------------ compare, browse, links


def topic_choices(titles: Mapping[str, Mapping[str, str]], lang: str) -> list[tuple[str, str]]:
    """(title in `lang`, topic id) of every topic, by title: the Compare view's topic picker."""
    return sorted(((t.get(lang) or tid, tid) for tid, t in titles.items()), key=lambda c: c[0].casefold())


def instrument_choices(
    order: Sequence[str], names: Mapping[str, Mapping[str, str]], lang: str
) -> list[tuple[str, str]]:
    """(short name in `lang`, instrument id) in display order (multilateral by date, then bilateral)."""
    return [(names.get(i, {}).get(lang) or i, i) for i in order]


def comparison_html(comparison, ui: Mapping[str, str], words: Mapping[str, str], note: str) -> str:  # noqa: ANN001
    """A `Comparison` as a table: instrument, provisions (label, editorial summary, verbatim quote folded
    in a <details>), or «no such provision» / «not yet mapped»; `words` is the `[compare]` section."""
    if comparison is None:
        return f'<div class="ara-compare"><p class="ara-empty">{escape_html(ui["compare_empty"])}</p></div>'
    head = "".join(f"<th>{escape_html(words[k])}</th>" for k in ("instrument", "provisions"))
    rows = []
    for row in comparison.rows:
        if row.provisions:
            cell = "".join(_compared_html(p, ui) for p in row.provisions)
        else:
            cell = f'<p class="ara-empty">{escape_html(words["none" if row.none else "unmapped"])}</p>'
        rows.append(
            f'<tr data-instrument="{escape_html(row.instrument)}"><td class="ara-compare-name">'
            f"{escape_html(row.name)}</td><td>{cell}</td></tr>"
        )
    return (
        f'<div class="ara-compare" lang="{escape_html(comparison.language)}">'
        f"<h3>{escape_html(words['title'].format(topic=comparison.title))}</h3>"
        f'<table class="ara-compare-table"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
        f'<p class="ara-note">{escape_html(note)}</p></div>'
    )


def _compared_html(p, ui: Mapping[str, str]) -> str:  # noqa: ANN001 - answer.topical.ComparedProvision
    return (
        f'<div class="ara-compared" data-id="{escape_html(p.id)}">'
        f'<div class="ara-source-label">{escape_html(p.label)}</div>'
        f'<p class="ara-says"><span class="ara-says-mark">{escape_html(ui["compare_summary"])}</span> '
        f"{escape_html(p.says)}</p>"
        f'<details class="ara-quote"><summary>{escape_html(ui["compare_quote"])}</summary>'
        f'<blockquote class="ara-source-quote" lang="{escape_html(p.quote_lang)}">{_html_lines(p.quote)}'
        "</blockquote></details></div>"
    )


def toc_choices(
    article_ids: Iterable[str], label_of: Callable[[str, str], str], title_of: Callable[[str], str], lang: str
) -> list[tuple[str, str]]:
    """(«label — title», article id) of an instrument's articles: the treaty browser's table of contents."""
    out = []
    for aid in article_ids:
        title = clean(title_of(aid)).replace("\n", " ").strip()
        lab = label_of(aid, lang)
        out.append((f"{lab} — {title}" if title else lab, aid))
    return out


def provision_html(
    heading: str,
    versions: Mapping[str, Provision],
    topics: Sequence[str],
    ui: Mapping[str, str],
    wanted: str,
) -> str:
    """One provision in every language version the corpus has, side by side (`wanted` first), then the
    titles of the topics it belongs to."""
    order = [lang for lang in (wanted, *UI_LANGS) if lang in versions]
    cols = []
    for lang in dict.fromkeys(order):
        p = versions[lang]
        paragraphs = "".join(f"<p>{escape_html(x)}</p>" for x in clean(p.text).split("\n") if x.strip())
        title = f'<div class="ara-article-title">{escape_html(p.title)}</div>' if p.title else ""
        cols.append(
            f'<div class="ara-version" lang="{escape_html(lang)}"><h5>{escape_html(ui[f"lang_{lang}"])}</h5>'
            f'{title}<div class="ara-article-text">{paragraphs}</div></div>'
        )
    listed = "".join(f"<li>{escape_html(t)}</li>" for t in topics)
    shown = (
        f'<div class="ara-topics"><b>{escape_html(ui["browse_topics"])}</b><ul>{listed}</ul></div>'
        if topics
        else ""
    )
    return (
        f'<div class="ara-browse"><h4>{escape_html(heading)}</h4>'
        f'<div class="ara-versions-row">{"".join(cols)}</div>{shown}</div>'
    )


def not_found_html(provision_id: str, nearest: Sequence[str], ui: Mapping[str, str]) -> str:
    """«provision not found» for a link's unknown id, with the nearest valid ids."""
    near = ", ".join(f"<code>{escape_html(n)}</code>" for n in nearest)
    tail = f"<p>{escape_html(ui['browse_nearest'])} {near}</p>" if nearest else ""
    return (
        f'<div class="ara-browse ara-not-found"><p>{escape_html(ui["browse_not_found"].format(id=provision_id))}</p>'
        f"{tail}</div>"
    )


def nearest_ids(wanted: str, ids: Iterable[str], n: int = 5) -> list[str]:
    """The valid ids closest to `wanted` (difflib), those of the same instrument first."""
    import difflib

    pool = sorted(ids)
    inst = wanted.partition(":")[0]
    same = [i for i in pool if i.startswith(inst + ":")]
    found = difflib.get_close_matches(wanted, same, n=n, cutoff=0.5) if same else []
    rest = difflib.get_close_matches(wanted, pool, n=n, cutoff=0.5)
    return list(dict.fromkeys([*found, *rest]))[:n]


def question_link(base: str, question: str, lang: str) -> str:
    """The `/?q=…&lang=…` link that opens the chat and asks `question` again."""
    from urllib.parse import urlencode

    params = {"q": question, **({"lang": lang} if lang in UI_LANGS else {})}
    return base.split("?", 1)[0].split("#", 1)[0] + "?" + urlencode(params)


def link_params(query: Mapping[str, str]) -> tuple[str | None, str | None, str | None]:
    """(question, provision id, language) from a link's query: `?q=…`, `?p=…`, `?lang=kk|ru|en`."""
    q = query.get("q")
    p = (query.get("p") or "").strip() or None
    lang = (query.get("lang") or "").strip().lower()
    return (q if q and q.strip() else None, p, lang if lang in UI_LANGS else None)


# ------------------------------------------------------------------------------ documents


def report_html(report, ui: Mapping[str, str]) -> str:  # noqa: ANN001 - corpus.user.ParseReport | None
    """A document's parse report: the summary lines (as `assistant add` prints them), then one table row
    per article (number, first words, provisions) and per text outside any article."""
    if report is None:
        return (
            f'<div class="ara-report"><p class="ara-empty">{escape_html(ui["docs_report_empty"])}</p></div>'
        )
    summary = report.render().split("\n")
    cut = next((i for i, line in enumerate(summary) if line.lstrip().startswith("#")), len(summary))
    warnings = [line for line in summary[cut:] if line.startswith("warning: ")]
    lines = "".join(f"<li>{escape_html(line)}</li>" for line in [*summary[:cut], *warnings])
    head = "".join(f"<th>{escape_html(c)}</th>" for c in ui["docs_columns"].split("|"))
    rows = "".join(
        f"<tr><td>{escape_html(a.number)}</td><td>{escape_html(a.first_words)}</td><td>{a.provisions}</td></tr>"
        for a in (*report.articles, *report.outside)
    )
    return (
        f'<div class="ara-report"><ul>{lines}</ul>'
        f'<table class="ara-compare-table ara-report-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
    )


def instruments_html(rows: Sequence, ui: Mapping[str, str]) -> str:  # noqa: ANN001 - corpus.user.InstrumentRow
    """Every instrument of the corpus (id, origin, languages with provision counts, title), users' first."""
    shown = sorted(rows, key=lambda r: r.origin == "bundled")
    body = "".join(
        f'<tr data-id="{escape_html(r.id)}" data-origin="{escape_html(r.origin)}"><td><code>{escape_html(r.id)}</code></td>'
        f"<td>{escape_html(r.origin)}</td>"
        f"<td>{escape_html(' '.join(f'{lang}:{r.provisions.get(lang, chr(8212))}' for lang in r.languages))}</td>"
        f"<td>{escape_html(r.title)}</td></tr>"
        for r in shown
    )
    return (
        f'<div class="ara-instruments"><h4>{escape_html(ui["docs_list"])}</h4>'
        f'<table class="ara-compare-table"><tbody>{body}</tbody></table></div>'
    )
