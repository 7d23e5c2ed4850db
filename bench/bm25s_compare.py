"""Our BM25 (`assistant.index.lexical.BM25Index`, numpy) against the `bm25s` package, on the same units.

Both are fed the same terms (our tokenizer and stemmers, the Kazakh one included) and the same parameters
(k1 = 1.2, b = 0.75, Lucene's idf), over the lexical units of the built index (`index/current`). For every
BM25 run `ask` makes on tests/questions.yaml (each language run of each question, with the instrument
filter when the question names one), it compares:
  * the top-50 lists (ids and order; bm25s's scores lack the constant factor k1 + 1, same order);
  * recall@5 of BM25-only and hybrid retrieval, exactly as `assistant eval --compare` computes them
    (`evaluation.run.baseline_recall`), with the index's BM25 swapped for the bm25s adapter below;
  * search latency of `search(query, lang, k=50, allowed)`, tokenizing included in both; build time.

Needs `bm25s` (`.venv/bin/pip install bm25s`; not a dependency of the project, see bench/README.md).
Run: .venv/bin/python bench/bm25s_compare.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import ROOT, latency_summary  # noqa: E402

DEPTH = 50  # retrieval.Weights.depth


class Bm25sLexical:
    """`BM25Index.search` over bm25s: our terms in, the same positive-score, tie-by-build-order top-k out."""

    def __init__(self, docs: list[tuple[str, str, str]], k1: float, b: float, kk_expand: bool) -> None:
        import bm25s

        from assistant.text.tokenize import tokenize

        self.kk_expand = kk_expand
        self.doc_ids = [d[0] for d in docs]
        self._pos = {d: i for i, d in enumerate(self.doc_ids)}
        self._bm25 = bm25s.BM25(k1=k1, b=b, method="lucene")
        self._bm25.index([tokenize(text, lang) for _, text, lang in docs], show_progress=False)
        self._vocab = self._bm25.vocab_dict

    def search(self, query: str, lang: str = "auto", k: int = 20, allowed=None) -> list[tuple[str, float]]:  # noqa: ANN001
        from assistant.text.tokenize import tokenize

        terms = [
            t for t in dict.fromkeys(tokenize(query, lang, kk_expand=self.kk_expand)) if t in self._vocab
        ]
        if k <= 0 or not terms:
            return []
        scores = np.asarray(self._bm25.get_scores(terms), dtype=np.float64)
        if allowed is not None:
            cand = np.unique(np.fromiter((self._pos[d] for d in allowed if d in self._pos), dtype=np.int64))
        else:
            cand = np.flatnonzero(scores)
        sub = scores[cand]
        keep = sub > 0
        cand, sub = cand[keep], sub[keep]
        if cand.size > k:
            part = np.argpartition(-sub, k - 1)[:k]
            cand, sub = cand[part], sub[part]
        order = np.lexsort((cand, -sub))
        return [(self.doc_ids[cand[j]], float(sub[j])) for j in order]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args(argv)
    try:
        import bm25s  # noqa: F401
    except ImportError:
        print("bm25s is not installed: .venv/bin/pip install bm25s", file=sys.stderr)
        return 2

    from assistant.core.settings import load_settings
    from assistant.evaluation.questions import load_questions
    from assistant.evaluation.run import baseline_recall
    from assistant.index.lexical import BM25Index
    from assistant.pipeline import Assistant
    from assistant.text.guard import Rejection

    a = Assistant(load_settings(home=ROOT, mode="extractive"))
    ours: BM25Index = a.index.bm25
    units = {u.id: u for u in a.index.retrieval_units(items=True)}
    docs = [
        (uid, units[uid].page_content, lang) for uid, lang in zip(ours.doc_ids, ours.doc_langs, strict=True)
    ]

    start = time.perf_counter()
    BM25Index(ours.k1, ours.b, kk_expand=ours.kk_expand).build(docs)
    ours_build_s = time.perf_counter() - start
    start = time.perf_counter()
    theirs = Bm25sLexical(docs, ours.k1, ours.b, ours.kk_expand)
    bm25s_build_s = time.perf_counter() - start

    # Every BM25 run `ask` makes: each language run of each question, with its instrument filter.
    questions = load_questions(ROOT / "tests" / "questions.yaml")
    runs = []
    for q in questions:
        prepared = a.prepare(q.question, q.history)
        if isinstance(prepared, Rejection):
            continue
        r = prepared.request
        allowed = None
        if r.instruments:
            allowed = {u for u in a.index.all_units if u.split(":", 1)[0] in set(r.instruments)}
        texts = {f"bm25:{r.lang}": (r.text, r.lang)}
        for lang, text in r.expansions.items():
            if text.strip():
                key = f"bm25:{lang}"
                texts[key] = (f"{texts[key][0]} {text}", lang) if key in texts else (text, lang)
        runs += [(f"{q.id}/{name}", text, lang, allowed) for name, (text, lang) in texts.items()]

    differing = [
        name
        for name, text, lang, allowed in runs
        if [d for d, _ in ours.search(text, lang, k=DEPTH, allowed=allowed)]
        != [d for d, _ in theirs.search(text, lang, k=DEPTH, allowed=allowed)]
    ]
    times: dict[str, list[float]] = {"ours": [], "bm25s": []}
    for _ in range(args.rounds):
        for engine_name, engine in (("ours", ours), ("bm25s", theirs)):
            for _, text, lang, allowed in runs:
                start = time.perf_counter()
                engine.search(text, lang, k=DEPTH, allowed=allowed)
                times[engine_name].append((time.perf_counter() - start) * 1000)

    recall: dict[str, dict[str, list[bool]]] = {}
    for engine_name, engine in (("ours", ours), ("bm25s", theirs)):
        a.index.bm25 = engine
        got: dict[str, list[bool]] = {"bm25": [], "hybrid": []}
        for q in questions:
            row = baseline_recall(a, q)
            for method in got:
                if row[method] is not None:
                    got[method].append(bool(row[method]))
        recall[engine_name] = got
    a.index.bm25 = ours

    print(
        f"lexical units: {len(docs)}; BM25 runs: {len(runs)} ({len(questions)} questions), {args.rounds} rounds"
    )
    print(f"build: ours {ours_build_s:.2f} s, bm25s {bm25s_build_s:.2f} s (both tokenizing)")
    print(
        f"identical top-{DEPTH} lists: {len(runs) - len(differing)}/{len(runs)}"
        + (f"; differ: {', '.join(differing[:10])}" if differing else "")
    )
    for engine_name, got in recall.items():
        print(
            f"recall@5 {engine_name:6}: "
            + ", ".join(f"{m} {sum(v)}/{len(v)} = {sum(v) / len(v):.3f}" for m, v in got.items())
        )
    for engine_name, ms in times.items():
        s = latency_summary(ms)
        print(
            f"search {engine_name:6}: p50 {s['p50_ms']:.2f} ms, p95 {s['p95_ms']:.2f} ms, mean {statistics.fmean(ms):.2f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
