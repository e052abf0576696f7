"""The GEM interface's settings: the line config's ``gem:`` section, overridden by the
command line (``--hsms-port``), checked with the ranges of the equipment constants."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from packline.gem.catalogue import CONSTANTS
from sequences.config_errors import ConfigError, describe_errors

_RANGE = {c.name: (c.min_value, c.max_value, c.default) for c in CONSTANTS}


def _timer(name: str) -> Any:
    low, high, default = _RANGE[name]
    return Field(default=default, ge=low, le=high)


class GemSettings(BaseModel):
    """``gem:`` of configs/line.yaml. Without a port nothing listens."""

    model_config = ConfigDict(extra="forbid")

    port: int | None = Field(default=None, ge=1, le=65535)
    device_id: int = Field(default=0, ge=0, le=32767)
    #: E30 online substate after the host's S1F17: remote (host commands) or local (refused).
    online_substate: Literal["remote", "local"] = "remote"
    t3_s: int = _timer("T3ReplyTimeout")
    t6_s: int = _timer("T6ControlTimeout")
    t7_s: int = _timer("T7NotSelectedTimeout")
    t8_s: int = _timer("T8NetworkIntercharacterTimeout")
    linktest_s: int = _timer("LinktestInterval")
    enable_spooling: bool = True
    #: The packline user the factory host acts as: once the API has users, a recipe download
    #: (S7F3) needs this user to have the engineer role.
    user: str | None = None

    @model_validator(mode="after")
    def _t6_below_linktest(self) -> GemSettings:
        if self.t6_s >= self.linktest_s:
            raise ValueError("t6_s must be shorter than linktest_s")
        return self


def gem_settings(
    section: dict[str, Any], source: str, *, port: int | Literal["none"] | None
) -> GemSettings:
    """The checked settings; ``port`` (the command line's) wins over the config's: a number
    listens there, ``"none"`` turns GEM off, None keeps the config's."""
    data = dict(section)
    if port is not None:
        data["port"] = None if port == "none" else port
    try:
        return GemSettings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, [f"gem.{p}" for p in describe_errors(exc)]) from exc
