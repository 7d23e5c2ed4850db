"""Index generations: the metadata, integrity checksums and paths of one built index.

Takes: a generation folder (`index/gen-<stamp>/`). Gives: `IndexMeta` (model id, dimension, manifest hash,
corpus checksums, counts), `BuildReport`, the checksum record written at build and verified before opening,
and the `current` pointer's helpers (`read_meta`, `index_path`, `current_dir`).


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

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from assistant.core.errors import (
    IndexCorruptError,
    IndexMissingError,
)
from assistant.core.files import write_atomic
from assistant.core.settings import Settings
from assistant.corpus.manifest import file_sha256

SCHEMA = 2  # 2: items (sub-paragraphs) are lexical units too
DEFINITIONS = re.compile(r"(use of terms|definitions|термин|определени|анықтама)", re.I)
CURRENT = "current"
FIX_BUILD = "run `assistant index` (or `make setup`)"


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
            raise IndexMissingError(f"no index in {path.parent}; {FIX_BUILD}") from None
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


# ------------------------------------------------------------------------------------------ integrity


# Every file of a generation is checksummed when it is built and checked before anything reads it: a
# damaged file then gives a one-line error instead of wrong answers or a crash. Left out: meta.json (it
# holds the sums) and the Chroma files that Chroma itself rewrites when a process opens the store (its
# SQLite database; `length.bin` of a small collection), which Chroma checks itself and `self_test` below
# checks by what they answer. Chroma's HNSW graph files are written once, at build time, and must be
# checked here: random bytes in them crash chromadb's native code, beyond the reach of any `except`.
_CHROMA_STABLE = frozenset({"data_level0.bin", "header.bin", "link_lists.bin"})


def _checked(rel: str) -> bool:
    parts = rel.split("/")
    if parts[0] == "chroma":
        return len(parts) == 3 and parts[2] in _CHROMA_STABLE
    return rel != "meta.json"


def checked_files(generation: Path) -> list[str]:
    rels = (p.relative_to(generation).as_posix() for p in sorted(generation.rglob("*")) if p.is_file())
    return [rel for rel in rels if _checked(rel)]


def generation_checksums(generation: Path) -> dict[str, str]:
    """sha256 of every checked file of a generation, by path relative to it."""
    return {rel: file_sha256(generation / rel) for rel in checked_files(generation)}


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


def record_checksums(generation: Path, meta: IndexMeta) -> None:
    """Record the checksums of an index built before they were all kept (replacing meta.json atomically)."""
    data = asdict(meta) | {"files": generation_checksums(generation)}
    write_atomic(generation / "meta.json", json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))


def current_dir(index_dir: Path) -> Path | None:
    link = index_dir / CURRENT
    if not link.exists():
        return None
    return link.resolve()


def current_meta(settings: Settings) -> tuple[Path, Path, IndexMeta]:
    """(index folder, current generation, its meta); IndexMissingError when nothing is built yet."""
    index_dir = settings.path(settings.index_dir)
    current = current_dir(index_dir)
    if current is None:
        raise IndexMissingError(f"no index in {index_dir}; {FIX_BUILD}")
    return index_dir, current, IndexMeta.read(current / "meta.json")


def read_meta(settings: Settings) -> IndexMeta:
    return current_meta(settings)[2]


def index_path(settings: Settings) -> Path:
    """The folder of the current generation; IndexMissingError when nothing is built yet."""
    return current_meta(settings)[1]
