"""Running an evaluation: a question file through the chat's own code path, written to a folder.

Takes: an `Assistant` and a question file. Gives: `DIR/results.jsonl` (one line per question: its id, every
field of the answer JSON, the gold expectations and the per-question scores), `DIR/summary.json` and
`DIR/report.html` (evaluation/report.py). The whole file is validated before any question runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.core.errors import InputError
from assistant.evaluation.questions import Question, check_gold_ids, load_questions, one_line
from assistant.evaluation.report import format_table, render_report
from assistant.evaluation.score import BASELINE_METHODS, Record, recall_at_k, score, summarize

# ------------------------------------------------------------------------------ running


def baseline_recall(assistant: Any, question: Question) -> dict[str, bool | None]:
    """Recall@5 of hybrid, dense-only and BM25-only retrieval on the request the pipeline builds."""
    if question.expect.refuse:
        return {m: None for m in BASELINE_METHODS}
    from assistant.text.guard import Rejection

    # the request `Assistant.ask` builds, retrieved to the same depth
    prepared = assistant.prepare(question.question, question.history)
    if isinstance(prepared, Rejection):
        return {m: False for m in BASELINE_METHODS}
    out: dict[str, bool | None] = {}
    for method in BASELINE_METHODS:
        hits = assistant.retrieve(prepared.request, method=method, k=assistant.ask_depth)
        out[method] = recall_at_k([h.provision_id for h in hits], question.expect.cite)
    return out


def evaluate(
    assistant: Any,
    questions: Sequence[Question],
    *,
    compare: bool = False,
    progress: bool | None = None,
) -> list[Record]:
    """Ask every question (as the chat does: `Assistant.ask`, language detected) and score it."""
    from tqdm import tqdm

    index_ids = assistant.index.store.ids
    show = sys.stderr.isatty() if progress is None else progress
    records = []
    for q in tqdm(questions, desc="eval", unit="q", disable=not show, file=sys.stderr):
        started = time.perf_counter()
        answer = assistant.ask(q.question, history=list(q.history), lang="auto")
        latency = (time.perf_counter() - started) * 1000.0
        extra = baseline_recall(assistant, q) if compare else {}
        records.append(Record(q, answer, score(q, answer, index_ids), latency, extra))
    return records


def git_commit(where: Path) -> tuple[str | None, bool | None]:
    """(commit id, whether the work tree has changes), or (None, None) outside a git checkout."""
    try:
        head = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return None, None
        status = subprocess.run(
            ["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return head.stdout.strip(), bool(status.stdout.strip()) if status.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None, None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def run_evaluation(
    assistant: Any,
    questions_path: Path | str,
    out_dir: Path | str,
    *,
    compare: bool = False,
    progress: bool | None = None,
    questions: Sequence[Question] | None = None,
) -> dict[str, Any]:
    """Validate, run, score and write results.jsonl, summary.json and report.html; return the summary."""
    from assistant import __version__

    questions_path = Path(questions_path)
    if questions is None:
        questions = load_questions(questions_path)
    check_gold_ids(questions, questions_path, assistant.index.store.ids)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"cannot create the output folder {out} ({one_line(str(exc))}); pass another --out"
        ) from None
    # Load the model and the index before the clock starts: latency is per question, not set-up.
    warm_up: Callable[[], None] | None = getattr(assistant, "warm_up", None)
    if warm_up is not None:
        warm_up()
    started_at, t0 = _now(), time.perf_counter()
    records = evaluate(assistant, questions, compare=compare, progress=progress)
    commit, dirty = git_commit(Path(assistant.settings.home))
    summary = summarize(
        records,
        depth=getattr(assistant, "ask_depth", None),
        mode=assistant.settings.mode,
        questions_file=str(questions_path),
        started_at=started_at,
        finished_at=_now(),
        duration_s=round(time.perf_counter() - t0, 1),
        git_commit=commit,
        git_dirty=dirty,
        assistant_version=__version__,
    )
    with (out / "results.jsonl").open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r.to_dict(), ensure_ascii=False) + "\n")
    (out / "summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    (out / "report.html").write_text(render_report(summary, records), encoding="utf-8")
    return summary


def run_cli(settings: Any, args: Any) -> int:
    """`assistant eval`: validate the file first (exit 2 on a schema error), then run and report."""
    from assistant.pipeline import Assistant

    path = Path(args.questions)
    questions = load_questions(path)  # before the model loads: a bad file fails in a second
    split = getattr(args, "split", None)
    if split:
        questions = [q for q in questions if q.split == split]
        if not questions:
            raise InputError(
                f"{path}: no question has split {split!r}; use tune or test, or leave --split out"
            )
    out = Path(args.out)
    summary = run_evaluation(Assistant(settings), path, out, compare=args.compare, questions=questions)
    print(format_table(summary))
    print(f"\nwrote {out / 'results.jsonl'}, {out / 'summary.json'}, {out / 'report.html'}")
    return 0
