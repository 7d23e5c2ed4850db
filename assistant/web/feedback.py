"""The feedback log: one JSON object per line in `<data_dir>/feedback.jsonl`.

Takes: feedback events (plain JSON-serialisable mappings: rating, comment, question, cited ids, ...).
Gives: `feedback_event()`, the event of one click made from the `Answer` it rates; `append_event()`,
which adds exactly one complete line per event even when many threads (and several processes) click at
once; and `read_events()`, which reads the log back and ignores a last line cut short by a crash.

Why a single `os.write` on an `O_APPEND` descriptor: the kernel then places each line at the current
end of the file in one piece, so lines from concurrent writers never interleave. The process-wide
lock serialises threads of this process; `fcntl.flock` does the same across processes (two app
instances sharing one data folder) and guards the rare short write, which is finished under the lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.core.errors import ConfigError
from assistant.web.render import clean

if TYPE_CHECKING:
    from assistant.answer.extractive import Answer

FILENAME = "feedback.jsonl"
MAX_COMMENT_CHARS = 2000

_LOCK = threading.Lock()


def encode(event: Mapping[str, Any]) -> bytes:
    """One event as one UTF-8 line; newlines inside values are escaped by JSON, so the line is whole."""
    try:
        text = json.dumps(dict(event), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"feedback event is not JSON-serialisable ({exc})") from None
    return (text + "\n").encode("utf-8")


def append_event(path: Path | str, event: Mapping[str, Any]) -> None:
    """Append `event` as one complete JSON line to `path` (created with its folder if missing)."""
    path = Path(path)
    line = encode(event)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _LOCK:
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    size = os.fstat(fd).st_size
                    if size and os.pread(fd, 1, size - 1) != b"\n":
                        # A writer died mid-line: end that fragment so this event stays a line of its own.
                        line = b"\n" + line
                    written = os.write(fd, line)
                    while written < len(line):  # a short write (disk nearly full, signal): finish it
                        written += os.write(fd, line[written:])
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)
    except OSError as exc:
        raise ConfigError(
            f"cannot write the feedback log {path} ({exc.strerror}); make ASSISTANT_DATA_DIR a writable folder"
        ) from None


def read_events(path: Path | str) -> list[dict[str, Any]]:
    """Every complete event in the log, oldest first; a missing file is an empty log.

    A last line without its newline was cut short (the process died mid-write) and is skipped, as is
    any line that is not a JSON object.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    lines = data.split(b"\n")
    complete = lines[:-1]  # the piece after the last newline is empty, or an incomplete line
    events: list[dict[str, Any]] = []
    for raw in complete:
        if not raw.strip():
            continue
        try:
            value = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            continue
        if isinstance(value, dict):
            events.append(value)
    return events


def feedback_event(answer: Answer, rating: str, comment: str, ui_lang: str) -> dict[str, Any]:
    """The JSON record of one click on a feedback button (the comment cleaned and cut to its limit)."""
    return {
        "ts": datetime.now(UTC).isoformat(timespec="seconds"),
        "rating": rating,
        "comment": clean(comment or "").strip()[:MAX_COMMENT_CHARS],
        "question": answer.question,
        "language": answer.language,
        "ui_language": ui_lang,
        "refused": answer.refused,
        "reason": answer.reason,
        "citations": [c.id for c in answer.citations],
        "mode": answer.mode,
    }
