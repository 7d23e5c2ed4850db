"""Writing files so that readers never see half of one, with the permissions a plain write would give.

Takes: a target path and its bytes. Gives: `write_atomic()` (temporary file beside the target, fsync,
rename) and `match_umask()` (a file some library created owner-only gets the mode `open()` would give).
Used by the corpus fetch, the model converter and the index's meta.json.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def match_umask(path: Path) -> None:
    """Give `path` the mode a plain `open(path, "w")` would: 0666 minus the process umask."""
    umask = os.umask(0)  # the only way to read it; set-up code, not called from request threads
    os.umask(umask)
    path.chmod(0o666 & ~umask)


def write_atomic(target: Path, data: bytes) -> None:
    """Replace `target` with `data`: readers see the old file or the whole new one, never a part."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        match_umask(Path(tmp))  # mkstemp creates it owner-only (0600)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
