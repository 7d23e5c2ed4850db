"""Rank fusion, pure: ranked lists of retrieval units in, scored provisions out. No index, no model.

Takes: `RankedList`s (a name such as «dense» or «bm25:kk», a weight, unit ids `provision@lang` best first),
the fusion constant, and the facts fusion depends on as plain values (the question's language, which
provisions have a version in it, commentary references, pinned ids).
Gives: `Fused` (score, languages and source lists per provision) and the ranked `(provision id, score)`.

Reciprocal rank fusion per provision: within one list a provision counts once (its best-ranked language
version), so a provision is not favoured merely for existing in three languages.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from assistant.core.ids import split_unit


@dataclass(frozen=True)
class RankedList:
    name: str  # "dense", "bm25:kk", "definitions", ...
    weight: float
    units: tuple[str, ...]  # unit ids `provision@lang`, best first


@dataclass
class Fused:
    """Running totals per provision id (mutable only while fusing; callers read them)."""

    score: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    langs: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    sources: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def ranked(self, k: int) -> list[tuple[str, float]]:
        """The `k` best provisions, ties broken by id so the order is stable."""
        return sorted(self.score.items(), key=lambda kv: (-kv[1], kv[0]))[:k]


def fuse(
    lists: Iterable[RankedList],
    *,
    rrf_k: float,
    question_lang: str,
    full_weight: float,
    has_version: Callable[[str, str], bool],
) -> Fused:
    """Weighted reciprocal rank fusion of `lists`, grouped by provision.

    A BM25 list in another language than the question's counts with `full_weight` for a provision that
    has no text in the question's language (VCLT is English only): the expansion into another language is
    then that provision's only lexical evidence.
    """
    out = Fused()
    own = f"bm25:{question_lang}"
    for ranked in lists:
        seen: set[str] = set()
        for rank, uid in enumerate(ranked.units):
            pid, lang = split_unit(uid)
            out.langs[pid].add(lang)
            if pid in seen:
                continue
            seen.add(pid)
            weight = ranked.weight
            if ranked.name.startswith("bm25:") and ranked.name != own and not has_version(pid, question_lang):
                weight = full_weight
            out.score[pid] += weight / (rrf_k + rank + 1)
            out.sources[pid].add(ranked.name)
    return out


def commentary_boost(
    fused: Fused,
    refs: Mapping[str, Sequence[str]],
    *,
    depth: int,
    weight: float,
    rrf_k: float,
    keep: Callable[[str], bool] = lambda _ref: True,
) -> list[str]:
    """Raise the treaty articles that the best research-article paragraphs discuss; returns them in order.

    The research article is an expert's reading of the treaties: when a paragraph of it is among the best
    hits, the treaty articles it discusses are likely what the question is about.
    """
    top = [pid for pid, _ in fused.ranked(depth)]
    boost: list[str] = []
    for pid in top:
        for ref in refs.get(pid, ()):
            if ref not in boost and keep(ref):
                boost.append(ref)
    for rank, pid in enumerate(boost):
        fused.score[pid] += weight / (rrf_k + rank + 1)
        fused.sources[pid].add("commentary")
    return boost


def pin(fused: Fused, pinned: Sequence[str]) -> None:
    """Put explicitly named provisions first, in the order named."""
    top = max(fused.score.values(), default=1.0)
    for i, pid in enumerate(pinned):
        fused.score[pid] = top + 1.0 + (len(pinned) - i) * 1e-3
        fused.sources[pid].add("pinned")
