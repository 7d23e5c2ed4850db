"""Bad set-up and bad input at the command line: one line on stderr, the right exit code, no traceback."""

from __future__ import annotations

import shutil

import pytest

from tests.helpers import ROOT, run_cli

pytestmark = pytest.mark.pipeline

FILES = ["strasbourg1990/ru.part1.md", "strasbourg1990/ru.md"]


def one_line_error(result, code: int, *needles: str) -> None:
    assert result.returncode == code, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def test_fetch_from_missing_folder(tmp_path) -> None:
    r = run_cli(
        ["corpus", "fetch", "--from", str(tmp_path / "nowhere")],
        home=tmp_path,
        env={"ASSISTANT_MANIFEST": str(ROOT / "corpus/sources.toml")},
    )
    assert r.returncode == 3 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("error: ")


def test_fetch_refuses_a_tampered_file(tmp_path) -> None:
    source = tmp_path / "src"
    shutil.copytree(ROOT / "corpus" / "files", source)
    (source / "uncac" / "ru.md").write_text("tampered", encoding="utf-8")
    r = run_cli(
        ["corpus", "fetch", "--from", str(source)],
        home=tmp_path,
        env={"ASSISTANT_MANIFEST": str(ROOT / "corpus/sources.toml")},
    )
    assert r.returncode == 3, r.stderr
    assert "uncac/ru.md" in r.stderr and "sha256" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "corpus" / "files" / "uncac" / "ru.md").exists()
    assert (tmp_path / "corpus" / "files" / "uncac" / "en.md").exists()


@pytest.mark.parametrize(
    ("content", "code", "needle"),
    [
        (b"", 3, "empty"),
        (b"\x00\x01binary\x00", 3, "binary"),
        (b"\xff\xfe not utf-8", 3, "not UTF-8"),
        (b"changed after fetch", 3, "sha256"),
    ],
)
def test_index_refuses_bad_corpus_files(small_home, content, code, needle) -> None:
    home = small_home(FILES)
    (home / "corpus" / "files" / "strasbourg1990" / "ru.md").write_bytes(content)
    one_line_error(run_cli(["index"], home=home), code, "strasbourg1990/ru.md", needle)


def test_index_reports_a_missing_corpus_file(small_home) -> None:
    home = small_home(FILES)
    (home / "corpus" / "files" / "strasbourg1990" / "ru.md").unlink()
    one_line_error(run_cli(["index"], home=home), 3, "missing", "assistant corpus fetch")


def test_unreadable_file(small_home) -> None:
    home = small_home(FILES)
    path = home / "corpus" / "files" / "strasbourg1990" / "ru.md"
    path.unlink()
    path.mkdir()  # a folder where a file should be: unreadable even for root
    one_line_error(run_cli(["index"], home=home), 3, "cannot read")


def test_missing_model_folder(small_home) -> None:
    home = small_home(FILES)
    r = run_cli(["index"], home=home, env={"ASSISTANT_EMBEDDING_MODEL": str(home / "no-such-model")})
    one_line_error(r, 4, "does not exist", "assistant model prepare")


def test_search_without_an_index(small_home) -> None:
    home = small_home(FILES)
    one_line_error(run_cli(["search", "конфискация"], home=home), 5, "no index", "assistant index")


@pytest.mark.parametrize("query", ["", "   ", "🙂🙂", "12345"])
def test_search_rejects_unusable_queries(query) -> None:
    one_line_error(run_cli(["search", query]), 2)


def test_invalid_setting_is_one_line(tmp_path) -> None:
    one_line_error(run_cli(["index", "--stats"], home=tmp_path, env={"ASSISTANT_TOP_K": "many"}), 2, "top_k")
