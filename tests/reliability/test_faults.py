"""Faults: a build killed mid-way, a damaged or missing index, a corpus edited after indexing, and a
feedback writer killed mid-write.

What a user must see in each case: the previous index still answering, or one line `error: ...` that
names the command that fixes it, with the index's exit code (5) or the corpus's (3), and no traceback.

Related, not repeated here: tests/pipeline/test_index.py::test_kill_9_during_build_leaves_previous_index_serving
(kill -9 of `assistant index`, then retrieval), tests/pipeline/test_index.py::test_index_built_with_another_model_is_refused,
tests/pipeline/test_cli_errors.py (missing index for `search`, bad corpus files at `index`),
tests/unit/test_feedback.py::test_concurrent_appends_give_one_complete_line_per_event (8 threads x 500 events).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import ROOT, free_port
from tests.reliability.support import assert_no_traceback

QUESTION = "Какие основания для отказа в правовой помощи?"
STRAS = ["strasbourg1990/ru.part1.md", "strasbourg1990/ru.md"]
REBUILD = "`assistant index --rebuild`"
BUILD = "`assistant index`"


def _cli(args: list[str], *, home: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "assistant", *args],
        cwd=home,
        env={**os.environ, "ASSISTANT_HOME": str(home), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run_side_by_side(
    runs: dict[str, subprocess.Popen], timeout: float = 240
) -> dict[str, tuple[int, str, str]]:
    """Wait for CLI processes started together (each loads the model: running them at once saves time)."""
    out = {}
    for name, proc in runs.items():
        stdout, stderr = proc.communicate(timeout=timeout)
        out[name] = (proc.returncode, stdout, stderr)
    return out


def _one_line_error(result: tuple[int, str, str], code: int, *needles: str) -> None:
    returncode, stdout, stderr = result
    assert returncode == code, (returncode, stderr[-2000:])
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr[-2000:]
    assert_no_traceback(stdout, stderr)
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


# ------------------------------------------------------------------------------ kill -9 during a build


@pytest.mark.pipeline
@pytest.mark.parametrize("phase", ["embedding", "vector-store"])
def test_kill_9_during_index_leaves_the_previous_index_answering(small_home, embeddings, phase) -> None:
    from assistant.core.settings import load_settings
    from assistant.index.build import build_index
    from assistant.pipeline import Assistant

    home = small_home(STRAS)
    settings = load_settings(home=home)
    build_index(settings, embeddings, progress=False)
    before_answer = Assistant(settings, embeddings=embeddings).ask(QUESTION)
    assert not before_answer.refused and before_answer.citations
    current = (home / "index" / "current").resolve()

    proc = _cli(["index", "--rebuild"], home=home)
    deadline = time.monotonic() + 120
    new: list[Path] = []
    while time.monotonic() < deadline and proc.poll() is None:
        new = [p for p in (home / "index").glob("gen-*") if p.resolve() != current]
        # embedding starts right after the generation folder exists; Chroma is written after it
        if new and (phase == "embedding" or (new[0] / "chroma").exists()):
            break
        time.sleep(0.01)
    if phase == "embedding":
        time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert new, "the build never started a new generation"
    assert not (new[0] / "meta.json").exists(), "the build finished before it was killed"

    assert (home / "index" / "current").resolve() == current
    after = Assistant(settings, embeddings=embeddings).ask(QUESTION)
    assert not after.refused and after.answer == before_answer.answer
    assert [c.id for c in after.citations] == [c.id for c in before_answer.citations]
    # the next build removes the half-built generation
    build_index(settings, embeddings, progress=False)
    assert [p.name for p in (home / "index").glob("gen-*")] == [current.name]


# ------------------------------------------------------------------------------ damaged or missing index


def _truncate(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def _garble(path: Path, at: float = 0.5, size: int = 64) -> None:
    data = bytearray(path.read_bytes())
    start = int(len(data) * at)
    data[start : start + size] = bytes((b ^ 0xA5) for b in data[start : start + size])
    path.write_bytes(bytes(data))


def _each(pattern: str, damage: Callable[[Path], None]) -> Callable[[Path], None]:
    def apply(gen: Path) -> None:
        found = sorted(gen.glob(pattern))
        assert found, pattern
        for path in found:
            damage(path)

    return apply


def _rmtree(path: Path) -> None:
    shutil.rmtree(path) if path.is_dir() else path.unlink()


# (damage to the current generation, the command the message must name)
DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "meta-truncated": (lambda g: _truncate(g / "meta.json"), REBUILD),
    "meta-garbled": (lambda g: (g / "meta.json").write_text("{not json", encoding="utf-8"), REBUILD),
    "meta-wrong-shape": (lambda g: (g / "meta.json").write_text('{"schema": 2}', encoding="utf-8"), REBUILD),
    "meta-deleted": (lambda g: (g / "meta.json").unlink(), BUILD),
    "provisions-truncated-mid-line": (lambda g: _truncate(g / "provisions.jsonl", 0.5), REBUILD),
    "provisions-cut-at-a-line": (
        lambda g: (g / "provisions.jsonl").write_text(
            "".join((g / "provisions.jsonl").read_text(encoding="utf-8").splitlines(True)[:100]),
            encoding="utf-8",
        ),
        REBUILD,
    ),
    "provisions-garbled": (lambda g: _garble(g / "provisions.jsonl"), REBUILD),
    "provisions-empty": (lambda g: (g / "provisions.jsonl").write_bytes(b""), REBUILD),
    "provisions-deleted": (lambda g: (g / "provisions.jsonl").unlink(), REBUILD),
    "units-truncated": (lambda g: _truncate(g / "units.json"), REBUILD),
    "units-deleted": (lambda g: (g / "units.json").unlink(), REBUILD),
    "vectors-truncated": (lambda g: _truncate(g / "vectors.npy"), REBUILD),
    "bm25-json-truncated": (lambda g: _truncate(g / "bm25" / "bm25.json"), REBUILD),
    "bm25-npz-garbled": (lambda g: _garble(g / "bm25" / "bm25.npz"), REBUILD),
    "bm25-npz-truncated": (lambda g: _truncate(g / "bm25" / "bm25.npz"), REBUILD),
    "bm25-deleted": (lambda g: _rmtree(g / "bm25"), REBUILD),
    "chroma-sqlite-truncated": (lambda g: _truncate(g / "chroma" / "chroma.sqlite3"), REBUILD),
    "chroma-sqlite-header-garbled": (lambda g: _garble(g / "chroma" / "chroma.sqlite3", at=0.0), REBUILD),
    "chroma-sqlite-empty": (lambda g: (g / "chroma" / "chroma.sqlite3").write_bytes(b""), REBUILD),
    "chroma-deleted": (lambda g: _rmtree(g / "chroma"), REBUILD),
    "hnsw-zeroed": (
        _each("chroma/*/data_level0.bin", lambda p: p.write_bytes(bytes(p.stat().st_size))),
        REBUILD,
    ),
    "hnsw-deleted": (_each("chroma/*-*-*-*-*", _rmtree), REBUILD),
    "hnsw-metadata-garbled": (_each("chroma/*/index_metadata.pickle", _garble), REBUILD),
    "generation-deleted": (lambda g: shutil.rmtree(g), BUILD),
}


@pytest.fixture
def index_copy(built_index, tmp_path) -> Callable[[], tuple[Path, Path]]:
    """A private copy of the project's current index generation: (index dir, generation)."""

    def make() -> tuple[Path, Path]:
        gen = (built_index.path(built_index.index_dir) / "current").resolve()
        index_dir = tmp_path / "index"
        shutil.copytree(gen, index_dir / gen.name)
        (index_dir / "current").symlink_to(gen.name)
        return index_dir, index_dir / gen.name

    return make


@pytest.mark.pipeline
@pytest.mark.parametrize("case", list(DAMAGE))
def test_damaged_index_gives_one_clear_error(built_index, embeddings, index_copy, case) -> None:
    from assistant.core.errors import IndexError_
    from assistant.pipeline import Assistant
    from tests.conftest import project_settings

    index_dir, gen = index_copy()
    damage, command = DAMAGE[case]
    damage(gen)
    assistant = Assistant(project_settings(index_dir=index_dir), embeddings=embeddings)
    with pytest.raises(IndexError_) as err:
        assistant.ask(QUESTION)
    message = err.value.message
    assert err.value.exit_code == 5
    assert "\n" not in message and command in message, message
    assert_no_traceback(message)


@pytest.mark.pipeline
def test_index_without_checksums_gets_them_at_the_next_build(hostile_home, embeddings, tmp_path) -> None:
    """An index built before checksums existed: `assistant index` adds them without re-embedding,
    and `assistant index` after damage rebuilds instead of calling the damaged index up to date."""
    from assistant.core.settings import load_settings
    from assistant.index.build import build_index
    from assistant.index.generation import read_meta

    home = tmp_path / "home"
    shutil.copytree(hostile_home, home, symlinks=True)
    gen = (home / "index" / "current").resolve()
    meta = json.loads((gen / "meta.json").read_text(encoding="utf-8"))
    meta.pop("files", None)
    (gen / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    settings = load_settings(home=home)
    report = build_index(settings, embeddings, progress=False)
    assert report.up_to_date and report.embedded == 0
    files = read_meta(settings).files
    assert {"provisions.jsonl", "units.json", "vectors.npy", "bm25/bm25.json", "bm25/bm25.npz"} <= set(files)
    # Chroma's graph (a crash if damaged) is checked, its database (rewritten on every open) is not
    assert any(f.startswith("chroma/") and f.endswith("/data_level0.bin") for f in files)
    assert not any(f.endswith(("chroma.sqlite3", "length.bin")) for f in files)

    _garble(gen / "bm25" / "bm25.json")
    report = build_index(settings, embeddings, progress=False)
    assert not report.up_to_date and report.embedded == report.units  # nothing reused from damage
    assert (home / "index" / "current").resolve() != gen


@pytest.mark.pipeline
def test_missing_index_gives_one_clear_error(built_index, embeddings, tmp_path) -> None:
    from assistant.core.errors import IndexMissingError
    from assistant.pipeline import Assistant
    from tests.conftest import project_settings

    for index_dir in (tmp_path / "never-built", tmp_path / "empty"):
        if index_dir.name == "empty":
            index_dir.mkdir()
        assistant = Assistant(project_settings(index_dir=index_dir), embeddings=embeddings)
        with pytest.raises(IndexMissingError, match=r"no index in .*run `assistant index`"):
            assistant.ask(QUESTION)


@pytest.mark.pipeline
@pytest.mark.parametrize("change", ["analyzer", "manifest"])
def test_index_out_of_date_is_refused_and_brought_up_to_date_without_embedding(
    hostile_home, embeddings, tmp_path, change
) -> None:
    """An index built by an older text analyzer, or before the manifest gained a document, is not
    served (one line naming `assistant index`); `assistant index` then rebuilds it reusing the vectors."""
    from assistant.core.errors import IndexMismatchError
    from assistant.core.settings import load_settings
    from assistant.index.build import build_index
    from assistant.index.open import open_index

    home = tmp_path / "home"
    shutil.copytree(hostile_home, home, symlinks=True)
    gen = (home / "index" / "current").resolve()
    meta = json.loads((gen / "meta.json").read_text(encoding="utf-8"))
    if change == "analyzer":
        meta["analyzer"] = "older"
    else:
        meta["corpus"].pop(sorted(meta["corpus"])[0])  # as if that document was added after indexing
    (gen / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    settings = load_settings(home=home)
    with pytest.raises(IndexMismatchError, match=r"run `assistant index`") as err:
        open_index(settings, embeddings)
    assert err.value.exit_code == 5 and "\n" not in err.value.message and "--rebuild" not in err.value.message
    report = build_index(settings, embeddings, progress=False)
    assert not report.up_to_date and report.embedded == 0
    assert open_index(settings, embeddings).store


@pytest.mark.pipeline
def test_damage_at_the_command_line(built_index, index_copy, hostile_home, tmp_path) -> None:
    """What a user sees: exit 5 (index) or 3 (corpus) and one line naming the fix; no traceback."""
    index_dir, gen = index_copy()
    DAMAGE["hnsw-zeroed"][0](gen)
    missing = tmp_path / "no-index-here"
    edited = tmp_path / "edited-home"
    shutil.copytree(hostile_home, edited, symlinks=True)
    with (edited / "corpus" / "files" / "testconv" / "ru.md").open("a", encoding="utf-8") as fh:
        fh.write("\nСтрока, дописанная после индексации.\n")
    runs = {
        "hnsw-zeroed": _cli(["ask", QUESTION], home=ROOT, env={"ASSISTANT_INDEX_DIR": str(index_dir)}),
        "missing": _cli(["ask", QUESTION], home=ROOT, env={"ASSISTANT_INDEX_DIR": str(missing)}),
        "edited-ask": _cli(["ask", "Как возвращаются конфискованные активы?"], home=edited),
        # `serve` checks the corpus while loading, before it listens
        "edited-serve": _cli(["serve", "--host", "127.0.0.1", "--port", str(free_port())], home=edited),
    }
    out = _run_side_by_side(runs)
    _one_line_error(out["hnsw-zeroed"], 5, REBUILD)
    _one_line_error(out["missing"], 5, "no index", BUILD)
    _one_line_error(out["edited-ask"], 3, "testconv/ru.md", "checksum", "`assistant corpus fetch`", BUILD)
    returncode, stdout, stderr = out["edited-serve"]  # the server logs its start-up first
    assert returncode == 3, stderr[-2000:]
    assert_no_traceback(stdout, stderr)
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "testconv/ru.md" in last, stderr[-2000:]


@pytest.mark.pipeline
def test_random_bytes_in_the_hnsw_graph(built_index, index_copy) -> None:
    """Run only in a child process: in-process it would take pytest down with it."""
    import random

    index_dir, gen = index_copy()
    noise = random.Random(6)  # the same bytes every run: the outcome must not depend on luck
    for path in gen.glob("chroma/*/data_level0.bin"):
        path.write_bytes(noise.randbytes(path.stat().st_size))
    out = _run_side_by_side(
        {"ask": _cli(["ask", QUESTION], home=ROOT, env={"ASSISTANT_INDEX_DIR": str(index_dir)})}
    )
    _one_line_error(out["ask"], 5, REBUILD)


@pytest.mark.pipeline
def test_corpus_edited_after_indexing_is_refused_when_serving(hostile_home, embeddings, tmp_path) -> None:
    from assistant.core.errors import CorpusError
    from assistant.core.settings import load_settings
    from assistant.pipeline import Assistant

    home = tmp_path / "home"
    shutil.copytree(hostile_home, home, symlinks=True)
    target = home / "corpus" / "files" / "testconv" / "en.md"
    target.write_text(target.read_text(encoding="utf-8").replace("final", "finall"), encoding="utf-8")
    with pytest.raises(CorpusError, match=r"checksum.*testconv/en\.md.*`assistant corpus fetch`") as err:
        Assistant(load_settings(home=home), embeddings=embeddings).ask("Return of confiscated assets")
    assert err.value.exit_code == 3 and "\n" not in err.value.message
    target.unlink()  # a file deleted after indexing is reported the same way
    with pytest.raises(CorpusError, match=r"testconv/en\.md"):
        Assistant(load_settings(home=home), embeddings=embeddings).ask("Return of confiscated assets")


# ------------------------------------------------------------------------------ feedback log, kill -9

_WRITER = textwrap.dedent(
    """
    import sys
    from assistant.web.feedback import append_event
    path, who = sys.argv[1], sys.argv[2]
    comment = "Ответ полезен; " * 2000  # ~30 kB: every write is a long one
    i = 0
    while True:
        append_event(path, {"writer": who, "i": i, "rating": "helpful", "comment": comment})
        i += 1
    """
)

_TORN = textwrap.dedent(
    """
    import os, sys, time
    fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
    os.write(fd, b'{"writer": "torn", "i": 0, "comment": "cut sho')  # half a line, then killed
    print("written", flush=True)
    time.sleep(60)
    """
)


def _count_lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def test_feedback_log_survives_kill_9_of_writers(tmp_path) -> None:
    from assistant.web.feedback import append_event, read_events

    path = tmp_path / "feedback.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(path), f"w{n}"], env=env, cwd=tmp_path)
        for n in range(3)
    ]
    try:
        deadline = time.monotonic() + 60
        while _count_lines(path) < 300 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        for w in writers:  # killed at arbitrary points of their loops, mid-write included
            w.send_signal(signal.SIGKILL)
        for w in writers:
            w.wait()
    raw = path.read_bytes()
    lines = raw.split(b"\n")
    complete, tail = lines[:-1], lines[-1]
    assert len(complete) >= 300
    for line in complete:  # no line is torn or interleaved with another
        event = json.loads(line)
        assert event["rating"] == "helpful" and len(event["comment"]) > 20_000
    events = read_events(path)
    assert len(events) == len(complete)
    assert len({(e["writer"], e["i"]) for e in events}) == len(events)
    for n in range(3):  # each writer's events are consecutive from 0: nothing in between was lost
        mine = sorted(e["i"] for e in events if e["writer"] == f"w{n}")
        assert mine == list(range(len(mine)))
    assert tail == b"" or not tail.endswith(b"}"), "at most the last line may be incomplete"

    # A writer killed in the middle of its line leaves a fragment: skipped on read, and the next
    # event is still a line of its own.
    torn = subprocess.Popen([sys.executable, "-c", _TORN, str(path)], stdout=subprocess.PIPE, text=True)
    assert torn.stdout.readline().strip() == "written"
    torn.send_signal(signal.SIGKILL)
    torn.wait()
    assert not path.read_bytes().endswith(b"\n")
    assert len(read_events(path)) == len(events)  # the fragment is skipped
    append_event(path, {"writer": "after", "i": 0, "rating": "not_helpful"})
    again = read_events(path)
    assert len(again) == len(events) + 1 and again[-1]["writer"] == "after"
    assert not any(e.get("writer") == "torn" for e in again)
