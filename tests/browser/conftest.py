"""The real web app on a free loopback port, shared by the browser and API tests."""

from __future__ import annotations

import pytest

from tests.helpers import free_port


@pytest.fixture(scope="module")
def web(assistant, tmp_path_factory):
    """(url, settings) of the real app, started on a free loopback port with a temporary data folder."""
    from assistant.web.app import build_app
    from assistant.web.server import launch

    settings = assistant.settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("web-data")})
    app = build_app(assistant, settings)
    url = launch(app, settings, host="127.0.0.1", port=free_port(), block=False)
    yield url, settings
    app.close()
    app.ara_runner.close()
