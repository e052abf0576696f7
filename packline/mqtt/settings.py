"""The MQTT front's settings: the line config's ``mqtt:`` section, overridden by ``--mqtt URL``
(or ``PACKLINE_MQTT``), checked before the daemon touches a tool."""

from __future__ import annotations

import urllib.parse
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sequences.config_errors import ConfigError, describe_errors

DEFAULT_PORT = 1883
#: Characters MQTT gives a meaning in topic names: a line name with one cannot be a topic level.
TOPIC_SPECIALS = ("/", "+", "#", "\0")


class MqttSettings(BaseModel):
    """``mqtt:`` of configs/line.yaml. Without a url nothing is published."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = None
    #: Messages kept for the broker at most (per line); past it the oldest are dropped.
    queue_limit: int = Field(default=100_000, ge=1, le=10_000_000)
    #: MQTT keep-alive: how soon the broker notices a daemon that went silent without closing
    #: its connection (1.5 x this) and publishes the last will.
    keepalive_s: int = Field(default=10, ge=2, le=600)

    def broker(self) -> tuple[str, int]:
        """``(host, port)`` of the url (checked by :func:`mqtt_settings`)."""
        parts = urllib.parse.urlsplit(self.url or "")
        return str(parts.hostname), parts.port or DEFAULT_PORT


def _check_url(url: str) -> str | None:
    """What is wrong with ``url`` as a broker address, or None."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"{url!r}: {exc}"
    if parts.scheme != "mqtt":
        return f"{url!r}: give mqtt://HOST:PORT (scheme {parts.scheme or 'missing'} not served)"
    if not parts.hostname:
        return f"{url!r}: no host (give mqtt://HOST:PORT)"
    if port == 0:
        return f"{url!r}: port 0 is not a broker's port"
    if parts.path not in ("", "/") or parts.query or parts.username:
        return f"{url!r}: only mqtt://HOST:PORT is understood (no path, query or user)"
    return None


def mqtt_settings(
    section: dict[str, Any], source: str, *, url: str | None, line: str
) -> MqttSettings:
    """The checked settings; ``url`` (command line, else PACKLINE_MQTT) wins over the config's;
    ``"none"`` publishes nothing whatever the config says."""
    data = dict(section)
    if url:
        data["url"] = None if url == "none" else url
    try:
        settings = MqttSettings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, [f"mqtt.{p}" for p in describe_errors(exc)]) from exc
    if settings.url is None:
        return settings
    problems = []
    wrong_url = _check_url(settings.url)
    if wrong_url:
        problems.append(f"mqtt url {wrong_url}")
    if not line or any(c in line for c in TOPIC_SPECIALS):
        problems.append(f"line name {line!r} cannot be an MQTT topic level (no / + # or NUL)")
    if problems:
        raise ConfigError("--mqtt" if url else source, problems)
    return settings
