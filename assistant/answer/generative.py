"""Optional generative mode: a chat model writes the answer from numbered provisions, a verifier checks it.

Takes: `Settings` (`llm_provider`, `llm_model`, `llm_base_url`, `llm_api_key`, `llm_gguf_path`,
`llm_temperature`, `request_timeout_s`), the question, the provisions retrieved for it (the provision
store, their ids) and the extractive `Answer` already composed for it.
Gives:
- `make_chat_model(settings)`: the one factory for a LangChain chat model, either any OpenAI-compatible
  endpoint (vLLM, Ollama, llama.cpp server) through `langchain_openai.ChatOpenAI`, or a local GGUF file
  through `langchain_community.chat_models.ChatLlamaCpp`. Neither package is a base dependency.
- `number_sources()`: the provisions the model sees, numbered [1]..[n], in the answer language where
  the corpus has it.
- `verify_output()`: THE VERIFIER. It reads every citation the model wrote (`[1]`, `[1, 3]`, `[1][2]`,
  `[2-4]`, raw ids like `uncac:54.1.a`, bracketed or not), maps each back to a provision that exists,
  was retrieved for this question and was shown to the model, drops and reports the others, and puts
  the human label in brackets where each marker was. `Citation`s are built from the provision store,
  never from the model's prose.
- `generate()`: a `Generation` holding the generated `Answer` (`mode="llm"`), or the grounded one
  (extractive or from the topic map, its own mode kept, with any dropped citations added) when the model fails, times out, says
  nothing, answers in another language, leaves no valid citation or cites anything that does not
  check out (the claim it was attached to would stay otherwise); plus the raw model text and the
  reason for a fallback.

Nothing is imported from the model packages, and no model is loaded, until `make_chat_model` is called.
The provisions and the question go to the model as data in the user message; the system prompt
(`llm.system` in `prompts/<lang>.toml`) tells it not to follow instructions found there, and whatever it
does, the verifier lets through only citations of real, retrieved, shown provisions.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from assistant.answer.citations import Citation, related, verify_citations
from assistant.answer.extractive import MAX_QUOTE_CHARS, Answer, shorten
from assistant.core.errors import ConfigError, ModelError
from assistant.core.ids import ProvisionId, instrument_of
from assistant.core.prompts import Templates
from assistant.core.settings import Settings
from assistant.corpus.provisions import Provision

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from assistant.index.store import ProvisionStore

log = logging.getLogger(__name__)

MAX_SOURCES = 6  # provisions shown to the model
MAX_SOURCE_CHARS = 1200  # per provision: six of them stay well inside a 4096-token context
MAX_NEW_TOKENS = 700
LLAMACPP_CONTEXT = 4096  # ChatLlamaCpp's default (512) cannot even hold the prompt
MAX_RANGE = 20  # `[1-3]` is expanded; a range wider than this is not a citation

INSTALL_OPENAI = "pip install langchain-openai"
INSTALL_LLAMACPP = "pip install langchain-community llama-cpp-python"


# ------------------------------------------------------------------------------------------ factory


def make_chat_model(settings: Settings) -> BaseChatModel:
    """The chat model the settings name; raises ConfigError / ModelError with the fix in the message."""
    if settings.llm_provider == "openai":
        return _openai_model(settings)
    if settings.llm_provider == "llamacpp":
        return _llamacpp_model(settings)
    raise ConfigError(
        f"unknown ASSISTANT_LLM_PROVIDER {settings.llm_provider!r}; set it to openai or llamacpp"
    )


def _openai_model(settings: Settings) -> BaseChatModel:
    if not settings.llm_base_url:
        # Without a base URL ChatOpenAI would call api.openai.com: never, this assistant is offline.
        raise ConfigError(
            "ASSISTANT_LLM_BASE_URL is not set; set it to your OpenAI-compatible server "
            "(e.g. http://127.0.0.1:8080/v1 for llama.cpp, http://127.0.0.1:11434/v1 for Ollama)"
        )
    try:
        from langchain_openai import ChatOpenAI
    except ImportError:
        raise ModelError(
            f"generative mode with ASSISTANT_LLM_PROVIDER=openai needs langchain-openai; run `{INSTALL_OPENAI}`"
        ) from None
    return ChatOpenAI(
        base_url=settings.llm_base_url,
        api_key=settings.llm_api_key,
        model=settings.llm_model,
        temperature=settings.llm_temperature,
        timeout=settings.request_timeout_s,
        max_retries=0,  # a retry would double the wait; a failed call falls back to the extractive answer
        max_tokens=MAX_NEW_TOKENS,
    )


def _llamacpp_model(settings: Settings) -> BaseChatModel:
    if settings.llm_gguf_path is None:
        raise ConfigError(
            "ASSISTANT_LLM_GGUF_PATH is not set; set it to a local .gguf model file (or use "
            "ASSISTANT_LLM_PROVIDER=openai with ASSISTANT_LLM_BASE_URL)"
        )
    path = settings.path(settings.llm_gguf_path)
    if not path.is_file():
        raise ModelError(f"GGUF model file {path} does not exist; fix ASSISTANT_LLM_GGUF_PATH")
    try:
        from langchain_community.chat_models import ChatLlamaCpp
    except ImportError:
        raise ModelError(
            f"generative mode with ASSISTANT_LLM_PROVIDER=llamacpp needs langchain-community; run `{INSTALL_LLAMACPP}`"
        ) from None
    try:
        import llama_cpp  # noqa: F401 - ChatLlamaCpp would say so only when constructed, less clearly
    except ImportError:
        raise ModelError(
            f"generative mode with ASSISTANT_LLM_PROVIDER=llamacpp needs llama-cpp-python; run `{INSTALL_LLAMACPP}`"
        ) from None
    try:
        return ChatLlamaCpp(
            model_path=str(path),
            temperature=settings.llm_temperature,
            max_tokens=MAX_NEW_TOKENS,
            n_ctx=LLAMACPP_CONTEXT,
            n_threads=os.cpu_count() or 2,
            streaming=False,
            verbose=False,
        )
    except Exception as exc:  # noqa: BLE001 - llama.cpp reports a bad file as ValueError or its own errors
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise ModelError(
            f"could not load GGUF model {path} ({first}); check the file or ASSISTANT_LLM_GGUF_PATH"
        ) from None


# ------------------------------------------------------------------------------------------ sources


@dataclass(frozen=True)
class Source:
    """One provision shown to the model as `[number]`."""

    number: int
    id: str
    label: str  # in the answer language
    provision: Provision  # in the language shown (the answer language when the corpus has it)
    text: str  # as shown, shortened


def number_sources(
    store: ProvisionStore,
    ids: Iterable[str],
    lang: str,
    label_of: Callable[[str, str], str],
    *,
    limit: int = MAX_SOURCES,
    max_chars: int = MAX_SOURCE_CHARS,
) -> tuple[Source, ...]:
    """Number the first `limit` distinct provisions of `ids` (best first) as [1]..[n].

    A provision whose text another already shown contains (its article or paragraph) or which contains
    one already shown is skipped: the model would see the same words twice under two numbers.
    """
    out: list[Source] = []
    for pid in ids:
        if len(out) >= limit:
            break
        if any(related(pid, s.id) for s in out):
            continue
        p = store.get(pid, lang)
        if p is None:
            continue
        out.append(Source(len(out) + 1, pid, label_of(pid, lang), p, shorten(p.text, max_chars)))
    return tuple(out)


def format_sources(sources: Sequence[Source], lang: str, templates: Mapping[str, Templates]) -> str:
    """The `{provisions}` block of `llm.user`: header line per provision, its text quoted below it."""
    t = templates[lang]
    blocks = []
    for s in sources:
        head = f"[{s.number}] {s.label} (id: {s.id}"
        if s.provision.lang != lang:
            head += f"; {t.get(f'language_names.{s.provision.lang}')}"
        # Every line of the text is quoted, so a line in a provision cannot pass for a new `[n]` entry.
        body = "\n".join(f"> {line}" for line in s.text.splitlines() if line.strip())
        blocks.append(f"{head})\n{body}")
    return "\n\n".join(blocks)


def build_messages(
    question: str, lang: str, sources: Sequence[Source], templates: Mapping[str, Templates]
) -> list[Any]:
    """System message (rules, from `llm.system`) and user message (question and provisions as data)."""
    from langchain_core.messages import HumanMessage, SystemMessage

    t = templates[lang]
    system = t.render("llm.system", language=t.get(f"language_names.{lang}"))
    user = t.render("llm.user", question=question, provisions=format_sources(sources, lang, templates))
    return [SystemMessage(content=system), HumanMessage(content=user)]


# ------------------------------------------------------------------------------------------ verifier


@dataclass(frozen=True)
class Verified:
    text: str  # the model's text, markers replaced by `[label]`, dropped markers removed
    citations: tuple[Citation, ...]  # valid citations, in order of first mention
    dropped: tuple[tuple[str, str], ...]  # (what the model wrote, why it was dropped)


_ID_TEXT = r"[a-z][a-z0-9-]*:[a-z0-9-]+(?:\.[a-z0-9]+){0,2}"
# A bracketed group (not a Markdown link), or a bare provision id in the prose.
_MARKER = re.compile(
    r"[\[【](?P<group>[^\[\]【】\n]{1,120})[\]】](?!\()" rf"|(?<![\w:/.@-])(?P<bare>{_ID_TEXT})(?![\w:/@-])"
)
_RANGE = re.compile(r"^(\d+)\s*[-–—]\s*(\d+)$")
_GAP = "\x00"  # where a dropped marker was, until the spacing around it is tidied


def _group_refs(group: str) -> list[str | int] | None:
    """`1, 3` → [1, 3]; `uncac:54.1.a` → ['uncac:54.1.a']; anything else (`[sic]`) → None."""
    refs: list[str | int] = []
    for token in re.split(r"\s*[,;]\s*|\s+(?=\d)", group.strip()):
        token = token.strip().strip(".")
        # «[id: uncac:54.1.a]», «[#2]», «[source 1]»: the word around the reference is not part of it
        token = re.sub(
            r"^(?:#|ids?\s*:|source|provision|источник|положение|ереже)\s*", "", token, flags=re.I
        ).strip()
        if not token:
            continue
        if token.isdigit():
            refs.append(int(token))
        elif m := _RANGE.match(token):
            lo, hi = int(m.group(1)), int(m.group(2))
            if not 0 < hi - lo < MAX_RANGE:
                return None
            refs.extend(range(lo, hi + 1))
        elif ProvisionId.try_parse(token) is not None and re.fullmatch(_ID_TEXT, token):
            refs.append(token)
        else:
            return None
    return refs or None


def verify_output(
    text: str,
    sources: Sequence[Source],
    *,
    lang: str,
    label_of: Callable[[str, str], str],
    store: ProvisionStore,
    retrieved: Collection[str],
) -> Verified:
    """Map every citation in the model's text to a provision; drop and report those that do not map.

    A citation is kept when it is a number of `sources`, or an id that exists in the store, was
    retrieved for the question (`verify_citations`, the rule every answer obeys) and is one of the
    shown provisions or within one (an article's paragraph, a paragraph's item): the model saw no
    other text, so it cannot have read anything else.
    """
    by_number = {s.number: s for s in sources}
    known_instruments = store.instruments()
    cited: dict[str, Citation] = {}
    dropped: dict[str, str] = {}

    def resolve(ref: str | int) -> str | None:
        if isinstance(ref, int):
            source = by_number.get(ref)
            if source is None:
                dropped.setdefault(f"[{ref}]", f"no provision numbered {ref} was given (1..{len(sources)})")
                return None
            return source.id
        check = verify_citations([ref], retrieved=retrieved, exists=store)
        if check.dropped:
            dropped.setdefault(*check.dropped[0])
            return None
        if not any(related(ref, s.id) for s in sources):
            dropped.setdefault(ref, "not among the provisions given to the model")
            return None
        return ref

    def substitute(m: re.Match[str]) -> str:
        if m.group("bare") is not None:
            ref = m.group("bare")
            if instrument_of(ref) not in known_instruments:
                return m.group(0)  # «note:this» and the like: prose, not a citation
            refs: list[str | int] | None = [ref]
        else:
            refs = _group_refs(m.group("group"))
            if refs is None:
                return m.group(0)
        labels = []
        for ref in refs:
            pid = resolve(ref)
            if pid is None:
                continue
            if pid not in cited:
                cited[pid] = _citation(store, pid, lang, label_of)
            if cited[pid].label not in labels:
                labels.append(cited[pid].label)
        return f"[{'; '.join(labels)}]" if labels else _GAP

    replaced = _MARKER.sub(substitute, text)
    replaced = re.sub(rf"(?m)^{_GAP}+[ \t]*", "", replaced)
    replaced = re.sub(rf"[ \t]*{_GAP}+", "", replaced)
    return Verified(replaced.strip(), tuple(cited.values()), tuple(dropped.items()))


def _citation(store: ProvisionStore, pid: str, lang: str, label_of: Callable[[str, str], str]) -> Citation:
    p = store.get(pid, lang)
    assert p is not None  # verify_citations checked that it exists
    return Citation(
        id=pid,
        instrument=p.instrument,
        article=p.article,
        title=p.title,
        label=label_of(pid, lang),
        quote=shorten(p.text, MAX_QUOTE_CHARS),
        source_lang=p.lang,
        role="commentary" if p.is_research_article else "provision",
    )


# ------------------------------------------------------------------------------------------ answer


@dataclass(frozen=True)
class Generation:
    answer: Answer  # mode "llm", or the extractive fallback (mode "extractive")
    raw: str  # the model's text as received ("" when it failed)
    fallback_reason: str | None  # why the extractive answer was returned; None when it was not


class ModelTimeout(Exception):
    pass


# llama.cpp holds one context per loaded model: two generations at once on it are unsafe. A call that
# timed out keeps running in its thread, so the next one must wait for it (or time out in turn).
_LOCAL_LOCK = threading.Lock()


def _serialised(chat_model: Any) -> bool:
    return type(chat_model).__name__ == "ChatLlamaCpp"


def invoke_with_timeout(chat_model: Any, messages: list[Any], timeout_s: float | None) -> str:
    """The model's reply text; raises ModelTimeout after `timeout_s`, or whatever the model raised.

    The call runs in a daemon thread: a local model cannot be interrupted, and the answer must not
    wait for it (nor must interpreter exit).
    """
    result: dict[str, Any] = {}
    done = threading.Event()
    abandoned = threading.Event()
    serial = _serialised(chat_model)

    def work() -> None:
        try:
            if serial:
                with _LOCAL_LOCK:
                    # A call whose caller gave up while it waited for the model must not run at all:
                    # nobody reads its reply, and it would hold up the calls queued behind it.
                    if abandoned.is_set():
                        return
                    result["message"] = chat_model.invoke(messages)
            else:
                result["message"] = chat_model.invoke(messages)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            result["error"] = exc
        finally:
            done.set()

    threading.Thread(target=work, name="assistant-llm", daemon=True).start()
    if not done.wait(timeout_s):
        abandoned.set()
        raise ModelTimeout(f"no reply within {timeout_s:g} s")
    if "error" in result:
        raise result["error"]
    return message_text(result["message"])


def message_text(message: Any) -> str:
    """Text of an AI message whose content is a string or a list of content blocks."""
    content = getattr(message, "content", message)
    if isinstance(content, str):
        return content
    parts = []
    for block in content or ():
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
    return "".join(parts)


_THINK = re.compile(r"<think>.*?(</think>|\Z)", re.S | re.I)
_KK_ONLY = frozenset("әғқңөұүһі")


def _cyrillic_latin(text: str) -> tuple[int, int]:
    cyr = sum(1 for c in text if "а" <= c.lower() <= "я" or c.lower() in "ёәғқңөұүһі")
    lat = sum(1 for c in text if c.isascii() and c.isalpha())
    return cyr, lat


def wrong_language(text: str, lang: str) -> bool:
    """Whether a generated answer is plainly not in `lang` (an unclear case is given the benefit)."""
    from assistant.text.detect import detect_language

    cyr, lat = _cyrillic_latin(text)
    if cyr + lat < 12:
        return False
    if lang == "en":
        return cyr > lat
    if lat > cyr:
        return True
    if lang == "kk":
        return not _KK_ONLY.intersection(text.lower()) and detect_language(text) == "ru"
    return detect_language(text) == "kk"


def generate(
    chat_model: Any,
    question: str,
    lang: str,
    sources: Sequence[Source],
    *,
    templates: Mapping[str, Templates],
    label_of: Callable[[str, str], str],
    store: ProvisionStore,
    retrieved: Collection[str],
    fallback: Answer,
    timeout_s: float | None = None,
) -> Generation:
    """A model-written answer citing only verified provisions, or `fallback` (never raises).

    `sources` are the provisions shown to the model (`number_sources`), `retrieved` every provision id
    retrieved for the question, `fallback` the extractive answer for the same question.
    """
    started = time.perf_counter()

    def back(reason: str, raw: str = "", dropped: Sequence[tuple[str, str]] = ()) -> Generation:
        log.info("generative answer not used (%s); extractive answer returned", reason)
        merged = tuple(dict.fromkeys((*fallback.dropped_citations, *dropped)))
        answer = replace(
            fallback,  # keeps its own mode: «extractive» or «topic» (both grounded, no model text)
            dropped_citations=merged,
            timings_ms={**fallback.timings_ms, "llm": _ms(started)},
        )
        return Generation(answer, raw, reason)

    if fallback.refused or not sources:
        return back("no provisions to give the model")
    messages = build_messages(question, lang, sources, templates)
    try:
        raw = invoke_with_timeout(chat_model, messages, timeout_s)
    except ModelTimeout as exc:
        log.warning("chat model timed out: %s", exc)
        return back(f"model timed out ({exc})")
    except Exception as exc:  # noqa: BLE001 - any model failure means the extractive answer
        log.warning("chat model failed: %s: %s", type(exc).__name__, exc)
        return back(f"model error ({type(exc).__name__})")
    text = _THINK.sub("", raw).strip()
    if not text:
        return back("empty model output", raw)
    checked = verify_output(text, sources, lang=lang, label_of=label_of, store=store, retrieved=retrieved)
    if not checked.citations:
        return back("no valid citation in the model output", raw, checked.dropped)
    if checked.dropped:
        # The claim a failed citation was attached to is still in the text, now looking like the
        # assistant's own; cutting it out would change what the rest of the text means. A model answer
        # is used only when every citation in it checks out.
        return back("model output cites provisions that do not check out", raw, checked.dropped)
    if not checked.text or not re.search(r"\w", _strip_labels(checked.text)):
        return back("model output has only citations", raw, checked.dropped)
    if wrong_language(_strip_labels(checked.text), lang):
        return back(f"model answered in another language than {lang}", raw, checked.dropped)
    answer = Answer(
        question=question,
        language=lang,
        answer=checked.text,
        refused=False,
        citations=checked.citations,
        timings_ms={"llm": _ms(started)},
        mode="llm",
        retrieved=tuple(retrieved),
        dropped_citations=checked.dropped,
    )
    return Generation(answer, raw, None)


def _strip_labels(text: str) -> str:
    return re.sub(r"\[[^\[\]]*\]", " ", text)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000.0, 2)
