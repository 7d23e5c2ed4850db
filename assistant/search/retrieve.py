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

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from assistant.core.ids import ProvisionId, instrument_of
from assistant.core.settings import RankingConfig
from assistant.index.store import Index, split_unit_id
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


def _allowed_units(index: Index, instruments: Sequence[str]) -> set[str] | None:
    if not instruments:
        return None
    wanted = set(instruments)
    return {u for u in index.all_units if instrument_of(u) in wanted}


def dense_ranking(
    index: Index, embeddings, text: str, instruments: Sequence[str], depth: int
) -> list[tuple[str, float]]:  # noqa: ANN001
    """(unit id, cosine similarity) from the vector store, best first."""
    vector = embeddings.embed_query(text)
    where = None
    if len(instruments) == 1:
        where = {"instrument": instruments[0]}
    elif instruments:
        where = {"instrument": {"$in": list(instruments)}}
    found = index.vectorstore.similarity_search_by_vector_with_relevance_scores(vector, k=depth, filter=where)
    return [
        (d.id, 1.0 - float(distance)) for d, distance in found if d.id
    ]  # cosine space: distance = 1 - cos


def bm25_rankings(
    index: Index, request: Request, allowed: set[str] | None, depth: int
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


def _pinned(index: Index, request: Request) -> list[str]:
    """Provision ids named explicitly («13-бап», "Art. 13(1)(a)") in a named instrument."""
    out: list[str] = []
    for inst in request.instruments:
        for ref in request.articles:
            pid: ProvisionId | None = ProvisionId(inst, ref.article, ref.paragraph, ref.sub)
            while pid is not None:
                if str(pid) in index.store:
                    out.append(str(pid))
                    break
                pid = pid.parent  # "54.1.z" does not exist: fall back to 54.1, then 54
    return out


def retrieve(
    index: Index,
    embeddings,
    request: Request,
    *,
    method: Method = "hybrid",
    k: int = 10,  # noqa: ANN001
    weights: RankingConfig | None = None,
) -> list[Hit]:
    weights = weights or RankingConfig()
    allowed = _allowed_units(index, request.instruments)
    if allowed is not None and not allowed:
        allowed = None  # a named instrument with no text in the corpus: search everything
    lists: dict[str, tuple[float, list[str]]] = {}
    similarity: dict[str, float] = {}
    if method in ("hybrid", "dense"):
        dense = dense_ranking(
            index, embeddings, request.text, request.instruments if allowed else (), weights.depth
        )
        for uid, sim in dense:
            pid = split_unit_id(uid)[0]
            similarity[pid] = max(sim, similarity.get(pid, -1.0))
        lists["dense"] = (weights.dense, [uid for uid, _ in dense])
    if method in ("hybrid", "bm25"):
        for name, ranking in bm25_rankings(index, request, allowed, weights.depth).items():
            w = weights.bm25_own if name == f"bm25:{request.lang}" else weights.bm25_other
            lists[name] = (w, ranking)
    if request.definitions and method == "hybrid":
        # What does "X" mean? The answer sits in a "use of terms" article, which general retrieval
        # ranks below the articles that merely use the term; rank those articles on their own too.
        scope = index.definition_units if allowed is None else index.definition_units & allowed
        query = " ".join([request.text, *request.expansions.values()])
        lists["definitions"] = (
            weights.dense,
            [uid for uid, _ in index.bm25.search(query, "auto", k=weights.depth, allowed=scope)],
        )

    # Reciprocal rank fusion per provision: within one list a provision counts once (its best-ranked
    # language version), so a provision is not favoured merely for existing in three languages.
    score: dict[str, float] = defaultdict(float)
    langs: dict[str, set[str]] = defaultdict(set)
    sources: dict[str, set[str]] = defaultdict(set)
    for name, (w, ranking) in lists.items():
        seen: set[str] = set()
        for rank, uid in enumerate(ranking):
            pid, lang = split_unit_id(uid)
            langs[pid].add(lang)
            if pid in seen:
                continue
            seen.add(pid)
            weight = w
            if (
                name.startswith("bm25:")
                and name != f"bm25:{request.lang}"
                and not index.store.has(pid, request.lang)
            ):
                # No text in the question's language (VCLT is English only): the expansion into another
                # language is this provision's only lexical evidence, so it counts in full.
                weight = weights.bm25_own
            score[pid] += weight / (weights.rrf_k + rank + 1)
            sources[pid].add(name)
    if method == "hybrid":
        # The research article is an expert's reading of the treaties: when a paragraph of it is
        # among the best hits, the treaty articles it discusses are likely what the question is about.
        ranked_now = sorted(score, key=lambda pid: -score[pid])[: weights.commentary_depth]
        boost: list[str] = []
        for pid in ranked_now:
            for ref in index.commentary_refs.get(pid, ()):
                if ref not in boost and (not request.instruments or instrument_of(ref) in request.instruments):
                    boost.append(ref)
        for rank, pid in enumerate(boost):
            score[pid] += weights.commentary / (weights.rrf_k + rank + 1)
            sources[pid].add("commentary")
            langs[pid].update(index.store.versions(pid))
    pinned = _pinned(index, request)
    top = max(score.values(), default=1.0)
    for i, pid in enumerate(pinned):
        score[pid] = top + 1.0 + (len(pinned) - i) * 1e-3
        sources[pid].add("pinned")
    ranked = sorted(score.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
    hits = []
    for pid, s in ranked:
        ref = ProvisionId.parse(pid)
        hits.append(
            Hit(
                provision_id=pid,
                score=s,
                instrument=ref.instrument,
                article=ref.article,
                langs=tuple(sorted(langs[pid])),
                sources=tuple(sorted(sources[pid])),
                pinned=pid in pinned,
                similarity=similarity.get(pid),
            )
        )
    return hits
