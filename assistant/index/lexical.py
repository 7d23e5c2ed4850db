"""Lexical retrieval: a BM25 index over the index terms of `text.tokenize`.

Takes: provision texts as `(doc_id, text, lang)` triples, and questions in Kazakh, Russian or English.
Gives: `BM25Index` (Okapi BM25 over one vocabulary shared by all languages; build, search with an
optional doc-id filter, save/load as .npz + .json, no pickle). How a text becomes terms (normalising,
per-language stopwords and stemmers) is `text.tokenize`; a saved index records its `ANALYZER_VERSION`.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections import Counter
from collections.abc import Collection, Sequence
from pathlib import Path

import numpy as np

from assistant.core.errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from assistant.text.tokenize import ANALYZER_VERSION, tokenize

__all__ = ["ANALYZER_VERSION", "FORMAT_VERSION", "BM25Index"]

FORMAT_VERSION = 1

# --------------------------------------------------------------------------- BM25 index

_META = "bm25.json"
_ARRAYS = "bm25.npz"


class BM25Index:
    """Okapi BM25 over all documents of all languages (one vocabulary, IDF over every document).

    Postings are stored term-major (CSC-like: `indptr`, `docs`, `tf`); BM25 weights per posting are
    precomputed, so a query is a few numpy additions.
    """

    def __init__(self, k1: float = 1.2, b: float = 0.75, *, kk_expand: bool = True) -> None:
        self.k1 = k1
        self.b = b
        self.kk_expand = kk_expand
        self._doc_ids: list[str] = []
        self._langs: list[str] = []
        self._pos: dict[str, int] = {}
        self._vocab: dict[str, int] = {}
        self._indptr = np.zeros(1, dtype=np.int64)
        self._docs = np.zeros(0, dtype=np.int32)
        self._tf = np.zeros(0, dtype=np.int32)
        self._doc_len = np.zeros(0, dtype=np.int32)
        self._weights = np.zeros(0, dtype=np.float32)

    def __len__(self) -> int:
        return len(self._doc_ids)

    @property
    def doc_ids(self) -> list[str]:
        return list(self._doc_ids)

    @property
    def doc_langs(self) -> list[str]:
        return list(self._langs)

    @property
    def vocab_size(self) -> int:
        return len(self._vocab)

    def build(self, docs: Sequence[tuple[str, str, str]]) -> BM25Index:
        """Index `(doc_id, text, lang)` triples, replacing any previous content. Returns self."""
        ids = [d[0] for d in docs]
        if len(set(ids)) != len(ids):
            dup = next(i for i, c in Counter(ids).items() if c > 1)
            raise ValueError(f"duplicate doc id {dup!r}; doc ids must be unique")
        vocab: dict[str, int] = {}
        term_ids: list[int] = []
        doc_idx: list[int] = []
        tfs: list[int] = []
        lengths = np.zeros(len(docs), dtype=np.int32)
        for i, (_, text, lang) in enumerate(docs):
            tokens = tokenize(text, lang)
            lengths[i] = len(tokens)
            for term, tf in Counter(tokens).items():
                term_ids.append(vocab.setdefault(term, len(vocab)))
                doc_idx.append(i)
                tfs.append(tf)
        t = np.asarray(term_ids, dtype=np.int64)
        order = np.argsort(t, kind="stable")  # stable: docs stay ascending within a term
        self._vocab = vocab
        self._doc_ids = ids
        self._langs = [d[2] for d in docs]
        self._pos = {d: i for i, d in enumerate(ids)}
        self._indptr = np.concatenate([[0], np.cumsum(np.bincount(t, minlength=len(vocab)))]).astype(np.int64)
        self._docs = np.asarray(doc_idx, dtype=np.int32)[order]
        self._tf = np.asarray(tfs, dtype=np.int32)[order]
        self._doc_len = lengths
        self._compute_weights()
        return self

    def _compute_weights(self) -> None:
        n = len(self._doc_ids)
        if n == 0 or len(self._docs) == 0:
            self._weights = np.zeros(0, dtype=np.float32)
            return
        df = np.diff(self._indptr).astype(np.float64)
        idf = np.log1p((n - df + 0.5) / (df + 0.5))  # the +1 form: never negative for common terms
        avgdl = max(float(self._doc_len.mean()), 1e-9)
        norm = self.k1 * (1.0 - self.b + self.b * self._doc_len.astype(np.float64) / avgdl)
        tf = self._tf.astype(np.float64)
        per_term_idf = np.repeat(idf, np.diff(self._indptr))
        self._weights = (per_term_idf * tf * (self.k1 + 1.0) / (tf + norm[self._docs])).astype(np.float32)

    def idf(self, term: str) -> float:
        """How rare a (tokenized) term is across the indexed units; an unknown term counts as the rarest."""
        n = len(self._doc_ids)
        t = self._vocab.get(term)
        df = 0 if t is None else int(self._indptr[t + 1] - self._indptr[t])
        return float(np.log1p((n - df + 0.5) / (df + 0.5)))

    def scores(self, query: str, lang: str = "auto") -> np.ndarray:
        """BM25 score of every document (in build order) for `query`; 0 where no term matches."""
        out = np.zeros(len(self._doc_ids), dtype=np.float64)
        for term in dict.fromkeys(tokenize(query, lang, kk_expand=self.kk_expand)):
            t = self._vocab.get(term)
            if t is None:
                continue
            lo, hi = self._indptr[t], self._indptr[t + 1]
            out[self._docs[lo:hi]] += self._weights[lo:hi]  # docs are unique within a term
        return out

    def search(
        self, query: str, lang: str = "auto", k: int = 20, allowed: Collection[str] | None = None
    ) -> list[tuple[str, float]]:
        """Top `k` `(doc_id, score)` by BM25, best first, only documents that match at least one term;
        `allowed` restricts the result to those doc ids (unknown ids are ignored)."""
        if k <= 0 or not self._doc_ids:
            return []
        scores = self.scores(query, lang)
        if allowed is not None:
            cand = np.fromiter((self._pos[d] for d in allowed if d in self._pos), dtype=np.int64)
            cand = np.unique(cand)
        else:
            cand = np.flatnonzero(scores)
        if cand.size == 0:
            return []
        sub = scores[cand]
        keep = sub > 0
        cand, sub = cand[keep], sub[keep]
        if cand.size > k:
            part = np.argpartition(-sub, k - 1)[:k]
            cand, sub = cand[part], sub[part]
        order = np.lexsort((cand, -sub))  # ties: earlier document first, so results are deterministic
        return [(self._doc_ids[i], float(sub[j])) for j, i in ((j, cand[j]) for j in order)]

    # ------------------------------------------------------------------ persistence

    def save(self, directory: Path) -> None:
        """Write `bm25.npz` (postings) and `bm25.json` (ids, vocabulary, parameters) into `directory`."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        vocab = [""] * len(self._vocab)
        for term, i in self._vocab.items():
            vocab[i] = term
        meta = {
            "format": FORMAT_VERSION,
            "analyzer": ANALYZER_VERSION,
            "k1": self.k1,
            "b": self.b,
            "kk_expand": self.kk_expand,
            "doc_ids": self._doc_ids,
            "langs": self._langs,
            "vocab": vocab,
        }
        # Write both files under temporary names first, so an interrupted save never leaves a new
        # postings file next to an old vocabulary.
        tmp_arrays, tmp_meta = directory / (_ARRAYS + ".tmp"), directory / (_META + ".tmp")
        with tmp_arrays.open("wb") as fh:
            np.savez(fh, indptr=self._indptr, docs=self._docs, tf=self._tf, doc_len=self._doc_len)
        tmp_meta.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp_arrays, directory / _ARRAYS)
        os.replace(tmp_meta, directory / _META)

    @classmethod
    def load(cls, directory: Path) -> BM25Index:
        """Read an index written by `save`; raises IndexMissingError / IndexMismatchError /
        IndexCorruptError."""
        directory = Path(directory)
        meta_path, arrays_path = directory / _META, directory / _ARRAYS
        if not meta_path.exists() or not arrays_path.exists():
            raise IndexMissingError(f"no BM25 index in {directory}; build the index first")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            with np.load(arrays_path, allow_pickle=False) as z:
                arrays = {name: z[name] for name in ("indptr", "docs", "tf", "doc_len")}
            if not isinstance(meta, dict):
                raise TypeError("metadata is not an object")
        except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
            raise IndexCorruptError(
                f"BM25 index in {directory} is unreadable ({type(exc).__name__}); rebuild the index"
            ) from None
        if meta.get("format") != FORMAT_VERSION or meta.get("analyzer") != ANALYZER_VERSION:
            raise IndexMismatchError(
                f"BM25 index in {directory} was built by analyzer {meta.get('analyzer')!r} "
                f"(this code: {ANALYZER_VERSION!r}); rebuild the index"
            )
        try:
            index = cls(float(meta["k1"]), float(meta["b"]), kk_expand=bool(meta.get("kk_expand", True)))
            index._doc_ids = list(meta["doc_ids"])
            index._langs = list(meta["langs"])
            index._vocab = {term: i for i, term in enumerate(meta["vocab"])}
            index._indptr = arrays["indptr"].astype(np.int64, copy=False)
            index._docs = arrays["docs"].astype(np.int32, copy=False)
            index._tf = arrays["tf"].astype(np.int32, copy=False)
            index._doc_len = arrays["doc_len"].astype(np.int32, copy=False)
            n, nnz = len(index._doc_ids), len(index._docs)
            ok = (
                len(index._indptr) == len(index._vocab) + 1
                and index._indptr[-1] == nnz
                and len(index._tf) == nnz
                and len(index._doc_len) == n == len(index._langs)
                and (nnz == 0 or (int(index._docs.min()) >= 0 and int(index._docs.max()) < n))
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise IndexCorruptError(
                f"BM25 index in {directory} is malformed ({type(exc).__name__}); rebuild the index"
            ) from None
        if not ok:
            raise IndexCorruptError(f"BM25 index in {directory} has inconsistent arrays; rebuild the index")
        index._pos = {d: i for i, d in enumerate(index._doc_ids)}
        index._compute_weights()
        return index
