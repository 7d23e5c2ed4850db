"""Answers from the topic map, shaped by the question: which instrument, yes/no, procedure, definition, compare.

Takes: a `Topic` (from search/topics.py), the question's kind (search/intent.py) and language, the
instruments it names, the provision store (for verbatim quotes), citation labels, the manifest's instrument
names and order, and the language templates.
Gives: `Comparison` rows (for `assistant compare` and the chat's comparison table) and `TopicAnswer`
(Markdown + `Citation`s) where each provision's editorial summary is marked as a summary and its own text
is quoted beneath. Only the provisions the answer shows are cited.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from assistant.answer.citations import Citation
from assistant.answer.extractive import MAX_QUOTE_CHARS, Quote, overlap, quote_of, shorten
from assistant.core.ids import covers
from assistant.core.prompts import Templates
from assistant.core.settings import RankingConfig
from assistant.corpus.topics import Topic, TopicProvision
from assistant.text.tokenize import tokenize

LabelOf = Callable[[str, str], str]


@dataclass(frozen=True)
class ComparedProvision:
    id: str
    label: str
    says: str  # editorial summary in the answer language
    quote: str  # verbatim text (in the answer language where the corpus has it)
    quote_lang: str
    weight: str
    summary_of: str = ""  # label of the provision `says` summarises, when an item of it is quoted

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "label": self.label, "says": self.says, "quote": self.quote}


@dataclass(frozen=True)
class ComparisonRow:
    instrument: str
    name: str
    provisions: tuple[ComparedProvision, ...]
    none: bool  # the instrument's complete text has no such provision
    mapped: bool  # False: not yet reviewed for this topic

    def to_dict(self) -> dict[str, object]:
        return {
            "instrument": self.instrument,
            "name": self.name,
            "provisions": [p.to_dict() for p in self.provisions],
            "none": self.none,
            "mapped": self.mapped,
        }


@dataclass(frozen=True)
class Comparison:
    topic: str
    title: str
    language: str
    rows: tuple[ComparisonRow, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "topic": self.topic,
            "title": self.title,
            "language": self.language,
            "rows": [r.to_dict() for r in self.rows],
        }


@dataclass(frozen=True)
class Choice:
    """How an instrument's provisions on a topic are chosen for one question (weights: `RankingConfig`).

    Each main provision scores `retrieval`/(1+rank) when retrieval found it (or a part of it, or the article
    it is part of), plus the question's words in its summary, plus `order`/(1+position) for the editors'
    order; the best is shown, a further one only when it scores `second` of the best.

    «Which instrument …?» overviews score each instrument by its best provision plus `editors`/(1+its
    position in the topic); an instrument is shown when it scores `instrument` of the best one.
    """

    retrieval: float
    order: float
    second: float
    instrument: float
    editors: float

    @classmethod
    def from_ranking(cls, r: RankingConfig | None = None) -> Choice:
        """The weights of `RankingConfig` (its defaults when none is given): they are set there only."""
        r = r or RankingConfig()
        return cls(
            r.topic_choice_retrieval,
            r.topic_choice_order,
            r.topic_second_share,
            r.topic_instrument_share,
            r.topic_instrument_order,
        )


@dataclass(frozen=True)
class TopicAnswer:
    text: str
    citations: tuple[Citation, ...]


class TopicAnswerer:
    """Builds topic answers for one corpus: store, labels, instrument names and order, templates."""

    def __init__(
        self,
        store,  # noqa: ANN001 - index.store.ProvisionStore
        label_of: LabelOf,
        names: Mapping[str, Mapping[str, str]],  # instrument -> lang -> short name
        order: Sequence[str],  # instruments in display order: multilateral by date, then bilateral
        templates: Mapping[str, Templates],
        *,
        max_instruments: int = 5,
        max_per_instrument: int = 2,
        max_quotes: int = 4,
        choice: Choice | None = None,
        idf: Callable[[str], float] = lambda _term: 1.0,
        # whether an instrument is among those a «which instrument» question asks about (the manifest's
        # Instrument.in_scope); all of them by default
        in_scope: Callable[[str, str | None], bool] = lambda _instrument, _scope: True,
    ) -> None:
        self.store = store
        self.label_of = label_of
        self.names = names
        self.order = {iid: n for n, iid in enumerate(order)}
        self.in_scope = in_scope
        self.templates = templates
        self.max_instruments = max_instruments
        self.max_per_instrument = max_per_instrument
        self.max_quotes = max_quotes
        self.choice = choice or Choice.from_ranking()
        # how rare a word is in the corpus: a rare word the question shares with one item tells more
        self.idf = idf

    # -- data ---------------------------------------------------------------------------------------

    def name(self, instrument: str, lang: str) -> str:
        return self.names.get(instrument, {}).get(lang, instrument)

    def compared(
        self,
        p: TopicProvision,
        lang: str,
        terms: Mapping[str, set[str]],
        *,
        narrow: bool = False,
        context: Sequence[Collection[str]] = (),
    ) -> ComparedProvision | None:
        """One provision as shown: its summary and verbatim text. With `narrow`, a list's item that says what
        the question asks is quoted and cited in place of the whole list, under the list's summary: the one
        item the map gives to another topic the question names (`context`: «что приложить к запросу об
        исполнении решения о конфискации» → UNCAC 55(3)(b), the item on enforcing an order), else the item
        with the question's own words («in absentia» → Strasbourg 18(4)(f))."""
        pid = p.id
        if narrow:
            pid = self._item_in(p.id, context) or self._item_asked(p.id, lang, terms) or p.id
        quote = self._quote(pid, lang, terms)
        if quote is None:
            return None
        text = f"{quote.lead_in}\n… {quote.text}" if quote.lead_in else quote.text
        label = self.label_of(pid, lang)
        summary_of = self.label_of(p.id, lang) if pid != p.id else label
        return ComparedProvision(pid, label, p.says[lang], text, quote.provision.lang, p.weight, summary_of)

    def _item_in(self, pid: str, context: Sequence[Collection[str]]) -> str | None:
        """The one item of list `pid` that the question's other topics give to one of them (`context`: each
        topic's provisions, best matched first)."""
        children = self.store.children(pid)
        for provisions in context:
            found = [c for c in children if c in provisions]
            if len(found) == 1:
                return found[0]
        return None

    def _item_asked(self, pid: str, lang: str, terms: Mapping[str, set[str]]) -> str | None:
        """The item of a list with clearly more words of the question that its siblings lack («in absentia»
        among the grounds of Strasbourg 18(4)), rare words counting more; words items share (confiscation,
        order) do not choose."""
        items = []
        for child in self.store.children(pid):
            item = self.store.get(child, lang, fallback=("ru", "kk", "en"))
            if item is not None and item.level == "sub":
                items.append((child, set(tokenize(item.text, item.lang)) & terms.get(item.lang, set())))
        if len(items) < 3:
            return None
        counts: dict[str, int] = {}
        for _, found in items:
            for w in found:
                counts[w] = counts.get(w, 0) + 1
        own = sorted(
            ((sum(self.idf(w) for w in found if counts[w] == 1), child) for child, found in items),
            reverse=True,
        )
        (best, child), (second, _) = own[0], own[1]
        return child if best and best >= 2 * second else None

    def _quote(self, pid: str, lang: str, terms: Mapping[str, set[str]]) -> Quote | None:
        p = self.store.get(pid, lang, fallback=("ru", "kk", "en"))
        return None if p is None else quote_of(self.store, p, terms)

    def compare(
        self,
        topic: Topic,
        lang: str,
        instruments: Sequence[str] = (),
        terms: Mapping[str, set[str]] | None = None,
    ) -> Comparison:
        """One row per instrument (those named, else every mapped one and every `none`), in display order."""
        wanted = list(instruments) or [*topic.instruments(), *topic.none]
        rows = []
        for inst in sorted(dict.fromkeys(wanted), key=lambda i: self.order.get(i, 10_000)):
            mapped = topic.for_instrument(inst)
            chosen = [p for p in mapped if p.weight == "main"][: self.max_per_instrument] or list(mapped[:1])
            provisions = tuple(
                x for x in (self.compared(p, lang, terms or {}) for p in chosen) if x is not None
            )
            rows.append(
                ComparisonRow(
                    inst,
                    self.name(inst, lang),
                    provisions,
                    inst in topic.none,
                    bool(mapped) or inst in topic.none,
                )
            )
        return Comparison(topic.id, topic.title[lang], lang, tuple(rows))

    # -- answers ------------------------------------------------------------------------------------

    def answer(
        self,
        topic: Topic,
        kind: str,
        lang: str,
        instruments: Sequence[str],
        terms: Mapping[str, set[str]],
        *,
        scope: str | None = None,
        nearest: Mapping[str, Sequence[str]] | None = None,
        context: Sequence[Collection[str]] = (),
    ) -> TopicAnswer | None:
        """The answer in the shape of `kind`; None when the map cannot answer (an instrument not yet mapped).

        `scope` («conventions», «bilateral», or an organisation: «un», «coe», «cis») narrows a «which
        instrument» overview; `nearest` gives, per
        instrument, the provisions retrieval ranked for the question, to show beside a «no such provision»;
        `context`, the provisions of each other topic the question names, best matched first (see
        `compared`).
        """
        if any(i not in topic.instruments() and i not in topic.none for i in instruments):
            return None  # not reviewed for this topic: retrieval answers instead
        if kind == "compare":
            return self._compare_answer(topic, lang, instruments, terms)
        if instruments:
            return self._for_instruments(topic, lang, instruments, terms, nearest or {}, context)
        return self._overview(topic, lang, terms, nearest or {}, scope=scope, context=context)

    def _overview(
        self,
        topic: Topic,
        lang: str,
        terms: Mapping[str, set[str]],
        nearest: Mapping[str, Sequence[str]],
        *,
        scope: str | None,
        context: Sequence[Collection[str]] = (),
    ) -> TopicAnswer | None:
        """«Which instrument …?» and open questions: each instrument's provisions that answer the question,
        instruments in the editors' order (strongest first)."""
        ranked = [
            (shown, score + self.choice.editors / (1 + n))
            for n, (shown, score) in enumerate(
                self._ranked(topic.for_instrument(i), terms, nearest.get(i, ()))
                for i in topic.instruments()
                if self.in_scope(i, scope)
            )
        ]
        top = max((score for _, score in ranked), default=0.0)
        # instruments that answer this question about as well as the best one, in the editors' order
        answering = [shown for shown, score in ranked if shown and score >= self.choice.instrument * top]
        chosen = [p for shown in answering[: self.max_instruments] for p in shown]
        if not chosen:
            return None
        t = self.templates[lang]
        return self._render(
            t.render("topic.lead", topic=topic.title[lang]), chosen, topic, lang, terms, context
        )

    def _for_instruments(
        self,
        topic: Topic,
        lang: str,
        instruments: Sequence[str],
        terms: Mapping[str, set[str]],
        nearest: Mapping[str, Sequence[str]],
        context: Sequence[Collection[str]] = (),
    ) -> TopicAnswer | None:
        """Named instruments: for each, yes (its provisions), related only, or no (`none`) — in that order.

        A «no» shows the provision of that instrument retrieval ranked first for the question (it is what
        the user will want to read next), marked as the nearest provision, not as an answer.
        """
        t = self.templates[lang]
        lines: list[str] = []
        chosen: list[TopicProvision] = []
        closest: list[str] = []
        for inst in instruments:
            name = self.name(inst, lang)
            mapped = topic.for_instrument(inst)
            main = self.choose(mapped, terms, nearest.get(inst, ()))
            if main:
                lines.append(t.render("topic.has", instrument=name))
                chosen += main
            elif mapped:
                lines.append(t.render("topic.has_related", instrument=name))
                chosen += list(mapped[:1])
            else:
                lines.append(t.render("topic.none", instrument=name))
                closest += [pid for pid in nearest.get(inst, ()) if ":" in pid][:1]
        answer = self._render("\n\n".join(lines), chosen, topic, lang, terms, context)
        if not closest:
            return answer
        extra = [x for x in (self._nearest(pid, lang, terms) for pid in closest) if x is not None]
        text = answer.text + "\n\n" + t.get("topic.nearest") + "\n\n" + self._quote_blocks(extra, lang)
        return TopicAnswer(text, answer.citations + tuple(self._citation(x, None) for x in extra))

    def choose(
        self, mapped: Sequence[TopicProvision], terms: Mapping[str, set[str]], retrieved: Sequence[str]
    ) -> list[TopicProvision]:
        """The main provisions of one instrument that answer this question (see `Choice`), best first."""
        return self._ranked(mapped, terms, retrieved)[0]

    def _ranked(
        self, mapped: Sequence[TopicProvision], terms: Mapping[str, set[str]], retrieved: Sequence[str]
    ) -> tuple[list[TopicProvision], float]:
        """`choose`, and the score of its best provision (how strongly the instrument answers the question)."""
        main = [p for p in mapped if p.weight == "main"]
        if not main:
            return [], 0.0
        c = self.choice

        def score(position: int, p: TopicProvision) -> float:
            found = [r for r, rid in enumerate(retrieved) if covers(p.id, rid) or covers(rid, p.id)]
            words = max(
                (overlap(p.says[lg], lg, {lg: t}) for lg, t in terms.items() if lg in p.says), default=0
            )
            return (c.retrieval / (1 + found[0]) if found else 0.0) + words + c.order / (1 + position)

        ranked = sorted(enumerate(main), key=lambda ip: -score(*ip))
        best = score(*ranked[0])
        return [p for i, p in ranked[: self.max_per_instrument] if score(i, p) >= c.second * best], best

    def _nearest(self, pid: str, lang: str, terms: Mapping[str, set[str]]) -> ComparedProvision | None:
        quote = self._quote(pid, lang, terms)
        if quote is None:
            return None
        text = f"{quote.lead_in}\n… {quote.text}" if quote.lead_in else quote.text
        pid = quote.provision.id
        return ComparedProvision(pid, self.label_of(pid, lang), "", text, quote.provision.lang, "nearest")

    def _compare_answer(
        self, topic: Topic, lang: str, instruments: Sequence[str], terms: Mapping[str, set[str]]
    ) -> TopicAnswer | None:
        comparison = self.compare(topic, lang, instruments, terms)
        rows = [r for r in comparison.rows if r.provisions or r.none]
        if not rows:
            return None
        t = self.templates[lang]
        table = [
            f"**{t.render('compare.title', topic=topic.title[lang])}**",
            "",
            f"| {t.get('compare.instrument')} | {t.get('compare.provisions')} | {t.get('compare.says')} |",
            "|---|---|---|",
        ]
        citations: list[Citation] = []
        for row in rows:
            if not row.provisions:
                table.append(f"| {_cell(row.name)} | — | {t.get('compare.none')} |")
                continue
            labels = "; ".join(p.label for p in row.provisions)
            says = " ".join(p.says for p in row.provisions)
            table.append(f"| {_cell(row.name)} | {_cell(labels)} | {_cell(says)} |")
        shown = [p for row in rows for p in row.provisions]
        quotes = self._quote_blocks(shown[: self.max_quotes], lang)
        for p in shown:
            citations.append(self._citation(p, topic))
        text = "\n".join(table) + "\n\n" + quotes + "\n\n_" + t.get("topic.summary_note") + "_"
        return TopicAnswer(text, tuple(citations))

    # -- rendering ----------------------------------------------------------------------------------

    def _render(
        self,
        lead: str,
        chosen: Sequence[TopicProvision],
        topic: Topic,
        lang: str,
        terms: Mapping[str, set[str]],
        context: Sequence[Collection[str]] = (),
    ) -> TopicAnswer:
        t = self.templates[lang]
        shown = [
            x
            for x in (self.compared(p, lang, terms, narrow=True, context=context) for p in chosen)
            if x is not None
        ]
        parts = [lead]
        if shown:
            parts.append(
                "\n".join(
                    t.render("topic.summary_line", provision=p.summary_of or p.label, says=p.says)
                    for p in shown
                )
            )
            parts.append(
                f"**{t.get('topic.quotes')}**\n\n" + self._quote_blocks(shown[: self.max_quotes], lang)
            )
            parts.append("_" + t.get("topic.summary_note") + "_")
        return TopicAnswer("\n\n".join(parts), tuple(self._citation(p, topic) for p in shown))

    def _quote_blocks(self, shown: Sequence[ComparedProvision], lang: str) -> str:
        t = self.templates[lang]
        blocks = []
        for p in shown:
            body = "\n".join(
                f"> {line}" if line.strip() else ">" for line in shorten(p.quote, MAX_QUOTE_CHARS).split("\n")
            )
            block = body + f"\n>\n> — **{p.label}**"
            if p.quote_lang != lang:
                block += "  \n> " + t.render(
                    "answer.quote_other_language", language=t.get(f"language_names.{p.quote_lang}")
                )
            blocks.append(block)
        return "\n\n".join(blocks)

    def _citation(self, p: ComparedProvision, topic: Topic | None) -> Citation:
        prov = self.store.get(p.id, p.quote_lang)
        return Citation(
            id=p.id,
            instrument=prov.instrument,
            article=prov.article,
            title=prov.title,
            label=p.label,
            quote=p.quote,
            source_lang=p.quote_lang,
            summary=p.says,
            topic=topic.id if topic else "",
        )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
