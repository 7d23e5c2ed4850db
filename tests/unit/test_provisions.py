"""The treaty and article parsers on small texts written for these tests (every format quirk once)."""

from __future__ import annotations

import pytest

from assistant.errors import DocumentError
from assistant.provisions import parse_research_article, parse_treaty, strip_dutch


def ids(text: str, lang: str = "ru", instrument: str = "t") -> list[str]:
    return [p.id for p in parse_treaty(instrument, lang, [("t.md", text)])]


@pytest.mark.parametrize(
    ("heading", "lang", "article", "title"),
    [
        ("### Статья 13 Обязательство", "ru", "13", "Обязательство"),
        ("### Статья 1Цели", "ru", "1", "Цели"),
        ("## Статья 16", "ru", "16", ""),
        ("### Cтатья 14 Латинская C", "ru", "14", "Латинская C"),
        ("### 54-бапТитул", "kk", "54", "Титул"),
        ("## 1 бап Қолданылу аясы", "kk", "1", "Қолданылу аясы"),
        ("### 2-бап. Тәркілеу шаралары", "kk", "2", "Тәркілеу шаралары"),
        ("# 3-бап Мақсаты", "kk", "3", "Мақсаты"),
        ("### 6-БАПСҰРАУ САЛУ", "kk", "6", "СҰРАУ САЛУ"),
        ("#### СТАТЬЯ 7 Форма", "ru", "7", "Форма"),
    ],
)
def test_article_headings(heading: str, lang: str, article: str, title: str) -> None:
    provisions = parse_treaty("t", lang, [("t.md", f"{heading}\n\nТекст статьи.\n")])
    first = provisions[0]
    assert first.id == f"t:{article}"
    assert first.title == title


def test_english_title_on_its_own_line_and_chapter() -> None:
    text = "### CHAPTER  V  \n\n####ASSET RECOVERY\n\n### Article  54  \n\n####*Mechanisms*\n\n1.   Each Party shall act.\n"
    [article, para] = parse_treaty("t", "en", [("t.md", text)])
    assert (article.title, article.chapter) == ("Mechanisms", "CHAPTER V. ASSET RECOVERY")
    assert para.id == "t:54.1"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # Latin letters
        (
            "1. Вводная часть:\n\na) первое;\n\nb) второе.\n\n2. Второй пункт.",
            ["1", "1.1", "1.1.a", "1.1.b", "1.2"],
        ),
        # Cyrillic look-alikes mixed with Latin
        ("1. Вводная:\n\nа) первое;\n\nb) второе;\n\nс) третье.", ["1", "1.1", "1.1.a", "1.1.b", "1.1.c"]),
        # Russian alphabet order
        (
            "1. Вводная:\n\nа) один;\n\nб) два;\n\nв) три;\n\nг) четыре.",
            ["1", "1.1", "1.1.a", "1.1.b", "1.1.c", "1.1.d"],
        ),
        # sub-paragraphs directly under the article, "(a)" style
        ("Для целей:\n\n(a) один;\n\n(b) два.", ["1", "1.a", "1.b"]),
        # "a." style with lowercase text
        ("1. Сторона:\n\na. исполняет;\n\nb. передаёт.", ["1", "1.1", "1.1.a", "1.1.b"]),
        # roman items nest in the current letter and get no id
        (
            "1. Вводная:\n\na) один:\n\n(i) под-один;\n\n(ii) под-два;\n\nb) два.",
            ["1", "1.1", "1.1.a", "1.1.b"],
        ),
        # a paragraph that starts with its first item: «4. а) ...»
        ("1. Один.\n\n2. а) первое;\n\nb) второе.", ["1", "1.1", "1.2", "1.2.a", "1.2.b"]),
        # a repeated/mistyped letter inside a list keeps the list in order
        (
            "1. Вводная:\n\nа) а;\n\nb) б;\n\nс) в;\n\nе) г;\n\nе) д;\n\nf) е.",
            ["1", "1.1", "1.1.a", "1.1.b", "1.1.c", "1.1.d", "1.1.e", "1.1.f"],
        ),
        # an out-of-sequence number is text, not a paragraph
        ("1. Один.\n\n5. Цитата.\n\n2. Два.", ["1", "1.1", "1.2"]),
        # an initial («Б. Пискорский») is not an item
        ("1. Один.\n\nБ. Пискорский", ["1", "1.1"]),
        # unnumbered paragraphs are numbered by position
        ("Первый абзац.\n\nВторой абзац.", ["1", "1.1", "1.2"]),
        # items lettered «а/ б/» (a slash after the letter)
        ("1. Вводная:\n\nа/ один;\n\nб/ два.", ["1", "1.1", "1.1.a", "1.1.b"]),
        # Kazakh alphabet order «а) ә) б)» and the Cyrillic «һ)» for h before «і)»
        ("Тізбе:\n\nа) бір;\n\nә) екі;\n\nб) үш.", ["1", "1.a", "1.b", "1.c"]),
        (
            "Тізбе:\n\na) 1;\n\nb) 2;\n\nc) 3;\n\nd) 4;\n\ne) 5;\n\nf) 6;\n\ng) 7;\n\nһ) 8;\n\nі) 9.",
            ["1", "1.a", "1.b", "1.c", "1.d", "1.e", "1.f", "1.g", "1.h", "1.i"],
        ),
        # «- item» lines belong to the paragraph that lists them, not paragraphs of their own
        ("Стороны оказывают помощь путём:\n\n- вручения;\n\n- допроса.", ["1"]),
        ("Бірінші абзац:\n\n- бір;\n\n- екі.\n\nЕкінші абзац.", ["1", "1.1", "1.2"]),
    ],
)
def test_paragraphs_and_items(body: str, expected: list[str]) -> None:
    assert ids(f"### Статья 1 Заголовок\n\n{body}\n") == [f"t:{x}" for x in expected]


def test_item_text_is_its_own_and_paragraph_holds_items() -> None:
    provisions = parse_treaty(
        "t", "ru", [("t.md", "### Статья 2\n\n1. Вводная:\n\nа) первое;\n\nb) второе.\n")]
    )
    by_id = {p.id: p for p in provisions}
    assert by_id["t:2.1.a"].text == "а) первое;"
    assert "b) второе." in by_id["t:2.1"].text
    assert by_id["t:2.1.b"].parent_id == "t:2.1"
    assert by_id["t:2.1"].parent_id == "t:2"


def test_ratification_law_preamble_and_final() -> None:
    text = (
        "# О ратификации Договора между А и Б\n\nРатифицировать Договор.\n\nПрезидент\n\n"
        "# ДОГОВОР между А и Б\n\nСтороны договорились.\n\n"
        "## Статья 1 Предмет\n\n1. Стороны помогают.\n\nСовершено в г. Астане в двух экземплярах.\n"
    )
    assert ids(text) == ["t:ratification", "t:preamble", "t:1", "t:1.1", "t:final"]


def test_agreement_title_opens_the_preamble() -> None:
    text = "# О ратификации Соглашения\n\nРатифицировать.\n\n# СОГЛАШЕНИЕ между А и Б\n\nСтороны.\n\n## Статья 1\n\nТекст.\n"
    assert ids(text) == ["t:ratification", "t:preamble", "t:1"]


@pytest.mark.parametrize(
    ("closing", "final"),
    [
        ("Астана қаласында 2011 жылғы 1 маусымда екі данада жасалды.", True),
        ("Абу Даби қаласында 2009 жылғы 1 наурызда жасалды.", True),
        ("2018 жылғы 1 қазанда Астанада екі данада жасалды.", True),
        ("Нью-Делиде 1999 жылғы 1 тамызда екі дана болып жасалды.", True),
        ("1997 жылғы 1 наурызда Мәскеу қаласында бір данада жасалады.", True),
        ("Осы Келісім Алматы қаласында 1995 жылғы 1 тамызда жасалды.", True),
        # an article's own «concluded for an indefinite term» names no place or date
        ("Осы Келісім белгісіз мерзімге жасалды.", False),
        ("5. Осы Шарт 2001 жылғы қаңтардан бұрын жасалған қылмыстарға да қолданылады.", False),
    ],
)
def test_kazakh_closing_formula(closing: str, final: bool) -> None:
    text = f"## 9-бап Қолданылуы\n\nБірінші абзац.\n\n{closing}\n"
    assert ("t:final" in ids(text, "kk")) is final


def test_closing_formula_with_a_typo_and_the_annex_after_it() -> None:
    text = "## Статья 9\n\nТекст.\n\nВ удостоверении чего подписали.\n\nСовершено в Вене.\n\nПриложение\n\nСписок.\n"
    assert ids(text) == ["t:9", "t:final", "t:annex"]


def test_paragraph_marked_up_as_a_heading_stays_in_its_article() -> None:
    text = "## Статья 4\n\n1. Один.\n\n2. Два.\n\n#### 3. Три как заголовок\n\n4. Четыре.\n\n## Статья 5\n\nПять.\n"
    assert ids(text) == ["t:4", "t:4.1", "t:4.2", "t:4.3", "t:4.4", "t:5"]


def test_a_chapter_name_line_does_not_end_the_article_before_it() -> None:
    text = "## 1 бап Бірінші\n\nМәтін.\n\n## II ТАРАУ Арнаулы ережелер\n\nАзаматтық істер\n\n## 2 бап Екінші\n\nМәтін.\n"
    provisions = parse_treaty("t", "kk", [("t.md", text)])
    assert [p.id for p in provisions] == ["t:1", "t:2"]
    assert (
        provisions[0].text == "Мәтін."
        and provisions[1].chapter == "II ТАРАУ Арнаулы ережелер. Азаматтық істер"
    )


def test_article_heading_written_as_a_body_line_after_its_chapter_name() -> None:
    text = "## 18-бап Алдыңғы\n\nМәтін.\n\nҚорытынды ережелер 19-бап Міндеттемелер\n\nМәтін.\n\nБұл 20-бап Сілтеме болып табылады.\n"
    provisions = parse_treaty("t", "kk", [("t.md", text)])
    assert [p.id for p in provisions] == ["t:18", "t:19", "t:19.1", "t:19.2"]
    assert (provisions[1].title, provisions[1].chapter) == ("Міндеттемелер", "Қорытынды ережелер")


def test_amending_protocol_after_the_treaty() -> None:
    text = (
        "# ДОГОВОР между А и Б\n\n## Статья 1\n\nТекст.\n\nСовершено в г. Алматы.\n\n"
        "## ПРОТОКОЛ к Договору между А и Б\n\nСтороны договорились.\n\n1. Статью 1 исключить.\n\n"
        "2. Протокол вступает в силу.\n\nСовершено в г. Астане.\n"
    )
    assert ids(text) == ["t:1", "t:final", "t:protocol", "t:protocol.1", "t:protocol.2", "t:final-2"]
    kk = "# ШАРТ\n\n## 1-бап\n\nМәтін.\n\n### А мен Б арасындағы шартқа ХАТТАМА\n\n1. 1-бап алынып тасталсын.\n"
    assert ids(kk, "kk") == ["t:1", "t:protocol", "t:protocol.1"]


def test_protocol_without_articles_is_split_into_its_numbered_items() -> None:
    text = (
        "# Протокол к Конвенции\n\nГосударства договорились:\n\n1. Статью 2 дополнить словами.\n\n"
        '2. Статью 5 изложить в следующей редакции:\n\n"Статья 5 Порядок\n\n1. Первый пункт.\n\n'
        '2. Второй пункт".\n\n4. Статью 9 исключить.\n\n7. Не номер пункта.\n\nСовершено в Москве.\n'
    )
    provisions = parse_treaty("t", "ru", [("t.md", text)])
    # the quoted paragraphs of the new article text stay in item 2; one missing item number (3) is tolerated
    assert [p.id for p in provisions] == ["t:preamble", "t:1", "t:2", "t:2.1", "t:2.2", "t:4", "t:final"]
    assert provisions[-2].text == "4. Статью 9 исключить.\n7. Не номер пункта."


def test_kazakh_ratification_law() -> None:
    text = "# Шартты ратификациялау туралы\n\nРатификациялансын.\n\n# ШАРТ\n\nТараптар келісті.\n\n## 1-бап Мақсаты\n\nМәтін.\n"
    assert ids(text, "kk") == ["t:ratification", "t:preamble", "t:1"]


def test_dutch_translation_is_dropped() -> None:
    text = (
        "<meta charset='utf-8' />\n\n##Verdrag inzake iets\n\n####Convention on something\n\n"
        "### Article  1  \n\n####Use of terms\n\nEnglish text here.\n\n"
        "####Verdrag inzake iets\n\n### Artikel  1  \n\n####Gebruikte termen\n\nNederlandse tekst hier.\n"
    )
    assert "Nederlandse" not in strip_dutch(text)
    provisions = parse_treaty("t", "en", [("t.md", text)])
    assert [p.id for p in provisions] == ["t:1"]
    assert all("Verdrag" not in p.text and "Nederlandse" not in p.text for p in provisions)


def test_optional_protocol_articles_get_their_own_ids() -> None:
    text = "### Article  1  \n\nCovenant text.\n\n####Optional Protocol to the Covenant\n\nThe States.\n\n### Article  1  \n\nProtocol text.\n"
    assert ids(text, "en") == ["t:1", "t:op-preamble", "t:op1"]


def test_markdown_links_keep_only_their_text() -> None:
    [p] = parse_treaty(
        "t", "en", [("t.md", "### Article 1\n\nSee the [Charter](../../x/(c)/README.md), then.\n")]
    )
    assert p.text == "See the Charter, then."


def test_parts_are_read_in_order_and_a_repeated_heading_is_kept_once() -> None:
    parts = [
        ("a.md", "## Статья 1\n\nПервая.\n"),
        ("b.md", "## Статья 1\n\nПовтор.\n\n## Статья 2\n\nВторая.\n"),
    ]
    provisions = parse_treaty("t", "ru", parts)
    assert [p.id for p in provisions] == ["t:1", "t:2"]
    assert provisions[0].text == "Первая." and provisions[1].source_file == "b.md"


def test_no_provisions_is_an_error() -> None:
    with pytest.raises(DocumentError, match="no provisions"):
        parse_treaty("t", "ru", [("t.md", "")])


ARTICLE = (
    "ТАҚЫРЫП\n\nАңдатпа\nМақаланың\tқысқа\tмазмұны\tосында\tжазылған.\n\n"
    "Кіріспе\nБірінші\tабзац\tмәтіні\tұзын\tжол\tболып\tжалғасады\tжәне\tтағы\tда\tжалғасады\n"
    "тасымал-\nданған\tсөзбен\tаяқталады.\nЕкінші абзацтың мәтіні осында.\n\nАймақтық шарттар.\n"
    "Үшінші абзацтың мәтіні осында.\n Аннотация\nКраткое\tсодержание\tстатьи\tздесь.\n The article examines things.\n"
)


def test_research_article_sections_languages_and_pdf_repairs() -> None:
    provisions = parse_research_article(ARTICLE, "article/kk.txt")
    by_id = {p.id: p for p in provisions}
    assert list(by_id) == [
        "article:title.1",
        "article:abstract-kk.1",
        "article:introduction.1",
        "article:introduction.2",
        "article:introduction.3",
        "article:abstract-ru.1",
        "article:abstract-en.1",
    ]
    intro = by_id["article:introduction.1"].text
    assert "\t" not in intro and "тасымалданған" in intro
    assert by_id["article:introduction.3"].chapter == "Аймақтық шарттар"
    assert (by_id["article:abstract-ru.1"].lang, by_id["article:abstract-en.1"].lang) == ("ru", "en")
    assert by_id["article:introduction.1"].lang == "kk"
