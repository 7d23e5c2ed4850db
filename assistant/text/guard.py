"""The input guard: what a user typed, made safe to process, or a reason why it cannot be.

Takes: raw question text and the length limit (`Settings.max_question_chars`). Gives: a
`CleanQuestion` (Unicode NFC, no control / zero-width / bidi-override characters, HTML tags and
Markdown images/links reduced to their words, whitespace collapsed) or a `Rejection` with a reason
code (worded for the user by `refusal.<reason>` in prompts/). A rejection is a value, not an
exception: the caller shows it.

`looks_like_injection` flags attempts to override the assistant's instructions (kk/ru/en). It does not
reject: the answer stage keeps answering from the corpus only, and the flag lets it say so and log it.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from assistant.text.normalize import fold

__all__ = ["CleanQuestion", "Rejection", "RejectReason", "check_question", "looks_like_injection"]

RejectReason = Literal["empty", "too_long", "no_words", "unsupported_language"]


@dataclass(frozen=True)
class CleanQuestion:
    text: str
    modified: bool = False  # something beyond whitespace was removed or neutralised
    injection: bool = False  # `looks_like_injection(text)`; informational, never a rejection


@dataclass(frozen=True)
class Rejection:
    reason: RejectReason
    length: int | None = None
    limit: int | None = None
    # The message a user sees is `refusal.<reason>` in prompts/<lang>.toml (answer.refusal).


# ------------------------------------------------------------------------------------ cleaning

# Anything far beyond the limit is rejected before any work is done on it.
_HARD_FACTOR = 4
# Line breaks survive until markup is neutralised (Markdown reference definitions are line-based);
# every whitespace run becomes one space at the end.
_LINE_BREAKS = frozenset("\n\r\v\f\u0085\u2028\u2029")
_DROP_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})  # control, format (zero-width, bidi), ...

_SCRIPT_BLOCK = re.compile(
    r"<\s*(script|style|iframe|object|embed|template|noscript)\b[^>]*>.*?<\s*/\s*\1\s*>", re.I | re.S
)
_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.S)
_TAG = re.compile(r"</?[A-Za-z][\w:-]*(?:\s[^<>]*)?/?>")  # «a < b» is no tag: a name follows «<» at once
_TAG_OPENING = re.compile(r"<(?=[/!?A-Za-z])")  # what is left of an unclosed tag: «<script src=...»
_MD_TARGET = r"(?:\((?:[^()\n]|\([^()\n]*\))*\)|\[[^\]\n]*\])"  # (url), (url(with)parens), [ref]
_MD_IMAGE = re.compile(rf"!\[([^\]\n]*)\]{_MD_TARGET}")
_MD_LINK = re.compile(rf"\[([^\]\n]*)\]{_MD_TARGET}")
_MD_REF_DEF = re.compile(r"(?m)^\s*\[[^\]\n]+\]:\s*\S+.*$")
_SPACES = re.compile(r"\s+")


def _strip_invisible(text: str) -> str:
    out: list[str] = []
    for ch in text:
        if ch in _LINE_BREAKS:
            out.append("\n")
        elif ch == "\t":
            out.append(" ")
        elif unicodedata.category(ch) in _DROP_CATEGORIES:
            continue
        else:
            out.append(ch)
    return "".join(out)


def _neutralise_markup(text: str) -> str:
    # Entities first, so that «&lt;script&gt;» cannot survive as a tag further down the line.
    text = html.unescape(text)
    text = _SCRIPT_BLOCK.sub(" ", text)
    text = _COMMENT.sub(" ", text)
    text = _TAG.sub(" ", text)
    text = _TAG_OPENING.sub("‹", text)
    text = _MD_REF_DEF.sub(" ", text)
    text = _MD_IMAGE.sub(r" \1 ", text)
    text = _MD_LINK.sub(r"\1", text)
    return text


def _script_of(ch: str) -> str:
    o = ord(ch)
    if o < 0x80 or 0x00C0 <= o <= 0x024F or 0x1E00 <= o <= 0x1EFF:
        return "latin"
    if 0x0400 <= o <= 0x052F or 0x1C80 <= o <= 0x1C8F or 0x2DE0 <= o <= 0x2DFF or 0xA640 <= o <= 0xA69F:
        return "cyrillic"
    return "other"


def check_question(text: str, *, max_chars: int) -> CleanQuestion | Rejection:
    """Clean a question or say why it cannot be used; never truncates."""
    if not isinstance(text, str) or not text.strip():
        return Rejection("empty")
    if len(text) > max_chars * _HARD_FACTOR:
        return Rejection("too_long", length=len(text), limit=max_chars)

    visible = _strip_invisible(text).strip()
    if not visible:
        return Rejection("empty")
    # markup may decode to invisible characters («&#x202E;»), so they are stripped once more after it
    cleaned = unicodedata.normalize("NFC", _strip_invisible(_neutralise_markup(visible)))
    cleaned = _SPACES.sub(" ", cleaned).strip()
    if len(cleaned) > max_chars:
        return Rejection("too_long", length=len(cleaned), limit=max_chars)

    # Full-width and styled letters («ｉｇｎｏｒｅ», «𝐜𝐨𝐧𝐟𝐢𝐬𝐜𝐚𝐭𝐢𝐨𝐧») are Latin once folded: judge the script on the
    # folded form, so that such text reaches the injection check instead of passing as a foreign language.
    letters = [c for c in unicodedata.normalize("NFKC", cleaned) if c.isalpha()]
    if not letters:
        return Rejection("no_words")
    scripts = [_script_of(c) for c in letters]
    other = scripts.count("other")
    if other > len(scripts) - other:
        return Rejection("unsupported_language")
    if not re.search(r"[^\W\d_]{2}", cleaned):
        return Rejection("no_words")

    modified = _SPACES.sub(" ", text).strip() != cleaned
    return CleanQuestion(text=cleaned, modified=modified, injection=looks_like_injection(cleaned))


# ------------------------------------------------------------------------------------ injection

# Matching runs on the raw text and on its match form (`text.normalize.fold`, after NFKC for full-width
# and styled letters): Latin look-alikes inside Cyrillic words made Cyrillic, Kazakh letters folded to
# Russian ones (қ→к, ұ→у, і→и, й→и, ...), which is also how the query parser reads a question.

_EN_QUALIFIER = r"(?:previous|prior|above|earlier|preceding|all|your|my|the\s+system|system|initial|original)"
_EN_OBJECT = r"(?:instructions?|prompts?|rules?|directions?|directives?|guidelines?|guardrails?|constraints?|restrictions?|context|programming|messages?)"
_RU_QUALIFIER = r"(?:все|всё|свои|твои|ваши|мои|предыдущ\w*|прежн\w*|системн\w*|изначальн\w*|исходн\w*|данн\w*\s+тебе|эти|вышеуказанн\w*|вышеизложенн\w*|выше)"
_RU_OBJECT = (
    r"(?:инструкци\w*|правил\w*|указани\w*|промпт\w*|ограничени\w*|настройк\w*|установк\w*|запрет\w*)"
)
_KK_OBJECT = r"(?:нускау\w*|нускаулык\w*|ереже\w*|промпт\w*|шектеу\w*)"
# imperative / converb forms only: «елеме», «елемеңіз», «елемей»; not the noun «елемеу» of a legal question
_KK_IMPERATIVE = (
    r"(?:елеме(?:низ|ндер|и|й)?|ескерме(?:низ|ндер|и|й)?|умыт(?:ыныз|ындар|ып)?|орындама(?:ныз|ндар|и|й)?"
    r"|назар\s+аударма(?:ныз|и|й)?|токтат(?:ыныз)?)(?!\w)"
)

# The match form has и where the raw text has й, so a pattern's «й» matches either («игнорируй»).
_INJECTION = [
    re.compile(p.replace("й", "[йи]"), re.I)
    for p in (
        # en: ignore / forget / override previous instructions or your rules
        rf"\b(?:ignore|disregard|forget|override|bypass|skip|drop|abandon|do\s+not\s+follow|don'?t\s+follow|stop\s+following)\b"
        rf"(?:\s+\w+){{0,2}}?\s+{_EN_QUALIFIER}\b(?:\s+\w+){{0,3}}?\s+{_EN_OBJECT}\b",
        # en: reveal / show / print the system prompt or your instructions
        r"\b(?:reveal|show|print|display|repeat|output|leak|dump|expose|tell\s+me|give\s+me|what\s+(?:is|are|were))\b"
        r"(?:\s+\w+){0,3}?\s+(?:system|initial|hidden|original|secret|developer|your)\s+(?:prompt|instructions?|message|rules)\b",
        # en: role change
        r"\byou\s+are\s+now\b|\bfrom\s+now\s+on,?\s+you\b|\bpretend\s+(?:to\s+be|you\s+are|that\s+you)\b"
        r"|\broleplay\s+as\b|\bact\s+as\s+(?:an?\s+)?(?:unrestricted|uncensored|unfiltered|jailbroken|evil|dan)\b"
        r"|\bjailbreak\w*\b|\bdeveloper\s+mode\b|\bdo\s+anything\s+now\b|\bnew\s+instructions?\s*:",
        # chat-template and role markers pasted into a question
        r"<\|\s*(?:im_start|im_end|system|assistant|user)\s*\|>|\[/?inst\]|<<\s*/?sys\s*>>|(?:^|\s)#{2,}\s*(?:system|instruction)s?\b"
        r"|(?:^|\n)\s*(?:system|assistant)\s*:",
        # ru: imperative «игнорируй/забудь/отбрось инструкции» (qualifier optional)
        rf"(?:^|[^\w])(?:проигнорируй|игнорируй|забудь|отбрось|отмени|пренебреги|не\s+следуй|не\s+соблюдай|обойди)(?:те)?"
        rf"\s+(?:\w+\s+){{0,2}}?{_RU_OBJECT}",
        # ru: any form of «игнорировать/забыть» + a qualifier («все/свои/предыдущие») + object
        rf"(?:игнорир\w*|забы\w*|забуд\w*|пренебре\w*)\s+(?:\w+\s+){{0,1}}?{_RU_QUALIFIER}\s+(?:\w+\s+){{0,1}}?{_RU_OBJECT}",
        # ru: show the system prompt / your instructions
        r"(?:покажи\w*|выведи\w*|раскрой\w*|напиши\w*|повтори\w*|скажи\w*|озвучь\w*|выдай\w*|распечатай\w*|какой|какие|каков\w*|дай\w*)"
        r"\s+(?:\w+\s+){0,2}?(?:(?:системн\w*|скрыт\w*|исходн\w*|изначальн\w*)\s+(?:промпт\w*|инструкци\w*|сообщени\w*|подсказк\w*|правил\w*)"
        r"|(?:тво\w*|ваш\w*)\s+(?:системн\w*\s+)?(?:промпт\w*|инструкци\w*|правил\w*))",
        # ru: «покажи (мне) свои инструкции»: «свои» addresses the assistant only right after the imperative
        r"(?:покажи|выведи|раскрой|напиши|повтори|озвучь|выдай|распечатай)(?:те)?\s+(?:мне\s+)?сво\w*\s+"
        r"(?:системн\w*\s+)?(?:промпт\w*|инструкци\w*)",
        # ru: role change
        r"(?:^|[^\w])(?:теперь\s+ты|ты\s+теперь|отныне\s+ты|с\s+этого\s+момента\s+ты|представь,?\s+что\s+ты|притворись|"
        r"веди\s+себя\s+как|режим\s+разработчика|новые\s+инструкции\s*:)",
        # kk: «нұсқауларды елеме», «ережелеріңді ұмыт», «алдыңғы нұсқауларды елемей»
        rf"{_KK_OBJECT}\s+(?:\w+\s+){{0,2}}?{_KK_IMPERATIVE}",
        rf"{_KK_IMPERATIVE}\s+(?:\w+\s+){{0,2}}?{_KK_OBJECT}",
        # kk: show the system prompt / your instructions
        r"(?:жуиелик|жуйелик|жасырын|сенин)\s+(?:промпт\w*|нускау\w*|ереже\w*|хабарлама\w*)"
        r"(?:\s+\w+){0,2}?\s+(?:корсет\w*|айт\w*|жаз\w*|шыгар\w*|ашып)",
        r"(?:промпт\w*|нускауларынды|нускауынды|ережелеринди)\s+(?:\w+\s+){0,1}?(?:корсет\w*|айт\w*|жаз\w*|шыгар\w*)",
        # kk: role change «сен енді ...», «енді сен ...»
        r"(?:^|[^\w])(?:сен\s+енди|енди\s+сен|сиз\s+енди|енди\s+сиз)\s+\w+",
    )
]


def _fold_for_injection(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = "".join(c for c in text if unicodedata.category(c) not in _DROP_CATEGORIES or c in "\n\t")
    return _SPACES.sub(" ", fold(text.casefold()))


def looks_like_injection(text: str) -> bool:
    """True when the text tries to override, reveal or replace the assistant's instructions."""
    if not text:
        return False
    raw = unicodedata.normalize("NFKC", text)
    folded = _fold_for_injection(text)
    return any(p.search(folded) or p.search(raw) for p in _INJECTION)
