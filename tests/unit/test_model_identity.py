"""The model identity at start-up: the full weights hash, read from the record while the files match it
and recomputed (and recorded again) as soon as one differs, so a changed model is never taken for the
one the index was built with."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from assistant.model import identity


def _folder(tmp_path: Path, size: int = 3 * (1 << 20) + 5) -> tuple[Path, list[Path]]:
    folder = tmp_path / "e5"
    folder.mkdir()
    weights = folder / "model.safetensors"
    weights.write_bytes(bytes(i % 251 for i in range(size)))
    return folder, identity.weight_files(folder)


def _no_full_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(paths: object) -> str:
        raise AssertionError("the whole weights were hashed again")

    monkeypatch.setattr(identity, "full_sha256", refuse)


def test_first_start_hashes_in_full_and_records(tmp_path: Path) -> None:
    folder, paths = _folder(tmp_path)
    sha = identity.weights_sha256(folder, paths)
    assert sha == identity.full_sha256(paths)
    record = json.loads((folder / identity.RECORD).read_text())
    assert record["sha256"] == sha and set(record["files"]) == {"model.safetensors"}


def test_later_starts_read_the_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, paths = _folder(tmp_path)
    sha = identity.weights_sha256(folder, paths)
    _no_full_hash(monkeypatch)
    assert identity.weights_sha256(folder, paths) == sha


@pytest.mark.parametrize("where", [0, (1 << 20) + 7, -1])  # head, middle, tail
def test_a_changed_byte_anywhere_changes_the_identity(tmp_path: Path, where: int) -> None:
    folder, paths = _folder(tmp_path)
    before = identity.weights_sha256(folder, paths)
    data = bytearray(paths[0].read_bytes())
    data[where] ^= 0xFF
    paths[0].write_bytes(bytes(data))  # same size; the mtime moves
    assert identity.weights_sha256(folder, paths) == identity.full_sha256(paths) != before


def test_a_replaced_file_with_its_old_mtime_is_caught_by_its_ends(tmp_path: Path) -> None:
    folder, paths = _folder(tmp_path)
    before = identity.weights_sha256(folder, paths)
    st = paths[0].stat()
    data = bytearray(paths[0].read_bytes())
    data[-3] ^= 0x01
    paths[0].write_bytes(bytes(data))
    os.utime(paths[0], ns=(st.st_atime_ns, st.st_mtime_ns))
    assert identity.weights_sha256(folder, paths) != before


def test_a_damaged_record_is_rebuilt(tmp_path: Path) -> None:
    folder, paths = _folder(tmp_path, size=100)
    (folder / identity.RECORD).write_text("{not json")
    assert identity.weights_sha256(folder, paths) == identity.full_sha256(paths)
    assert json.loads((folder / identity.RECORD).read_text())["sha256"] == identity.full_sha256(paths)


def test_a_read_only_folder_still_gives_the_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, paths = _folder(tmp_path, size=100)

    def refuse(
        target: Path, data: bytes
    ) -> None:  # what a read-only folder does to the write (root ignores chmod)
        raise PermissionError(13, "Permission denied", str(target))

    monkeypatch.setattr(identity, "write_atomic", refuse)
    assert identity.weights_sha256(folder, paths) == identity.full_sha256(paths)
    assert not (folder / identity.RECORD).exists()
