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


def may_manage_documents(settings: Settings, user: str | None) -> bool:
    """Who may add and remove documents: with a login, the users in `ASSISTANT_ADMINS`; without one, anyone
    only when the app listens on this machine alone (the local single-user case)."""
    if settings.auth:
        return bool(user) and user in settings.admin_names()
    return is_loopback(settings.host)


UPLOAD_PATH = "/gradio_api/upload"  # Gradio's file-upload route: the Documents view's only way in


def _logged_in_user(scope: dict) -> str | None:
    """The Gradio login behind a request (its access-token cookie), read without the app's help."""
    from starlette.requests import cookie_parser

    app = scope.get("app")
    tokens, cookie_id = getattr(app, "tokens", None), getattr(app, "cookie_id", None)
    if not tokens or cookie_id is None:
        return None
    raw = dict(scope.get("headers") or ()).get(b"cookie", b"").decode("latin-1")
    cookies = cookie_parser(raw)
    token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
    return tokens.get(token)


def upload_rule(settings: Settings) -> Callable[[dict], bool]:
    """Whether an upload request comes from someone who may add documents (see `may_manage_documents`)."""

    def allowed(scope: dict) -> bool:
        return may_manage_documents(settings, _logged_in_user(scope) if settings.auth else None)

    return allowed


class BodyLimit:
    """ASGI middleware: a request body over `max_bytes` gets 413 before the app reads it.

    Gradio reads any body whole (a 20 MB question costs ~180 MB of server memory); the question limit in
    guard.py only applies after that. A declared Content-Length is judged at once; a chunked body is read
    up to the limit and then refused. The upload route alone gets `upload_bytes` (the document size limit),
    and only for requests `may_upload` allows; anyone else's upload is refused (403) unread.
    """

    def __init__(
        self,
        app: Any,
        max_bytes: int,
        upload_bytes: int | None = None,
        may_upload: Callable[[dict], bool] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_bytes = upload_bytes or max_bytes
        self.may_upload = may_upload

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        if self.may_upload is not None and scope.get("path", "").rstrip("/").endswith(UPLOAD_PATH):
            if not self.may_upload(scope):
                await self._refuse(send, 403, "uploads are for users who may add documents")
                return
            limit = self.upload_bytes
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                too_big = True  # a malformed length is not something to trust
            if too_big:
                await self._refuse(send, 413, f"request body over {limit} bytes")
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
            if size > limit:
                await self._refuse(send, 413, f"request body over {limit} bytes")
                return
            if not message.get("more_body"):
                break

        async def replay() -> dict:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Callable, status: int, why: str) -> None:
        body = f'{{"error": "{why}"}}'.encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
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
            app_kwargs={
                "middleware": [
                    Middleware(
                        BodyLimit,
                        max_bytes=settings.max_request_bytes,
                        upload_bytes=settings.max_document_bytes,
                        may_upload=upload_rule(settings.model_copy(update={"host": host})),
                    )
                ]
            },
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
