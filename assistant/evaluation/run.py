"""Evaluation: run a question file through the chat's own code path and measure the answers.

Takes: a YAML question file (the format of tests/questions.yaml, documented in docs/evaluation.md)
and an `Assistant`. Gives: `DIR/results.jsonl` (one line per question: its id, every field of the
answer JSON, the gold expectations and the per-question scores), `DIR/summary.json` (rates overall,
per language and per instrument, latency percentiles, optional dense/BM25 baselines, run metadata)
and `DIR/report.html` (one self-contained page with the tables, charts and every failed question).

The whole file is validated before any question runs: a schema error raises `QuestionFileError`
naming the file, the entry (id or position) and the reason. Gold citation ids are then checked
against the index, still before the first question.

Matching rule: an answer citation matches a gold id when it is that provision or lies under it
(`strasbourg1990:13.1.a` matches `strasbourg1990:13` and `strasbourg1990`); the gold `article`
(the research article) matches any `article:*`.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.answer.extractive import Answer
from assistant.core.errors import InputError, QuestionFileError
from assistant.core.ids import article_of, covers, instrument_of
from assistant.core.langs import LANGS

ENTRY_KEYS = frozenset({"id", "lang", "question", "history", "expect", "kind", "split"})
EXPECT_KEYS = frozenset({"cite", "also", "facts", "refuse", "instruments"})
# Optional labels (tests/questions.yaml sets both on every entry): the question's type, and the half of a
# fixed tune/test split it belongs to (tune for development, test for the figures reported).
KINDS = frozenset(
    {"which", "yesno", "article", "procedure", "compare", "definition", "facts", "followup", "scenario"}
    | {"refuse", "other"}
)
SPLITS = frozenset({"tune", "test"})
# "instrument", "instrument:article", "instrument:article.para", "instrument:article.para.sub"
CITE_ID = re.compile(r"^[a-z][a-z0-9-]*(:[a-z0-9-]+(\.[a-z0-9-]+){0,2})?$")
QUESTION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
RECALL_K = 5
BASELINE_METHODS = ("hybrid", "dense", "bm25")
# The answer-level checks whose failure puts a question on the report's list of failures.
FAILURE_CHECKS = ("refusal_ok", "language_ok", "cite_hit", "facts_ok", "fabricated")


# ------------------------------------------------------------------------------ the question file


@dataclass(frozen=True)
class Expect:
    cite: tuple[str, ...] = ()
    also: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()
    refuse: bool = False
    instruments: tuple[str, ...] = ()  # kind compare: the instruments a good comparison must cover

    def to_dict(self) -> dict[str, Any]:
        return {
            "cite": list(self.cite),
            "also": list(self.also),
            "facts": list(self.facts),
            "refuse": self.refuse,
            "instruments": list(self.instruments),
        }


@dataclass(frozen=True)
class Question:
    id: str
    lang: str
    question: str
    expect: Expect
    history: tuple[str, ...] = ()
    kind: str | None = None
    split: str | None = None


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _entry_error(path: Path, where: str, reason: str) -> QuestionFileError:
    return QuestionFileError(f"{path}: {where}: {reason}; fix the entry and re-run")


def _where(entry: Any, position: int) -> str:
    qid = entry.get("id") if isinstance(entry, dict) else None
    if isinstance(qid, str | int) and str(qid).strip():
        return f"entry {str(qid)!r} (#{position})"
    return f"entry #{position}"


def _id_list(value: Any, key: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError(f"expect.{key} must be a list of citation ids like 'uncac:54.1.a'")
    for item in value:
        if not isinstance(item, str) or not CITE_ID.match(item):
            raise ValueError(
                f"malformed citation id {item!r} in expect.{key} "
                "(use 'instrument', 'instrument:article' or 'instrument:article.para[.sub]', lower case)"
            )
    return tuple(value)


def _facts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError("expect.facts must be a list of regexes")
    for fact in value:
        if not isinstance(fact, str):
            raise ValueError(f"fact {fact!r} is not a string")
        try:
            pattern = re.compile(fact, re.IGNORECASE)
        except re.error as exc:
            raise ValueError(f"bad regex {fact!r} in expect.facts ({exc})") from None
        if pattern.fullmatch(""):
            raise ValueError(f"fact {fact!r} matches the empty string, so it checks nothing")
    return tuple(value)


def parse_entry(entry: Any) -> Question:
    """One question entry → `Question`; raises ValueError with the reason when it breaks the schema."""
    if not isinstance(entry, dict):
        raise ValueError(
            f"an entry must be a mapping with id, lang, question, expect; got {type(entry).__name__}"
        )
    unknown = sorted(str(k) for k in set(entry) - ENTRY_KEYS)
    if unknown:
        raise ValueError(f"unknown key(s) {unknown} (allowed: {sorted(ENTRY_KEYS)})")
    for key in ("id", "lang", "question", "expect"):
        if key not in entry:
            raise ValueError(f"missing {key!r}")
    qid = entry["id"]
    if not isinstance(qid, str) or not QUESTION_ID.match(qid):
        raise ValueError(f"id {qid!r} must be a string of letters, digits, '_', '.', '-' (e.g. q001)")
    if entry["lang"] not in LANGS:
        raise ValueError(f"unknown lang {entry['lang']!r} (use one of {', '.join(LANGS)})")
    question = entry["question"]
    if not isinstance(question, str) or not question.strip():
        raise ValueError("question must be a non-empty string")
    history = entry.get("history", [])
    if history is None:
        history = []
    if not isinstance(history, list) or not all(isinstance(h, str) and h.strip() for h in history):
        raise ValueError("history must be a list of earlier questions (non-empty strings)")
    for key, allowed in (("kind", KINDS), ("split", SPLITS)):
        if key in entry and entry[key] not in allowed:
            raise ValueError(f"unknown {key} {entry[key]!r} (use one of {', '.join(sorted(allowed))})")
    expect = entry["expect"]
    if not isinstance(expect, dict):
        raise ValueError("expect must be a mapping with cite, also, facts, refuse")
    unknown = sorted(str(k) for k in set(expect) - EXPECT_KEYS)
    if unknown:
        raise ValueError(f"unknown key(s) {unknown} in expect (allowed: {sorted(EXPECT_KEYS)})")
    for key in ("cite", "refuse"):
        if key not in expect:
            raise ValueError(f"missing expect.{key}")
    cite = _id_list(expect["cite"], "cite")
    also = _id_list(expect.get("also") or [], "also")
    facts = _facts(expect.get("facts") or [])
    instruments = _id_list(expect.get("instruments") or [], "instruments")
    if any(":" in i for i in instruments):
        raise ValueError("expect.instruments lists instrument ids only (e.g. 'uncac'), not provisions")
    refuse = expect["refuse"]
    if not isinstance(refuse, bool):
        raise ValueError(f"expect.refuse must be true or false, not {refuse!r}")
    if refuse and (cite or also or facts):
        raise ValueError("a question expecting a refusal has no cite, also or facts")
    if not refuse and not cite:
        raise ValueError("an answerable question (refuse: false) needs at least one expect.cite id")
    return Question(
        id=qid,
        lang=entry["lang"],
        question=question,
        history=tuple(history),
        expect=Expect(cite=cite, also=also, facts=facts, refuse=refuse, instruments=instruments),
        kind=entry.get("kind"),
        split=entry.get("split"),
    )


def parse_questions(text: str, path: Path) -> list[Question]:
    """Validate a whole question file's text; raises `QuestionFileError` at the first problem."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = "somewhere"
        if mark is not None:
            # The entry is the last top-level list item that starts at or before the broken line.
            starts = [i for i, line in enumerate(text.splitlines()[: mark.line + 1]) if line.startswith("-")]
            entry = f" (in entry #{len(starts)})" if starts else ""
            where = f"line {mark.line + 1}, column {mark.column + 1}{entry}"
        problem = getattr(exc, "problem", None) or str(exc)
        raise QuestionFileError(
            f"{path}: invalid YAML at {where}: {_one_line(problem)}; fix the syntax and re-run"
        ) from None
    if not isinstance(data, list) or not data:
        raise QuestionFileError(
            f"{path}: the file must be a non-empty YAML list of question entries (- id: q001 ...)"
        )
    questions: list[Question] = []
    first_seen: dict[str, int] = {}
    for position, entry in enumerate(data, start=1):
        try:
            q = parse_entry(entry)
        except ValueError as exc:
            raise _entry_error(path, _where(entry, position), _one_line(str(exc))) from None
        if q.id in first_seen:
            raise _entry_error(
                path, _where(entry, position), f"duplicate id (first used by entry #{first_seen[q.id]})"
            )
        first_seen[q.id] = position
        questions.append(q)
    return questions


def load_questions(path: Path | str) -> list[Question]:
    """Read and validate a question file; every problem is a one-line `QuestionFileError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise QuestionFileError(f"{path}: no such question file; check the --questions path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionFileError(
            f"{path}: cannot read the question file ({_one_line(str(exc))}); save it as UTF-8 text"
        ) from None
    return parse_questions(text, path)


def check_gold_ids(questions: Sequence[Question], path: Path | str, index_ids: Collection[str]) -> None:
    """Every gold id must name an instrument or a provision of the index (else it could never match)."""
    instruments = {instrument_of(i) for i in index_ids}
    for position, q in enumerate(questions, start=1):
        for key, ids in (
            ("cite", q.expect.cite),
            ("also", q.expect.also),
            ("instruments", q.expect.instruments),
        ):
            for gold in ids:
                known = gold in instruments if ":" not in gold else gold in index_ids
                if not known:
                    raise _entry_error(
                        Path(path),
                        f"entry {q.id!r} (#{position})",
                        f"expect.{key} id {gold!r} is not in the index (check `assistant search` for the id)",
                    )


# ------------------------------------------------------------------------------ matching and scores


def matches_any(provision_id: str, golds: Iterable[str]) -> bool:
    return any(covers(g, provision_id) for g in golds)


def related(a: str, b: str) -> bool:
    """Same provision at another granularity: equal, ancestor or descendant."""
    return covers(a, b) or covers(b, a)


def top_articles(retrieved: Sequence[str], k: int = RECALL_K) -> list[list[str]]:
    """The first `k` distinct articles of a ranked id list, each with its retrieved ids, best first."""
    groups: dict[str, list[str]] = {}
    for pid in retrieved:
        art = article_of(pid)
        if art not in groups:
            if len(groups) >= k:
                continue
            groups[art] = []
        groups[art].append(pid)
    return list(groups.values())


def recall_at_k(retrieved: Sequence[str], golds: Sequence[str], k: int = RECALL_K) -> bool:
    """An expected provision is among the top `k` retrieved articles.

    A retrieved id counts for a gold id when it lies under it, or is its ancestor (the whole article
    retrieved when the gold is one of its paragraphs): the same text at another granularity.
    """
    for group in top_articles(retrieved, k):
        for pid in group:
            if any(covers(g, pid) or (":" in g and g.startswith(pid + ".")) for g in golds):
                return True
    return False


def fabricated_ids(answer: Answer, index_ids: Collection[str]) -> list[str]:
    """Cited ids that are not in the index, or were not retrieved for this question."""
    out = []
    for c in answer.citations:
        if c.id not in index_ids or not any(related(c.id, r) for r in answer.retrieved):
            out.append(c.id)
    return out


@dataclass(frozen=True)
class Scores:
    cite_hit: bool | None  # None for questions expecting a refusal
    cite_precision: float | None  # None when not applicable or the answer cites nothing
    cited: int  # citations in the answer
    cited_ok: int  # of which inside cite ∪ also
    fabricated: tuple[str, ...]
    facts_ok: bool | None  # None when the question lists no facts or expects a refusal
    refusal_ok: bool
    language_ok: bool
    recall_at_5: bool | None  # None for questions expecting a refusal
    # comparison questions: the share of `expect.instruments` the answer cites a provision of
    instrument_share: float | None = None

    @property
    def failed(self) -> tuple[str, ...]:
        """Names of the answer-level checks this question fails."""
        out = [name for name in FAILURE_CHECKS if name != "fabricated" and getattr(self, name) is False]
        if self.fabricated:
            out.append("fabricated")
        return tuple(out)


def score(question: Question, answer: Answer, index_ids: Collection[str]) -> Scores:
    """Score one answer against its question's expectations."""
    expect = question.expect
    ids = [c.id for c in answer.citations]
    answerable = not expect.refuse
    gold_all = (*expect.cite, *expect.also)
    cited_ok = sum(1 for cid in ids if matches_any(cid, gold_all)) if answerable else 0
    share = None
    if answerable and expect.instruments:
        cited_instruments = {instrument_of(cid) for cid in ids}
        share = sum(1 for i in expect.instruments if i in cited_instruments) / len(expect.instruments)
    facts_ok = None
    if answerable and expect.facts:
        facts_ok = all(re.search(f, answer.answer, re.IGNORECASE) for f in expect.facts)
    return Scores(
        cite_hit=any(matches_any(cid, expect.cite) for cid in ids) if answerable else None,
        cite_precision=(cited_ok / len(ids)) if answerable and ids else None,
        cited=len(ids),
        cited_ok=cited_ok,
        fabricated=tuple(fabricated_ids(answer, index_ids)),
        facts_ok=facts_ok,
        refusal_ok=answer.refused == expect.refuse,
        language_ok=answer.language == question.lang,
        recall_at_5=recall_at_k(answer.retrieved, expect.cite) if answerable else None,
        instrument_share=share,
    )


@dataclass(frozen=True)
class Record:
    question: Question
    answer: Answer
    scores: Scores
    latency_ms: float
    baselines: Mapping[str, bool | None] = field(default_factory=dict)  # method → recall@5

    def to_dict(self) -> dict[str, Any]:
        """The results.jsonl line: id, the answer JSON at top level, the gold, then the scores."""
        s = self.scores
        out: dict[str, Any] = {"id": self.question.id, **self.answer.to_dict()}
        out.update(
            expected_lang=self.question.lang,
            kind=self.question.kind,
            split=self.question.split,
            history=list(self.question.history),
            expect=self.question.expect.to_dict(),
            latency_ms=round(self.latency_ms, 2),
            cite_hit=s.cite_hit,
            cite_precision=None if s.cite_precision is None else round(s.cite_precision, 4),
            fabricated=list(s.fabricated),
            facts_ok=s.facts_ok,
            refusal_ok=s.refusal_ok,
            language_ok=s.language_ok,
            recall_at_5=s.recall_at_5,
            instrument_share=s.instrument_share,
            failed=list(s.failed),
        )
        for method, hit in self.baselines.items():
            out[f"recall_at_5_{method}"] = hit
        return out


# ------------------------------------------------------------------------------ aggregation


def _rate(values: Iterable[bool | None]) -> float | None:
    known = [bool(v) for v in values if v is not None]
    return round(sum(known) / len(known), 4) if known else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return round(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo), 2)


def metrics(records: Sequence[Record]) -> dict[str, Any]:
    """The headline rates over a set of records (the whole run, or one language)."""
    answerable = [r for r in records if not r.question.expect.refuse]
    refusable = [r for r in records if r.question.expect.refuse]
    cited = sum(r.scores.cited for r in answerable)
    latencies = [r.latency_ms for r in records]
    shares = [r.scores.instrument_share for r in records if r.scores.instrument_share is not None]
    return {
        "n": len(records),
        "n_answerable": len(answerable),
        "n_refuse": len(refusable),
        "cite_hit_rate": _rate(r.scores.cite_hit for r in answerable),
        "cite_precision": round(sum(r.scores.cited_ok for r in answerable) / cited, 4) if cited else None,
        "fabricated_citations": sum(len(r.scores.fabricated) for r in records),
        "dropped_citations": sum(len(r.answer.dropped_citations) for r in records),
        "facts_rate": _rate(r.scores.facts_ok for r in answerable),
        "refusal_accuracy": _rate(r.answer.refused for r in refusable),
        "false_refusal_rate": _rate(r.answer.refused for r in answerable),
        "language_match": _rate(r.scores.language_ok for r in records),
        "retrieval_recall_at_5": _rate(r.scores.recall_at_5 for r in answerable),
        "compare_instrument_share": round(sum(shares) / len(shares), 4) if shares else None,
        "latency_ms_p50": percentile(latencies, 50),
        "latency_ms_p95": percentile(latencies, 95),
        "failed": sum(1 for r in records if r.scores.failed),
    }


def by_instrument(records: Sequence[Record]) -> dict[str, dict[str, Any]]:
    """Hit and recall rates of the answerable questions, per instrument of their gold citations."""
    groups: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        if r.question.expect.refuse:
            continue
        for inst in dict.fromkeys(instrument_of(g) for g in r.question.expect.cite):
            groups[inst].append(r)
    return {
        inst: {
            "n": len(rs),
            "cite_hit_rate": _rate(r.scores.cite_hit for r in rs),
            "retrieval_recall_at_5": _rate(r.scores.recall_at_5 for r in rs),
        }
        for inst, rs in sorted(groups.items())
    }


def baselines(records: Sequence[Record], depth: int | None = None) -> dict[str, Any]:
    """Recall@5 of each retrieval method on the answerable questions, overall and per language."""
    methods = [m for m in BASELINE_METHODS if any(m in r.baselines for r in records)]

    out: dict[str, Any] = {"k": RECALL_K, "depth": depth, "methods": {}}
    for m in methods:
        answerable = [r for r in records if not r.question.expect.refuse]
        out["methods"][m] = {
            "retrieval_recall_at_5": _rate(r.baselines.get(m) for r in answerable),
            "by_language": {
                lang: _rate(r.baselines.get(m) for r in answerable if r.question.lang == lang)
                for lang in LANGS
            },
        }
    return out


def summarize(records: Sequence[Record], depth: int | None = None, **meta: Any) -> dict[str, Any]:
    summary: dict[str, Any] = metrics(records)
    summary["by_language"] = {
        lang: metrics([r for r in records if r.question.lang == lang]) for lang in LANGS
    }
    summary["by_instrument"] = by_instrument(records)
    summary["by_kind"] = {
        kind: metrics([r for r in records if r.question.kind == kind])
        for kind in sorted({r.question.kind for r in records if r.question.kind})
    }
    splits = sorted({r.question.split for r in records if r.question.split})
    if len(splits) > 1:
        summary["by_split"] = {
            split: {
                **metrics(part),
                "by_language": {
                    lang: metrics([r for r in part if r.question.lang == lang]) for lang in LANGS
                },
            }
            for split in splits
            for part in [[r for r in records if r.question.split == split]]
        }
    if any(r.baselines for r in records):
        summary["baselines"] = baselines(records, depth)
    summary["failed_ids"] = [r.question.id for r in records if r.scores.failed]
    summary["answer_modes"] = dict(sorted(_count(r.answer.mode for r in records).items()))
    summary.update(meta)
    return summary


def _count(values: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for v in values:
        out[v] += 1
    return dict(out)


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
            f"cannot create the output folder {out} ({_one_line(str(exc))}); pass another --out"
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


# ------------------------------------------------------------------------------ presentation

ROWS = (
    ("n", "questions"),
    ("cite_hit_rate", "cite hit rate"),
    ("cite_precision", "cite precision"),
    ("fabricated_citations", "fabricated citations"),
    ("facts_rate", "facts rate"),
    ("refusal_accuracy", "refusal accuracy"),
    ("false_refusal_rate", "false refusal rate"),
    ("language_match", "language match"),
    ("retrieval_recall_at_5", "retrieval recall@5"),
    ("latency_ms_p50", "latency p50 (ms)"),
    ("latency_ms_p95", "latency p95 (ms)"),
)


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}" if value <= 1.0 else f"{value:.0f}"
    return str(value)


def format_table(summary: Mapping[str, Any]) -> str:
    """The summary as a plain-text table: all / kk / ru / en, then the baselines if measured."""
    cols = ["all", *LANGS]
    lines = [f"{'metric':24}" + "".join(f"{c:>9}" for c in cols)]
    for key, name in ROWS:
        values = [summary.get(key)] + [summary["by_language"][lang].get(key) for lang in LANGS]
        lines.append(f"{name:24}" + "".join(f"{_fmt(v):>9}" for v in values))
    base = summary.get("baselines", {}).get("methods", {})
    if base:
        lines.append("")
        lines.append(f"{'recall@5 by method':24}" + "".join(f"{c:>9}" for c in cols))
        for method, row in base.items():
            values = [row["retrieval_recall_at_5"]] + [row["by_language"][lang] for lang in LANGS]
            lines.append(f"{method:24}" + "".join(f"{_fmt(v):>9}" for v in values))
    return "\n".join(lines)


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="chart" src="data:image/png;base64,{data}">'


def _charts(summary: Mapping[str, Any], records: Sequence[Record]) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    charts: dict[str, str] = {}
    names = [
        ("cite_hit_rate", "cite hit"),
        ("cite_precision", "precision"),
        ("facts_rate", "facts"),
        ("refusal_accuracy", "refusal acc."),
        ("false_refusal_rate", "false refusal"),
        ("language_match", "language"),
        ("retrieval_recall_at_5", "recall@5"),
    ]
    fig, ax = plt.subplots(figsize=(9, 3.6))
    width = 0.8 / len(LANGS)
    for i, lang in enumerate(LANGS):
        row = summary["by_language"][lang]
        values = [row.get(k) or 0.0 for k, _ in names]
        ax.bar([x + i * width for x in range(len(names))], values, width, label=lang)
    ax.set_xticks([x + width for x in range(len(names))], [n for _, n in names])
    ax.set_ylim(0, 1.05)
    ax.set_title("Rates per language")
    ax.legend(loc="lower right")
    ax.grid(axis="y", alpha=0.3)
    charts["languages"] = _png(fig)
    plt.close(fig)

    inst = summary["by_instrument"]
    if inst:
        labels = list(inst)
        fig, ax = plt.subplots(figsize=(9, 0.35 * len(labels) + 1.2))
        ys = range(len(labels))
        ax.barh([y - 0.2 for y in ys], [inst[k]["cite_hit_rate"] or 0 for k in labels], 0.4, label="cite hit")
        ax.barh(
            [y + 0.2 for y in ys],
            [inst[k]["retrieval_recall_at_5"] or 0 for k in labels],
            0.4,
            label="recall@5",
        )
        ax.set_yticks(list(ys), [f"{k} (n={inst[k]['n']})" for k in labels])
        ax.invert_yaxis()
        ax.set_xlim(0, 1.05)
        ax.set_title("Per instrument (answerable questions citing it)")
        ax.legend(loc="lower right")
        ax.grid(axis="x", alpha=0.3)
        charts["instruments"] = _png(fig)
        plt.close(fig)

    latencies = [r.latency_ms for r in records]
    if latencies:
        fig, ax = plt.subplots(figsize=(9, 3))
        ax.hist(latencies, bins=min(30, max(5, len(latencies) // 4)), color="#4c72b0")
        for q, style in ((50, "--"), (95, ":")):
            value = percentile(latencies, q)
            ax.axvline(value, color="black", linestyle=style, label=f"p{q} = {value:.0f} ms")
        ax.set_xlabel("latency per question (ms)")
        ax.set_ylabel("questions")
        ax.set_title("Latency")
        ax.legend()
        charts["latency"] = _png(fig)
        plt.close(fig)

    base = summary.get("baselines", {}).get("methods", {})
    if base:
        cols = ["all", *LANGS]
        fig, ax = plt.subplots(figsize=(9, 3.2))
        width = 0.8 / len(base)
        for i, (method, row) in enumerate(base.items()):
            values = [row["retrieval_recall_at_5"] or 0] + [row["by_language"][lg] or 0 for lg in LANGS]
            ax.bar([x + i * width for x in range(len(cols))], values, width, label=method)
        ax.set_xticks([x + width * (len(base) - 1) / 2 for x in range(len(cols))], cols)
        ax.set_ylim(0, 1.05)
        ax.set_title("Retrieval recall@5 by method")
        ax.legend(loc="lower right")
        ax.grid(axis="y", alpha=0.3)
        charts["baselines"] = _png(fig)
        plt.close(fig)
    return charts


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1100px;
color:#222;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left}.meta td{text-align:left}
img{max-width:100%}.fail{border:1px solid #e0b4b4;background:#fff8f8;border-radius:6px;padding:.6rem 1rem;
margin:1rem 0}.fail h3{font-size:1rem;margin:.2rem 0}.checks{color:#a00;font-weight:600}
pre{white-space:pre-wrap;background:#f6f6f6;padding:.5rem;border-radius:4px;font-size:.9rem}
.muted{color:#666}
"""


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _summary_table(summary: Mapping[str, Any]) -> str:
    head = "<tr><th>metric</th><th>all</th>" + "".join(f"<th>{lang}</th>" for lang in LANGS) + "</tr>"
    rows = []
    for key, name in ROWS:
        values = [summary.get(key)] + [summary["by_language"][lang].get(key) for lang in LANGS]
        rows.append(f"<tr><td>{_esc(name)}</td>" + "".join(f"<td>{_fmt(v)}</td>" for v in values) + "</tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _baseline_table(summary: Mapping[str, Any]) -> str:
    base = summary.get("baselines", {}).get("methods", {})
    if not base:
        return '<p class="muted">Not measured: run with <code>--compare</code>.</p>'
    head = "<tr><th>method</th><th>all</th>" + "".join(f"<th>{lang}</th>" for lang in LANGS) + "</tr>"
    rows = []
    for method, row in base.items():
        values = [row["retrieval_recall_at_5"]] + [row["by_language"][lang] for lang in LANGS]
        rows.append(f"<tr><td>{_esc(method)}</td>" + "".join(f"<td>{_fmt(v)}</td>" for v in values) + "</tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _yes_no(value: bool | None) -> str:
    return "n/a" if value is None else ("yes" if value else "no")


def _failure(record: Record) -> str:
    q, a, s = record.question, record.answer, record.scores
    expect = q.expect
    expected = (
        "a refusal"
        if expect.refuse
        else f"cite one of {', '.join(expect.cite)}"
        + (f"; also correct: {', '.join(expect.also)}" if expect.also else "")
        + (f"; facts: {' / '.join(expect.facts)}" if expect.facts else "")
    )
    history = "".join(f"<div class='muted'>earlier: {_esc(h)}</div>" for h in q.history)
    cited = ", ".join(c.id for c in a.citations) or "none"
    articles = ", ".join(article_of(g[0]) for g in top_articles(a.retrieved))
    state = f"refused ({a.reason})" if a.refused else "answered"
    return (
        f"<div class='fail'><h3>{_esc(q.id)} · {_esc(q.lang)} · <span class='checks'>"
        f"{_esc(', '.join(s.failed))}</span></h3>{history}"
        f"<div><b>Question:</b> {_esc(q.question)}</div>"
        f"<div><b>Expected:</b> {_esc(expected)}; language {_esc(q.lang)}</div>"
        f"<div><b>Got:</b> {_esc(state)} in {_esc(a.language)}; cited {_esc(cited)}"
        + (f"; fabricated {_esc(', '.join(s.fabricated))}" if s.fabricated else "")
        + f"</div><div class='muted'>top {RECALL_K} articles retrieved: {_esc(articles or 'none')}"
        f" (expected one among them: {_esc(_yes_no(s.recall_at_5))})</div>"
        f"<pre>{_esc(a.answer)}</pre></div>"
    )


def render_report(summary: Mapping[str, Any], records: Sequence[Record]) -> str:
    """The self-contained HTML report (charts inlined as base64 PNG, every text HTML-escaped)."""
    charts = _charts(summary, records)
    meta_rows = [
        ("question file", summary.get("questions_file")),
        ("mode", summary.get("mode")),
        ("answer modes", ", ".join(f"{k}: {v}" for k, v in summary.get("answer_modes", {}).items())),
        ("started / finished (UTC)", f"{summary.get('started_at')} / {summary.get('finished_at')}"),
        (
            "git commit",
            f"{summary.get('git_commit')}" + (" (uncommitted changes)" if summary.get("git_dirty") else ""),
        ),
        ("version", summary.get("assistant_version")),
    ]
    meta = "".join(f"<tr><td>{_esc(k)}</td><td>{_esc(v)}</td></tr>" for k, v in meta_rows)
    inst = summary.get("by_instrument", {})
    inst_rows = "".join(
        f"<tr><td>{_esc(k)}</td><td>{v['n']}</td><td>{_fmt(v['cite_hit_rate'])}</td>"
        f"<td>{_fmt(v['retrieval_recall_at_5'])}</td></tr>"
        for k, v in inst.items()
    )
    failures = [r for r in records if r.scores.failed]
    failed_html = "".join(_failure(r) for r in failures) or "<p>None.</p>"
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>Evaluation report · {_esc(Path(str(summary.get('questions_file', ''))).name)}</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Evaluation report</h1>",
        f"<table class='meta'>{meta}</table>",
        "<h2>Summary</h2>",
        _summary_table(summary),
        "<p class='muted'>Rates over answerable questions (refuse: false) except refusal accuracy "
        "(questions expecting a refusal) and language match (all). See docs/evaluation.md.</p>",
        "<h2>Per language</h2>",
        charts.get("languages", ""),
        "<h2>Per instrument</h2>",
        charts.get("instruments", ""),
        f"<table><tr><th>instrument</th><th>n</th><th>cite hit</th><th>recall@5</th></tr>{inst_rows}</table>",
        "<h2>Latency</h2>",
        charts.get("latency", ""),
        f"<h2>Retrieval baselines (recall@{RECALL_K})</h2>",
        _baseline_table(summary),
        charts.get("baselines", ""),
        f"<h2>Failed questions ({len(failures)} of {len(records)})</h2>",
        failed_html,
        "</body></html>",
    ]
    return "\n".join(parts)
