"""configs/line.yaml: the line's stations (tool, count, address, simulator options)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sequences.config_errors import load_yaml, validate_model

ToolName = Literal[
    "laminator",
    "die-bonder",
    "wire-bonder",
    "mold-press",
    "etch-bath",
    "ball-attach",
    "dicing-saw",
    "laser",
    "metrology",
]

DEFAULT_LINE_CONFIG = Path(__file__).resolve().parent.parent / "configs" / "line.yaml"


class StationEntry(BaseModel):
    """One entry of the config: a station, or ``count`` identical stations."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=40)
    tool: ToolName
    count: int = Field(default=1, ge=1, le=16)
    address: str | None = None
    addresses: list[str] | None = None
    sim: dict[str, Any] = Field(default_factory=dict)
    #: What the station does when its tool alarms mid-cycle (sequences.station.AlarmPolicy).
    on_alarm: Literal["retry", "abort-strip", "wait"] = "retry"
    #: How long (tool seconds) ``retry`` waits for an alarm's cause to go before aborting.
    retry_tool_s: float = Field(default=3600.0, gt=0, le=86400)

    @model_validator(mode="after")
    def _addresses_match_count(self) -> StationEntry:
        if self.address is not None and self.addresses is not None:
            raise ValueError("give either address or addresses, not both")
        if self.addresses is not None and len(self.addresses) != self.count:
            raise ValueError(f"addresses has {len(self.addresses)} entries for count {self.count}")
        if self.address is not None and self.count != 1:
            raise ValueError("a single address needs count 1; use addresses for several stations")
        return self


class Station(BaseModel):
    """A concrete station after expanding ``count``."""

    name: str
    tool: ToolName
    address: str | None
    sim: dict[str, Any]
    on_alarm: str = "retry"
    retry_tool_s: float = 3600.0


class LineConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line: str = "line"
    stations: list[StationEntry] = Field(min_length=1)
    #: The SECS/GEM equipment interface of ``packline serve`` (port, device id, HSMS timers);
    #: checked by packline.gem.settings, documented in docs/gem.md.
    gem: dict[str, Any] = Field(default_factory=dict)
    #: The MQTT front of ``packline serve`` (broker url, queue limit, keep-alive); checked by
    #: packline.mqtt.settings, documented in docs/mqtt.md.
    mqtt: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _unique_station_names(self) -> LineConfig:
        names = [s.name for s in self.expanded()]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate station names: {', '.join(duplicates)}")
        return self

    def expanded(self) -> list[Station]:
        """Stations one by one: ``count: 2`` of ``wire-bonder`` -> wire-bonder-1, wire-bonder-2."""
        stations = []
        for entry in self.stations:
            for index in range(entry.count):
                name = entry.name if entry.count == 1 else f"{entry.name}-{index + 1}"
                address = entry.address if entry.addresses is None else entry.addresses[index]
                fields = entry.model_dump(include=set(Station.model_fields) - {"name", "address"})
                stations.append(Station(name=name, address=address, **fields))
        return stations

    def station(self, name: str) -> Station:
        for station in self.expanded():
            if station.name == name:
                return station
        raise KeyError(f"no station {name!r} in line {self.line!r}")


def load_line_config(path: str | Path | None = None) -> LineConfig:
    """Load and validate a line config; :class:`ConfigError` lists every problem."""
    path = Path(path) if path is not None else DEFAULT_LINE_CONFIG
    return validate_model(LineConfig, load_yaml(path), str(path))
