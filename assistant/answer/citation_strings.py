"""Formal citation strings: how a lawyer cites a provision in a memo, in Kazakh, Russian or English.

Takes: a provision id, the instrument's manifest entry (title, its citation forms `title_gen`, the date and
place of adoption) and the `cite.*` templates of `prompts/<lang>.toml`.
Gives: `citation_string()`, e.g.
    ru  пп. "a" п. 1 ст. 13 Конвенции Совета Европы об отмывании … (Страсбург, 8 ноября 1990 г.)
    kk  … Еуропа Кеңесінің конвенциясының (Страсбург, 1990 жылғы 8 қараша) 13-бабы 1-тармағының "a" тармақшасы
    en  Council of Europe Convention on Laundering, … (Strasbourg, 8 November 1990), art. 13(1)(a)
Nothing is typed per provision: the pinpoint comes from the `ProvisionId`, the rest from the manifest.
Where the manifest lacks a form (a user's own treaty has no `title_gen`), the nominative title stands in.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from assistant.answer.citations import _where
from assistant.core.ids import ProvisionId
from assistant.core.prompts import Templates
from assistant.corpus.manifest import Instrument, Manifest

_SPECIAL = ("preamble", "ratification", "final", "annex")


def format_date(date: dt.date, t: Templates) -> str:
    """«8 ноября 1990 г.», «1990 жылғы 8 қараша», "8 November 1990"."""
    months = t.get("cite.months").split()
    return t.render("cite.date", d=date.day, month=months[date.month - 1], y=date.year)


def origin(instrument: Instrument, lang: str, t: Templates) -> str:
    """« (Страсбург, 8 ноября 1990 г.)»: place and date of adoption, or "" when the manifest has neither."""
    place = instrument.adopted.place_in(lang)
    date = format_date(instrument.adopted.date, t) if instrument.adopted.date else ""
    if place and date:
        return t.render("cite.origin", place=place, date=date)
    if place or date:
        return f" ({place or date})"
    return ""


def _pinpoint(article: str, paragraph: str | None, sub: str | None, t: Templates) -> str:
    if paragraph and sub:
        return t.render("cite.paragraph_sub", n=article, p=paragraph, s=sub)
    if paragraph:
        return t.render("cite.paragraph", n=article, p=paragraph)
    if sub:
        return t.render("cite.sub", n=article, s=sub)
    return t.render("cite.article", n=article)


def _tidy(text: str) -> str:
    text = re.sub(r"\s{2,}", " ", text).strip()
    return re.sub(r"[,\s]+$", "", text)


def citation_string(
    provision_id: str, lang: str, instrument: Instrument, templates: Mapping[str, Templates]
) -> str:
    """The formal citation of `provision_id` in `lang`; ValueError when the id is not a provision id."""
    ref = ProvisionId.parse(provision_id)
    if ref.instrument != instrument.id:
        raise ValueError(f"{provision_id} is not a provision of {instrument.id}")
    t = templates[lang]
    title = instrument.title[lang]
    if ref.is_research_article:
        return _tidy(
            t.render("cite.research_form", title=title, where=_where(ref, t, lang), title_dat="", origin="")
        )
    forms = instrument.title_gen
    cited = getattr(forms, lang) or title  # the genitive (kk/ru) or the title as cited (en)
    dative = getattr(forms, f"{lang}_dat", "") or cited
    values = {"title": cited, "title_dat": dative, "origin": origin(instrument, lang, t)}
    art = ref.article
    op = re.fullmatch(r"op(\d+)|op-(\w+)", art)  # the optional protocol printed after the treaty
    if op:
        part = op.group(2)
        where = (
            _pinpoint(op.group(1), ref.paragraph, ref.sub, t)
            if op.group(1)
            else t.get(f"cite.{part}")
            if part in _SPECIAL
            else part
        )
        return _tidy(t.render("cite.optional_protocol_form", where=where, **values))
    if art == "protocol":  # a protocol amending the treaty, its points numbered as paragraphs
        where = t.render("cite.point", p=ref.paragraph) if ref.paragraph else ""
        return _tidy(t.render("cite.amending_protocol_form", where=where, **values))
    head = art.split("-")[0]
    # «final-2», «annex-2»: a second block of the same kind
    where = t.get(f"cite.{head}") if head in _SPECIAL else _pinpoint(art, ref.paragraph, ref.sub, t)
    return _tidy(t.render("cite.form", where=where, **values))


def citation_strings(
    provision_id: str, manifest: Manifest, templates: Mapping[str, Templates]
) -> dict[str, str]:
    """The formal citation in every language of `templates` (the web «copy citation» menu)."""
    ref = ProvisionId.parse(provision_id)
    instrument = manifest.instruments.get(ref.instrument)
    if instrument is None:
        raise ValueError(f"unknown instrument {ref.instrument!r} in {provision_id}")
    return {lang: citation_string(provision_id, lang, instrument, templates) for lang in templates}
