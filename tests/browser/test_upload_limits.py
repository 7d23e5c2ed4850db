"""The upload route over real HTTP, with a login: only ASSISTANT_ADMINS may upload, and they get the
document size limit instead of the 1 MB body limit; everything else keeps the 1 MB limit."""

from __future__ import annotations

import pytest

from tests.helpers import free_port

pytestmark = pytest.mark.browser  # as test_api.py: the real app over HTTP

BIG = 1_500_000  # over the request limit, under the document limit


@pytest.fixture(scope="module")
def login_app(assistant, tmp_path_factory):
    from assistant.web.app import build_app
    from assistant.web.server import launch

    settings = assistant.settings.model_copy(
        update={
            "data_dir": tmp_path_factory.mktemp("web-data"),
            "auth": "ana:a-long-passphrase",
            "admins": "ana",
            "max_document_bytes": 3_000_000,
        }
    )
    app = build_app(assistant, settings)
    url = launch(app, settings, host="127.0.0.1", port=free_port(), block=False)
    yield url.rstrip("/")
    app.close()
    app.ara_runner.close()


def _session(url: str, user: str, password: str):  # noqa: ANN202
    import httpx

    client = httpx.Client(base_url=url, timeout=30)
    r = client.post("/login", data={"username": user, "password": password})
    assert r.status_code == 200, r.text
    return client


def _upload(client, size: int) -> int:  # noqa: ANN001
    files = {"files": ("t.txt", b"x" * size, "text/plain")}
    return client.post("/gradio_api/upload", files=files).status_code


def test_admin_uploads_up_to_the_document_limit(login_app):
    client = _session(login_app, "ana", "a-long-passphrase")
    assert _upload(client, BIG) == 200
    assert _upload(client, 3_100_000) == 413
    # The rest of the app keeps the 1 MB limit, for the admin too.
    r = client.post(
        "/gradio_api/queue/join", content=b"x" * BIG, headers={"content-type": "application/json"}
    )
    assert r.status_code == 413


def test_without_login_no_upload_at_all(login_app):
    import httpx

    assert _upload(httpx.Client(base_url=login_app, timeout=30), 10) == 403


def test_a_logged_in_non_admin_cannot_upload(assistant, tmp_path_factory):
    from assistant.web.app import build_app
    from assistant.web.server import launch

    settings = assistant.settings.model_copy(
        update={
            "data_dir": tmp_path_factory.mktemp("web-data"),
            "auth": "bo:another-passphrase",
            "admins": "ana",
        }
    )
    app = build_app(assistant, settings)
    url = launch(app, settings, host="127.0.0.1", port=free_port(), block=False)
    try:
        assert _upload(_session(url.rstrip("/"), "bo", "another-passphrase"), 10) == 403
    finally:
        app.close()
        app.ara_runner.close()
