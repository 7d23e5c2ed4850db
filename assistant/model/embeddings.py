"""The runtime embedding model: a local SentenceTransformer folder behind LangChain's `Embeddings`.

Takes: `Settings` (`embedding_model`, `embedding_batch_size`, `embedding_max_seq_length`). Gives:
`make_embeddings(settings)`, the one factory for `E5Embeddings`, whose vectors are L2-normalised float
lists, documents embedded with the folder's `passage: ` prompt and queries with `query: `, and whose
`model_id` names the weights (the index refuses to serve with another model). The folder itself is
built once by `assistant.model.prepare`.

Nothing is loaded at import time; torch and sentence-transformers are imported on first use.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings

from assistant.core.errors import ModelError
from assistant.core.settings import Settings, force_offline
from assistant.model.identity import weight_files, weights_sha256

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from assistant.model.light import LightEncoder

PREPARE_HINT = "run `assistant model prepare` (or `make setup`)"


# --------------------------------------------------------------------------- embeddings


def _load_quietly(folder: Path) -> SentenceTransformer:
    """Load without transformers' per-tensor progress bar, which would clutter CLI and server logs."""
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        return SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


class E5Embeddings(Embeddings):
    """LangChain embeddings over a local SentenceTransformer folder (CPU, offline).

    Uses the folder's "passage" prompt for documents and "query" prompt for queries when it defines
    them (e5 does), no prefix otherwise. Vectors are L2-normalised. Batches are length-sorted inside
    `SentenceTransformer.encode`, which returns them in the caller's order.

    Queries go through `LightEncoder` (the same forward pass in numpy) when the folder has the shape it
    computes, so a command that only asks never imports torch; `light=False` keeps them on
    sentence-transformers.
    """

    def __init__(
        self,
        folder: Path,
        *,
        name: str | None = None,
        batch_size: int = 16,
        max_seq_length: int = 256,
        light: bool = True,
    ) -> None:
        force_offline()
        self.folder = Path(folder)
        self.name = name or self.folder.name
        self.batch_size = batch_size
        self._weights = weight_files(self.folder)
        if not self._weights:
            raise ModelError(
                f"embedding model folder {self.folder} has no weights (model.safetensors or pytorch_model.bin); "
                "rebuild it with `assistant model prepare --force`, or point ASSISTANT_EMBEDDING_MODEL at a complete folder"
            )
        self._max_seq_length = max_seq_length
        self._loaded: SentenceTransformer | None = None
        self._load_lock = threading.Lock()
        self._light_wanted = light
        self._light: LightEncoder | None = None

    @property
    def _model(self) -> SentenceTransformer:
        # Loaded on first use: `assistant index` with nothing to embed never pays the ~6 s load.
        if self._loaded is None:
            with self._load_lock:
                if self._loaded is None:
                    _import_sentence_transformers()
                    with _model_errors(self.folder):
                        model = _load_quietly(self.folder)
                    tok = model.tokenizer
                    limit = tok.model_max_length if tok is not None else self._max_seq_length
                    model.max_seq_length = min(self._max_seq_length, limit) if limit else self._max_seq_length
                    self._loaded = model
        return self._loaded

    @property
    def light(self) -> LightEncoder | None:
        """The numpy query encoder, or None when the folder is not a shape it computes (or light=False)."""
        if self._light is None and self._light_wanted:
            with self._load_lock:
                if self._light_wanted and self._light is None:
                    from assistant.model.light import LightEncoder

                    self._light = LightEncoder.load(self.folder, self._max_seq_length)
                    self._light_wanted = self._light is not None
        return self._light

    def load(self) -> E5Embeddings:
        """Load what queries need now (start-up of a server), surfacing a broken folder as ModelError."""
        if self.light is None:
            _ = self._model
        return self

    @property
    def model(self) -> SentenceTransformer:
        return self._model

    @property
    def max_seq_length(self) -> int:
        return int(self._model.max_seq_length)

    @cached_property
    def dimension(self) -> int:
        pooling = self.folder / "1_Pooling" / "config.json"
        if self._loaded is None and pooling.exists():
            try:
                return int(json.loads(pooling.read_text(encoding="utf-8"))["word_embedding_dimension"])
            except (ValueError, KeyError, OSError):
                pass  # fall back to asking the model
        get = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        dim = get()
        if dim is None:  # some custom heads do not declare it; ask the model once
            dim = len(self._encode(["dimension probe"], None)[0])
        return int(dim)

    @cached_property
    def model_id(self) -> str:
        """Stable identity: folder name, hash of the weights and dimension; the index refuses others."""
        return f"{self.name}@sha256:{weights_sha256(self.folder, self._weights)[:16]}/dim{self.dimension}"

    def _encode(self, texts: Sequence[str], prompt_name: str | None) -> list[list[float]]:
        if not texts:
            return []
        vectors = self._model.encode(
            list(texts),
            prompt_name=prompt_name if prompt_name in (self._model.prompts or {}) else None,
            batch_size=self.batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return vectors.astype("float32").tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(texts, "passage")

    def embed_query(self, text: str) -> list[float]:
        light = self.light
        if light is not None:
            return light.encode(text, "query")
        return self._encode([text], "query")[0]

    def count_tokens(self, text: str, kind: str = "passage") -> int:
        """Tokens the model sees for `text` (prompt and specials included), before truncation."""
        prompt = (self._model.prompts or {}).get(kind, "")
        return len(self._model.tokenizer(prompt + text, truncation=False)["input_ids"])


# --------------------------------------------------------------------------- factory


def _import_sentence_transformers() -> None:
    try:
        import sentence_transformers  # noqa: F401
    except ImportError as exc:
        missing = (exc.name or "sentence_transformers").split(".")[0]
        package = {"sentence_transformers": "sentence-transformers>=3.0", "torch": "torch==2.13.0"}.get(
            missing, missing
        )
        raise ModelError(
            f"the embedding model needs the Python package {package!r}; run `.venv/bin/pip install '{package}'` (or `make install`)"
        ) from None


def _resolve_named_model(name: str) -> Path:
    """A bare model name from the local Hugging Face cache only; never downloaded."""
    fix = (
        f"embedding model {name!r} is not available offline; set ASSISTANT_EMBEDDING_MODEL to a local "
        "SentenceTransformer folder (default models/multilingual-e5-small, built by `assistant model prepare`)"
    )
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(name, local_files_only=True))
    except Exception:
        raise ModelError(fix) from None


@contextlib.contextmanager
def _model_errors(where: Path) -> Iterator[None]:
    try:
        yield
    except ModelError:
        raise
    except Exception as exc:  # the loader's failures are many and untyped; all mean "unusable model"
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelError(
            f"cannot load the embedding model from {where} ({detail[:200]}); rebuild it with "
            "`assistant model prepare --force` or point ASSISTANT_EMBEDDING_MODEL at a working folder"
        ) from None


def make_embeddings(settings: Settings, *, lazy: bool = False) -> E5Embeddings:
    """The one factory: the embedding model named by `settings`, loaded offline on CPU.

    `lazy` defers loading the weights to the first embedding (the no-change `assistant index` run
    only needs the model's identity); loading errors are ModelErrors either way.
    """
    force_offline()
    folder = settings.model_path
    if folder is not None:
        if not folder.is_dir():
            raise ModelError(
                f"embedding model folder {folder} does not exist; {PREPARE_HINT}, or point "
                "ASSISTANT_EMBEDDING_MODEL at a local SentenceTransformer folder"
            )
        name = folder.name
    else:
        folder = _resolve_named_model(settings.embedding_model)
        name = settings.embedding_model.rstrip("/").rsplit("/", 1)[-1]
    embeddings = E5Embeddings(
        folder,
        name=name,
        batch_size=settings.embedding_batch_size,
        max_seq_length=settings.embedding_max_seq_length,
    )
    return embeddings if lazy else embeddings.load()
