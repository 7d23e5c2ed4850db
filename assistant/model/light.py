"""The query encoder without torch: the model's forward pass in numpy, for the one question a command asks.

Takes: a SentenceTransformer folder of the shape `assistant model prepare` writes (an XLM-RoBERTa
`model.safetensors`, `tokenizer.json`, mean pooling, L2 normalisation). Gives: `LightEncoder.load(folder,
max_seq_length)` (None for any other shape) and `.encode(text) -> list[float]`, the same vector
SentenceTransformer computes for that text (max |difference| about 1e-7, float32 rounding; checked
against it by tests/pipeline/test_embeddings.py).

Why: importing torch and sentence-transformers costs ~4 s of the start of `assistant ask`, while one
question of ~20 tokens through a 12-layer, 384-wide encoder is a few milliseconds of numpy. Only the embedding rows
of the question's tokens are read from the 384 MB word matrix (with `pread`, see `_Rows`). Documents (the index
build, thousands of texts) still go through sentence-transformers, batched.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

# A folder is served here only if it is exactly what this module computes; anything else (another
# architecture, pooling or activation) stays with sentence-transformers.
_MODULES = [
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
]
# the e5 pooling: mean over tokens (prepare.py writes it, the light encoder checks it)
POOLING = {
    "pooling_mode_cls_token": False,
    "pooling_mode_mean_tokens": True,
    "pooling_mode_max_tokens": False,
    "pooling_mode_mean_sqrt_len_tokens": False,
    "pooling_mode_weightedmean_tokens": False,
    "pooling_mode_lasttoken": False,
}


def _one_blas_thread() -> Any:
    """A context limiting numpy's BLAS to one thread: for a 20x384 matrix, threads only wait for each
    other (measured: 40 ms of CPU on one thread, 400 ms and 1-2 s of wall time on two, on a busy
    2-core machine), and a server answering several questions at once has its own parallelism."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # an optional speed-up: same vectors without it
        return contextlib.nullcontext
    controller = ThreadpoolController()
    return lambda: controller.limit(limits=1, user_api="blas")


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _supported(folder: Path) -> dict[str, Any] | None:
    """The model config when the folder is an absolute-position XLM-R with mean pooling, else None."""
    try:
        modules = _json(folder / "modules.json")
        config = _json(folder / "config.json")
        pooling = _json(folder / "1_Pooling" / "config.json")
        st_config = _json(folder / "sentence_bert_config.json")
    except (OSError, ValueError):
        return None
    if [m.get("type") for m in modules] != _MODULES or [m.get("path") for m in modules][:1] != [""]:
        return None
    if any(pooling.get(k, False) != v for k, v in POOLING.items()) or not pooling.get("include_prompt", True):
        return None
    if st_config.get("do_lower_case"):
        return None
    wanted = {"model_type": "xlm-roberta", "hidden_act": "gelu", "position_embedding_type": "absolute"}
    if any(config.get(k) != v for k, v in wanted.items()):
        return None
    if not (folder / "model.safetensors").is_file() or not (folder / "tokenizer.json").is_file():
        return None
    return config


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return ((x - mean) / np.sqrt(var + np.float32(eps)) * weight + bias).astype(np.float32)


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU; erfc by Numerical Recipes' Chebyshev fit, fractional error < 1.2e-7, in float64."""
    z = -x.astype(np.float64) / math.sqrt(2.0)
    a = np.abs(z)
    t = 1.0 / (1.0 + 0.5 * a)
    poly = (
        -a * a
        - 1.26551223
        + t
        * (
            1.00002368
            + t
            * (
                0.37409196
                + t
                * (
                    0.09678418
                    + t
                    * (
                        -0.18628806
                        + t
                        * (
                            0.27886807
                            + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))
                        )
                    )
                )
            )
        )
    )
    erfc = t * np.exp(poly)
    erfc = np.where(z >= 0, erfc, 2.0 - erfc)  # erfc(z) for the sign of z
    return (0.5 * x * erfc).astype(np.float32)


_WORDS = "embeddings.word_embeddings.weight"


class _Rows:
    """Rows of one float32 matrix of a safetensors file, read with `pread` when asked for.

    Why not the memory map safetensors offers: the word-embedding matrix is 250k rows (384 MB), and every
    page a question's tokens touch would stay mapped, counted in the server's resident memory for good
    (measured: +28 MB of file pages over 100 questions). A few 1.5 KB reads per question cost nothing.
    """

    def __init__(self, path: Path, name: str) -> None:
        with path.open("rb") as f:
            size = int.from_bytes(f.read(8), "little")
            entry = json.loads(f.read(size))[name]
        if entry["dtype"] != "F32" or len(entry["shape"]) != 2:
            raise ValueError(f"{name}: expected a float32 matrix, found {entry['dtype']} {entry['shape']}")
        self._count, self._width = entry["shape"]
        self._row_bytes = 4 * self._width
        self._start = 8 + size + entry["data_offsets"][0]
        self._fd = os.open(path, os.O_RDONLY)

    def take(self, ids: list[int]) -> np.ndarray:
        out = np.empty((len(ids), self._width), dtype=np.float32)
        for n, i in enumerate(ids):
            if not 0 <= i < self._count:
                raise IndexError(f"token id {i} outside the vocabulary of {self._count}")
            out[n] = np.frombuffer(
                os.pread(self._fd, self._row_bytes, self._start + i * self._row_bytes), np.float32
            )
        return out

    def __del__(self) -> None:
        with contextlib.suppress(AttributeError, OSError):
            os.close(self._fd)


class LightEncoder:
    def __init__(
        self, folder: Path, config: dict[str, Any], max_seq_length: int, prompts: dict[str, str]
    ) -> None:
        from safetensors import safe_open
        from tokenizers import Tokenizer

        self.prompts = prompts
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=max_seq_length)
        self._eps = float(config["layer_norm_eps"])
        self._heads = int(config["num_attention_heads"])
        self._layers = int(config["num_hidden_layers"])
        self._pad = int(config["pad_token_id"])
        self._blas = _one_blas_thread()
        weights = safe_open(str(folder / "model.safetensors"), framework="numpy")
        self._word = _Rows(folder / "model.safetensors", _WORDS)
        self._w = {
            k: weights.get_tensor(k)
            for k in weights.keys()  # noqa: SIM118 - safe_open is not iterable
            if k != _WORDS
        }

    @classmethod
    def load(cls, folder: Path, max_seq_length: int) -> LightEncoder | None:
        """The encoder for `folder`, or None when the folder is not a shape this module computes."""
        config = _supported(folder)
        if config is None:
            return None
        try:
            prompts = _json(folder / "config_sentence_transformers.json").get("prompts") or {}
            tok_limit = int(_json(folder / "tokenizer_config.json").get("model_max_length") or max_seq_length)
            return cls(folder, config, min(max_seq_length, tok_limit), prompts)
        except Exception:  # noqa: BLE001 - any surprise: leave the folder to sentence-transformers
            return None

    def token_ids(self, text: str) -> list[int]:
        return self._tokenizer.encode(text).ids

    def encode(self, text: str, prompt_name: str | None = None) -> list[float]:
        with self._blas():
            return self._encode(text, prompt_name)

    def _encode(self, text: str, prompt_name: str | None) -> list[float]:
        ids = self.token_ids(self.prompts.get(prompt_name or "", "") + text)
        w = self._w
        n = len(ids)
        word = self._word.take(ids)
        # XLM-R numbers positions from padding_idx + 1
        positions = np.arange(self._pad + 1, self._pad + 1 + n)
        x = (
            word
            + w["embeddings.position_embeddings.weight"][positions]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self._eps)
        hidden = x.shape[1]
        size = hidden // self._heads
        scale = np.float32(1.0 / math.sqrt(size))
        for layer in range(self._layers):
            p = f"encoder.layer.{layer}."

            def dense(name: str, h: np.ndarray, p: str = p) -> np.ndarray:
                return h @ w[f"{p}{name}.weight"].T + w[f"{p}{name}.bias"]

            def heads(h: np.ndarray) -> np.ndarray:
                return h.reshape(n, self._heads, size).transpose(1, 0, 2)

            q, k, v = (heads(dense(f"attention.self.{m}", x)) for m in ("query", "key", "value"))
            scores = (q @ k.transpose(0, 2, 1)) * scale
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            context = ((scores / scores.sum(-1, keepdims=True)) @ v).transpose(1, 0, 2).reshape(n, hidden)
            x = _layer_norm(
                dense("attention.output.dense", context) + x,
                w[f"{p}attention.output.LayerNorm.weight"],
                w[f"{p}attention.output.LayerNorm.bias"],
                self._eps,
            )
            inner = _gelu(dense("intermediate.dense", x))
            x = _layer_norm(
                dense("output.dense", inner) + x,
                w[f"{p}output.LayerNorm.weight"],
                w[f"{p}output.LayerNorm.bias"],
                self._eps,
            )
        pooled = x.mean(0)
        return (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32).tolist()
