"""The named `ask` endpoint through `gradio_client`, against the real app on a free loopback port.

Uses the project's real index (session fixtures in tests/conftest.py).
"""

from __future__ import annotations

import json
import socket

import pytest

from tests.helpers import free_port

pytestmark = pytest.mark.browser

QUESTION_RU = "Какие основания для отказа в правовой помощи?"


@pytest.fixture(scope="module")
def client(web):
    from gradio_client import Client

    return Client(web[0], verbose=False, download_files=False)


def _comparable(data: dict) -> dict:
    return {k: v for k, v in data.items() if k != "timings_ms"}


def test_ask_in_russian_returns_the_cli_json(client, assistant):
    result = client.predict(QUESTION_RU, "ru", api_name="/ask")
    assert result["language"] == "ru" and result["refused"] is False
    assert result["citations"], result["answer"][:300]
    store = assistant.index.store
    for c in result["citations"]:
        assert c["id"] in store and c["label"] and c["quote"]
    # The same object as `assistant ask --json` (Answer.to_dict()), timings aside.
    direct = json.loads(json.dumps(assistant.ask(QUESTION_RU, lang="ru").to_dict()))  # as --json prints
    assert set(result) == set(direct)
    assert _comparable(result) == _comparable(direct)


def test_only_ask_is_public(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert list(endpoints) == ["/ask"]


@pytest.mark.parametrize("code", ["de", "", "russian"])
def test_unknown_language_code_is_a_clear_error(client, code):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=r"unknown language code .*use one of auto, kk, ru, en"):
        client.predict(QUESTION_RU, code, api_name="/ask")


@pytest.mark.parametrize(
    "question",
    [
        "<script>alert(1)</script> Что такое конфискация доходов от преступлений?",
        '<img src=x onerror="alert(1)"> ![x](http://203.0.113.9/p.png) Какие основания для отказа?',
    ],
)
def test_markup_in_a_question_comes_back_inert(client, question):
    from assistant.web.render import answer_markdown

    result = client.predict(question, "auto", api_name="/ask")
    assert result["question"] == question  # echoed as data, untouched
    assert "<script" not in result["answer"] and "<img" not in result["answer"]
    assert result["refused"] or result["citations"]
    shown = answer_markdown(result["answer"])  # what the chat would render
    assert "<" not in shown and "](" not in shown


def test_too_long_question_is_refused_with_the_limit(client, web):
    _, settings = web
    limit = settings.max_question_chars
    result = client.predict("а" * (limit + 1), "ru", api_name="/ask")
    assert result["refused"] and result["reason"] == "too_long"
    assert str(limit) in result["answer"]


def test_login_required_when_auth_is_set(assistant, tmp_path):
    from gradio_client import Client
    from gradio_client.exceptions import AuthenticationError

    from assistant.web.app import build_app
    from assistant.web.server import launch

    settings = assistant.settings.model_copy(update={"data_dir": tmp_path, "auth": "ann:s3cr:et"})
    app = build_app(assistant, settings)
    url = launch(app, settings, host="127.0.0.1", port=free_port(), block=False)
    try:
        with pytest.raises(AuthenticationError, match="login"):
            Client(url, verbose=False).predict(QUESTION_RU, "ru", api_name="/ask")
        with pytest.raises(ValueError, match="Could not login"):
            Client(url, verbose=False, auth=("ann", "wrong")).predict(QUESTION_RU, "ru", api_name="/ask")
        ok = Client(url, verbose=False, auth=("ann", "s3cr:et")).predict(QUESTION_RU, "ru", api_name="/ask")
        assert ok["language"] == "ru"
    finally:
        app.close()
        app.ara_runner.close()


def test_no_outside_connection_at_start_or_per_request(assistant, tmp_path, monkeypatch):
    """Every socket the process opens while the app starts and answers goes to loopback."""
    import ipaddress

    from gradio_client import Client

    from assistant.web.app import build_app
    from assistant.web.server import launch

    outside: list[object] = []
    real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def loopback(host: object) -> bool:
        try:
            return host == "localhost" or ipaddress.ip_address(str(host)).is_loopback
        except ValueError:
            return False

    def connect(self, address):  # noqa: ANN001, ANN202
        if self.family in (socket.AF_INET, socket.AF_INET6) and not loopback(address[0]):
            outside.append(address)
        return real_connect(self, address)

    def getaddrinfo(host, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if host is not None and not loopback(host):
            outside.append(host)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    settings = assistant.settings.model_copy(update={"data_dir": tmp_path})
    app = build_app(assistant, settings)
    url = launch(app, settings, host="127.0.0.1", port=free_port(), block=False)
    try:
        result = Client(url, verbose=False).predict(QUESTION_RU, "ru", api_name="/ask")
        assert result["citations"]
    finally:
        app.close()
        app.ara_runner.close()
    assert not outside, f"outside connections: {outside}"
