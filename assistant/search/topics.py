"""Which legal topic of the map a question is about.

Takes: the `TopicMap` (its signal phrasings in kk/ru/en and Latin-typed Kazakh, and glossary concepts), the
question text (with the conversation for follow-ups), and the retrieval hits.
Gives: `TopicMatch`es, best first. A topic scores by how much of the question its phrasings cover (the
same word-by-word, inflection-tolerant matcher as the glossary; a phrasing's word that is a one-word term
of a glossary concept is also found as that concept's term in another language, or as a loanword), plus
its glossary concepts named in the question, plus agreement with retrieval (its provisions among the best
hits), plus a bonus when the phrasing holds the question word (the topic is what is asked). So «ақша
шетелде» reaches asset return without the user knowing the legal term, and a specific topic (direct
enforcement) beats a general one (confiscation) that shares a word with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from assistant.core.ids import covers
from assistant.core.langs import LANGS
from assistant.corpus.topics import SIGNAL_KEYS, Topic, TopicMap
from assistant.search.understand import words_of
from assistant.text.tokenize import match_tokens, phrase_stems, stem_matches


@dataclass(frozen=True)
class TopicMatch:
    topic: Topic
    score: float
    covered: int  # question words covered by the topic's phrasings
    agreement: float  # how strongly retrieval found the topic's provisions
    asked: bool = False  # a phrasing with a question word matched: the topic is what is asked, not context
    context: tuple[str, ...] = ()  # other topics whose phrasings are in the question (set by the pipeline)


class TopicMatcher:
    """Finds topics by their phrasings: every word of a phrasing must occur (inflected forms allowed), in any
    order, within a short window of the question («исполнить постановление иностранного суда о конфискации»
    has «исполнить постановление о конфискации» with two words between)."""

    def __init__(
        self,
        topic_map: TopicMap,
        *,
        slack: int = 4,
        synonyms: Sequence[tuple[str, str]] = (),
        interrogatives: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        self.topic_map = topic_map
        self.slack = slack
        asking = interrogatives or {}
        self._phrases: list[tuple[str, tuple[str, ...]]] = []
        self._asking: set[int] = set()  # phrasings (by index) that contain a question word of their language
        for t in topic_map.topics.values():
            phrases = [(p, key) for key in SIGNAL_KEYS for p in t.signals[key]] + [
                (t.title[k], k) for k in LANGS
            ]
            for phrase, key in dict.fromkeys(phrases):
                stems = phrase_stems(phrase, kazakh_cases=True, kazakh=key == "kk")
                if stems:
                    if asking.get(key, frozenset()) & {w for w, _ in match_tokens(phrase)}:
                        self._asking.add(len(self._phrases))
                    self._phrases.append((t.id, stems))
        # (stem, concept) of the glossary's one-word terms: a phrasing's word is also found as any other
        # language's (or loanword's) term of the same concept («тәркіленген» as «конфискацияланған»)
        self._synonyms = tuple(synonyms)
        self._concepts_of = {
            s: frozenset(c for t, c in self._synonyms if stem_matches(t, s))
            for _, stems in self._phrases
            for s in stems
        }

    def _covered(self, words: Sequence[str]) -> tuple[dict[str, set[int]], set[str]]:
        positions: dict[str, list[int]] = {}
        # words by their first three letters: a stem of three or more letters can only match those
        by_head: dict[str, list[tuple[int, str]]] = {}
        for i, w in enumerate(words):
            by_head.setdefault(w[:3], []).append((i, w))
        by_concept: dict[str, set[int]] = {}
        for t, c in self._synonyms:
            for i, w in by_head.get(t[:3], ()) if len(t) >= 3 else enumerate(words):
                if stem_matches(t, w):
                    by_concept.setdefault(c, set()).add(i)

        def where(stem: str) -> list[int]:
            if stem not in positions:
                candidates = by_head.get(stem[:3], ()) if len(stem) >= 3 else enumerate(words)
                found = {i for i, w in candidates if stem_matches(stem, w)}
                for c in self._concepts_of.get(stem, ()):
                    found |= by_concept.get(c, set())
                positions[stem] = sorted(found)
            return positions[stem]

        covered: dict[str, set[int]] = {}
        asked: set[str] = set()
        for n, (tid, stems) in enumerate(self._phrases):
            found = []
            for s in stems:
                ps = where(s)
                if not ps:
                    break
                found.append(ps)
            if len(found) < len(stems):
                continue
            chosen = _tightest(found)
            if max(chosen) - min(chosen) <= len(stems) - 1 + self.slack:
                covered.setdefault(tid, set()).update(chosen)
                if n in self._asking:
                    asked.add(tid)
        return covered, asked

    def match(
        self,
        text: str,
        concepts: Sequence[str] = (),
        hit_ids: Sequence[str] = (),
        *,
        agreement_depth: int = 10,
        agreement_weight: float = 1.0,
        asked_weight: float = 0.0,
    ) -> list[TopicMatch]:
        """Topics the question is about, best first (only topics with a phrasing or a glossary concept in it)."""
        covered, asked = self._covered(words_of(text))
        top_hits = list(hit_ids[:agreement_depth])
        out: list[TopicMatch] = []
        for topic in self.topic_map.topics.values():
            positions = covered.get(topic.id, set())
            named = len(set(topic.glossary) & set(concepts))
            if not positions and not named:
                continue
            agreement = sum(
                1.0 / (1 + rank)
                for rank, hid in enumerate(top_hits)
                if any(covers(p.id, hid) or covers(hid, p.id) for p in topic.provisions)
            )
            is_asked = topic.id in asked
            score = len(positions) + 0.5 * named + agreement_weight * agreement + asked_weight * is_asked
            out.append(TopicMatch(topic, round(score, 4), len(positions), round(agreement, 4), is_asked))
        return sorted(_narrowest(out), key=lambda m: (-m.score, m.topic.id))


def _narrowest(found: list[TopicMatch]) -> list[TopicMatch]:
    """A topic named by its own phrasing ranks just above the broader topics it `narrows` («банк құпиясы …
    бас тартуға негіз бола ма» asks about bank secrecy, though «refusal» covers more of its words)."""
    score = {m.topic.id: m.score for m in found}
    out = []
    for m in found:
        broader = [score[b] for b in m.topic.narrows if b in score] if m.covered else []
        lifted = max([m.score, *(s + 0.01 for s in broader)])
        out.append(replace(m, score=round(lifted, 4)) if lifted != m.score else m)
    return out


def _tightest(found: list[list[int]]) -> list[int]:
    """One position per word of a phrase, as close together as the question allows (greedy on the first word)."""
    best: list[int] | None = None
    for start in found[0]:
        chosen = [start] + [min(ps, key=lambda p: abs(p - start)) for ps in found[1:]]
        if best is None or max(chosen) - min(chosen) < max(best) - min(best):
            best = chosen
    return best or []
