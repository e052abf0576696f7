"""A small HTTP client of the daemon's API: JSON in and out, the daemon's errors as exceptions."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

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
    """Requests to one daemon. The token goes only with POSTs (reads are open); proxies from the
    environment are ignored: the daemon is on the line's own network, usually on loopback."""

    def __init__(self, url: str, token: str | None, *, timeout_s: float = TIMEOUT_S) -> None:
        self.url = check_url(url)
        self.token = token
        self.timeout_s = timeout_s
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def get(self, path: str, query: dict[str, str] | None = None) -> Any:
        return self._request("GET", path + (f"?{urlencode(query)}" if query else ""), None)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._request("POST", path, body or {})

    def _request(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
            if self.token:
                headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url + path, data, headers, method=method)
        try:
            with self._opener.open(request, timeout=self.timeout_s) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise self._refusal(exc) from None
        except urllib.error.URLError as exc:
            raise DaemonUnreachable(self.url, self._reason(exc.reason)) from None
        except (TimeoutError, ConnectionError, http.client.HTTPException) as exc:
            raise DaemonUnreachable(self.url, self._reason(exc)) from None
        try:
            return json.loads(raw)
        except ValueError:
            raise DaemonUnreachable(self.url, "the answer is not JSON") from None

    def _reason(self, reason: object) -> str:
        if isinstance(reason, ConnectionRefusedError):
            return "connection refused: is 'packline serve' running?"
        if isinstance(reason, TimeoutError):
            return f"no answer within {self.timeout_s:g} s"
        return str(reason) or type(reason).__name__

    def _refusal(self, exc: urllib.error.HTTPError) -> Exception:
        try:
            answer = json.loads(exc.read())
            message, problems = str(answer["error"]), [str(p) for p in answer.get("problems", [])]
        except (ValueError, KeyError, TypeError, AttributeError, OSError):
            return DaemonUnreachable(self.url, f"HTTP {exc.code} {exc.reason} without a JSON error")
        return DaemonRefused(exc.code, message, problems)
