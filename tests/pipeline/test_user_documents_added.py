"""User documents with the real model: a treaty added as a PDF (ru) and a DOCX (kk) answers a question
that only it answers, in both languages, cited article by article; before it was added, the assistant
refused the same question (no treaty with that country in the corpus). A kill -9 in the middle of
`assistant add` leaves the old index serving. Runs in a throw-away home (tests/helpers.make_home), so the
project's index is never touched.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from tests import docgen
from tests.helpers import ROOT, make_home

pytestmark = [
    pytest.mark.pipeline,
    pytest.mark.skipif(not docgen.RAW.is_dir(), reason="../shared/corpus-raw is not there"),
]

QUESTIONS = {
    "ru": "Через сколько дней освобождается задержанное лицо, если документы о выдаче не получены, по соглашению с Турцией?",
    "kk": "Түркиямен келісім бойынша қажетті құжаттар алынбаса, ұсталған адам неше күннен кейін босатылады?",
}


def _without_instrument(home: Path, iid: str) -> None:
    """Drop an instrument's tables from the throw-away manifest: the user adds it as their own."""
    path = home / "corpus" / "sources.toml"
    out, skipping = [], False
    for line in path.read_text(encoding="utf-8").split("\n"):
        header = re.match(r"^\[+([^\]]+)\]+\s*$", line)
        if header:
            skipping = header.group(1) == f"instruments.{iid}" or header.group(1).startswith(
                f"instruments.{iid}."
            )
        if not skipping:
            out.append(line)
    path.write_text("\n".join(out), encoding="utf-8")


@pytest.fixture(scope="module")
def home(tmp_path_factory, embeddings):
    from assistant.core.settings import load_settings
    from assistant.index.build import build_index

    home = make_home(tmp_path_factory.mktemp("userdocs"), ["bilateral-usa/ru.md", "bilateral-usa/kk.md"])
    _without_instrument(home, "bilateral-turkey")
    build_index(load_settings(home=home), embeddings, progress=False)
    return home


def _aliases() -> list[str]:
    manifest = tomllib.loads((ROOT / "corpus" / "sources.toml").read_text(encoding="utf-8"))
    return manifest["instruments"]["bilateral-turkey"]["aliases"]


def _tree(path: Path) -> dict[str, str]:
    return {
        str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


def test_a_killed_add_leaves_the_old_index_serving(home, tmp_path, embeddings):
    from assistant.core.settings import load_settings
    from assistant.pipeline import Assistant

    settings = load_settings(home=home)
    current = (home / "index" / "current").resolve()
    before = _tree(current)
    pdf = docgen.make_pdf(docgen.raw_text("bilateral-turkey/ru.md"), tmp_path / "tr.pdf")
    env = {**os.environ, "ASSISTANT_HOME": str(home), "PYTHONPATH": str(ROOT)}  # this checkout's package
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "assistant",
            "add",
            str(pdf),
            "--id",
            "bilateral-turkey",
            "--lang",
            "ru",
            "--title",
            "T",
        ],
        cwd=home,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    pending = home / "data" / "corpus" / "manifest.pending.json"
    deadline = time.monotonic() + 120
    while not pending.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # inside the build: loading the model or embedding
    assert proc.poll() is None, proc.stderr.read().decode()
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert (home / "index" / "current").resolve() == current and _tree(current) == before
    answer = Assistant(settings, embeddings=embeddings).ask(QUESTIONS["ru"], lang="ru")
    assert not any(c.id.startswith("bilateral-turkey") for c in answer.citations)


def test_an_added_treaty_answers_in_kk_and_ru(home, tmp_path, embeddings):
    from assistant.core.settings import load_settings
    from assistant.corpus import user
    from assistant.pipeline import Assistant

    settings = load_settings(home=home)
    before = Assistant(settings, embeddings=embeddings).ask(QUESTIONS["ru"], lang="ru")
    assert before.refused and not before.citations  # no treaty with Turkey in this corpus yet

    aliases = _aliases()
    pdf = docgen.make_pdf(docgen.raw_text("bilateral-turkey/ru.md"), tmp_path / "tr-ru.pdf")
    docx = docgen.make_docx(docgen.raw_text("bilateral-turkey/kk.md"), tmp_path / "tr-kk.docx")
    title = {
        "ru": "Соглашение РК–Турция о правовой помощи и выдаче (1995)",
        "kk": "ҚР мен Түркия арасындағы келісім (1995)",
    }
    for path, lang in ((pdf, "ru"), (docx, "kk")):
        prepared = user.prepare(
            settings, str(path), instrument="bilateral-turkey", lang=lang, title=title[lang], aliases=aliases
        )
        report = user.add(settings, prepared, embeddings=embeddings)
        assert 0 < report.embedded < report.units  # only the new provisions

    assistant = Assistant(settings, embeddings=embeddings)
    for lang, question in QUESTIONS.items():
        answer = assistant.ask(question, lang=lang)
        assert not answer.refused, (lang, answer.answer)
        cited = [c.id for c in answer.citations]
        assert any(c.startswith("bilateral-turkey:19") for c in cited), (lang, cited)
        assert "40" in answer.answer
