"""The grounded-answers thresholds, measured on tests/questions.yaml through `Assistant.ask`.

One evaluation run per module (the real model and index, ~2 minutes); each threshold is its own test
so a failure says which one, with the numbers and the questions behind it. The run's results.jsonl,
summary.json and report.html are written to a temporary folder, named in every failure message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.eval

QUESTIONS = ROOT / "tests" / "questions.yaml"


@pytest.fixture(scope="module")
def run(assistant, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    from assistant.evaluation.run import run_evaluation

    out = tmp_path_factory.mktemp("eval")
    summary = run_evaluation(assistant, QUESTIONS, out, progress=False)
    return summary, out


def _failed(out: Path, check: str, lang: str | None = None) -> list[str]:
    import json

    rows = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    return [r["id"] for r in rows if check in r["failed"] and (lang is None or r["expected_lang"] == lang)]


def test_outputs_written(run: tuple[dict[str, Any], Path]) -> None:
    summary, out = run
    for name in ("results.jsonl", "summary.json", "report.html"):
        assert (out / name).stat().st_size > 0, name
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == summary["n"] >= 100


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_cite_hit_rate_per_language(run: tuple[dict[str, Any], Path], lang: str) -> None:
    summary, out = run
    rate = summary["by_language"][lang]["cite_hit_rate"]
    assert rate >= 0.90, (
        f"{lang} cite_hit_rate {rate} < 0.90; misses {_failed(out, 'cite_hit', lang)} ({out})"
    )


def test_no_fabricated_citations(run: tuple[dict[str, Any], Path]) -> None:
    summary, out = run
    assert summary["fabricated_citations"] == 0, f"fabricated in {_failed(out, 'fabricated')} ({out})"


def test_refusal_accuracy(run: tuple[dict[str, Any], Path]) -> None:
    summary, out = run
    rate = summary["refusal_accuracy"]
    wrong = _failed(out, "refusal_ok")
    assert rate >= 0.90, f"refusal_accuracy {rate} < 0.90; refusal checks failed: {wrong} ({out})"


def test_false_refusal_rate(run: tuple[dict[str, Any], Path]) -> None:
    summary, out = run
    rate = summary["false_refusal_rate"]
    wrong = _failed(out, "refusal_ok")
    assert rate <= 0.05, f"false_refusal_rate {rate} > 0.05; refusal checks failed: {wrong} ({out})"


def test_language_match(run: tuple[dict[str, Any], Path]) -> None:
    summary, out = run
    assert summary["language_match"] == 1.0, (
        f"answers in the wrong language: {_failed(out, 'language_ok')} ({out})"
    )
