"""assistant.evaluation.run without a model: question-file validation, the matching rule, the scorers on
hand-made answers, aggregation, and a whole run (files, report, CLI) against a stand-in assistant."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from assistant.answer.citations import Citation
from assistant.answer.extractive import Answer
from assistant.core.errors import QuestionFileError
from assistant.evaluation import questions, run, score
from assistant.search.retrieve import Hit

GOOD_ENTRY = """\
- id: q001
  lang: kk
  question: "Страсбург конвенциясының 13-бабы не туралы?"
  expect:
    cite: ["strasbourg1990:13"]
    also: ["uncac:54"]
    facts: ["13"]
    refuse: false
"""


def second(body: str) -> str:
    """A file whose first entry is valid and whose second is `body` (indented as a list item)."""
    return GOOD_ENTRY + "\n" + textwrap.dedent(body)


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("text", "entry", "reason"),
    [
        (
            second('- id: q002\n  lang: ru\n  expect: {cite: ["uncac"], refuse: false}\n'),
            "entry 'q002' (#2)",
            "missing 'question'",
        ),
        (
            second(
                '- id: q002\n  lang: de\n  question: "Was?"\n  expect: {cite: ["uncac"], refuse: false}\n'
            ),
            "entry 'q002' (#2)",
            "unknown lang 'de'",
        ),
        (
            second(
                '- id: q002\n  lang: ru\n  question: "Что?"\n  expect: {cite: ["Strasbourg 13"], refuse: false}\n'
            ),
            "entry 'q002' (#2)",
            "malformed citation id 'Strasbourg 13'",
        ),
        (
            second(
                '- id: q002\n  lang: ru\n  question: "Что?"\n  expect: {cite: ["uncac"], also: ["uncac:54:1"], refuse: false}\n'
            ),
            "entry 'q002' (#2)",
            "malformed citation id 'uncac:54:1' in expect.also",
        ),
        (
            second(
                '- id: q002\n  lang: ru\n  question: "Что?"\n  expect: {cite: ["uncac"], facts: ["(unclosed"], refuse: false}\n'
            ),
            "entry 'q002' (#2)",
            "bad regex '(unclosed'",
        ),
        (
            second(
                '- id: q002\n  lang: ru\n  question: "Что?"\n  expect: {cite: ["uncac"], facts: [".*"], refuse: false}\n'
            ),
            "entry 'q002' (#2)",
            "matches the empty string",
        ),
        (
            second(
                '- id: q001\n  lang: ru\n  question: "Что?"\n  expect: {cite: ["uncac"], refuse: false}\n'
            ),
            "entry 'q001' (#2)",
            "duplicate id (first used by entry #1)",
        ),
        (
            second('- lang: ru\n  question: "Что?"\n  expect: {cite: ["uncac"], refuse: false}\n'),
            "entry #2",
            "missing 'id'",
        ),
        (
            second('- id: q002\n  lang: ru\n  question: "  "\n  expect: {cite: ["uncac"], refuse: false}\n'),
            "entry 'q002' (#2)",
            "question must be a non-empty string",
        ),
        (
            second(
                '- id: q002\n  lang: ru\n  question: "А 55?"\n  history: "ст. 54"\n  expect: {cite: ["uncac"], refuse: false}\n'
            ),
            "entry 'q002' (#2)",
            "history must be a list",
        ),
        (
            second(
                '- id: q002\n  lang: ru\n  question: "Что?"\n  colour: red\n  expect: {cite: ["uncac"], refuse: false}\n'
            ),
            "entry 'q002' (#2)",
            "unknown key(s) ['colour']",
        ),
        (
            second(
                '- id: q002\n  lang: ru\n  question: "Что?"\n  expect: {cite: ["uncac"], refuse: false, extra: 1}\n'
            ),
            "entry 'q002' (#2)",
            "unknown key(s) ['extra'] in expect",
        ),
        (
            second('- id: q002\n  lang: ru\n  question: "Что?"\n  expect: {cite: ["uncac"]}\n'),
            "entry 'q002' (#2)",
            "missing expect.refuse",
        ),
        (
            second('- id: q002\n  lang: ru\n  question: "Что?"\n  expect: {cite: ["uncac"], refuse: "no"}\n'),
            "entry 'q002' (#2)",
            "expect.refuse must be true or false",
        ),
        (
            second(
                '- id: q002\n  lang: ru\n  question: "Погода?"\n  expect: {cite: ["uncac"], refuse: true}\n'
            ),
            "entry 'q002' (#2)",
            "refusal has no cite",
        ),
        (
            second('- id: q002\n  lang: ru\n  question: "Что?"\n  expect: {cite: [], refuse: false}\n'),
            "entry 'q002' (#2)",
            "needs at least one expect.cite",
        ),
        (
            second(
                '- id: q002\n  lang: ru\n  kind: chat\n  question: "Что?"\n  expect: {cite: ["uncac"], refuse: false}\n'
            ),
            "entry 'q002' (#2)",
            "unknown kind 'chat'",
        ),
        (
            second(
                '- id: q002\n  lang: ru\n  split: dev\n  question: "Что?"\n  expect: {cite: ["uncac"], refuse: false}\n'
            ),
            "entry 'q002' (#2)",
            "unknown split 'dev'",
        ),
        (
            second(
                '- id: q002\n  lang: ru\n  question: "Что?"\n  expect: {cite: ["uncac"], instruments: ["uncac:54"], refuse: false}\n'
            ),
            "entry 'q002' (#2)",
            "instrument ids only",
        ),
        (second("- just a string\n"), "entry #2", "must be a mapping"),
        (second("- id: [q002\n  lang: ru\n"), "(in entry #2)", "invalid YAML at line 11"),
        ("id: q001\nlang: kk\n", "non-empty YAML list", "list of question entries"),
        ("", "non-empty YAML list", "list of question entries"),
    ],
)
def test_schema_errors_name_file_entry_and_reason(tmp_path: Path, text: str, entry: str, reason: str) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(QuestionFileError) as info:
        questions.load_questions(path)
    message = str(info.value)
    assert str(path) in message
    assert entry in message
    assert reason in message
    assert "\n" not in message
    assert info.value.exit_code == 2


def test_missing_file_is_a_question_file_error(tmp_path: Path) -> None:
    with pytest.raises(QuestionFileError, match=r"nope\.yaml: no such question file"):
        questions.load_questions(tmp_path / "nope.yaml")


def test_valid_file_parses_into_questions(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(
        GOOD_ENTRY
        + '- id: q002\n  lang: ru\n  kind: compare\n  split: test\n  history: ["Что в ст. 54 УНКАК?"]\n'
        + '  question: "А 55?"\n  expect: {cite: ["uncac:55"], instruments: ["uncac", "untoc"], refuse: false}\n'
        + '- id: q003\n  lang: en\n  question: "Weather?"\n  expect: {cite: [], refuse: true}\n',
        encoding="utf-8",
    )
    qs = questions.load_questions(path)
    assert [q.id for q in qs] == ["q001", "q002", "q003"]
    assert qs[0].expect == questions.Expect(("strasbourg1990:13",), ("uncac:54",), ("13",), False)
    assert qs[1].history == ("Что в ст. 54 УНКАК?",) and qs[1].expect.facts == ()
    assert (qs[1].kind, qs[1].split, qs[1].expect.instruments) == ("compare", "test", ("uncac", "untoc"))
    assert (qs[0].kind, qs[0].split) == (None, None)
    assert qs[2].expect.refuse is True


@pytest.mark.parametrize(
    ("key", "gold", "message"),
    [
        ("cite", "strasbourg1990:99", "expect.cite id 'strasbourg1990:99' is not in the index"),
        ("cite", "nosuch", "expect.cite id 'nosuch' is not in the index"),
        ("instruments", "nosuch", "expect.instruments id 'nosuch' is not in the index"),
    ],
)
def test_gold_ids_must_exist_in_the_index(key: str, gold: str, message: str) -> None:
    q = questions.Question("q007", "ru", "?", questions.Expect(**{key: (gold,)}))
    with pytest.raises(QuestionFileError) as info:
        questions.check_gold_ids([q], Path("f.yaml"), {"strasbourg1990:13", "uncac:54"})
    assert (
        "f.yaml" in str(info.value) and "entry 'q007' (#1)" in str(info.value) and message in str(info.value)
    )


# ---------------------------------------------------------------- matching rule


@pytest.mark.parametrize(
    ("gold", "cited", "expected"),
    [
        ("strasbourg1990:13", "strasbourg1990:13.1.a", True),
        ("strasbourg1990", "strasbourg1990:13.1.a", True),
        ("strasbourg1990:13", "strasbourg1990:13", True),
        ("strasbourg1990:13.1", "strasbourg1990:13.1.a", True),
        ("strasbourg1990:13", "strasbourg1990:131", False),
        ("strasbourg1990:13.1.a", "strasbourg1990:13", False),
        ("strasbourg1990", "strasbourg1990-bis:1", False),
        ("article", "article:results.19", True),
        ("article", "uncac:1", False),
        ("uncac:46.8", "uncac:46", False),
    ],
)
def test_matching_rule(gold: str, cited: str, expected: bool) -> None:
    assert score.covers(gold, cited) is expected


@pytest.mark.parametrize(
    ("retrieved", "gold", "expected"),
    [
        (["a:1", "a:2", "a:3", "a:4", "a:5"], ["a:5"], True),
        (["a:1", "a:2", "a:3", "a:4", "a:5", "a:6"], ["a:6"], False),  # sixth distinct article
        # paragraphs of one article count once, so the sixth id is still the second article
        (["a:1.1", "a:1.2", "a:1.3", "a:1.4", "a:1.5", "a:2.1"], ["a:2"], True),
        (["a:1", "a:2"], ["a:2.3"], True),  # the whole article retrieved for a paragraph gold
        (["a:2.1"], ["a:2.3"], False),  # another paragraph of it is not the expected provision
        (["b:1", "a:9.2.c"], ["a"], True),
        (["article:results.19"], ["article"], True),
        ([], ["a:1"], False),
    ],
)
def test_recall_groups_by_article(retrieved: list[str], gold: list[str], expected: bool) -> None:
    assert score.recall_at_k(retrieved, gold, 5) is expected


# ---------------------------------------------------------------- scorers on hand-made answers

INDEX_IDS = {"s:13", "s:13.1", "s:13.1.a", "s:14", "u:54", "u:54.1", "article:results.3"}


def cite(pid: str) -> Citation:
    inst, _, rest = pid.partition(":")
    return Citation(pid, inst, rest.split(".")[0], "t", f"label {pid}", "quote", "ru")


def answer(
    cited: list[str] = (),
    retrieved: list[str] = (),
    *,
    text: str = "ст. 13",
    refused: bool = False,
    lang: str = "ru",
) -> Answer:
    return Answer(
        question="?",
        language=lang,
        answer=text,
        refused=refused,
        citations=tuple(cite(c) for c in cited),
        retrieved=tuple(retrieved),
    )


def question(
    cite_: tuple[str, ...] = ("s:13",), also: tuple[str, ...] = (), facts=(), refuse=False, lang="ru"
) -> questions.Question:
    return questions.Question("q1", lang, "?", questions.Expect(cite_, also, tuple(facts), refuse))


@pytest.mark.parametrize(
    ("q", "a", "expected"),
    [
        # cites the expected article's item: a hit, fully precise
        (
            question(),
            answer(["s:13.1.a"], ["s:13"]),
            {"cite_hit": True, "cite_precision": 1.0, "fabricated": ()},
        ),
        # one of two citations is neither cite nor also
        (question(), answer(["s:13", "s:14"], ["s:13", "s:14"]), {"cite_hit": True, "cite_precision": 0.5}),
        # `also` is not counted against precision, but is not a hit either
        (question(also=("u:54",)), answer(["u:54.1"], ["u:54"]), {"cite_hit": False, "cite_precision": 1.0}),
        # an id that is not in the index is fabricated
        (question(), answer(["s:13", "s:99"], ["s:13", "s:99"]), {"fabricated": ("s:99",)}),
        # an id in the index but not retrieved (nor related to a retrieved id) is fabricated
        (question(), answer(["s:13", "u:54"], ["s:13.1"]), {"fabricated": ("u:54",), "cite_hit": True}),
        # the ancestor or descendant of a retrieved id is not fabricated
        (question(), answer(["s:13", "s:13.1.a"], ["s:13.1"]), {"fabricated": ()}),
        # facts: all must match, case-insensitively
        (question(facts=["ст\\. 13", "КОНФИСКАЦ"]), answer(text="ст. 13: конфискация"), {"facts_ok": True}),
        (question(facts=["13", "54"]), answer(text="ст. 13"), {"facts_ok": False}),
        (question(), answer(), {"facts_ok": None}),
        # refusals
        (question((), refuse=True), answer(refused=True, text="нет"), {"refusal_ok": True, "cite_hit": None}),
        (
            question((), refuse=True),
            answer(["s:13"], ["s:13"]),
            {"refusal_ok": False, "cite_precision": None},
        ),
        (question(), answer(refused=True), {"refusal_ok": False, "cite_hit": False, "recall_at_5": False}),
        # language
        (question(lang="kk"), answer(lang="ru"), {"language_ok": False}),
        (question(lang="kk"), answer(lang="kk"), {"language_ok": True}),
        # recall from the answer's own retrieved list
        (question(), answer([], ["u:54", "s:13.1"]), {"recall_at_5": True}),
    ],
)
def test_scores(q: questions.Question, a: Answer, expected: dict) -> None:
    s = score.score(q, a, INDEX_IDS)
    for key, value in expected.items():
        assert getattr(s, key) == value, key


def test_failed_lists_the_broken_checks() -> None:
    s = score.score(question(facts=["54"]), answer(["s:99"], ["s:13"], lang="kk"), INDEX_IDS)
    assert set(s.failed) == {"language_ok", "cite_hit", "facts_ok", "fabricated"}
    assert score.score(question(), answer(["s:13"], ["s:13"]), INDEX_IDS).failed == ()


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [([], 50, None), ([7.0], 95, 7.0), ([1.0, 2.0, 3.0, 4.0], 50, 2.5), ([*range(1, 101)], 95, 95.05)],
)
def test_percentile(values: list[float], q: float, expected: float | None) -> None:
    assert score.percentile(values, q) == expected


def record(q: questions.Question, a: Answer, latency: float = 100.0) -> score.Record:
    return score.Record(q, a, score.score(q, a, INDEX_IDS), latency)


def test_metrics_denominators() -> None:
    records = [
        record(question(facts=["13"]), answer(["s:13", "s:14"], ["s:13", "s:14"])),  # hit, 1/2 precise
        record(question(("u:54",)), answer(["s:13"], ["s:13"]), 300.0),  # miss
        record(question(("u:54",)), answer(refused=True, text="no")),  # false refusal
        record(question((), refuse=True), answer(refused=True, text="no")),  # right refusal
        record(question((), refuse=True, lang="kk"), answer(["s:99"], [])),  # wrong + fabricated
    ]
    m = score.metrics(records)
    assert m["n"] == 5 and m["n_answerable"] == 3 and m["n_refuse"] == 2
    assert m["cite_hit_rate"] == round(1 / 3, 4)
    assert m["cite_precision"] == round(1 / 3, 4)  # 1 of the 3 citations of answerable questions
    assert m["fabricated_citations"] == 1
    assert m["facts_rate"] == 1.0
    assert m["refusal_accuracy"] == 0.5
    assert m["false_refusal_rate"] == round(1 / 3, 4)
    assert m["language_match"] == 0.8
    assert m["latency_ms_p50"] == 100.0
    summary = score.summarize(records)
    assert summary["by_language"]["kk"]["n"] == 1 and summary["by_language"]["en"]["cite_hit_rate"] is None
    assert summary["by_instrument"]["u"] == {"n": 2, "cite_hit_rate": 0.0, "retrieval_recall_at_5": 0.0}


# ---------------------------------------------------------------- a whole run on a stand-in assistant

RUN_FILE = """\
- id: q001
  lang: ru
  question: "Что говорит ст. 13?"
  expect: {cite: ["s:13"], also: [], facts: ["13"], refuse: false}
- id: q002
  lang: ru
  question: "Что говорит ст. 54?"
  expect: {cite: ["u:54"], refuse: false}
- id: q003
  lang: en
  question: "Weather?"
  expect: {cite: [], refuse: true}
"""


class StandIn:
    """Answers from a table; retrieval by method from another (what `Assistant` offers evaluation)."""

    def __init__(self, home: Path, answers: dict[str, Answer]) -> None:
        self.settings = SimpleNamespace(home=home, mode="extractive", max_question_chars=2000, top_k=8)
        self.index = SimpleNamespace(store=SimpleNamespace(ids=INDEX_IDS))
        self.answers = answers
        self.asked: list[str] = []

    def ask(self, question: str, history=(), lang: str = "auto") -> Answer:
        self.asked.append(question)
        return self.answers[question]

    ask_depth = 20

    def prepare(self, question: str, history=(), lang: str = "auto"):
        return SimpleNamespace(request=question)

    def retrieve(self, request, *, method="hybrid", k=None):
        ids = {"hybrid": ["s:13", "u:54"], "dense": ["s:13"], "bm25": ["x:1"]}[method]
        return [Hit(pid, 1.0, pid.split(":")[0], pid.split(":")[1], ("ru",), (method,)) for pid in ids]


def stand_in(tmp_path: Path) -> StandIn:
    return StandIn(
        tmp_path,
        {
            "Что говорит ст. 13?": answer(["s:13.1"], ["s:13"], text="<script>alert(1)</script> ст. 13"),
            "Что говорит ст. 54?": answer(["s:13", "s:99"], ["s:13"], text="wrong & <b>bold</b>"),
            "Weather?": answer(refused=True, text="Out of scope.", lang="en"),
        },
    )


def test_run_writes_results_summary_and_a_self_contained_report(tmp_path: Path) -> None:
    path = tmp_path / "q.yaml"
    path.write_text(RUN_FILE, encoding="utf-8")
    fake = stand_in(tmp_path)
    summary = run.run_evaluation(fake, path, tmp_path / "out", compare=True, progress=False)

    lines = [
        json.loads(x) for x in (tmp_path / "out" / "results.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert [x["id"] for x in lines] == ["q001", "q002", "q003"]
    answer_keys = set(answer().to_dict())
    score_keys = {
        "cite_hit",
        "cite_precision",
        "fabricated",
        "facts_ok",
        "refusal_ok",
        "language_ok",
        "recall_at_5",
    }
    assert answer_keys | score_keys <= set(lines[0])
    assert lines[1]["fabricated"] == ["s:99"] and lines[1]["cite_hit"] is False
    assert lines[0]["recall_at_5_dense"] is True and lines[0]["recall_at_5_bm25"] is False

    written = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert written == json.loads(json.dumps(summary))
    for key in (
        "n", "cite_hit_rate", "cite_precision", "fabricated_citations", "facts_rate", "refusal_accuracy",
        "false_refusal_rate", "language_match", "retrieval_recall_at_5", "latency_ms_p50", "latency_ms_p95",
        "by_language", "by_instrument", "baselines", "mode", "questions_file", "started_at", "finished_at",
    ):  # fmt: skip
        assert key in written, key
    assert written["n"] == 3 and written["cite_hit_rate"] == 0.5 and written["fabricated_citations"] == 1
    assert written["baselines"]["methods"]["dense"]["retrieval_recall_at_5"] == 0.5
    assert written["baselines"]["methods"]["bm25"]["by_language"]["ru"] == 0.0
    assert written["failed_ids"] == ["q002"]

    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in report and "&lt;b&gt;bold&lt;/b&gt;" in report and "wrong &amp; " in report
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", report)
    assert report.count('src="data:image/png;base64,') >= 4  # languages, instruments, latency, baselines
    assert "q002" in report and "u:54" in report  # the failure and what was expected


def test_unknown_gold_id_stops_before_any_question_runs(tmp_path: Path) -> None:
    path = tmp_path / "q.yaml"
    path.write_text(RUN_FILE.replace('"u:54"', '"u:540"'), encoding="utf-8")
    fake = stand_in(tmp_path)
    with pytest.raises(QuestionFileError, match=r"entry 'q002' \(#2\).*'u:540' is not in the index"):
        run.run_evaluation(fake, path, tmp_path / "out", progress=False)
    assert fake.asked == []
    assert not (tmp_path / "out").exists()


def test_cli_rejects_a_bad_file_in_one_line_before_loading_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from assistant import cli, pipeline

    def no_model(*args, **kwargs):
        raise AssertionError("the assistant was built before the file was validated")

    monkeypatch.setattr(pipeline, "Assistant", no_model)
    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path))
    path = tmp_path / "bad.yaml"
    path.write_text(RUN_FILE.replace("lang: en", "lang: fr"), encoding="utf-8")
    code = cli.main(["eval", "--questions", str(path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert str(path) in err and "entry 'q003' (#3)" in err and "unknown lang 'fr'" in err
    assert not (tmp_path / "out").exists()
