"""Unit tests for assistant.lexical: normalisation, per-language tokens, the Kazakh stemmer, BM25."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.core.errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from assistant.index.lexical import BM25Index
from assistant.text.detect import detect_language as detect_lang
from assistant.text.normalize import normalize
from assistant.text.stem import stem_kk
from assistant.text.tokenize import tokenize

# ----------------------------------------------------------------------------- normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("запpoce", "запросе"),  # Latin p, o, c, e inside a Cyrillic word
        ("icтep", "істер"),  # Latin i is the Kazakh і, not и
        ("еe", "ее"),  # Latin e standing for ё
        ("Bзаимной", "взаимной"),  # capital Latin B looks like В
        ("Cтатья 14", "статья 14"),
        ("ёлка Ёж", "елка еж"),
        ("сло\u00adво", "слово"),  # soft hyphen
        ("тәр\u200bкі\u200dлеу\ufeff", "тәркілеу"),  # zero-width characters
        ("ӘҒҚҢӨҰҮҺІ әғқңөұүһі", "әғқңөұүһі әғқңөұүһі"),  # Kazakh letters kept
        ("Bank of England", "bank of england"),  # real Latin words untouched
        ("  a\u00a0\tb\n\nc  ", "a b c"),  # whitespace, incl. no-break space
        ("43-бапХалықаралық", "43-бап халықаралық"),  # glued heading words split
        ("ＡＢＣ１２", "abc12"),  # NFKC fullwidth
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_normalize_leaves_mixed_word_with_non_lookalike_latin() -> None:
    # "R" has no Cyrillic twin: the word is not a disguised Cyrillic one, so nothing is mapped.
    assert normalize("Rосс") == "rосс"


# ----------------------------------------------------------------------------- Kazakh stemmer

KK_FAMILIES = [
    ["тәркілеу", "тәркіленген", "тәркілеуге", "тәркілеудің", "тәркілеуді"],
    ["жылыстату", "жылыстатудан", "жылыстатылған", "жылыстатуға"],
    ["активтер", "активтерді", "активтерін", "активтердің"],
    ["сұрау", "сұрауды", "сұрауға", "сұралған", "сұралатын"],
    ["тарту", "тартуға", "тартудың", "тартылған"],
    ["мүлік", "мүлікті", "мүлкі", "мүлкін", "мүліктің"],
    ["тарап", "тараптың", "тарапқа", "тарабының"],
    ["бап", "бабы", "бабының", "бапқа"],
    ["құқық", "құқығы", "құқықтарын"],
    ["мемлекет", "мемлекеттің", "мемлекеттер", "мемлекетін"],
    ["қолдану", "қолданылатын", "қолданады", "қолданылған"],
    ["орган", "органы", "органдар", "органдарына"],
    ["табыс", "табысы", "табыстарды"],
    ["шешім", "шешімі", "шешімдер", "шешімін"],
    ["алу", "алынған", "алып", "алады"],
]


@pytest.mark.parametrize("family", KK_FAMILIES, ids=lambda f: f[0])
def test_kk_family_meets(family: list[str]) -> None:
    stems = {w: stem_kk(w) for w in family}
    assert len(set(stems.values())) == 1, stems


KK_APART = [
    ("тарап", "тарау"),  # party / chapter
    ("салық", "салу"),  # tax / to put
    ("сала", "салу"),  # sphere / to put
    ("қолдау", "қолдану"),  # to support / to apply
    ("басқа", "бас"),  # other / head (бас тарту)
    ("заң", "заңсыз"),  # law / illegal
    ("жыл", "жылыстату"),  # year / laundering
    ("қайта", "қайтару"),  # again / to return
    ("орын", "орындау"),  # place / to execute
    ("мүлік", "мүше"),  # property / member
    ("тұлға", "тұл"),  # person / (stripped nonsense)
]


@pytest.mark.parametrize(("a", "b"), KK_APART)
def test_kk_unrelated_words_stay_apart(a: str, b: str) -> None:
    assert stem_kk(a) != stem_kk(b)


@pytest.mark.parametrize("word", ["сот", "іс", "бап", "ел"])
def test_kk_short_words_unchanged(word: str) -> None:
    assert stem_kk(word) == word


def test_kk_multiword_terms_meet_wordwise() -> None:
    assert tokenize("сұрау салу", "kk") == tokenize("сұрауды салуға", "kk")
    assert tokenize("бас тарту", "kk") == tokenize("бас тартуға", "kk")


# ----------------------------------------------------------------------------- tokenize


@pytest.mark.parametrize(
    ("lang", "forms"),
    [
        ("ru", ["конфискация", "конфискации", "конфискацию", "конфискацией"]),
        ("ru", ["отмывание", "отмывания", "отмыванием"]),
        ("ru", ["имущество", "имущества", "имуществом"]),
        ("en", ["confiscation", "confiscations"]),
        ("en", ["laundering", "launder", "laundered"]),
        ("kk", ["тәркілеу", "тәркілеуге"]),
    ],
)
def test_forms_share_one_term(lang: str, forms: list[str]) -> None:
    terms = {tuple(tokenize(f, lang)) for f in forms}
    assert len(terms) == 1 and len(next(iter(terms))) == 1, terms


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("13-бап", "kk", ["13", "бап"]),
        ("54-бабына", "kk", ["54", "бап"]),
        ("2настоящей", "ru", ["2", "настоя"]),
        ("и в на по для", "ru", []),
        ("the of and shall", "en", []),
        ("және немесе осы", "kk", []),
        ("a) b) c)", "en", []),  # item letters
    ],
)
def test_tokens(text: str, lang: str, expected: list[str]) -> None:
    assert tokenize(text, lang) == expected


@pytest.mark.parametrize(
    ("short", "long", "lang"),
    [
        ("ст.54", "статья 54", "ru"),
        ("ст. 54", "статьи 54", "ru"),
        ("Art. 31", "article 31", "en"),
        ("para. 2", "paragraph 2", "en"),
    ],
)
def test_abbreviations_match_full_words(short: str, long: str, lang: str) -> None:
    assert tokenize(short, lang) == tokenize(long, lang)
    assert tokenize(short, lang)[-1].isdigit()


def test_lookalike_only_word_in_cyrillic_text() -> None:
    # «ic» typed in Latin letters in a Kazakh text is the word іс.
    assert tokenize("ic", "kk") == tokenize("іс", "kk")
    assert tokenize("ic", "en") == ["ic"]


def test_auto_picks_stemmer_by_script() -> None:
    assert tokenize("тәркілеуге", "auto") == tokenize("тәркілеуге", "kk")
    assert tokenize("confiscated", "auto") == tokenize("confiscated", "en")
    ru_only = tokenize("конфискации", "auto", kk_expand=False)
    assert ru_only == tokenize("конфискации", "ru")


def test_script_overrides_document_language() -> None:
    # Latin words in a Kazakh text are English; Cyrillic in an English text is Russian/Kazakh.
    assert tokenize("confiscated", "kk") == tokenize("confiscated", "en")
    assert tokenize("конфискации", "en") == tokenize("конфискации", "ru")
    assert tokenize("тәркілеуге", "ru") == tokenize("тәркілеуге", "kk")


def test_auto_expands_plain_cyrillic_with_kazakh_stem() -> None:
    terms = tokenize("активтерді", "auto")  # Kazakh word without Kazakh-only letters
    assert tokenize("активтерді", "kk")[0] in terms
    assert tokenize("активтерді", "ru")[0] in terms
    assert len(tokenize("активтерді", "auto", kk_expand=False)) == 1


def test_unknown_language_rejected() -> None:
    with pytest.raises(ValueError, match="unknown language"):
        tokenize("x", "de")


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Активтерді қайтару туралы сұрау", "kk"),
        ("Какие основания для отказа в конфискации?", "ru"),
        ("What does article 54 say?", "en"),
    ],
)
def test_detect_lang(text: str, lang: str) -> None:
    assert detect_lang(text) == lang


# ----------------------------------------------------------------------------- BM25

DOCS = [
    # ru-long comes first so that a tie (no length normalisation) would put it ahead of ru-conf.
    ("ru-long", "Государство может отказать. " * 20 + "Конфискация упоминается один раз.", "ru"),
    ("ru-conf", "Конфискация доходов от преступлений и имущества, полученного преступным путем.", "ru"),
    ("ru-extr", "Выдача лиц, обвиняемых в совершении преступлений, запрашивающему государству.", "ru"),
    ("kk-conf", "Қылмыстан түскен табыстарды тәркілеу туралы сұрау салынатын мемлекет шешеді.", "kk"),
    ("kk-laund", "Табыстарды жылыстатуға қарсы шаралар.", "kk"),
    ("en-conf", "Confiscation of proceeds of crime derived from offences.", "en"),
    ("en-shar", "Asset sharing between the Parties after confiscation.", "en"),
    ("en-art", "Article 54. Mechanisms for recovery of property.", "en"),
]


@pytest.fixture(scope="module")
def index() -> BM25Index:
    return BM25Index().build(DOCS)


@pytest.mark.parametrize(
    ("query", "lang", "best"),
    [
        ("конфискацию доходов", "ru", "ru-conf"),
        ("выдача обвиняемых", "ru", "ru-extr"),
        ("тәркілеуге қатысты сұрау", "kk", "kk-conf"),
        ("жылыстату", "kk", "kk-laund"),
        ("confiscated proceeds", "en", "en-conf"),
        ("asset sharing", "en", "en-shar"),
        ("art. 54", "en", "en-art"),
        ("табыстарды жылыстату", "auto", "kk-laund"),
    ],
)
def test_bm25_ranking(index: BM25Index, query: str, lang: str, best: str) -> None:
    hits = index.search(query, lang)
    assert hits and hits[0][0] == best, hits
    scores = [s for _, s in hits]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)


def test_idf_ranks_rare_terms_above_common_ones(index: BM25Index) -> None:
    [conf] = tokenize("конфискация", "ru")[:1]
    [extr] = tokenize("выдача", "ru")[:1]
    assert index.idf(extr) > index.idf(conf) > 0  # «выдача» is in one unit, «конфискация» in two
    assert index.idf("небывалоеслово") >= index.idf(extr)  # unknown: the rarest


def test_bm25_length_normalisation(index: BM25Index) -> None:
    # Same single match of «конфискация»; the long document must score lower.
    ranked = [d for d, _ in index.search("конфискация", "ru")]
    assert ranked.index("ru-conf") < ranked.index("ru-long")
    flat = BM25Index(b=0.0).build(DOCS)  # without length normalisation they tie
    scores = dict(flat.search("конфискация", "ru"))
    assert scores["ru-conf"] == pytest.approx(scores["ru-long"])


def test_bm25_rare_term_outweighs_common() -> None:
    docs = [(f"d{i}", "договор государство", "ru") for i in range(8)]
    docs += [("rare", "договор экстрадиция", "ru"), ("common", "договор государство государство", "ru")]
    idx = BM25Index().build(docs)
    assert idx.search("экстрадиция государство", "ru")[0][0] == "rare"


def test_bm25_idf_over_all_languages(index: BM25Index) -> None:
    # A term in one language only still gets its IDF from all documents: scores differ by corpus size.
    small = BM25Index().build([d for d in DOCS if d[2] == "en"])
    assert index.search("asset", "en")[0][1] > small.search("asset", "en")[0][1]


def test_bm25_allowed_filter(index: BM25Index) -> None:
    allowed = {"ru-long", "en-shar", "no-such-doc"}
    hits = index.search("конфискация confiscation", "auto", allowed=allowed)
    assert {d for d, _ in hits} == {"ru-long", "en-shar"}
    assert index.search("конфискация", "ru", allowed=set()) == []
    assert index.search("конфискация", "ru", allowed={"en-art"}) == []  # allowed but no match


def test_bm25_k_and_empty_queries(index: BM25Index) -> None:
    assert len(index.search("конфискация confiscation", "auto", k=2)) == 2
    assert index.search("и в на", "ru") == []
    assert index.search("xyzzy", "en") == []
    assert index.search("конфискация", "ru", k=0) == []


def test_bm25_scores_vector(index: BM25Index) -> None:
    scores = index.scores("жылыстату", "kk")
    assert scores.shape == (len(DOCS),)
    assert index.doc_ids[int(scores.argmax())] == "kk-laund"


def test_bm25_duplicate_ids_rejected() -> None:
    with pytest.raises(ValueError, match="duplicate doc id"):
        BM25Index().build([("a", "x y", "en"), ("a", "z", "en")])


def test_bm25_empty_index() -> None:
    idx = BM25Index().build([])
    assert len(idx) == 0 and idx.search("anything", "en") == []


QUERIES = [("конфискацию доходов", "ru"), ("тәркілеу сұрау", "kk"), ("asset sharing", "en"), ("54", "auto")]


def test_bm25_save_load_round_trip(index: BM25Index, tmp_path: Path) -> None:
    index.save(tmp_path)
    loaded = BM25Index.load(tmp_path)
    assert loaded.doc_ids == index.doc_ids and loaded.vocab_size == index.vocab_size
    assert (loaded.k1, loaded.b) == (index.k1, index.b)
    for q, lang in QUERIES:
        assert loaded.search(q, lang) == index.search(q, lang)
        assert loaded.search(q, lang, allowed={"kk-conf", "en-shar"}) == index.search(
            q, lang, allowed={"kk-conf", "en-shar"}
        )
    assert not any(p.suffix == ".pkl" for p in tmp_path.iterdir())


def test_bm25_load_missing(tmp_path: Path) -> None:
    with pytest.raises(IndexMissingError):
        BM25Index.load(tmp_path / "nothing")


def test_bm25_load_corrupt(index: BM25Index, tmp_path: Path) -> None:
    index.save(tmp_path)
    (tmp_path / "bm25.npz").write_bytes(b"not a zip")
    with pytest.raises(IndexCorruptError):
        BM25Index.load(tmp_path)


def test_bm25_load_truncated_zip(index: BM25Index, tmp_path: Path) -> None:
    index.save(tmp_path)
    data = (tmp_path / "bm25.npz").read_bytes()
    (tmp_path / "bm25.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexCorruptError):
        BM25Index.load(tmp_path)


def test_bm25_save_leaves_no_temporary_files(index: BM25Index, tmp_path: Path) -> None:
    index.save(tmp_path)
    index.save(tmp_path)  # overwriting works too
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bm25.json", "bm25.npz"]


def test_bm25_load_inconsistent(index: BM25Index, tmp_path: Path) -> None:
    index.save(tmp_path)
    meta = json.loads((tmp_path / "bm25.json").read_text(encoding="utf-8"))
    meta["doc_ids"] = meta["doc_ids"][:-1]
    (tmp_path / "bm25.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(IndexCorruptError):
        BM25Index.load(tmp_path)


def test_bm25_load_other_analyzer(index: BM25Index, tmp_path: Path) -> None:
    index.save(tmp_path)
    meta = json.loads((tmp_path / "bm25.json").read_text(encoding="utf-8"))
    meta["analyzer"] = "something-else"
    (tmp_path / "bm25.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(IndexMismatchError):
        BM25Index.load(tmp_path)
