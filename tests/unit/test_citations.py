"""Citation labels in three languages, id parsing, the verifier, and the template checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.citations import label, parse_id, verify_citations
from assistant.errors import ConfigError
from assistant.prompts import all_templates, load_templates

ROOT = Path(__file__).resolve().parents[2]
SHORT = {
    "strasbourg1990": {
        "kk": "Страсбург конвенциясы (1990)",
        "ru": "Страсбургская конвенция 1990 г.",
        "en": "Strasbourg Convention 1990",
    },
    "iccpr1966": {"kk": "ПАКТ", "ru": "МПГПП", "en": "ICCPR"},
}


@pytest.mark.parametrize(
    ("pid", "lang", "expected"),
    [
        ("strasbourg1990:13.1.a", "kk", "Страсбург конвенциясы (1990), 13-бап, 1(a)-тармақ"),
        ("strasbourg1990:13.1.a", "ru", "Страсбургская конвенция 1990 г., ст. 13, п. 1(a)"),
        ("strasbourg1990:13.1.a", "en", "Strasbourg Convention 1990, Art. 13(1)(a)"),
        ("strasbourg1990:13", "ru", "Страсбургская конвенция 1990 г., ст. 13"),
        ("strasbourg1990:1.a", "en", "Strasbourg Convention 1990, Art. 1(a)"),
        ("strasbourg1990:1.a", "ru", "Страсбургская конвенция 1990 г., ст. 1, подп. (a)"),
        ("strasbourg1990:ratification", "kk", "Страсбург конвенциясы (1990), ратификациялау туралы заң"),
        ("strasbourg1990:preamble", "en", "Strasbourg Convention 1990, Preamble"),
        ("iccpr1966:op5.2", "en", "ICCPR, Optional Protocol, Art. 5(2)"),
        ("iccpr1966:protocol.1", "ru", "МПГПП, Протокол к договору, п. 1"),
        ("iccpr1966:protocol", "kk", "ПАКТ, Шартқа хаттама"),
        ("strasbourg1990:final-2", "en", "Strasbourg Convention 1990, final clauses"),
        ("article:results.3", "ru", "Научная статья, Результаты и обсуждение, абз. 3"),
        ("unknown:7", "en", "unknown, Art. 7"),
        ("not an id", "en", "not an id"),
    ],
)
def test_labels(pid: str, lang: str, expected: str) -> None:
    assert label(pid, lang, SHORT, all_templates(ROOT / "prompts")) == expected


@pytest.mark.parametrize(
    ("pid", "parts"),
    [
        ("uncac:54.1.a", ("uncac", "54", "1", "a")),
        ("uncac:54", ("uncac", "54", None, None)),
        ("uncac:2.a", ("uncac", "2", None, "a")),
        ("bilateral-usa:16.2", ("bilateral-usa", "16", "2", None)),
        ("uncac 54", None),
        ("uncac:54.1.a.b", None),
        ("<script>:1", None),
    ],
)
def test_parse_id(pid, parts) -> None:
    ref = parse_id(pid)
    assert (None if ref is None else (ref.instrument, ref.article, ref.paragraph, ref.sub)) == parts


EXISTS = {"uncac:54", "uncac:54.1", "uncac:54.1.a", "uncac:55", "uncac:57"}


@pytest.mark.parametrize(
    ("cited", "retrieved", "kept", "why"),
    [
        (["uncac:54.1.a"], ["uncac:54.1.a"], ["uncac:54.1.a"], None),
        (["uncac:54"], ["uncac:54.1.a"], ["uncac:54"], None),  # the article of a retrieved item
        (["uncac:54.1.a"], ["uncac:54"], ["uncac:54.1.a"], None),  # an item of a retrieved article
        (["uncac:57"], ["uncac:54"], [], "not retrieved for this question"),
        (["uncac:99.9"], ["uncac:54"], [], "no such provision in the index"),
        (["see art. 5"], ["uncac:54"], [], "not a provision id"),
        (["uncac:54", "uncac:54"], ["uncac:54"], ["uncac:54"], None),
    ],
)
def test_verifier(cited, retrieved, kept, why) -> None:
    result = verify_citations(cited, retrieved=retrieved, exists=EXISTS)
    assert list(result.kept) == kept
    if why:
        assert result.dropped and result.dropped[0][1] == why
    else:
        assert not result.dropped


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('coverage = "x"\n', "missing template"),
        ('coverage = "{nope}"\n', "unknown variable"),
        ('coverage = "{"\n', "not a valid template"),
        ("coverage = \n", "not valid TOML"),
    ],
)
def test_template_files_are_checked_when_loaded(tmp_path, content, message) -> None:
    (tmp_path / "kk.toml").write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_templates(tmp_path, "kk")


def test_missing_template_file_says_how_to_fix(tmp_path) -> None:
    with pytest.raises(ConfigError, match="restore it"):
        load_templates(tmp_path, "ru")
