"""The topic map: schema errors name file, topic and field; the real map loads and its review table is current."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from assistant.core.errors import TopicMapError
from assistant.corpus.manifest import load_manifest
from assistant.corpus.topics import check_against, fold_for_search, load_topics, texts_with_descendants

ROOT = Path(__file__).resolve().parents[2]

GOOD = """
[[topics]]
id = "asset-sharing"
title = { kk = "Бөлісу", ru = "Раздел", en = "Sharing" }
signals.kk = ["бөлісу"]
signals.ru = ["раздел активов"]
signals.en = ["asset sharing"]
none = ["t2"]

[[topics.provisions]]
id = "t1:5.1.a"
weight = "main"
says = { kk = "Қ.", ru = "Р.", en = "E." }
support = ["share the assets"]
"""


def _manifest(complete: dict[str, bool]) -> SimpleNamespace:
    return SimpleNamespace(
        instruments={i: object() for i in complete},
        is_complete=lambda inst, lang: complete[inst],
    )


def _write(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "topics"
    folder.mkdir(exist_ok=True)
    (folder / "a.toml").write_text(text, encoding="utf-8")
    return folder


def test_a_good_file_loads(tmp_path: Path) -> None:
    tm = load_topics(_write(tmp_path, GOOD), _manifest({"t1": True, "t2": True}))
    topic = tm.get("asset-sharing")
    assert topic is not None and topic.instruments() == ["t1"] and topic.none == ("t2",)
    assert tm.status(topic, "t1") == "mapped" and tm.status(topic, "t2") == "none"
    assert tm.status(topic, "t3") == "unmapped"  # a new instrument is «not yet mapped», never `none`
    assert [t.id for t in tm.topics_of("t1:5")] == [
        "asset-sharing"
    ]  # the treaty browser: an article's topics
    assert [t.id for t in tm.topics_of("t1:5.1.a")] == ["asset-sharing"]
    assert tm.topics_of("t1:6") == []


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (('id = "asset-sharing"', 'id = "Asset Sharing"'), "kebab-case"),
        (('title = { kk = "Бөлісу", ', "title = { "), "title.kk: missing"),
        (('signals.ru = ["раздел активов"]', "signals.ru = []"), "signals.ru: needs at least one"),
        (('id = "t1:5.1.a"', 'id = "t1 5"'), "provisions[0].id: 't1 5' is not a provision id"),
        (('id = "t1:5.1.a"', 'id = "nope:5"'), "unknown instrument 'nope'"),
        (('weight = "main"', 'weight = "strong"'), "provisions[0].weight"),
        (('support = ["share the assets"]', "support = []"), "provisions[0].support"),
        (('none = ["t2"]', 'none = ["t3"]'), "partial text in the corpus"),
        (('none = ["t2"]', 'none = ["t1"]'), "also mapped"),
        (
            ('says = { kk = "Қ.", ru = "Р.", en = "E." }', 'says = { kk = "Қ.", ru = "Р." }'),
            "says.en: missing",
        ),
        (("[[topics]]", "[[topics]]\nstray = 1"), "stray: unknown field"),
        (
            ('none = ["t2"]', 'none = ["t2"]\nnarrows = ["return-disposal"]'),
            "narrows: unknown topic 'return-disposal'",
        ),
        (
            ('none = ["t2"]', 'none = ["t2"]\nnarrows = ["asset-sharing"]'),
            "narrows: must be a list of other topics",
        ),
    ],
)
def test_a_broken_entry_names_file_topic_and_field(
    tmp_path: Path, change: tuple[str, str], fragment: str
) -> None:
    folder = _write(tmp_path, GOOD.replace(*change))
    with pytest.raises(TopicMapError, match="a.toml") as info:
        load_topics(folder, _manifest({"t1": True, "t2": True, "t3": False}))
    assert fragment in info.value.message


def test_duplicate_topic_ids_across_files(tmp_path: Path) -> None:
    folder = _write(tmp_path, GOOD)
    (folder / "b.toml").write_text(GOOD, encoding="utf-8")
    with pytest.raises(TopicMapError, match="also used in a.toml"):
        load_topics(folder, _manifest({"t1": True, "t2": True}))


def test_check_against_the_corpus(tmp_path: Path) -> None:
    tm = load_topics(_write(tmp_path, GOOD))
    texts = {"t1:5.1.a": ["Parties shall  share the\nassets equally."]}
    assert check_against(tm, lambda pid: texts.get(pid, []), set(texts)) == []
    texts["t1:5.1.a"] = ["Parties keep everything."]
    assert (
        "supporting words not in its text" in check_against(tm, lambda pid: texts.get(pid, []), set(texts))[0]
    )
    assert "no such provision" in check_against(tm, lambda pid: [], set())[0]


def test_fold_for_search_treats_latin_and_cyrillic_i_alike() -> None:
    assert fold_for_search("Мүлiктi  «тәркілеу»") == fold_for_search("мүлікті тәркілеу")


@pytest.fixture(scope="module")
def real_map():
    manifest = load_manifest(ROOT / "corpus" / "sources.toml")
    return manifest, load_topics(ROOT / "corpus" / "topics", manifest)


def test_the_real_map_covers_the_issue(real_map) -> None:
    manifest, tm = real_map
    assert len(tm) >= 40
    for required in (
        "domestic-confiscation",
        "value-confiscation",
        "non-conviction-based-confiscation",
        "provisional-measures",
        "foreign-freezing-orders",
        "direct-enforcement",
        "indirect-enforcement",
        "recognition-foreign-decisions",
        "return-disposal",
        "return-public-funds",
        "asset-sharing",
        "victims-third-parties",
        "refusal-legal-assistance",
        "refusal-confiscation",
        "bank-secrecy",
        "fiscal-offences",
        "dual-criminality",
        "request-content",
        "request-language",
        "central-authorities",
        "urgent-channels",
        "confidentiality",
        "use-limitation",
        "costs",
        "spontaneous-information",
        "fiu",
        "tracing",
        "bank-information",
        "postponement",
        "consultation-before-refusal",
        "civil-recovery",
        "laundering-offence",
        "definition-proceeds",
        "definition-property",
        "definition-confiscation",
        "definition-freezing",
        "jurisdiction",
        "relation-other-treaties",
        "kz-ratification",
        "treaty-interpretation",
        "natural-wealth",
    ):
        assert required in tm, required
    anchors = {p.id for p in tm.get("direct-enforcement").provisions if p.weight == "main"}
    assert {"strasbourg1990:13.1.a", "uncac:54.1.a", "untoc:13.1.b"} <= anchors
    mapped = {p.instrument for t in tm.topics.values() for p in t.provisions}
    treaties = {i for i, inst in manifest.instruments.items() if inst.kind == "bilateral"}
    assert treaties <= mapped, f"bilateral treaties never mapped: {sorted(treaties - mapped)}"


def test_docs_topics_md_is_current(real_map) -> None:
    from assistant.cli import main

    generated = ROOT / "test-output" / "topics.md"
    generated.parent.mkdir(exist_ok=True)
    assert main(["topics", "--doc", str(generated)]) == 0
    committed = (ROOT / "docs" / "topics.md").read_text(encoding="utf-8")
    assert generated.read_text(encoding="utf-8") == committed, "run `assistant topics --doc docs/topics.md`"


def test_every_id_and_supporting_phrase_is_in_the_corpus(real_map) -> None:
    """Each mapped provision exists and its supporting words occur in its text (some language version)."""
    from assistant.core.errors import CorpusError
    from assistant.corpus.provisions import load_provisions

    manifest, tm = real_map
    try:
        provisions = load_provisions(manifest, ROOT / "corpus" / "files")
    except CorpusError as exc:
        pytest.skip(f"corpus not fetched: {exc.message}")
    texts, ids = texts_with_descendants(provisions)
    assert check_against(tm, texts, ids) == []


BROAD_AND_NARROW = """
[[topics]]
id = "refusal"
title = { kk = "Бас тарту", ru = "Отказ", en = "Refusal" }
signals.kk = ["бас тарту"]
signals.ru = ["отказать в правовой помощи"]
signals.en = ["refuse legal assistance"]

[[topics]]
id = "bank-secrecy"
narrows = ["refusal"]
title = { kk = "Банк құпиясы", ru = "Банковская тайна", en = "Bank secrecy" }
signals.kk = ["банк құпиясы"]
signals.ru = ["банковская тайна"]
signals.en = ["bank secrecy"]
"""


@pytest.mark.parametrize(
    ("question", "best"),
    [
        # the broader topic covers more words, but the question names the narrower one
        ("Can they refuse legal assistance because of bank secrecy?", "bank-secrecy"),
        ("Могут ли отказать в правовой помощи из-за банковской тайны?", "bank-secrecy"),
        ("Can they refuse legal assistance?", "refusal"),  # not named: the broader topic stands
    ],
)
def test_a_topic_named_by_its_own_words_ranks_above_the_broader_topic_it_narrows(
    tmp_path: Path, question: str, best: str
) -> None:
    from assistant.search.topics import TopicMatcher

    found = TopicMatcher(load_topics(_write(tmp_path, BROAD_AND_NARROW))).match(question)
    assert found[0].topic.id == best, [(m.topic.id, m.score) for m in found]


def test_a_phrasing_word_is_also_found_as_another_term_of_its_glossary_concept(tmp_path: Path) -> None:
    from assistant.search.topics import TopicMatcher

    topics = load_topics(_write(tmp_path, BROAD_AND_NARROW.replace("банк құпиясы", "банк құпиясы бұзылды")))
    question = "Шот бойынша банктік тайна бұзылды ма?"  # «тайна»: the Russian word in a Kazakh sentence
    assert TopicMatcher(topics).match(question) == []
    found = TopicMatcher(topics, synonyms=[("купия", "secrecy"), ("таина", "secrecy")]).match(question)
    assert [m.topic.id for m in found] == ["bank-secrecy"]


ASKED_AND_CONTEXT = """
[[topics]]
id = "direct-enforcement"
title = { kk = "Тікелей орындау", ru = "Прямое исполнение", en = "Direct enforcement" }
signals.kk = ["тәркілеу туралы шешімін орындау"]
signals.ru = ["не исполнять решение о конфискации"]
signals.en = ["enforce a foreign confiscation order"]

[[topics]]
id = "request-content"
title = { kk = "Сұрау салудың мазмұны", ru = "Содержание запроса", en = "Content of a request" }
signals.kk = ["сұрауға не қоса беріледі"]
signals.ru = ["что приложить к запросу"]
signals.en = ["what to attach to the request"]
"""


@pytest.mark.parametrize(
    ("question", "weight", "best"),
    [
        # the enforcement words are longer, but the question word sits in the request-content phrasing
        (
            "Шетел сотының тәркілеу туралы шешімін орындау жөніндегі сұрауға не қоса берілуі керек?",
            2.0,
            "request-content",
        ),
        ("Что приложить к запросу, чтобы не исполнять решение о конфискации?", 2.0, "request-content"),
        (
            "Шетел сотының тәркілеу туралы шешімін орындау жөніндегі сұрауға не қоса берілуі керек?",
            0.0,
            "direct-enforcement",
        ),
        # «не» negates in Russian: a Russian phrasing with it is not a question word's phrasing
        ("Можно ли не исполнять решение о конфискации?", 2.0, "direct-enforcement"),
    ],
)
def test_the_topic_whose_phrasing_holds_the_question_word_is_what_is_asked(
    tmp_path: Path, question: str, weight: float, best: str
) -> None:
    from assistant.search.intent import interrogatives
    from assistant.search.topics import TopicMatcher

    matcher = TopicMatcher(load_topics(_write(tmp_path, ASKED_AND_CONTEXT)), interrogatives=interrogatives())
    found = matcher.match(question, asked_weight=weight)
    assert found[0].topic.id == best, [(m.topic.id, m.score) for m in found]
    assert {m.topic.id for m in found if m.asked} <= {"request-content"}


@pytest.mark.parametrize(
    ("summary", "copied"),
    [
        # the provision's sentence with the instrument's name in front: a copy
        (
            "По договору запрашиваемая Сторона направляет подтверждение о вручении документа в порядке, указанном в"
            " запросе.",
            12,
        ),
        # the same content in other words
        ("Договор обязывает сообщать, как и когда вручён документ, тем способом, о котором просили.", 0),
        # a long shared run that is a small part of a long summary: legal terms, not a copied sentence
        (
            "Запрашиваемая Сторона направляет подтверждение о вручении документа в порядке, указанном в запросе, а"
            " также сообщает о любых препятствиях, мешающих вручению, о причинах задержки, о сроках, о расходах,"
            " о лицах, которые участвовали, и о том, какие ещё сведения нужны для завершения дела в разумный срок.",
            0,
        ),
    ],
)
def test_a_summary_that_repeats_its_provision_is_a_copy(summary: str, copied: int) -> None:
    from assistant.corpus.topics import copied_run

    text = fold_for_search(
        "Запрашиваемая Сторона направляет подтверждение о вручении документа в порядке, указанном в запросе."
    )
    assert copied_run(summary, text) == copied
