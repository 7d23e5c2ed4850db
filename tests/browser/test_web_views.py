"""The links, the Compare tab and the treaty browser in a real browser (headless Chromium, the real app
and index; fixtures from test_web_chat.py and conftest.py)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.browser.test_web_chat import ANSWER_TIMEOUT_S, _open, _text, _wait, browser, uis  # noqa: F401

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


def _screenshot(driver, tmp_path: Path, name: str) -> None:  # noqa: ANN001
    """Save a screenshot; with ASSISTANT_UPDATE_SCREENSHOT set, also as docs/<name> (the docs' picture)."""
    driver.execute_script("window.scrollTo(0, 0);")
    shot = tmp_path / name
    assert driver.save_screenshot(str(shot))
    if os.environ.get("ASSISTANT_UPDATE_SCREENSHOT"):
        shutil.copyfile(shot, ROOT / "docs" / name)


QUESTION_RU = "Какая конвенция позволяет напрямую исполнить постановление иностранного суда о конфискации?"


def _by_css(driver, css: str):  # noqa: ANN001, ANN202
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, css)


def test_question_link_asks_and_offers_its_own_link(browser, web, assistant, uis):  # noqa: F811
    url, _ = web
    _open(browser, f"{url}?q={quote(QUESTION_RU)}&lang=ru")
    _wait(browser, lambda d: _by_css(d, "#ara-sources li.ara-source"), ANSWER_TIMEOUT_S)
    assert _text(browser, '#ara-chat [data-testid="user"]') == QUESTION_RU
    assert _text(browser, "#ara-send") == uis["ru"]["send"]
    link = _wait(
        browser, lambda d: _by_css(d, "#ara-link textarea, #ara-link input")[0].get_attribute("value")
    )
    assert "?q=" in link and "lang=ru" in link
    # The link it offers asks the same question again.
    _open(browser, link)
    _wait(browser, lambda d: _text(d, '#ara-chat [data-testid="user"]') == QUESTION_RU, ANSWER_TIMEOUT_S)


def test_too_long_question_in_a_link_gets_the_usual_refusal(browser, web, assistant):  # noqa: F811
    url, settings = web
    _open(browser, f"{url}?q={'а' * (settings.max_question_chars + 1)}&lang=ru")
    refusal = assistant.templates["ru"].render("refusal.too_long", limit=settings.max_question_chars)
    _wait(browser, lambda d: refusal in _text(d, '#ara-chat [data-testid="bot"]'), ANSWER_TIMEOUT_S)


def test_provision_link_opens_the_treaty_browser(browser, web, assistant, uis, tmp_path):  # noqa: F811
    url, _ = web
    _open(browser, f"{url}?p=strasbourg1990:13.1.a&lang=kk")
    _wait(browser, lambda d: _by_css(d, "#ara-browse .ara-version"))
    versions = [el.get_attribute("lang") for el in _by_css(browser, "#ara-browse .ara-version")]
    assert versions == ["kk", "ru", "en"]
    heading = _text(browser, "#ara-browse h4")
    assert heading == assistant.label("strasbourg1990:13.1.a", "kk")
    topic = assistant.topic_map.get("direct-enforcement").title["kk"]
    assert topic in _text(browser, "#ara-browse .ara-topics")
    assert uis["kk"]["tab_treaties"] in _text(browser, "#ara-tabs")
    _screenshot(browser, tmp_path, "screenshot-treaties.png")

    _open(browser, f"{url}?p=strasbourg1990:13.9.z&lang=en")
    _wait(browser, lambda d: _by_css(d, "#ara-browse .ara-not-found"))
    shown = _text(browser, "#ara-browse")
    assert uis["en"]["browse_not_found"].format(id="strasbourg1990:13.9.z") in shown
    assert "strasbourg1990:13.1" in shown


def _pick(driver, container: str, text: str) -> None:  # noqa: ANN001
    """Choose `text` in a gradio Dropdown: type it, then click the matching option."""
    from selenium.webdriver.common.by import By

    box = driver.find_element(By.CSS_SELECTOR, f"#{container} input")
    box.click()
    box.send_keys(text)
    option = _wait(
        driver,
        lambda d: [
            o
            for o in d.find_elements(By.CSS_SELECTOR, "li[data-testid='dropdown-option']")
            if o.get_attribute("aria-label") == text
        ],
    )
    option[0].click()


def _tab(driver, label: str) -> None:  # noqa: ANN001
    from selenium.webdriver.common.by import By

    buttons = [
        b for b in driver.find_elements(By.CSS_SELECTOR, "#ara-tabs button[role='tab']") if b.text == label
    ]
    assert buttons, label
    buttons[0].click()


def test_compare_tab_shows_the_table_and_downloads_it(browser, web, assistant, uis, tmp_path):  # noqa: F811
    url, _ = web
    _open(browser, f"{url}?lang=en")
    _wait(browser, lambda d: _text(d, "#ara-send") == uis["en"]["send"])
    _tab(browser, uis["en"]["tab_compare"])
    title = assistant.topic_map.get("direct-enforcement").title["en"]
    _pick(browser, "ara-compare-topic", title)
    _by_css(browser, "#ara-compare-show")[0].click()
    rows = _wait(browser, lambda d: _by_css(d, "#ara-compare tr[data-instrument]"), ANSWER_TIMEOUT_S)
    instruments = [r.get_attribute("data-instrument") for r in rows]
    assert {"strasbourg1990", "uncac"} <= set(instruments)
    table = _text(browser, "#ara-compare")
    assert title in table and uis["en"]["compare_summary"] in table
    assert assistant.templates["en"].get("topic.summary_note") in table
    # The quote is folded until asked for.
    detail = _by_css(browser, '#ara-compare .ara-compared[data-id^="strasbourg1990:13"] details')[0]
    assert detail.get_attribute("open") is None
    detail.find_element("css selector", "summary").click()
    _wait(browser, lambda d: detail.get_attribute("open") is not None)
    _screenshot(browser, tmp_path, "screenshot-compare.png")

    # The Markdown download, clicked, arrives as the same table.
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd(
        "Browser.setDownloadBehavior",
        {"behavior": "allow", "downloadPath": str(downloads), "eventsEnabled": True},
    )
    _by_css(browser, "#ara-compare-md")[0].click()
    got = _wait(browser, lambda d: [f for f in downloads.glob("*.md") if f.stat().st_size], 30)
    body = got[0].read_text(encoding="utf-8")
    assert body.startswith("# ") and title in body
    assert assistant.label("strasbourg1990:13.1.a", "en") in body
