"""corpus/sources.toml: schema errors on small hand-written manifests, and the real manifest against the
real corpus folder (../shared/corpus-raw, read at test time)."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import pytest

from assistant.core.errors import ManifestError
from assistant.core.langs import LANGS
from assistant.corpus.manifest import KINDS, Manifest, load_manifest, unlisted_files

REPO = Path(__file__).resolve().parents[2]
MANIFEST = REPO / "corpus" / "sources.toml"
RAW = REPO.parent / "shared" / "corpus-raw"
FIXED_IDS = {
    "uncac",
    "untoc",
    "vienna1988",
    "strasbourg1990",
    "warsaw2005",
    "interamerican1992",
    "chisinau2002",
    "minsk1993-protocol1997",
    "vclt1969",
    "iccpr1966",
    "article",
}
SHA = "a" * 64

needs_raw = pytest.mark.skipif(not RAW.is_dir(), reason=f"shared corpus folder {RAW} not present")

INSTRUMENT = """
[instruments.alpha]
kind = "multilateral"
title = { kk = "Альфа конвенциясы", ru = "Конвенция Альфа", en = "Alpha Convention" }
short = { kk = "Альфа", ru = "Альфа", en = "Alpha" }
aliases = ["alpha", "альфа"]
"""


def document(**fields: object) -> str:
    values: dict[str, object] = {"instrument": "alpha", "lang": "en", "file": "alpha/en.md", "sha256": SHA}
    values.update(fields)
    lines = ["[[documents]]"]
    for key, value in values.items():
        if value is None:
            continue
        if key == "complete" and value in ("true", "false"):
            lines.append(f"{key} = {value}")
        elif isinstance(value, str):
            lines.append(f'{key} = "{value}"')
        elif isinstance(value, (list, tuple)):
            lines.append(f"{key} = [{', '.join(str(v) for v in value)}]")
        else:
            lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------- schema errors


def test_minimal_manifest_loads(tmp_path: Path) -> None:
    text = INSTRUMENT + document() + document(lang="ru", file="alpha/ru.md", part=2, slice=[10, 20])
    manifest = load_manifest(write(tmp_path, text))
    assert set(manifest.instruments) == {"alpha"}
    assert [d.file for d in manifest.documents_for("alpha")] == ["alpha/ru.md", "alpha/en.md"]
    assert manifest.documents[1].slice == (10, 20)
    assert manifest.hash == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert manifest.instruments["alpha"].short["ru"] == "Альфа"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("this is = = not toml", "invalid TOML", id="syntax"),
        pytest.param(INSTRUMENT, "no [[documents]]", id="no-documents"),
        pytest.param(document(), "no [instruments", id="no-instruments"),
        pytest.param(INSTRUMENT + document(lang="de"), "unknown lang 'de'", id="unknown-lang"),
        pytest.param(INSTRUMENT + document() + document(), "duplicate file", id="duplicate-file"),
        pytest.param(
            INSTRUMENT + document(file="alpha/EN.md") + document(), "duplicate file", id="duplicate-file-case"
        ),
        pytest.param(
            INSTRUMENT + document(instrument="beta"), "unknown instrument 'beta'", id="unknown-instrument"
        ),
        pytest.param(INSTRUMENT + document(sha256="abc"), "bad sha256", id="short-sha"),
        pytest.param(INSTRUMENT + document(sha256="G" * 64), "bad sha256", id="non-hex-sha"),
        pytest.param(INSTRUMENT + document(sha256=None), "missing 'sha256'", id="missing-sha"),
        pytest.param(INSTRUMENT + document(file="../etc/passwd"), "relative POSIX path", id="escaping-path"),
        pytest.param(INSTRUMENT + document(file="/abs/en.md"), "relative POSIX path", id="absolute-path"),
        pytest.param(INSTRUMENT + document(file="SOURCES.md"), "not a corpus document", id="sources-note"),
        pytest.param(INSTRUMENT + document(part=0), "'part' must be an integer", id="part-zero"),
        pytest.param(INSTRUMENT + document(slice=[20, 10]), "'slice' must be", id="slice-reversed"),
        pytest.param(INSTRUMENT + document(slice=[1]), "'slice' must be", id="slice-short"),
        pytest.param(INSTRUMENT + document(commit="1234"), "40-digit", id="bad-commit"),
        pytest.param(INSTRUMENT + document(url="ftp://x/y"), "must be http(s)", id="bad-url"),
        pytest.param(INSTRUMENT + document(repository="noslash"), "owner/name", id="bad-repository"),
        pytest.param(INSTRUMENT + document(colour="red"), "unknown key(s) colour", id="unknown-doc-key"),
        pytest.param(
            INSTRUMENT + document(complete="yes"), "'complete' must be true or false", id="complete-str"
        ),
        pytest.param(
            INSTRUMENT + document() + document(file="alpha/en2.md"),
            "part 1 of alpha/en is also",
            id="duplicate-part",
        ),
        pytest.param(
            INSTRUMENT.replace('"multilateral"', '"treaty"') + document(), "unknown kind", id="unknown-kind"
        ),
        pytest.param(
            INSTRUMENT.replace('kk = "Альфа", ', "") + document(), "missing 'kk'", id="short-missing-kk"
        ),
        pytest.param(
            INSTRUMENT.replace("[instruments.alpha]", "[instruments.Alpha]") + document(),
            "instrument id",
            id="bad-id",
        ),
        pytest.param(
            INSTRUMENT + "[instruments.alpha.kazakhstan]\nstatus = 'maybe'\n" + document(),
            "unknown status",
            id="kz-status",
        ),
        pytest.param(
            INSTRUMENT + "[instruments.alpha.kazakhstan]\nin_force = '2008-07-17'\n" + document(),
            "TOML date",
            id="kz-date-string",
        ),
        pytest.param(
            INSTRUMENT
            + '[instruments.beta]\nkind = "bilateral"\ntitle = { kk = "b", ru = "b", en = "b" }\n'
            + 'short = { kk = "b", ru = "b", en = "b" }\naliases = ["ALPHA"]\n'
            + document(),
            "also names instrument 'alpha'",
            id="alias-on-two-instruments",
        ),
        pytest.param(
            INSTRUMENT
            + '[instruments.beta]\nkind = "bilateral"\ntitle = { kk = "b", ru = "b", en = "b" }\n'
            + 'short = { kk = "b", ru = "b", en = "b" }\nplaces = ["Alpha"]\n'
            + document(),
            "place 'Alpha' also names instrument 'alpha'",
            id="place-that-is-another-instruments-alias",
        ),
        pytest.param("version = 2\n" + INSTRUMENT + document(), "unsupported manifest version", id="version"),
        pytest.param("extra = 1\n" + INSTRUMENT + document(), "unknown key(s) extra", id="unknown-top-key"),
    ],
)
def test_schema_errors_name_file_entry_and_reason(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    message = str(info.value)
    assert expected in message
    assert str(path) in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        pytest.param(["true"], True, id="one-complete-file"),
        pytest.param(["true", "true", "true"], True, id="all-parts-complete"),
        pytest.param(["true", "false"], False, id="one-part-partial"),
        pytest.param([None], False, id="unstated-is-not-complete"),
        pytest.param([], False, id="no-file-in-language"),
    ],
)
def test_is_complete_needs_every_part_of_the_language(
    tmp_path: Path, flags: list[str | None], expected: bool
) -> None:
    docs = [
        document(lang="ru", file=f"alpha/ru{i}.md", part=i + 1, complete=flag) for i, flag in enumerate(flags)
    ]
    # an English file that is complete says nothing about the Russian text
    text = INSTRUMENT + document(complete="true") + "".join(docs)
    manifest = load_manifest(write(tmp_path, text))
    assert manifest.is_complete("alpha", "ru") is expected
    assert manifest.is_complete("alpha", "en") is True
    assert manifest.is_complete("alpha", "kk") is False


def test_missing_manifest_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="not found"):
        load_manifest(tmp_path / "nope.toml")


def test_document_error_names_the_entry(tmp_path: Path) -> None:
    text = INSTRUMENT + document() + document(file="alpha/ru.md", lang="xx")
    with pytest.raises(ManifestError, match=r"documents\[1\] \(file 'alpha/ru.md'\)"):
        load_manifest(write(tmp_path, text))


# ------------------------------------------------------------------------------------- real manifest


@pytest.fixture(scope="module")
def manifest() -> Manifest:
    return load_manifest(MANIFEST)


def bilateral_folders() -> set[str]:
    return {p.name for p in RAW.iterdir() if p.is_dir() and p.name.startswith("bilateral-")}


@needs_raw
def test_instrument_ids_are_the_fixed_set_plus_bilateral_folders(manifest: Manifest) -> None:
    assert set(manifest.instruments) == FIXED_IDS | bilateral_folders()


@needs_raw
def test_every_raw_file_is_listed(manifest: Manifest) -> None:
    assert unlisted_files(manifest, RAW) == []


@needs_raw
def test_every_listed_file_exists_and_matches_its_sha256(manifest: Manifest) -> None:
    problems = []
    for doc in manifest.documents:
        path = RAW / doc.file
        if not path.is_file():
            problems.append(f"{doc.file}: missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != doc.sha256:
            problems.append(f"{doc.file}: sha256 differs")
    assert problems == []


@needs_raw
def test_excerpt_lengths_match_their_slices(manifest: Manifest) -> None:
    for doc in manifest.documents:
        if doc.slice is not None:
            text = (RAW / doc.file).read_text(encoding="utf-8")
            assert len(text) == doc.slice[1] - doc.slice[0], doc.file


@needs_raw
def test_manifest_agrees_with_sources_notes(manifest: Manifest) -> None:
    """Every file SOURCES.md lists is in the manifest with the same sha256, repository, path and commit."""
    rows = [
        line
        for line in (RAW / "SOURCES.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("| ")
    ]
    checked = 0
    for row in rows:
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) < 8 or cells[2] == "file":
            continue
        doc = manifest.document(cells[2])
        assert (doc.repository, doc.path, doc.commit, doc.sha256) == (
            cells[3],
            cells[4],
            cells[5].split()[0],
            cells[-1],
        )
        assert doc.url == f"https://raw.githubusercontent.com/{doc.repository}/{doc.commit}/{doc.path}"
        checked += 1
    assert checked >= len(manifest.documents) - 1  # the research article has no provenance row


def test_every_document_states_whether_it_is_complete() -> None:
    tables = tomllib.loads(MANIFEST.read_text(encoding="utf-8"))["documents"]
    assert [t["file"] for t in tables if not isinstance(t.get("complete"), bool)] == []


@needs_raw
def test_complete_flags_agree_with_sources_notes(manifest: Manifest) -> None:
    """A file SOURCES.md calls complete, or a PARTIAL part that completes its language, is flagged so;
    partial and near-complete files whose language stays incomplete are not."""
    rows = {}
    for line in (RAW / "SOURCES.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) >= 8 and cells[2] != "file":
            rows[cells[2]] = cells[6]
    for doc in manifest.documents:
        if doc.file not in rows:
            continue
        said = rows[doc.file]
        if said.startswith("complete"):
            assert doc.complete, doc.file
        elif said.startswith("near-complete"):
            assert not doc.complete, doc.file
    assert manifest.is_complete("uncac", "kk") and manifest.is_complete("chisinau2002", "ru")
    assert manifest.is_complete("vienna1988", "ru") and manifest.is_complete("chisinau2002", "kk")
    assert not manifest.is_complete("strasbourg1990", "ru") and not manifest.is_complete("iccpr1966", "ru")


def test_split_texts_are_numbered_in_reading_order(manifest: Manifest) -> None:
    for iid in manifest.instruments:
        for lang in LANGS:
            docs = manifest.documents_for(iid, lang)
            assert [d.part for d in docs] == list(range(1, len(docs) + 1)), (iid, lang)
            cuts = [d.slice for d in docs]
            if len(docs) > 1 and all(cuts):
                starts = [c[0] for c in cuts if c]
                assert starts == sorted(starts), (iid, lang)


def test_every_instrument_has_documents_names_and_aliases(manifest: Manifest) -> None:
    files = {d.file for d in manifest.documents}
    for iid, inst in manifest.instruments.items():
        assert manifest.documents_for(iid), iid
        assert inst.kind in KINDS
        assert all(inst.short[lang] and inst.title[lang] for lang in LANGS), iid
        assert len(inst.aliases) >= 5, iid
        assert set(inst.kazakhstan.stated_in) <= files, iid
        if inst.kind == "bilateral":
            assert iid.startswith("bilateral-")


@pytest.mark.parametrize(
    ("alias", "iid"),
    [
        ("УНКАК", "uncac"),
        ("Мерида конвенциясы", "uncac"),
        ("Палермо", "untoc"),
        ("Вена 1988", "vienna1988"),
        ("ETS 141", "strasbourg1990"),
        ("CETS 198", "warsaw2005"),
        ("Нассау", "interamerican1992"),
        ("Кишинёв", "chisinau2002"),
        ("ВКПМД", "vclt1969"),
        ("МПГПП", "iccpr1966"),
        ("АҚШ-пен", "bilateral-usa"),
        ("Ұлыбританиямен", "bilateral-uk"),
        ("UK", "bilateral-uk"),
        ("Корея", "bilateral-korea"),
        ("Испания", "bilateral-spain"),
        ("Италия", "bilateral-italy"),
        ("Венгрия", "bilateral-hungary"),
        ("Болгария", "bilateral-bulgaria"),
        ("Чехия", "bilateral-czechia"),
        ("Грузиямен", "bilateral-georgia"),
        ("Үндістанмен", "bilateral-india"),
        ("Иорданией", "bilateral-jordan"),
        ("Қырғызстан", "bilateral-kyrgyzstan"),
        ("Пакистаном", "bilateral-pakistan"),
        ("Турция", "bilateral-turkey"),
        ("Турцией", "bilateral-turkey"),
        ("с Турцией", "bilateral-turkey"),
        ("Түркиямен", "bilateral-turkey"),
        ("Turkey", "bilateral-turkey"),
        ("Türkiye", "bilateral-turkey"),
        ("ОАЭ", "bilateral-uae"),
        ("Украиной", "bilateral-ukraine"),
        ("Өзбекстанмен", "bilateral-uzbekistan"),
        ("Минской конвенции", "minsk1993-protocol1997"),
    ],
)
def test_common_names_are_aliases_of_the_right_instrument(manifest: Manifest, alias: str, iid: str) -> None:
    owners = [
        i
        for i, inst in manifest.instruments.items()
        if alias.casefold() in {a.casefold() for a in inst.aliases}
    ]
    assert owners == [iid]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Договор с Турцией о выдаче", ("bilateral-turkey",)),
        ("Түркия келісімі", ("bilateral-turkey",)),
        ("Грузия шарты", ("bilateral-georgia",)),
        ("договор с Грузией", ("bilateral-georgia",)),
        ("договор с Индией", ("bilateral-india",)),
        ("Үндістанмен шарт", ("bilateral-india",)),
        ("соглашение с ОАЭ", ("bilateral-uae",)),
        ("Минская конвенция", ("minsk1993-protocol1997",)),
        # words that merely start like a partner's name name no instrument (a named one restricts the search)
        ("контролируемая поставка груза", ()),
        ("индивидуальный предприниматель", ()),
        ("Туркменистан", ()),
        ("Түрікменстан Республикасымен", ()),
    ],
)
def test_partner_names_in_questions(manifest: Manifest, question: str, expected: tuple[str, ...]) -> None:
    from assistant.search.understand import aliases_from_manifest, parse_references

    assert parse_references(question, aliases_from_manifest(manifest)).instruments == expected


@pytest.mark.parametrize(
    ("scope", "inside", "outside"),
    [
        (None, ["uncac", "bilateral-uk", "article"], []),
        ("conventions", ["uncac", "strasbourg1990", "vclt1969"], ["bilateral-uk", "article"]),
        ("bilateral", ["bilateral-uk", "bilateral-uzbekistan"], ["uncac", "chisinau2002"]),
        ("un", ["uncac", "untoc", "vienna1988"], ["strasbourg1990", "bilateral-usa"]),
        ("coe", ["strasbourg1990", "warsaw2005"], ["uncac", "interamerican1992"]),
        ("cis", ["chisinau2002", "minsk1993-protocol1997"], ["warsaw2005"]),
    ],
)
def test_which_instruments_a_scope_covers(scope: str | None, inside: list[str], outside: list[str]) -> None:
    instruments = load_manifest(MANIFEST).instruments
    assert all(instruments[i].in_scope(scope) for i in inside)
    assert not any(instruments[i].in_scope(scope) for i in outside)
