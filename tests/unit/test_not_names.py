"""No ordinary Kazakh or Russian word is read as an instrument's name («ақша» is money, not «АҚШ»).

Scans the hunspell word lists (Debian's hunspell-kk and hunspell-ru, installed by `make`) against the
manifest's aliases: every lower-case dictionary word that the parser reads as naming an instrument must be
a word made from that name (an adjective or demonym: «американский», «украинец»), never an ordinary word.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.corpus.manifest import load_manifest
from assistant.search.understand import aliases_from_manifest, parse_references
from assistant.text.normalize import fold

ROOT = Path(__file__).resolve().parents[2]
DICTIONARIES = [Path("/usr/share/hunspell/kk_KZ.dic"), Path("/usr/share/hunspell/ru_RU.dic")]
# Words made from the names themselves: reading them as the instrument is right.
DERIVED = (
    "америк",
    "американ",
    "ақш",
    "испан",
    "итальян",
    "италий",
    "итал",
    "итало",
    "украин",
    "пакистан",
    "иордан",
    "индиец",
    "британ",
    "великобритан",
    "ұлыбритани",
    "болгар",
    "венгр",
    "корей",
    "кореец",
    "кореян",
    "эмират",
    "палерм",
    "варшав",
    "кишин",
    "минск",
    "киргиз",
    "қырғыз",
    "үндістан",
    "өзбекстан",
    "пакт",
    "страсбург",
    "англ",
    "зерттеуд",
    # cities (manifest `places`) and their adjectives: «лондонский», «киевлянин»
    "лондон",
    "вашингтон",
    "тбилис",
    "ташкент",
    "стамбул",
    "сеул",
    "самарканд",
    "одесс",
    "милан",
    "майам",
    "мадрид",
    "киев",
    "исламабад",
    "будапешт",
    "батум",
    "барселон",
    "анкар",
    "амман",
    "бургас",
)


@pytest.mark.parametrize(
    ("text", "instruments"),
    [
        ("Ұрланған ақша қалай қайтарылады?", ()),
        ("Шоттағы ақшаны қайтару", ()),
        ("АҚШ-пен шарт бойынша тәркілеу", ("bilateral-usa",)),
        ("АҚШтан активтерді қайтару", ("bilateral-usa",)),
        ("договор с США", ("bilateral-usa",)),
        ("Нужен ли перевод на английский язык?", ()),
        ("Кореямен шарт", ("bilateral-korea",)),
        ("Сот шешімді көреді", ()),
        ("Қырғызстанмен шарт", ("bilateral-kyrgyzstan",)),
        ("Өзгерістер енгізу және кіргізу тәртібі", ()),
        # "us" is a pronoun; "US" in capitals is the USA
        ("Could you tell us what the treaty says?", ()),
        ("Can we send a request to the US by email?", ("bilateral-usa",)),
    ],
)
def test_collisions_found_by_the_scan_stay_fixed(text: str, instruments: tuple[str, ...]) -> None:
    aliases = aliases_from_manifest(load_manifest(ROOT / "corpus" / "sources.toml"))
    assert parse_references(text, aliases).instruments == instruments


def test_no_ordinary_dictionary_word_names_an_instrument() -> None:
    missing = [d for d in DICTIONARIES if not d.exists()]
    if missing:
        pytest.skip(
            f"word lists not installed: {missing}; `apt-get install hunspell-kk hunspell-ru` (make does)"
        )
    manifest = load_manifest(ROOT / "corpus" / "sources.toml")
    # cities of the partner States (manifest `places`) are matched like aliases: scanned with them
    aliases = {
        iid: (*names, *manifest.instruments[iid].places)
        for iid, names in aliases_from_manifest(manifest).items()
    }
    heads = {fold(w)[:3] for names in aliases.values() for a in names for w in a.split() if len(w) >= 3}
    collisions = []
    for dic in DICTIONARIES:
        for line in dic.read_text(encoding="utf-8", errors="ignore").splitlines()[1:]:
            word = line.split("/")[0].strip()
            if len(word) < 2 or not word[0].islower() or fold(word)[:3] not in heads:
                continue
            found = parse_references(word, aliases).instruments
            if found and not word.startswith(DERIVED):
                collisions.append(f"{word} → {found[0]}")
    assert not collisions, (
        f"ordinary words read as instrument names (add to data/not_names.toml): {collisions[:20]}"
    )
