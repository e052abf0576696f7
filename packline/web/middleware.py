"""Plain ASGI middleware: HEAD answered like GET without a body, JSON bodies only and at most
1 MiB, and one log line per request.

Pure ASGI (not ``BaseHTTPMiddleware``) so that the server-sent event stream is not buffered.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("packline.daemon.http")

MAX_BODY_BYTES = 1 << 20


async def _answer(send: Send, status: int, message: str, problems: list[str]) -> None:
    body = json.dumps({"error": message, "problems": problems}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _is_json(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind == "application/json" or (
        kind.startswith("application/") and kind.endswith("+json")
    )


class HttpRules:
    """HEAD as GET, 415 for a body that is not JSON, 413 past the body limit, the request log."""

    def __init__(self, app: ASGIApp, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method = scope["method"]
        status_seen = [0]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        head = method == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_seen[0] = message["status"]
            if head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        try:
            refused = self._refusal(method, headers)
            if refused is not None:
                status_seen[0] = refused[0]
                await _answer(send, *refused)
                return
            if "chunked" in headers.get("transfer-encoding", "").lower():
                buffered = await self._buffered(receive)
                if buffered is None:
                    status_seen[0] = 413
                    limit = self.max_body_bytes
                    await _answer(send, 413, f"request body over the limit of {limit} bytes", [])
                    return
                receive = buffered
            try:
                await self.app(scope, receive, sending)
            except Exception:
                log.exception("unexpected error answering %s %s", method, scope.get("path", ""))
                if status_seen[0]:
                    raise  # the answer was under way: the connection is dropped
                status_seen[0] = 500
                await _answer(send, 500, "internal server error (logged by the daemon)", [])
        finally:
            self._log(scope, method, status_seen[0], started)

    def _refusal(self, method: str, headers: dict[str, str]) -> tuple[int, str, list[str]] | None:
        length_text = headers.get("content-length", "")
        if length_text and not length_text.isdigit():
            return 400, f"bad Content-Length {length_text!r}", []
        length = int(length_text or 0)
        if length > self.max_body_bytes:
            return (
                413,
                f"request body of {length} bytes is over the limit of {self.max_body_bytes}",
                [],
            )
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        if method in ("POST", "PUT", "PATCH") and (length or chunked):
            content_type = headers.get("content-type", "")
            if not _is_json(content_type):
                return (
                    415,
                    "the body must be JSON: send 'Content-Type: application/json'",
                    [f"got Content-Type {content_type or '(none)'!r}"],
                )
        return None

    async def _buffered(self, receive: Receive) -> Receive | None:
        """A chunked body read here up to the limit (None past it), replayed to the app."""
        body = b""
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return receive  # the client went away: the app sees it
            body += message.get("body", b"")
            if len(body) > self.max_body_bytes:
                return None
            if not message.get("more_body", False):
                break
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay

    @staticmethod
    def _log(scope: Scope, method: str, status: int, started: float) -> None:
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        path = "".join(
            c if c.isprintable() and c != " " else f"%{ord(c):02X}" for c in scope.get("path", "")
        )
        client: Any = scope.get("client") or ("-", 0)
        log.info(
            "method=%s path=%s status=%d duration_ms=%.1f client=%s",
            method,
            path,
            status,
            duration_ms,
            client[0],
            extra={
                "http_method": method,
                "http_path": path,
                "http_status": status,
                "duration_ms": duration_ms,
            },
        )
