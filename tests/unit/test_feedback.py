"""The feedback log: one complete JSON line per event under concurrent writers; torn lines skipped."""

from __future__ import annotations

import json
import threading

import pytest

from assistant.core.errors import ConfigError
from assistant.web.feedback import append_event, encode, read_events

THREADS = 8
PER_THREAD = 500


def test_concurrent_appends_give_one_complete_line_per_event(tmp_path):
    path = tmp_path / "data" / "feedback.jsonl"  # the folder does not exist yet
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            start.wait()
            for i in range(PER_THREAD):
                # A comment long enough that a torn write would show, with a newline inside.
                append_event(path, {"thread": n, "i": i, "comment": f"line one\nline two {'x' * 300}"})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors

    raw = path.read_bytes()
    assert raw.endswith(b"\n")
    lines = raw.decode("utf-8").split("\n")[:-1]
    assert len(lines) == THREADS * PER_THREAD
    seen = {(e["thread"], e["i"]) for e in map(json.loads, lines)}
    assert seen == {(n, i) for n in range(THREADS) for i in range(PER_THREAD)}
    assert len(read_events(path)) == THREADS * PER_THREAD


def test_truncated_last_line_is_skipped(tmp_path):
    path = tmp_path / "feedback.jsonl"
    for i in range(3):
        append_event(path, {"i": i})
    with path.open("ab") as fh:
        fh.write(b'{"i": 3, "rating": "hel')  # the process died mid-write
    assert [e["i"] for e in read_events(path)] == [0, 1, 2]


def test_append_after_a_torn_line_keeps_the_new_event_whole(tmp_path):
    path = tmp_path / "feedback.jsonl"
    append_event(path, {"i": 0})
    with path.open("ab") as fh:
        fh.write(b'{"i": 1, "rat')
    append_event(path, {"i": 2})
    assert [e["i"] for e in read_events(path)] == [0, 2]


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"", []),
        (b"\n\n", []),
        (b'{"a": 1}\n', [{"a": 1}]),
        (b'{"a": 1}\nnot json\n{"b": 2}\n', [{"a": 1}, {"b": 2}]),
        (b'[1, 2]\n{"a": 1}\n', [{"a": 1}]),  # only objects are events
        (b'\xff\xfe\n{"a": 1}\n', [{"a": 1}]),
        (b'{"a": 1}', []),  # no newline: incomplete
    ],
)
def test_read_events_table(tmp_path, content, expected):
    path = tmp_path / "feedback.jsonl"
    path.write_bytes(content)
    assert read_events(path) == expected


def test_missing_log_reads_as_empty(tmp_path):
    assert read_events(tmp_path / "none.jsonl") == []


@pytest.mark.parametrize(
    "event",
    [
        {"comment": "бірінші\nвторой\r\nthird"},
        {"comment": "\u2028 separators \u2029"},
        {"nested": {"citations": ["uncac:54.1.a"]}},
    ],
)
def test_encoded_event_is_exactly_one_line(event):
    line = encode(event)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line) == event


def test_unserialisable_event_is_refused():
    with pytest.raises(ValueError, match="JSON"):
        encode({"when": object()})


def test_unwritable_folder_gives_a_one_line_config_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="ASSISTANT_DATA_DIR"):
        append_event(blocker / "feedback.jsonl", {"a": 1})
