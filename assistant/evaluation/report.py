"""Presentation of an evaluation: the console table and the self-contained HTML report with charts.

Takes: a summary (evaluation/score.py) and the records. Gives: text and one HTML page (matplotlib charts
inlined as PNG). matplotlib is imported here only, so nothing else pays for it.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from assistant.core.ids import article_of
from assistant.core.langs import LANGS
from assistant.evaluation.score import RECALL_K, Record, percentile, top_articles

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
