"""The user corpus: treaties a user adds (`assistant add`) beside the bundled ones, and the merged manifest.

Takes: a document (path or http(s) URL) with the id, language, title, aliases and kind the user gives;
the settings (`user_corpus_dir`, default `data/corpus/`, outside the committed tree; `max_document_bytes`).
Gives:
- `prepare()` → `Prepared`: the document read (`readers`), repaired (`repair`) and parsed by the SAME
  parser as the bundled texts, with a `ParseReport` (articles and their numbers, gaps, duplicates,
  provisions per article, text outside any article, detected language, alignment with the other language
  versions of the same id). Nothing is written: `--dry-run` stops here.
- `add()`: stores the original file, the repaired text and a manifest entry (sha256, title, aliases,
  language, origin user, date added, kind), then updates the index incrementally (only the new
  provisions are embedded: `build_index` reuses every other vector by content hash).
- `remove()`, `list_instruments()`.
- `load_corpus_manifest()`: the bundled manifest merged with the user's documents (`origin="user"`), what
  the index, question understanding (aliases) and the refusal policy (treaty partners) all read.

Crash safety: `manifest.json` is the user corpus's commit point. `add`/`remove` write the next manifest
as `manifest.pending.json`, build and swap the index with it, and only then rename it over
`manifest.json`. Readers use whichever of the two matches the index being served, so a kill -9 at any
moment leaves a consistent pair (before the swap: the old index with the old manifest); the next
`add`/`remove` rolls a leftover pending manifest forward or back and deletes orphaned files. One
`add`/`remove` at a time (an advisory lock on `.lock`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import getpass
import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from assistant.core.errors import (
    CorpusError,
    DocumentError,
    IdCollisionError,
    InputError,
    UserDocumentError,
)
from assistant.core.files import write_atomic
from assistant.corpus.manifest import LANGS, Instrument, Manifest, Names, SourceDocument, load_manifest

if TYPE_CHECKING:
    from assistant.core.settings import Settings
    from assistant.corpus.provisions import Provision

__all__ = [
    "USER_KINDS",
    "ArticleRow",
    "InstrumentRow",
    "ParseReport",
    "Prepared",
    "UserEntry",
    "add",
    "list_instruments",
    "load_corpus_manifest",
    "merge",
    "prepare",
    "remove",
]

USER_KINDS = ("bilateral", "multilateral", "other")
_KIND_IN_MANIFEST = {"bilateral": "bilateral", "multilateral": "multilateral", "other": "general"}
MANIFEST = "manifest.json"
PENDING = "manifest.pending.json"
LOCK = ".lock"
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


# ------------------------------------------------------------------------------------------ entries


@dataclass(frozen=True)
class UserEntry:
    """One language version of a user's instrument, as stored in `manifest.json`."""

    instrument: str
    lang: str
    title: str
    kind: str  # bilateral | multilateral | other
    file: str  # the repaired text the parser reads, relative to the user corpus folder
    text_sha256: str
    original: str  # the file as given, relative to the user corpus folder
    sha256: str  # of the original file
    source: str  # the path's name or the URL it came from
    format: str
    aliases: tuple[str, ...] = ()
    detected_lang: str = ""
    added_by: str = ""
    added: str = ""  # ISO date-time, UTC
    as_paragraphs: bool = False
    complete: bool = False  # articles numbered 1..n without gaps or duplicates

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UserEntry:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["aliases"] = tuple(known.get("aliases", ()))
        return cls(**known)


def _read_entries(path: Path) -> list[UserEntry] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise CorpusError(
            f"user corpus manifest {path} is unreadable ({type(exc).__name__}); restore it or remove the folder"
        ) from None
    try:
        return [UserEntry.from_dict(d) for d in data["documents"]]
    except (KeyError, TypeError) as exc:
        raise CorpusError(
            f"user corpus manifest {path} is malformed ({exc}); restore it or remove the folder"
        ) from None


def _write_entries(path: Path, entries: Sequence[UserEntry]) -> None:
    data = {"version": 1, "documents": [asdict(e) for e in entries]}
    write_atomic(path, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))


# ------------------------------------------------------------------------------------------ merging


def merge(bundled: Manifest, entries: Sequence[UserEntry], user_dir: Path) -> Manifest:
    """The bundled manifest plus the user's instruments and documents (`origin="user"`)."""
    if not entries:
        return bundled
    by_id: dict[str, list[UserEntry]] = {}
    for e in entries:
        by_id.setdefault(e.instrument, []).append(e)
    taken = {_fold(a): iid for iid, inst in bundled.instruments.items() for a in inst.aliases}
    instruments = dict(bundled.instruments)
    documents = list(bundled.documents)
    for iid, group in by_id.items():
        if iid in bundled.instruments:
            continue  # `add` refuses this; a hand-edited user manifest must not shadow a bundled text
        titles = {e.lang: e.title for e in group}
        first = group[0].title
        names = Names(
            **{lang: titles.get(lang) or titles.get("ru") or titles.get("kk") or first for lang in LANGS}
        )
        aliases = []
        for e in group:
            for a in e.aliases:
                if taken.setdefault(_fold(a), iid) == iid and a not in aliases:
                    aliases.append(a)
        instruments[iid] = Instrument(
            id=iid,
            kind=_KIND_IN_MANIFEST.get(group[0].kind, "general"),
            title=names,
            short=names,
            aliases=tuple(aliases),
            origin="user",
        )
        for e in group:
            documents.append(
                SourceDocument(
                    instrument=iid,
                    lang=e.lang,
                    file=e.file,
                    sha256=e.text_sha256,
                    complete=e.complete,
                    notes=f"added by {e.added_by or 'a user'} on {e.added[:10]} from {e.source}",
                    origin="user",
                    root=user_dir,
                )
            )
    digest = hashlib.sha256(bundled.hash.encode())
    digest.update(json.dumps([asdict(e) for e in entries], ensure_ascii=False, sort_keys=True).encode())
    return Manifest(
        path=bundled.path, hash=digest.hexdigest(), instruments=instruments, documents=tuple(documents)
    )


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def _user_dir(settings: Settings) -> Path:
    return settings.path(settings.user_corpus_dir)


def _indexed_files(settings: Settings) -> dict[str, str] | None:
    """The corpus files (→ sha256) of the index being served, read from its meta.json."""
    meta = settings.path(settings.index_dir) / "current" / "meta.json"
    try:
        return json.loads(meta.read_text(encoding="utf-8")).get("corpus")
    except (OSError, ValueError, AttributeError):
        return None


def _files(manifest: Manifest) -> dict[str, str]:
    return {d.file: d.sha256 for d in manifest.documents}


def load_corpus_manifest(settings: Settings) -> Manifest:
    """The bundled manifest merged with the user corpus that goes with the index being served."""
    bundled = load_manifest(settings.path(settings.manifest))
    user_dir = _user_dir(settings)
    committed = _read_entries(user_dir / MANIFEST) or []
    pending = _read_entries(user_dir / PENDING)
    if pending is not None:
        # an add/remove is running, or was killed: its manifest is live only once its index is
        candidate = merge(bundled, pending, user_dir)
        if _indexed_files(settings) == _files(candidate):
            return candidate
    return merge(bundled, committed, user_dir)


# ------------------------------------------------------------------------------------------ locking


@contextlib.contextmanager
def _locked(user_dir: Path) -> Iterator[None]:
    user_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(user_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(
                "another `assistant add` or `remove` is running on this user corpus; wait for it and retry"
            ) from None
        yield
    finally:
        os.close(fd)  # closing releases the lock (and a killed process's lock is released by the kernel)


def _recover(settings: Settings) -> None:
    """Finish or undo an add/remove that was killed; delete files no manifest entry names. Under the lock."""
    user_dir = _user_dir(settings)
    pending = _read_entries(user_dir / PENDING)
    if pending is not None:
        bundled = load_manifest(settings.path(settings.manifest))
        if _indexed_files(settings) == _files(merge(bundled, pending, user_dir)):
            os.replace(user_dir / PENDING, user_dir / MANIFEST)  # its index was swapped in: keep it
        else:
            (user_dir / PENDING).unlink(missing_ok=True)
    live = _read_entries(user_dir / MANIFEST) or []
    _delete_orphans(user_dir, live)


def _delete_orphans(user_dir: Path, live: Sequence[UserEntry]) -> None:
    keep = {MANIFEST, PENDING, LOCK} | {e.file for e in live} | {e.original for e in live}
    for path in sorted(user_dir.rglob("*"), reverse=True):
        rel = path.relative_to(user_dir).as_posix()
        if path.is_file() and rel not in keep:
            path.unlink(missing_ok=True)
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


# ------------------------------------------------------------------------------------------ report


@dataclass(frozen=True)
class ArticleRow:
    number: str  # the article key («12», «preamble», «p3»)
    provisions: int  # the article and its paragraphs and items
    first_words: str


@dataclass(frozen=True)
class ParseReport:
    """What `assistant add` found in a document, shown before anything changes."""

    instrument: str
    lang: str
    detected_lang: str
    source: str
    format: str
    size: int
    sha256: str
    pages: int
    provisions: int
    articles: tuple[ArticleRow, ...]  # numbered articles, in document order
    gaps: tuple[str, ...]  # article numbers missing from 1..max
    duplicates: tuple[str, ...]  # article numbers whose heading appears more than once
    outside: tuple[ArticleRow, ...]  # text in no article: ratification act, preamble, final clauses, annexes
    repairs: str
    as_paragraphs: bool = False
    aligned_with: tuple[str, ...] = ()  # the other languages of the same id
    only_here: tuple[str, ...] = ()  # article numbers this version has and the others lack
    only_there: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        numbers = [a.number for a in self.articles if a.number.isdigit()]
        return bool(numbers) and numbers[0] == "1" and not self.gaps and not self.duplicates

    def render(self) -> str:
        lines = [
            f"{self.source} ({self.format}, {self.size / 1024:.0f} KB"
            + (f", {self.pages} pages" if self.pages else "")
            + f") → {self.instrument} [{self.lang}]",
            f"language: {self.lang} given, {self.detected_lang or '?'} detected",
            f"repairs: {self.repairs}",
        ]
        if self.as_paragraphs:
            lines.append(
                f"paragraphs: {len(self.articles)} (ids {self.instrument}:p1..p{len(self.articles)})"
            )
        else:
            numbers = [a.number for a in self.articles]
            lines.append(f"articles: {len(numbers)} ({_ranges(numbers)})")
            lines.append(f"gaps in the numbering: {', '.join(self.gaps) or 'none'}")
            lines.append(f"duplicate article numbers: {', '.join(self.duplicates) or 'none'}")
        lines.append(f"provisions: {self.provisions}")
        if self.outside:
            lines.append(
                "outside any article: "
                + "; ".join(f"{o.number} ({o.provisions}) «{o.first_words}»" for o in self.outside)
            )
        if self.aligned_with:
            lines.append(
                f"aligned by article number with {', '.join(self.aligned_with)}: "
                f"only here: {_ranges(self.only_here) or 'none'}; only there: {_ranges(self.only_there) or 'none'}"
            )
        lines.append(f"{'#':>6}  {'prov.':>5}  first words")
        for a in self.articles:
            lines.append(f"{a.number:>6}  {a.provisions:>5}  {a.first_words}")
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)


def _ranges(numbers: Sequence[str]) -> str:
    """«1-5, 7, 9-10» for numeric keys; other keys listed as they are."""
    out: list[str] = []
    nums = [int(n) for n in numbers if n.isdigit()]
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out.append(f"{nums[i]}-{nums[j]}" if j > i else str(nums[i]))
        i = j + 1
    out.extend(n for n in numbers if not n.isdigit())
    return ", ".join(out)


def _first_words(text: str, n: int = 8) -> str:
    words = text.split()
    return " ".join(words[:n]) + (" …" if len(words) > n else "")


def _report_rows(provisions: Sequence[Provision]) -> tuple[list[ArticleRow], list[ArticleRow]]:
    counts = Counter(p.article for p in provisions)
    articles: list[ArticleRow] = []
    outside: list[ArticleRow] = []
    for p in provisions:
        if p.level != "article":
            continue
        row = ArticleRow(p.article, counts[p.article], _first_words(p.text))
        numbered = p.article.isdigit() or re.fullmatch(r"p\d+", p.article)
        (articles if numbered else outside).append(row)
    return articles, outside


_HEADING_NUMBER = re.compile(r"^#{1,6}\s*(?:[СC]тать[яи]\s*(\d+)|Article\s+(\d+)|(\d+)\s*-?\s*[бБ]ап)", re.I)


def _heading_numbers(markdown: str) -> list[int]:
    out = []
    for line in markdown.split("\n"):
        m = _HEADING_NUMBER.match(line.strip())
        if m:
            out.append(int(next(g for g in m.groups() if g)))
    return out


def _detect_language(text: str) -> str:
    try:
        from assistant.search.understand import detect_language
    except ImportError:  # the language layer moved: the report then shows «?»
        return ""
    sample = " ".join(text.split()[:1500])
    try:
        return detect_language(sample)
    except Exception:  # noqa: BLE001 - a report line, never a failure
        return ""


# ------------------------------------------------------------------------------------------ prepare


@dataclass(frozen=True)
class Prepared:
    """A document read, repaired and parsed; nothing written yet."""

    report: ParseReport
    entry: UserEntry
    data: bytes = field(repr=False)
    markdown: str = field(repr=False)
    provisions: tuple[Provision, ...] = field(repr=False)


def _check_id(settings: Settings, instrument: str, lang: str, kind: str) -> tuple[Manifest, list[UserEntry]]:
    if not _ID_RE.match(instrument or ""):
        raise InputError(
            f"--id {instrument!r} must be lowercase Latin letters, digits and '-' (e.g. bilateral-turkey)"
        )
    if lang not in LANGS:
        raise InputError(f"--lang {lang!r} must be kk, ru or en")
    if kind not in USER_KINDS:
        raise InputError(f"--kind {kind!r} must be one of {', '.join(USER_KINDS)}")
    bundled = load_manifest(settings.path(settings.manifest))
    if instrument in bundled.instruments:
        raise IdCollisionError(
            f"--id {instrument} is a bundled instrument; its texts come with the assistant: choose another id "
            f"(e.g. {instrument}-user)"
        )
    committed = _read_entries(_user_dir(settings) / MANIFEST) or []
    if any(e.instrument == instrument and e.lang == lang for e in committed):
        raise IdCollisionError(
            f"{instrument} [{lang}] is already added; run `assistant remove {instrument} --lang {lang}` first"
        )
    return bundled, committed


def _check_aliases(manifest: Manifest, instrument: str, aliases: Sequence[str]) -> None:
    owners: dict[str, str] = {}
    for iid, inst in manifest.instruments.items():
        if iid == instrument:
            continue
        for name in (
            *inst.aliases,
            *(inst.title[lang] for lang in LANGS),
            *(inst.short[lang] for lang in LANGS),
        ):
            owners.setdefault(_fold(name), iid)
    for alias in aliases:
        if not alias.strip():
            raise InputError("an --alias is empty; give the name people use for the treaty")
        other = owners.get(_fold(alias))
        if other:
            raise IdCollisionError(
                f"--alias {alias!r} already names instrument {other}; choose another alias"
            )


def prepare(
    settings: Settings,
    source: str,
    *,
    instrument: str,
    lang: str,
    title: str,
    aliases: Sequence[str] = (),
    kind: str = "bilateral",
    as_paragraphs: bool = False,
    name: str | None = None,
    data: bytes | None = None,
    added_by: str | None = None,
) -> Prepared:
    """Read, repair and parse a document (a path, an http(s) URL, or `data` with its `name`); write nothing."""
    from assistant.corpus import readers
    from assistant.corpus.provisions import PARAGRAPHS_MARK, provisions_from_texts
    from assistant.corpus.repair import to_markdown

    bundled, committed = _check_id(settings, instrument, lang, kind)
    if not (title or "").strip():
        raise InputError("--title is empty; give the treaty's title in the document's language")
    merged = merge(bundled, committed, _user_dir(settings))
    _check_aliases(merged, instrument, aliases)
    siblings = [e for e in committed if e.instrument == instrument]
    if siblings and siblings[0].kind != kind:
        kind = siblings[0].kind  # one instrument has one kind; the first version set it

    limit = settings.max_document_bytes
    if data is not None:
        shown = name or source
        extracted = readers.read_bytes(data, shown, limit)
    elif re.match(r"^https?://", source, re.I):
        data, shown = readers.fetch_url(source, limit, settings.request_timeout_s)
        extracted = readers.read_bytes(data, shown, limit)
    elif re.match(r"^[a-z][a-z0-9+.-]*://", source, re.I):
        raise UserDocumentError(f"{source}: only http(s) URLs can be fetched; download it and add the file")
    else:
        path = Path(source).expanduser()
        data, extracted = readers.read_path(path, limit)
        shown = path.name

    markdown, repairs = to_markdown(extracted)
    detected = _detect_language(markdown)
    text_file = f"{instrument}/{lang}.user.md"
    warnings: list[str] = []
    if as_paragraphs:
        markdown = PARAGRAPHS_MARK + "\n\n" + markdown
        warnings.append(
            "added as numbered paragraphs, not articles: citations will read "
            f"{instrument}:p1, p2, ... and cannot be matched with other language versions by article"
        )
    try:
        provisions = provisions_from_texts(instrument, lang, [(text_file, markdown)])
    except DocumentError:
        provisions = []
    articles, outside = _report_rows(provisions)
    if not as_paragraphs and not articles:
        raise UserDocumentError(
            f"{shown}: no article headings found («Статья 5», «5-бап», «Article 5»); to add it anyway, one "
            "provision per paragraph, run the same command with --as-paragraphs"
        )
    numbers = _heading_numbers(markdown)
    dupes = sorted({str(n) for n, c in Counter(numbers).items() if c > 1}, key=int)
    numeric = sorted({int(a.number) for a in articles if a.number.isdigit()})
    gaps = [str(n) for n in range(1, numeric[-1] + 1) if n not in set(numeric)] if numeric else []
    if detected and detected != lang:
        warnings.append(f"the text reads as {detected}, not {lang}: check --lang")
    if gaps:
        warnings.append(
            f"articles {_ranges(gaps)} are missing: a partial text, or headings the parser missed"
        )

    only_here: list[str] = []
    only_there: list[str] = []
    aligned = tuple(sorted({e.lang for e in siblings}))
    if siblings and not as_paragraphs:
        from assistant.corpus.manifest import read_document

        theirs: set[str] = set()
        for e in siblings:
            doc = SourceDocument(instrument, e.lang, e.file, e.text_sha256, root=_user_dir(settings))
            try:
                other = provisions_from_texts(
                    instrument, e.lang, [(e.file, read_document(settings.path("."), doc))]
                )
            except CorpusError:
                continue
            theirs |= {p.article for p in other if p.level == "article" and p.article.isdigit()}
        mine = {a.number for a in articles if a.number.isdigit()}
        only_here = sorted(mine - theirs, key=int)
        only_there = sorted(theirs - mine, key=int)
        if only_here or only_there:
            warnings.append("the language versions differ in their articles; both are kept, each as it is")

    sha = hashlib.sha256(data).hexdigest()
    suffix = PurePosixPath(shown).suffix.lower() or {"pdf": ".pdf", "docx": ".docx", "html": ".html"}.get(
        extracted.format, ".txt"
    )
    report = ParseReport(
        instrument=instrument,
        lang=lang,
        detected_lang=detected,
        source=shown,
        format=extracted.format,
        size=len(data),
        sha256=sha,
        pages=extracted.page_count,
        provisions=len(provisions),
        articles=tuple(articles),
        gaps=tuple(gaps),
        duplicates=tuple(dupes),
        outside=tuple(outside),
        repairs=repairs.summary(),
        as_paragraphs=as_paragraphs,
        aligned_with=aligned,
        only_here=tuple(only_here),
        only_there=tuple(only_there),
        warnings=tuple(warnings),
    )
    entry = UserEntry(
        instrument=instrument,
        lang=lang,
        title=" ".join(title.split()),
        kind=kind,
        file=text_file,
        text_sha256=hashlib.sha256(markdown.encode("utf-8")).hexdigest(),
        original=f"{instrument}/{lang}.original{suffix}",
        sha256=sha,
        source=source if re.match(r"^https?://", source, re.I) else shown,
        format=extracted.format,
        aliases=tuple(dict.fromkeys(" ".join(a.split()) for a in aliases)),
        detected_lang=detected,
        added_by=added_by if added_by is not None else _whoami(),
        added=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        as_paragraphs=as_paragraphs,
        complete=report.complete and not as_paragraphs,
    )
    return Prepared(report=report, entry=entry, data=data, markdown=markdown, provisions=tuple(provisions))


def _whoami() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in a container: the entry says «a user»
        return ""


# ------------------------------------------------------------------------------------------ add / remove


def _embeddings(settings: Settings, embeddings: Any) -> Any:
    if embeddings is not None:
        return embeddings
    from assistant.model.embeddings import make_embeddings

    return make_embeddings(settings, lazy=True)


def _commit(settings: Settings, user_dir: Path, bundled, pending: list, embeddings: Any, progress):  # noqa: ANN001
    """Write the pending entries, build the index from bundled + pending, then make pending the manifest:
    readers keep the old manifest (and index) until the new generation is in place."""
    from assistant.index.build import build_index

    _write_entries(user_dir / PENDING, pending)
    report = build_index(
        settings,
        _embeddings(settings, embeddings),
        progress=progress,
        manifest=merge(bundled, pending, user_dir),
    )
    os.replace(user_dir / PENDING, user_dir / MANIFEST)
    return report


def add(
    settings: Settings,
    prepared: Prepared | Sequence[Prepared],
    *,
    embeddings: Any = None,
    progress: bool | None = False,
):  # noqa: ANN201
    """Store the document(s) and manifest entries, and bring the index up to date (only their provisions
    are embedded; several documents share one index build). Returns the index's `BuildReport`. On any
    failure the user corpus and the index are as before."""
    batch = [prepared] if isinstance(prepared, Prepared) else list(prepared)
    user_dir = _user_dir(settings)
    with _locked(user_dir):
        _recover(settings)
        pending = _read_entries(user_dir / MANIFEST) or []
        committed = list(pending)
        bundled = load_manifest(settings.path(settings.manifest))
        for item in batch:
            entry = item.entry
            _check_id(settings, entry.instrument, entry.lang, entry.kind)
            if any(e.instrument == entry.instrument and e.lang == entry.lang for e in pending):
                raise IdCollisionError(
                    f"{entry.instrument} [{entry.lang}] is given twice; add each version once"
                )
            _check_aliases(merge(bundled, pending, user_dir), entry.instrument, entry.aliases)
            pending.append(entry)
        written = [user_dir / p for item in batch for p in (item.entry.original, item.entry.file)]
        try:
            for item in batch:
                write_atomic(user_dir / item.entry.original, item.data)
                write_atomic(user_dir / item.entry.file, item.markdown.encode("utf-8"))
            report = _commit(settings, user_dir, bundled, pending, embeddings, progress)
        except BaseException:
            (user_dir / PENDING).unlink(missing_ok=True)
            if _indexed_files(settings) != _files(merge(bundled, pending, user_dir)):
                for path in written:
                    path.unlink(missing_ok=True)
                _delete_orphans(user_dir, committed)
            raise
    return report


def remove(
    settings: Settings,
    instrument: str,
    lang: str | None = None,
    *,
    embeddings: Any = None,
    progress: bool | None = False,
):  # noqa: ANN201, E501
    """Remove a user instrument (or one language version) from the user corpus and the index."""
    user_dir = _user_dir(settings)
    with _locked(user_dir):
        _recover(settings)
        bundled = load_manifest(settings.path(settings.manifest))
        if instrument in bundled.instruments:
            raise InputError(
                f"{instrument} is a bundled instrument and cannot be removed; only user documents can"
            )
        committed = _read_entries(user_dir / MANIFEST) or []
        gone = [e for e in committed if e.instrument == instrument and (lang is None or e.lang == lang)]
        if not gone:
            added = sorted({f"{e.instrument} [{e.lang}]" for e in committed})
            raise InputError(
                f"no user document {instrument}"
                + (f" [{lang}]" if lang else "")
                + f"; `assistant list` shows what there is ({', '.join(added) or 'no user documents yet'})"
            )
        pending = [e for e in committed if e not in gone]
        try:
            report = _commit(settings, user_dir, bundled, pending, embeddings, progress)
        except BaseException:
            (user_dir / PENDING).unlink(missing_ok=True)
            raise
        _delete_orphans(user_dir, pending)
    return gone, report


# ------------------------------------------------------------------------------------------ list


@dataclass(frozen=True)
class InstrumentRow:
    id: str
    title: str
    origin: str  # bundled | user
    languages: tuple[str, ...]
    provisions: dict[str, int]  # lang → provisions in the index (empty when no index is built)
    complete: dict[str, bool]  # lang → whole text or excerpt

    def render(self) -> str:
        langs = " ".join(
            f"{lang}:{self.provisions.get(lang, '-')}{'' if self.complete.get(lang) else '*'}"
            for lang in self.languages
        )
        title = self.title if len(self.title) <= 80 else self.title[:79] + "…"
        return f"{self.id:26} {self.origin:7} {langs:28} {title}"


def list_instruments(settings: Settings, title_lang: str = "ru") -> list[InstrumentRow]:
    """Every instrument, bundled and user, with its languages, provision counts and completeness."""
    manifest = load_corpus_manifest(settings)
    counts: dict[str, dict[str, int]] = {}
    meta = settings.path(settings.index_dir) / "current" / "meta.json"
    with contextlib.suppress(OSError, ValueError, AttributeError):
        counts = json.loads(meta.read_text(encoding="utf-8")).get("counts", {})
    rows = []
    for iid, inst in sorted(manifest.instruments.items(), key=lambda kv: (kv[1].origin != "bundled", kv[0])):
        langs = tuple(lang for lang in LANGS if manifest.documents_for(iid, lang))
        rows.append(
            InstrumentRow(
                id=iid,
                title=inst.title[title_lang],
                origin=inst.origin,
                languages=langs,
                provisions=dict(counts.get(iid, {})),
                complete={lang: manifest.is_complete(iid, lang) for lang in langs},
            )
        )
    return rows


def user_entries(settings: Settings) -> list[UserEntry]:
    """The user corpus's committed entries (for the web view's list)."""
    return _read_entries(_user_dir(settings) / MANIFEST) or []
