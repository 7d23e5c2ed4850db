"""Load on loopback against the running app (`assistant serve` in its own process, default settings).

20 sessions at once, each with its own `gradio_client.Client`, ask 10 questions each, Kazakh and
Russian mixed (from tests/questions.yaml), all within 90 s. Checks: no error, every answer is the
answer to the question that session sent (its `question` field and language), the same question gets
the same answer in every session (no crossed wires between sessions), and the server's resident memory
after the run is within 20% of its warm state before. p50/p95 latency and the memory delta are printed
in the summary of the run (`reliability figures`) and recorded in docs/reliability.md.
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from tests.reliability.support import FIGURES, app_process, assert_inert

SESSIONS = 20
PER_SESSION = 10
BOUND_S = 90.0
MEMORY_GROWTH = 0.20
WARM_UP_SESSIONS = 4


def _questions() -> list[dict]:
    """Kazakh and Russian questions of the evaluation set that expect an answer, interleaved."""
    items = yaml.safe_load((Path(__file__).parents[1] / "questions.yaml").read_text(encoding="utf-8"))
    by_lang = {
        lang: [q for q in items if q["lang"] == lang and not q["expect"].get("refuse")]
        for lang in ("kk", "ru")
    }
    mixed = [q for pair in zip(by_lang["kk"], by_lang["ru"], strict=False) for q in pair]
    assert len(mixed) >= SESSIONS * 2
    return mixed


def test_stemming_is_thread_safe() -> None:
    """What two answer threads of the web app do at once, made to interleave often."""
    import snowballstemmer

    from assistant.text import stem as stemming

    words = [
        f"{stem}{end}"
        for stem in ("конфиск", "преступлен", "имуществ", "государств", "сотрудничеств")
        for end in ("ации", "ий", "ами", "ого", "ому", "ыми", "ая", "ую")
    ]
    reference = snowballstemmer.stemmer("russian")  # a private instance, used by this thread only
    expected = {w: reference.stemWord(w) for w in words}
    wrong: list[tuple[str, str]] = []
    errors: list[str] = []
    stem = stemming.stem_word.__wrapped__  # the uncached stemming that every tokenize() miss runs

    def work() -> None:
        try:
            for _ in range(600):
                for w in words:
                    if (got := stem(w, "ru")) != expected[w]:
                        wrong.append((w, got))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert not wrong and not errors, (wrong[:3], errors[:3])


@pytest.fixture(scope="module")
def app(built_index, tmp_path_factory):
    with app_process(tmp_path_factory.mktemp("load")) as running:
        yield running


def _comparable(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "timings_ms"}


@pytest.mark.load
def test_20_sessions_10_questions_each(app) -> None:
    from gradio_client import Client

    pool = _questions()

    # Warm up first, with requests in parallel as under load, so that "before" is the memory of a
    # server whose workers have all answered questions.
    def warm_up(n: int) -> None:
        warm = Client(app.url, verbose=False, download_files=False)
        for q in pool[n::WARM_UP_SESSIONS][:3]:
            warm.predict(q["question"], "auto", api_name="/ask")

    warmers = [threading.Thread(target=warm_up, args=(n,)) for n in range(WARM_UP_SESSIONS)]
    for t in warmers:
        t.start()
    for t in warmers:
        t.join(timeout=120)
    time.sleep(1.0)
    rss_before = app.rss_kb()

    clients = [Client(app.url, verbose=False, download_files=False) for _ in range(SESSIONS)]
    plans = [[pool[(n * 3 + j * 7) % len(pool)] for j in range(PER_SESSION)] for n in range(SESSIONS)]
    results: list[tuple[int, dict, dict, float]] = []
    errors: list[str] = []
    lock = threading.Lock()
    start_line = threading.Barrier(SESSIONS)
    started = time.monotonic()
    deadline = started + BOUND_S

    def session(n: int) -> None:
        try:
            start_line.wait(timeout=30)
            for q in plans[n]:
                t = time.monotonic()
                job = clients[n].submit(q["question"], "auto", api_name="/ask")
                answer = job.result(timeout=max(1.0, deadline - time.monotonic()))
                with lock:
                    results.append((n, q, answer, time.monotonic() - t))
        except Exception as exc:  # noqa: BLE001 - every failure is reported below
            with lock:
                errors.append(f"session {n}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=session, args=(n,), daemon=True) for n in range(SESSIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()) + 5)
    elapsed = time.monotonic() - started
    time.sleep(1.0)
    status = app.status()
    rss_after = status["VmRSS"]

    latencies = sorted(r[3] for r in results)
    figures = {
        "requests": len(results),
        "errors": len(errors),
        "wall_s": round(elapsed, 1),
        "p50_s": round(statistics.median(latencies), 2) if latencies else None,
        "p95_s": round(latencies[int(0.95 * (len(latencies) - 1))], 2) if latencies else None,
        "rss_before_mb": round(rss_before / 1024),
        "rss_after_mb": round(rss_after / 1024),
        "rss_delta_pct": round(100.0 * (rss_after - rss_before) / rss_before, 1),
        # where the memory is, should the bound fail on another machine: private vs file-backed pages
        "rss_anon_mb_after": status.get("RssAnon", 0) // 1024,
        "rss_file_mb_after": status.get("RssFile", 0) // 1024,
        "threads_after": status.get("Threads"),
    }
    FIGURES["load: 20 sessions x 10 questions"] = figures
    print(f"load figures: {figures}")

    assert not errors, errors[:5]
    assert not any(t.is_alive() for t in threads), f"sessions still running after {BOUND_S:.0f} s"
    assert len(results) == SESSIONS * PER_SESSION
    assert elapsed <= BOUND_S, figures

    by_question: dict[str, dict] = {}
    for n, q, answer, _ in results:
        assert answer["question"] == q["question"], (n, q["id"], answer["question"][:80])
        assert answer["language"] == q["lang"], (n, q["id"], answer["language"])
        assert answer["refused"] or answer["citations"], (n, q["id"])
        assert_inert(answer["answer"])
        first = by_question.setdefault(q["question"], _comparable(answer))
        assert _comparable(answer) == first, f"session {n} got another answer to {q['id']}"
    assert len(by_question) >= SESSIONS  # many different questions were in flight at once

    assert rss_after <= rss_before * (1 + MEMORY_GROWTH), figures
    assert "Traceback" not in app.log_text()
