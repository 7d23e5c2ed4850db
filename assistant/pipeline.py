"""`Assistant`: wires settings → embeddings → index → query understanding → retrieval → answer.

Takes: a `Settings`. Gives: `search()` (ranked provisions) and `ask()` (an `Answer` with verified
citations). The model and the index are loaded once, lazily, on first use and then shared: the web
app builds one `Assistant` at start-up and every request reuses it (it is safe to call from threads:
loading is guarded by a lock, and retrieval and answering only read).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any

from .citations import label
from .errors import CorpusError
from .prompts import Templates, all_templates
from .retrieval import Hit, Method, Request, retrieve
from .settings import Settings


@dataclass(frozen=True)
class SearchHit:
    id: str
    score: float
    lang: str
    label: str
    title: str
    text: str
    sources: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _needs_topic(parsed) -> bool:  # noqa: ANN001
    """A follow-up, or a question too short to carry a topic of its own."""
    content = [w for w in parsed.text.split() if len(w) > 3]
    return bool(parsed.followup) or (len(content) <= 4 and not set(parsed.concepts) - {"definition"})


class Assistant:
    def __init__(self, settings: Settings, *, embeddings: Any = None, chat_model: Any = None) -> None:
        self.settings = settings
        self._embeddings = embeddings
        self._chat_model = chat_model
        self._index = None
        self._lock = threading.Lock()

    # -- shared, lazily loaded parts ------------------------------------------------------------

    @property
    def embeddings(self) -> Any:
        if self._embeddings is None:
            with self._lock:
                if self._embeddings is None:
                    from .embeddings import make_embeddings

                    self._embeddings = make_embeddings(self.settings)
        return self._embeddings

    @property
    def index(self):  # noqa: ANN201 - index.Index
        if self._index is None:
            embeddings = self.embeddings
            with self._lock:
                if self._index is None:
                    from .index import open_index

                    index = open_index(self.settings, embeddings)
                    stale = index.stale_files(self.settings.path(self.settings.corpus_dir))
                    if stale:
                        raise CorpusError(
                            f"corpus file(s) changed since indexing (checksum): {', '.join(stale[:3])}; "
                            "run `assistant corpus fetch` to restore them, or `assistant index` to re-index"
                        )
                    self._index = index
        return self._index

    def warm_up(self) -> None:
        """Load the model and the index now (the web app does this before accepting requests)."""
        self.index.bm25.search("warm up", "en", k=1)
        self.embeddings.embed_query("warm up")

    @cached_property
    def templates(self) -> dict[str, Templates]:
        return all_templates(self.settings.path(self.settings.prompts_dir))

    @cached_property
    def short_names(self) -> dict[str, dict[str, str]]:
        return {
            iid: {lang: inst.short[lang] for lang in ("kk", "ru", "en")}
            for iid, inst in self.index.manifest.instruments.items()
        }

    @cached_property
    def aliases(self) -> dict[str, tuple[str, ...]]:
        from .query import aliases_from_manifest

        return aliases_from_manifest(self.index.manifest)

    def label(self, provision_id: str, lang: str) -> str:
        return label(provision_id, lang, self.short_names, self.templates)

    # -- stages ---------------------------------------------------------------------------------

    def understand(self, question: str, history: Sequence[str] = (), lang: str = "auto"):  # noqa: ANN201
        from .query import understand

        return understand(question, history=history, lang=lang, aliases=self.aliases)

    def request_for(self, parsed, history: Sequence[str] = ()) -> Request:  # noqa: ANN001
        text, expansions, concepts = parsed.text, dict(parsed.expansions), set(parsed.concepts)
        if history and _needs_topic(parsed):
            # «Ал Ұлыбританиямен шартта ше?», «А какие основания для отказа там?»: the topic (or the
            # instrument) is in the earlier turn, so search with both turns.
            from .query import expand, find_concepts

            text = f"{history[-1]} {parsed.text}"
            expansions = expand(text, parsed.language)
            concepts |= set(find_concepts(text))
        return Request(
            text=text,
            lang=parsed.language,
            expansions=expansions,
            instruments=tuple(parsed.references.instruments),
            articles=tuple(parsed.references.articles),
            definitions="definition" in concepts,
        )

    def retrieve(self, request: Request, *, method: Method = "hybrid", k: int | None = None) -> list[Hit]:
        return retrieve(self.index, self.embeddings, request, method=method, k=k or self.settings.top_k)

    def search(
        self, query: str, *, k: int = 5, lang: str = "auto", method: Method = "hybrid"
    ) -> list[SearchHit]:
        from .errors import InputError
        from .guard import Rejection, check_question

        checked = check_question(query, max_chars=self.settings.max_question_chars)
        if isinstance(checked, Rejection):
            raise InputError(
                f"unusable query ({checked.reason.replace('_', ' ')}); type a question in Kazakh, Russian or English"
            )
        parsed = self.understand(checked.text, lang=lang)
        hits = self.retrieve(self.request_for(parsed), method=method, k=k)
        out = []
        for h in hits:
            p = self.index.store.get(h.provision_id, parsed.language)
            out.append(
                SearchHit(
                    id=h.provision_id,
                    score=round(h.score, 4),
                    lang=p.lang,
                    label=self.label(h.provision_id, parsed.language),
                    title=p.title,
                    text=p.text,
                    sources=h.sources,
                )
            )
        return out

