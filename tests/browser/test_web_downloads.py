"""The chat's download control in a real browser (headless Chromium, the real app and index; fixtures from
test_web_chat.py and conftest.py): ask, choose DOCX, click download, read the file that arrives."""

from __future__ import annotations

import pytest

from tests.browser.test_web_chat import ANSWER_TIMEOUT_S, _ask, _open, _text, _wait, browser, uis  # noqa: F401

pytestmark = pytest.mark.browser

QUESTION_RU = "Какая конвенция позволяет напрямую исполнить постановление иностранного суда о конфискации?"


def _by_css(driver, css: str):  # noqa: ANN001, ANN202
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, css)


def test_conversation_downloads_as_docx_with_its_question_and_citations(browser, web, uis, tmp_path):  # noqa: F811
    docx = pytest.importorskip("docx")
    from selenium.webdriver.common.by import By

    url, _ = web
    _open(browser, f"{url}?lang=ru")
    # Nothing asked yet: the control says so and offers no file.
    nothing = uis["ru"]["export_nothing"]
    _wait(browser, lambda d: nothing in _text(d, "#ara-export-status"))
    assert _by_css(browser, "#ara-download")[0].get_attribute("disabled") is not None

    _ask(browser, QUESTION_RU)
    _wait(browser, lambda d: _by_css(d, "#ara-sources li.ara-source"), ANSWER_TIMEOUT_S)
    label = _text(browser, "#ara-sources li.ara-source .ara-source-label")
    assert label and _text(browser, "#ara-sources li.ara-source code.ara-cite")  # the formal citation

    browser.find_element(By.XPATH, "//*[@id='ara-export-format']//label[contains(., 'DOCX')]").click()
    button = _wait(
        browser,
        lambda d: [b for b in _by_css(d, "#ara-download") if b.get_attribute("disabled") is None],
        ANSWER_TIMEOUT_S,
    )
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd(
        "Browser.setDownloadBehavior",
        {"behavior": "allow", "downloadPath": str(downloads), "eventsEnabled": True},
    )
    button[0].click()
    got = _wait(browser, lambda d: [f for f in downloads.glob("*.docx") if f.stat().st_size], 30)
    text = "\n".join(p.text for p in docx.Document(str(got[0])).paragraphs)
    assert QUESTION_RU in text
    assert label in text
