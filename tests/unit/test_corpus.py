"""fetch / read_document / verify: from a folder, over real HTTP on 127.0.0.1, and from upstream URLs with
slices; fixtures are short texts written here, plus a tmp copy of the real corpus for the HTTP test."""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import socket
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from assistant.core.errors import ChecksumError, CorpusError, DocumentError, SourceMissingError
from assistant.core.settings import Settings
from assistant.corpus.manifest import (
    FetchReport,
    Manifest,
    SourceDocument,
    fetch,
    load_manifest,
    read_document,
    verify,
)

REPO = Path(__file__).resolve().parents[2]
RAW = REPO.parent / "shared" / "corpus-raw"

TEXTS = {
    "alpha/en.md": "# Alpha\n\nArticle 1. Parties shall return assets.\n",
    "alpha/ru.part1.md": "# Альфа\n\nСтатья 1. Стороны возвращают активы.\n",
    "alpha/ru.md": "Статья 2. Конфискация.\n",
    "beta/kk.md": "# Бета\n\n1-бап. Тараптар активтерді қайтарады.\n",
}


def sha(data: str | bytes) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def manifest_text(texts: dict[str, str], extra: dict[str, str] | None = None) -> str:
    out = []
    for iid in sorted({f.split("/")[0] for f in texts}):
        out.append(
            f'[instruments.{iid}]\nkind = "multilateral"\n'
            f'title = {{ kk = "{iid}", ru = "{iid}", en = "{iid}" }}\n'
            f'short = {{ kk = "{iid}", ru = "{iid}", en = "{iid}" }}\n'
        )
    parts: dict[tuple[str, str], int] = {}
    for file, text in texts.items():
        iid, name = file.split("/")
        lang = name[:2]
        parts[(iid, lang)] = parts.get((iid, lang), 0) + 1
        out.append(
            f'[[documents]]\ninstrument = "{iid}"\nlang = "{lang}"\nfile = "{file}"\n'
            f'part = {parts[(iid, lang)]}\nsha256 = "{sha(text)}"\n' + (extra or {}).get(file, "")
        )
    return "\n".join(out)


@pytest.fixture
def small(tmp_path: Path) -> tuple[Manifest, Path]:
    """A manifest over TEXTS and a source folder holding them."""
    src = tmp_path / "src"
    for file, text in TEXTS.items():
        (src / file).parent.mkdir(parents=True, exist_ok=True)
        (src / file).write_text(text, encoding="utf-8")
    path = tmp_path / "sources.toml"
    path.write_text(manifest_text(TEXTS), encoding="utf-8")
    return load_manifest(path), src


@pytest.fixture
def serve() -> Iterator[functools.partial[str]]:
    """Start a ThreadingHTTPServer on 127.0.0.1:0 over a folder; gives its base URL."""
    servers: list[ThreadingHTTPServer] = []

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep pytest output clean
            pass

    def start(root: Path) -> str:
        server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start  # type: ignore[misc]
    for server in servers:
        server.shutdown()
        server.server_close()


# ------------------------------------------------------------------------------------------- folder


def test_fetch_from_folder_copies_then_skips(small: tuple[Manifest, Path], tmp_path: Path) -> None:
    manifest, src = small
    dest = tmp_path / "corpus" / "files"
    report = fetch(manifest, dest, src, progress=False)
    assert isinstance(report, FetchReport)
    assert sorted(report.copied) == sorted(TEXTS) and report.skipped == () and report.refused == ()
    umask = os.umask(0)
    os.umask(umask)
    for file, text in TEXTS.items():
        assert (dest / file).read_text(encoding="utf-8") == text
        # readable by whoever runs the server, as a plain copy would be (not mkstemp's 0600)
        assert (dest / file).stat().st_mode & 0o777 == 0o666 & ~umask
    assert not [p for p in dest.rglob("*") if p.name.startswith(".")], "temp files left behind"
    assert verify(manifest, dest) == []

    again = fetch(manifest, dest, src, progress=False)
    assert again.copied == () and sorted(again.skipped) == sorted(TEXTS)


def test_fetch_replaces_a_damaged_local_copy(small: tuple[Manifest, Path], tmp_path: Path) -> None:
    manifest, src = small
    dest = tmp_path / "dest"
    fetch(manifest, dest, src, progress=False)
    (dest / "beta/kk.md").write_text("edited", encoding="utf-8")
    report = fetch(manifest, dest, src, progress=False)
    assert report.copied == ("beta/kk.md",)
    assert (dest / "beta/kk.md").read_text(encoding="utf-8") == TEXTS["beta/kk.md"]


def test_fetch_refuses_tampered_source_file_and_keeps_going(
    small: tuple[Manifest, Path], tmp_path: Path
) -> None:
    manifest, src = small
    (src / "alpha/ru.md").write_text("Статья 2. Подменено.\n", encoding="utf-8")
    dest = tmp_path / "dest"
    with pytest.raises(ChecksumError) as info:
        fetch(manifest, dest, src, progress=False)
    message = str(info.value)
    assert "alpha/ru.md" in message and sha(TEXTS["alpha/ru.md"]) in message
    assert sha("Статья 2. Подменено.\n") in message and "--from" in message
    assert not (dest / "alpha/ru.md").exists()
    report = info.value.report  # type: ignore[attr-defined]
    assert sorted(report.copied) == sorted(set(TEXTS) - {"alpha/ru.md"})
    assert [r.file for r in report.refused] == ["alpha/ru.md"]


def test_fetch_reports_every_missing_file(small: tuple[Manifest, Path], tmp_path: Path) -> None:
    manifest, src = small
    (src / "alpha/en.md").unlink()
    (src / "beta/kk.md").unlink()
    with pytest.raises(SourceMissingError) as info:
        fetch(manifest, tmp_path / "dest", src, progress=False)
    assert "alpha/en.md" in str(info.value) and "beta/kk.md" in str(info.value)
    assert "\n" not in str(info.value)


def test_fetch_from_missing_folder(small: tuple[Manifest, Path], tmp_path: Path) -> None:
    manifest, _ = small
    with pytest.raises(SourceMissingError, match="does not exist"):
        fetch(manifest, tmp_path / "dest", tmp_path / "nowhere", progress=False)


def test_fetch_without_source_uses_shared_corpus_setting(
    small: tuple[Manifest, Path], tmp_path: Path
) -> None:
    manifest, src = small
    settings = Settings(home=tmp_path, shared_corpus=Path(src.name))
    report = fetch(manifest, tmp_path / "dest", None, progress=False, settings=settings)
    assert sorted(report.copied) == sorted(TEXTS)
    assert report.source == str(src)


# --------------------------------------------------------------------------------------------- HTTP


@pytest.mark.skipif(not RAW.is_dir(), reason=f"shared corpus folder {RAW} not present")
def test_fetch_real_corpus_over_http_refuses_tampered_file(tmp_path: Path, serve) -> None:
    manifest = load_manifest(REPO / "corpus" / "sources.toml")
    mirror = tmp_path / "mirror"
    shutil.copytree(RAW, mirror)
    victim = manifest.documents[3].file
    data = bytearray((mirror / victim).read_bytes())
    data[-2:] = b"!\n"  # one changed character is enough
    (mirror / victim).write_bytes(bytes(data))

    dest = tmp_path / "files"
    with pytest.raises(ChecksumError) as info:
        fetch(manifest, dest, serve(mirror), progress=False)
    message = str(info.value)
    assert victim in message and manifest.document(victim).sha256 in message and sha(bytes(data)) in message
    assert not (dest / victim).exists()
    report = info.value.report  # type: ignore[attr-defined]
    assert len(report.copied) == len(manifest.documents) - 1
    assert verify(manifest, dest) == [f"{victim}: missing (run `assistant corpus fetch`)"]
    for doc in manifest.documents:
        if doc.file != victim:
            assert (dest / doc.file).read_bytes() == (RAW / doc.file).read_bytes()


def test_fetch_over_http_404_is_source_missing(small: tuple[Manifest, Path], tmp_path: Path, serve) -> None:
    manifest, src = small
    (src / "beta/kk.md").unlink()
    with pytest.raises(SourceMissingError, match=r"beta/kk\.md.*404"):
        fetch(manifest, tmp_path / "dest", serve(src) + "/", progress=False)


def test_fetch_from_upstream_urls_applies_slices(tmp_path: Path, serve) -> None:
    """With no folder and no base URL, each document comes from its own url, cut to its slice."""
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    whole = "Кіріспе. " + TEXTS["alpha/ru.part1.md"] + TEXTS["alpha/ru.md"] + " Қорытынды."
    (upstream / "whole.md").write_text(whole, encoding="utf-8")
    (upstream / "beta.md").write_text(TEXTS["beta/kk.md"], encoding="utf-8")
    base = serve(upstream)
    start1 = whole.index(TEXTS["alpha/ru.part1.md"])
    start2 = start1 + len(TEXTS["alpha/ru.part1.md"])
    end2 = start2 + len(TEXTS["alpha/ru.md"])
    texts = {k: TEXTS[k] for k in ("alpha/ru.part1.md", "alpha/ru.md", "beta/kk.md")}
    extra = {
        "alpha/ru.part1.md": f'url = "{base}/whole.md"\nslice = [{start1}, {start2}]\n',
        "alpha/ru.md": f'url = "{base}/whole.md"\nslice = [{start2}, {end2}]\n',
        "beta/kk.md": f'url = "{base}/beta.md"\n',
    }
    path = tmp_path / "sources.toml"
    path.write_text(manifest_text(texts, extra), encoding="utf-8")
    manifest = load_manifest(path)
    settings = Settings(home=tmp_path, shared_corpus=Path("no-such-folder"))
    dest = tmp_path / "dest"
    report = fetch(manifest, dest, None, progress=False, settings=settings)
    assert sorted(report.copied) == sorted(texts)
    for file, text in texts.items():
        assert read_document(dest, manifest.document(file)) == text


def test_unreachable_server_is_reported_for_every_file(small: tuple[Manifest, Path], tmp_path: Path) -> None:
    manifest, _ = small
    with socket.socket() as probe:  # a port that was just free: nothing listens there now
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    with pytest.raises(CorpusError, match="cannot reach") as info:
        fetch(manifest, tmp_path / "dest", f"http://127.0.0.1:{dead}", progress=False, timeout=2)
    assert all(f in str(info.value) for f in TEXTS)
    assert not (tmp_path / "dest").exists() or not any((tmp_path / "dest").rglob("*.md"))


# ------------------------------------------------------------------------------------- read_document


def fetched(small: tuple[Manifest, Path], tmp_path: Path) -> tuple[Path, SourceDocument]:
    manifest, src = small
    dest = tmp_path / "dest"
    fetch(manifest, dest, src, progress=False)
    return dest, manifest.document("alpha/en.md")


def test_read_document_returns_the_text(small: tuple[Manifest, Path], tmp_path: Path) -> None:
    dest, doc = fetched(small, tmp_path)
    assert read_document(dest, doc) == TEXTS["alpha/en.md"]


@pytest.mark.parametrize(
    ("content", "error", "expected"),
    [
        pytest.param(None, SourceMissingError, "assistant corpus fetch", id="missing"),
        pytest.param(b"", DocumentError, "empty", id="empty"),
        pytest.param(b"  \n\t\n", DocumentError, "empty", id="whitespace"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00", DocumentError, "binary or not UTF-8", id="binary-nul"),
        pytest.param(b"Article 1.\x00 Parties.\n", DocumentError, "binary or not UTF-8", id="utf8-with-nul"),
        pytest.param("Статья".encode("cp1251"), DocumentError, "binary or not UTF-8", id="not-utf8"),
        pytest.param(
            b"# Alpha\n\nArticle 1. Parties shall keep assets.\n",
            ChecksumError,
            "edited after fetch",
            id="tampered",
        ),
    ],
)
def test_read_document_errors(
    small: tuple[Manifest, Path], tmp_path: Path, content: bytes | None, error: type[Exception], expected: str
) -> None:
    dest, doc = fetched(small, tmp_path)
    target = dest / doc.file
    if content is None:
        target.unlink()
    else:
        target.write_bytes(content)
    with pytest.raises(error, match=expected) as info:
        read_document(dest, doc)
    assert doc.file in str(info.value) and "\n" not in str(info.value)


def test_verify_lists_missing_and_changed(small: tuple[Manifest, Path], tmp_path: Path) -> None:
    manifest, src = small
    dest = tmp_path / "dest"
    fetch(manifest, dest, src, progress=False)
    (dest / "alpha/en.md").unlink()
    (dest / "beta/kk.md").write_text("changed", encoding="utf-8")
    problems = verify(manifest, dest)
    assert len(problems) == 2
    assert problems[0].startswith("alpha/en.md: missing") and problems[1].startswith("beta/kk.md: sha256")
