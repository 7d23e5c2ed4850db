"""Helpers for tests: a throw-away project home on a corpus subset, and running the CLI as a user would."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def make_home(tmp: Path, files: list[str], *, edit: dict[str, str] | None = None) -> Path:
    """A throw-away project home with a manifest limited to `files` (copied from the real corpus).

    `edit` maps a file to new text: the copy is changed and its manifest checksum updated, as a
    maintainer would after replacing a corpus file.
    """
    import hashlib

    src_manifest = tomllib.loads((ROOT / "corpus" / "sources.toml").read_text(encoding="utf-8"))
    docs = [d for d in src_manifest["documents"] if d["file"] in files]
    assert len(docs) == len(files), "unknown corpus file in make_home"
    corpus = tmp / "corpus" / "files"
    for d in docs:
        target = corpus / d["file"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / "corpus" / "files" / d["file"], target)
        if edit and d["file"] in edit:
            target.write_text(edit[d["file"]], encoding="utf-8")
            d["sha256"] = hashlib.sha256(target.read_bytes()).hexdigest()
            d.pop("slice", None)
    instruments = {d["instrument"] for d in docs}
    text = (ROOT / "corpus" / "sources.toml").read_text(encoding="utf-8")
    # Keep the instrument tables verbatim; rewrite the documents list.
    head = re.split(r"(?m)^\[\[documents\]\]", text, maxsplit=1)[0]
    lines = [head]
    for d in docs:
        lines.append("[[documents]]")
        for key, value in d.items():
            lines.append(f"{key} = {_toml(value)}")
        lines.append("")
    (tmp / "corpus" / "sources.toml").write_text("\n".join(lines), encoding="utf-8")
    for shared in ("prompts", "models"):
        if not (tmp / shared).exists():
            (tmp / shared).symlink_to(ROOT / shared)
    assert instruments
    return tmp


def _toml(value) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return json.dumps(str(value), ensure_ascii=False)


def run_cli(
    args: list[str], *, home: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300
):
    """Run `python -m assistant ARGS` as a user would, in `home` (default: the repo)."""
    full_env = {**os.environ, **(env or {})}
    full_env["ASSISTANT_HOME"] = str(home or ROOT)
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        cwd=str(home or ROOT),
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def article_provision(text: str = "1. One", lang: str = "kk", title: str = "T"):  # noqa: ANN201
    """A whole article `test:5` in one language: the fixture the web rendering and event tests share."""
    from assistant.corpus.provisions import Provision

    return Provision(
        id="test:5",
        instrument="test",
        lang=lang,
        level="article",
        article="5",
        paragraph=None,
        sub=None,
        title=title,
        chapter="",
        text=text,
        source_file="test.txt",
    )
