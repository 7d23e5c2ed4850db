"""Kazakh typed in Latin letters is read back into Cyrillic; English and Russian are left alone."""

from __future__ import annotations

import pytest

from assistant.text.normalize import fold
from assistant.text.translit import kazakh_from_latin


@pytest.mark.parametrize(
    ("latin", "cyrillic"),
    [
        # ad-hoc spelling (phones without Kazakh keys)
        ("Qai konvensiia shet memleket sotynyn tarkileu turaly sheshimin oryndaudy qarastyrady?",
         "Қай конвенция шет мемлекет сотынын тәркілеу туралы шешімін орындауды қарастырады?"),
        ("Bank qupiiasy komekten bas tartuga negiz bola ma?", "Банк құпиясы көмектен бас тартуға негіз бола ма?"),
        ("Mening aqsham shetelde, qalai qaitaramyn?", "Менің ақшам шетелде, қалай қайтарамын?"),
        # the 2018 Latin alphabet
        ("Shet memleket sotynyń sheshimin oryndaýǵa bola ma?", "Шет мемлекет сотының шешімін орындауға бола ма?"),
        # an abbreviation keeps its capitals, so it is still found as a whole word
        ("AQSh-pen shart boiynsha komek bar ma?", "АҚШ-пен шарт бойынша көмек бар ма?"),
    ],
)  # fmt: skip
def test_kazakh_latin_reads_as_the_cyrillic_folded(latin: str, cyrillic: str) -> None:
    got = kazakh_from_latin(latin)
    assert got is not None
    # Latin loses ұ/у, і/и, й/и: the stages compare the folded forms, so those must agree
    assert fold(got) == fold(cyrillic)


def test_abbreviation_capitals_survive() -> None:
    assert kazakh_from_latin("AQSh-pen shart boiynsha komek bar ma?").startswith("АҚШ-пен")


def test_words_to_keep_stay_latin() -> None:
    assert kazakh_from_latin("UNCAC 31-bap 8-tarmagynda ne jazylgan?", keep={"UNCAC"}).startswith(
        "UNCAC 31-бап"
    )


@pytest.mark.parametrize(
    "text",
    [
        "Which convention allows direct enforcement of a foreign confiscation order?",
        "What does UNCAC article 54 say?",
        "Is there a non-conviction-based confiscation clause in the Kazakhstan–India MLA treaty?",
        "Does the UK treaty provide for asset sharing?",
        "Какая конвенция позволяет исполнить иностранное решение?",
        "Қай конвенция шет мемлекет сотының шешімін орындауға мүмкіндік береді?",
        "UNCAC 54",
    ],
)
def test_other_text_is_left_alone(text: str) -> None:
    assert kazakh_from_latin(text) is None
