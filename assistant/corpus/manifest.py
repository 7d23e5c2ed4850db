"""The corpus stage: the committed manifest in, verified treaty texts in the corpus folder out.

Takes: `corpus/sources.toml` (instruments, and one entry per text file with its sha256 and upstream
provenance) and a source for the texts: a folder laid out like the manifest (normally
`../shared/corpus-raw`), an http(s) base URL serving that layout, or, failing both, each document's own
upstream raw URL (cut to its `slice` when the corpus file is an excerpt).
Gives: `Manifest` (frozen dataclasses), files in `corpus/files/` that match their sha256 (`fetch`), the
text of one document (`read_document`), and health checks (`verify`, `unlisted_files`).

A file whose hash differs from the manifest is never written and never read: the manifest is the only
statement of what the assistant quotes from.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import sys
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Literal

from assistant.core.errors import ChecksumError, CorpusError, DocumentError, ManifestError, SourceMissingError
from assistant.core.files import write_atomic
from assistant.core.langs import LANGS

if TYPE_CHECKING:
    from assistant.core.settings import Settings

__all__ = [
    "KINDS",
    "Adoption",
    "FetchReport",
    "Instrument",
    "KazakhstanStatus",
    "Manifest",
    "Names",
    "Refusal",
    "SourceDocument",
    "TitleForms",
    "document_path",
    "fetch",
    "file_sha256",
    "load_manifest",
    "read_document",
    "unlisted_files",
    "verify",
]

KINDS: tuple[str, ...] = ("multilateral", "regional", "bilateral", "general", "article")
KZ_STATUSES: tuple[str, ...] = ("ratified", "acceded", "signed", "not-stated", "not-applicable")
SOURCES_NOTE = "SOURCES.md"  # provenance notes beside the raw texts, not a corpus document
DEFAULT_TIMEOUT_S = 30.0

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
_COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")
_REPO_RE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


# ---------------------------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Names:
    """One name in the three languages of the assistant."""

    kk: str
    ru: str
    en: str

    def __getitem__(self, lang: str) -> str:
        if lang not in LANGS:
            raise KeyError(lang)
        return getattr(self, lang)


@dataclass(frozen=True)
class Adoption:
    """When and where an instrument was adopted or signed (public facts)."""

    date: dt.date | None = None
    place: str = ""  # in English, as printed in English citations
    note: str = ""
    place_kk: str = ""  # the place as written in Kazakh and Russian citations (citation_strings.py)
    place_ru: str = ""

    def place_in(self, lang: str) -> str:
        """The place in `lang`, falling back to the English name."""
        return {"kk": self.place_kk, "ru": self.place_ru}.get(lang, "") or self.place


@dataclass(frozen=True)
class TitleForms:
    """The instrument's title in the grammatical forms formal citations need; every field optional.

    `ru`/`kk`: the genitive («ст. 13 Конвенции …», «… конвенциясының 13-бабы»); `en`: the title as cited
    in English when it differs from the official one («Council of Europe Convention …»); `ru_dat`/`kk_dat`:
    the dative, for a protocol to the instrument («Протокол к Договору …», «… шартқа хаттама»).
    """

    kk: str = ""
    ru: str = ""
    en: str = ""
    kk_dat: str = ""
    ru_dat: str = ""


@dataclass(frozen=True)
class KazakhstanStatus:
    """Kazakhstan's participation as far as the corpus texts state it; unknown fields stay empty."""

    status: str = "not-stated"
    act: str = ""
    act_date: dt.date | None = None
    act_number: str = ""
    act_year: int | None = None
    signed: dt.date | None = None
    deposited: dt.date | None = None
    in_force: dt.date | None = None
    in_force_source: str = ""
    reservations: tuple[str, ...] = ()
    central_authority: str = ""
    note: str = ""
    stated_in: tuple[str, ...] = ()


@dataclass(frozen=True)
class Instrument:
    id: str
    kind: str
    title: Names
    short: Names
    adopted: Adoption = field(default_factory=Adoption)
    kazakhstan: KazakhstanStatus = field(default_factory=KazakhstanStatus)
    aliases: tuple[str, ...] = ()
    # bilateral treaties: cities of the other State («счёт в Лондоне»); they point at the treaty only in a
    # question already about the subject, never put one in scope (search/understand.py)
    places: tuple[str, ...] = ()
    # multilateral and regional instruments: the organisation they were made under (un, coe, oas, cis), for
    # questions that name the class («какие конвенции ООН», "which Council of Europe convention")
    body: str = ""
    partner: Names | None = None  # bilateral treaties: the other State, named in kk/ru/en
    title_gen: TitleForms = field(default_factory=TitleForms)  # optional: the title's forms in citations
    origin: str = "bundled"  # "bundled" (corpus/sources.toml) or "user" (added with `assistant add`)

    def in_scope(self, scope: str | None) -> bool:
        """Whether a «which instrument» question asking among `scope` (search/intent.which_scope: an
        organisation, «bilateral» or «conventions»; None for all) asks about this instrument."""
        if scope is None:
            return True
        if scope == "conventions":
            return self.kind not in ("bilateral", "article")
        if scope == "bilateral":
            return self.kind == "bilateral"
        return (
            self.body == scope
        )  # an organisation: «какие конвенции ООН», "which Council of Europe convention"


@dataclass(frozen=True)
class SourceDocument:
    """One corpus file: what it holds and where it came from."""

    instrument: str
    lang: str
    file: str  # POSIX path relative to the corpus folder, e.g. "uncac/kk.part1.md"
    sha256: str
    part: int = 1
    repository: str = ""
    path: str = ""
    commit: str = ""
    last_changed: str = ""
    url: str = ""
    slice: tuple[int, int] | None = None  # [start, end) in the decoded upstream text
    # SOURCES.md says this file, with the other parts of its language, holds the whole treaty text
    # (near-complete copies that leave out signature lines or annexed forms are not complete)
    complete: bool = False
    notes: str = ""
    origin: str = "bundled"  # "user": a document added with `assistant add` (never in sources.toml)
    root: Path | None = None  # folder `file` is relative to, when not the corpus folder (user documents)


@dataclass(frozen=True)
class Manifest:
    path: Path
    hash: str  # sha256 of the manifest file's bytes: an index built from another manifest is stale
    instruments: dict[str, Instrument]
    documents: tuple[SourceDocument, ...]

    def documents_for(self, instrument_id: str, lang: str | None = None) -> tuple[SourceDocument, ...]:
        """The instrument's documents, by language and then in reading order (`part`)."""
        if instrument_id not in self.instruments:
            raise KeyError(instrument_id)
        docs = [
            d for d in self.documents if d.instrument == instrument_id and (lang is None or d.lang == lang)
        ]
        return tuple(sorted(docs, key=lambda d: (LANGS.index(d.lang), d.part)))

    def document(self, file: str) -> SourceDocument:
        for doc in self.documents:
            if doc.file == file:
                return doc
        raise KeyError(file)

    def instrument_of(self, doc: SourceDocument) -> Instrument:
        return self.instruments[doc.instrument]

    def is_complete(self, instrument_id: str, lang: str) -> bool:
        """Whether the corpus holds the instrument's whole text in `lang`: it has files in that
        language, numbered 1..n in reading order, and every one of them is marked complete."""
        docs = self.documents_for(instrument_id, lang)
        return (
            bool(docs)
            and [d.part for d in docs] == list(range(1, len(docs) + 1))
            and all(d.complete for d in docs)
        )


# ------------------------------------------------------------------------------------------ manifest


class _Where:
    """Builds one-line ManifestError messages: file, entry, reason, fix."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def error(self, entry: str, reason: str) -> ManifestError:
        return ManifestError(f"{self.path}: {entry}: {reason}; fix the manifest entry")


def _str(where: _Where, entry: str, table: Mapping[str, Any], key: str, *, required: bool = True) -> str:
    value = table.get(key)
    if value is None:
        if required:
            raise where.error(entry, f"missing '{key}'")
        return ""
    if not isinstance(value, str):
        raise where.error(entry, f"'{key}' must be a string, not {type(value).__name__}")
    if required and not value.strip():
        raise where.error(entry, f"'{key}' is empty")
    return value


def _date(where: _Where, entry: str, table: Mapping[str, Any], key: str) -> dt.date | None:
    value = table.get(key)
    if value is None:
        return None
    # TOML local dates arrive as datetime.date; a datetime or a quoted string is a typo here
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise where.error(entry, f"'{key}' must be a TOML date like 2003-10-31, not {value!r}")
    return value


def _strings(where: _Where, entry: str, table: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise where.error(entry, f"'{key}' must be a list of non-empty strings")
    return tuple(value)


def _known_keys(where: _Where, entry: str, table: Mapping[str, Any], allowed: Iterable[str]) -> None:
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise where.error(
            entry, f"unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})"
        )


def _names(where: _Where, entry: str, table: Mapping[str, Any], key: str) -> Names:
    value = table.get(key)
    if not isinstance(value, dict):
        raise where.error(entry, f"'{key}' must be a table with kk, ru and en")
    _known_keys(where, f"{entry}.{key}", value, LANGS)
    return Names(**{lang: _str(where, f"{entry}.{key}", value, lang) for lang in LANGS})


_INSTRUMENT_KEYS = (
    "kind",
    "title",
    "short",
    "partner",
    "adopted",
    "kazakhstan",
    "aliases",
    "places",
    "body",
    "title_gen",
)
_ADOPTED_KEYS = ("date", "place", "note", "place_kk", "place_ru")
_TITLE_FORM_KEYS = tuple(TitleForms.__dataclass_fields__)
_KZ_KEYS = tuple(KazakhstanStatus.__dataclass_fields__)
_DOCUMENT_KEYS = tuple(f for f in SourceDocument.__dataclass_fields__ if f not in ("origin", "root"))


def _instrument(where: _Where, iid: str, table: Any) -> Instrument:
    entry = f"instruments.{iid}"
    if not _ID_RE.match(iid):
        raise where.error(entry, "instrument id must be lowercase letters, digits and '-'")
    if not isinstance(table, dict):
        raise where.error(entry, "must be a table")
    _known_keys(where, entry, table, _INSTRUMENT_KEYS)
    kind = _str(where, entry, table, "kind")
    if kind not in KINDS:
        raise where.error(entry, f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})")

    adopted_t = table.get("adopted", {})
    if not isinstance(adopted_t, dict):
        raise where.error(entry, "'adopted' must be a table")
    _known_keys(where, f"{entry}.adopted", adopted_t, _ADOPTED_KEYS)
    adopted = Adoption(
        date=_date(where, f"{entry}.adopted", adopted_t, "date"),
        place=_str(where, f"{entry}.adopted", adopted_t, "place", required=False),
        note=_str(where, f"{entry}.adopted", adopted_t, "note", required=False),
        place_kk=_str(where, f"{entry}.adopted", adopted_t, "place_kk", required=False),
        place_ru=_str(where, f"{entry}.adopted", adopted_t, "place_ru", required=False),
    )
    forms_t = table.get("title_gen", {})
    if not isinstance(forms_t, dict):
        raise where.error(entry, "'title_gen' must be a table (kk, ru, en, kk_dat, ru_dat)")
    _known_keys(where, f"{entry}.title_gen", forms_t, _TITLE_FORM_KEYS)
    title_gen = TitleForms(
        **{k: _str(where, f"{entry}.title_gen", forms_t, k, required=False) for k in _TITLE_FORM_KEYS}
    )

    kz_t = table.get("kazakhstan", {})
    if not isinstance(kz_t, dict):
        raise where.error(entry, "'kazakhstan' must be a table")
    kz_entry = f"{entry}.kazakhstan"
    _known_keys(where, kz_entry, kz_t, _KZ_KEYS)
    status = _str(where, kz_entry, kz_t, "status", required=False) or "not-stated"
    if status not in KZ_STATUSES:
        raise where.error(kz_entry, f"unknown status {status!r} (expected one of {', '.join(KZ_STATUSES)})")
    act_year = kz_t.get("act_year")
    if act_year is not None and (not isinstance(act_year, int) or isinstance(act_year, bool)):
        raise where.error(kz_entry, "'act_year' must be an integer")
    kazakhstan = KazakhstanStatus(
        status=status,
        act=_str(where, kz_entry, kz_t, "act", required=False),
        act_date=_date(where, kz_entry, kz_t, "act_date"),
        act_number=_str(where, kz_entry, kz_t, "act_number", required=False),
        act_year=act_year,
        signed=_date(where, kz_entry, kz_t, "signed"),
        deposited=_date(where, kz_entry, kz_t, "deposited"),
        in_force=_date(where, kz_entry, kz_t, "in_force"),
        in_force_source=_str(where, kz_entry, kz_t, "in_force_source", required=False),
        reservations=_strings(where, kz_entry, kz_t, "reservations"),
        central_authority=_str(where, kz_entry, kz_t, "central_authority", required=False),
        note=_str(where, kz_entry, kz_t, "note", required=False),
        stated_in=_strings(where, kz_entry, kz_t, "stated_in"),
    )
    return Instrument(
        id=iid,
        kind=kind,
        title=_names(where, entry, table, "title"),
        short=_names(where, entry, table, "short"),
        partner=_names(where, entry, table, "partner") if "partner" in table else None,
        adopted=adopted,
        kazakhstan=kazakhstan,
        aliases=_strings(where, entry, table, "aliases"),
        places=_strings(where, entry, table, "places"),
        body=_str(where, entry, table, "body", required=False),
        title_gen=title_gen,
    )


def _relative_file(where: _Where, entry: str, value: str) -> str:
    pure = PurePosixPath(value)
    if "\\" in value or pure.is_absolute() or not pure.parts or any(p in ("", ".", "..") for p in pure.parts):
        raise where.error(entry, f"file {value!r} must be a relative POSIX path inside the corpus folder")
    if pure.name == SOURCES_NOTE:
        raise where.error(entry, f"{SOURCES_NOTE} holds provenance notes and is not a corpus document")
    return str(pure)


def _document(where: _Where, index: int, table: Any, instruments: Mapping[str, Instrument]) -> SourceDocument:
    entry = f"documents[{index}]"
    if not isinstance(table, dict):
        raise where.error(entry, "must be a table")
    file = _str(where, entry, table, "file")
    entry = f"documents[{index}] (file {file!r})"
    _known_keys(where, entry, table, _DOCUMENT_KEYS)
    file = _relative_file(where, entry, file)

    instrument = _str(where, entry, table, "instrument")
    if instrument not in instruments:
        raise where.error(
            entry, f"unknown instrument {instrument!r}; add [instruments.{instrument}] or fix the id"
        )
    lang = _str(where, entry, table, "lang")
    if lang not in LANGS:
        raise where.error(entry, f"unknown lang {lang!r} (expected kk, ru or en)")
    sha = _str(where, entry, table, "sha256")
    if not _SHA_RE.match(sha):
        raise where.error(entry, f"bad sha256 {sha!r} (expected 64 lowercase hex digits)")
    part = table.get("part", 1)
    if not isinstance(part, int) or isinstance(part, bool) or part < 1:
        raise where.error(entry, f"'part' must be an integer >= 1, not {part!r}")

    repository = _str(where, entry, table, "repository", required=False)
    if repository and not _REPO_RE.match(repository):
        raise where.error(entry, f"repository {repository!r} must look like owner/name")
    commit = _str(where, entry, table, "commit", required=False)
    last_changed = _str(where, entry, table, "last_changed", required=False)
    for key, value in (("commit", commit), ("last_changed", last_changed)):
        if value and not _COMMIT_RE.match(value):
            raise where.error(entry, f"'{key}' {value!r} must be a 40-digit lowercase hex commit id")
    url = _str(where, entry, table, "url", required=False)
    if url and urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise where.error(entry, f"url {url!r} must be http(s)")

    cut = table.get("slice")
    slice_: tuple[int, int] | None = None
    if cut is not None:
        ok = (
            isinstance(cut, list)
            and len(cut) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in cut)
            and 0 <= cut[0] < cut[1]
        )
        if not ok:
            raise where.error(entry, f"'slice' must be [start, end] with 0 <= start < end, not {cut!r}")
        slice_ = (cut[0], cut[1])

    complete = table.get("complete", False)
    if not isinstance(complete, bool):
        raise where.error(entry, f"'complete' must be true or false, not {complete!r}")

    return SourceDocument(
        instrument=instrument,
        lang=lang,
        file=file,
        sha256=sha,
        part=part,
        repository=repository,
        path=_str(where, entry, table, "path", required=False),
        commit=commit,
        last_changed=last_changed,
        url=url,
        slice=slice_,
        complete=complete,
        notes=_str(where, entry, table, "notes", required=False),
    )


def load_manifest(path: Path | str) -> Manifest:
    """Parse and check `corpus/sources.toml`; any schema problem is a ManifestError naming the entry."""
    path = Path(path)
    where = _Where(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ManifestError(
            f"corpus manifest {path} not found; run from the repository root or set ASSISTANT_MANIFEST"
        ) from None
    except OSError as exc:
        raise ManifestError(
            f"cannot read corpus manifest {path}: {exc.strerror}; check the file's permissions"
        ) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise where.error("file", "not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise where.error("file", f"invalid TOML ({exc})") from None

    _known_keys(where, "top level", data, ("version", "instruments", "documents"))
    if data.get("version", 1) != 1:
        raise where.error("version", f"unsupported manifest version {data.get('version')!r} (expected 1)")
    inst_tables = data.get("instruments")
    if not isinstance(inst_tables, dict) or not inst_tables:
        raise where.error("instruments", "no [instruments.<id>] tables")
    instruments = {iid: _instrument(where, iid, table) for iid, table in inst_tables.items()}

    # an alias is looked up to find ONE instrument; the same alias on two would make that a coin toss
    owner: dict[str, str] = {}
    for inst in instruments.values():
        for alias in (*inst.aliases, *inst.places):
            key = " ".join(alias.casefold().split())
            other = owner.setdefault(key, inst.id)
            if other != inst.id:
                raise where.error(
                    f"instruments.{inst.id}", f"alias or place {alias!r} also names instrument {other!r}"
                )

    doc_tables = data.get("documents")
    if not isinstance(doc_tables, list) or not doc_tables:
        raise where.error("documents", "no [[documents]] entries")
    documents = tuple(_document(where, i, t, instruments) for i, t in enumerate(doc_tables))

    seen_files: dict[str, int] = {}
    seen_parts: dict[tuple[str, str, int], str] = {}
    for i, doc in enumerate(documents):
        entry = f"documents[{i}] (file {doc.file!r})"
        folded = doc.file.casefold()  # two names differing only in case collide on macOS/Windows
        if folded in seen_files:
            raise where.error(entry, f"duplicate file (also documents[{seen_files[folded]}])")
        seen_files[folded] = i
        key = (doc.instrument, doc.lang, doc.part)
        if key in seen_parts:
            raise where.error(
                entry, f"part {doc.part} of {doc.instrument}/{doc.lang} is also {seen_parts[key]!r}"
            )
        seen_parts[key] = doc.file

    return Manifest(
        path=path,
        hash=hashlib.sha256(raw).hexdigest(),
        instruments=instruments,
        documents=documents,
    )


# ------------------------------------------------------------------------------------------- reading


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _target(corpus_dir: Path, doc: SourceDocument) -> Path:
    return Path(doc.root or corpus_dir).joinpath(*PurePosixPath(doc.file).parts)


def document_path(corpus_dir: Path | str, doc: SourceDocument) -> Path:
    """Where a document's text is: the corpus folder, or for a user document its own folder."""
    return _target(Path(corpus_dir), doc)


def read_document(corpus_dir: Path | str, doc: SourceDocument) -> str:
    """The text of one fetched document, refused unless it is the exact file the manifest names."""
    path = _target(Path(corpus_dir), doc)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SourceMissingError(
            f"corpus file {doc.file} is missing from {corpus_dir}; run `assistant corpus fetch`"
        ) from None
    except OSError as exc:
        raise DocumentError(
            f"cannot read corpus file {path}: {exc.strerror}; check permissions or re-run `assistant corpus fetch`"
        ) from None
    if b"\x00" in data:
        raise DocumentError(
            f"corpus file {path} is binary or not UTF-8 (NUL bytes); re-run `assistant corpus fetch`"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"corpus file {path} is binary or not UTF-8 (bad byte at offset {exc.start}); re-run `assistant corpus fetch`"
        ) from None
    if not text.strip():
        raise DocumentError(f"corpus file {path} is empty; re-run `assistant corpus fetch`")
    actual = hashlib.sha256(data).hexdigest()
    if actual != doc.sha256:
        raise ChecksumError(
            f"corpus file {path} has sha256 {actual}, manifest says {doc.sha256}: edited after fetch? "
            "re-run `assistant corpus fetch`"
        )
    return text


def verify(manifest: Manifest, corpus_dir: Path | str) -> list[str]:
    """One line per manifest file that is missing or differs from its sha256 (empty list: all good)."""
    problems: list[str] = []
    for doc in manifest.documents:
        path = _target(Path(corpus_dir), doc)
        if not path.is_file():
            problems.append(f"{doc.file}: missing (run `assistant corpus fetch`)")
            continue
        try:
            actual = file_sha256(path)
        except OSError as exc:
            problems.append(f"{doc.file}: unreadable ({exc.strerror})")
            continue
        if actual != doc.sha256:
            problems.append(
                f"{doc.file}: sha256 {actual[:12]}… differs from manifest {doc.sha256[:12]}… (re-run `assistant corpus fetch`)"
            )
    return problems


def unlisted_files(manifest: Manifest, raw_dir: Path | str) -> list[str]:
    """Files under `raw_dir` (POSIX, relative) that no manifest entry names; SOURCES.md is not a text."""
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise SourceMissingError(f"corpus folder {raw_dir} does not exist; check the path")
    listed = {doc.file for doc in manifest.documents}
    found = (p.relative_to(raw_dir).as_posix() for p in raw_dir.rglob("*") if p.is_file())
    return sorted(f for f in found if f not in listed and f != SOURCES_NOTE)


# ------------------------------------------------------------------------------------------- fetching


@dataclass(frozen=True)
class Refusal:
    file: str
    reason: str  # one line, says what to do
    kind: Literal["checksum", "missing", "error"] = "error"


@dataclass(frozen=True)
class FetchReport:
    dest: Path
    source: str  # the folder or base URL used, or "upstream URLs"
    copied: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()  # already present with the right sha256
    refused: tuple[Refusal, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.refused

    def summary(self) -> str:
        text = f"{len(self.copied)} fetched, {len(self.skipped)} already present, {len(self.refused)} refused → {self.dest}"
        return text + f" (from {self.source})"


class _Missing(Exception):
    pass


def _is_url(source: str | Path) -> bool:
    return isinstance(source, str) and urllib.parse.urlsplit(source).scheme in ("http", "https")


def _http_get(url: str, timeout: float) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "asset-recovery-assistant corpus fetch"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) checked by caller
            return response.read()
    except urllib.error.HTTPError as exc:
        if exc.code in (404, 410):
            raise _Missing(f"{url} answered {exc.code} (not found)") from None
        raise CorpusError(f"{url} answered HTTP {exc.code}") from None
    except urllib.error.URLError as exc:
        raise CorpusError(f"cannot reach {url} ({exc.reason})") from None
    except TimeoutError:
        raise CorpusError(f"{url} timed out after {timeout:g} s") from None


def _resolve_source(source: str | Path | None, settings: Settings | None) -> tuple[str, Path | str | None]:
    """('folder', Path) | ('base', url) | ('upstream', None)."""
    if source is None:
        if settings is None:
            from assistant.core.settings import load_settings

            settings = load_settings()
        shared = settings.path(settings.shared_corpus)
        return ("folder", shared) if shared.is_dir() else ("upstream", None)
    if _is_url(source):
        return "base", str(source).rstrip("/")
    folder = Path(source).expanduser()
    if not folder.is_dir():
        raise SourceMissingError(f"corpus source folder {folder} does not exist; pass --from DIR_OR_URL")
    return "folder", folder


def _progress(items: list[SourceDocument], enabled: bool) -> Iterator[SourceDocument]:
    if not enabled:
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, desc="corpus", unit="file", file=sys.stderr)


def fetch(
    manifest: Manifest,
    dest: Path | str,
    source: str | Path | None = None,
    *,
    progress: bool | None = None,
    settings: Settings | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> FetchReport:
    """Put every manifest file, verified, into `dest`.

    `source`: a folder, an http(s) base URL (`<base>/<file>`), or None: the settings' `shared_corpus`
    folder when it exists, else each document's upstream `url` (cut to its `slice`). Files already in
    `dest` with the right hash are skipped. Every file is tried; a file whose sha256 differs is not
    written. If anything was refused, raises ChecksumError (any hash mismatch) or SourceMissingError,
    with the `FetchReport` attached as `.report`.
    """
    dest = Path(dest)
    mode, where = _resolve_source(source, settings)
    shown = str(where) if where is not None else "upstream URLs"
    show_bar = sys.stderr.isatty() if progress is None else progress
    upstream_cache: dict[str, str] = {}  # one upstream file can feed several excerpts

    def obtain(doc: SourceDocument) -> bytes:
        if mode == "folder":
            assert isinstance(where, Path)
            path = _target(where, doc)
            try:
                return path.read_bytes()
            except FileNotFoundError:
                raise _Missing(f"not in source folder {where}") from None
            except OSError as exc:
                raise CorpusError(f"cannot read {path} ({exc.strerror})") from None
        if mode == "base":
            return _http_get(f"{where}/{urllib.parse.quote(doc.file)}", timeout)
        if not doc.url:
            raise _Missing("no upstream url in the manifest; fetch it from a folder with --from DIR")
        if doc.slice is None:
            return _http_get(doc.url, timeout)
        if doc.url not in upstream_cache:
            try:
                upstream_cache[doc.url] = _http_get(doc.url, timeout).decode("utf-8")
            except UnicodeDecodeError:
                raise CorpusError(f"{doc.url} is not UTF-8 text") from None
        text = upstream_cache[doc.url]
        start, end = doc.slice
        if end > len(text):
            raise CorpusError(f"{doc.url} has {len(text)} characters, slice needs {end}")
        return text[start:end].encode("utf-8")

    copied: list[str] = []
    skipped: list[str] = []
    refused: list[Refusal] = []
    for doc in _progress(list(manifest.documents), show_bar):
        target = _target(dest, doc)
        if target.is_file() and file_sha256(target) == doc.sha256:
            skipped.append(doc.file)
            continue
        try:
            data = obtain(doc)
        except _Missing as exc:
            refused.append(Refusal(doc.file, str(exc), "missing"))
            continue
        except CorpusError as exc:
            refused.append(Refusal(doc.file, str(exc), "error"))
            continue
        actual = hashlib.sha256(data).hexdigest()
        if actual != doc.sha256:
            reason = f"sha256 {actual} but the manifest expects {doc.sha256}"
            refused.append(Refusal(doc.file, reason, "checksum"))
            continue
        write_atomic(target, data)
        copied.append(doc.file)

    report = FetchReport(
        dest=dest, source=shown, copied=tuple(copied), skipped=tuple(skipped), refused=tuple(refused)
    )
    if refused:
        raise _fetch_error(report)
    return report


def _fetch_error(report: FetchReport) -> CorpusError:
    details = "; ".join(f"{r.file}: {r.reason}" for r in report.refused)
    landed = len(report.copied) + len(report.skipped)
    head = f"{len(report.refused)} corpus file(s) refused from {report.source} ({landed} others in place in {report.dest}): {details}"
    exc: CorpusError
    if any(r.kind == "checksum" for r in report.refused):
        exc = ChecksumError(
            f"{head}; the source copy differs from corpus/sources.toml: restore the original file(s) "
            "or fetch from another source with --from DIR_OR_URL (nothing was written for them)"
        )
    elif all(r.kind == "missing" for r in report.refused):
        exc = SourceMissingError(f"{head}; put the file(s) in the source or pass --from DIR_OR_URL")
    else:
        exc = CorpusError(f"{head}; check the source and retry")
    exc.report = report  # type: ignore[attr-defined] - the CLI prints what did land
    return exc
