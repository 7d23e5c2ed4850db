"""Which weights a model folder holds, found cheaply at every start: the identity the index checks.

Takes: a model folder. Gives: `weight_files(folder)`; `weights_sha256(folder, paths)`, the sha256 over the
files' names and bytes (the model identity the index has always recorded), without reading ~465 MB at
every start: `assistant model prepare` hashes the weights once and writes `weights-identity.json` beside
them, with each file's size, mtime and a hash of its first and last MiB. At run time those cheap facts are
compared with the record; the full hash is computed again only when they differ (weights replaced or
edited, a folder copied without its times, a folder that was never prepared here), and recorded then if
the folder is writable, so that it happens once; `record_identity(folder, paths)` hashes and records.

Trust: an edit in place changes the mtime, a replacement changes the size or the ends (safetensors keeps
its header at the start). Only a deliberate forgery that restores all three would pass; the record
guards against mistakes, not against someone who can write the weights.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.core.files import write_atomic

RECORD = "weights-identity.json"
_VERSION = 1
_EDGE = 1 << 20  # bytes hashed at each end of a weight file
_WEIGHT_PATTERNS = ("model.safetensors", "model-*.safetensors", "pytorch_model.bin", "pytorch_model-*.bin")


def weight_files(folder: Path) -> list[Path]:
    """Weights of a local SentenceTransformer folder: its root and the Transformer module's own path."""
    roots = [folder]
    with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
        for module in json.loads((folder / "modules.json").read_text(encoding="utf-8")):
            if module.get("type", "").endswith("Transformer") and module.get("path"):
                roots.append(folder / module["path"])
    found: set[Path] = set()
    for root in roots:
        for pattern in _WEIGHT_PATTERNS:
            found.update(p for p in root.glob(pattern) if p.is_file())
    return sorted(found)


def full_sha256(paths: Sequence[Path]) -> str:
    """sha256 over every file's name and bytes, in the given order (reads them all)."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0")
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 22), b""):
                digest.update(chunk)
    return digest.hexdigest()


def fingerprint(path: Path) -> dict[str, Any]:
    """Size, mtime and a hash of the first and last MiB: what tells at start-up that a file changed."""
    st = os.stat(path)
    edges = hashlib.sha256()
    with path.open("rb") as fh:
        edges.update(fh.read(_EDGE))
        if st.st_size > 2 * _EDGE:
            fh.seek(-_EDGE, os.SEEK_END)
        edges.update(fh.read(_EDGE))
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "edges": edges.hexdigest()}


def _fingerprints(folder: Path, paths: Sequence[Path]) -> dict[str, dict[str, Any]]:
    return {path.relative_to(folder).as_posix(): fingerprint(path) for path in paths}


def record_identity(folder: Path, paths: Sequence[Path]) -> str:
    """Hash the weights in full and write the record (best effort: a read-only folder keeps none)."""
    files = _fingerprints(folder, paths)
    sha = full_sha256(paths)
    data = {"version": _VERSION, "sha256": sha, "files": files}
    with contextlib.suppress(OSError):
        write_atomic(folder / RECORD, (json.dumps(data, indent=1) + "\n").encode("utf-8"))
    return sha


def weights_sha256(folder: Path, paths: Sequence[Path]) -> str:
    """The full sha256 of `paths`, from the record when the files still match it, else recomputed."""
    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        if (
            record.get("version") == _VERSION
            and isinstance(record.get("sha256"), str)
            and record.get("files") == _fingerprints(folder, paths)
        ):
            return record["sha256"]
    except (OSError, ValueError, AttributeError):
        pass  # no record, or an unreadable one: hash in full below
    return record_identity(folder, paths)
