"""Building the index: a new generation beside the old one, swapped in atomically when complete.

Takes: settings, the (merged bundled + user) manifest, the fetched corpus and an embedding model. Gives:
`build_index()` → `BuildReport`. Incremental: vectors of unchanged units are reused by content hash, so a
no-change run embeds nothing; a build killed at any point leaves the previous generation serving.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from assistant.core.errors import (
    IndexCorruptError,
    ModelError,
)
from assistant.core.settings import Settings
from assistant.corpus.manifest import Manifest, document_path, file_sha256
from assistant.corpus.provisions import load_provisions
from assistant.corpus.user import load_corpus_manifest
from assistant.index.generation import (
    CURRENT,
    SCHEMA,
    BuildReport,
    IndexMeta,
    checked_files,
    current_dir,
    generation_checksums,
    record_checksums,
    verify_generation,
)
from assistant.index.lexical import ANALYZER_VERSION
from assistant.index.store import ProvisionStore, retrieval_units, unit_headers
from assistant.index.vectors import chroma_client, write_chroma

# ------------------------------------------------------------------------------------------ build


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


def swap(index_dir: Path, generation: Path) -> None:
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


def indexed_files(manifest: Manifest) -> dict[str, str]:
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
    current = current_dir(index_dir)
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
        and old_meta.corpus == indexed_files(manifest)  # what open_index checks
        and old_meta.chroma_url == settings.chroma_url
        and len(old_vectors) == len(keys)
        and all(k in old_vectors for k in keys)
    )
    if unchanged:
        try:
            verify_generation(current, old_meta)
        except IndexCorruptError:
            unchanged, old_vectors = False, {}  # damaged: build it again, re-embedding everything
    if unchanged and set(old_meta.files) != set(checked_files(current)):
        record_checksums(current, old_meta)  # built before some of its files were checksummed
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
        corpus=indexed_files(manifest),  # load_provisions checked each file against these
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
    swap(index_dir, generation)
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
