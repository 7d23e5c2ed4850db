"""Provision ids as a value type: the only place that knows how `instrument:article[.paragraph[.sub]]` is spelt.

Takes: id strings from the parser, the index, the question file or a language model.
Gives: `ProvisionId` (parse, format, instrument, parent, article, descendants test) and `RESEARCH_ARTICLE`,
the instrument id of the research article. In code «article» means a treaty article only; the research
article is the *research article* (`is_research_article`), and keeps the id string `article:` in citations
for compatibility with stored feedback, links and question files.

Forms: `uncac:54.1.a` (sub-item of a paragraph), `uncac:2.a` (item directly under an article),
`uncac:ratification`, `article:intro.3` (research-article section and paragraph).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RATIFICATION = "ratification"  # the article key of Kazakhstan's ratification law printed before a treaty
RESEARCH_ARTICLE = "article"  # instrument id of the research article (the id string stays for compatibility)

_ID = re.compile(
    r"^(?P<instrument>[a-z0-9][a-z0-9-]*):(?P<article>[a-z0-9][a-z0-9-]*)"
    r"(?:\.(?P<p>\d+|[a-z]))?(?:\.(?P<s>[a-z]))?$"
)
_INSTRUMENT = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True, order=True)
class ProvisionId:
    instrument: str
    article: str
    paragraph: str | None = None
    sub: str | None = None

    @classmethod
    def parse(cls, text: str) -> ProvisionId:
        """The id in `text`; ValueError when it is not a canonical provision id."""
        pid = cls.try_parse(text)
        if pid is None:
            raise ValueError(f"not a provision id: {text!r} (expected instrument:article[.paragraph[.sub]])")
        return pid

    @classmethod
    def try_parse(cls, text: str) -> ProvisionId | None:
        """Like `parse`, but None instead of an error (ids may come from a model or a user)."""
        m = _ID.match(text.strip()) if isinstance(text, str) else None
        if not m:
            return None
        p, s = m.group("p"), m.group("s")
        if p and not p.isdigit():  # `uncac:2.a`: an item directly under the article
            if s:
                return None
            p, s = None, p
        return cls(m.group("instrument"), m.group("article"), p, s)

    def __str__(self) -> str:
        return f"{self.instrument}:{'.'.join(x for x in (self.article, self.paragraph, self.sub) if x)}"

    @property
    def level(self) -> str:
        """«article», «paragraph» or «sub» (an item, under a paragraph or directly under the article)."""
        if self.sub:
            return "sub"
        return "paragraph" if self.paragraph else "article"

    @property
    def article_id(self) -> ProvisionId:
        return ProvisionId(self.instrument, self.article)

    @property
    def parent(self) -> ProvisionId | None:
        if self.sub:
            return ProvisionId(self.instrument, self.article, self.paragraph)
        if self.paragraph:
            return ProvisionId(self.instrument, self.article)
        return None

    @property
    def children_prefix(self) -> str:
        """Every descendant's id starts with this string (and nothing else's does)."""
        return f"{self}."

    def contains(self, other: ProvisionId) -> bool:
        """True when `other` is this provision or one of its descendants."""
        return other == self or str(other).startswith(self.children_prefix)

    @property
    def is_research_article(self) -> bool:
        return self.instrument == RESEARCH_ARTICLE


def make_id(instrument: str, article: str, paragraph: str | None = None, sub: str | None = None) -> str:
    """The canonical id string of these parts."""
    return str(ProvisionId(instrument, article, paragraph, sub))


def instrument_of(ref: str) -> str:
    """The instrument id of a provision id, or of a bare instrument id («uncac» → «uncac»)."""
    return ref.partition(":")[0]


def article_of(ref: str) -> str:
    """The article id string (`uncac:54`) of a provision id string (`uncac:54.1.a`)."""
    instrument, _, rest = ref.partition(":")
    return f"{instrument}:{rest.partition('.')[0]}" if rest else instrument


def is_instrument_id(ref: str) -> bool:
    return bool(_INSTRUMENT.match(ref))


def is_framing(article: str) -> bool:
    """The article key (`ratification`, `preamble`, `final`, `final-2`) of text that frames a treaty — the
    ratification law, a preamble, the closing formula — rather than rules on a subject."""
    return article == RATIFICATION or re.sub(r"-\d+$", "", article).endswith(("preamble", "final"))


def is_research_article(ref: str) -> bool:
    """True for the research article's instrument id or any of its provision ids."""
    return instrument_of(ref) == RESEARCH_ARTICLE


def covers(ref: str, provision_id: str) -> bool:
    """True when the provision `provision_id` is `ref` or lies under it; `ref` may be a bare instrument id."""
    return provision_id == ref or provision_id.startswith(ref + (":" if ":" not in ref else "."))


def unit_id(provision_id: str, lang: str) -> str:
    """The id of one language version of a provision as a retrieval unit: `uncac:54.1@ru`."""
    return f"{provision_id}@{lang}"


def split_unit(uid: str) -> tuple[str, str]:
    """`uncac:54.1@ru` → (`uncac:54.1`, `ru`)."""
    pid, _, lang = uid.rpartition("@")
    return pid, lang
