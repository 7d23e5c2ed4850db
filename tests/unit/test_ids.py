"""ProvisionId: the one parser and formatter of provision ids (table-driven)."""

from __future__ import annotations

import pytest

from assistant.core.ids import (
    ProvisionId,
    article_of,
    covers,
    instrument_of,
    is_framing,
    is_research_article,
    make_id,
)


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("uncac:54.1.a", ("uncac", "54", "1", "a")),
        ("uncac:54", ("uncac", "54", None, None)),
        ("uncac:2.a", ("uncac", "2", None, "a")),
        ("bilateral-usa:16.2", ("bilateral-usa", "16", "2", None)),
        ("uncac:ratification", ("uncac", "ratification", None, None)),
        ("article:intro.3", ("article", "intro", "3", None)),
        (" strasbourg1990:13.1.a ", ("strasbourg1990", "13", "1", "a")),
        ("uncac 54", None),
        ("uncac:54.1.a.b", None),
        ("uncac:2.a.b", None),
        ("<script>:1", None),
        ("UNCAC:54", None),
        ("", None),
    ],
)
def test_parse(text: str, parts: tuple | None) -> None:
    pid = ProvisionId.try_parse(text)
    assert (None if pid is None else (pid.instrument, pid.article, pid.paragraph, pid.sub)) == parts
    if parts is None:
        with pytest.raises(ValueError, match="not a provision id"):
            ProvisionId.parse(text)
    else:
        assert str(pid) == text.strip()  # format is the inverse of parse


@pytest.mark.parametrize(
    ("text", "level", "parent", "article"),
    [
        ("uncac:54.1.a", "sub", "uncac:54.1", "uncac:54"),
        ("uncac:2.a", "sub", "uncac:2", "uncac:2"),
        ("uncac:54.1", "paragraph", "uncac:54", "uncac:54"),
        ("uncac:54", "article", None, "uncac:54"),
    ],
)
def test_hierarchy(text: str, level: str, parent: str | None, article: str) -> None:
    pid = ProvisionId.parse(text)
    assert pid.level == level
    assert (str(pid.parent) if pid.parent else None) == parent
    assert str(pid.article_id) == article == article_of(text)


@pytest.mark.parametrize(
    ("ref", "pid", "expected"),
    [
        ("uncac", "uncac:54.1.a", True),
        ("uncac:54", "uncac:54.1.a", True),
        ("uncac:54.1.a", "uncac:54.1.a", True),
        ("uncac:5", "uncac:54", False),  # a prefix of the number is not an ancestor
        ("uncac:54.1.a", "uncac:54", False),
        ("untoc", "uncac:54", False),
        ("bilateral-uk", "bilateral-uk:19", True),
    ],
)
def test_covers(ref: str, pid: str, expected: bool) -> None:
    assert covers(ref, pid) is expected
    if ":" in ref:
        assert ProvisionId.parse(ref).contains(ProvisionId.parse(pid)) is expected


def test_small_helpers() -> None:
    assert make_id("uncac", "54", "1", "a") == "uncac:54.1.a"
    assert make_id("uncac", "54") == "uncac:54"
    assert instrument_of("uncac:54.1") == "uncac" == instrument_of("uncac")
    assert is_research_article("article:intro.1") and is_research_article("article")
    assert not is_research_article("uncac:54") and not ProvisionId.parse("uncac:1").is_research_article


@pytest.mark.parametrize(
    ("article", "framing"),
    [
        ("ratification", True),
        ("preamble", True),
        ("final", True),
        ("final-2", True),
        ("op1-preamble", True),
        ("54", False),
        ("annex", False),
        ("protocol", False),
    ],
)
def test_framing_articles(article: str, framing: bool) -> None:
    assert is_framing(article) is framing
