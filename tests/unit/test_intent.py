"""Question kinds from cue patterns (table-driven, kk / ru / en / Latin-typed Kazakh)."""

from __future__ import annotations

import pytest

from assistant.search.intent import cue_kind, question_kind, question_parts, which_scope


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (
            "Қай конвенция шет мемлекет сотының тәркілеу туралы шешімін тікелей орындауға мүмкіндік береді?",
            "which",
        ),
        (
            "Какая конвенция позволяет напрямую исполнить постановление иностранного суда о конфискации?",
            "which",
        ),
        ("Which convention allows direct enforcement of a foreign confiscation order?", "which"),
        ("Сравните основания для отказа в Страсбургской конвенции и в UNCAC", "compare"),
        ("Страсбург конвенциясы мен UNCAC бойынша бас тарту негіздерін салыстырыңыз", "compare"),
        ("Может ли государство отказать в помощи из-за банковской тайны?", "yesno"),
        ("Грузиямен шартта банк құпиясы туралы бап бар ма?", "yesno"),
        ("Does the UK treaty provide for asset sharing?", "yesno"),
        ("Что такое конфискация по УНКАК?", "definition"),
        ("Тәркілеу дегеніміз не?", "definition"),
        ("Что должен содержать запрос о правовой помощи?", "procedure"),
        ("Ұрланған ақша қалай қайтарылады?", "procedure"),
        ("How are confiscated assets returned?", "procedure"),
        ("Банковская тайна", None),
        # «which» asked with the noun first, in another case, typed without Kazakh letters, or «which of …»
        ("банк шоттары туралы ақпарат сұрау жеке бап болып жазылған конвенция қайсы?", "which"),
        ("По какому договору запрос, отправленный факсом, аннулируется через 30 дней?", "which"),
        ("Кай конвенцияларды ратификациялаганда Казакстан аударма талап етті?", "which"),
        ("Which of Kazakhstan's bilateral MLA treaties provides for joint investigation teams?", "which"),
        ("How should a treaty be read when its language versions differ?", "procedure"),
    ],
)
def test_cue_kind(text: str, kind: str | None) -> None:
    assert cue_kind(text) == kind


@pytest.mark.parametrize(
    ("text", "articles", "research", "followup", "kind"),
    [
        ("Что говорит статья 13 Страсбургской конвенции?", True, False, False, "article"),
        ("Сравните статью 13 и статью 18", True, False, False, "compare"),
        ("Мақалаға сәйкес қанша шарт бар?", False, True, False, "facts"),
        ("А в UNCAC?", False, False, True, "followup"),
        ("Банковская тайна", False, False, False, "other"),
    ],
)
def test_question_kind(text: str, articles: bool, research: bool, followup: bool, kind: str) -> None:
    assert question_kind(text, named_articles=articles, research_article=research, followup=followup) == kind


@pytest.mark.parametrize(
    ("text", "instruments", "kind"),
    [
        ("Чем отличаются основания для отказа в УНКАК и в Страсбургской конвенции?", 2, "compare"),
        ("What is the difference between the UK and USA treaties on asset sharing?", 2, "compare"),
        ("How should a treaty be read when its language versions differ?", 1, "procedure"),
        ("Шарттың тілдік нұсқаларының айырмашылығы болса не істеу керек?", 1, "other"),
    ],
)
def test_difference_compares_only_two_instruments(text: str, instruments: int, kind: str) -> None:
    got = question_kind(
        text, named_articles=False, research_article=False, followup=False, instruments=instruments
    )
    assert got == kind


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        (
            "Куда направлять запрос о правовой помощи в Иорданию, и на каком языке его составлять?",
            ["Куда направлять запрос о правовой помощи в Иорданию", "на каком языке его составлять"],
        ),
        (
            "АҚШ-қа сұрау салуда қандай мәліметтер көрсетілуі тиіс және ол қай тілде жазылады?",
            ["АҚШ-қа сұрау салуда қандай мәліметтер көрсетілуі тиіс", "ол қай тілде жазылады"],
        ),
        (
            "What must a request to Spain contain, and does it need to be translated?",
            ["What must a request to Spain contain", "does it need to be translated"],
        ),
        # noun pairs are one question: no question word follows the conjunction
        (
            "Мүлікті тәркілеу және қайтару қалай жүзеге асады?",
            ["Мүлікті тәркілеу және қайтару қалай жүзеге асады"],
        ),
        ("Порядок ареста и конфискации имущества", ["Порядок ареста и конфискации имущества"]),
        # a part of one or two words stays with the question before it
        ("Может ли Испания отказать? А как?", ["Может ли Испания отказать? А как"]),
    ],
)
def test_question_parts(text: str, parts: list[str]) -> None:
    assert question_parts(text) == parts


@pytest.mark.parametrize(
    ("text", "scope"),
    [
        ("Which UN conventions let a State make confiscation cooperation depend on a treaty?", "un"),
        ("Какие конвенции ООН предусматривают возврат активов?", "un"),
        (
            "Which Council of Europe convention obliges a party to enforce a foreign confiscation order?",
            "coe",
        ),
        ("Еуропа Кеңесінің қай конвенциясы банк шоттарын бақылауды көздейді?", "coe"),
        ("Какая конвенция СНГ регулирует исполнение приговоров?", "cis"),
        ("Қай екіжақты шарттарда банк құпиясы бас тартуға негіз емес?", "bilateral"),
        ("Какие конвенции обязывают признавать решения о правах третьих лиц?", "conventions"),
        ("В каких договорах Казахстана сказано о совместных группах?", "bilateral"),
        ("Какой договор позволяет отказать в помощи, если имущество стоит копейки?", None),
    ],
)
def test_which_scope(text: str, scope: str | None) -> None:
    assert which_scope(text) == scope
