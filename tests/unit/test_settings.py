"""Settings: numbers out of range are refused at start-up with one line naming the setting."""

from __future__ import annotations

import pytest

from assistant.core.errors import ConfigError
from assistant.core.settings import load_settings
from assistant.pipeline import Assistant


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("ASSISTANT_MAX_HISTORY_TURNS", "-1"),
        ("ASSISTANT_TOP_K", "0"),
        ("ASSISTANT_MAX_QUESTION_CHARS", "0"),
        ("ASSISTANT_REQUEST_TIMEOUT_S", "0"),
        ("ASSISTANT_CONCURRENCY_LIMIT", "0"),
        ("ASSISTANT_MAX_QUEUE", "0"),
        ("ASSISTANT_MAX_REQUEST_BYTES", "10"),
        ("ASSISTANT_PORT", "70000"),
    ],
)
def test_out_of_range_numbers_are_a_config_error(monkeypatch, var: str, value: str) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    name = var.removeprefix("ASSISTANT_").lower()
    assert name in err.value.message and "\n" not in err.value.message
    assert err.value.exit_code == 2


@pytest.mark.parametrize(("keep", "expected"), [(0, []), (1, ["c"]), (2, ["b", "c"]), (10, ["a", "b", "c"])])
def test_history_keeps_the_last_turns(monkeypatch, keep: int, expected: list[str]) -> None:
    monkeypatch.setenv("ASSISTANT_MAX_HISTORY_TURNS", str(keep))
    assistant = Assistant(load_settings())  # loads nothing until a question needs the index
    turns = ["Что такое конфискация?", "Что такое арест имущества?", "Что такое выдача?"]
    got = assistant._clean_history(turns)
    assert got == [turns["abc".index(x)] for x in expected]
