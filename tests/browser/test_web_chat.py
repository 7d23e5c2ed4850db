"""The web chat in a real browser: the real app on a free loopback port, driven in headless Chromium.

Needs Debian's `chromium` and `chromium-driver` (`make browser-deps` installs them); without them the
tests skip with a loud reason. Uses the project's real index (session fixtures in tests/conftest.py).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
QUESTION_KK = "Қай конвенция шет мемлекет сотының тәркілеу туралы шешімін тікелей орындауға мүмкіндік береді?"
ANSWER_TIMEOUT_S = 120


def _binaries() -> tuple[str, str] | None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (chromium, driver) if chromium and driver else None


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    found = _binaries()
    if found is None:
        pytest.skip(
            "!!! BROWSER TEST SKIPPED: chromium and/or chromedriver not found; install Debian's "
            "`chromium chromium-driver` (`make browser-deps` as root) to run it !!!"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = found
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1400",
        "--lang=en-US",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(arg)
    # An explicit driver path: Selenium Manager (which would download a driver) never runs.
    d = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    d.set_page_load_timeout(60)
    yield d
    d.quit()


@pytest.fixture(scope="module")
def uis(assistant):
    return {lang: t.section("ui") for lang, t in assistant.templates.items()}


def _wait(driver, condition, timeout: float = 30):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(condition)


def _text(driver, css: str) -> str:
    from selenium.webdriver.common.by import By

    els = driver.find_elements(By.CSS_SELECTOR, css)
    return els[-1].text if els else ""


def _open(driver, url: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(url)
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#ara-question textarea"))


def _ask(driver, question: str) -> None:
    from selenium.webdriver.common.by import By

    box = driver.find_element(By.CSS_SELECTOR, "#ara-question textarea")
    box.clear()
    box.send_keys(question)
    driver.find_element(By.ID, "ara-send").click()


def _click_radio(driver, container: str, label: str) -> None:
    from selenium.webdriver.common.by import By

    for el in driver.find_elements(By.CSS_SELECTOR, f"#{container} label"):
        if el.text.strip() == label:
            el.click()
            return
    raise AssertionError(f"no radio {label!r} in #{container}")


def test_kazakh_question_answered_in_kazakh_with_sources(browser, web, assistant, uis, tmp_path):
    from selenium.webdriver.common.by import By

    from assistant.web.feedback import FILENAME, read_events

    url, settings = web
    _open(browser, url)
    # Auto mode with an English browser: the page-load event switches the interface to English.
    _wait(browser, lambda d: _text(d, "#ara-send") == uis["en"]["send"])

    _ask(browser, QUESTION_KK)
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#ara-sources li.ara-source"), ANSWER_TIMEOUT_S)

    answer = _text(browser, '#ara-chat [data-testid="bot"]')
    templates = assistant.templates
    lead = os.path.commonprefix(
        [templates["kk"].get("answer.lead_one"), templates["kk"].get("answer.lead_many")]
    )
    topic_lead = templates["kk"].get("topic.lead").split("{topic}")[1].strip()  # a topic-map answer
    assert lead.strip() and (answer.startswith(lead.strip()) or topic_lead in answer.split("\n")[0]), answer[
        :200
    ]
    assert _text(browser, '#ara-chat [data-testid="user"]') == QUESTION_KK

    sources = _text(browser, "#ara-sources")
    names = assistant.short_names
    wanted = [names["uncac"]["kk"], names["strasbourg1990"]["kk"]]
    assert any(name in sources for name in wanted), sources[:500]
    assert templates["kk"].get("answer.disclaimer") in sources
    # Auto mode follows the answer: the interface is now Kazakh.
    _wait(browser, lambda d: _text(d, "#ara-send") == uis["kk"]["send"])
    assert uis["kk"]["sources"] in sources

    # The whole article of the first cited source, in Kazakh where the corpus has it.
    article = browser.find_element(By.ID, "ara-article")
    assert article.find_elements(By.CSS_SELECTOR, ".ara-article-text p")
    first_lang = article.find_element(By.CSS_SELECTOR, ".ara-article").get_attribute("lang")
    other = "ru" if first_lang != "ru" else "en"
    _click_radio(browser, "ara-versions", uis["kk"][f"lang_{other}"])
    _wait(
        browser,
        lambda d: d.find_element(By.CSS_SELECTOR, "#ara-article .ara-article").get_attribute("lang") == other,
    )

    # For the README: the page, the chat and the sources all scrolled to their top.
    browser.execute_script(
        "window.scrollTo(0, 0);"
        "for (const el of document.querySelectorAll('#ara-chat *, #ara-sources *'))"
        "  if (el.scrollHeight > el.clientHeight) el.scrollTop = 0;"
    )
    shot = tmp_path / "chat-kk.png"
    assert browser.save_screenshot(str(shot))
    if os.environ.get("ASSISTANT_UPDATE_SCREENSHOT"):  # refresh the README's picture on request only
        shutil.copyfile(shot, ROOT / "docs" / "screenshot-chat.png")

    # Switching the language switches every label.
    _click_radio(browser, "ara-lang", uis["ru"]["lang_ru"])
    _wait(browser, lambda d: _text(d, "#ara-send") == uis["ru"]["send"])
    assert _text(browser, "#ara-clear") == uis["ru"]["clear"]
    assert uis["ru"]["sources"] in _text(browser, "#ara-sources")
    assert uis["ru"]["language"] in _text(browser, "#ara-lang")
    browser.save_screenshot(str(tmp_path / "chat-ru-labels.png"))

    # Feedback with a comment lands in the data folder's log.
    browser.find_element(By.CSS_SELECTOR, "#ara-comment textarea, #ara-comment input").send_keys("ok")
    browser.find_element(By.ID, "ara-helpful").click()
    _wait(browser, lambda d: _text(d, "#ara-feedback-status") == uis["ru"]["feedback_thanks"])
    events = read_events(settings.path(settings.data_dir) / FILENAME)
    assert events and events[-1]["rating"] == "helpful" and events[-1]["comment"] == "ok"
    assert events[-1]["question"] == QUESTION_KK and events[-1]["citations"]

    # Nothing was fetched from anywhere but the app itself (no CDN, no web fonts).
    origin = urlsplit(url)[:2]
    fetched = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    outside = [u for u in fetched if not u.startswith(("data:", "blob:")) and urlsplit(u)[:2] != origin]
    assert fetched and not outside, outside


HOSTILE = (
    '<img src=x onerror="window.__pwned=1"> ![pixel](http://127.0.0.1:9/p.png) '
    "[link](javascript:window.__pwned=2) <b>bold</b> **stars** конфискация"
)


def test_markup_in_a_question_shows_as_text(browser, web, uis):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    url, _ = web
    _open(browser, url)
    _ask(browser, HOSTILE)
    searching = {uis[lang]["searching"] for lang in uis}
    _wait(
        browser,
        lambda d: _text(d, '#ara-chat [data-testid="bot"]') not in ("", *searching),
        ANSWER_TIMEOUT_S,
    )
    chat = browser.find_element(By.ID, "ara-chat")
    assert _text(browser, '#ara-chat [data-testid="user"]') == HOSTILE
    assert not chat.find_elements(By.CSS_SELECTOR, ".message-content img, .message img")
    assert not chat.find_elements(By.CSS_SELECTOR, ".message a, .message b")
    assert not chat.find_elements(By.CSS_SELECTOR, '[data-testid="user"] strong')
    assert browser.execute_script("return window.__pwned === undefined")
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 - raises when no alert is open
