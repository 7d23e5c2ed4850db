"""Helpers of the reliability suite: what "inert" and "no traceback" mean, the real app started as a
separate process on a free loopback port, and the figures the load and limit tests measure.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import ROOT, free_port

# What must never come back to a user: something a browser would run, a Markdown link or image the
# user smuggled in, or a Python traceback.
_EXECUTABLE = re.compile(r"<\s*script|onerror\s*=|javascript\s*:|<\s*img\b|<\s*iframe\b", re.I)
_MD_LINK = re.compile(r"!?\[[^\]\n]*\]\([^)\n]*\)|!\[")
_TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\s*File \"[^\"]+\", line \d+", re.M)

# Figures measured by the load and limit tests, printed at the end of the run (docs/reliability.md).
FIGURES: dict[str, dict[str, object]] = {}


def assert_inert(text: str) -> None:
    """Nothing in `text` executes in a browser or renders as a link/image the user wrote."""
    assert not _EXECUTABLE.search(text), text[:300]
    assert not _MD_LINK.search(text), text[:300]


def assert_no_traceback(*texts: str) -> None:
    for text in texts:
        assert not _TRACEBACK.search(text or ""), (text or "")[:2000]


# ------------------------------------------------------------------------------ the app as a process


@dataclass(frozen=True)
class AppProcess:
    url: str
    pid: int
    log: Path

    def status(self) -> dict[str, int]:
        """The server's /proc status numbers: VmRSS, RssAnon, RssFile (kB), Threads."""
        found = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "Threads"):
                found[key] = int(value.split()[0])
        return found

    def rss_kb(self) -> int:
        """Resident memory of the server process (VmRSS), in kB."""
        if "VmRSS" not in (found := self.status()):
            raise AssertionError(f"no VmRSS for pid {self.pid}")
        return found["VmRSS"]

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextmanager
def app_process(
    tmp: Path, env: dict[str, str] | None = None, *, ready_s: float = 180
) -> Iterator[AppProcess]:
    """`assistant serve` on a free 127.0.0.1 port over the project's index, stopped on exit.

    Ready means the page answers; `serve` loads the model and the index before it listens.
    """
    import httpx

    port = free_port()
    log = tmp / f"app-{port}.log"
    data = tmp / f"app-data-{port}"
    full_env = {
        **os.environ,
        "ASSISTANT_HOME": str(ROOT),
        "ASSISTANT_DATA_DIR": str(data),
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    app = AppProcess(url, proc.pid, log)
    try:
        deadline = time.monotonic() + ready_s
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"the app exited with {proc.returncode} before serving:\n{app.log_text()[-3000:]}"
                )
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the app did not serve within {ready_s:.0f} s:\n{app.log_text()[-3000:]}")
            time.sleep(0.5)
        yield app
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=20)
