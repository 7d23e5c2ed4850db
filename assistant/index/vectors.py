"""The vector store: Chroma, embedded in the generation folder or a server (ASSISTANT_CHROMA_URL).

Takes: settings, retrieval units and their vectors. Gives: the Chroma client, the written collection and
the LangChain `Chroma` vector store over it, and the self-test that a freshly written graph answers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from langchain_core.documents import Document

from assistant.core.errors import (
    IndexCorruptError,
)
from assistant.core.settings import Settings

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


def self_test(collection, generation: Path, units: Sequence[str]) -> None:  # noqa: ANN001
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
