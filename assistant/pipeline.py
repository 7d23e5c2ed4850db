"""`Assistant`: wires settings → embeddings → index → query understanding → retrieval → answer.

Takes: a `Settings`. Gives: `search()` (ranked provisions) and `ask()` (an `Answer` with verified
citations). The model and the index are loaded once, lazily, on first use and then shared: the web
app builds one `Assistant` at start-up and every request reuses it (it is safe to call from threads:
loading is guarded by a lock, and retrieval and answering only read).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from functools import cached_property, lru_cache
from typing import Any

from assistant.answer.citations import label
from assistant.answer.extractive import Answer
from assistant.answer.extractive import refusal as refusal_answer
from assistant.answer.policy import ScopePolicy
from assistant.core.errors import CorpusError
from assistant.core.ids import RATIFICATION, RESEARCH_ARTICLE, ProvisionId, is_framing, is_research_article
from assistant.core.langs import FALLBACK_LANG, LANGS
from assistant.core.prompts import Templates, all_templates
from assistant.core.settings import RankingConfig, Settings
from assistant.search.retrieve import Hit, Method, Request, retrieve
from assistant.text.guard import Rejection


@dataclass(frozen=True)
class SearchHit:
    id: str
    score: float
    lang: str
    label: str
    title: str
    text: str
    sources: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_WHICH = re.compile(
    r"\b(қай|қандай|какая|какие|какой|каких|в каких|which|what)\s+(\w+\s+){0,2}?"
    r"(конвенц\w*|шарт\w*|договор\w*|convention\w*|treat\w*|instrument\w*|құжат\w*|документ\w*)",
    re.I,
)


@dataclass(frozen=True)
class Prepared:
    """A question made ready for retrieval, as `ask` does it."""

    parsed: Any  # query.Parsed
    request: Request
    injection: bool  # the guard or the parser saw an attempt to change the assistant's rules
    history: tuple[str, ...] = ()  # the earlier turns kept after cleaning


@dataclass(frozen=True)
class ScopeDecision:
    """Whether the corpus should answer; when not, the refusal's reason and the values it names."""

    answerable: bool
    reason: str = "out_of_scope"
    country: Any = None  # policy.Country, for «no treaty with …»


def decide_scope(  # noqa: ANN001
    parsed,
    request: Request,
    hits: Sequence[Hit],
    policy: ScopePolicy,
    ranking: RankingConfig,
    *,
    topic_matched: bool = False,
) -> ScopeDecision:
    """Whether the corpus holds something on the question, and why not when it does not.

    Calibrated on the `tune` split of tests/questions.yaml: similarity scores alone do not separate «what is
    the weather» from a real question (e5 puts everything between 0.77 and 0.87), so the decision rests on
    what the question names: an instrument or article of the corpus, a topic of the map (in plain words
    too: «деньги, выведенные за границу»), a concept of the field's glossary, or, for a question naming
    none of these, strong lexical and semantic evidence together. The rules are data (`ScopePolicy`); the
    thresholds are `RankingConfig.min_similarity` / `min_fused`.
    """
    from assistant.search.understand import find_concepts

    text = parsed.text
    if not hits or policy.is_harmful(text):
        return ScopeDecision(False)
    if policy.is_other_task(text):
        return ScopeDecision(False, "other_task")
    country = policy.country_without_treaty(text)
    if country is not None and not request.instruments:
        return ScopeDecision(False, "no_treaty", country)
    concepts = set(find_concepts(request.text)) - policy.generic_concepts
    if policy.is_small_talk(text) and not topic_matched and not concepts:
        return ScopeDecision(
            False
        )  # «какая погода в Страсбурге?» names a convention's city, not a question on it
    if policy.cites_other_law(text) and not policy.names_treaty(text):
        # «civil forfeiture under 18 U.S.C. § 981 in US courts»: a country named is not its treaty, and
        # «статья 189 УК РК» is not article 189 of a convention
        return ScopeDecision(False)
    if policy.names_other_law(text) and not policy.names_treaty(text) and not any(h.pinned for h in hits):
        return ScopeDecision(False)
    if any(h.pinned for h in hits) or request.instruments:
        return ScopeDecision(True)
    if topic_matched or concepts:
        return ScopeDecision(True)
    best_sim = max((h.similarity for h in hits if h.similarity is not None), default=0.0)
    return ScopeDecision(best_sim >= ranking.min_similarity and hits[0].score >= ranking.min_fused)


def _needs_topic(parsed) -> bool:  # noqa: ANN001
    """A follow-up, or a question too short to carry a topic of its own."""
    content = [w for w in parsed.text.split() if len(w) > 3]
    return bool(parsed.followup) or (len(content) <= 4 and not set(parsed.concepts) - {"definition"})


class Assistant:
    def __init__(self, settings: Settings, *, embeddings: Any = None, chat_model: Any = None) -> None:
        self.settings = settings
        self._embeddings = embeddings
        self._chat_model = chat_model
        self._index = None
        self._lock = threading.Lock()

    # -- shared, lazily loaded parts ------------------------------------------------------------

    @property
    def embeddings(self) -> Any:
        if self._embeddings is None:
            with self._lock:
                if self._embeddings is None:
                    from assistant.model.embeddings import make_embeddings

                    self._embeddings = make_embeddings(self.settings)
        return self._embeddings

    @property
    def index(self):  # noqa: ANN201 - index.Index
        if self._index is None:
            embeddings = self.embeddings
            with self._lock:
                if self._index is None:
                    from assistant.index.open import open_index

                    index = open_index(self.settings, embeddings)
                    stale = index.stale_files(self.settings.path(self.settings.corpus_dir))
                    if stale:
                        raise CorpusError(
                            f"corpus file(s) changed since indexing (checksum): {', '.join(stale[:3])}; "
                            "run `assistant corpus fetch` to restore them, or `assistant index` to re-index"
                        )
                    self._index = index
        return self._index

    # Cached properties computed from the index (the manifest, the store): `reload` drops them with it.
    _INDEX_DERIVED = ("policy", "short_names", "instrument_order", "topic_map", "topic_matcher")
    _INDEX_DERIVED += ("topical", "aliases", "abbreviations", "places")
    _INDEX_DERIVED += ("_statements", "_neighbours", "_named_in")

    def reload(self) -> None:
        """Serve the current index (after `assistant add`/`remove` from the web app): drop the loaded index
        and everything derived from it; the next use opens the new generation. The model stays loaded."""
        with self._lock:
            self._index = None
            for name in self._INDEX_DERIVED:
                self.__dict__.pop(name, None)

    def warm_up(self) -> None:
        """Load the model and the index now (the web app does this before accepting requests)."""
        self.index.bm25.search("warm up", "en", k=1)
        self.embeddings.embed_query("warm up")

    @cached_property
    def policy(self) -> ScopePolicy:
        """The scope rules, less the countries the corpus has a treaty with (from the manifest)."""
        return ScopePolicy.load(self.index.manifest)

    @cached_property
    def templates(self) -> dict[str, Templates]:
        return all_templates(self.settings.path(self.settings.prompts_dir))

    @cached_property
    def short_names(self) -> dict[str, dict[str, str]]:
        return {
            iid: {lang: inst.short[lang] for lang in LANGS}
            for iid, inst in self.index.manifest.instruments.items()
        }

    @cached_property
    def instrument_order(self) -> list[str]:
        """Instruments in display order: multilateral and regional by date of adoption, then bilateral."""
        group = {"multilateral": 0, "regional": 0, "general": 0, "bilateral": 1, "article": 2}
        insts = self.index.manifest.instruments.values()
        return [
            i.id
            for i in sorted(insts, key=lambda i: (group.get(i.kind, 1), str(i.adopted.date or "9999"), i.id))
        ]

    @cached_property
    def topic_map(self):  # noqa: ANN201 - corpus.topics.TopicMap
        from assistant.corpus.topics import load_topics

        return load_topics(self.settings.path(self.settings.topics_dir), self.index.manifest)

    @cached_property
    def topic_matcher(self):  # noqa: ANN201 - search.topics.TopicMatcher
        from assistant.search.intent import interrogatives
        from assistant.search.topics import TopicMatcher
        from assistant.search.understand import one_word_terms

        return TopicMatcher(self.topic_map, synonyms=one_word_terms(), interrogatives=interrogatives())

    @cached_property
    def topical(self):  # noqa: ANN201 - answer.topical.TopicAnswerer
        from assistant.answer.topical import Choice, TopicAnswerer

        r = self.settings.ranking
        return TopicAnswerer(
            self.index.store,
            self.label,
            self.short_names,
            self.instrument_order,
            self.templates,
            max_instruments=r.topic_max_instruments,
            max_per_instrument=r.topic_max_per_instrument,
            choice=Choice.from_ranking(r),
            idf=self.index.bm25.idf,
            in_scope=self._in_scope,
        )

    def match_topic(self, parsed, history: Sequence[str], hits: Sequence[Hit]):  # noqa: ANN001, ANN201
        """The best topic of the question or, when it has none of its own (a follow-up such as «Ал
        Венгриямен шартта ше?»), of the question read with the turn before it."""
        from assistant.search.understand import find_concepts

        best = self._best_topic(parsed, parsed.text, parsed.concepts, hits)
        if best is None and history:
            # the earlier turn's topic, found as it was for that turn (its words, its own hits): this turn's
            # hits are for another instrument («Ал Испанияда ше?» after a question on urgent requests to
            # Korea) and would pull a neighbouring topic
            earlier = self.understand(history[-1])
            earlier_hits = self.retrieve(self.request_for(earlier), k=self.ask_depth)
            best = self._best_topic(earlier, earlier.text, earlier.concepts, earlier_hits)
        if best is None and history:
            text = f"{history[-1]} {parsed.text}"
            best = self._best_topic(parsed, text, find_concepts(text), hits)
        return best

    def _topics_in(self, text: str, concepts, ids: Sequence[str]):  # noqa: ANN001, ANN202
        """The topic matches of `text` (its instruments' names left out), best first, with the configured
        weights: one call for a question, a question read with the turn before it, and each part of one."""
        from assistant.search.understand import without_names

        r = self.settings.ranking
        return self.topic_matcher.match(
            without_names(text, self.aliases),
            concepts,
            ids,
            agreement_weight=r.topic_agreement,
            asked_weight=r.topic_asked,
        )

    def _best_topic(self, parsed, text: str, concepts, hits: Sequence[Hit]):  # noqa: ANN001, ANN202
        r = self.settings.ranking
        found = self._topics_in(text, concepts, [h.provision_id for h in hits])
        # A question naming instruments is about a topic the map answers for them: topics where one has only
        # a related provision, or none at all (a plain «no»), score less than those where each has a main
        # one; «есть ли в договоре с Турцией статья о конфискации по запросу» is about cooperation in
        # confiscation (a related article), not a «no» on domestic confiscation.
        named = [i for i in parsed.references.instruments if i != RESEARCH_ARTICLE]
        if named:

            def tier(m) -> int:  # noqa: ANN001
                def one(i: str) -> int:
                    mapped = m.topic.for_instrument(i)
                    if any(p.weight == "main" for p in mapped):
                        return 0
                    return 1 if mapped or i in m.topic.none else 2

                return max(one(i) for i in named)

            tiers = {m.topic.id: tier(m) for m in found}
            if any(t < 2 for t in tiers.values()):
                penalty = self.settings.ranking.topic_related_penalty
                found = sorted(
                    (m for m in found if tiers[m.topic.id] < 2),
                    key=lambda m: (-(m.score - penalty * tiers[m.topic.id]), m.topic.id),
                )
        best = found[0] if found else None
        if best is None or best.score < r.min_topic_score or best.agreement < r.min_topic_agreement:
            return None
        return replace(best, context=tuple(m.topic.id for m in found[1:] if m.covered))

    @cached_property
    def aliases(self) -> dict[str, tuple[str, ...]]:
        from assistant.search.understand import aliases_from_manifest

        return aliases_from_manifest(self.index.manifest)

    def _in_scope(self, instrument: str, scope: str | None) -> bool:
        inst = self.index.manifest.instruments.get(instrument)
        return scope is None or (inst is not None and inst.in_scope(scope))

    @cached_property
    def abbreviations(self) -> frozenset[str]:
        """Instrument names written as a Latin abbreviation («UNCAC», «UAE»): a question in Latin-typed Kazakh
        keeps them as typed, since their Cyrillic reading («ҰНЦАЦ») names nothing."""
        return frozenset(a for names in self.aliases.values() for a in names if re.fullmatch(r"[A-Z]{2,}", a))

    @cached_property
    def places(self) -> dict[str, tuple[str, ...]]:
        """Instrument id → cities of the other State (bilateral treaties with `places` in the manifest)."""
        return {i.id: i.places for i in self.index.manifest.instruments.values() if i.places}

    def label(self, provision_id: str, lang: str) -> str:
        return label(provision_id, lang, self.short_names, self.templates)

    # -- stages ---------------------------------------------------------------------------------

    def understand(self, question: str, history: Sequence[str] = (), lang: str = "auto"):  # noqa: ANN201
        from assistant.search.understand import understand

        return understand(question, history=history, lang=lang, aliases=self.aliases, places=self.places)

    def request_for(self, parsed, history: Sequence[str] = ()) -> Request:  # noqa: ANN001
        text, expansions, concepts = parsed.text, dict(parsed.expansions), set(parsed.concepts)
        if history and _needs_topic(parsed):
            # «Ал Ұлыбританиямен шартта ше?», «А какие основания для отказа там?»: the topic (or the
            # instrument) is in the earlier turn, so search with both turns.
            from assistant.search.understand import expand, find_concepts

            text = f"{history[-1]} {parsed.text}"
            expansions = expand(text, parsed.language)
            concepts |= set(find_concepts(text))
        articles = tuple(parsed.references.articles)
        if parsed.references.instruments and not articles:
            # «When did Kazakhstan ratify / when did it enter into force?»: the ratification law in
            # front of the treaty text (and the note on entry into force that precedes the preamble).
            from assistant.search.understand import ArticleRef

            if "ratification" in concepts:
                articles += (ArticleRef(RATIFICATION),)
            if "entry_into_force" in concepts:
                articles += (ArticleRef(RATIFICATION), ArticleRef("preamble"))
        instruments = tuple(parsed.references.instruments)
        if RESEARCH_ARTICLE in instruments:
            # «как автор статьи толкует ст. 13 Страсбургской конвенции»: what the article says is asked, so
            # its own paragraphs are searched, not the treaties it is asked about alongside
            instruments, articles = (RESEARCH_ARTICLE,), ()
        return Request(
            text=text,
            lang=parsed.language,
            expansions=expansions,
            instruments=instruments,
            articles=articles,
            definitions="definition" in concepts,
        )

    def prepare(self, question: str, history: Sequence[str] = (), lang: str = "auto") -> Prepared | Rejection:
        """The guard, history cleaning, query understanding and the retrieval request: all `ask` does
        before it retrieves (the evaluation's baselines and the benchmarks start from the same)."""
        from assistant.text.guard import Rejection, check_question

        checked = check_question(question, max_chars=self.settings.max_question_chars)
        if isinstance(checked, Rejection):
            return checked
        from assistant.text.translit import kazakh_from_latin

        turns = self._clean_history(history)
        # Kazakh typed in Latin letters is read in Cyrillic, the script every later stage knows
        parsed = self.understand(
            kazakh_from_latin(checked.text, self.abbreviations) or checked.text, history=turns, lang=lang
        )
        return Prepared(
            parsed, self.request_for(parsed, turns), parsed.injection or checked.injection, tuple(turns)
        )

    @property
    def ask_depth(self) -> int:
        return max(self.settings.top_k, self.settings.ranking.ask_depth)

    def retrieve(self, request: Request, *, method: Method = "hybrid", k: int | None = None) -> list[Hit]:
        return retrieve(
            self.index,
            self.embeddings,
            request,
            method=method,
            k=k or self.settings.top_k,
            weights=self.settings.ranking,
        )

    # -- answers ----------------------------------------------------------------------------------

    def ask(self, question: str, history: Sequence[str] = (), lang: str = "auto") -> Answer:
        """Answer with verified citations, or refuse plainly; never raises for a user's input."""
        from assistant.text.detect import guess_language

        started = _clock()
        timings: dict[str, float] = {}
        prepared = self.prepare(question, history, lang)
        if isinstance(prepared, Rejection):
            guess = lang if lang in LANGS else guess_language(question, FALLBACK_LANG)
            return self._refuse(
                question, guess, prepared.reason, started, limit=self.settings.max_question_chars
            )
        parsed, request = prepared.parsed, prepared.request
        timings["understand"] = round(_clock() - started, 2)
        if prepared.injection:
            return self._refuse(question, parsed.language, "injection", started)
        t = _clock()
        hits = self.retrieve(request, k=self.ask_depth)
        timings["retrieve"] = round(_clock() - t, 2)
        topic = self.match_topic(parsed, prepared.history, hits)
        timings["topic"] = round(_clock() - t - timings["retrieve"], 2)
        # a topic reached only through a generic concept («өтініш», request) and retrieval's agreement is
        # not evidence that the question is on the subject: a land-plot application is not an MLA request
        named = (
            (set(topic.topic.glossary) & set(parsed.concepts)) - self.policy.generic_concepts if topic else ()
        )
        on_subject = topic is not None and (topic.covered > 0 or bool(named))
        scope = decide_scope(
            parsed, request, hits, self.policy, self.settings.ranking, topic_matched=on_subject
        )
        if not scope.answerable:
            return self._refuse(
                question,
                parsed.language,
                scope.reason,
                started,
                retrieved=hits,
                timings=timings,
                **self._refusal_values(scope, parsed.language),
            )
        t = _clock()
        answer = self._compose(question, parsed, request, hits, topic)
        timings["compose"] = round(_clock() - t, 2)
        timings["total"] = round(_clock() - started, 2)
        return replace(answer, timings_ms={**timings, **answer.timings_ms})

    def _compose(self, question: str, parsed, request: Request, hits: list[Hit], topic=None) -> Answer:  # noqa: ANN001
        from assistant.answer.citations import verify_citations
        from assistant.answer.extractive import choose_commentary, question_terms, render, research_quotes

        lang = parsed.language
        store = self.index.store
        terms = question_terms(request.text, lang, request.expansions)
        # a question about what the research article (or its author) says is answered from the article
        research_only = RESEARCH_ARTICLE in request.instruments
        if topic is not None:
            answer = self._topic_answer(question, parsed, request, hits, topic, terms, research_only)
            if answer is not None:
                return self._generated(question, answer) if self.settings.mode == "llm" else answer
        groups = [] if research_only else self._pick(parsed, request, hits)
        quote_terms = _without_definition_words(terms) if request.definitions else terms
        quotes = [q for q in (self._quote_group(g, lang, quote_terms) for g in groups) if q is not None]
        commentary = choose_commentary(store, hits, [g[0].article_id for g in groups], lang, terms)
        if research_only or (not quotes and commentary is not None):
            quotes, commentary = research_quotes(store, hits, lang, terms, about=self._names(parsed)), None
            if not quotes:
                return refusal_answer(question, lang, "out_of_scope", self.templates)
        text, citations = render(
            question,
            lang,
            quotes,
            commentary,
            templates=self.templates,
            label_of=self.label,
            lookup=any(h.pinned for h in hits),
            research_only=research_only,
            summaries=self._summaries([q.provision.id for q in quotes], lang),
        )
        retrieved = tuple(h.provision_id for h in hits)
        check = verify_citations([c.id for c in citations], retrieved=retrieved, exists=store)
        kept = tuple(c for c in citations if c.id in check.kept)
        answer = Answer(
            question=question,
            language=lang,
            answer=text,
            refused=False,
            citations=kept,
            retrieved=retrieved,
            dropped_citations=check.dropped,
            mode="extractive",
        )
        return self._generated(question, answer) if self.settings.mode == "llm" else answer

    def _generated(self, question: str, grounded: Answer) -> Answer:
        """Generative mode (ASSISTANT_MODE=llm): a model writes the answer from the provisions the grounded
        answer cites (and the rest retrieved); every citation is verified, else the grounded answer stands."""
        from assistant.answer import generative as llm

        if self._chat_model is None:
            with self._lock:
                if self._chat_model is None:
                    self._chat_model = llm.make_chat_model(self.settings)
        store, lang, retrieved = self.index.store, grounded.language, grounded.retrieved
        sources = llm.number_sources(
            store, [c.id for c in grounded.citations] + list(retrieved), lang, self.label
        )
        return llm.generate(
            self._chat_model,
            question,
            lang,
            sources,
            templates=self.templates,
            label_of=self.label,
            store=store,
            retrieved=retrieved,
            fallback=grounded,
            timeout_s=self.settings.request_timeout_s,
        ).answer

    def _topic_answer(  # noqa: ANN001
        self, question: str, parsed, request: Request, hits: list[Hit], topic, terms, research_only: bool
    ) -> Answer | None:
        """The answer from the topic map in the question's shape; None to answer from retrieval instead."""
        from assistant.answer.citations import verify_citations
        from assistant.search.intent import question_kind, which_scope

        kind = question_kind(
            parsed.text,
            named_articles=any(h.pinned for h in hits),
            research_article=RESEARCH_ARTICLE in request.instruments,
            followup=parsed.followup,
            instruments=len([i for i in request.instruments if i != RESEARCH_ARTICLE]),
        )
        # «заңсыз баю дегеніміз не?»: a term the map has as a topic, asked by its own phrasing, is answered
        # from the topic (UNCAC 20) when no definitions article defines it
        if not _map_answers(kind, topic.topic) and not (kind == "definition" and topic.asked):
            return None
        instruments = [i for i in request.instruments if i != RESEARCH_ARTICLE]
        # an overview is given only when the question names no instrument, so a class word inside a name
        # («Конвенция ООН против коррупции») never narrows one
        scope = which_scope(parsed.text) if kind == "which" else None
        nearest = self._nearest_provisions(topic.topic, hits)
        context = [{p.id for p in self.topic_map.topics[tid].provisions} for tid in topic.context]
        made = self.topical.answer(
            topic.topic,
            kind,
            parsed.language,
            instruments,
            terms,
            scope=scope,
            nearest=nearest,
            context=context,
        )
        if made is None:
            return None
        text, citations = made.text, made.citations
        if kind != "compare":
            text, citations = self._with_other_parts(
                parsed, hits, topic.topic, instruments, terms, text, citations
            )
        # a topic of the research article alone is not led by a treaty provision retrieval found
        about_article = all(is_research_article(c.instrument) for c in citations)
        if kind != "compare" and self.settings.ranking.topic_keep_retrieval and not about_article:
            text, citations = self._with_retrieval_lead(parsed, request, hits, terms, text, citations)
        # The map's provisions are what the topic stage retrieved: the verifier checks them like any other.
        retrieved = tuple(dict.fromkeys([*(c.id for c in citations), *(h.provision_id for h in hits)]))
        check = verify_citations([c.id for c in citations], retrieved=retrieved, exists=self.index.store)
        return Answer(
            question=question,
            language=parsed.language,
            answer=text,
            refused=False,
            citations=tuple(c for c in citations if c.id in check.kept),
            retrieved=retrieved,
            dropped_citations=check.dropped,
            mode="topic",
            topic=topic.topic.id,
            kind=kind,
        )

    def _with_other_parts(self, parsed, hits, topic, instruments, terms, text: str, citations):  # noqa: ANN001, ANN202
        """A message asking two things («куда направить запрос и на каком языке его составить?») gets both
        answered: each part whose own words name a topic of the map is answered from that topic, under its
        title, in the order the parts were asked; the question's topic stands first when no part names it."""
        from assistant.search.intent import question_kind, question_parts
        from assistant.search.understand import find_concepts

        parts = question_parts(parsed.text)
        if len(parts) < 2:
            return text, citations
        r = self.settings.ranking
        ids = [h.provision_id for h in hits]
        lang = parsed.language
        sections: dict[str, tuple[Any, str, tuple]] = {}
        for part in parts:
            found = [
                m
                for m in self._topics_in(part, find_concepts(part), ids)
                if m.covered  # one of the topic's phrasings is in this part, not only a shared concept
            ]
            if not found or found[0].topic.id in sections or found[0].score < r.min_topic_score:
                continue
            other = found[0].topic
            if other.id == topic.id:
                sections[topic.id] = (topic, text, citations)
                continue
            kind = question_kind(part, named_articles=False, research_article=False, followup=False)
            if kind == "compare" or not _map_answers(kind, other):
                continue
            made = self.topical.answer(
                other, kind, lang, instruments, terms, nearest=self._nearest_provisions(other, hits)
            )
            if made is not None and made.citations:
                sections[other.id] = (other, made.text, made.citations)
        if topic.id not in sections:
            sections = {topic.id: (topic, text, citations), **sections}
        if len(sections) < 2:
            return text, citations
        note = f"_{self.templates[lang].get('topic.summary_note')}_"
        blocks = [
            f"**{t.title[lang]}**\n\n{body.replace(note, '').strip()}" for t, body, _ in sections.values()
        ]
        cited: dict[str, Any] = {}  # a provision two parts cite is cited once, where first shown
        for _, _, cs in sections.values():
            for c in cs:
                cited.setdefault(c.id, c)
        return "\n\n".join([*blocks, note]), tuple(cited.values())

    @cached_property
    def _statements(self) -> dict[str, tuple[str, Any]]:
        """Provision id → (topic id, TopicProvision) of the map, a main statement before a related one."""
        out: dict[str, tuple[str, Any]] = {}
        for weight in ("main", "related"):
            for t in self.topic_map.topics.values():
                for p in t.provisions:
                    if p.weight == weight:
                        out.setdefault(p.id, (t.id, p))
        return out

    def _summaries(self, provision_ids: Sequence[str], lang: str) -> dict[str, Any]:
        """The map's statement of each quoted provision, or of the nearest provision it is part of."""
        from assistant.answer.extractive import Summary

        out = {}
        for pid in provision_ids:
            node: ProvisionId | None = ProvisionId.try_parse(pid)
            while node is not None and str(node) not in self._statements:
                node = node.parent
            if node is not None:
                topic, p = self._statements[str(node)]
                if p.says.get(lang):
                    out[pid] = Summary(str(node), p.says[lang], topic)
        return out

    @cached_property
    def _neighbours(self) -> dict[str, dict[str, list[str]]]:
        """Filled per topic on first use (`_neighbours_of`): the answer path does not redo it per question."""
        return {}

    def _neighbours_of(self, topic) -> dict[str, list[str]]:  # noqa: ANN001
        """Instrument → main provisions of the topics of `topic`'s group (its file), those sharing a glossary
        concept with it first («asset sharing» → «return and disposal»)."""
        if topic.id not in self._neighbours:
            group = [
                t for t in self.topic_map.topics.values() if t.id != topic.id and t.source == topic.source
            ]
            group.sort(key=lambda t: not set(t.glossary) & set(topic.glossary))
            out: dict[str, list[str]] = {}
            for t in group:
                for p in t.provisions:
                    # a ratification law or closing formula is never the provision to read next on a subject
                    if p.weight == "main" and not is_framing(ProvisionId.parse(p.id).article):
                        out.setdefault(p.instrument, []).append(p.id)
            self._neighbours[topic.id] = out
        return self._neighbours[topic.id]

    def _nearest_provisions(self, topic, hits: Sequence[Hit]) -> dict[str, list[str]]:  # noqa: ANN001
        """Per instrument, the provisions to show beside «this instrument has no such provision», best first:
        those the map gives for a neighbouring topic, retrieved ones first, then the rest retrieval found."""
        from assistant.core.ids import covers

        nearest: dict[str, list[str]] = {}
        for h in hits:
            nearest.setdefault(h.instrument, []).append(h.provision_id)
        for inst in topic.none:
            # a ratification law or closing formula is never the provision to read next on a subject
            found = [f for f in nearest.get(inst, []) if not is_framing(ProvisionId.parse(f).article)]
            mapped = self._neighbours_of(topic).get(inst, [])
            near = [f for f in found if any(covers(m, f) or covers(f, m) for m in mapped)]
            nearest[inst] = list(dict.fromkeys([*near, *mapped[:1], *found]))
        return nearest

    def _choose_quote(self, group, lang: str, terms, *, opening: float = 0.0):  # noqa: ANN001, ANN202
        """`choose_quote` over this index with the configured rank penalty."""
        from assistant.answer.extractive import choose_quote

        return choose_quote(
            self.index.store,
            group,
            lang,
            terms,
            opening=opening,
            rank_penalty=self.settings.ranking.quote_rank_penalty,
        )

    def _quote_group(self, group: Sequence[Hit], lang: str, terms):  # noqa: ANN001, ANN202
        """The decisive text of one article. A provision the question names («54-бабы 1-тармағының а)
        тармақшасы», "art. 46(9)(b)") is quoted itself, never a sibling that shares more words."""
        from assistant.answer.extractive import quote_of

        named = next((h for h in group if h.pinned), None)
        if named is not None:
            p = self.index.store.get(named.provision_id, lang, fallback=("ru", "kk", "en"))
            if p is not None and ProvisionId.parse(named.provision_id).level != "article":
                return quote_of(self.index.store, p, terms)
        if named is None:
            return self._choose_quote(group, lang, terms)
        # the reference itself («статья 5 … 1988 года») does not say which paragraph is wanted
        from assistant.search.intent import pointer_stems

        content = {
            lg: {t for t in ts if not t.isdigit() and t not in pointer_stems(lg)} for lg, ts in terms.items()
        }
        opening = self.settings.ranking.article_opening
        return self._choose_quote(group, lang, content, opening=opening)

    def _with_retrieval_lead(self, parsed, request: Request, hits, terms, text: str, citations):  # noqa: ANN001, ANN202
        """Add retrieval's best article when the map's answer does not include it: the map says what a topic's
        provisions establish, retrieval may have found the one this question turns on (measured on `tune`)."""
        from assistant.answer.extractive import render
        from assistant.core.ids import article_of

        groups = self._pick(parsed, request, hits)
        if not groups or any(article_of(c.id) == groups[0][0].article_id for c in citations):
            return text, citations
        quote = self._choose_quote(groups[0], parsed.language, terms)
        if quote is None:
            return text, citations
        extra, cited = render(
            "", parsed.language, [quote], None, templates=self.templates, label_of=self.label, lookup=True
        )
        heading = f"**{self.templates[parsed.language].get('answer.also_relevant')}:**"
        block = extra.split("\n\n", 1)[1] if "\n\n" in extra else extra  # the quote without its lead line
        return f"{text}\n\n{heading}\n\n{block}", (*citations, *cited)

    def _refusal_values(self, scope: ScopeDecision, lang: str) -> dict[str, str]:
        if scope.reason != "no_treaty":
            return {}
        partners = [i.partner[lang] for i in self.index.manifest.instruments.values() if i.partner]
        return {"country": scope.country.names[lang], "partners": ", ".join(partners)}

    def _refuse(
        self,
        question: str,
        lang: str,
        reason: str,
        started: float,
        *,
        retrieved: Sequence[Hit] = (),
        timings: dict[str, float] | None = None,
        **values: object,
    ) -> Answer:
        answer = refusal_answer(question, lang, reason, self.templates, **values)
        timings = {**(timings or {}), "total": round(_clock() - started, 2)}
        return replace(answer, timings_ms=timings, retrieved=tuple(h.provision_id for h in retrieved))

    @cached_property
    def _named_in(self) -> dict[tuple[str, str], frozenset[str]]:
        """Instruments each research-article paragraph names, by (id, language), filled as paragraphs are
        read: parsing a long paragraph's references takes milliseconds, and the text does not change."""
        return {}

    def _names(self, parsed):  # noqa: ANN001, ANN202
        """Whether a research-article paragraph names a treaty the question names besides the article."""
        from assistant.search.understand import parse_references

        treaties = {i for i in parsed.references.instruments if not is_research_article(i)}
        if not treaties:
            return None
        cache = self._named_in

        def names(p) -> bool:  # noqa: ANN001 - corpus.Provision
            key = (p.id, p.lang)
            if key not in cache:
                cache[key] = frozenset(parse_references(p.text, self.aliases).instruments)
            return bool(treaties & cache[key])

        return names

    def _substantive(self, parsed, hits: list[Hit]) -> list[Hit]:  # noqa: ANN001
        """The hits an answer may quote: a ratification law, a preamble or the closing formula answers
        questions about the treaty itself (ratification, entry into force, reservations), not about a subject
        whose words it happens to share («жасалған шарт» — the treaty concluded — finds the closing formula)."""
        if set(parsed.concepts) & set(self.settings.ranking.framing_concepts):
            return hits
        kept = [h for h in hits if not is_framing(h.article)]
        return kept or hits

    def _pick(self, parsed, request: Request, hits: list[Hit]) -> list[list[Hit]]:  # noqa: ANN001
        from assistant.answer.extractive import pick_articles
        from assistant.search.intent import which_scope

        r = self.settings.ranking
        text = parsed.text
        hits = self._substantive(parsed, hits)
        if request.definitions:
            # «what is X»: the defining article answers; others that use the term do not
            defining = [h for h in hits if "definitions" in h.sources or h.pinned]
            hits = defining or hits
        if request.instruments:
            return pick_articles(hits, max_articles=r.max_articles, relative=r.named_relative)
        # No instrument named: one article per instrument. «Which convention allows ...?» asks to
        # compare instruments: show the best of several, of the class it names (conventions, bilateral
        # treaties, an organisation's conventions) when it names one.
        which = _WHICH.search(text)
        if not which:
            return pick_articles(
                hits, max_articles=r.max_articles, relative=r.relative_score, per_instrument=1
            )
        scope = which_scope(text)
        allowed = {i for i in self.index.manifest.instruments if self._in_scope(i, scope)} if scope else None
        return pick_articles(
            hits, max_articles=r.max_articles, relative=r.which_relative, per_instrument=1, allowed=allowed
        ) or pick_articles(hits, max_articles=r.max_articles, relative=r.relative_score, per_instrument=1)

    def _clean_history(self, history: Sequence[str]) -> list[str]:
        from assistant.text.guard import Rejection, check_question
        from assistant.text.translit import kazakh_from_latin

        turns = []
        keep = self.settings.max_history_turns
        for turn in list(history)[-keep:] if keep else []:
            checked = check_question(str(turn), max_chars=self.settings.max_question_chars)
            if not isinstance(checked, Rejection) and not checked.injection:
                turns.append(kazakh_from_latin(checked.text, self.abbreviations) or checked.text)
        return turns

    def compare(self, topic_or_question: str, instruments: Sequence[str] = (), lang: str = "auto"):  # noqa: ANN201
        """A comparison table (answer.topical.Comparison) of one topic across instruments.

        `topic_or_question` is a topic id («direct-enforcement») or a question whose topic is recognised;
        unknown topics and instruments raise InputError naming the nearest valid ids.
        """
        from assistant.answer.extractive import question_terms
        from assistant.core.errors import InputError

        topic = self.topic_map.get(topic_or_question.strip())
        named: list[str] = []
        if topic is None:
            parsed = self.understand(topic_or_question, lang=lang)
            found = self.topic_matcher.match(parsed.text, parsed.concepts)
            if not found:
                near = _nearest(topic_or_question, self.topic_map.topics)
                raise InputError(
                    f"no topic matches {topic_or_question!r}; use a topic id ({near}) or name the subject in other words"
                )
            topic = found[0].topic
            named = [i for i in parsed.references.instruments if i != RESEARCH_ARTICLE]
            lang = parsed.language
        elif lang == "auto":
            lang = "en"
        known = self.index.manifest.instruments
        for inst in instruments:
            if inst not in known:
                raise InputError(f"unknown instrument {inst!r}; nearest valid ids: {_nearest(inst, known)}")
        terms = question_terms(topic.title[lang], lang, {})
        return self.topical.compare(topic, lang, list(instruments) or named, terms)

    def search(
        self, query: str, *, k: int = 5, lang: str = "auto", method: Method = "hybrid"
    ) -> list[SearchHit]:
        from assistant.core.errors import InputError
        from assistant.text.guard import Rejection, check_question

        checked = check_question(query, max_chars=self.settings.max_question_chars)
        if isinstance(checked, Rejection):
            raise InputError(
                f"unusable query ({checked.reason.replace('_', ' ')}); type a question in Kazakh, Russian or English"
            )
        parsed = self.understand(checked.text, lang=lang)
        hits = self.retrieve(self.request_for(parsed), method=method, k=k)
        out = []
        for h in hits:
            p = self.index.store.get(h.provision_id, parsed.language)
            out.append(
                SearchHit(
                    id=h.provision_id,
                    score=round(h.score, 4),
                    lang=p.lang,
                    label=self.label(h.provision_id, parsed.language),
                    title=p.title,
                    text=p.text,
                    sources=h.sources,
                )
            )
        return out


def _map_answers(kind: str, topic) -> bool:  # noqa: ANN001 - corpus.topics.Topic
    """Whether the topic map answers a question of this kind: a named provision («article») and the research
    article («facts») are quoted from retrieval as they are, and «what is X» is answered by the defining
    article unless the topic is that definition."""
    if kind in ("article", "facts"):
        return False
    return kind != "definition" or topic.id.startswith("definition-")


def _without_definition_words(terms: Mapping[str, set[str]]) -> dict[str, set[str]]:
    """Question terms less the words that only ask for a definition («анықтама», "use of terms", "means"):
    in a definitions article they choose the paragraph about the use of terms over the item defining the
    term asked about (VCLT 2(2) instead of 2(1)(d) for «ескертпе (reservation) деген не?»)."""
    return {lg: ts - _definition_words(lg) for lg, ts in terms.items()}


@lru_cache(maxsize=8)
def _definition_words(lang: str) -> frozenset[str]:
    from assistant.search.understand import glossary
    from assistant.text.tokenize import tokenize

    return frozenset(tokenize(" ".join(glossary()["definition"].terms.get(lang, ())), lang))


def _nearest(word: str, valid) -> str:  # noqa: ANN001 - a collection of ids
    import difflib

    near = difflib.get_close_matches(word, list(valid), n=4, cutoff=0.4) or sorted(valid)[:4]
    return ", ".join(near)


def _clock() -> float:
    return time.perf_counter() * 1000.0
