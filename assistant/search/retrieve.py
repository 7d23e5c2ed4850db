"""Hybrid cross-lingual retrieval: dense (Chroma) + BM25 per language, fused, grouped by provision.

Takes: an opened `Index`, the embedding model and a `Request` (question text, its language, glossary
expansions into the other languages, instruments and article references recognised in the question).
Gives: `Hit`s, one per provision id (all language versions of a provision count as one), best first,
each with the ranks that produced it, so the answer can say why it was chosen and evaluation can
compare dense-only, BM25-only and fused retrieval on the same questions.

Why fusion works here: the question may be in Kazakh while the decisive text exists only in Russian
or English. The dense model is multilingual; BM25 is run on the question in its own language and on
its glossary expansion in the other two, and reciprocal rank fusion merges the ranked lists without
having to calibrate their scores. Named instruments restrict the search; named articles are pinned.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from assistant.core.ids import ProvisionId, instrument_of, split_unit
from assistant.core.settings import RankingConfig
from assistant.search.fuse import RankedList, commentary_boost, fuse, pin
from assistant.search.understand import ArticleRef

Method = Literal["hybrid", "dense", "bm25"]


@dataclass(frozen=True)
class Request:
    text: str
    lang: str
    expansions: dict[str, str] = field(default_factory=dict)  # lang -> glossary terms in that language
    instruments: tuple[str, ...] = ()
    articles: tuple[ArticleRef, ...] = ()
    definitions: bool = False  # the question asks what a term means


@dataclass(frozen=True)
class Hit:
    provision_id: str
    score: float
    instrument: str
    article: str
    langs: tuple[str, ...]  # languages in which a unit of this provision was retrieved
    sources: tuple[str, ...]  # which ranked lists found it ("dense", "bm25:kk", "pinned", ...)
    pinned: bool = False
    similarity: float | None = None  # best cosine similarity of its units to the question (dense)

    @property
    def article_id(self) -> str:
        return str(ProvisionId(self.instrument, self.article))


class LexicalIndex(Protocol):
    """BM25 over retrieval units (`index.lexical.BM25Index`, or an in-memory fake in tests)."""

    def search(
        self, query: str, lang: str = "auto", k: int = 20, allowed: Collection[str] | None = None
    ) -> list[tuple[str, float]]: ...


class VectorIndex(Protocol):
    """Nearest retrieval units to a query vector (`index.store.Index`, or a fake in tests)."""

    def dense_search(
        self, vector: Sequence[float], k: int, instruments: Sequence[str] = ()
    ) -> list[tuple[str, float]]: ...


class ProvisionLookup(Protocol):
    def __contains__(self, provision_id: object) -> bool: ...

    def has(self, provision_id: str, lang: str) -> bool: ...

    def versions(self, provision_id: str) -> Mapping[str, object]: ...


class SearchIndex(VectorIndex, Protocol):
    """What retrieval reads from an opened index."""

    bm25: LexicalIndex
    store: ProvisionLookup
    all_units: Sequence[str]
    definition_units: set[str]
    commentary_refs: Mapping[str, Sequence[str]]


class QueryEmbedder(Protocol):
    def embed_query(self, text: str) -> list[float]: ...


def _allowed_units(index: SearchIndex, instruments: Sequence[str]) -> set[str] | None:
    if not instruments:
        return None
    wanted = set(instruments)
    return {u for u in index.all_units if instrument_of(u) in wanted}


def dense_ranking(
    index: SearchIndex, embeddings: QueryEmbedder, text: str, instruments: Sequence[str], depth: int
) -> list[tuple[str, float]]:
    """(unit id, cosine similarity) from the vector store, best first."""
    return index.dense_search(embeddings.embed_query(text), depth, instruments)


def bm25_rankings(
    index: SearchIndex, request: Request, allowed: set[str] | None, depth: int
) -> dict[str, list[str]]:
    runs = {f"bm25:{request.lang}": (request.text, request.lang)}
    for lang, text in request.expansions.items():
        if text.strip():
            key = f"bm25:{lang}"
            # The own-language run also gets the expansion: synonyms of the field's terms.
            runs[key] = (f"{runs[key][0]} {text}", lang) if key in runs else (text, lang)
    return {
        name: [uid for uid, _ in index.bm25.search(q, lang, k=depth, allowed=allowed)]
        for name, (q, lang) in runs.items()
    }


def pinned_ids(store: ProvisionLookup, request: Request) -> list[str]:
    """Provision ids named explicitly («13-бап», "Art. 13(1)(a)") in a named instrument."""
    out: list[str] = []
    for inst in request.instruments:
        for ref in request.articles:
            pid: ProvisionId | None = ProvisionId(inst, ref.article, ref.paragraph, ref.sub)
            while pid is not None:
                if str(pid) in store:
                    out.append(str(pid))
                    break
                pid = pid.parent  # "54.1.z" does not exist: fall back to 54.1, then 54
    return out


def ranked_lists(
    index: SearchIndex,
    embeddings: QueryEmbedder,
    request: Request,
    method: Method,
    weights: RankingConfig,
    similarity: dict[str, float],
) -> list[RankedList]:
    """The ranked lists to fuse for `method`; fills `similarity` (best cosine per provision)."""
    allowed = _allowed_units(index, request.instruments)
    if allowed is not None and not allowed:
        allowed = None  # a named instrument with no text in the corpus: search everything
    lists: list[RankedList] = []
    if method in ("hybrid", "dense"):
        instruments = request.instruments if allowed else ()
        dense = dense_ranking(index, embeddings, request.text, instruments, weights.depth)
        for uid, sim in dense:
            pid = split_unit(uid)[0]
            similarity[pid] = max(sim, similarity.get(pid, -1.0))
        lists.append(RankedList("dense", weights.dense, tuple(uid for uid, _ in dense)))
    if method in ("hybrid", "bm25"):
        for name, ranking in bm25_rankings(index, request, allowed, weights.depth).items():
            w = weights.bm25_own if name == f"bm25:{request.lang}" else weights.bm25_other
            lists.append(RankedList(name, w, tuple(ranking)))
    if request.definitions and method == "hybrid":
        # What does "X" mean? The answer sits in a "use of terms" article, which general retrieval
        # ranks below the articles that merely use the term; rank those articles on their own too.
        scope = index.definition_units if allowed is None else index.definition_units & allowed
        query = " ".join([request.text, *request.expansions.values()])
        found = index.bm25.search(query, "auto", k=weights.depth, allowed=scope)
        lists.append(RankedList("definitions", weights.dense, tuple(uid for uid, _ in found)))
    return lists


def retrieve(
    index: SearchIndex,
    embeddings: QueryEmbedder,
    request: Request,
    *,
    method: Method = "hybrid",
    k: int = 10,
    weights: RankingConfig | None = None,
) -> list[Hit]:
    weights = weights or RankingConfig()
    similarity: dict[str, float] = {}
    lists = ranked_lists(index, embeddings, request, method, weights, similarity)
    fused = fuse(
        lists,
        rrf_k=weights.rrf_k,
        question_lang=request.lang,
        full_weight=weights.bm25_own,
        has_version=index.store.has,
    )
    if method == "hybrid":
        boosted = commentary_boost(
            fused,
            index.commentary_refs,
            depth=weights.commentary_depth,
            weight=weights.commentary,
            rrf_k=weights.rrf_k,
            keep=lambda ref: not request.instruments or instrument_of(ref) in request.instruments,
        )
        for pid in boosted:
            fused.langs[pid].update(index.store.versions(pid))
    pinned = pinned_ids(index.store, request)
    pin(fused, pinned)
    hits = []
    for pid, s in fused.ranked(k):
        ref = ProvisionId.parse(pid)
        hits.append(
            Hit(
                provision_id=pid,
                score=s,
                instrument=ref.instrument,
                article=ref.article,
                langs=tuple(sorted(fused.langs[pid])),
                sources=tuple(sorted(fused.sources[pid])),
                pinned=pid in pinned,
                similarity=similarity.get(pid),
            )
        )
    return hits
