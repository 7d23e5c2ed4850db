"""Grounded extractive answers: a lead sentence, the decisive provision text quoted, commentary.

Takes: the parsed question, the retrieval `Hit`s, the provision store and the language templates.
Gives: an `Answer` whose every quote is a verbatim slice of a retrieved provision and whose every
citation is data (`Citation`), or a refusal (`refused=True`, no citations) when nothing relevant
was found. No model writes any of it: the lead sentence is a template filled with citation labels,
and quotes are chosen sentences or items of the provisions themselves.

How the decisive text is chosen: the best-ranked articles are kept (those within reach of the top
one, at most three, the research article aside), and inside each the paragraph or item whose words
share most with the question and its glossary expansion is quoted, with the paragraph's lead-in when
an item is quoted alone. Quotes are in the question's language when the corpus has that version;
otherwise in Russian or English, with a note saying so.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from assistant.answer.citations import Citation
from assistant.core.ids import RATIFICATION, ProvisionId, is_research_article
from assistant.core.langs import LANGS
from assistant.core.prompts import Templates
from assistant.corpus.provisions import Provision
from assistant.search.retrieve import Hit
from assistant.text.tokenize import tokenize

MAX_QUOTE_CHARS = 700


@dataclass(frozen=True)
class Answer:
    question: str
    language: str
    answer: str  # Markdown
    refused: bool
    citations: tuple[Citation, ...] = ()
    timings_ms: dict[str, float] = field(default_factory=dict)
    reason: str | None = None  # refusals: out_of_scope, injection, empty, too_long, no_words, ...
    mode: str = "extractive"
    retrieved: tuple[str, ...] = ()  # provision ids retrieved for this question, best first
    dropped_citations: tuple[tuple[str, str], ...] = ()  # (id, why) removed by the verifier
    topic: str | None = None  # the topic-map topic the answer was built from, if any
    kind: str | None = None  # the question's kind (search/intent.py) when the answer took its shape

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["citations"] = [c.to_dict() for c in self.citations]
        data["dropped_citations"] = [{"id": i, "reason": r} for i, r in self.dropped_citations]
        return data


@dataclass(frozen=True)
class Quote:
    provision: Provision  # the provision quoted (paragraph or item), in the language shown
    text: str
    lead_in: str = ""  # the paragraph's opening words when an item is quoted alone
    continued: tuple[str, ...] = ()  # further paragraphs quoted with it (a list after its lead-in)


# ------------------------------------------------------------------------------ relevance


def question_terms(question: str, lang: str, expansions: Mapping[str, str]) -> dict[str, set[str]]:
    """Stemmed question terms per language (the question's own, plus its glossary expansion)."""
    out = {lg: set(tokenize(text, lg)) for lg, text in expansions.items() if text}
    out.setdefault(lang, set()).update(tokenize(question, lang))
    return out


def overlap(text: str, lang: str, terms: Mapping[str, set[str]]) -> float:
    """How much `text` shares with the question's terms (distinct stems, numbers count more, damped by length)."""
    wanted = terms.get(lang) or set().union(*terms.values()) if terms else set()
    if not wanted:
        return 0.0
    words = tokenize(text, lang)
    if not words:
        return 0.0
    hit = {w for w in words if w in wanted}
    numbers = {w for w in hit if w.isdigit()}
    # Distinct shared terms, a bonus for shared numbers (article numbers, years), damped by length
    # so that a short item that says exactly the thing beats a long paragraph that mentions it.
    return (len(hit) + 2.0 * len(numbers)) / math.log(8 + len(words))


_SENTENCE = re.compile(r"(?<=[.;:!?])\s+(?=[«\"(A-ZА-ЯЁӘІҢҒҮҰҚӨҺ0-9•])")


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def best_sentences(text: str, lang: str, terms: Mapping[str, set[str]], n: int = 2) -> str:
    """The `n` sentences sharing most with the question, in text order; « … » marks what was left out."""
    sentences = _sentences(text)
    if len(sentences) <= n:
        return text
    ranked = sorted(sorted(range(len(sentences)), key=lambda i: -overlap(sentences[i], lang, terms))[:n])
    out = sentences[ranked[0]]
    for prev, i in zip(ranked, ranked[1:], strict=False):
        out += (" " if i == prev + 1 else " … ") + sentences[i]
    return out


def shorten(text: str, limit: int = MAX_QUOTE_CHARS) -> str:
    """`text` cut at a word boundary before `limit` characters, with « …» where it was cut."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return (cut[: space if space > limit * 0.6 else limit]).rstrip(",;: ") + " …"


# ------------------------------------------------------------------------------ selection


def group_score(group: Sequence[Hit]) -> float:
    """An article's best hit: decides whether the article is close enough to the top one to be shown."""
    return max(h.score for h in group)


def group_support(group: Sequence[Hit]) -> float:
    """An article's evidence for ordering: its best hit, plus less for each further part that matched
    (13.1, 13.1.a and the research article's comment on art. 13 together outweigh one stray 18.4)."""
    scores = sorted((h.score for h in group), reverse=True)[:3]
    return sum(s * w for s, w in zip(scores, (1.0, 0.5, 0.25), strict=False))


def pick_articles(
    hits: Sequence[Hit],
    *,
    max_articles: int,
    relative: float,
    per_instrument: int | None = None,
    allowed: set[str] | None = None,
) -> list[list[Hit]]:
    """Group hits by article and keep the leading articles (research article excluded).

    `max_articles` and `relative` (the share of the top article's score a further one needs) come from
    `RankingConfig`; `per_instrument` defaults to `max_articles`.

    `per_instrument=1` (a question that names no instrument) spreads the answer over instruments:
    «which convention allows ...» is best answered by the strongest article of each.
    """
    groups: dict[str, list[Hit]] = {}
    for h in hits:
        if is_research_article(h.instrument) or (allowed is not None and h.instrument not in allowed):
            continue
        groups.setdefault(h.article_id, []).append(h)
    if not groups:
        return []
    ordered = sorted(groups.values(), key=lambda g: -group_support(g))
    pinned = [g for g in ordered if any(h.pinned for h in g)]
    if pinned:
        return pinned[:max_articles]
    top = max(group_score(g) for g in ordered)
    chosen: list[list[Hit]] = []
    per: dict[str, int] = {}
    for g in ordered:
        inst = g[0].instrument
        if group_score(g) < relative * top or per.get(inst, 0) >= (per_instrument or max_articles):
            continue
        per[inst] = per.get(inst, 0) + 1
        chosen.append(g)
    return chosen[:max_articles]


def choose_quote(  # noqa: ANN001
    store,
    group: Sequence[Hit],
    lang: str,
    terms: Mapping[str, set[str]],
    *,
    opening: float = 0.0,
    rank_penalty: float = 0.15,
) -> Quote | None:
    """The decisive text of one article: its best paragraph or item, in `lang` when available. A candidate
    scores its words shared with the question, less `rank_penalty` per place retrieval ranked it lower.

    When no paragraph shares at least `opening` with the question, an article's first paragraph is quoted:
    «what does article 5 say» asks what the article is about, which its opening says.
    """
    candidates: list[tuple[float, Provision, str]] = []
    opener: Provision | None = None
    for rank, hit in enumerate(sorted(group, key=lambda h: -h.score)):
        base = store.get(hit.provision_id, lang)
        if base is None:
            continue
        children = store.children(hit.provision_id)
        ids = [hit.provision_id] + children
        first = children[0] if children and base.level == "article" else None
        for pid in ids:
            p = store.get(pid, base.lang)
            if p is None or p.lang != base.lang:
                continue
            # A paragraph with items competes with its lead-in only: each item is a candidate itself.
            own = p.text.split("\n", 1)[0] if p.level != "sub" and store.children(pid) else p.text
            score = overlap(own, p.lang, terms) - rank_penalty * rank
            if pid == first and opener is None:
                opener = p
            candidates.append((score, p, pid))
    if not candidates:
        return None
    score, best, _ = max(candidates, key=lambda c: c[0])
    if opener is not None and score < opening:
        best = opener
    return quote_of(store, best, terms)


def quote_of(store, best: Provision, terms: Mapping[str, set[str]]) -> Quote:  # noqa: ANN001
    """The quotable text of one provision: an article's best sentences, an item with its paragraph's lead-in."""
    pid = ProvisionId.try_parse(best.id)
    if pid is not None and pid.article == RATIFICATION:
        # a ratification law is short and its reservations are a list: what it says is all of it
        return Quote(best, shorten(best.text, 2 * MAX_QUOTE_CHARS + 400))
    if best.level == "article":
        # A whole article: quote its best sentences, not all of it.
        return Quote(best, shorten(best_sentences(best.text, best.lang, terms)))
    lead_in = ""
    if best.level == "sub" and best.parent_id:
        parent = store.get(best.parent_id, best.lang)
        if parent is not None and parent.lang == best.lang:
            lead_in = shorten(parent.text.split("\n", 1)[0], 300)
    text = best.text
    if len(text) > MAX_QUOTE_CHARS:
        text = best_sentences(text, best.lang, terms)
    return Quote(best, shorten(text), lead_in)


def _research_paragraphs(store, hits: Sequence[Hit], lang: str):  # noqa: ANN001, ANN202
    """(retrieval rank, paragraph) of each research-article paragraph among `hits`, in `lang` if it has it."""
    for rank, h in enumerate(hits):
        if is_research_article(h.instrument):
            p = store.get(h.provision_id, lang, fallback=LANGS)
            if p is not None:
                yield rank, p


def choose_commentary(
    store, hits: Sequence[Hit], articles: Sequence[str], lang: str, terms: Mapping[str, set[str]]
) -> Quote | None:  # noqa: ANN001
    """A paragraph of the research article on the same point, if one was retrieved."""
    best: tuple[float, Provision] | None = None
    for rank, p in _research_paragraphs(store, hits, lang):
        score = overlap(p.text, p.lang, terms) - 0.1 * rank
        for art in articles:
            number = ProvisionId.parse(art).article
            if number.isdigit() and re.search(rf"\b{number}\s*-?\s*(бап|баб|ст|art)", p.text, re.I):
                score += 2.0  # the article discusses the very provision quoted
        if best is None or score > best[0]:
            best = (score, p)
    if best is None or best[0] <= 0.5:
        return None
    p = best[1]
    return Quote(p, shorten(best_sentences(p.text, p.lang, terms), 500))


def research_quotes(
    store,  # noqa: ANN001
    hits: Sequence[Hit],
    lang: str,
    terms: Mapping[str, set[str]],
    *,
    limit: int = 2,
    second: float = 0.6,
    about: Callable[[Provision], bool] | None = None,
) -> list[Quote]:
    """The research article's paragraphs that answer a question about the article itself, best first.

    A body paragraph is preferred to an abstract (an abstract restates, the body holds the counts, dates
    and lists); so is one that `about` says discusses the treaty the question names («что автор пишет о
    Межамериканской конвенции»); a further paragraph is quoted when it scores `second` of the best one; a
    paragraph that introduces a list («… мәселелер:») is quoted with the items that follow it.
    """
    scored: list[tuple[float, Provision]] = []
    for rank, p in _research_paragraphs(store, hits, lang):
        # retrieval's rank carries a question in another language than the article's text; shared
        # words decide between paragraphs it ranks alike
        score = overlap(p.text, p.lang, terms) + 1.0 / (1 + rank) + (1.0 if about and about(p) else 0.0)
        if _ABSTRACT.search(p.id):
            score -= 1.0
        scored.append((score, p))
    scored.sort(key=lambda sp: -sp[0])
    out: list[Quote] = []
    for score, p in scored:
        if len(out) >= limit or (out and score < second * scored[0][0]):
            break
        if any(q.provision.id == p.id or p.id in q.continued for q in out):
            continue
        text, continued = best_sentences(p.text, p.lang, terms, n=3), ()
        if p.text.rstrip().endswith(":"):
            items = list(_list_items(store, p, lang))
            text, continued = p.text + "\n" + "\n".join(i.text for i in items), tuple(i.id for i in items)
        out.append(Quote(p, shorten(text), continued=continued))
    return out


_ABSTRACT = re.compile(r":(abstract|keywords|title)")


def _list_items(store, intro: Provision, lang: str):  # noqa: ANN001, ANN202
    """The bullet paragraphs that follow a paragraph ending in a colon (article:results.22 → .23, .24, …)."""
    pid = ProvisionId.try_parse(intro.id)
    if pid is None or not (pid.paragraph or "").isdigit() or pid.sub:
        return
    n = int(pid.paragraph) + 1
    while (
        p := store.get(str(ProvisionId(pid.instrument, pid.article, str(n))), lang, fallback=LANGS)
    ) is not None and p.text.lstrip()[:1] in "•-–—":
        yield p
        n += 1


# ------------------------------------------------------------------------------ rendering


def _blockquote(text: str) -> str:
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.split("\n"))


def render(
    question: str,
    lang: str,
    quotes: Sequence[Quote],
    commentary: Quote | None,
    *,
    templates: Mapping[str, Templates],
    label_of,  # noqa: ANN001 - Callable[[str, str], str]
    lookup: bool,
    research_only: bool = False,
    summaries: Mapping[str, Summary] | None = None,
) -> tuple[str, tuple[Citation, ...]]:
    """The answer's Markdown and citations. `summaries` (quoted provision id → the topic map's statement of it
    or of the provision it is part of) are shown under the lead, marked as editorial, so the answer is said
    and not only quoted."""
    t = templates[lang]
    summaries = summaries or {}
    citations: list[Citation] = []
    parts: list[str] = []
    labels = [label_of(q.provision.id, lang) for q in quotes]
    if quotes:
        if lookup and len(quotes) == 1:
            parts.append(t.render("answer.lead_lookup", provision=labels[0]))
        elif len(quotes) == 1:
            parts.append(t.render("answer.lead_one", provision=labels[0]))
        else:
            joined = ", ".join(labels[:-1]) + f" {t.get('answer.and')} " + labels[-1]
            parts.append(t.render("answer.lead_many", provisions=joined))
    said = [(summaries[q.provision.id], q) for q in quotes if q.provision.id in summaries]
    if said:
        parts.append(
            "\n".join(
                t.render("topic.summary_line", provision=label_of(s.provision_id, lang), says=s.says)
                for s, _ in said
            )
        )
    for q, lab in zip(quotes, labels, strict=True):
        body = f"{q.lead_in}\n… {q.text}" if q.lead_in else q.text
        block = _blockquote(body) + f"\n>\n> — **{lab}**"
        if q.provision.lang != lang:
            names = templates[lang]
            block += "  \n> " + t.render(
                "answer.quote_other_language", language=names.get(f"language_names.{q.provision.lang}")
            )
        parts.append(block)
        s = summaries.get(q.provision.id)
        citations.append(_citation(q, lab, summary=s))
    if commentary is not None:
        lab = label_of(commentary.provision.id, lang)
        heading = "" if research_only else f"**{t.get('answer.commentary')}:**\n\n"
        parts.append(heading + _blockquote(commentary.text) + f"\n>\n> — **{lab}**")
        citations.append(_citation(commentary, lab, role="commentary"))
    if said:
        parts.append("_" + t.get("topic.summary_note") + "_")
    return "\n\n".join(parts), tuple(citations)


@dataclass(frozen=True)
class Summary:
    """The topic map's editorial statement of a provision (or of the provision it is part of)."""

    provision_id: str  # the provision the statement is about
    says: str
    topic: str


def _citation(q: Quote, label: str, role: str = "provision", summary: Summary | None = None) -> Citation:
    p = q.provision
    quote = f"{q.lead_in}\n… {q.text}" if q.lead_in else q.text
    return Citation(
        id=p.id,
        instrument=p.instrument,
        article=p.article,
        title=p.title,
        label=label,
        quote=quote,
        source_lang=p.lang,
        role=role,
        summary=summary.says if summary else "",
        topic=summary.topic if summary else "",
    )


def refusal(
    question: str, lang: str, reason: str, templates: Mapping[str, Templates], **values: object
) -> Answer:
    t = templates[lang]
    key = f"refusal.{reason}"
    if "{coverage}" in t.get(key):
        values.setdefault("coverage", t.get("coverage"))
    return Answer(
        question=question, language=lang, answer=t.render(key, **values), refused=True, reason=reason
    )
