"""SCPI tools (die bonder, ball attach, dicing saw, laser): the common command set of
README §9.1 and a declarative :class:`Control` for each tool-specific command.

Two rules of the manuals shape every exchange:
- a command has no reply, so after each one the driver reads ``SYSTem:ERRor?`` and raises
  the tool's rejection as a :class:`ToolError` (a set-point that was refused never passes
  silently);
- a query that fails produces no reply: after the query timeout the driver reads
  ``SYSTem:ERRor?`` and raises the queued error, or :class:`ToolTimeout` if the queue is empty.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar, overload

from drivers.base import Tool
from drivers.errors import (
    ConnectionLost,
    ParameterOutOfRange,
    ProtocolError,
    ToolError,
    ToolTimeout,
    tool_error,
)
from drivers.records import (
    AlarmInfo,
    Identity,
    SiteRecord,
    StripSummary,
    check_map,
    parse_site_record,
    parse_summary,
)
from drivers.states import ToolState
from drivers.transports.visa import VisaTransport
from drivers.values import (
    Codec,
    Number,
    check_identifier,
    check_input_map,
    check_strip_size,
    unquote,
)

# SCPI negative codes -> catalogue code (README §7).
_SCPI_TO_CATALOGUE = {
    -113: 10,
    -114: 10,
    -102: 11,
    -104: 12,
    -108: 12,
    -109: 12,
    -224: 12,
    -151: 12,
    -222: 13,
    -221: 14,
}
_ERROR_LINE = re.compile(r'^(-?\d+),"(.*)"$')


@dataclass(frozen=True)
class Progress:
    """``CYCLe:PROGress?``: units done and to do, elapsed and remaining seconds."""

    done: int
    total: int
    elapsed_s: int
    remaining_s: int


@dataclass(frozen=True)
class CycleResult:
    """Everything a finished cycle reports: summary, result map and per-site records."""

    summary: StripSummary
    result_map: str
    records: list[SiteRecord]


@dataclass(frozen=True)
class ScpiErrorEntry:
    """One entry of the error queue: native code and text."""

    code: int
    text: str

    def to_tool_error(self, *, tool: str, address: str, sent: str) -> ToolError:
        text, _, detail = self.text.partition(";")
        catalogue = _SCPI_TO_CATALOGUE.get(self.code, self.code)
        return tool_error(
            catalogue,
            detail,
            text=text,
            native_code=self.code,
            tool=tool,
            address=address,
            sent=sent,
        )


T = TypeVar("T")


class Control(Generic[T]):
    """A declared SCPI setting or reading, in the manner of a manual's command table.

    ``Control("DISPense:VOLume", Number(10, 30000), doc="...")`` reads with
    ``DISPense:VOLume?`` and writes ``DISPense:VOLume 600`` after checking the range.
    Several codecs make a comma-separated tuple (``PLACe:TOLerance <µm>,<deg>``).
    """

    def __init__(
        self, header: str, *codecs: Codec, doc: str, writable: bool = True, readable: bool = True
    ) -> None:
        self.header = header
        self.codecs = codecs
        self.writable = writable
        self.readable = readable
        self.__doc__ = doc
        self.name = header

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type) -> Control[T]: ...

    @overload
    def __get__(self, instance: ScpiTool, owner: type) -> T: ...

    def __get__(self, instance: ScpiTool | None, owner: type) -> Any:
        if instance is None:
            return self
        if not self.readable:
            raise AttributeError(f"{self.name} ({self.header}) is write-only")
        reply = instance.query(f"{self.header}?")
        parts = reply.split(",") if len(self.codecs) > 1 else [reply]
        if len(parts) != len(self.codecs):
            raise ProtocolError(
                f"{self.header}? reply {reply!r} has {len(parts)} fields, expected {len(self.codecs)}",
                tool=instance.tool_name,
                address=instance.address,
                sent=f"{self.header}?",
            )
        try:
            values = [codec.parse(part) for codec, part in zip(self.codecs, parts, strict=True)]
        except ProtocolError as exc:
            raise ProtocolError(
                f"{self.header}? reply {reply!r} malformed ({exc.reason})",
                tool=instance.tool_name,
                address=instance.address,
                sent=f"{self.header}?",
            ) from None
        return values[0] if len(values) == 1 else tuple(values)

    def __set__(self, instance: ScpiTool, value: Any) -> None:
        if not self.writable:
            raise AttributeError(f"{self.name} ({self.header}) is read-only")
        values = value if len(self.codecs) > 1 else (value,)
        if len(values) != len(self.codecs):
            raise TypeError(f"{self.name} takes {len(self.codecs)} values")
        checked = [codec.check(v, self.name) for codec, v in zip(self.codecs, values, strict=True)]
        args = ",".join(codec.format(v) for codec, v in zip(self.codecs, checked, strict=True))
        instance.write(f"{self.header} {args}")

    def describe(self) -> str:
        """Range text for docs and error messages."""
        return ",".join(codec.describe() for codec in self.codecs)


class ScpiTool(Tool):
    """Base of the SCPI drivers: VISA transport, checked commands, the common command set."""

    termination: ClassVar[str] = "\n"
    default_timeout_s: ClassVar[float] = 2.0
    result_timeout_s: ClassVar[float] = 2.0
    result_page_size: ClassVar[int] = 64
    baud_rate: ClassVar[int | None] = None
    #: Record type and value-field converters of ``RESult:DATA?`` for this tool.
    record_type: ClassVar[type[SiteRecord]] = SiteRecord
    record_converters: ClassVar[Sequence[Callable[[str], Any]]] = ()
    #: Converters of the tool-specific trailing summary fields.
    summary_converters: ClassVar[Sequence[Callable[[str], Any]]] = ()

    def __init__(
        self, address: str, *, timeout_s: float | None = None, visa_library: str | None = None
    ) -> None:
        super().__init__(address)
        self.timeout_s = self.default_timeout_s if timeout_s is None else timeout_s
        self.link = VisaTransport(
            address,
            tool=self.tool_name,
            timeout_s=self.timeout_s,
            termination=self.termination,
            visa_library=visa_library,
            baud_rate=self.baud_rate,
            logger=self.log,
        )

    # -- lifecycle ------------------------------------------------------------------
    def connect(self) -> None:
        """Open the session and clear the error queue, so that old errors are not blamed on us."""
        self.link.open()
        self.write("*CLS", check=False)

    def close(self) -> None:
        self.link.close()

    # -- message primitives -----------------------------------------------------------
    def write(self, command: str, *, check: bool = True) -> None:
        """Send a command; with ``check`` read ``SYST:ERR?`` and raise the tool's rejection."""
        with self.link.lock:
            self.link.write(command)
            if check:
                entry = self._next_error(sent=command)
                if entry.code != 0:
                    self._drain_errors(sent=command)
                    raise entry.to_tool_error(
                        tool=self.tool_name, address=self.address, sent=command
                    )

    def query(self, query: str, *, timeout_s: float | None = None) -> str:
        """Send a query and return its reply; a silent query raises the queued tool error."""
        with self.link.lock:
            self.link.write(query)
            try:
                return self.link.read(sent=query, timeout_s=timeout_s)
            except ToolTimeout:
                entry = self._next_error(sent=query)
                if entry.code != 0:
                    self._drain_errors(sent=query)
                    raise entry.to_tool_error(
                        tool=self.tool_name, address=self.address, sent=query
                    ) from None
                raise

    def _next_error(self, *, sent: str) -> ScpiErrorEntry:
        self.link.write("SYST:ERR?")
        try:
            reply = self.link.read(sent=f"SYST:ERR? after {sent}")
        except ToolTimeout as exc:
            # Not even the error queue answers: the link is gone (pyvisa-py reports a closed
            # peer as a read timeout). Reopen it so that the next exchange can succeed.
            with contextlib.suppress(ConnectionLost):
                self.link.reopen()
            raise ConnectionLost(
                "no reply, not even to SYST:ERR?; link reopened",
                tool=self.tool_name,
                address=self.address,
                sent=sent,
            ) from exc
        return _parse_error_line(reply, tool=self.tool_name, address=self.address, sent=sent)

    def _drain_errors(self, *, sent: str) -> None:
        """Empty the rest of the queue so the next command is judged on its own."""
        for _ in range(16):
            self.link.write("SYST:ERR?")
            entry = _parse_error_line(
                self.link.read(sent="SYST:ERR?"),
                tool=self.tool_name,
                address=self.address,
                sent=sent,
            )
            if entry.code == 0:
                return
            self.log.debug("%s: further queued error %s", self.tool_name, entry)

    # -- IEEE 488.2 and SYSTem ---------------------------------------------------------
    def identify(self) -> Identity:
        """``*IDN?``: vendor, model, serial, firmware."""
        reply = self.query("*IDN?")
        try:
            return Identity.parse(reply)
        except ProtocolError as exc:
            raise ProtocolError(
                exc.reason, tool=self.tool_name, address=self.address, sent="*IDN?"
            ) from None

    def reset(self) -> None:
        """``*RST``: back to IDLE, recipe unloaded, parameters to defaults (alarms stay)."""
        self.write("*RST")

    def clear_status(self) -> None:
        """``*CLS``: clear the error queue and ``*ESR``."""
        self.write("*CLS", check=False)

    def operation_complete(self) -> bool:
        """``*OPC?``: True once all preceding sequential commands are complete."""
        return self.query("*OPC?") == "1"

    def event_status(self) -> int:
        """``*ESR?``: standard event status register (cleared on read)."""
        return _parse_int(self.query("*ESR?"), "*ESR?", self)

    def status_byte(self) -> int:
        """``*STB?``: status byte (bit 2 error queue not empty, bit 5 ESR non-zero)."""
        return _parse_int(self.query("*STB?"), "*STB?", self)

    def next_error(self) -> ScpiErrorEntry:
        """``SYSTem:ERRor?``: the oldest queued error, ``0,"No error"`` when empty."""
        with self.link.lock:
            return self._next_error(sent="SYST:ERR?")

    def error_count(self) -> int:
        """``SYSTem:ERRor:COUNt?``."""
        return _parse_int(self.query("SYST:ERR:COUN?"), "SYST:ERR:COUN?", self)

    def state(self) -> ToolState:
        """``SYSTem:STATe?`` (WARMUP is reported as HEATING)."""
        reply = self.query("SYST:STAT?")
        try:
            return ToolState.from_name(reply)
        except KeyError:
            raise ProtocolError(
                f"unknown state {reply!r}",
                tool=self.tool_name,
                address=self.address,
                sent="SYST:STAT?",
            ) from None

    def interlocks(self) -> list[str]:
        """``SYSTem:INTerlock?``: names of the active interlocks (empty list for NONE)."""
        reply = self.query("SYST:INT?")
        return [] if reply == "NONE" else reply.split(",")

    def scpi_version(self) -> str:
        """``SYSTem:VERSion?``."""
        return self.query("SYST:VERS?")

    # -- RECipe ---------------------------------------------------------------------------
    def load_recipe(self, name: str) -> None:
        """``RECipe:LOAD``: load a stored recipe and arm (overlapped: poll the state)."""
        self.write(
            f'RECipe:LOAD "{check_identifier(name, "recipe name", max_len=16, allow_empty=False)}"'
        )

    def unload_recipe(self) -> None:
        """``RECipe:UNLoad``: back to IDLE."""
        self.write("RECipe:UNLoad")

    def save_recipe(self, name: str) -> None:
        """``RECipe:SAVE``: store the working parameters under ``name`` (overwrites)."""
        self.write(
            f'RECipe:SAVE "{check_identifier(name, "recipe name", max_len=16, allow_empty=False)}"'
        )

    def delete_recipe(self, name: str) -> None:
        """``RECipe:DELete``."""
        self.write(
            f'RECipe:DELete "{check_identifier(name, "recipe name", max_len=16, allow_empty=False)}"'
        )

    def recipe_catalog(self) -> list[str]:
        """``RECipe:CATalog?``: stored recipe names in ASCII order."""
        reply = self.query("RECipe:CATalog?")
        if reply == '""':
            return []
        return [unquote(part) for part in reply.split(",")]

    def recipe_name(self) -> tuple[str, bool]:
        """``RECipe:NAME?``: loaded recipe name and whether it was edited since load/save."""
        name = unquote(self.query("RECipe:NAME?"))
        return (name[:-1], True) if name.endswith("*") else (name, False)

    # -- STRip ----------------------------------------------------------------------------
    @property
    def strip_id(self) -> str:
        """``STRip:ID``: the strip id of the next cycle (per-cycle data)."""
        return unquote(self.query("STRip:ID?"))

    @strip_id.setter
    def strip_id(self, value: str) -> None:
        self.write(f'STRip:ID "{check_identifier(value, "strip id")}"')

    @property
    def strip_size(self) -> tuple[int, int]:
        """``STRip:SIZE``: rows, columns (recipe parameter; resets the input map)."""
        rows, cols = _parse_ints(self.query("STRip:SIZE?"), 2, "STRip:SIZE?", self)
        return rows, cols

    @strip_size.setter
    def strip_size(self, value: tuple[int, int]) -> None:
        rows, cols = check_strip_size(*value)
        self.write(f"STRip:SIZE {rows},{cols}")

    @property
    def strip_pitch_mm(self) -> tuple[float, float]:
        """``STRip:PITCh``: site pitch x, y in mm (1.000-50.000)."""
        x, y = _parse_floats(self.query("STRip:PITCh?"), 2, "STRip:PITCh?", self)
        return x, y

    @strip_pitch_mm.setter
    def strip_pitch_mm(self, value: tuple[float, float]) -> None:
        pitch = Number(1.0, 50.0, 3, "mm")
        x, y = (pitch.check(v, "strip pitch") for v in value)
        self.write(f"STRip:PITCh {x:.3f},{y:.3f}")

    @property
    def input_map(self) -> str:
        """``STRip:MAP``: the input map (``1`` process, ``0`` skip)."""
        return unquote(self.query("STRip:MAP?"))

    @input_map.setter
    def input_map(self, value: str) -> None:
        self.write(f'STRip:MAP "{check_input_map(value)}"')

    # -- CYCLe ----------------------------------------------------------------------------
    def start(self) -> None:
        """``CYCLe:STARt`` (overlapped)."""
        self.write("CYCLe:STARt")

    def pause(self) -> None:
        """``CYCLe:PAUSe``: takes effect at the tool's next safe point."""
        self.write("CYCLe:PAUSe")

    def resume(self) -> None:
        """``CYCLe:RESume`` (overlapped)."""
        self.write("CYCLe:RESume")

    def abort(self) -> None:
        """``CYCLe:ABORt`` (overlapped)."""
        self.write("CYCLe:ABORt")

    def acknowledge(self) -> None:
        """``CYCLe:ACKnowledge``: DONE/ABORTED -> READY (or HEATING/WARMUP)."""
        self.write("CYCLe:ACKnowledge")

    def phase(self) -> str:
        """``CYCLe:PHASe?``: tool-specific phase name, ``NONE`` without a cycle."""
        return self.query("CYCLe:PHASe?")

    def progress(self) -> Progress:
        """``CYCLe:PROGress?``."""
        done, total, elapsed, remaining = _parse_ints(
            self.query("CYCLe:PROGress?"), 4, "CYCLe:PROGress?", self
        )
        return Progress(done, total, elapsed, remaining)

    # -- ALARm ----------------------------------------------------------------------------
    def active_alarms(self) -> list[int]:
        """``ALARm:ACTive?``: active alarm codes in order of occurrence."""
        values = _parse_ints(self.query("ALARm:ACTive?"), None, "ALARm:ACTive?", self)
        count, codes = values[0], values[1:]
        if count != len(codes):
            raise ProtocolError(
                f"ALARm:ACTive? count {count} but {len(codes)} codes",
                tool=self.tool_name,
                address=self.address,
            )
        return codes

    def alarm_info(self, code: int) -> AlarmInfo:
        """``ALARm:TEXT? <code>``: class and text."""
        reply = self.query(f"ALARm:TEXT? {int(code)}")
        match = re.match(r'^(\d+),([AHW]),"(.*)"$', reply)
        if not match:
            raise ProtocolError(
                f"ALARm:TEXT? reply {reply!r} malformed", tool=self.tool_name, address=self.address
            )
        return AlarmInfo(int(match.group(1)), match.group(2), match.group(3))

    def clear_alarms(self) -> None:
        """``ALARm:CLEar``: remove alarms whose cause has gone."""
        self.write("ALARm:CLEar")

    # -- RESult ---------------------------------------------------------------------------
    def result_count(self) -> int:
        """``RESult:COUNt?``: records available."""
        return _parse_int(self.query("RESult:COUNt?"), "RESult:COUNt?", self)

    def result_records(self, start: int = 1, count: int | None = None) -> list[SiteRecord]:
        """``RESult:DATA? start,count``: one page of typed per-site records."""
        count = self.result_page_size if count is None else count
        if not 1 <= count <= self.result_page_size:
            raise ParameterOutOfRange(
                f"RESult:DATA? count {count} outside 1..{self.result_page_size}",
                tool=self.tool_name,
                address=self.address,
            )
        # Scaled with the caller's timeout: unchanged at defaults, never past a shorter one.
        timeout_s = self.result_timeout_s * self.timeout_s / self.default_timeout_s
        reply = self.query(f"RESult:DATA? {int(start)},{int(count)}", timeout_s=timeout_s)
        return [
            parse_site_record(self.record_type, line, self.record_converters)
            for line in reply.split(";")
            if line
        ]

    def all_results(self, sites: int) -> list[SiteRecord]:
        """Every record of the last cycle, paged by the tool's page size."""
        records: list[SiteRecord] = []
        while len(records) < sites:
            page = self.result_records(
                len(records) + 1, min(self.result_page_size, sites - len(records))
            )
            if not page:
                raise ProtocolError(
                    f"RESult:DATA? returned no records at {len(records) + 1}",
                    tool=self.tool_name,
                    address=self.address,
                )
            records.extend(page)
        return records

    def result_map(self) -> str:
        """``RESult:MAP?``: one of P F X N per site."""
        text = unquote(self.query("RESult:MAP?"))
        return check_map(text, len(text), what="result map")

    def summary(self) -> StripSummary:
        """``RESult:SUMMary?``: strip summary with the tool-specific fields parsed."""
        return parse_summary(self.query("RESult:SUMMary?"), self.summary_converters)

    def cycle_result(self) -> CycleResult:
        """Summary, map and every record of the finished cycle."""
        summary = self.summary()
        result_map = check_map(self.result_map(), summary.sites, what="result map")
        return CycleResult(summary, result_map, self.all_results(summary.sites))


def _parse_error_line(reply: str, *, tool: str, address: str, sent: str) -> ScpiErrorEntry:
    match = _ERROR_LINE.match(reply.strip())
    if not match:
        raise ProtocolError(
            f"SYST:ERR? reply {reply!r} malformed", tool=tool, address=address, sent=sent
        )
    return ScpiErrorEntry(int(match.group(1)), match.group(2))


def _parse_int(reply: str, sent: str, tool: Tool) -> int:
    return _parse_ints(reply, 1, sent, tool)[0]


def _parse_ints(reply: str, count: int | None, sent: str, tool: Tool) -> list[int]:
    try:
        values = [int(part) for part in reply.split(",")]
    except ValueError:
        raise ProtocolError(
            f"reply {reply!r} is not integers", tool=tool.tool_name, address=tool.address, sent=sent
        ) from None
    if count is not None and len(values) != count:
        raise ProtocolError(
            f"reply {reply!r} has {len(values)} fields, expected {count}",
            tool=tool.tool_name,
            address=tool.address,
            sent=sent,
        )
    return values


def _parse_floats(reply: str, count: int, sent: str, tool: Tool) -> list[float]:
    try:
        values = [float(part) for part in reply.split(",")]
    except ValueError:
        raise ProtocolError(
            f"reply {reply!r} is not numbers", tool=tool.tool_name, address=tool.address, sent=sent
        ) from None
    if len(values) != count:
        raise ProtocolError(
            f"reply {reply!r} has {len(values)} fields, expected {count}",
            tool=tool.tool_name,
            address=tool.address,
            sent=sent,
        )
    return values
