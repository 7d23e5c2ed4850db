"""Generative mode end to end: the real `Assistant` (real model, real index) with a fake chat model.

The fake stands in for the LLM only; retrieval, numbering, the verifier and the fallback are real.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from tests.conftest import project_settings

pytestmark = pytest.mark.pipeline

QUESTION = "Қай конвенция шет мемлекет сотының тәркілеу туралы шешімін тікелей орындауға мүмкіндік береді?"
# Model replies written for this test, in Kazakh like the question.
GOOD = "Шетелдік соттың тәркілеу туралы шешімін орындау осы ережелерде көзделген [1][2]."
WRONG = "Бұл мәселені Атлантида конвенциясы реттейді [9] [uncac:99.9]."


class _Scripted(FakeListChatModel):
    seen: list = []

    def _call(self, messages: list, *args: Any, **kwargs: Any) -> str:
        self.seen.append(messages)
        return super()._call(messages, *args, **kwargs)


class _Broken(FakeListChatModel):
    def _call(self, *args: Any, **kwargs: Any) -> str:
        raise ConnectionError("server went away")


@pytest.fixture(scope="module")
def chat_model() -> _Scripted:
    return _Scripted(responses=[GOOD])


@pytest.fixture(scope="module")
def llm_assistant(built_index, embeddings, chat_model):
    from assistant.pipeline import Assistant

    return Assistant(project_settings(mode="llm"), embeddings=embeddings, chat_model=chat_model)


@pytest.fixture(scope="module")
def extractive(assistant):
    return assistant.ask(QUESTION)


def _ask(llm_assistant, chat_model: _Scripted, reply: str):
    chat_model.responses, chat_model.i = [reply], 0
    chat_model.seen.clear()
    return llm_assistant.ask(QUESTION)


def test_generated_answer_cites_numbered_provisions(llm_assistant, chat_model, extractive) -> None:
    a = _ask(llm_assistant, chat_model, GOOD)
    assert a.mode == "llm" and not a.refused and a.language == "kk"
    ((system, user),) = chat_model.seen
    shown = dict(re.findall(r"(?m)^\[(\d+)\] .*? \(id: ([^;)]+)", user.content))
    assert len(shown) >= 2 and len(set(shown.values())) == len(shown)
    # [1] is the provision the extractive answer quotes first; [1][2] cite what the model was shown
    assert shown["1"] == extractive.citations[0].id
    assert [c.id for c in a.citations] == [shown["1"], shown["2"]]
    for c in a.citations:
        assert f"[{c.label}]" in a.answer and c.quote
        assert any(c.id == r or c.id.startswith(r + ".") or r.startswith(c.id + ".") for r in a.retrieved)
    assert "[1]" not in a.answer and a.dropped_citations == ()
    assert {"retrieve", "compose", "llm", "total"} <= set(a.timings_ms)
    assert QUESTION in user.content and QUESTION not in system.content
    assert f"[1] {extractive.citations[0].label} (id: {extractive.citations[0].id}" in user.content


def test_wrong_citations_fall_back_to_the_extractive_answer(llm_assistant, chat_model, extractive) -> None:
    a = _ask(llm_assistant, chat_model, WRONG)
    assert a.mode == extractive.mode != "llm" and a.answer == extractive.answer  # the grounded answer stands
    assert [c.id for c in a.citations] == [c.id for c in extractive.citations]
    assert {"[9]", "uncac:99.9"} <= {d for d, _ in a.dropped_citations}


def test_a_failing_model_falls_back(built_index, embeddings, extractive) -> None:
    from assistant.pipeline import Assistant

    a = Assistant(project_settings(mode="llm"), embeddings=embeddings, chat_model=_Broken(responses=["x"]))
    answer = a.ask(QUESTION)
    assert answer.mode == extractive.mode != "llm" and answer.answer == extractive.answer


def test_out_of_scope_is_refused_without_calling_the_model(llm_assistant, chat_model) -> None:
    chat_model.seen.clear()
    a = llm_assistant.ask("Ертең Алматыда ауа райы қандай болады?")
    assert a.refused and a.citations == () and chat_model.seen == []
