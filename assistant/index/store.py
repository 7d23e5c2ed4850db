"""The persistent hybrid index: Chroma vectors + BM25 + the provision store, built beside and swapped.

Takes: the manifest, the fetched corpus, an embedding model (LangChain `Embeddings` with `model_id`
and `dimension`). Gives: `build_index()` (incremental: only new or changed retrieval units are
embedded; nothing changed = nothing embedded) and `open_index()` → `Index`, which serves the provision
store (every provision in every language), the BM25 index and a LangChain `Chroma` vector store.

Layout of `settings.index_dir`:

    current -> gen-<stamp>        a symlink, replaced atomically when a build completes
    gen-<stamp>/meta.json          model id, dimension, manifest hash, corpus checksums, counts
    gen-<stamp>/provisions.jsonl   every provision (all levels, all languages)
    gen-<stamp>/units.json         retrieval units: id, content hash  (+ vectors.npy, same order)
    gen-<stamp>/bm25/              lexical index over the units
    gen-<stamp>/chroma/            embedded Chroma (or, with ASSISTANT_CHROMA_URL, a collection there)

A build writes a new generation and only then moves `current`, so a build killed at any point leaves
the previous index serving. Retrieval units are paragraphs, and whole articles that have none: small
enough to be specific, each prefixed with its instrument and article so it is understandable alone.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.documents import Document

from assistant.core.errors import (
    IndexCorruptError,
    IndexError_,
    IndexMismatchError,
    IndexMissingError,
    ModelError,
)
from assistant.core.files import write_atomic
from assistant.core.ids import (
    ProvisionId,
    article_of,
    instrument_of,
    is_research_article,
    split_unit,
    unit_id,
)
from assistant.core.settings import Settings
from assistant.corpus.manifest import Manifest, document_path, file_sha256
from assistant.corpus.provisions import ARTICLE_SECTIONS, Provision, load_provisions
from assistant.corpus.user import load_corpus_manifest
from assistant.index.lexical import ANALYZER_VERSION

SCHEMA = 2  # 2: items (sub-paragraphs) are lexical units too
_DEFINITIONS = re.compile(r"(use of terms|definitions|термин|определени|анықтама)", re.I)
CURRENT = "current"
_FIX_BUILD = "run `assistant index` (or `make setup`)"


@dataclass(frozen=True)
class IndexMeta:
    schema: int
    model_id: str
    dimension: int
    manifest_hash: str
    corpus: dict[str, str]  # corpus file -> sha256 at build time
    collection: str
    chroma_url: str | None
    created: str
    units: int
    provisions: int
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # instrument -> lang -> provisions
    files: dict[str, str] = field(default_factory=dict)  # generation file -> sha256, checked on open
    analyzer: str = ""  # lexical.ANALYZER_VERSION the BM25 index was built with

    @classmethod
    def read(cls, path: Path) -> IndexMeta:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**data)
        except FileNotFoundError:
            raise IndexMissingError(f"no index in {path.parent}; {_FIX_BUILD}") from None
        except (OSError, ValueError, TypeError) as exc:
            raise IndexCorruptError(
                f"index metadata {path} is unreadable ({type(exc).__name__}); run `assistant index --rebuild`"
            ) from None


@dataclass(frozen=True)
class BuildReport:
    up_to_date: bool
    units: int
    embedded: int
    reused: int
    removed: int
    provisions: int
    seconds: float
    generation: str

    def summary(self) -> str:
        if self.up_to_date:
            return f"index is up to date ({self.units} units, {self.provisions} provisions); nothing embedded ({self.seconds:.1f} s)"
        return (
            f"index built: {self.units} units ({self.embedded} embedded, {self.reused} reused, {self.removed} removed), "
            f"{self.provisions} provisions in {self.seconds:.1f} s"
        )


# ------------------------------------------------------------------------------------------ units


def retrieval_units(
    provisions: Sequence[Provision], headers: Callable[[Provision], str], *, items: bool = False
) -> list[Document]:
    """Paragraph-level units (and whole articles without paragraphs), each with a context header.

    With `items`, sub-paragraph items are units too: BM25 indexes them (cheap, and a short item that
    says exactly the thing asked outranks the long paragraph around it); the dense index does not.
    """
    has_paragraphs = {(p.article_id, p.lang) for p in provisions if p.level == "paragraph"}
    units: list[Document] = []
    for p in provisions:
        if p.level == "sub" and not items:
            continue
        if p.level == "article" and (p.article_id, p.lang) in has_paragraphs:
            continue
        content = f"{headers(p)}\n{p.text}"
        units.append(
            Document(
                id=unit_id(p.id, p.lang),
                page_content=content,
                metadata={
                    "provision_id": p.id,
                    "instrument": p.instrument,
                    "lang": p.lang,
                    "article": p.article,
                    "level": p.level,
                    "hash": hashlib.sha256(content.encode("utf-8")).hexdigest()[:32],
                },
            )
        )
    return units


def unit_headers(manifest: Manifest) -> Callable[[Provision], str]:
    """The context line each retrieval unit starts with («UNCAC · Article 54 · title»)."""
    article_word = {"kk": "{n}-бап", "ru": "Статья {n}", "en": "Article {n}"}

    def header(p: Provision) -> str:
        inst = manifest.instruments.get(p.instrument)
        name = inst.short[p.lang] if inst else p.instrument
        where = article_word[p.lang].format(n=p.article) if p.article[:1].isdigit() else p.article
        return " · ".join(x for x in (name, where, p.title) if x)

    return header


# ------------------------------------------------------------------------------------------ store


class ProvisionStore:
    """Every provision, by id and language; the source of quotes, titles and whole-article texts."""

    def __init__(self, provisions: Iterable[Provision]) -> None:
        self._by: dict[str, dict[str, Provision]] = {}
        for p in provisions:
            self._by.setdefault(p.id, {})[p.lang] = p
        # Every id under each of its ancestors («uncac:54» → «uncac:54.1», «uncac:54.1.a»): answers ask
        # for children several times per article, and a scan of all ids each time cost ~14 ms a group.
        self._descendants: dict[str, list[str]] = {}
        for pid in self._by:
            for pos, ch in enumerate(pid):
                if ch == ".":
                    self._descendants.setdefault(pid[:pos], []).append(pid)

    def __contains__(self, provision_id: str) -> bool:
        return provision_id in self._by

    def __len__(self) -> int:
        return sum(len(v) for v in self._by.values())

    @property
    def ids(self) -> set[str]:
        return set(self._by)

    def has(self, provision_id: str, lang: str) -> bool:
        """Whether the corpus has this provision in `lang` (no copy: used in retrieval's fusion loop)."""
        return lang in self._by.get(provision_id, ())

    def versions(self, provision_id: str) -> dict[str, Provision]:
        return dict(self._by.get(provision_id, {}))

    def get(
        self, provision_id: str, lang: str, fallback: Sequence[str] = ("ru", "en", "kk")
    ) -> Provision | None:
        """The provision in `lang`, else in the first fallback language that has it."""
        versions = self._by.get(provision_id)
        if not versions:
            return None
        for candidate in (lang, *fallback):
            if candidate in versions:
                return versions[candidate]
        return next(iter(versions.values()))

    def children(self, provision_id: str) -> list[str]:
        """Every provision below `provision_id` (paragraphs and their items), in store order."""
        return list(self._descendants.get(provision_id, ()))

    def instruments(self) -> set[str]:
        return {instrument_of(pid) for pid in self._by}

    def articles(self, instrument: str) -> list[str]:
        """The article-level ids of one instrument, in store (text) order: a table of contents."""
        prefix = instrument + ":"
        return [pid for pid in self._by if pid.startswith(prefix) and "." not in pid[len(prefix) :]]

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for versions in self._by.values():
            for lang, p in versions.items():
                out.setdefault(p.instrument, {}).setdefault(lang, 0)
                out[p.instrument][lang] += 1
        return out

    def dump(self, path: Path) -> None:
        with path.open("w", encoding="utf-8") as fh:
            for versions in self._by.values():
                for p in versions.values():
                    fh.write(json.dumps(asdict(p), ensure_ascii=False) + "\n")

    @classmethod
    def load(cls, path: Path) -> ProvisionStore:
        try:
            with path.open(encoding="utf-8") as fh:
                return cls(Provision(**json.loads(line)) for line in fh if line.strip())
        except FileNotFoundError:
            # the generation exists but lost a file: damage, which `assistant index` alone may not see
            raise IndexCorruptError(f"{path} is missing; run `assistant index --rebuild`") from None
        except (OSError, ValueError, TypeError) as exc:
            raise IndexCorruptError(
                f"{path} is damaged ({type(exc).__name__}); run `assistant index --rebuild`"
            ) from None


# ------------------------------------------------------------------------------------------ chroma


def chroma_client(settings: Settings, path: Path | None):  # noqa: ANN201 - chromadb.api.ClientAPI
    """Embedded persistent Chroma at `path`, or the server at `settings.chroma_url`; telemetry off."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        from urllib.parse import urlparse

        url = urlparse(settings.chroma_url)
        return chromadb.HttpClient(
            host=url.hostname or "127.0.0.1",
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    assert path is not None
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


def write_chroma(client, name: str, units: Sequence[Document], vectors: np.ndarray) -> None:  # noqa: ANN001
    """Replace collection `name` of `client` with `units` and their precomputed `vectors` (same order)."""
    with contextlib.suppress(Exception):  # an absent collection: nothing to delete
        client.delete_collection(name)
    # embedding_function=None: Chroma's default function would download a model; vectors are ours.
    # Small sync/batch sizes make Chroma write its whole graph before `add` returns. With the defaults
    # (1000) a collection that is not a multiple of them keeps part of its graph in its log, and every
    # process that opens the store rewrites the graph files: their build-time checksums (see
    # `_CHROMA_STABLE`) would then never match. Measured: 3,400 vectors still take ~1.6 s to add.
    collection = client.create_collection(
        name=name,
        embedding_function=None,
        metadata={"hnsw:space": "cosine", "hnsw:batch_size": 10, "hnsw:sync_threshold": 10},
    )
    step = 1000
    for start in range(0, len(units), step):
        chunk = units[start : start + step]
        collection.add(
            ids=[u.id for u in chunk],
            embeddings=vectors[start : start + step].tolist(),
            documents=[u.page_content for u in chunk],
            metadatas=[u.metadata for u in chunk],
        )


def chroma_store(client, collection: str, embeddings):  # noqa: ANN001, ANN201 - langchain_chroma.Chroma
    """The LangChain vector store over an existing collection; queries are embedded by `embeddings`."""
    from langchain_chroma import Chroma

    return Chroma(
        client=client,
        collection_name=collection,
        embedding_function=embeddings,
        create_collection_if_not_exists=False,
    )


# ------------------------------------------------------------------------------------------ integrity


# Every file of a generation is checksummed when it is built and checked before anything reads it: a
# damaged file then gives a one-line error instead of wrong answers or a crash. Left out: meta.json (it
# holds the sums) and the Chroma files that Chroma itself rewrites when a process opens the store (its
# SQLite database; `length.bin` of a small collection), which Chroma checks itself and `_self_test` below
# checks by what they answer. Chroma's HNSW graph files are written once, at build time, and must be
# checked here: random bytes in them crash chromadb's native code, beyond the reach of any `except`.
_CHROMA_STABLE = frozenset({"data_level0.bin", "header.bin", "link_lists.bin"})


def _checked(rel: str) -> bool:
    parts = rel.split("/")
    if parts[0] == "chroma":
        return len(parts) == 3 and parts[2] in _CHROMA_STABLE
    return rel != "meta.json"


def _checked_files(generation: Path) -> list[str]:
    rels = (p.relative_to(generation).as_posix() for p in sorted(generation.rglob("*")) if p.is_file())
    return [rel for rel in rels if _checked(rel)]


def generation_checksums(generation: Path) -> dict[str, str]:
    """sha256 of every checked file of a generation, by path relative to it."""
    return {rel: file_sha256(generation / rel) for rel in _checked_files(generation)}


def verify_generation(generation: Path, meta: IndexMeta) -> None:
    """IndexCorruptError when a file recorded in `meta.files` is missing or differs from build time."""
    for rel, sha in meta.files.items():
        if not _checked(rel):
            continue
        try:
            same = file_sha256(generation / rel) == sha
        except OSError:
            raise IndexCorruptError(
                f"index file {rel} is missing from {generation}; run `assistant index --rebuild`"
            ) from None
        if not same:
            raise IndexCorruptError(
                f"index file {rel} in {generation} is damaged (checksum); run `assistant index --rebuild`"
            )


def _record_checksums(generation: Path, meta: IndexMeta) -> None:
    """Record the checksums of an index built before they were all kept (replacing meta.json atomically)."""
    data = asdict(meta) | {"files": generation_checksums(generation)}
    write_atomic(generation / "meta.json", json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))


def _self_test(collection, generation: Path, units: Sequence[str]) -> None:  # noqa: ANN001
    """Query the vector store with a few of its own vectors: each must find itself.

    A Chroma store whose HNSW graph was zeroed or deleted still opens and answers, with wrong neighbours;
    this finds it in milliseconds. (Random bytes in the graph would crash chromadb's native code instead:
    the checksums of `verify_generation` stop those first.)
    """
    if not units:
        return
    vectors = np.load(generation / "vectors.npy", mmap_mode="r", allow_pickle=False)
    picks = sorted({0, len(units) // 2, len(units) - 1})
    found = collection.query(
        query_embeddings=[np.asarray(vectors[i], dtype=np.float32).tolist() for i in picks],
        n_results=min(5, len(units)),
        include=["distances"],
    )
    for i, ids, distances in zip(picks, found["ids"], found["distances"], strict=True):
        if units[i] not in ids and not any(d < 1e-3 for d in distances):
            raise IndexCorruptError(
                f"the vector store of the index in {generation} returns wrong neighbours (damaged); "
                "run `assistant index --rebuild`"
            )


# ------------------------------------------------------------------------------------------ build


def _current_dir(index_dir: Path) -> Path | None:
    link = index_dir / CURRENT
    if not link.exists():
        return None
    return link.resolve()


def _progress(total: int, desc: str, enabled: bool | None):  # noqa: ANN202
    from tqdm import tqdm

    show = sys.stderr.isatty() if enabled is None else enabled
    return tqdm(total=total, desc=desc, unit="unit", disable=not show, leave=False)


def _embed(embeddings, texts: list[str], progress: bool | None) -> np.ndarray:  # noqa: ANN001
    if not texts:
        return np.zeros((0, int(embeddings.dimension)), dtype=np.float32)
    # Sorting by length keeps padding low inside a batch; the order is restored below.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), int(embeddings.dimension)), dtype=np.float32)
    step = 64
    with _progress(len(texts), "embedding", progress) as bar:
        for start in range(0, len(order), step):
            idx = order[start : start + step]
            out[idx] = np.asarray(embeddings.embed_documents([texts[i] for i in idx]), dtype=np.float32)
            bar.update(len(idx))
    return out


def _swap(index_dir: Path, generation: Path) -> None:
    tmp = index_dir / f".{CURRENT}.{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(generation.name)
    os.replace(tmp, index_dir / CURRENT)  # atomic: readers see the old or the new index, never half


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _cleanup(index_dir: Path, keep: set[Path], settings: Settings) -> None:
    """Remove generations other than `keep` (half-built ones from killed builds included)."""
    for child in index_dir.glob("gen-*"):
        if child.resolve() in keep:
            continue
        if settings.chroma_url:
            try:
                meta = IndexMeta.read(child / "meta.json")
                chroma_client(settings, None).delete_collection(meta.collection)
            except Exception:  # noqa: BLE001 - best effort: an old collection left on the server is harmless
                pass
        shutil.rmtree(child, ignore_errors=True)
    for stale in index_dir.glob(f".{CURRENT}.*"):
        stale.unlink(missing_ok=True)


def _indexed_files(manifest: Manifest) -> dict[str, str]:
    return {d.file: d.sha256 for d in manifest.documents}


def corpus_checksums(manifest: Manifest, corpus_dir: Path) -> dict[str, str]:
    paths = {d.file: document_path(corpus_dir, d) for d in manifest.documents}
    return {file: file_sha256(path) for file, path in paths.items() if path.exists()}


def build_index(
    settings: Settings,
    embeddings,  # noqa: ANN001
    *,
    rebuild: bool = False,
    progress: bool | None = None,
    manifest: Manifest | None = None,
) -> BuildReport:
    """Bring the index up to date with the corpus; embeds only new or changed units.

    `manifest`: the corpus to index (default: the bundled manifest merged with the user corpus);
    `assistant add` passes the one it is about to commit.
    """
    started = time.perf_counter()
    index_dir = settings.path(settings.index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    if manifest is None:
        manifest = load_corpus_manifest(settings)
    corpus_dir = settings.path(settings.corpus_dir)
    provisions = load_provisions(manifest, corpus_dir)  # verifies every file's sha256
    units = retrieval_units(provisions, unit_headers(manifest))
    model_id, dim = embeddings.model_id, int(embeddings.dimension)

    old_vectors: dict[tuple[str, str], np.ndarray] = {}
    current = _current_dir(index_dir)
    old_meta: IndexMeta | None = None
    if current is not None and not rebuild:
        try:
            old_meta = IndexMeta.read(current / "meta.json")
            old_units = json.loads((current / "units.json").read_text(encoding="utf-8"))
            vectors = np.load(current / "vectors.npy", allow_pickle=False)
            if old_meta.model_id == model_id and old_meta.dimension == dim and len(old_units) == len(vectors):
                old_vectors = {(u["id"], u["hash"]): vectors[i] for i, u in enumerate(old_units)}
        except Exception:  # noqa: BLE001 - an unreadable previous index is simply not reused
            old_meta, old_vectors = None, {}

    keys = [(u.id, u.metadata["hash"]) for u in units]
    unchanged = (
        old_meta is not None
        and old_meta.schema == SCHEMA
        # a new tokenizer or stemmer needs a new BM25 index (the vectors are still reused)
        and old_meta.analyzer == ANALYZER_VERSION
        and old_meta.manifest_hash == manifest.hash
        and old_meta.corpus == _indexed_files(manifest)  # what open_index checks
        and old_meta.chroma_url == settings.chroma_url
        and len(old_vectors) == len(keys)
        and all(k in old_vectors for k in keys)
    )
    if unchanged:
        try:
            verify_generation(current, old_meta)
        except IndexCorruptError:
            unchanged, old_vectors = False, {}  # damaged: build it again, re-embedding everything
    if unchanged and set(old_meta.files) != set(_checked_files(current)):
        _record_checksums(current, old_meta)  # built before some of its files were checksummed
    if unchanged:
        _cleanup(index_dir, {current}, settings)
        return BuildReport(
            True, len(units), 0, len(units), 0, len(provisions), time.perf_counter() - started, current.name
        )

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    generation = index_dir / f"gen-{stamp}"
    generation.mkdir()
    todo = [i for i, k in enumerate(keys) if k not in old_vectors]
    vectors = np.zeros((len(units), dim), dtype=np.float32)
    for i, k in enumerate(keys):
        if k in old_vectors:
            vectors[i] = old_vectors[k]
    if todo:
        fresh = _embed(embeddings, [units[i].page_content for i in todo], progress)
        if fresh.shape[1] != dim:
            raise ModelError(
                f"the model returned {fresh.shape[1]}-dim vectors, expected {dim}; check ASSISTANT_EMBEDDING_MODEL"
            )
        vectors[todo] = fresh

    store = ProvisionStore(provisions)
    store.dump(generation / "provisions.jsonl")
    (generation / "units.json").write_text(
        json.dumps([{"id": k[0], "hash": k[1]} for k in keys]), encoding="utf-8"
    )
    np.save(generation / "vectors.npy", vectors, allow_pickle=False)
    from assistant.index.lexical import BM25Index

    lexical = retrieval_units(provisions, unit_headers(manifest), items=True)
    BM25Index().build([(u.id, u.page_content, u.metadata["lang"]) for u in lexical]).save(generation / "bm25")
    collection = f"{settings.collection}-{stamp}" if settings.chroma_url else settings.collection
    write_chroma(chroma_client(settings, generation / "chroma"), collection, units, vectors)
    meta = IndexMeta(
        schema=SCHEMA,
        model_id=model_id,
        dimension=dim,
        manifest_hash=manifest.hash,
        corpus=_indexed_files(manifest),  # load_provisions checked each file against these
        collection=collection,
        chroma_url=settings.chroma_url,
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        units=len(units),
        provisions=len(provisions),
        counts=store.counts(),
        files=generation_checksums(generation),
        analyzer=ANALYZER_VERSION,
    )
    (generation / "meta.json").write_text(
        json.dumps(asdict(meta), ensure_ascii=False, indent=1), encoding="utf-8"
    )
    _fsync_dir(generation)
    _swap(index_dir, generation)
    _fsync_dir(index_dir)
    _cleanup(index_dir, {generation.resolve()}, settings)
    removed = len({k[0] for k in old_vectors} - {k[0] for k in keys}) if old_vectors else 0
    return BuildReport(
        False,
        len(units),
        len(todo),
        len(units) - len(todo),
        removed,
        len(provisions),
        time.perf_counter() - started,
        generation.name,
    )


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
            if p.level == "article" and _DEFINITIONS.search(p.title)
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


def _current_meta(settings: Settings) -> tuple[Path, Path, IndexMeta]:
    """(index folder, current generation, its meta); IndexMissingError when nothing is built yet."""
    index_dir = settings.path(settings.index_dir)
    current = _current_dir(index_dir)
    if current is None:
        raise IndexMissingError(f"no index in {index_dir}; {_FIX_BUILD}")
    return index_dir, current, IndexMeta.read(current / "meta.json")


def read_meta(settings: Settings) -> IndexMeta:
    return _current_meta(settings)[2]


def index_path(settings: Settings) -> Path:
    """The folder of the current generation; IndexMissingError when nothing is built yet."""
    return _current_meta(settings)[1]


def copy_index(generation: Path, index_dir: Path) -> Path:
    """Copy a built generation into `index_dir` and make it the current one there (for benchmarks)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    target = index_dir / generation.name
    shutil.copytree(generation, target, symlinks=True)
    _swap(index_dir, target)
    return target


def open_index(settings: Settings, embeddings) -> Index:  # noqa: ANN001
    """Open the current generation; refuses an index built with another model or dimension."""
    index_dir, current, meta = _current_meta(settings)
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
    if meta.corpus != _indexed_files(manifest):
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
            _self_test(vectorstore._collection, current, units)
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
