"""Scope and refusal rules as data: which questions the assistant declines to answer from the corpus.

Takes: `assistant/data/policy.toml` (patterns for harmful requests and other laws, the generic concepts,
country names) and the manifest (which countries the corpus has a treaty with).
Gives: `ScopePolicy`, asked by the pipeline whether a question is harmful, about another law, or about a
country with no treaty in the corpus (and which one, so the refusal can name it).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from assistant.core.errors import ConfigError


@dataclass(frozen=True)
class ScopePolicy:
    generic_concepts: frozenset[str]
    harmful: tuple[re.Pattern[str], ...]
    other_law: tuple[re.Pattern[str], ...]
    countries_without_treaty: dict[str, re.Pattern[str]]  # country id -> its names in kk/ru/en

    @classmethod
    def load(cls, manifest=None, path: Path | None = None) -> ScopePolicy:  # noqa: ANN001 - corpus Manifest
        """Read the rules; countries the manifest has a bilateral treaty with are dropped from the list."""
        where = str(path or "assistant/data/policy.toml")
        try:
            text = path.read_text("utf-8") if path else _bundled()
            raw = tomllib.loads(text)
            countries = {cid: _compile(p, where, f"countries.{cid}") for cid, p in raw["countries"].items()}
            policy = cls(
                generic_concepts=frozenset(raw["generic_concepts"]),
                harmful=tuple(_compile(p, where, "harmful") for p in raw["harmful"]),
                other_law=tuple(_compile(p, where, "other_law") for p in raw["other_law"]),
                countries_without_treaty=countries,
            )
        except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"{where}: cannot read the scope policy ({exc}); fix the file") from None
        return policy.without_partners(manifest) if manifest is not None else policy

    def without_partners(self, manifest) -> ScopePolicy:  # noqa: ANN001
        """The same policy, less the countries that the manifest has a bilateral treaty with."""
        bilateral = [i for i in manifest.instruments.values() if i.kind == "bilateral"]
        partner_text = " ".join(a for i in bilateral for a in (*i.aliases, i.title.kk, i.title.ru, i.title.en))
        ids = {i.id.removeprefix("bilateral-") for i in bilateral}
        kept = {
            cid: pattern
            for cid, pattern in self.countries_without_treaty.items()
            if cid not in ids and not pattern.search(partner_text)
        }
        return ScopePolicy(self.generic_concepts, self.harmful, self.other_law, kept)

    def is_harmful(self, text: str) -> bool:
        return any(p.search(text) for p in self.harmful)

    def names_other_law(self, text: str) -> bool:
        return any(p.search(text) for p in self.other_law)

    def country_without_treaty(self, text: str) -> str | None:
        """The id of a country named in `text` with which the corpus has no treaty, if any."""
        return next((cid for cid, p in self.countries_without_treaty.items() if p.search(text)), None)


def _bundled() -> str:
    return resources.files("assistant").joinpath("data/policy.toml").read_text("utf-8")


def _compile(pattern: str, where: str, field: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.I)
    except re.error as exc:
        raise ConfigError(f"{where}: {field}: bad pattern {pattern!r} ({exc}); fix the regular expression") from None
