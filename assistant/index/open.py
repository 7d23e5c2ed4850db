"""Opening the index: what retrieval and answers read.

Takes: settings and the embedding model. Gives: `open_index()` → `Index` (provision store, BM25, the vector
store, the units, definition units and the research article's references to treaty articles), after checking
the generation's checksums, model and analyzer; `copy_index()` for tools that need a private copy.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.documents import Document

from assistant.core.errors import (
    IndexCorruptError,
    IndexError_,
    IndexMismatchError,
)
from assistant.core.ids import (
    ProvisionId,
    article_of,
    is_research_article,
    split_unit,
)
from assistant.core.settings import Settings
from assistant.corpus.manifest import Manifest
from assistant.corpus.provisions import ARTICLE_SECTIONS
from assistant.corpus.user import load_corpus_manifest
from assistant.index.build import corpus_checksums, indexed_files, swap
from assistant.index.generation import DEFINITIONS, SCHEMA, IndexMeta, current_meta, verify_generation
from assistant.index.lexical import ANALYZER_VERSION
from assistant.index.store import ProvisionStore, retrieval_units, unit_headers
from assistant.index.vectors import chroma_client, chroma_store, self_test

# ------------------------------------------------------------------------------------------ open


@dataclass
class Index:
    """An opened index generation: what retrieval and answers read."""

    meta: IndexMeta
    store: ProvisionStore
    bm25: Any  # lexical.BM25Index
    vectorstore: Any  # langchain_chroma.Chroma
    units: list[str]
    path: Path
    manifest: Manifest

    def dense_search(
        self, vector: Sequence[float], k: int, instruments: Sequence[str] = ()
    ) -> list[tuple[str, float]]:
        """(unit id, cosine similarity) of the `k` nearest units, optionally within some instruments."""
        where = None
        if len(instruments) == 1:
            where = {"instrument": instruments[0]}
        elif instruments:
            where = {"instrument": {"$in": list(instruments)}}
        found = self.vectorstore.similarity_search_by_vector_with_relevance_scores(
            list(vector), k=k, filter=where
        )
        return [(d.id, 1.0 - float(distance)) for d, distance in found if d.id]  # cosine: distance = 1 - cos

    @cached_property
    def definition_units(self) -> set[str]:
        """Units of the "use of terms" articles: a question asking what a term means is answered there."""
        articles = {
            p.article_id
            for pid in self.store.ids
            for p in self.store.versions(pid).values()
            if p.level == "article" and DEFINITIONS.search(p.title)
        }
        return {u for u in self.all_units if article_of(split_unit(u)[0]) in articles}

    @cached_property
    def commentary_refs(self) -> dict[str, tuple[str, ...]]:
        """Treaty articles each research-article paragraph discusses («Конвенцияның 13-бабына сәйкес»).

        A paragraph often names the convention once and its articles later («the Convention's article
        13»), so article numbers are paired with the instruments named in the paragraph and in the
        last paragraph before it that named one; pairs that do not exist in the corpus are dropped.
        """
        from assistant.search.understand import aliases_from_manifest, parse_references

        aliases = aliases_from_manifest(self.manifest)
        order = {s: i for i, s in enumerate(ARTICLE_SECTIONS)}
        ids = sorted(
            (ProvisionId.parse(p) for p in self.store.ids if is_research_article(p)),
            key=lambda x: (order.get(x.article, 99), int(x.paragraph or 0)),
        )
        refs: dict[str, tuple[str, ...]] = {}
        context: tuple[str, ...] = ()
        for rid in ids:
            pid = str(rid)
            p = self.store.get(pid, "kk")
            if p is None:
                continue
            found = parse_references(p.text, aliases)
            named = tuple(i for i in found.instruments if not is_research_article(i))
            candidates = {f"{inst}:{ref.article}" for inst in (*named, *context) for ref in found.articles}
            refs[pid] = tuple(sorted(c for c in candidates if c in self.store))
            if named:
                context = named
        return refs

    @cached_property
    def all_units(self) -> list[str]:
        """Dense units and the lexical-only item units."""
        return list(dict.fromkeys([*self.units, *self.bm25.doc_ids]))

    def retrieval_units(self, *, items: bool = False) -> list[Document]:
        """The units this index was built from, rebuilt from its provisions: with `items`, the lexical
        units (BM25 order not guaranteed); without, the dense units in the order of `vectors()`.
        IndexMismatchError when the code would now make other units (rebuild the index)."""
        provisions = [p for pid in sorted(self.store.ids) for p in self.store.versions(pid).values()]
        built = retrieval_units(provisions, unit_headers(self.manifest), items=items)
        if items:
            return built
        rows = json.loads((self.path / "units.json").read_text(encoding="utf-8"))
        by_id = {u.id: u for u in built}
        dense = [by_id.get(r["id"]) for r in rows]
        if any(u is None or u.metadata["hash"] != r["hash"] for u, r in zip(dense, rows, strict=True)):
            raise IndexMismatchError(
                f"the index in {self.path} does not match the code's retrieval units; run `assistant index`"
            )
        return dense  # type: ignore[return-value] - None was refused above

    def vectors(self) -> np.ndarray:
        """The dense units' vectors (float32, one row per `units` entry), as built."""
        return np.load(self.path / "vectors.npy", allow_pickle=False)

    def stale_files(self, corpus_dir: Path) -> list[str]:
        """Corpus files whose checksum differs from the one indexed (edited after indexing)."""
        now = corpus_checksums(self.manifest, corpus_dir)
        return sorted(f for f, sha in self.meta.corpus.items() if now.get(f) != sha)


def copy_index(generation: Path, index_dir: Path) -> Path:
    """Copy a built generation into `index_dir` and make it the current one there (for benchmarks)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    target = index_dir / generation.name
    shutil.copytree(generation, target, symlinks=True)
    swap(index_dir, target)
    return target


def open_index(settings: Settings, embeddings) -> Index:  # noqa: ANN001
    """Open the current generation; refuses an index built with another model or dimension."""
    index_dir, current, meta = current_meta(settings)
    if meta.schema != SCHEMA:
        raise IndexMismatchError(
            f"the index in {index_dir} has format {meta.schema}, this version reads {SCHEMA}; run `assistant index --rebuild`"
        )
    if meta.analyzer != ANALYZER_VERSION:
        raise IndexMismatchError(
            f"the index in {index_dir} was built with text analyzer {meta.analyzer or '(older)'}, this version "
            f"uses {ANALYZER_VERSION}; run `assistant index` (the vectors are reused)"
        )
    manifest = load_corpus_manifest(settings)  # bundled + user documents
    if meta.corpus != indexed_files(manifest):
        # documents added to (or changed in) the manifest since indexing: the index does not hold them
        raise IndexMismatchError(
            f"the corpus manifest changed since the index in {index_dir} was built; run `assistant index`"
        )
    if meta.model_id != embeddings.model_id or meta.dimension != int(embeddings.dimension):
        raise IndexMismatchError(
            f"the index was built with embedding model {meta.model_id}, but {embeddings.model_id} is configured; "
            "run `assistant index --rebuild` or set ASSISTANT_EMBEDDING_MODEL back"
        )
    if (meta.chroma_url or None) != (settings.chroma_url or None):
        raise IndexMismatchError(
            f"the index was built for Chroma at {meta.chroma_url or 'the embedded store'}, not {settings.chroma_url or 'the embedded store'}; "
            "run `assistant index` with the same ASSISTANT_CHROMA_URL"
        )
    verify_generation(current, meta)
    from assistant.index.lexical import BM25Index

    store = ProvisionStore.load(current / "provisions.jsonl")
    if len(store) != meta.provisions:
        raise IndexCorruptError(
            f"the provision store in {current} holds {len(store)} provisions, the index expects "
            f"{meta.provisions}; run `assistant index --rebuild`"
        )
    try:
        bm25 = BM25Index.load(current / "bm25")
    except IndexError_ as exc:
        # lexical.py says what is wrong; inside a generation that exists, the fix is always a rebuild
        what = exc.message.split("; ")[0]
        kind = IndexMismatchError if isinstance(exc, IndexMismatchError) else IndexCorruptError
        raise kind(f"{what}; run `assistant index --rebuild`") from None
    try:
        units = [u["id"] for u in json.loads((current / "units.json").read_text(encoding="utf-8"))]
        vectorstore = chroma_store(chroma_client(settings, current / "chroma"), meta.collection, embeddings)
        count = vectorstore._collection.count()
        if count == meta.units == len(units):
            self_test(vectorstore._collection, current, units)
    except IndexError_:
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - chroma raises many types (a Rust panic is a BaseException)
        raise IndexCorruptError(
            f"the vector store of the index in {index_dir} is unreadable ({type(exc).__name__}); run `assistant index --rebuild`"
        ) from None
    if count != meta.units or len(units) != meta.units:
        raise IndexCorruptError(
            f"the vector store holds {count} units ({len(units)} listed), the index expects {meta.units}; "
            "run `assistant index --rebuild`"
        )
    return Index(
        meta=meta,
        store=store,
        bm25=bm25,
        vectorstore=vectorstore,
        units=units,
        path=current,
        manifest=manifest,
    )
