"""Scope and refusal rules as data: which questions the assistant declines to answer from the corpus.

Takes: `assistant/data/policy.toml` (patterns for harmful requests, other laws, tasks that are not answering
from the texts, small talk; the generic concepts; country names) and the manifest (which countries the
corpus has a treaty with).
Gives: `ScopePolicy`, asked by the pipeline whether a question is harmful, about another law, another
task, small talk, or about a treaty with a country the corpus has none with (and which one, by name, so the
refusal can say it and list the partners it does have).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path

from assistant.core.errors import ConfigError
from assistant.core.langs import LANGS
from assistant.text.normalize import KAZAKH_FOLD, KAZAKH_FOLD_TABLE


@dataclass(frozen=True)
class Country:
    id: str
    pattern: re.Pattern[str]
    names: dict[str, str]  # lang -> name used in refusals


@dataclass(frozen=True)
class ScopePolicy:
    generic_concepts: frozenset[str]
    harmful: tuple[re.Pattern[str], ...]
    other_law: tuple[re.Pattern[str], ...]
    cited_law: tuple[re.Pattern[str], ...]
    other_task: tuple[re.Pattern[str], ...]
    small_talk: tuple[re.Pattern[str], ...]
    treaty_words: re.Pattern[str]
    countries_without_treaty: dict[str, Country]

    @classmethod
    def load(cls, manifest=None, path: Path | None = None) -> ScopePolicy:  # noqa: ANN001 - corpus Manifest
        """Read the rules; countries the manifest has a bilateral treaty with are dropped from the list."""
        where = str(path or "assistant/data/policy.toml")
        try:
            raw = tomllib.loads(path.read_text("utf-8") if path else _bundled())

            def patterns(key: str) -> tuple[re.Pattern[str], ...]:
                return tuple(_compile(p, where, key) for p in raw[key])

            countries = {
                cid: Country(
                    cid, _compile(c["pattern"], where, f"countries.{cid}"), {lg: c[lg] for lg in LANGS}
                )
                for cid, c in raw["countries"].items()
            }
            policy = cls(
                generic_concepts=frozenset(raw["generic_concepts"]),
                harmful=patterns("harmful"),
                other_law=patterns("other_law"),
                cited_law=patterns("cited_law"),
                other_task=patterns("other_task"),
                small_talk=patterns("small_talk"),
                treaty_words=_compile(raw["treaty_words"], where, "treaty_words"),
                countries_without_treaty=countries,
            )
        except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"{where}: cannot read the scope policy ({exc!r}); fix the file") from None
        return policy.without_partners(manifest) if manifest is not None else policy

    def without_partners(self, manifest) -> ScopePolicy:  # noqa: ANN001
        """The same policy, less the countries that the manifest has a bilateral treaty with."""
        bilateral = [i for i in manifest.instruments.values() if i.kind == "bilateral"]
        partner_text = " ".join(
            a for i in bilateral for a in (*i.aliases, i.title.kk, i.title.ru, i.title.en)
        )
        ids = {i.id.removeprefix("bilateral-") for i in bilateral}
        kept = {
            cid: c
            for cid, c in self.countries_without_treaty.items()
            if cid not in ids and not c.pattern.search(partner_text)
        }
        return replace(self, countries_without_treaty=kept)

    def is_harmful(self, text: str) -> bool:
        return _any(self.harmful, text)

    def names_other_law(self, text: str) -> bool:
        return _any(self.other_law, text)

    def cites_other_law(self, text: str) -> bool:
        """A national statute cited by name or number («ст. 189 УК РК», «18 U.S.C. § 981», «Закон РК «О …»»)."""
        return _any(self.cited_law, text)

    def names_treaty(self, text: str) -> bool:
        """The text speaks of a treaty or convention (not only of a country or another law)."""
        return _any((self.treaty_words,), text)

    def is_other_task(self, text: str) -> bool:
        return _any(self.other_task, text)

    def is_small_talk(self, text: str) -> bool:
        return _any(self.small_talk, text)

    def country_without_treaty(self, text: str) -> Country | None:
        """A country named in `text` with which the corpus has no treaty, when the text asks about a treaty."""
        if not self.names_treaty(text):
            return None
        return next((c for c in self.countries_without_treaty.values() if _any((c.pattern,), text)), None)


def _any(patterns: tuple[re.Pattern[str], ...], text: str) -> bool:
    """A pattern found in `text` as written, or with Kazakh letters folded in both («хатын жазып» typed
    «hatyn zhazyp», «кандай» for «қандай»): users type Kazakh with and without its own letters."""
    folded = text.lower().translate(KAZAKH_FOLD_TABLE)
    return any(p.search(text) or _folded(p).search(folded) for p in patterns)


@lru_cache(maxsize=512)
def _folded(pattern: re.Pattern[str]) -> re.Pattern[str]:
    # not lower(): «\S» and «\s» differ; capitals fold to capitals (the patterns ignore case)
    return re.compile(pattern.pattern.translate(_FOLD_BOTH_CASES), pattern.flags)


_FOLD_BOTH_CASES = str.maketrans({**KAZAKH_FOLD, **{k.upper(): v.upper() for k, v in KAZAKH_FOLD.items()}})


def _bundled() -> str:
    return resources.files("assistant").joinpath("data/policy.toml").read_text("utf-8")


def _compile(pattern: str, where: str, field: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.I)
    except re.error as exc:
        raise ConfigError(
            f"{where}: {field}: bad pattern {pattern!r} ({exc}); fix the regular expression"
        ) from None
