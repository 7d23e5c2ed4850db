"""The provision store and retrieval units: every provision in every language, and the paragraph-level
units that are embedded and indexed.

Takes: parsed `Provision`s and the manifest (for unit headers). Gives: `ProvisionStore` (lookup by id and
language, versions, descendants), `retrieval_units()` and `unit_headers()`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from pathlib import Path

from langchain_core.documents import Document

from assistant.core.errors import (
    IndexCorruptError,
)
from assistant.core.ids import (
    instrument_of,
    unit_id,
)
from assistant.corpus.manifest import Manifest
from assistant.corpus.provisions import Provision

# ------------------------------------------------------------------------------------------ units


def retrieval_units(
    provisions: Sequence[Provision], headers: Callable[[Provision], str], *, items: bool = False
) -> list[Document]:
    """Paragraph-level units (and whole articles without paragraphs), each with a context header.

    With `items`, sub-paragraph items are units too: BM25 indexes them (cheap, and a short item that
    says exactly the thing asked outranks the long paragraph around it); the dense index does not.
    """
    has_paragraphs = {(p.article_id, p.lang) for p in provisions if p.level == "paragraph"}
    units: list[Document] = []
    for p in provisions:
        if p.level == "sub" and not items:
            continue
        if p.level == "article" and (p.article_id, p.lang) in has_paragraphs:
            continue
        content = f"{headers(p)}\n{p.text}"
        units.append(
            Document(
                id=unit_id(p.id, p.lang),
                page_content=content,
                metadata={
                    "provision_id": p.id,
                    "instrument": p.instrument,
                    "lang": p.lang,
                    "article": p.article,
                    "level": p.level,
                    "hash": hashlib.sha256(content.encode("utf-8")).hexdigest()[:32],
                },
            )
        )
    return units


def unit_headers(manifest: Manifest) -> Callable[[Provision], str]:
    """The context line each retrieval unit starts with («UNCAC · Article 54 · title»)."""
    article_word = {"kk": "{n}-бап", "ru": "Статья {n}", "en": "Article {n}"}

    def header(p: Provision) -> str:
        inst = manifest.instruments.get(p.instrument)
        name = inst.short[p.lang] if inst else p.instrument
        where = article_word[p.lang].format(n=p.article) if p.article[:1].isdigit() else p.article
        return " · ".join(x for x in (name, where, p.title) if x)

    return header


# ------------------------------------------------------------------------------------------ store


class ProvisionStore:
    """Every provision, by id and language; the source of quotes, titles and whole-article texts."""

    def __init__(self, provisions: Iterable[Provision]) -> None:
        self._by: dict[str, dict[str, Provision]] = {}
        for p in provisions:
            self._by.setdefault(p.id, {})[p.lang] = p
        # Every id under each of its ancestors («uncac:54» → «uncac:54.1», «uncac:54.1.a»): answers ask
        # for children several times per article, and a scan of all ids each time cost ~14 ms a group.
        self._descendants: dict[str, list[str]] = {}
        for pid in self._by:
            for pos, ch in enumerate(pid):
                if ch == ".":
                    self._descendants.setdefault(pid[:pos], []).append(pid)

    def __contains__(self, provision_id: str) -> bool:
        return provision_id in self._by

    def __len__(self) -> int:
        return sum(len(v) for v in self._by.values())

    @property
    def ids(self) -> set[str]:
        return set(self._by)

    def has(self, provision_id: str, lang: str) -> bool:
        """Whether the corpus has this provision in `lang` (no copy: used in retrieval's fusion loop)."""
        return lang in self._by.get(provision_id, ())

    def versions(self, provision_id: str) -> dict[str, Provision]:
        return dict(self._by.get(provision_id, {}))

    def get(
        self, provision_id: str, lang: str, fallback: Sequence[str] = ("ru", "en", "kk")
    ) -> Provision | None:
        """The provision in `lang`, else in the first fallback language that has it."""
        versions = self._by.get(provision_id)
        if not versions:
            return None
        for candidate in (lang, *fallback):
            if candidate in versions:
                return versions[candidate]
        return next(iter(versions.values()))

    def children(self, provision_id: str) -> list[str]:
        """Every provision below `provision_id` (paragraphs and their items), in store order."""
        return list(self._descendants.get(provision_id, ()))

    def instruments(self) -> set[str]:
        return {instrument_of(pid) for pid in self._by}

    def articles(self, instrument: str) -> list[str]:
        """The article-level ids of one instrument, in store (text) order: a table of contents."""
        prefix = instrument + ":"
        return [pid for pid in self._by if pid.startswith(prefix) and "." not in pid[len(prefix) :]]

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for versions in self._by.values():
            for lang, p in versions.items():
                out.setdefault(p.instrument, {}).setdefault(lang, 0)
                out[p.instrument][lang] += 1
        return out

    def dump(self, path: Path) -> None:
        with path.open("w", encoding="utf-8") as fh:
            for versions in self._by.values():
                for p in versions.values():
                    fh.write(json.dumps(asdict(p), ensure_ascii=False) + "\n")

    @classmethod
    def load(cls, path: Path) -> ProvisionStore:
        try:
            with path.open(encoding="utf-8") as fh:
                return cls(Provision(**json.loads(line)) for line in fh if line.strip())
        except FileNotFoundError:
            # the generation exists but lost a file: damage, which `assistant index` alone may not see
            raise IndexCorruptError(f"{path} is missing; run `assistant index --rebuild`") from None
        except (OSError, ValueError, TypeError) as exc:
            raise IndexCorruptError(
                f"{path} is damaged ({type(exc).__name__}); run `assistant index --rebuild`"
            ) from None
