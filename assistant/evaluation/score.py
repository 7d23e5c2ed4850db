"""Scoring: one answer against its question's expectations, and the rates over a set of answers.

Takes: `Question`s and the `Answer`s the assistant gave. Gives: `Scores` and `Record`s per question, and
`summarize`: rates overall, per language, per kind, per split and per instrument, latency percentiles, the
optional dense/BM25 baselines.

Matching rule: an answer citation matches a gold id when it is that provision or lies under it
(`strasbourg1990:13.1.a` matches `strasbourg1990:13` and `strasbourg1990`); the gold `article`
(the research article) matches any `article:*`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.answer.extractive import Answer
from assistant.core.ids import article_of, covers, instrument_of
from assistant.core.langs import LANGS
from assistant.evaluation.questions import Question

RECALL_K = 5
BASELINE_METHODS = ("hybrid", "dense", "bm25")
# The answer-level checks whose failure puts a question on the report's list of failures.
FAILURE_CHECKS = ("refusal_ok", "language_ok", "cite_hit", "facts_ok", "fabricated")


# ------------------------------------------------------------------------------ matching and scores


def matches_any(provision_id: str, golds: Iterable[str]) -> bool:
    return any(covers(g, provision_id) for g in golds)


def related(a: str, b: str) -> bool:
    """Same provision at another granularity: equal, ancestor or descendant."""
    return covers(a, b) or covers(b, a)


def top_articles(retrieved: Sequence[str], k: int = RECALL_K) -> list[list[str]]:
    """The first `k` distinct articles of a ranked id list, each with its retrieved ids, best first."""
    groups: dict[str, list[str]] = {}
    for pid in retrieved:
        art = article_of(pid)
        if art not in groups:
            if len(groups) >= k:
                continue
            groups[art] = []
        groups[art].append(pid)
    return list(groups.values())


def recall_at_k(retrieved: Sequence[str], golds: Sequence[str], k: int = RECALL_K) -> bool:
    """An expected provision is among the top `k` retrieved articles.

    A retrieved id counts for a gold id when it lies under it, or is its ancestor (the whole article
    retrieved when the gold is one of its paragraphs): the same text at another granularity.
    """
    for group in top_articles(retrieved, k):
        for pid in group:
            if any(covers(g, pid) or (":" in g and g.startswith(pid + ".")) for g in golds):
                return True
    return False


def fabricated_ids(answer: Answer, index_ids: Collection[str]) -> list[str]:
    """Cited ids that are not in the index, or were not retrieved for this question."""
    out = []
    for c in answer.citations:
        if c.id not in index_ids or not any(related(c.id, r) for r in answer.retrieved):
            out.append(c.id)
    return out


@dataclass(frozen=True)
class Scores:
    cite_hit: bool | None  # None for questions expecting a refusal
    cite_precision: float | None  # None when not applicable or the answer cites nothing
    cited: int  # citations in the answer
    cited_ok: int  # of which inside cite ∪ also
    fabricated: tuple[str, ...]
    facts_ok: bool | None  # None when the question lists no facts or expects a refusal
    refusal_ok: bool
    language_ok: bool
    recall_at_5: bool | None  # None for questions expecting a refusal
    # comparison questions: the share of `expect.instruments` the answer cites a provision of
    instrument_share: float | None = None

    @property
    def failed(self) -> tuple[str, ...]:
        """Names of the answer-level checks this question fails."""
        out = [name for name in FAILURE_CHECKS if name != "fabricated" and getattr(self, name) is False]
        if self.fabricated:
            out.append("fabricated")
        return tuple(out)


def score(question: Question, answer: Answer, index_ids: Collection[str]) -> Scores:
    """Score one answer against its question's expectations."""
    expect = question.expect
    ids = [c.id for c in answer.citations]
    answerable = not expect.refuse
    gold_all = (*expect.cite, *expect.also)
    cited_ok = sum(1 for cid in ids if matches_any(cid, gold_all)) if answerable else 0
    share = None
    if answerable and expect.instruments:
        cited_instruments = {instrument_of(cid) for cid in ids}
        share = sum(1 for i in expect.instruments if i in cited_instruments) / len(expect.instruments)
    facts_ok = None
    if answerable and expect.facts:
        facts_ok = all(re.search(f, answer.answer, re.IGNORECASE) for f in expect.facts)
    return Scores(
        cite_hit=any(matches_any(cid, expect.cite) for cid in ids) if answerable else None,
        cite_precision=(cited_ok / len(ids)) if answerable and ids else None,
        cited=len(ids),
        cited_ok=cited_ok,
        fabricated=tuple(fabricated_ids(answer, index_ids)),
        facts_ok=facts_ok,
        refusal_ok=answer.refused == expect.refuse,
        language_ok=answer.language == question.lang,
        recall_at_5=recall_at_k(answer.retrieved, expect.cite) if answerable else None,
        instrument_share=share,
    )


@dataclass(frozen=True)
class Record:
    question: Question
    answer: Answer
    scores: Scores
    latency_ms: float
    baselines: Mapping[str, bool | None] = field(default_factory=dict)  # method → recall@5

    def to_dict(self) -> dict[str, Any]:
        """The results.jsonl line: id, the answer JSON at top level, the gold, then the scores."""
        s = self.scores
        out: dict[str, Any] = {"id": self.question.id, **self.answer.to_dict()}
        out.update(
            expected_lang=self.question.lang,
            kind=self.question.kind,
            split=self.question.split,
            history=list(self.question.history),
            expect=self.question.expect.to_dict(),
            latency_ms=round(self.latency_ms, 2),
            cite_hit=s.cite_hit,
            cite_precision=None if s.cite_precision is None else round(s.cite_precision, 4),
            fabricated=list(s.fabricated),
            facts_ok=s.facts_ok,
            refusal_ok=s.refusal_ok,
            language_ok=s.language_ok,
            recall_at_5=s.recall_at_5,
            instrument_share=s.instrument_share,
            failed=list(s.failed),
        )
        for method, hit in self.baselines.items():
            out[f"recall_at_5_{method}"] = hit
        return out


# ------------------------------------------------------------------------------ aggregation


def _rate(values: Iterable[bool | None]) -> float | None:
    known = [bool(v) for v in values if v is not None]
    return round(sum(known) / len(known), 4) if known else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return round(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo), 2)


def metrics(records: Sequence[Record]) -> dict[str, Any]:
    """The headline rates over a set of records (the whole run, or one language)."""
    answerable = [r for r in records if not r.question.expect.refuse]
    refusable = [r for r in records if r.question.expect.refuse]
    cited = sum(r.scores.cited for r in answerable)
    latencies = [r.latency_ms for r in records]
    shares = [r.scores.instrument_share for r in records if r.scores.instrument_share is not None]
    return {
        "n": len(records),
        "n_answerable": len(answerable),
        "n_refuse": len(refusable),
        "cite_hit_rate": _rate(r.scores.cite_hit for r in answerable),
        "cite_precision": round(sum(r.scores.cited_ok for r in answerable) / cited, 4) if cited else None,
        "fabricated_citations": sum(len(r.scores.fabricated) for r in records),
        "dropped_citations": sum(len(r.answer.dropped_citations) for r in records),
        "facts_rate": _rate(r.scores.facts_ok for r in answerable),
        "refusal_accuracy": _rate(r.answer.refused for r in refusable),
        "false_refusal_rate": _rate(r.answer.refused for r in answerable),
        "language_match": _rate(r.scores.language_ok for r in records),
        "retrieval_recall_at_5": _rate(r.scores.recall_at_5 for r in answerable),
        "compare_instrument_share": round(sum(shares) / len(shares), 4) if shares else None,
        "latency_ms_p50": percentile(latencies, 50),
        "latency_ms_p95": percentile(latencies, 95),
        "failed": sum(1 for r in records if r.scores.failed),
    }


def by_instrument(records: Sequence[Record]) -> dict[str, dict[str, Any]]:
    """Hit and recall rates of the answerable questions, per instrument of their gold citations."""
    groups: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        if r.question.expect.refuse:
            continue
        for inst in dict.fromkeys(instrument_of(g) for g in r.question.expect.cite):
            groups[inst].append(r)
    return {
        inst: {
            "n": len(rs),
            "cite_hit_rate": _rate(r.scores.cite_hit for r in rs),
            "retrieval_recall_at_5": _rate(r.scores.recall_at_5 for r in rs),
        }
        for inst, rs in sorted(groups.items())
    }


def baselines(records: Sequence[Record], depth: int | None = None) -> dict[str, Any]:
    """Recall@5 of each retrieval method on the answerable questions, overall and per language."""
    methods = [m for m in BASELINE_METHODS if any(m in r.baselines for r in records)]

    out: dict[str, Any] = {"k": RECALL_K, "depth": depth, "methods": {}}
    for m in methods:
        answerable = [r for r in records if not r.question.expect.refuse]
        out["methods"][m] = {
            "retrieval_recall_at_5": _rate(r.baselines.get(m) for r in answerable),
            "by_language": {
                lang: _rate(r.baselines.get(m) for r in answerable if r.question.lang == lang)
                for lang in LANGS
            },
        }
    return out


def summarize(records: Sequence[Record], depth: int | None = None, **meta: Any) -> dict[str, Any]:
    summary: dict[str, Any] = metrics(records)
    summary["by_language"] = {
        lang: metrics([r for r in records if r.question.lang == lang]) for lang in LANGS
    }
    summary["by_instrument"] = by_instrument(records)
    summary["by_kind"] = {
        kind: metrics([r for r in records if r.question.kind == kind])
        for kind in sorted({r.question.kind for r in records if r.question.kind})
    }
    splits = sorted({r.question.split for r in records if r.question.split})
    if len(splits) > 1:
        summary["by_split"] = {
            split: {
                **metrics(part),
                "by_language": {
                    lang: metrics([r for r in part if r.question.lang == lang]) for lang in LANGS
                },
            }
            for split in splits
            for part in [[r for r in records if r.question.split == split]]
        }
    if any(r.baselines for r in records):
        summary["baselines"] = baselines(records, depth)
    summary["failed_ids"] = [r.question.id for r in records if r.scores.failed]
    summary["answer_modes"] = dict(sorted(_count(r.answer.mode for r in records).items()))
    summary.update(meta)
    return summary


def _count(values: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for v in values:
        out[v] += 1
    return dict(out)
