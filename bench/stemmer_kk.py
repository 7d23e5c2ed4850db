"""Measure the Kazakh stemmer (`assistant.index.lexical.stem_kk`) against hand-written gold lists.

Takes: nothing (the gold lists are below); optionally the Kazakh corpus files in
`../shared/corpus-raw/*/kk*` (or the folder given with `--corpus`), read at run time.
Gives: printed figures only —
  * conflation recall: share of same-family word pairs whose stems are equal;
  * over-stemming rate: share of must-not pairs whose stems are equal;
for the stemmer (at two minimum stem lengths) and two baselines (no stemming, 6-letter prefix), and,
when the corpus is there, the number of distinct word forms vs distinct stems in the Kazakh files.

Run: .venv/bin/python bench/stemmer_kk.py [--corpus PATH] [--show-misses]
"""

from __future__ import annotations

import argparse
import itertools
import re
from collections.abc import Callable
from pathlib import Path

from assistant.text.normalize import normalize
from assistant.text.stem import stem_kk
from assistant.text.tokenize import is_stopword, words

# Word families whose forms must meet (inflected and derived forms of one lexeme as a reader of a
# treaty would search for it). Written for this benchmark.
FAMILIES: list[list[str]] = [
    ["тәркілеу", "тәркіленген", "тәркілеуге", "тәркілеудің", "тәркілеуді", "тәркіленуі", "тәркілеген"],
    ["жылыстату", "жылыстатудан", "жылыстатылған", "жылыстатуға", "жылыстатуды", "жылыстатылуын"],
    ["активтер", "активтерді", "активтерін", "активтердің", "активтерге", "актив"],
    ["сұрау", "сұрауды", "сұраудың", "сұрауға", "сұраулар", "сұралған", "сұралатын"],
    ["тарту", "тартуға", "тартудың", "тартылған", "тартады"],
    ["мемлекет", "мемлекеттің", "мемлекетке", "мемлекеттер", "мемлекеттердің", "мемлекетте", "мемлекетін"],
    ["мүлік", "мүлікті", "мүлкі", "мүлкін", "мүліктің", "мүлікке", "мүліктерді"],
    ["тарап", "тараптың", "тарапқа", "тараптар", "тарабының", "тарапынан"],
    ["бап", "бабы", "бабының", "бапқа", "баптың", "бабында"],
    ["конвенция", "конвенцияның", "конвенцияға", "конвенцияда", "конвенцияны", "конвенциясы"],
    ["табыс", "табыстар", "табыстарды", "табыстардың", "табысы", "табыстан"],
    ["қылмыс", "қылмыстар", "қылмыстарды", "қылмысқа", "қылмыстан", "қылмыстың"],
    ["көмек", "көмекті", "көмекке", "көмектің", "көмегі", "көмегімен"],
    ["құқық", "құқығы", "құқықтар", "құқықтарын", "құқығына"],
    ["тармақ", "тармағы", "тармағына", "тармақта", "тармақтың", "тармақтары"],
    ["беру", "берілген", "беруге", "берілуі", "береді", "беретін", "берілетін"],
    ["қолдану", "қолданылатын", "қолданады", "қолданылған", "қолдануға", "қолданылуы"],
    ["анықтау", "анықталған", "анықтауға", "анықтаудың", "анықтайды"],
    ["орындау", "орындалған", "орындауға", "орындаудың", "орындалуы", "орындайды"],
    ["ақпарат", "ақпаратты", "ақпараттың", "ақпаратқа", "ақпаратын"],
    ["шешім", "шешімі", "шешімді", "шешімдер", "шешімін"],
    ["орган", "органы", "органдар", "органдарына", "органның"],
    ["талап", "талабы", "талаптар", "талаптарға", "талабын"],
    ["тергеу", "тергеуді", "тергеудің", "тергеулер", "тергеуге"],
    ["сот", "соттың", "сотқа", "соттар", "сотта"],
    ["қайтару", "қайтарылуы", "қайтаруға", "қайтарылатын", "қайтарады"],
    ["алу", "алынған", "алуға", "алып", "алады"],
    ["ұйым", "ұйымның", "ұйымдар", "ұйымы", "ұйымдарға"],
]

# Pairs of unrelated words that must stay apart (written for this benchmark; several are traps for
# a suffix stripper or for a short prefix).
MUST_NOT: list[tuple[str, str]] = [
    ("тарап", "тарау"),  # party / chapter
    ("салық", "салу"),  # tax / to put
    ("сала", "салу"),  # sphere / to put
    ("қолдау", "қолдану"),  # to support / to apply
    ("басқа", "бас"),  # other / head
    ("заң", "заңсыз"),  # law / illegal
    ("жыл", "жылыстату"),  # year / laundering
    ("сот", "сатып"),  # court / buying
    ("алты", "алу"),  # six / to take
    ("қару", "қарау"),  # weapon / to consider
    ("мүлік", "мүше"),  # property / member
    ("ақпарат", "ақша"),  # information / money
    ("қайта", "қай"),  # again / which
    ("қайтару", "қайта"),  # to return / again
    ("жабдық", "жабу"),  # equipment / to close
    ("жүгіну", "жүк"),  # to appeal / cargo
    ("орын", "орындау"),  # place / to execute
    ("халықаралық", "халық"),  # international / people
    ("салым", "салу"),  # deposit / to put
    ("бөлім", "бөлу"),  # section / to divide
    ("мақсат", "мақта"),  # purpose / cotton
    ("тәртіп", "тәрбие"),  # procedure / upbringing
    ("қауіп", "қауым"),  # danger / community
    ("ақы", "ақыл"),  # fee / reason
    ("іс", "ішкі"),  # case / internal
    ("жария", "жаралы"),  # public / wounded
    ("қамау", "қамтамасыз"),  # arrest / to ensure
    ("тыйым", "тыныш"),  # ban / quiet
]

# Written after the stemmer's rules were settled and never used to tune them: a check that the
# figures above are not only the result of fixing what the first lists showed.
HELDOUT_FAMILIES: list[list[str]] = [
    ["дәлелдеме", "дәлелдемелер", "дәлелдемелерді", "дәлелдемені", "дәлелдеменің"],
    ["келісім", "келісімдер", "келісімге", "келісімі", "келісімнің"],
    ["тұлға", "тұлғалар", "тұлғаның", "тұлғаларға", "тұлғасы"],
    ["тапсыру", "тапсырылған", "тапсыруға", "тапсырады", "тапсырылуы"],
    ["қорғау", "қорғалатын", "қорғауға", "қорғаудың"],
    ["бұзушылық", "бұзушылықтар", "бұзушылықтарды", "бұзушылыққа"],
    ["құжат", "құжаттар", "құжаттарды", "құжатын", "құжаттың"],
    ["шот", "шоттар", "шоттарды", "шотына", "шоттың"],
    ["есеп", "есебі", "есептер", "есепке", "есебін"],
    ["жемқорлық", "жемқорлыққа", "жемқорлықтың", "жемқорлықпен"],
    ["хабарлау", "хабарлайды", "хабарланған", "хабарлауға"],
    ["өтініш", "өтініштер", "өтінішті", "өтінішке", "өтініші"],
    ["азамат", "азаматтар", "азаматы", "азаматтың"],
    ["іздестіру", "іздестірілген", "іздестіруге", "іздестірудің"],
    ["бөлу", "бөлінген", "бөлуге", "бөлінуі"],
]
HELDOUT_MUST_NOT: list[tuple[str, str]] = [
    ("жаза", "жазу"),  # punishment / to write
    ("тіл", "тілек"),  # language / wish
    ("ара", "арал"),  # between / island
    ("кіру", "кіріс"),  # to enter / income
    ("шығу", "шығын"),  # to exit / expense
    ("табу", "табыс"),  # to find / proceeds
    ("жол", "жолдау"),  # road / to send
    ("түсу", "түсім"),  # to fall / receipts
    ("ел", "елші"),  # country / ambassador
    ("тану", "таныс"),  # to recognise / acquainted
    ("кез", "кезек"),  # time / turn
    ("сан", "сана"),  # number / consciousness
]

Stemmer = Callable[[str], str]


def _norm(word: str) -> str:
    return normalize(word)


STEMMERS: dict[str, Stemmer] = {
    "no stemming": _norm,
    "6-letter prefix": lambda w: _norm(w)[:6],
    "stem_kk (min 2)": lambda w: stem_kk(_norm(w), min_len=2),
    "stem_kk (min 3)": lambda w: stem_kk(_norm(w), min_len=3),
}


def family_pairs(families: list[list[str]]) -> list[tuple[str, str]]:
    return [pair for family in families for pair in itertools.combinations(family, 2)]


def measure(
    stem: Stemmer, families: list[list[str]], must_not: list[tuple[str, str]]
) -> tuple[float, float, list[tuple[str, str]], list[tuple[str, str]]]:
    pairs = family_pairs(families)
    missed = [(a, b) for a, b in pairs if stem(a) != stem(b)]
    merged = [(a, b) for a, b in must_not if stem(a) == stem(b)]
    return 1 - len(missed) / len(pairs), len(merged) / len(must_not), missed, merged


def report(title: str, families: list[list[str]], must_not: list[tuple[str, str]], show: bool) -> None:
    n_pairs = len(family_pairs(families))
    print(f"{title}: {len(families)} families, {n_pairs} same-family pairs; {len(must_not)} must-not pairs")
    print(f"  {'stemmer':<18} {'conflation recall':>18} {'over-stemming':>14}")
    for name, stem in STEMMERS.items():
        recall, over, missed, merged = measure(stem, families, must_not)
        print(f"  {name:<18} {recall:>18.3f} {over:>14.3f}")
        if show and name.startswith("stem_kk"):
            for a, b in missed:
                print(f"      miss  {a} [{stem(a)}]  {b} [{stem(b)}]")
            for a, b in merged:
                print(f"      merge {a} / {b} [{stem(a)}]")


def corpus_words(corpus: Path) -> list[str]:
    files = sorted(p for p in corpus.glob("*/kk*") if p.is_file())
    found: list[str] = []
    for path in files:
        text = normalize(path.read_text(encoding="utf-8", errors="replace"))
        found += [w for w in words(text) if not w.isdigit() and re.search("[а-яәғқңөұүһі]", w)]
    return [w for w in found if len(w) > 1 and not is_stopword(w, "kk")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--corpus", type=Path, default=Path(__file__).resolve().parents[2] / "shared/corpus-raw"
    )
    parser.add_argument("--show-misses", action="store_true", help="list the pairs stem_kk gets wrong")
    args = parser.parse_args()

    report("development gold", FAMILIES, MUST_NOT, args.show_misses)
    report("held-out gold", HELDOUT_FAMILIES, HELDOUT_MUST_NOT, args.show_misses)

    words = corpus_words(args.corpus) if args.corpus.is_dir() else []
    if not words:
        print(f"corpus: no Kazakh files under {args.corpus}; vocabulary figures skipped")
        return
    forms = set(words)
    print(f"corpus: {len(words)} Kazakh word tokens (stopwords removed), {len(forms)} distinct forms")
    for name, stem in STEMMERS.items():
        n = len({stem(w) for w in forms})
        print(f"{name:<18} {n:>6} distinct terms  ({1 - n / len(forms):.1%} fewer than forms)")


if __name__ == "__main__":
    main()
