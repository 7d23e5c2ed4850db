"""The Documents tab in a real browser: upload a DOCX (generated now from ../shared/corpus-raw), read its
parse report, confirm, then ask a question only that treaty answers and see it cited. Runs on a throw-away
home with its own index (tests/helpers.make_home), so the project's index is never touched."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests import docgen
from tests.browser.test_web_chat import ANSWER_TIMEOUT_S, _ask, _open, _text, _wait, browser  # noqa: F401
from tests.helpers import free_port, make_home
from tests.pipeline.test_user_documents_added import QUESTIONS, _aliases, _without_instrument

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not docgen.RAW.is_dir(), reason="../shared/corpus-raw is not there"),
]


@pytest.fixture(scope="module")
def small_web(tmp_path_factory, embeddings):
    """(url, settings, assistant) of the real app over a small throw-away corpus without the Turkey treaty."""
    from assistant.core.settings import load_settings
    from assistant.index.build import build_index
    from assistant.pipeline import Assistant
    from assistant.web.app import build_app
    from assistant.web.server import launch

    home = make_home(tmp_path_factory.mktemp("webdocs"), ["bilateral-usa/ru.md"])
    _without_instrument(home, "bilateral-turkey")
    settings = load_settings(home=home)
    build_index(settings, embeddings, progress=False)
    assistant = Assistant(settings, embeddings=embeddings)
    assistant.warm_up()
    app = build_app(assistant, settings)
    url = launch(app, settings, host="127.0.0.1", port=free_port(), block=False)
    yield url, settings, assistant
    app.close()
    app.ara_runner.close()


def _gradio_uploads() -> Path:
    return Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio")


def _css(driver, css: str):  # noqa: ANN001, ANN202
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, css)


def _tab(driver, label: str) -> None:  # noqa: ANN001
    buttons = [b for b in _css(driver, "#ara-tabs button[role='tab']") if b.text == label]
    assert buttons, label
    buttons[0].click()


def _type(driver, container: str, text: str) -> None:  # noqa: ANN001
    box = _css(driver, f"#{container} textarea, #{container} input")[0]
    box.clear()
    box.send_keys(text)


def test_upload_confirm_and_ask_the_new_treaty(browser, small_web, tmp_path):  # noqa: F811
    from assistant.core.prompts import all_templates

    url, settings, assistant = small_web
    uis = {lang: t.section("ui") for lang, t in all_templates(settings.path(settings.prompts_dir)).items()}
    ui = uis["ru"]
    docx = docgen.make_docx(docgen.raw_text("bilateral-turkey/ru.md"), tmp_path / "turkey-ru.docx")

    _open(browser, f"{url}?lang=ru")
    _wait(browser, lambda d: _text(d, "#ara-send") == ui["send"])
    _tab(browser, ui["tab_documents"])
    _css(browser, "#ara-docs-file input[type=file]")[0].send_keys(str(docx))
    _wait(browser, lambda d: "turkey-ru" in _text(d, "#ara-docs-file"))
    _type(browser, "ara-docs-id", "bilateral-turkey")
    _type(browser, "ara-docs-title", "Соглашение РК–Турция о правовой помощи и выдаче (1995)")
    _type(browser, "ara-docs-aliases", "\n".join(_aliases()))
    _css(browser, "#ara-docs-check")[0].click()

    rows = _wait(browser, lambda d: _css(d, "#ara-docs-report tbody tr"), ANSWER_TIMEOUT_S)
    assert len(rows) > 20, _text(browser, "#ara-docs-report")
    assert "bilateral-turkey [ru]" in _text(browser, "#ara-docs-report")
    assert not list(settings.path(settings.data_dir).rglob("*.docx"))  # nothing stored before confirming
    assert not list(_gradio_uploads().rglob("turkey-ru*.docx"))  # the uploaded temporary is gone once parsed
    browser.save_screenshot(str(tmp_path / "documents-report.png"))

    _css(browser, "#ara-docs-confirm")[0].click()
    added = ui["docs_added"].format(id="bilateral-turkey")
    _wait(browser, lambda d: _text(d, "#ara-docs-status") == added, 300)
    assert _css(browser, '#ara-docs-list tr[data-id="bilateral-turkey"][data-origin="user"]')

    _tab(browser, ui["tab_chat"])
    _ask(browser, QUESTIONS["ru"])
    _wait(browser, lambda d: _css(d, "#ara-sources li.ara-source"), ANSWER_TIMEOUT_S)
    cited = [el.get_attribute("data-id") for el in _css(browser, "#ara-sources li.ara-source")]
    assert any(c.startswith("bilateral-turkey:19") for c in cited), cited
    assert "40" in _text(browser, '#ara-chat [data-testid="bot"]')

    # The treaty browser knows it too, at once.
    assert assistant.index.store.articles("bilateral-turkey")

    # The admin's feedback review (a loopback app without a login: its one user is the admin).
    _css(browser, "#ara-helpful")[0].click()
    _wait(browser, lambda d: _text(d, "#ara-feedback-status") == ui["feedback_thanks"])
    _tab(browser, ui["tab_feedback"])
    _css(browser, "#ara-feedback-show")[0].click()
    _wait(browser, lambda d: "1 event(s)" in _text(d, "#ara-feedback-report"))
