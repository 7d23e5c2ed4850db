"""tests/questions.yaml: schema, coverage counts, and gold citations/facts checked against the parsed corpus.

The schema checker is tested first on small entries written here (so it can be seen to fail), then run on
the real file. The corpus checks read the fetched corpus (corpus/files) and skip when it is not fetched.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from assistant.core.errors import CorpusError
from assistant.core.settings import Settings

REPO = Path(__file__).resolve().parents[2]
QUESTIONS = REPO / "tests" / "questions.yaml"

LANGS = {"kk", "ru", "en"}
ENTRY_KEYS = {"id", "lang", "kind", "split", "question", "history", "expect"}
REQUIRED_ENTRY_KEYS = {"id", "lang", "kind", "split", "question", "expect"}
EXPECT_KEYS = {"cite", "also", "facts", "refuse", "instruments"}
KINDS = {"which", "yesno", "article", "procedure", "compare", "definition", "facts", "followup", "scenario"}
KINDS |= {"refuse", "other"}
SPLITS = {"tune", "test"}
REQUIRED_EXPECT_KEYS = {"cite", "refuse"}
ID_RE = re.compile(r"^q\d{3,4}$")
# "instrument", "instrument:article", "instrument:article.para", "instrument:article.para.sub"
CITE_RE = re.compile(r"^[a-z][a-z0-9-]*(:[a-z0-9-]+(\.[a-z0-9-]+){0,2})?$")
KAZAKH_LETTERS = set("әғқңөұүһі")
MAX_FACTS = 2
MAX_QUESTION_CHARS = 2000

# Minimum counts the file must keep (the brief's requirements).
MIN_TOTAL = 250
MIN_PER_LANG = {"kk": 95, "ru": 105, "en": 40}
MIN_REFUSE = 33
MIN_FOLLOW_UPS = 24
MIN_PER_KIND = {"compare": 10, "scenario": 9, "yesno": 40, "article": 30, "facts": 20}
MIN_PER_INSTRUMENT = 2
# The test split's share, overall and per language (the split is stratified by lang and kind, 60/40).
TEST_SHARE = (0.35, 0.45)
# Consecutive words shared with a provision that count as pasting treaty text into a question.
COPY_NGRAM = 7


def check_entry(entry: Any) -> list[str]:
    """Every schema problem of one question entry, as short messages (empty list = valid)."""
    if not isinstance(entry, dict):
        return [f"entry is {type(entry).__name__}, not a mapping"]
    problems: list[str] = []
    qid = entry.get("id", "?")
    unknown = set(entry) - ENTRY_KEYS
    missing = REQUIRED_ENTRY_KEYS - set(entry)
    if unknown:
        problems.append(f"{qid}: unknown keys {sorted(unknown)}")
    if missing:
        problems.append(f"{qid}: missing keys {sorted(missing)}")
    if not isinstance(entry.get("id"), str) or not ID_RE.match(entry.get("id", "")):
        problems.append(f"{qid}: id must look like q001")
    if entry.get("lang") not in LANGS:
        problems.append(f"{qid}: lang {entry.get('lang')!r} not in {sorted(LANGS)}")
    kind = entry.get("kind")
    if kind not in KINDS:
        problems.append(f"{qid}: kind {kind!r} not in {sorted(KINDS)}")
    if entry.get("split") not in SPLITS:
        problems.append(f"{qid}: split {entry.get('split')!r} not in {sorted(SPLITS)}")
    if (kind == "followup") != ("history" in entry):
        problems.append(f"{qid}: kind followup and a history go together")
    question = entry.get("question")
    if not isinstance(question, str) or not question.strip():
        problems.append(f"{qid}: question must be a non-empty string")
    elif len(question) > MAX_QUESTION_CHARS:
        problems.append(f"{qid}: question longer than {MAX_QUESTION_CHARS} chars")
    if "history" in entry:
        history = entry["history"]
        if (
            not isinstance(history, list)
            or not history
            or not all(isinstance(h, str) and h.strip() for h in history)
        ):
            problems.append(f"{qid}: history must be a non-empty list of non-empty strings")
    expect = entry.get("expect")
    if not isinstance(expect, dict):
        return [*problems, f"{qid}: expect must be a mapping"]
    unknown = set(expect) - EXPECT_KEYS
    missing = REQUIRED_EXPECT_KEYS - set(expect)
    if unknown:
        problems.append(f"{qid}: unknown expect keys {sorted(unknown)}")
    if missing:
        problems.append(f"{qid}: missing expect keys {sorted(missing)}")
    for key in ("cite", "also"):
        value = expect.get(key, [])
        if not isinstance(value, list) or not all(isinstance(c, str) and CITE_RE.match(c) for c in value):
            problems.append(f"{qid}: expect.{key} must be a list of ids like 'uncac:54.1.a'")
    facts = expect.get("facts", [])
    if not isinstance(facts, list) or len(facts) > MAX_FACTS:
        problems.append(f"{qid}: expect.facts must be a list of at most {MAX_FACTS} regexes")
    else:
        for fact in facts:
            try:
                if not isinstance(fact, str) or re.fullmatch(fact, "", re.IGNORECASE):
                    problems.append(f"{qid}: fact {fact!r} is empty or matches the empty string")
            except re.error as exc:
                problems.append(f"{qid}: fact {fact!r} is not a regex ({exc})")
    instruments = expect.get("instruments", [])
    if kind == "compare" and (
        not isinstance(instruments, list)
        or len(instruments) < 2
        or not all(isinstance(i, str) and ":" not in i and CITE_RE.match(i) for i in instruments)
    ):
        problems.append(f"{qid}: a comparison needs expect.instruments, two or more instrument ids")
    elif kind != "compare" and "instruments" in expect:
        problems.append(f"{qid}: expect.instruments is for kind compare only")
    refuse = expect.get("refuse")
    if isinstance(refuse, bool) and refuse != (kind == "refuse"):
        problems.append(f"{qid}: kind refuse and expect.refuse: true go together")
    cite = expect.get("cite") if isinstance(expect.get("cite"), list) else []
    if not isinstance(refuse, bool):
        problems.append(f"{qid}: expect.refuse must be true or false")
    elif refuse and (cite or expect.get("also") or expect.get("facts")):
        problems.append(f"{qid}: a refusal has no cite, also or facts")
    elif not refuse and not cite:
        problems.append(f"{qid}: an answerable question needs at least one cite")
    return problems


def instrument_of(cite: str) -> str:
    return cite.split(":", 1)[0]


def covers(gold: str, provision_id: str) -> bool:
    """True when `provision_id` is `gold` or lies under it (article → paragraph → sub; instrument → all)."""
    if ":" not in gold:
        return provision_id.split(":", 1)[0] == gold
    return provision_id == gold or provision_id.startswith(gold + ".")


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


@functools.cache
def load_questions() -> list[Any]:
    data = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
    assert isinstance(data, list), "tests/questions.yaml must be a YAML list of question entries"
    return data


@pytest.fixture(scope="module")
def questions() -> list[dict]:
    data = load_questions()
    problems = [p for entry in data for p in check_entry(entry)]
    assert not problems, "schema problems:\n" + "\n".join(problems)
    return data


@pytest.fixture(scope="module")
def provisions() -> list:
    from assistant.corpus.manifest import load_manifest
    from assistant.corpus.provisions import load_provisions

    settings = Settings(home=REPO)
    try:
        manifest = load_manifest(settings.path(settings.manifest))
        return load_provisions(manifest, settings.path(settings.corpus_dir))
    except CorpusError as exc:
        pytest.skip(f"corpus not fetched: {exc.message}")


# ---------------------------------------------------------------- the checker itself

GOOD = {
    "id": "q001",
    "lang": "kk",
    "kind": "article",
    "split": "tune",
    "question": "Страсбург конвенциясының 13-бабы не туралы?",
    "expect": {"cite": ["strasbourg1990:13"], "also": [], "facts": ["13"], "refuse": False},
}


def variant(**changes: Any) -> dict:
    entry = {**GOOD, "expect": dict(GOOD["expect"])}
    for key, value in changes.items():
        if key.startswith("expect_"):
            entry["expect"][key.removeprefix("expect_")] = value
        elif value is None:
            entry.pop(key, None)
        else:
            entry[key] = value
    return entry


@pytest.mark.parametrize(
    ("entry", "needle"),
    [
        (variant(lang="de"), "lang"),
        (variant(id="1"), "id must"),
        (variant(question=" "), "question"),
        (variant(question=None), "missing keys"),
        (variant(history="earlier"), "history"),
        (variant(colour="red"), "unknown keys"),
        (variant(expect_cite=[]), "needs at least one cite"),
        (variant(expect_refuse=True, kind="refuse"), "refusal has no cite"),
        (variant(expect_refuse=True), "kind refuse and expect.refuse"),
        (variant(kind="refuse"), "kind refuse and expect.refuse"),
        (variant(kind="chat"), "kind 'chat'"),
        (variant(kind=None), "missing keys"),
        (variant(split="dev"), "split 'dev'"),
        (variant(split=None), "missing keys"),
        (variant(kind="followup"), "followup and a history"),
        (variant(history=["Что в ст. 54?"]), "followup and a history"),
        (variant(kind="compare"), "needs expect.instruments"),
        (variant(kind="compare", expect_instruments=["uncac"]), "needs expect.instruments"),
        (variant(kind="compare", expect_instruments=["uncac", "untoc:13"]), "needs expect.instruments"),
        (variant(expect_instruments=["uncac", "untoc"]), "kind compare only"),
        (variant(expect_refuse="no"), "refuse must"),
        (variant(expect_cite=["Strasbourg 13"]), "expect.cite"),
        (variant(expect_also="uncac:54"), "expect.also"),
        (variant(expect_facts=["(unclosed"]), "not a regex"),
        (variant(expect_facts=[".*"]), "empty string"),
        (variant(expect_facts=["a", "b", "c"]), "at most"),
        (variant(expect_extra=1), "unknown expect keys"),
        ("just a string", "not a mapping"),
    ],
)
def test_checker_rejects(entry: Any, needle: str) -> None:
    problems = check_entry(entry)
    assert any(needle in p for p in problems), problems


@pytest.mark.parametrize(
    "entry",
    [
        GOOD,
        variant(history=["Что говорит статья 54 УНКАК?"], question="А 55?", kind="followup"),
        variant(kind="compare", split="test", expect_instruments=["strasbourg1990", "uncac"]),
        variant(expect_cite=["article"], expect_also=["uncac:ratification"]),
        variant(expect_cite=["strasbourg1990:13.1.a", "uncac"]),
        variant(expect_cite=[], expect_facts=[], expect_refuse=True, kind="refuse"),
        {
            "id": "q002",
            "lang": "en",
            "kind": "refuse",
            "split": "test",
            "question": "Weather?",
            "expect": {"cite": [], "refuse": True},
        },
    ],
)
def test_checker_accepts(entry: dict) -> None:
    assert check_entry(entry) == []


@pytest.mark.parametrize(
    ("gold", "provision_id", "expected"),
    [
        ("strasbourg1990:13", "strasbourg1990:13.1.a", True),
        ("strasbourg1990:13", "strasbourg1990:13", True),
        ("strasbourg1990:13", "strasbourg1990:131", False),
        ("strasbourg1990", "strasbourg1990:2", True),
        ("article", "article:results.19", True),
        ("uncac:46.8", "uncac:46", False),
    ],
)
def test_covers(gold: str, provision_id: str, expected: bool) -> None:
    assert covers(gold, provision_id) is expected


# ---------------------------------------------------------------- the real file


def test_schema_and_unique_ids(questions: list[dict]) -> None:
    counts = Counter(q["id"] for q in questions)
    assert not [i for i, n in counts.items() if n > 1], (
        f"duplicate ids: {[i for i, n in counts.items() if n > 1]}"
    )


def test_counts(questions: list[dict]) -> None:
    langs = Counter(q["lang"] for q in questions)
    refusals = sum(q["expect"]["refuse"] for q in questions)
    follow_ups = sum(1 for q in questions if q.get("history"))
    assert len(questions) >= MIN_TOTAL
    for lang, minimum in MIN_PER_LANG.items():
        assert langs[lang] >= minimum, f"{lang}: {langs[lang]} < {minimum}"
    assert refusals >= MIN_REFUSE, f"{refusals} refusals < {MIN_REFUSE}"
    assert follow_ups >= MIN_FOLLOW_UPS, f"{follow_ups} follow-ups < {MIN_FOLLOW_UPS}"
    kinds = Counter(q["kind"] for q in questions)
    thin = {k: kinds[k] for k, minimum in MIN_PER_KIND.items() if kinds[k] < minimum}
    assert not thin, f"kinds below their minimum {MIN_PER_KIND}: {thin}"


def test_split_is_about_60_40_in_every_language(questions: list[dict]) -> None:
    low, high = TEST_SHARE
    groups = {"all": questions} | {lang: [q for q in questions if q["lang"] == lang] for lang in LANGS}
    for name, group in groups.items():
        share = sum(q["split"] == "test" for q in group) / len(group)
        assert low <= share <= high, f"{name}: test share {share:.2f} outside {TEST_SHARE}"
    # every (lang, kind) with at least three questions has some of each in both halves
    strata = Counter((q["lang"], q["kind"]) for q in questions)
    tested = Counter((q["lang"], q["kind"]) for q in questions if q["split"] == "test")
    lopsided = [s for s, n in strata.items() if n >= 3 and not 0 < tested[s] < n]
    assert not lopsided, f"(lang, kind) groups with all questions in one split: {lopsided}"


def test_comparisons_cite_every_instrument_they_compare(questions: list[dict]) -> None:
    bad = [
        q["id"]
        for q in questions
        if q["kind"] == "compare"
        and not set(q["expect"]["instruments"]) <= {instrument_of(c) for c in q["expect"]["cite"]}
    ]
    assert not bad, f"comparisons whose cite misses one of expect.instruments: {bad}"


def test_refusals_in_every_language(questions: list[dict]) -> None:
    assert {q["lang"] for q in questions if q["expect"]["refuse"]} == LANGS


def test_kazakh_questions_are_written_in_kazakh(questions: list[dict]) -> None:
    # A few Latin-typed Kazakh questions are deliberate; most must use the Kazakh letters.
    kk = [q for q in questions if q["lang"] == "kk"]
    with_letters = [
        q for q in kk if KAZAKH_LETTERS & set((q["question"] + " ".join(q.get("history", []))).lower())
    ]
    assert len(with_letters) >= 0.9 * len(kk)


def test_every_instrument_is_cited_twice(questions: list[dict]) -> None:
    from assistant.corpus.manifest import load_manifest

    settings = Settings(home=REPO)
    instruments = set(load_manifest(settings.path(settings.manifest)).instruments)
    cited = Counter(inst for q in questions for inst in {instrument_of(c) for c in q["expect"]["cite"]})
    thin = {i: cited[i] for i in instruments if cited[i] < MIN_PER_INSTRUMENT}
    assert not thin, f"instruments cited in fewer than {MIN_PER_INSTRUMENT} questions: {thin}"
    unknown = set(cited) - instruments
    assert not unknown, f"cited instruments not in the manifest: {unknown}"


def test_cited_ids_exist(questions: list[dict], provisions: list) -> None:
    ids = {p.id for p in provisions}
    instruments = {p.instrument for p in provisions}
    missing = [
        f"{q['id']}: {c}"
        for q in questions
        for c in q["expect"]["cite"] + q["expect"].get("also", [])
        if (c not in instruments if ":" not in c else c not in ids)
    ]
    assert not missing, "cited ids not in the parsed corpus:\n" + "\n".join(missing)


def test_facts_occur_in_the_cited_provisions(questions: list[dict], provisions: list) -> None:
    # A correct answer quotes the cited provisions and prints their labels, so each fact must be findable
    # in the texts (any language) or article numbers of the gold citations.
    bad = []
    for q in questions:
        gold = q["expect"]["cite"] + q["expect"].get("also", [])
        hits = [p for p in provisions if any(covers(g, p.id) for g in gold)]
        haystack = "\n".join([p.text for p in hits] + [p.article for p in hits])
        bad += [f"{q['id']}: {f!r}" for f in q["expect"].get("facts", []) if not re.search(f, haystack, re.I)]
    assert not bad, "facts not found in the cited provisions:\n" + "\n".join(bad)


def test_questions_do_not_copy_corpus_text(questions: list[dict], provisions: list) -> None:
    shingles: set[tuple[str, ...]] = set()
    for p in provisions:
        w = words(p.text)
        shingles.update(tuple(w[i : i + COPY_NGRAM]) for i in range(len(w) - COPY_NGRAM + 1))
    copied = []
    for q in questions:
        for turn in [q["question"], *q.get("history", [])]:
            w = words(turn)
            if any(tuple(w[i : i + COPY_NGRAM]) in shingles for i in range(len(w) - COPY_NGRAM + 1)):
                copied.append(f"{q['id']}: {turn}")
    assert not copied, f"questions sharing {COPY_NGRAM}+ consecutive words with the corpus:\n" + "\n".join(
        copied
    )
