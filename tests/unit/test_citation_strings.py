"""Formal citation strings (answer/citation_strings.py): every instrument of the manifest, in kk, ru and en."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.answer.citation_strings import citation_string, citation_strings, format_date
from assistant.core.prompts import all_templates
from assistant.corpus.manifest import load_manifest

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = load_manifest(ROOT / "corpus" / "sources.toml")
T = all_templates(ROOT / "prompts")

# instrument -> (place en, place ru, place kk, date en, date ru, date kk, first word(s) of the ru genitive title)
TABLE = {
    "uncac": (
        "New York",
        "Нью-Йорк",
        "Нью-Йорк",
        "31 October 2003",
        "31 октября 2003 г.",
        "2003 жылғы 31 қазан",
        "Конвенции Организации",
    ),
    "untoc": (
        "New York",
        "Нью-Йорк",
        "Нью-Йорк",
        "15 November 2000",
        "15 ноября 2000 г.",
        "2000 жылғы 15 қараша",
        "Конвенции Организации",
    ),
    "vienna1988": (
        "Vienna",
        "Вена",
        "Вена",
        "20 December 1988",
        "20 декабря 1988 г.",
        "1988 жылғы 20 желтоқсан",
        "Конвенции Организации",
    ),
    "strasbourg1990": (
        "Strasbourg",
        "Страсбург",
        "Страсбург",
        "8 November 1990",
        "8 ноября 1990 г.",
        "1990 жылғы 8 қараша",
        "Конвенции Совета Европы",
    ),
    "warsaw2005": (
        "Warsaw",
        "Варшава",
        "Варшава",
        "16 May 2005",
        "16 мая 2005 г.",
        "2005 жылғы 16 мамыр",
        "Конвенции Совета Европы",
    ),
    "interamerican1992": (
        "Nassau",
        "Нассау",
        "Нассау",
        "23 May 1992",
        "23 мая 1992 г.",
        "1992 жылғы 23 мамыр",
        "Межамериканской конвенции",
    ),
    "chisinau2002": (
        "Chisinau",
        "Кишинёв",
        "Кишинев",
        "7 October 2002",
        "7 октября 2002 г.",
        "2002 жылғы 7 қазан",
        "Конвенции о правовой",
    ),
    "minsk1993-protocol1997": (
        "Moscow",
        "Москва",
        "Мәскеу",
        "28 March 1997",
        "28 марта 1997 г.",
        "1997 жылғы 28 наурыз",
        "Протокола к Конвенции",
    ),
    "vclt1969": (
        "Vienna",
        "Вена",
        "Вена",
        "23 May 1969",
        "23 мая 1969 г.",
        "1969 жылғы 23 мамыр",
        "Венской конвенции",
    ),
    "iccpr1966": (
        "New York",
        "Нью-Йорк",
        "Нью-Йорк",
        "16 December 1966",
        "16 декабря 1966 г.",
        "1966 жылғы 16 желтоқсан",
        "Международного пакта",
    ),
    "bilateral-usa": (
        "Washington",
        "Вашингтон",
        "Вашингтон",
        "20 February 2015",
        "20 февраля 2015 г.",
        "2015 жылғы 20 ақпан",
        "Договора между",
    ),
    "bilateral-uk": (
        "London",
        "Лондон",
        "Лондон",
        "3 November 2015",
        "3 ноября 2015 г.",
        "2015 жылғы 3 қараша",
        "Договора между",
    ),
    "bilateral-korea": (
        "Seoul",
        "Сеул",
        "Сеул",
        "13 November 2003",
        "13 ноября 2003 г.",
        "2003 жылғы 13 қараша",
        "Договора между",
    ),
    "bilateral-spain": (
        "Astana",
        "Астана",
        "Астана",
        "17 June 2011",
        "17 июня 2011 г.",
        "2011 жылғы 17 маусым",
        "Конвенции между",
    ),
    "bilateral-italy": (
        "Astana",
        "Астана",
        "Астана",
        "22 January 2015",
        "22 января 2015 г.",
        "2015 жылғы 22 қаңтар",
        "Договора между",
    ),
    "bilateral-hungary": (
        "Astana",
        "Астана",
        "Астана",
        "1 April 2015",
        "1 апреля 2015 г.",
        "2015 жылғы 1 сәуір",
        "Договора между",
    ),
    "bilateral-bulgaria": (
        "Sofia",
        "София",
        "София",
        "14 November 2014",
        "14 ноября 2014 г.",
        "2014 жылғы 14 қараша",
        "Договора между",
    ),
    "bilateral-czechia": (
        "Astana",
        "Астана",
        "Астана",
        "6 June 2013",
        "6 июня 2013 г.",
        "2013 жылғы 6 маусым",
        "Договора между",
    ),
    "bilateral-georgia": (
        "Tbilisi",
        "Тбилиси",
        "Тбилиси",
        "17 September 1996",
        "17 сентября 1996 г.",
        "1996 жылғы 17 қыркүйек",
        "Договора между",
    ),
    "bilateral-india": (
        "New Delhi",
        "Нью-Дели",
        "Нью-Дели",
        "17 August 1999",
        "17 августа 1999 г.",
        "1999 жылғы 17 тамыз",
        "Договора между",
    ),
    "bilateral-jordan": (
        "Astana",
        "Астана",
        "Астана",
        "1 November 2017",
        "1 ноября 2017 г.",
        "2017 жылғы 1 қараша",
        "Соглашения между",
    ),
    "bilateral-kyrgyzstan": (
        "Almaty",
        "Алматы",
        "Алматы",
        "26 August 1996",
        "26 августа 1996 г.",
        "1996 жылғы 26 тамыз",
        "Договора между",
    ),
    "bilateral-pakistan": (
        "Almaty",
        "Алматы",
        "Алматы",
        "23 August 1995",
        "23 августа 1995 г.",
        "1995 жылғы 23 тамыз",
        "Договора между",
    ),
    "bilateral-turkey": (
        "Almaty",
        "Алматы",
        "Алматы",
        "15 August 1995",
        "15 августа 1995 г.",
        "1995 жылғы 15 тамыз",
        "Соглашения между",
    ),
    "bilateral-uae": (
        "Abu Dhabi",
        "Абу-Даби",
        "Абу-Даби",
        "16 March 2009",
        "16 марта 2009 г.",
        "2009 жылғы 16 наурыз",
        "Соглашения между",
    ),
    "bilateral-ukraine": (
        "Astana",
        "Астана",
        "Астана",
        "29 October 2018",
        "29 октября 2018 г.",
        "2018 жылғы 29 қазан",
        "Договора между",
    ),
    "bilateral-uzbekistan": (
        "Almaty",
        "Алматы",
        "Алматы",
        "2 June 1997",
        "2 июня 1997 г.",
        "1997 жылғы 2 маусым",
        "Договора между",
    ),
}
TREATIES = sorted(TABLE)


def test_table_covers_every_instrument_of_the_manifest():
    bundled = {i for i, inst in MANIFEST.instruments.items() if inst.kind != "article"}
    assert bundled == set(TABLE), "add the new instrument to TABLE (and its title_gen/place_kk/place_ru)"


@pytest.mark.parametrize("iid", TREATIES)
def test_every_treaty_has_its_citation_forms(iid):
    inst = MANIFEST.instruments[iid]
    assert inst.title_gen.ru and inst.title_gen.kk
    assert inst.adopted.place_ru and inst.adopted.place_kk and inst.adopted.date


@pytest.mark.parametrize("iid", TREATIES)
def test_russian_form(iid):
    place_en, place_ru, place_kk, date_en, date_ru, date_kk, head = TABLE[iid]
    inst = MANIFEST.instruments[iid]
    cases = {
        f"{iid}:7": "ст. 7 ",
        f"{iid}:7.2": "п. 2 ст. 7 ",
        f"{iid}:7.b": 'пп. "b" ст. 7 ',
        f"{iid}:7.2.b": 'пп. "b" п. 2 ст. 7 ',
        f"{iid}:preamble": "преамбула ",
    }
    for pid, lead in cases.items():
        s = citation_string(pid, "ru", inst, T)
        assert s == f"{lead}{inst.title_gen.ru} ({place_ru}, {date_ru})", s
        assert s.startswith(lead + head)


@pytest.mark.parametrize("iid", TREATIES)
def test_kazakh_form(iid):
    place_en, place_ru, place_kk, date_en, date_ru, date_kk, head = TABLE[iid]
    inst = MANIFEST.instruments[iid]
    cases = {
        f"{iid}:7": "7-бабы",
        f"{iid}:7.2": "7-бабының 2-тармағы",
        f"{iid}:7.b": '7-бабының "b" тармақшасы',
        f"{iid}:7.2.b": '7-бабы 2-тармағының "b" тармақшасы',
        f"{iid}:final": "қорытынды ережелері",
    }
    for pid, tail in cases.items():
        s = citation_string(pid, "kk", inst, T)
        assert s == f"{inst.title_gen.kk} ({place_kk}, {date_kk}) {tail}", s
        assert inst.title_gen.kk.endswith(("ның", "нің", "тың", "тің")), "the title must be in the genitive"


@pytest.mark.parametrize("iid", TREATIES)
def test_english_form(iid):
    place_en, place_ru, place_kk, date_en, date_ru, date_kk, head = TABLE[iid]
    inst = MANIFEST.instruments[iid]
    title = inst.title_gen.en or inst.title.en
    cases = {
        f"{iid}:7": "art. 7",
        f"{iid}:7.2": "art. 7(2)",
        f"{iid}:7.b": "art. 7(b)",
        f"{iid}:7.2.b": "art. 7(2)(b)",
        f"{iid}:ratification": "ratification law",
    }
    for pid, tail in cases.items():
        assert citation_string(pid, "en", inst, T) == f"{title} ({place_en}, {date_en}), {tail}"


def test_the_examples_of_the_issue():
    got = citation_strings("strasbourg1990:13.1.a", MANIFEST, T)
    assert got["ru"] == (
        'пп. "a" п. 1 ст. 13 Конвенции Совета Европы об отмывании, выявлении, изъятии и конфискации доходов '
        "от преступной деятельности (Страсбург, 8 ноября 1990 г.)"
    )
    assert got["en"] == (
        "Council of Europe Convention on Laundering, Search, Seizure and Confiscation of the Proceeds from Crime "
        "(Strasbourg, 8 November 1990), art. 13(1)(a)"
    )
    assert got["kk"].endswith(
        'конвенциясының (Страсбург, 1990 жылғы 8 қараша) 13-бабы 1-тармағының "a" тармақшасы'
    )


def test_protocols_and_the_research_article():
    iccpr = MANIFEST.instruments["iccpr1966"]
    assert citation_string("iccpr1966:op1.2", "ru", iccpr, T).startswith(
        "п. 2 ст. 1 Факультативного протокола к Международному пакту"
    )
    assert citation_string("iccpr1966:op1", "en", iccpr, T).startswith(
        "Optional Protocol to the International"
    )
    assert "пактіге Факультативтік хаттаманың" in citation_string("iccpr1966:op-preamble", "kk", iccpr, T)
    georgia = MANIFEST.instruments["bilateral-georgia"]
    assert citation_string("bilateral-georgia:protocol.1", "ru", georgia, T).startswith(
        "п. 1 Протокола к Договору"
    )
    art = MANIFEST.instruments["article"]
    for lang in ("kk", "ru", "en"):
        s = citation_string("article:introduction.3", lang, art, T)
        assert art.title[lang] in s and "3" in s


def test_bad_ids_and_dates():
    with pytest.raises(ValueError):
        citation_strings("not an id", MANIFEST, T)
    with pytest.raises(ValueError):
        citation_strings("nosuch:1", MANIFEST, T)
    import datetime as dt

    assert format_date(dt.date(2024, 2, 1), T["kk"]) == "2024 жылғы 1 ақпан"
