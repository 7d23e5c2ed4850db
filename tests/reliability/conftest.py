"""Fixtures of the reliability suite (helpers in tests/reliability/support.py).

Session fixtures `settings`, `embeddings`, `built_index` and `assistant` come from tests/conftest.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.support import FIGURES


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001 - pytest's TerminalReporter
    if FIGURES:
        terminalreporter.section("reliability figures")
        for name, values in FIGURES.items():
            terminalreporter.write_line(f"{name}: " + ", ".join(f"{k}={v}" for k, v in values.items()))


# ------------------------------------------------------------------------------ hostile corpus


@pytest.fixture(scope="session")
def hostile_home(tmp_path_factory, embeddings) -> Path:
    """The test-only corpus with an injected instruction (tests/reliability/hostile_corpus.py), indexed."""
    from assistant.core.settings import load_settings
    from assistant.index.build import build_index
    from tests.reliability.hostile_corpus import make_hostile_home

    home = make_hostile_home(tmp_path_factory.mktemp("hostile-home"))
    build_index(load_settings(home=home), embeddings, progress=False)
    return home
