"""Citations as data: human labels for provision ids, the `Citation` record, and verification.

Takes: provision ids, the instrument names from the manifest and the label templates of `prompts/`.
Gives: `label()` («Страсбург конвенциясы (1990), 13-бап, 1(a)-тармақ» / «Страсбургская конвенция
1990 г., ст. 13, п. 1(a)» / "Strasbourg Convention 1990, Art. 13(1)(a)"), the frozen `Citation` that
the CLI, the web chat and the evaluation render, and `verify_citations()`, which every answer passes
through: an answer may cite only ids that exist in the index and were retrieved for this question.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import asdict, dataclass

from assistant.core.ids import ProvisionId, covers
from assistant.core.prompts import Templates


def _where(ref: ProvisionId, t: Templates, lang: str) -> str:
    art = ref.article
    if ref.is_research_article:
        section = t.entries.get(f"sections.{art}", art)
        return t.render("labels.research_paragraph", section=section, p=ref.paragraph or "1")
    if art in ("ratification", "preamble", "final", "annex") or art.startswith(("annex-", "final-")):
        return t.get(f"labels.{art.split('-')[0]}")
    if art == "protocol":  # a protocol amending the treaty, printed after it (its points are paragraphs)
        head = t.get("labels.amending_protocol")
    elif art.startswith("op") and art[2:].isdigit():
        head = t.render("labels.protocol", n=art[2:])
    elif art.startswith("op"):
        return t.render("labels.protocol", n=art[2:].strip("-"))
    else:
        head = t.render("labels.article", n=art)
    if ref.paragraph and ref.sub:
        return t.render("labels.with_paragraph_sub", art=head, p=ref.paragraph, s=ref.sub)
    if ref.paragraph:
        return t.render("labels.with_paragraph", art=head, p=ref.paragraph)
    if ref.sub:
        return t.render("labels.with_sub", art=head, s=ref.sub)
    return head


def label(
    provision_id: str,
    lang: str,
    short_names: Mapping[str, Mapping[str, str]],
    templates: Mapping[str, Templates],
) -> str:
    """Human label of a provision id in `lang`; `short_names[instrument][lang]` from the manifest."""
    ref = ProvisionId.try_parse(provision_id)
    t = templates[lang]
    if ref is None:
        return provision_id
    if ref.is_research_article:
        name = t.get("labels.research_article")
    else:
        name = short_names.get(ref.instrument, {}).get(lang, ref.instrument)
    return t.render("labels.join", instrument=name, where=_where(ref, t, lang))


@dataclass(frozen=True)
class Citation:
    id: str  # canonical provision id
    instrument: str
    article: str
    title: str  # the article's title in source_lang
    label: str  # human label in the answer language
    quote: str  # the decisive text, as the corpus has it
    source_lang: str  # language of `quote`
    role: str = "provision"  # "provision" | "commentary"
    # the topic map's one-sentence editorial summary of what the provision establishes (never treaty text)
    summary: str = ""
    topic: str = ""  # the topic id the summary belongs to

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class Verification:
    kept: tuple[str, ...]
    dropped: tuple[tuple[str, str], ...]  # (id, reason)


def verify_citations(
    cited: Iterable[str], *, retrieved: Collection[str], exists: Collection[str]
) -> Verification:
    """Keep each cited id that exists in the index and was retrieved for this question.

    A cited id may also be an ancestor or descendant of a retrieved one (citing article 13 when 13.1.a
    was retrieved, or 13.1 when the article was): that is the same text at another granularity.
    """
    kept: list[str] = []
    dropped: list[tuple[str, str]] = []
    for cid in cited:
        cid = cid.strip()
        if cid in kept:
            continue
        if ProvisionId.try_parse(cid) is None:
            dropped.append((cid, "not a provision id"))
        elif cid not in exists:
            dropped.append((cid, "no such provision in the index"))
        elif not any(related(cid, r) for r in retrieved):
            dropped.append((cid, "not retrieved for this question"))
        else:
            kept.append(cid)
    return Verification(tuple(kept), tuple(dropped))


def related(a: str, b: str) -> bool:
    """The same provision at another granularity: equal, ancestor or descendant."""
    return covers(a, b) or covers(b, a)
