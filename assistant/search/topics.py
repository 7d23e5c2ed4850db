"""Which legal topic of the map a question is about.

Takes: the `TopicMap` (its signal phrasings in kk/ru/en and Latin-typed Kazakh, and glossary concepts), the
question text (with the conversation for follow-ups), and the retrieval hits.
Gives: `TopicMatch`es, best first. A topic scores by how much of the question its phrasings cover (the
same word-by-word, inflection-tolerant matcher as the glossary), plus its glossary concepts named in the
question, plus agreement with retrieval (its provisions among the best hits), so that «ақша шетелде»
reaches asset return without the user knowing the legal term, and a specific topic (direct enforcement)
beats a general one (confiscation) that shares a word with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assistant.core.ids import covers
from assistant.corpus.topics import SIGNAL_KEYS, Topic, TopicMap
from assistant.search.understand import PhraseIndex, words_of


@dataclass(frozen=True)
class TopicMatch:
    topic: Topic
    score: float
    covered: int  # question words covered by the topic's phrasings
    agreement: float  # how strongly retrieval found the topic's provisions


class TopicMatcher:
    def __init__(self, topic_map: TopicMap) -> None:
        self.topic_map = topic_map
        entries = [
            (t.id, phrase) for t in topic_map.topics.values() for key in SIGNAL_KEYS for phrase in t.signals[key]
        ]
        entries += [(t.id, t.title[lang]) for t in topic_map.topics.values() for lang in ("kk", "ru", "en")]
        self._index = PhraseIndex(entries, gap=1)

    def match(
        self,
        text: str,
        concepts: Sequence[str] = (),
        hit_ids: Sequence[str] = (),
        *,
        agreement_depth: int = 10,
    ) -> list[TopicMatch]:
        """Topics the question is about, best first (empty when none of their phrasings occur)."""
        words = words_of(text)
        covered: dict[str, set[int]] = {}
        for start, end, tid in self._index.find(words):
            covered.setdefault(tid, set()).update(range(start, end))
        out: list[TopicMatch] = []
        top_hits = list(hit_ids[:agreement_depth])
        for tid, positions in covered.items():
            topic = self.topic_map.topics[tid]
            named = len(set(topic.glossary) & set(concepts))
            agreement = sum(
                1.0 / (1 + rank)
                for rank, hid in enumerate(top_hits)
                if any(covers(p.id, hid) or covers(hid, p.id) for p in topic.provisions)
            )
            score = len(positions) + 0.5 * named + agreement
            out.append(TopicMatch(topic, round(score, 4), len(positions), round(agreement, 4)))
        return sorted(out, key=lambda m: (-m.score, m.topic.id))
