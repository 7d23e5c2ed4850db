"""Resource limits (OWASP LLM10, unbounded consumption): input size, time per request, queue size.

- Input size: `max_question_chars` is enforced before any work, through the API, the CLI (setting from
  the environment) and HTTP; anything far beyond it is rejected without being cleaned first.
- Time: the web app answers within `request_timeout_s` (a «timeout» refusal when the work takes longer)
  and work left running after a timeout cannot pile up (a «busy» refusal past the cap); in generative
  mode a chat model that does not answer in time gives the extractive answer.
- Queue: started with ASSISTANT_CONCURRENCY_LIMIT=1 and ASSISTANT_MAX_QUEUE=1 and hit by many requests
  at once, the app answers some, turns the rest away at once with HTTP 503 «Queue is full», and keeps
  serving afterwards.

Related, not repeated here: tests/browser/test_api.py::test_too_long_question_is_refused_with_the_limit.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from tests.helpers import free_port, run_cli
from tests.reliability.support import FIGURES, app_process, assert_no_traceback

QUESTION = "Какие основания для отказа в правовой помощи?"

# ------------------------------------------------------------------------------ input size


@pytest.mark.pipeline
def test_question_at_and_over_the_limit(assistant) -> None:
    limit = assistant.settings.max_question_chars
    words = ("конфискация доходов " * limit)[:limit].rstrip()
    at_limit = (QUESTION + " " + words)[: limit - 1].rstrip() + "?"
    assert len(at_limit) <= limit
    answer = assistant.ask(at_limit)
    assert answer.reason != "too_long"
    over = at_limit + " " + "а" * (limit - len(at_limit) + 1)
    assert len(over) > limit
    refused = assistant.ask(over)
    assert refused.refused and refused.reason == "too_long" and str(limit) in refused.answer


@pytest.mark.pipeline
def test_far_over_the_limit_is_rejected_without_work(assistant) -> None:
    huge = "конфискация " * 500_000  # 6 million characters
    started = time.perf_counter()
    answer = assistant.ask(huge)
    assert answer.reason == "too_long"
    assert time.perf_counter() - started < 0.5


def test_limit_comes_from_the_environment_at_the_cli() -> None:
    r = run_cli(
        ["ask", "Какие основания для отказа в правовой помощи по договору?", "--json"],
        env={"ASSISTANT_MAX_QUESTION_CHARS": "40"},
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    answer = json.loads(r.stdout)
    assert answer["refused"] and answer["reason"] == "too_long" and "40" in answer["answer"]


# ------------------------------------------------------------------------------ time per request


class _Blocking:
    """Stands in for `Assistant` in `assistant.web.runner.Runner`: `ask` waits until released (or 30 s)."""

    def __init__(self, real) -> None:  # noqa: ANN001
        self.templates = real.templates
        self.release = threading.Event()
        self.calls = 0

    def ask(self, question: str, history=(), lang: str = "auto"):  # noqa: ANN001, ANN201
        from assistant.answer.extractive import Answer

        self.calls += 1
        self.release.wait(30)
        return Answer(question=question, language="ru", answer="ok", refused=False)


@pytest.mark.pipeline
def test_runner_times_out_and_caps_work_in_flight(assistant) -> None:
    from assistant.web.runner import Runner

    slow = _Blocking(assistant)
    runner = Runner(slow, workers=1, timeout_s=0.3)
    try:
        timings = []
        for expected in ("timeout", "timeout", "busy", "busy"):
            t = time.perf_counter()
            answer = runner.ask(QUESTION, lang="ru")
            timings.append(time.perf_counter() - t)
            assert answer.refused and answer.reason == expected, (expected, answer.reason)
            assert answer.answer == assistant.templates["ru"].get(f"refusal.{expected}")
        assert all(t < 1.5 for t in timings[:2]) and all(t < 0.1 for t in timings[2:]), timings
        assert slow.calls == 1  # the second request waited behind the first; the busy ones never ran
        slow.release.set()  # the stuck work finishes: its slots come back
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            answer = runner.ask(QUESTION, lang="ru")
            if answer.reason != "busy":
                break
            time.sleep(0.05)
        assert not answer.refused and answer.answer == "ok"
    finally:
        slow.release.set()
        runner.close()


class _SlowProxy:
    """The real assistant for everything but `ask`, which takes 10 s."""

    def __init__(self, real) -> None:  # noqa: ANN001
        self._real = real
        self.stop = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def ask(self, *args: Any, **kwargs: Any):  # noqa: ANN201
        self.stop.wait(10)
        return self._real.ask(*args, **kwargs)


@pytest.mark.pipeline
def test_web_app_answers_within_the_time_limit(assistant, tmp_path) -> None:
    from gradio_client import Client

    from assistant.web.app import build_app
    from assistant.web.server import launch

    settings = assistant.settings.model_copy(update={"data_dir": tmp_path, "request_timeout_s": 1.0})
    slow = _SlowProxy(assistant)
    app = build_app(slow, settings)
    url = launch(app, settings, host="127.0.0.1", port=free_port(), block=False)
    try:
        client = Client(url, verbose=False, download_files=False)
        t = time.perf_counter()
        answer = client.predict(QUESTION, "ru", api_name="/ask")
        took = time.perf_counter() - t
        assert answer["refused"] and answer["reason"] == "timeout", answer
        assert took < settings.request_timeout_s + 3, took
        FIGURES["time limit (web, request_timeout_s=1)"] = {"answered_after_s": round(took, 2)}
    finally:
        slow.stop.set()
        app.close()
        app.ara_runner.close()


@pytest.mark.pipeline
def test_chat_model_that_hangs_falls_back_in_time(built_index, embeddings, assistant) -> None:
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from assistant.pipeline import Assistant
    from tests.conftest import project_settings

    stop = threading.Event()

    class Hanging(FakeListChatModel):
        def _call(self, *args: Any, **kwargs: Any) -> str:
            stop.wait(30)
            return "too late [1]"

    llm = Assistant(
        project_settings(mode="llm", request_timeout_s=0.5),
        embeddings=embeddings,
        chat_model=Hanging(responses=["x"]),
    )
    try:
        t = time.perf_counter()
        answer = llm.ask(QUESTION)
        took = time.perf_counter() - t
    finally:
        stop.set()
    grounded = assistant.ask(QUESTION)  # the same question without a model: extractive or from the topic map
    assert answer.mode == grounded.mode != "llm" and not answer.refused
    assert answer.answer == grounded.answer
    assert took < 0.5 + 5, took


# ------------------------------------------------------------------------------ queue size

BURST = 12
QUEUE_BOUND_S = 60.0


@pytest.fixture(scope="module")
def tight_app(built_index, tmp_path_factory):
    env = {"ASSISTANT_CONCURRENCY_LIMIT": "1", "ASSISTANT_MAX_QUEUE": "1"}
    with app_process(tmp_path_factory.mktemp("tight"), env) as running:
        yield running


def _ask_http(url: str, question: str) -> tuple[int, str, float]:
    """(status of the POST, the answer's text or the refusal detail, seconds until done)."""
    import httpx

    route = f"{url.rstrip('/')}/gradio_api/call/ask"
    t = time.perf_counter()
    r = httpx.post(route, json={"data": [question, "ru"]}, timeout=QUEUE_BOUND_S)
    if r.status_code != 200:
        return r.status_code, r.text, time.perf_counter() - t
    events = httpx.get(f"{route}/{r.json()['event_id']}", timeout=QUEUE_BOUND_S).text
    data = [line for line in events.splitlines() if line.startswith("data:")][-1]
    assert "event: complete" in events, events[:300]
    return r.status_code, json.loads(data[5:])[0]["answer"], time.perf_counter() - t


@pytest.mark.load
def test_full_queue_turns_requests_away_with_a_busy_status(tight_app) -> None:
    from gradio_client import Client
    from gradio_client.utils import QueueError

    results: list[tuple[int, str, float]] = []
    errors: list[str] = []
    start = threading.Barrier(BURST)

    def fire() -> None:
        try:
            start.wait(timeout=30)
            results.append(_ask_http(tight_app.url, QUESTION))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(f"{type(exc).__name__}: {exc}")

    t = time.perf_counter()
    threads = [threading.Thread(target=fire, daemon=True) for _ in range(BURST)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=QUEUE_BOUND_S)
    wall = time.perf_counter() - t
    answered = [r for r in results if r[0] == 200]
    busy = [r for r in results if r[0] == 503]
    FIGURES["queue: concurrency 1, max_queue 1, burst of 12"] = {
        "answered": len(answered),
        "busy_503": len(busy),
        "errors": len(errors),
        "slowest_busy_s": round(max((r[2] for r in busy), default=0), 2),
        "wall_s": round(wall, 1),
    }
    assert not errors and not any(th.is_alive() for th in threads), errors
    assert len(results) == BURST and len(answered) + len(busy) == BURST, [r[:2] for r in results]
    assert answered and busy
    for _, detail, took in busy:
        assert "Queue is full" in detail and took < 5, (detail, took)
        assert_no_traceback(detail)
    for _, text, _ in answered:
        assert text.strip() and "Traceback" not in text

    # the same through gradio_client: a QueueError with a readable message
    clients = [Client(tight_app.url, verbose=False, download_files=False) for _ in range(BURST)]
    outcomes: list[str] = []

    def predict(c) -> None:  # noqa: ANN001
        try:
            c.predict(QUESTION, "ru", api_name="/ask")
            outcomes.append("answered")
        except QueueError as exc:
            outcomes.append(f"busy: {exc}")

    threads = [threading.Thread(target=predict, args=(c,), daemon=True) for c in clients]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=QUEUE_BOUND_S)
    assert "answered" in outcomes and any(o.startswith("busy: Queue is full") for o in outcomes), outcomes

    # and it recovers: one request alone is answered
    status, text, _ = _ask_http(tight_app.url, QUESTION)
    assert status == 200 and text.strip()
    assert "Traceback" not in tight_app.log_text()


@pytest.mark.pipeline
def test_oversized_request_body_is_refused_with_413(assistant, tmp_path) -> None:
    import httpx

    from assistant.web.app import build_app
    from assistant.web.server import launch

    settings = assistant.settings.model_copy(update={"data_dir": tmp_path})
    app = build_app(assistant, settings)
    url = launch(app, settings, host="127.0.0.1", port=free_port(), block=False)
    try:
        body = json.dumps({"data": ["а" * 4_000_000, "ru"]})  # ~24 MB of JSON
        r = httpx.post(
            f"{url.rstrip('/')}/gradio_api/call/ask",
            content=body,
            headers={"content-type": "application/json"},
            timeout=60,
        )
        assert r.status_code == 413, r.status_code
    finally:
        app.close()
        app.ara_runner.close()
