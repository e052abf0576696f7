"""SCPI tools (die bonder, ball attach, dicing saw, laser): the common command set of
README §9.1 and a declared :class:`~drivers.settings.Setting` for each tool-specific command.

Two rules of the manuals shape every exchange:
- a command has no reply, so after each one (or each group of set-points,
  :meth:`ScpiTool.grouped_checks`) the driver reads ``SYSTem:ERRor?`` and raises the tool's
  rejection as a :class:`ToolError` (a set-point that was refused never passes silently);
- a query that fails produces no reply: after the query timeout the driver reads
  ``SYSTem:ERRor?`` and raises the queued error, or :class:`ToolTimeout` if the queue is empty.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from drivers.errors import (
    ConnectionLost,
    ParameterOutOfRange,
    ToolError,
    ToolTimeout,
    tool_error,
)
from drivers.records import (
    AlarmInfo,
    SiteRecord,
    StripSummary,
    check_map,
    parse_result_map,
    parse_site_records,
    parse_summary,
)
from drivers.settings import INDEX_PLACEHOLDER, Command, Reading, Setting
from drivers.states import ToolState
from drivers.text_tool import TextTool
from drivers.transports.visa import VisaTransport
from drivers.values import (
    ALARM_CLASS,
    INTEGER,
    PITCH_MM,
    RECIPE_NAME,
    STRIP_COLS,
    STRIP_ROWS,
    InputMap,
    Quoted,
    StateName,
    Text,
    check_strip_size,
    quoted_names,
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

    def to_tool_error(self, **where: str) -> ToolError:
        """The catalogue error of this entry (``where``: the tool, address and what was sent)."""
        text, _, detail = self.text.partition(";")
        catalogue = _SCPI_TO_CATALOGUE.get(self.code, self.code)
        return tool_error(catalogue, detail, text=text, native_code=self.code, **where)


class ScpiTool(TextTool):
    """Base of the SCPI drivers: VISA transport, checked commands, the common command set."""

    identity_query = "*IDN?"
    alarms_query = "ALARm:ACTive?"

    termination: ClassVar[str] = "\n"
    default_timeout_s: ClassVar[float] = 2.0
    result_timeout_s: ClassVar[float] = 2.0
    result_page_size: ClassVar[int] = 64
    baud_rate: ClassVar[int | None] = None
    #: Record type of ``RESult:DATA?`` for this tool (its values read as its fields are typed).
    record_type: ClassVar[type[SiteRecord]] = SiteRecord
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
        #: Set-point commands sent in a group and not yet checked, and the group's thread.
        self._unchecked: list[str] = []
        self._group_thread: int | None = None
        #: A refusal of the group's set-points found by another thread's message: the
        #: group's own thread raises it at its next message.
        self._group_error: ToolError | None = None

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
            self._check_group()
            self.link.write(command)
            if check:
                self._raise_queued_error(sent=command)

    def command(self, text: str) -> None:
        """A checked command (what a declared :class:`Setting` or :class:`Command` sends); a
        set-point inside :meth:`grouped_checks` is checked with the rest of its group."""
        if self._group_thread != threading.get_ident() or not self._is_setpoint(text):
            self.write(text)
            return
        with self.link.lock:
            self._raise_group_error()
            self.link.write(text)
            self._unchecked.append(text)

    @contextlib.contextmanager
    def grouped_checks(self) -> Iterator[None]:
        """Check the set-point commands this thread sends inside together: one ``SYST:ERR?``
        before the next query or other command, and on leaving.

        An error line does not name the command it came from (README §9.1, §7), so when the
        group's check finds one the queue is drained and the group is sent again one by one,
        each checked: the error raised names the setting, as without grouping. Set-points
        are idempotent and sent again in order, so the tool ends as the group left it.
        Actions (start, recipe load, acknowledge) are never deferred."""
        if self._group_thread is not None:
            yield  # nested, or another thread's group: commands are checked as usual
            return
        self._group_thread = threading.get_ident()
        try:
            yield
            with self.link.lock:
                self._check_group()
        finally:
            self._group_thread = None
            self._unchecked.clear()
            self._group_error = None

    def _raise_group_error(self) -> None:
        """In the group's thread: raise a refusal another thread's check found."""
        error = self._group_error
        if error is not None and self._group_thread == threading.get_ident():
            self._group_error = None
            raise error

    def _check_group(self) -> None:
        """Check the unchecked set-points of the group (caller holds the link's lock). A
        refusal goes to the group's thread: another thread's message checks the group before
        it is sent (its own error must not be blamed on the group's) but does not raise it."""
        self._raise_group_error()
        if not self._unchecked:
            return
        try:
            self._check_unchecked()
        except ToolError as refusal:
            if self._group_thread == threading.get_ident():
                raise
            self._group_error = refusal

    def _check_unchecked(self) -> None:
        group, self._unchecked = self._unchecked, []
        try:
            self._raise_queued_error(sent=group[-1])
            return
        except ToolError as exc:
            refusal = exc
        self.log.debug("%s, after a group of %d: sent one by one", refusal, len(group))
        for text in group:
            self.link.write(text)
            self._raise_queued_error(sent=text)
        # Each one took on its own: the group's error was passing (21 Busy at the end of a
        # SETUP); the tool now holds every value sent.
        self.log.warning("%s, after a group of set-points: none refused when sent again", refusal)

    @classmethod
    def _setpoint_headers(cls) -> re.Pattern[str]:
        """The headers of every :class:`Setting` the driver declares, as one pattern."""
        cached = cls.__dict__.get("_setpoint_pattern")
        if cached is None:
            keys = {
                member.key
                for klass in cls.__mro__
                for member in vars(klass).values()
                if isinstance(member, Setting) and member.writable
            }
            alternatives = sorted(INDEX_PLACEHOLDER.sub(r"\\d+", re.escape(key)) for key in keys)
            cached = re.compile("|".join(alternatives) or "(?!)", re.IGNORECASE)
            cls._setpoint_pattern = cached  # type: ignore[attr-defined]
        return cached

    def _is_setpoint(self, text: str) -> bool:
        return self._setpoint_headers().fullmatch(text.split(" ", 1)[0]) is not None

    def query(self, query: str, *, timeout_s: float | None = None) -> str:
        """Send a query and return its reply; a silent query raises the queued tool error."""
        with self.link.lock:
            self._check_group()
            self.link.write(query)
            try:
                return self.link.read(sent=query, timeout_s=timeout_s)
            except ToolTimeout:
                self._raise_queued_error(sent=query, after_timeout=True)
                raise

    def _raise_queued_error(self, *, sent: str, after_timeout: bool = False) -> None:
        """Raise the tool's rejection of ``sent`` if ``SYST:ERR?`` holds one (queue drained)."""
        entry = self._next_error(sent=sent, after_timeout=after_timeout)
        if entry.code != 0:
            self._drain_errors(sent=sent)
            raise entry.to_tool_error(**self.where(sent)) from None

    def _next_error(self, *, sent: str, after_timeout: bool = False) -> ScpiErrorEntry:
        """``SYST:ERR?`` after ``sent``. When ``sent`` was a query that timed out
        (``after_timeout``), its reply may still come first (it was on its way when the timeout
        struck): it is discarded, never taken for the error line. The tool answers in order, so
        once the error line is read nothing late is left."""
        self.link.write("SYST:ERR?")
        reply = self._error_reply(sent)
        if after_timeout and not _ERROR_LINE.match(reply.strip()):
            self.log.debug("%s: discarded the late reply %r to %s", self.tool_name, reply, sent)
            with contextlib.suppress(ConnectionLost):
                reply = self._error_reply(sent)
        return self._error_entry(reply, sent)

    def _error_reply(self, sent: str) -> str:
        try:
            return self.link.read(sent=f"SYST:ERR? after {sent}")
        except ToolTimeout as exc:
            # Not even the error queue answers: the link is gone (pyvisa-py reports a closed
            # peer as a read timeout). Reopen it so that the next exchange can succeed.
            with contextlib.suppress(ConnectionLost):
                self.link.reopen()
            raise self.error(
                ConnectionLost, "no reply, not even to SYST:ERR?; link reopened", sent
            ) from exc

    def _drain_errors(self, *, sent: str) -> None:
        """Empty the rest of the queue so the next command is judged on its own."""
        for _ in range(16):
            self.link.write("SYST:ERR?")
            entry = self._error_entry(self.link.read(sent="SYST:ERR?"), sent)
            if entry.code == 0:
                return
            self.log.debug("%s: further queued error %s", self.tool_name, entry)

    def _error_entry(self, reply: str, sent: str) -> ScpiErrorEntry:
        """The error queue entry of a ``SYST:ERR?`` reply; ProtocolError if malformed."""
        match = _ERROR_LINE.match(reply.strip())
        if not match:
            raise self.protocol_error(f"SYST:ERR? reply {reply!r} malformed", sent)
        return ScpiErrorEntry(int(match.group(1)), match.group(2))

    # -- IEEE 488.2 and SYSTem ---------------------------------------------------------
    reset = Command(
        "*RST", doc="``*RST``: back to IDLE, recipe unloaded, parameters to defaults (alarms stay)."
    )

    def clear_status(self) -> None:
        """``*CLS``: clear the error queue and ``*ESR``."""
        self.write("*CLS", check=False)

    def operation_complete(self) -> bool:
        """``*OPC?``: True once all preceding sequential commands are complete."""
        return self.query("*OPC?") == "1"

    event_status = Reading(
        "*ESR?", int, INTEGER, doc="``*ESR?``: standard event status register (cleared on read)."
    )
    status_byte = Reading(
        "*STB?",
        int,
        INTEGER,
        doc="``*STB?``: status byte (bit 2 error queue not empty, bit 5 ESR non-zero).",
    )

    def next_error(self) -> ScpiErrorEntry:
        """``SYSTem:ERRor?``: the oldest queued error, ``0,"No error"`` when empty."""
        with self.link.lock:
            self._check_group()
            return self._next_error(sent="SYST:ERR?")

    error_count = Reading("SYST:ERR:COUN?", int, INTEGER, doc="``SYSTem:ERRor:COUNt?``.")
    state = Reading(
        "SYST:STAT?", ToolState, StateName(), doc="``SYSTem:STATe?`` (WARMUP read as HEATING)."
    )

    def interlocks(self) -> list[str]:
        """``SYSTem:INTerlock?``: names of the active interlocks (empty list for NONE)."""
        reply = self.query("SYST:INT?")
        return [] if reply == "NONE" else reply.split(",")

    scpi_version = Reading("SYST:VERS?", str, Text(), doc="``SYSTem:VERSion?``.")

    # -- RECipe ---------------------------------------------------------------------------
    load_recipe = Command(
        "RECipe:LOAD {}",
        RECIPE_NAME,
        what="recipe name",
        doc="``RECipe:LOAD``: load a stored recipe and arm (overlapped: poll the state).",
    )

    unload_recipe = Command("RECipe:UNLoad", doc="``RECipe:UNLoad``: back to IDLE.")

    save_recipe = Command(
        "RECipe:SAVE {}",
        RECIPE_NAME,
        what="recipe name",
        doc="``RECipe:SAVE``: store the working parameters under ``name`` (overwrites).",
    )

    delete_recipe = Command(
        "RECipe:DELete {}", RECIPE_NAME, what="recipe name", doc="``RECipe:DELete``."
    )

    def recipe_catalog(self) -> list[str]:
        """``RECipe:CATalog?``: stored recipe names in ASCII order."""
        return quoted_names(self.query("RECipe:CATalog?"))

    def recipe_name(self) -> tuple[str, bool]:
        """``RECipe:NAME?``: loaded recipe name and whether it was edited since load/save."""
        name = unquote(self.query("RECipe:NAME?"))
        return (name[:-1], True) if name.endswith("*") else (name, False)

    # -- STRip ----------------------------------------------------------------------------
    strip_id = Setting[str](
        "STRip:ID", Quoted(20), doc="``STRip:ID``: the strip id of the next cycle (per-cycle data)."
    )
    strip_size = Setting[tuple[int, int]](
        "STRip:SIZE",
        STRIP_ROWS,
        STRIP_COLS,
        validate=check_strip_size,
        doc="``STRip:SIZE``: rows, columns (recipe parameter; resets the input map).",
    )
    strip_pitch_mm = Setting[tuple[float, float]](
        "STRip:PITCh",
        PITCH_MM,
        PITCH_MM,
        doc="``STRip:PITCh``: site pitch x, y in mm (1.000-50.000).",
    )
    input_map = Setting[str](
        "STRip:MAP", InputMap(), doc="``STRip:MAP``: the input map (``1`` process, ``0`` skip)."
    )

    # -- CYCLe ----------------------------------------------------------------------------
    start = Command("CYCLe:STARt", doc="``CYCLe:STARt`` (overlapped).")

    pause = Command(
        "CYCLe:PAUSe", doc="``CYCLe:PAUSe``: takes effect at the tool's next safe point."
    )

    resume = Command("CYCLe:RESume", doc="``CYCLe:RESume`` (overlapped).")

    abort = Command("CYCLe:ABORt", doc="``CYCLe:ABORt`` (overlapped).")

    acknowledge = Command(
        "CYCLe:ACKnowledge", doc="``CYCLe:ACKnowledge``: DONE/ABORTED -> READY (or HEATING/WARMUP)."
    )

    def phase(self) -> str:
        """``CYCLe:PHASe?``: tool-specific phase name, ``NONE`` without a cycle."""
        return self.query("CYCLe:PHASe?")

    progress = Reading("CYCLe:PROGress?", Progress, INTEGER, INTEGER, INTEGER, INTEGER)

    # -- ALARm ----------------------------------------------------------------------------
    alarm_info = Reading(
        "ALARm:TEXT? {0}",
        AlarmInfo,
        INTEGER,
        ALARM_CLASS,
        Quoted(1000),
        maxsplit=2,
        doc="``ALARm:TEXT? <code>``: class and quoted text of an alarm (after its code).",
    )

    clear_alarms = Command(
        "ALARm:CLEar", doc="``ALARm:CLEar``: remove alarms whose cause has gone."
    )

    # -- RESult ---------------------------------------------------------------------------
    result_count = Reading(
        "RESult:COUNt?", int, INTEGER, doc="``RESult:COUNt?``: records available."
    )

    def result_records(self, start: int = 1, count: int | None = None) -> list[SiteRecord]:
        """``RESult:DATA? start,count``: one page of typed per-site records."""
        count = self.result_page_size if count is None else count
        if not 1 <= count <= self.result_page_size:
            raise self.error(
                ParameterOutOfRange,
                f"RESult:DATA? count {count} outside 1..{self.result_page_size}",
            )
        # Scaled with the caller's timeout: unchanged at defaults, never past a shorter one.
        timeout_s = self.result_timeout_s * self.timeout_s / self.default_timeout_s
        reply = self.query(f"RESult:DATA? {int(start)},{int(count)}", timeout_s=timeout_s)
        return parse_site_records(self.record_type, reply)

    def all_results(self, sites: int) -> list[SiteRecord]:
        """Every record of the last cycle, paged by the tool's page size."""
        return self.read_pages(self.result_records, sites, self.result_page_size, "RESult:DATA?")

    def result_map(self) -> str:
        """``RESult:MAP?``: one of P F X N per site."""
        return parse_result_map(unquote(self.query("RESult:MAP?")))

    def summary(self) -> StripSummary:
        """``RESult:SUMMary?``: strip summary with the tool-specific fields parsed."""
        return parse_summary(self.query("RESult:SUMMary?"), self.summary_converters)

    def cycle_result(self) -> CycleResult:
        """Summary, map and every record of the finished cycle."""
        summary = self.summary()
        result_map = check_map(self.result_map(), summary.sites, what="result map")
        return CycleResult(summary, result_map, self.all_results(summary.sites))
