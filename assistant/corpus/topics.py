"""The legal topic map: which provision of which instrument deals with which question of asset recovery.

Takes: `corpus/topics/*.toml` (editorial data, reviewed like code; the fields are read in `_topic` and
`_provision` below, and described in docs/contributing.md), the manifest, and, for `check_against`, the
parsed provisions. A topic may name the broader topics it `narrows` (bank secrecy is a ground of refusal).
Gives: a `TopicMap` of frozen `Topic`s, each with per-instrument `TopicProvision`s (id, weight, a one-sentence
editorial summary per language, supporting words from the provision's own text) and the instruments whose
complete text has no such provision (`none`); `render_markdown` for the review table in `docs/topics.md`.

Every statement is a summary written for this project, never treaty text: answers show it marked as a
summary, with the provision quoted verbatim beneath it.
"""

from __future__ import annotations

import bisect
import re
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

from assistant.core.errors import TopicMapError
from assistant.core.ids import ProvisionId, covers, instrument_of
from assistant.core.langs import LANGS

WEIGHTS = ("main", "related")
SIGNAL_KEYS = (*LANGS, "latin")
_ID = re.compile(r"^[a-z][a-z0-9-]*$")
MAX_SUPPORT_WORDS = 10


@dataclass(frozen=True)
class TopicProvision:
    id: str
    weight: str  # "main": answers the topic directly; "related": deals with it indirectly
    says: Mapping[str, str]  # lang -> one-sentence editorial summary
    support: tuple[str, ...]  # verbatim words of the provision (any language version)

    @property
    def instrument(self) -> str:
        return instrument_of(self.id)


@dataclass(frozen=True)
class Topic:
    id: str
    title: Mapping[str, str]
    signals: Mapping[str, tuple[str, ...]]  # kk / ru / en / latin -> phrasings
    glossary: tuple[str, ...]
    none: tuple[str, ...]  # instruments whose complete text has no provision on this topic
    provisions: tuple[TopicProvision, ...]  # strongest first
    source: str  # the file it came from
    # broader topics this one is a case of (bank secrecy is a ground of refusal): named in a question with
    # its own phrasing, this topic is the one asked about, however many words the broader one covers
    narrows: tuple[str, ...] = ()

    def instruments(self) -> list[str]:
        """Instruments with a provision on this topic, in the order their first provision is listed."""
        return list(dict.fromkeys(p.instrument for p in self.provisions))

    def for_instrument(self, instrument: str) -> tuple[TopicProvision, ...]:
        return tuple(p for p in self.provisions if p.instrument == instrument)


@dataclass(frozen=True)
class TopicMap:
    topics: Mapping[str, Topic]

    def __len__(self) -> int:
        return len(self.topics)

    def __contains__(self, topic_id: object) -> bool:
        return topic_id in self.topics

    def get(self, topic_id: str) -> Topic | None:
        return self.topics.get(topic_id)

    def topics_of(self, provision_id: str) -> list[Topic]:
        """Topics that map `provision_id`, one of its descendants or its ancestors (the treaty browser)."""
        return [
            t
            for t in self.topics.values()
            if any(covers(provision_id, p.id) or covers(p.id, provision_id) for p in t.provisions)
        ]

    def status(self, topic: Topic, instrument: str, mapped_instruments: Iterable[str] = ()) -> str:
        """«mapped», «none» (its complete text has no such provision) or «unmapped» (not reviewed yet)."""
        if topic.for_instrument(instrument):
            return "mapped"
        return "none" if instrument in topic.none else "unmapped"


# ------------------------------------------------------------------------------------------ loading


def load_topics(folder: Path, manifest=None) -> TopicMap:  # noqa: ANN001 - corpus.Manifest
    """Every `*.toml` in `folder`, schema-checked; a broken entry raises TopicMapError naming file, topic, field.

    With `manifest`, instrument ids are checked too, and `none` is accepted only for instruments whose
    text is complete in the corpus.
    """
    topics: dict[str, Topic] = {}
    if not folder.is_dir():
        return TopicMap({})
    for path in sorted(folder.glob("*.toml")):
        try:
            raw = tomllib.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise TopicMapError(f"{path}: cannot read the topic map ({exc}); fix the file") from None
        entries = raw.get("topics", [])
        if not isinstance(entries, list):
            raise TopicMapError(f"{path}: `topics` must be an array of tables ([[topics]]); fix the file")
        for n, entry in enumerate(entries):
            topic = _topic(path, n, entry, manifest)
            if topic.id in topics:
                raise TopicMapError(f"{path}: topic {topic.id!r}: id also used in {topics[topic.id].source}")
            topics[topic.id] = topic
    for topic in topics.values():
        for broader in topic.narrows:
            if broader not in topics:
                raise _fail(Path(folder, topic.source), topic.id, "narrows", f"unknown topic {broader!r}")
    return TopicMap(topics)


def _fail(path: Path, topic: str, field: str, why: str) -> TopicMapError:
    return TopicMapError(f"{path}: topic {topic!r}: {field}: {why}; fix the entry")


def _langs(path: Path, tid: str, field: str, value: object, keys: tuple[str, ...] = LANGS) -> dict[str, str]:
    if not isinstance(value, dict):
        raise _fail(path, tid, field, "must be a table with kk, ru and en")
    out = {}
    for lang in keys:
        text = value.get(lang)
        if not isinstance(text, str) or not text.strip():
            raise _fail(path, tid, f"{field}.{lang}", "missing or empty")
        out[lang] = text.strip()
    return out


def _topic(path: Path, n: int, entry: object, manifest) -> Topic:  # noqa: ANN001
    if not isinstance(entry, dict):
        raise TopicMapError(f"{path}: topics[{n}]: not a table; fix the entry")
    tid = entry.get("id")
    if not isinstance(tid, str) or not _ID.match(tid):
        raise TopicMapError(f"{path}: topics[{n}]: id {tid!r} must be kebab-case (e.g. direct-enforcement)")
    unknown = set(entry) - {"id", "title", "signals", "glossary", "none", "provisions", "narrows"}
    if unknown:
        raise _fail(path, tid, ", ".join(sorted(unknown)), "unknown field")
    title = _langs(path, tid, "title", entry.get("title"))
    raw_signals = entry.get("signals", {})
    if not isinstance(raw_signals, dict):
        raise _fail(path, tid, "signals", "must be a table of lists")
    signals: dict[str, tuple[str, ...]] = {}
    for key in SIGNAL_KEYS:
        values = raw_signals.get(key, [])
        if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
            raise _fail(path, tid, f"signals.{key}", "must be a list of non-empty strings")
        if key in LANGS and not values:
            raise _fail(path, tid, f"signals.{key}", "needs at least one phrasing")
        signals[key] = tuple(v.strip() for v in values)
    provisions = tuple(
        _provision(path, tid, i, p, manifest) for i, p in enumerate(entry.get("provisions", []))
    )
    none = tuple(entry.get("none", []))
    mapped = {p.instrument for p in provisions}
    for inst in none:
        if inst in mapped:
            raise _fail(path, tid, "none", f"{inst!r} is listed as having no provision but also mapped")
        if manifest is not None:
            if inst not in manifest.instruments:
                raise _fail(path, tid, "none", f"unknown instrument {inst!r}")
            if not any(manifest.is_complete(inst, lang) for lang in LANGS):
                raise _fail(
                    path, tid, "none", f"{inst!r} has a partial text in the corpus: say nothing, not `none`"
                )
    narrows = entry.get("narrows", [])
    if not isinstance(narrows, list) or not all(isinstance(t, str) and t != tid for t in narrows):
        raise _fail(path, tid, "narrows", "must be a list of other topics' ids")
    return Topic(
        id=tid,
        title=title,
        signals=signals,
        glossary=tuple(entry.get("glossary", [])),
        none=none,
        provisions=provisions,
        source=path.name,
        narrows=tuple(narrows),
    )


def _provision(path: Path, tid: str, i: int, raw: object, manifest) -> TopicProvision:  # noqa: ANN001
    field = f"provisions[{i}]"
    if not isinstance(raw, dict):
        raise _fail(path, tid, field, "not a table")
    pid = raw.get("id")
    parsed = ProvisionId.try_parse(pid) if isinstance(pid, str) else None
    if parsed is None:
        raise _fail(path, tid, f"{field}.id", f"{pid!r} is not a provision id")
    if manifest is not None and parsed.instrument not in manifest.instruments:
        raise _fail(path, tid, f"{field}.id", f"unknown instrument {parsed.instrument!r}")
    weight = raw.get("weight", "main")
    if weight not in WEIGHTS:
        raise _fail(path, tid, f"{field}.weight", f"{weight!r} is not one of {', '.join(WEIGHTS)}")
    support = raw.get("support", [])
    if (
        not isinstance(support, list)
        or not support
        or not all(isinstance(s, str) and s.strip() for s in support)
    ):
        raise _fail(path, tid, f"{field}.support", "needs one to three phrases from the provision's text")
    if any(len(s.split()) > MAX_SUPPORT_WORDS for s in support):
        raise _fail(
            path, tid, f"{field}.support", f"a phrase of more than {MAX_SUPPORT_WORDS} words: cite less"
        )
    return TopicProvision(
        str(parsed), weight, _langs(path, tid, f"{field}.says", raw.get("says")), tuple(support)
    )


# ------------------------------------------------------------------------------------------ checks


def fold_for_search(text: str) -> str:
    """Lowercase, NFKC, Latin «i» as Cyrillic «і», quotes and markup dropped, whitespace collapsed.

    The Kazakh sources mix Latin «i» and Cyrillic «і»; a supporting phrase must be found whichever the
    source used.
    """
    s = unicodedata.normalize("NFKC", text).lower().replace("ё", "е").replace("i", "і")
    s = re.sub(r"[«»\"“”„'’`*_]", "", s)
    return " ".join(s.split())


def texts_with_descendants(provisions: Iterable) -> tuple[Callable[[str], list[str]], set[str]]:  # noqa: ANN001
    """(`texts(pid)`: every language version of a provision and its descendants, the set of ids) for `check_against`."""
    by_id: dict[str, list[str]] = {}
    for p in provisions:
        by_id.setdefault(p.id, []).append(p.text)
    ordered = sorted(by_id)

    def texts(pid: str) -> list[str]:
        out = list(by_id.get(pid, []))
        start = bisect.bisect_left(ordered, pid + ".")
        for k in ordered[start:]:
            if not k.startswith(pid + "."):
                break
            out += by_id[k]
        return out

    return texts, set(by_id)


def check_against(topic_map: TopicMap, texts: Callable[[str], Iterable[str]], ids: set[str]) -> list[str]:
    """Problems of the map against the corpus: ids that do not exist, supporting words not in the text,
    summaries that repeat the text (`copied_run`).

    `texts(pid)` gives every language version of a provision's text with its descendants.
    """
    problems: list[str] = []
    for topic in topic_map.topics.values():
        for p in topic.provisions:
            if p.id not in ids:
                problems.append(f"{topic.source}: {topic.id}: {p.id}: no such provision in the corpus")
                continue
            body = fold_for_search(" ".join(texts(p.id)))
            for phrase in p.support:
                if fold_for_search(phrase) not in body:
                    problems.append(
                        f"{topic.source}: {topic.id}: {p.id}: supporting words not in its text: {phrase!r}"
                    )
            for lang, says in p.says.items():
                run = copied_run(says, body)
                if run:
                    problems.append(
                        f"{topic.source}: {topic.id}: {p.id}: says.{lang} repeats {run} consecutive words of the"
                        " provision: write the summary in your own words (the verbatim text goes in `support`)"
                    )
    return problems


# A summary that repeats this many consecutive words of its provision, making up at least this share of the
# summary, is a copied sentence, not a summary.
COPY_RUN = 10
COPY_SHARE = 0.5


def copied_run(summary: str, text: str) -> int:
    """The longest run of the summary's words found consecutively in `text` (both folded), when it is a copy
    (at least `COPY_RUN` words and `COPY_SHARE` of the summary); else 0."""
    said = re.findall(r"\w+", fold_for_search(summary))
    words = re.findall(r"\w+", text)
    run = (
        SequenceMatcher(None, said, words, autojunk=False)
        .find_longest_match(0, len(said), 0, len(words))
        .size
    )
    return run if run >= COPY_RUN and run >= COPY_SHARE * len(said) else 0


# ------------------------------------------------------------------------------------------ review table


def render_markdown(
    topic_map: TopicMap,
    instruments: Mapping[str, str],
    label: Callable[[str], str],
) -> str:
    """docs/topics.md: one section per topic, a row per instrument (provisions, summary), then `none` rows.

    `instruments` maps instrument id → its short English name, in display order.
    """
    lines = [
        "# Topic map (generated)",
        "",
        "Generated from `corpus/topics/*.toml` by `assistant topics --doc docs/topics.md`; do not edit by hand.",
        "Each row: the provisions of one instrument on the topic, strongest first, with the project's editorial",
        "summary (English; kk and ru are in the data). Summaries are not treaty text. «none» = the instrument's",
        "complete text has no such provision; instruments not listed are not mapped for the topic.",
        "",
        f"{len(topic_map)} topics, {sum(len(t.provisions) for t in topic_map.topics.values())} mapped provisions.",
        "",
    ]
    order = {iid: n for n, iid in enumerate(instruments)}
    for topic in sorted(topic_map.topics.values(), key=lambda t: t.id):
        lines += [
            f"## {topic.title['en']} (`{topic.id}`)",
            "",
            f"kk: {topic.title['kk']} · ru: {topic.title['ru']}",
            "",
        ]
        if topic.narrows:
            lines += ["A case of: " + ", ".join(f"`{b}`" for b in topic.narrows), ""]
        lines += ["| instrument | provision | weight | summary |", "|---|---|---|---|"]
        for p in sorted(
            topic.provisions, key=lambda p: (order.get(p.instrument, 999), topic.provisions.index(p))
        ):
            name = instruments.get(p.instrument, p.instrument)
            lines.append(f"| {name} | {label(p.id)} (`{p.id}`) | {p.weight} | {_cell(p.says['en'])} |")
        for inst in sorted(topic.none, key=lambda i: order.get(i, 999)):
            lines.append(
                f"| {instruments.get(inst, inst)} | none | | no such provision in its complete text |"
            )
        lines.append("")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
