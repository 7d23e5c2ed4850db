"""Rank fusion and retrieval without a model or an index: pure functions and in-memory fakes."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import pytest

from assistant.core.settings import RankingConfig
from assistant.search.fuse import RankedList, commentary_boost, fuse, pin
from assistant.search.retrieve import Request, pinned_ids, retrieve
from assistant.search.understand import ArticleRef


def _fuse(*lists: RankedList, lang: str = "ru", missing: Collection[str] = ()) -> dict[str, float]:
    fused = fuse(
        lists, rrf_k=10.0, question_lang=lang, full_weight=1.0, has_version=lambda pid, _l: pid not in missing
    )
    return dict(fused.ranked(10))


@pytest.mark.parametrize(
    ("lists", "best"),
    [
        # agreement of two lists beats the top of one
        (
            (RankedList("dense", 1, ("a:1@ru", "b:1@ru")), RankedList("bm25:ru", 1, ("c:1@ru", "b:1@ru"))),
            "b:1",
        ),
        # weights count
        ((RankedList("dense", 0.1, ("a:1@ru",)), RankedList("bm25:ru", 1.0, ("c:1@ru",))), "c:1"),
        # ties are broken by id, so the order never depends on dict order
        ((RankedList("dense", 1, ("z:1@ru",)), RankedList("bm25:ru", 1, ("a:1@ru",))), "a:1"),
    ],
)
def test_fusion_order(lists: tuple[RankedList, ...], best: str) -> None:
    assert next(iter(_fuse(*lists))) == best


def test_a_provision_counts_once_per_list_whatever_its_languages() -> None:
    three = RankedList("dense", 1, ("a:1@kk", "a:1@ru", "a:1@en", "b:1@ru"))
    scores = _fuse(three)
    assert scores["a:1"] == pytest.approx(1 / 11)  # its best-ranked version only
    assert scores["b:1"] == pytest.approx(1 / 14)


def test_another_language_counts_in_full_only_without_a_version_in_the_question_language() -> None:
    other = RankedList("bm25:en", 0.4, ("vclt:31@en", "uncac:1@en"))
    scores = _fuse(other, lang="kk", missing={"vclt:31"})
    assert scores["vclt:31"] == pytest.approx(1.0 / 11)
    assert scores["uncac:1"] == pytest.approx(0.4 / 12)


def test_commentary_boost_and_pinning() -> None:
    fused = fuse(
        [RankedList("dense", 1, ("article:intro.1@kk", "x:9@ru"))],
        rrf_k=10.0,
        question_lang="kk",
        full_weight=1.0,
        has_version=lambda *_: True,
    )
    boosted = commentary_boost(
        fused,
        {"article:intro.1": ("uncac:54", "other:1")},
        depth=5,
        weight=1.0,
        rrf_k=10.0,
        keep=lambda ref: ref.startswith("uncac"),
    )
    assert boosted == ["uncac:54"] and "commentary" in fused.sources["uncac:54"]
    pin(fused, ["x:9", "y:1"])
    assert [pid for pid, _ in fused.ranked(2)] == ["x:9", "y:1"]


class FakeStore:
    def __init__(self, ids: dict[str, tuple[str, ...]]) -> None:
        self.ids = ids

    def __contains__(self, pid: object) -> bool:
        return pid in self.ids

    def has(self, pid: str, lang: str) -> bool:
        return lang in self.ids.get(pid, ())

    def versions(self, pid: str) -> dict[str, object]:
        return {lang: object() for lang in self.ids.get(pid, ())}


class FakeLexical:
    def __init__(self, postings: dict[str, list[str]]) -> None:
        self.postings = postings  # word -> unit ids, best first

    def search(
        self, query: str, lang: str = "auto", k: int = 20, allowed: Collection[str] | None = None
    ) -> list[tuple[str, float]]:
        out: list[str] = []
        for word in query.lower().split():
            out += [
                u for u in self.postings.get(word, []) if u not in out and (allowed is None or u in allowed)
            ]
        return [(u, 1.0) for u in out[:k]]


class FakeIndex:
    def __init__(self) -> None:
        self.store = FakeStore(
            {"s:13": ("ru",), "s:13.1": ("ru",), "s:13.1.a": ("ru",), "u:54.1.a": ("ru", "en")}
        )
        self.bm25 = FakeLexical({"конфискация": ["u:54.1.a@ru", "s:13.1.a@ru"]})
        self.all_units = ["s:13.1.a@ru", "u:54.1.a@ru", "u:54.1.a@en"]
        self.definition_units: set[str] = set()
        self.commentary_refs: dict[str, tuple[str, ...]] = {}
        self.dense: list[tuple[str, float]] = [("s:13.1.a@ru", 0.9), ("u:54.1.a@en", 0.8)]

    def dense_search(self, vector: Sequence[float], k: int, instruments: Sequence[str] = ()):
        return [(u, s) for u, s in self.dense if not instruments or u.split(":")[0] in instruments][:k]


class FakeEmbedder:
    def embed_query(self, text: str) -> list[float]:
        return [0.0]


@pytest.mark.parametrize(
    ("method", "first", "sources"),
    [
        ("hybrid", "s:13.1.a", ("bm25:ru", "dense")),
        ("bm25", "u:54.1.a", ("bm25:ru",)),
        ("dense", "s:13.1.a", ("dense",)),
    ],
)
def test_retrieve_over_fakes(method: str, first: str, sources: tuple[str, ...]) -> None:
    hits = retrieve(FakeIndex(), FakeEmbedder(), Request("конфискация", "ru"), method=method, k=5)
    assert hits[0].provision_id == first and hits[0].sources == sources
    assert hits[0].similarity == (None if method == "bm25" else 0.9)


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        (ArticleRef("13", "1", "a"), ["s:13.1.a"]),
        (ArticleRef("13", "1", "z"), ["s:13.1"]),  # no item z: the paragraph
        (ArticleRef("13", "7"), ["s:13"]),  # no paragraph 7: the article
        (ArticleRef("99"), []),  # no such article: nothing pinned
    ],
)
def test_pinned_ids_fall_back_to_the_nearest_existing_provision(ref: ArticleRef, expected: list[str]) -> None:
    assert pinned_ids(FakeIndex().store, Request("x", "ru", instruments=("s",), articles=(ref,))) == expected


def test_pinned_provisions_come_first() -> None:
    request = Request("конфискация", "ru", instruments=("u",), articles=(ArticleRef("54", "1", "a"),))
    hits = retrieve(FakeIndex(), FakeEmbedder(), request, k=5, weights=RankingConfig())
    assert hits[0].provision_id == "u:54.1.a" and hits[0].pinned
