"""Quality thresholds, measured on tests/questions.yaml through `Assistant.ask` (one run per module).

What is asserted, and on which questions:
- every question: no fabricated citation, every answer in the question's language;
- the `test` split (never tuned on): must-refuse questions refused (≥ 0.95), answerable ones not refused
  (≤ 0.05), comparisons citing the gold instruments, cite hit / precision / facts no lower than the figures
  last measured (docs/evaluation.md, less a margin of about two questions), so a change that makes held-out
  answers worse fails;
- the project's original questions (q001–q146, the issue-3 set): cite hit ≥ 0.90 in kk and in ru, as before;
- tests/questions_dev.yaml … questions_dev6.yaml (development sets written without seeing the test split or the
  topic map, tuned on like `tune`; dev2 to dev6 were each first run once untouched, as a fresh check):
  no fabricated citation, refusals right, cite hit / precision / facts no lower than last measured.
Issue 11's targets on `test` (cite hit ≥ 0.95, precision ≥ 0.80, facts ≥ 0.90) are not met yet; the figures
are reported in docs/evaluation.md rather than asserted here, so CI guards what the product does today.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.eval

QUESTIONS = ROOT / "tests" / "questions.yaml"
DEV_QUESTIONS = ROOT / "tests" / "questions_dev.yaml"
DEV2_QUESTIONS = ROOT / "tests" / "questions_dev2.yaml"  # written later, also without seeing the test split
DEV3_QUESTIONS = ROOT / "tests" / "questions_dev3.yaml"  # and these two without seeing the topic map either
DEV4_QUESTIONS = ROOT / "tests" / "questions_dev4.yaml"
DEV5_QUESTIONS = ROOT / "tests" / "questions_dev5.yaml"
DEV6_QUESTIONS = ROOT / "tests" / "questions_dev6.yaml"
ORIGINAL_SET = 146  # q001–q146: the questions of issue 3, before the tune/test split grew the file


@pytest.fixture(scope="module")
def run(assistant, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path, list[dict]]:
    from assistant.evaluation.run import run_evaluation

    out = tmp_path_factory.mktemp("eval")
    summary = run_evaluation(assistant, QUESTIONS, out, progress=False)
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    return summary, out, rows


def _failed(rows: list[dict], check: str, **where: object) -> list[str]:
    return [r["id"] for r in rows if check in r["failed"] and all(r.get(k) == v for k, v in where.items())]


def test_outputs_written(run) -> None:
    summary, out, rows = run
    for name in ("results.jsonl", "summary.json", "report.html"):
        assert (out / name).stat().st_size > 0, name
    assert len(rows) == summary["n"] >= 200
    assert set(summary["by_split"]) == {"tune", "test"} and summary["by_kind"]


def test_no_fabricated_citations(run) -> None:
    summary, out, rows = run
    assert summary["fabricated_citations"] == 0, f"fabricated in {_failed(rows, 'fabricated')} ({out})"


def test_language_match(run) -> None:
    summary, out, rows = run
    assert summary["language_match"] == 1.0, (
        f"answers in the wrong language: {_failed(rows, 'language_ok')} ({out})"
    )


@pytest.mark.parametrize(
    ("metric", "bound", "at_least"),
    [
        ("refusal_accuracy", 0.95, True),
        ("false_refusal_rate", 0.05, False),
        ("cite_hit_rate", 0.67, True),
        ("cite_precision", 0.60, True),
        ("facts_rate", 0.64, True),
        ("compare_instrument_share", 0.85, True),
    ],
)
def test_held_out_split(run, metric: str, bound: float, at_least: bool) -> None:
    summary, out, rows = run
    _assert_bound(f"test split {metric}", summary["by_split"]["test"][metric], bound, at_least, out)


def _assert_bound(what: str, value: float, bound: float, at_least: bool, out: Path) -> None:
    ok = value >= bound if at_least else value <= bound
    assert ok, f"{what} {value} {'<' if at_least else '>'} {bound} ({out})"


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_original_questions_cite_hit_per_language(run, lang: str) -> None:
    summary, out, rows = run
    original = [
        r
        for r in rows
        if int(r["id"][1:]) <= ORIGINAL_SET and r["expected_lang"] == lang and r["cite_hit"] is not None
    ]
    rate = sum(bool(r["cite_hit"]) for r in original) / len(original)
    misses = [r["id"] for r in original if not r["cite_hit"]]
    assert rate >= 0.90, f"{lang} cite hit on q001–q{ORIGINAL_SET} {rate:.3f} < 0.90; misses {misses} ({out})"


# A development set: its file, and bounds at the figures last measured on it less about two questions.
DEV_SETS = {
    "dev": (
        DEV_QUESTIONS,
        {"cite_hit_rate": 0.87, "cite_precision": 0.79, "facts_rate": 0.90},
    ),
    "dev2": (
        DEV2_QUESTIONS,
        {"cite_hit_rate": 0.83, "cite_precision": 0.68, "facts_rate": 0.89},
    ),
    "dev3": (
        DEV3_QUESTIONS,
        {"cite_hit_rate": 0.85, "cite_precision": 0.81, "facts_rate": 0.86},
    ),
    "dev4": (
        DEV4_QUESTIONS,
        {"cite_hit_rate": 0.77, "cite_precision": 0.88, "facts_rate": 0.78},
    ),
    "dev5": (
        DEV5_QUESTIONS,
        {"cite_hit_rate": 0.74, "cite_precision": 0.63, "facts_rate": 0.74},
    ),
    "dev6": (
        DEV6_QUESTIONS,
        {"cite_hit_rate": 0.64, "cite_precision": 0.67, "facts_rate": 0.72},
    ),
}
RULES = {
    "fabricated_citations": (0, False),
    "refusal_accuracy": (0.95, True),
    "false_refusal_rate": (0.05, False),
}


@pytest.fixture(scope="module")
def dev_runs(
    assistant, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], tuple[dict[str, Any], Path]]:
    """Each development set evaluated once per module, on first use."""
    from assistant.evaluation.run import run_evaluation

    runs: dict[str, tuple[dict[str, Any], Path]] = {}

    def get(name: str) -> tuple[dict[str, Any], Path]:
        if name not in runs:
            out = tmp_path_factory.mktemp(f"eval-{name}")
            runs[name] = run_evaluation(assistant, DEV_SETS[name][0], out, progress=False), out
        return runs[name]

    return get


@pytest.mark.parametrize(
    ("name", "metric", "bound", "at_least"),
    [
        (name, metric, bound, at_least)
        for name, (_, measured) in DEV_SETS.items()
        for metric, (bound, at_least) in {**RULES, **{m: (b, True) for m, b in measured.items()}}.items()
    ],
)
def test_development_sets(dev_runs, name: str, metric: str, bound: float, at_least: bool) -> None:
    summary, out = dev_runs(name)
    _assert_bound(f"{name} set {metric}", summary[metric], bound, at_least, out)
