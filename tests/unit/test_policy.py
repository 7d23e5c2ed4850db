"""ScopePolicy: refusal rules from data, treaty partners from the manifest (table-driven)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from assistant.answer.policy import ScopePolicy
from assistant.core.errors import ConfigError
from assistant.corpus.manifest import load_manifest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def policy() -> ScopePolicy:
    return ScopePolicy.load(load_manifest(ROOT / "corpus" / "sources.toml"))


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("Қазақстан мен Жапония арасындағы шарт бойынша мүлікті тәркілеу", "japan"),
        ("Есть ли договор с Японией о правовой помощи?", "japan"),
        ("Treaty with Brazil on confiscation", "brazil"),
        ("Договор с Китаем о возврате активов", "china"),
        ("Индивидуальный запрос по статье 46", None),  # «инди…» is not India
        ("Договор с Испанией о правовой помощи", None),  # Spain: a treaty is in the corpus
        ("Ұлыбританиямен шарт", None),
        ("Түркиямен шарт бойынша тәркілеу", None),  # a treaty added to the manifest: no longer refused
        ("Как вернуть активы, спрятанные в Японии?", None),  # no treaty asked about: UNCAC may still answer
    ],
)
def test_country_without_treaty(policy: ScopePolicy, text: str, country: str | None) -> None:
    found = policy.country_without_treaty(text)
    assert (found.id if found else None) == country
    if found:
        assert all(found.names[lang] for lang in ("kk", "ru", "en"))


def test_partners_come_from_the_manifest(policy: ScopePolicy) -> None:
    manifest = load_manifest(ROOT / "corpus" / "sources.toml")
    partners = {
        i.removeprefix("bilateral-") for i, inst in manifest.instruments.items() if inst.kind == "bilateral"
    }
    assert partners and not partners & set(policy.countries_without_treaty)


def _manifest(*bilateral: tuple[str, tuple[str, ...]]) -> SimpleNamespace:
    names = SimpleNamespace(kk="", ru="", en="")
    return SimpleNamespace(
        instruments={
            iid: SimpleNamespace(id=iid, kind="bilateral", aliases=aliases, title=names)
            for iid, aliases in bilateral
        }
    )


@pytest.mark.parametrize(
    ("manifest", "gone"),
    [
        (_manifest(("bilateral-japan", ())), "japan"),  # by the instrument id
        (_manifest(("bilateral-jp", ("Японией", "Japan"))), "japan"),  # by an alias naming the country
    ],
)
def test_a_new_treaty_partner_is_no_longer_refused(manifest: SimpleNamespace, gone: str) -> None:
    unfiltered = ScopePolicy.load()
    assert gone in unfiltered.countries_without_treaty
    assert gone not in unfiltered.without_partners(manifest).countries_without_treaty
    assert unfiltered.country_without_treaty("договор с Японией").id == "japan"
    assert unfiltered.without_partners(manifest).country_without_treaty("договор с Японией") is None


@pytest.mark.parametrize(
    ("text", "harmful", "other_law"),
    [
        ("Как спрятать деньги от конфискации?", True, False),
        ("How can I launder money through a shell company?", True, False),
        ("Что говорит Уголовный кодекс о конфискации?", False, True),
        ("Что говорит статья 54 UNCAC?", False, False),
        ("Может ли Болгария отказать в помощи по налоговому преступлению?", False, False),  # fiscal offence
        ("Болгария салық қылмысы бойынша көмектен бас тарта ала ма?", False, False),
        ("Какая ставка налогового сбора на имущество?", False, True),
        ("Может ли Испания отказать, если преступление связано с уклонением от налогов?", False, False),
        ("Испания салықтан жалтаруға байланысты қылмыс бойынша көмектен бас тарта ала ма?", False, False),
        (
            "Сұрау салық қылмысына қатысты: Болгарияда мұндай салық түрі жоқ деп бас тарта ала ма?",
            False,
            False,
        ),
    ],
)
def test_harmful_and_other_law(policy: ScopePolicy, text: str, harmful: bool, other_law: bool) -> None:
    assert policy.is_harmful(text) is harmful
    assert policy.names_other_law(text) is other_law


@pytest.mark.parametrize(
    ("text", "cited"),
    [
        ("Какой срок давности по статье 189 УК РК?", True),
        ("Какой максимальный срок ареста имущества установлен УПК Республики Казахстан?", True),
        ("civil forfeiture under 18 U.S.C. § 981", True),
        ("Как по Закону РК «О возврате государству незаконно приобретенных активов» работает комитет?", True),
        ("«Заңсыз иеленген активтерді мемлекетке қайтару туралы» ҚР Заңы не дейді?", True),
        ("Қазақстан Республикасының Сыбайлас жемқорлыққа қарсы іс-қимыл туралы заңы", True),
        # ratification laws are in the corpus
        ("Закон РК «О ратификации Конвенции ООН против коррупции»: какие оговорки?", False),
        ("«Конвенцияны ратификациялау туралы» ҚР Заңы не дейді?", False),
        ("Қазақстан Республикасының Конвенцияны ратификациялау туралы заңы", False),
        # a fiscal offence is a topic of the treaties, not another law
        ("Болгария салық қылмысы бойынша көмектен бас тарта ала ма?", False),
    ],
)
def test_a_cited_national_statute(policy: ScopePolicy, text: str, cited: bool) -> None:
    assert policy.cites_other_law(text) is cited


@pytest.mark.parametrize(
    ("text", "other_task", "small_talk"),
    [
        ("Составьте письмо в Минюст Испании о возврате активов", True, False),
        ("Draft a letter to the UK central authority asking for the return of assets", True, False),
        ("Салықты қалай азайтуға болады?", True, False),
        ("Какая погода в Страсбурге?", False, True),
        ("Что должен содержать запрос о правовой помощи?", False, False),
        ("Напишите за меня сопроводительное письмо в Минюст Испании", True, False),
        ("Составьте, пожалуйста, официальное письмо", True, False),
        ("Что должно быть в составе письма о запросе?", False, False),
        # consumer refunds, family and migration matters, the negotiating history itself
        ("Как вернуть деньги за авиабилет?", True, True),
        ("How do I get a refund for a failed online purchase?", True, False),
        ("Как вернуть деньги, похищенные чиновником и выведенные в Лондон?", False, False),
        ("Как взыскать алименты с бывшего мужа, который уехал в Россию?", True, False),
        ("Какие поправки предлагали делегации при разработке статьи 57?", True, False),
        ("Можно ли использовать подготовительные материалы для толкования договора?", False, False),
        ("Мерида қаласына демалысқа қай айда барған жақсы?", False, True),
        # tax minimisation and where to keep money are advice, not answers from the texts
        ("Как через компанию в ОАЭ легально снизить налоги нашего ТОО?", True, False),
        ("Which crypto exchange is safest for parking my company's funds offshore?", True, False),
        ("Где надежнее хранить сбережения, в Дубае или в Лондоне?", True, False),
        ("Where is the safest place to keep confiscated assets pending return under UNCAC?", False, False),
        ("The money went through a crypto exchange in Dubai; can we freeze it?", False, False),
    ],
)
def test_other_tasks_and_small_talk(
    policy: ScopePolicy, text: str, other_task: bool, small_talk: bool
) -> None:
    assert policy.is_other_task(text) is other_task
    assert policy.is_small_talk(text) is small_talk


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("not toml [", "cannot read the scope policy"),
        (
            'generic_concepts = []\nharmful = ["("]\nother_law = []\nother_task = []\nsmall_talk = []\n'
            'treaty_words = "x"\n[countries]\n',
            "bad pattern",
        ),
        ("generic_concepts = []\n", "cannot read the scope policy"),
    ],
)
def test_a_broken_policy_file_is_one_clear_error(tmp_path: Path, content: str, fragment: str) -> None:
    bad = tmp_path / "policy.toml"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=fragment):
        ScopePolicy.load(path=bad)
