"""Serving the web chat: limits at the door, login, the listening address, start-up.

Takes: the `Settings` (host, port, `ASSISTANT_AUTH`, request-body limit) and a Blocks app from
`assistant.web.app.build_app`.
Gives: `serve()` (what `assistant serve` and `app.py` call: build one warmed `Assistant`, then serve
until stopped), `launch()` (start an app with the safe defaults, for tests too), `check_port_free()`,
`parse_auth()`, `is_loopback()` and `BodyLimit`, the ASGI middleware that refuses an oversized request
body before the app reads it.

Safe defaults: loopback bind, optional login (`ASSISTANT_AUTH=user:password`), never a share link, no
analytics, no server-side rendering, fonts from the system (no web-font fetch), no monitoring or MCP
endpoints, and error details kept in the log rather than shown.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from assistant.core.errors import ConfigError
from assistant.core.settings import Settings, force_offline

# Before anything can import gradio: its analytics and version check read the environment at import.
force_offline()

if TYPE_CHECKING:
    import gradio as gr

log = logging.getLogger(__name__)


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """`user:password` → (user, password); the password may itself contain colons."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ConfigError("ASSISTANT_AUTH must look like user:password (both non-empty)")
    return user, password


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an IP address) only listens on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class BodyLimit:
    """ASGI middleware: a request body over `max_bytes` gets 413 before the app reads it.

    Gradio reads any body whole (a 20 MB question costs ~180 MB of server memory); the question limit in
    guard.py only applies after that. A declared Content-Length is judged at once; a chunked body is read
    up to the limit and then refused.
    """

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_bytes
            except ValueError:
                too_big = True  # a malformed length is not something to trust
            if too_big:
                await self._refuse(send)
                return
            await self.app(scope, receive, send)
            return
        if scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        messages, size = [], 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._refuse(send)
                return
            if not message.get("more_body"):
                break

        async def replay() -> dict:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Callable) -> None:
        body = f'{{"error": "request body over {self.max_bytes} bytes"}}'.encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def launch(
    app: gr.Blocks,
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    block: bool = True,
) -> str:
    """Start `app` with the safe defaults; returns its local URL (blocks until stopped if `block`)."""
    from starlette.middleware import Middleware

    from assistant.web.app import CSS, theme

    host = host or settings.host
    port = port or settings.port
    auth = parse_auth(settings.auth)
    if not is_loopback(host) and auth is None:
        log.warning("listening on %s without a login; set ASSISTANT_AUTH=user:password", host)
    try:
        app.launch(
            server_name=host,
            server_port=port,
            auth=auth,
            share=False,
            inbrowser=False,
            show_error=False,
            prevent_thread_lock=True,
            ssr_mode=False,
            pwa=False,
            mcp_server=False,
            enable_monitoring=False,
            footer_links=["api"],
            app_kwargs={"middleware": [Middleware(BodyLimit, max_bytes=settings.max_request_bytes)]},
            quiet=True,  # gradio's banner suggests `share=True`, which this app never does
            theme=theme(),
            css=CSS,
        )
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {host}:{port} ({exc}); stop the other server or choose --port / ASSISTANT_PORT"
        ) from None
    url = app.local_url or f"http://{host}:{port}/"
    log.info("web chat at %s%s", url, " (login required)" if auth else "")
    if block:
        app.block_thread()
    return url


def check_port_free(host: str, port: int) -> None:
    """Fail in a second, not after loading the model, when the address is taken."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise ConfigError(
            f"cannot resolve host {host!r} ({exc}); use an IP address such as 127.0.0.1"
        ) from None
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port} ({exc.strerror}); stop the other server or choose "
                "--port / ASSISTANT_PORT"
            ) from None


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    """Build one `Assistant`, load the model and index now, then serve the chat until stopped."""
    from assistant.pipeline import Assistant
    from assistant.web.app import build_app

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # gradio's own start-up probes of itself
    host, port = host or settings.host, port or settings.port
    check_port_free(host, port)
    parse_auth(settings.auth)
    assistant = Assistant(settings)
    log.info("loading the embedding model and the index…")
    assistant.warm_up()
    app = build_app(assistant, settings)
    try:
        launch(app, settings, host=host, port=port, block=True)
    finally:
        app.ara_runner.close()  # type: ignore[attr-defined]
