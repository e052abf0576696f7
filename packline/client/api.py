"""A small HTTP client of the daemon's API (httpx): JSON in and out, its errors as exceptions."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

import httpx

DEFAULT_URL = "http://127.0.0.1:8765"
URL_ENV = "PACKLINE_URL"
TIMEOUT_S = 30.0


class DaemonUnreachable(Exception):
    """No answer from a packline daemon at the URL (not running, wrong address, not packline)."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"no packline daemon answering at {url} ({reason})")


class DaemonRefused(Exception):
    """The daemon answered with an error status: its message and the problems it listed."""

    def __init__(self, status: int, message: str, problems: list[str]) -> None:
        self.status = status
        self.message = message
        self.problems = problems
        super().__init__(f"{message} (HTTP {status})")


def check_url(url: str) -> str:
    """The base URL without a trailing slash; ValueError unless it is ``http(s)://HOST[:PORT]``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"the daemon URL must look like {DEFAULT_URL}, got {url!r}")
    return url.rstrip("/")


def path_of(*segments: str | int) -> str:
    """``/lots/L%2F1``: each segment quoted whole, so that an id cannot add a path level."""
    return "".join("/" + quote(str(segment), safe="") for segment in segments)


class DaemonClient:
    """Requests to one daemon. The token goes only with commands (reads are open on loopback);
    proxies from the environment are ignored (``trust_env=False``): the daemon is on the
    line's own network, usually on loopback, and the token must not go through a proxy."""

    def __init__(self, url: str, token: str | None, *, timeout_s: float = TIMEOUT_S) -> None:
        self.url = check_url(url)
        self.token = token
        self.timeout_s = timeout_s
        self._http = httpx.Client(base_url=self.url, timeout=timeout_s, trust_env=False)

    def get(self, path: str, query: dict[str, str] | None = None) -> Any:
        return self._json(self._send("GET", path, query=query))

    def get_bytes(self, path: str, query: dict[str, str] | None = None) -> bytes:
        """A non-JSON answer (HTML, CSV, PNG) as it came."""
        return self._send("GET", path, query=query).content

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._json(self._send("POST", path, body=body or {}))

    def put(self, path: str, body: dict[str, Any]) -> Any:
        return self._json(self._send("PUT", path, body=body))

    def close(self) -> None:
        self._http.close()

    def _send(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> httpx.Response:
        headers = {"Accept": "application/json"}
        if body is not None and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = self._http.request(method, path, params=query, json=body, headers=headers)
        except httpx.TimeoutException:
            raise DaemonUnreachable(self.url, f"no answer within {self.timeout_s:g} s") from None
        except httpx.ConnectError as exc:
            reason = str(exc)
            if "refused" in reason.lower():
                reason = "connection refused: is 'packline serve' running?"
            raise DaemonUnreachable(self.url, reason or "cannot connect") from None
        except httpx.HTTPError as exc:
            raise DaemonUnreachable(self.url, str(exc) or type(exc).__name__) from None
        if response.status_code >= 400:
            raise self._refusal(response)
        return response

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise DaemonUnreachable(self.url, "the answer is not JSON") from None

    def _refusal(self, response: httpx.Response) -> Exception:
        try:
            answer = response.json()
            message, problems = str(answer["error"]), [str(p) for p in answer.get("problems", [])]
        except (ValueError, KeyError, TypeError, AttributeError):
            return DaemonUnreachable(
                self.url,
                f"HTTP {response.status_code} {response.reason_phrase} without a JSON error",
            )
        return DaemonRefused(response.status_code, message, problems)
