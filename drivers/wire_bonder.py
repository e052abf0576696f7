"""WB-3 wire bonder driver. Host interface: wire-bonder.md (framed RS-232 ASCII, 115200 8N1).
The link layer (sequence digits, checksums, retransmission, ``LASTERR?`` after a rejection) is
:mod:`drivers.transports.framed_link`. A whole cycle: docs/tools/wire-bonder.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeVar

from drivers.errors import ParameterOutOfRange
from drivers.heat_up import HeatUpLaw
from drivers.records import (
    AlarmInfo,
    SiteRecord,
    StripSummary,
    alarms,
    check_map,
    defects,
    parse_site_records,
    parse_summary,
)
from drivers.setpoints import SetPoints
from drivers.settings import Command, Reading, Setting
from drivers.states import ToolState
from drivers.text_tool import TextTool
from drivers.transports.framed_link import FramedLink
from drivers.values import (
    ALARM_CLASS,
    INTEGER,
    PITCH_MM,
    REAL,
    STRIP_COLS,
    STRIP_ROWS,
    Choice,
    Identifier,
    Number,
    StateName,
    Text,
    check_input_map,
    check_strip_size,
)

MAP_PIECE = 200  # §4.1: MAP, MAP?, RMAP? carry up to 200 characters
RES_PAGE = 4  # §4.1: RES? count 1-4
PHASES = ("NONE", "LOAD", "ALIGN", "BOND", "UNLOAD")
PROGRAM_NAME = Identifier(16)  # README §3 names, sent bare


@dataclass(frozen=True)
class WireBonderStatus:
    """``STAT?``: state, phase, current unit (0 if none), units done / to do, active alarms."""

    state: ToolState
    phase: str
    site: int
    done: int
    total: int
    alarm_count: int


@dataclass(frozen=True)
class ProgramInfo:
    """``PROG?``: loaded program (``""`` if none), wires per unit, edited since load/save."""

    name: str
    wires: int
    edited: bool

    @classmethod
    def from_reply(cls, name: str, wires: int) -> ProgramInfo:
        """``<name>[*],<wires>``: a trailing ``*`` marks an edited program."""
        return cls(name.rstrip("*"), wires, name.endswith("*"))


@dataclass(frozen=True)
class StageTemperature:
    """``TEMP?``: stage actual and set-point, °C."""

    pv_c: float
    sp_c: float


@dataclass(frozen=True)
class Consumables:
    """``CONS?``: capillary bond counter and its limit, wire left on the spool (m)."""

    capillary_bonds: int
    capillary_limit_bonds: int
    wire_left_m: float


@dataclass(frozen=True)
class LastError:
    """``LASTERR?``: the last rejection (code 0 = none), catalogue text and detail."""

    code: int
    text: str
    detail: str

    @classmethod
    def from_reply(cls, code: int, text: str) -> LastError:
        """``<code>,<text>[;<detail>]``."""
        message, _, detail = text.partition(";")
        return cls(code, message, detail)


@dataclass(frozen=True)
class WireBondRecord(SiteRecord):
    """``RES?`` record (§5); value fields are None for X and N sites (and FAB/loop of 3505)."""

    wires_bonded: int | None
    wires_total: int | None
    nsop: int | None
    nsol: int | None
    mean_fab_um: float | None
    mean_loop_um: int | None


@dataclass(frozen=True)
class WireBondSummary(StripSummary):
    """``RSUM?``: the README §8 summary plus the wires bonded on the strip."""

    wires_bonded: int = 0


@dataclass(frozen=True)
class WireBondResult:
    """Everything a finished cycle reports."""

    summary: WireBondSummary
    result_map: str
    records: list[WireBondRecord]


T = TypeVar("T")


class Par(Setting[T]):
    """A §4.2 parameter: read with ``PAR? <name>`` (the reply repeats the name), written with
    ``PAR <name>,<value>`` after the driver checked the manual's range."""

    query_form = "PAR? {key}"
    command_form = "PAR {key},{args}"
    echoes_key = True


class WireBonder(TextTool):
    """WB-3 automatic thermosonic ball-stitch bonder (wire-bonder.md). Unit of work: a strip."""

    identity_query = "IDN?"
    alarms_query = "ALM?"

    tool_name = "wire-bonder"
    model = "WB-3"
    poll_interval_s = 0.2
    #: wire-bonder.md §8: heating at 20 °C/min; §3: READY after 30 s within ±3.0 °C.
    heat_up_law = HeatUpLaw(rate_c_per_min=20.0, stable_s=30.0)
    stage_band_c = 3.0
    interlock_names = ("DOOR", "AIR", "GAS", "TEMP", "CAPILLARY", "WIRE")
    alarm_table = alarms("""
        3001 A Emergency stop
        3002 A Cover opened during cycle
        3003 H Forming gas flow low
        3004 H Compressed air low
        3101 H NSOP limit
        3102 H NSOL limit
        3103 H Short tail limit
        3104 H Wire break / fly-out
        3105 H EFO / FAB fail
        3106 H Ultrasonic impedance out of range
        3107 H Stage temperature out of band
        3108 H Capillary life reached
        3109 H Wire spool empty
        3110 A Strip fiducial not found
        3111 A Heater fault
        3201 W Capillary life 90 %
        3202 W Wire spool low
    """)
    defect_texts = defects("""
        3501 NSOP (ball bond did not stick)
        3502 NSOL (stitch did not stick)
        3503 short tail
        3504 wire break / fly-out in this unit
        3505 unit fiducial not found, unit not bonded
        3506 FAB diameter out of tolerance
        3507 loop height out of tolerance
        3508 unit interrupted by abort
    """)

    # -- parameters (§4.2), manual order -----------------------------------------------------------
    wire_material = Par[str](
        "WIRE_MAT", Choice(("AU", "CU")), doc="WIRE_MAT: AU or CU (Cu requires forming gas)."
    )
    wire_diameter_um = Par[int]("WIRE_D", Number(18, 50, 0, "µm"), doc="WIRE_D: wire diameter, µm.")
    stage_temperature_sp_c = Par[float](
        "STAGE_T", Number(75.0, 220.0, 1, "°C"), doc="STAGE_T: stage set-point, °C."
    )
    ball_force_gf = Par[int](
        "B1_FORCE", Number(10, 100, 0, "gf"), doc="B1_FORCE: ball (1st) bond force, gf."
    )
    ball_time_ms = Par[int]("B1_TIME", Number(5, 50, 0, "ms"), doc="B1_TIME: ball bond time, ms.")
    ball_ultrasonic_pct = Par[int](
        "B1_US", Number(0, 100, 0, "%"), doc="B1_US: ball bond ultrasonic power, %."
    )
    stitch_force_gf = Par[int](
        "B2_FORCE", Number(20, 150, 0, "gf"), doc="B2_FORCE: stitch (2nd) bond force, gf."
    )
    stitch_time_ms = Par[int](
        "B2_TIME", Number(5, 50, 0, "ms"), doc="B2_TIME: stitch bond time, ms."
    )
    stitch_ultrasonic_pct = Par[int](
        "B2_US", Number(0, 100, 0, "%"), doc="B2_US: stitch ultrasonic power, %."
    )
    loop_height_um = Par[int]("LOOP_H", Number(100, 400, 0, "µm"), doc="LOOP_H: loop height, µm.")
    fab_diameter_um = Par[int](
        "FAB_D", Number(30, 80, 0, "µm"), doc="FAB_D: free-air ball diameter target, µm."
    )
    gas_flow_l_min = Par[float](
        "GAS_FLOW", Number(0.2, 2.0, 1, "L/min"), doc="GAS_FLOW: forming gas, L/min."
    )
    consecutive_fail_limit = Par[int](
        "CONSEC_LIM",
        Number(1, 10, 0, "units"),
        doc="CONSEC_LIM: failed units in a row before a hold alarm.",
    )
    capillary_limit_bonds = Par[int](
        "CAP_LIMIT",
        Number(100_000, 2_000_000, 0, "bonds"),
        doc="CAP_LIMIT: capillary life (machine setting, not in programs).",
    )
    wires_per_unit = Par[int](
        "WIRES",
        Number(0, 9999, 0, "wires"),
        doc="WIRES: wires per unit, from the program (read-only).",
        writable=False,
    )

    def __init__(self, address: str, *, timeout_s: float = 0.5, retransmissions: int = 3) -> None:
        super().__init__(address)
        self.link = FramedLink(
            address,
            tool=self.tool_name,
            baudrate=115200,
            timeout_s=timeout_s,
            retransmissions=retransmissions,
            logger=self.log,
        )

    # -- lifecycle and message primitives ----------------------------------------------------------
    def connect(self) -> None:
        """Open the port and identify the tool; the first frame also moves the tool's stored
        frame (§2 rule 5) off anything a previous session left with the same digit."""
        self.link.open()
        try:
            self.identify()
        except Exception:
            self.link.close()
            raise

    def close(self) -> None:
        self.link.close()

    def command(self, text: str) -> None:
        """Send a set command; the tool answers ``OK``."""
        reply = self.link.exchange(text)
        if reply != "OK":
            raise self.protocol_error(f"expected OK, got {reply!r}", text)

    def query(self, text: str) -> str:
        """Send a query ``KEYWORD? ...``; return the values after ``KEYWORD=``."""
        reply = self.link.exchange(text)
        prefix = text.split(" ", 1)[0].rstrip("?").upper() + "="
        if not reply.startswith(prefix):
            raise self.protocol_error(f"reply {reply!r} does not start with {prefix!r}", text)
        return reply[len(prefix) :]

    # -- §4.1 commands, manual order ---------------------------------------------------------------
    status = Reading(
        "STAT?", WireBonderStatus, StateName(), Choice(PHASES), INTEGER, INTEGER, INTEGER, INTEGER
    )

    def state(self) -> ToolState:
        """The state of ``STAT?``."""
        return self.status().state

    reset = Command(
        "RESET", doc="``RESET``: IDLE, program unloaded, parameters to defaults (alarms stay)."
    )

    load_program = Command(
        "PROG {}",
        PROGRAM_NAME,
        what="program name",
        doc="``PROG <name>``: load a bond program (parameters and strip layout) and arm -> HEATING.",
    )

    program = Reading(
        "PROG?",
        ProgramInfo.from_reply,
        Text(),
        INTEGER,
        doc="``PROG?``: loaded program, its wires per unit, and whether it was edited.",
    )

    def program_list(self) -> list[str]:
        """``PLIST? <start>``, paged by 10: every stored program name in ASCII order; an empty
        page before the total is a ProtocolError (as :meth:`Tool.read_pages`), not a short list."""
        names: list[str] = []
        while True:
            sent = f"PLIST? {len(names) + 1}"
            total_text, _, rest = self.query(sent).partition(",")
            with self.parsing(sent, total_text):
                total = int(total_text)
            page = rest.split(",") if rest else []
            names += page
            if len(names) >= total:
                return names
            if not page:
                raise self.protocol_error(
                    f"PLIST? returned nothing at {len(names) + 1} of {total}", sent
                )

    def save_program(self, name: str | None = None) -> None:
        """``PSAVE [<name>]``: save the working parameters into the loaded program, or a copy."""
        if name is not None:
            PROGRAM_NAME.check(name, "program name")
        self.command("PSAVE" if name is None else f"PSAVE {name}")

    unload_program = Command("UNLOAD", doc="``UNLOAD``: unload the program -> IDLE (heater off).")

    strip_size = Setting[tuple[int, int]](
        "SIZE",
        STRIP_ROWS,
        STRIP_COLS,
        validate=check_strip_size,
        doc="``SIZE``: rows, columns (stored in the program; a change resets the input map).",
    )
    strip_pitch_mm = Setting[tuple[float, float]](
        "PITCH",
        PITCH_MM,
        PITCH_MM,
        doc="``PITCH``: site pitch x, y in mm (1.000-50.000).",
    )
    strip_id = Setting[str](
        "STRIP",
        Identifier(20, allow_empty=True),
        doc='``STRIP``: the strip id of the next cycle (per-cycle data; ``""`` = not set).',
    )

    def write_input_map(self, value: str, *, sites: int | None = None) -> None:
        """``MAP <start>,<chars>`` in pieces of 200: the whole input map (``1`` bond, ``0`` skip).

        The length is checked against ``sites`` (read with ``SIZE?`` if not given) so that no
        piece of an old map survives a short one.
        """
        sites = math.prod(self.strip_size) if sites is None else sites
        check_input_map(value, sites=sites)
        for start in range(0, len(value), MAP_PIECE):
            self.command(f"MAP {start + 1},{value[start : start + MAP_PIECE]}")

    def read_input_map(self, sites: int | None = None) -> str:
        """``MAP? <start>`` paged by 200 characters."""
        sites = math.prod(self.strip_size) if sites is None else sites
        return self._read_map("MAP?", sites, "01")

    @property
    def input_map(self) -> str:
        """The input map (``MAP?``/``MAP``, paged)."""
        return self.read_input_map()

    @input_map.setter
    def input_map(self, value: str) -> None:
        self.write_input_map(value)

    start = Command(
        "START",
        doc="``START``: READY -> RUNNING (settings 14 and interlocks 22 checked by the tool).",
    )

    pause = Command("PAUSE", doc="``PAUSE``: takes effect at the end of the current unit.")

    resume = Command("RESUME", doc="``RESUME``: PAUSED -> RUNNING.")

    abort = Command(
        "ABORT", doc="``ABORT``: the unit in progress becomes F 3508, units not reached N."
    )

    acknowledge = Command(
        "ACK", doc="``ACK``: DONE/ABORTED -> READY (or HEATING); strip id and map cleared."
    )

    stage_temperature = Reading("TEMP?", StageTemperature, REAL, REAL)

    def stage_temperature_c(self) -> float:
        """Stage actual temperature, °C (``TEMP?``)."""
        return self.stage_temperature().pv_c

    def heat_up_left_s(self) -> float:
        """``TEMP?`` (stage actual and set-point) at the manual's 20 °C/min."""
        stage = self.stage_temperature()
        return self.heat_up_law.least_left_s([stage.pv_c], stage.sp_c, self.stage_band_c)

    consumables = Reading("CONS?", Consumables, INTEGER, INTEGER, REAL)

    reset_capillary = Command(
        "CAPRESET",
        doc="``CAPRESET``: capillary changed, bond counter to 0 (also in PAUSED and ALARM).",
    )

    alarm_info = Reading(
        "ALMTXT? {0}",
        AlarmInfo,
        Number(0, 9999),
        ALARM_CLASS,
        Text(),
        maxsplit=2,
        doc="``ALMTXT? <code>``: class and text of an alarm of §6 (after its code).",
    )

    clear_alarms = Command("ALMCLR", doc="``ALMCLR``: remove every alarm whose cause has gone.")

    result_count = Reading(
        "RCNT?", int, INTEGER, doc="``RCNT?``: result records available (one per site; 0 if none)."
    )

    def result_records(self, start: int = 1, count: int = 1) -> list[WireBondRecord]:
        """``RES? <start>,<count>``: up to 4 typed records from site ``start``."""
        if not 1 <= count <= RES_PAGE or start < 1:
            raise ParameterOutOfRange(
                f"RES? start {start} must be >= 1 and count {count} 1-{RES_PAGE}"
            )
        return self.ask(
            f"RES? {start},{count}", lambda reply: parse_site_records(WireBondRecord, reply)
        )

    def all_results(self, sites: int | None = None) -> list[WireBondRecord]:
        """Every record of the last cycle (``RES?`` in pages of 4)."""
        sites = self.result_count() if sites is None else sites
        return self.read_pages(self.result_records, sites, RES_PAGE, "RES?")

    def result_map(self, sites: int | None = None) -> str:
        """``RMAP? <start>`` paged by 200: one of P F X N per site."""
        sites = self.result_count() if sites is None else sites
        return self._read_map("RMAP?", sites, "PFXN")

    def summary(self) -> WireBondSummary:
        """``RSUM?``: strip id, counts, cycle time and wires bonded."""
        base = self.ask("RSUM?", lambda reply: parse_summary(reply, (int,)))
        return WireBondSummary(**vars(base), wires_bonded=base.extra[0])

    last_error = Reading(
        "LASTERR?",
        LastError.from_reply,
        INTEGER,
        Text(),
        maxsplit=1,
        doc="``LASTERR?``: the last rejection (code 0 if none) with its text and detail.",
    )

    # -- helpers built on the commands -------------------------------------------------------------
    def cycle_result(self) -> WireBondResult:
        """Summary, result map and every record of the finished cycle."""
        summary = self.summary()
        result_map = self.result_map(summary.sites)
        return WireBondResult(summary, result_map, self.all_results(summary.sites))

    def _read_map(self, keyword: str, sites: int, alphabet: str) -> str:
        chars = ""
        while len(chars) < sites:
            sent = f"{keyword} {len(chars) + 1}"
            start_text, _, piece = self.query(sent).partition(",")
            if start_text != str(len(chars) + 1) or not piece:
                raise self.protocol_error(
                    f"{keyword} page at {len(chars) + 1} answered {start_text!r},{piece!r}", sent
                )
            chars += piece
        if alphabet == "PFXN":
            return check_map(chars, sites, what="result map")
        if len(chars) != sites or set(chars) - set(alphabet):
            raise self.protocol_error(
                f"input map {chars!r} is not {sites} characters of 0 and 1", keyword
            )
        return chars


#: wire-bonder.md §4.2 START check: Cu wire needs forming gas of at least this flow, L/min.
CU_GAS_FLOW_MIN_L_MIN = 0.4


def fab_window_um(wire_diameter_um: float) -> tuple[float, float]:
    """wire-bonder.md §4.2 START check: FAB_D within 1.5–3.0 × WIRE_D, µm."""
    return 1.5 * wire_diameter_um, 3.0 * wire_diameter_um


def lacks_forming_gas(wire_material: str | None, gas_flow_l_min: float) -> bool:
    """wire-bonder.md §4.2 START check: Cu wire with too little forming gas."""
    return wire_material == "CU" and gas_flow_l_min < CU_GAS_FLOW_MIN_L_MIN


@dataclass(frozen=True)
class WireBondParameters(SetPoints, driver=WireBonder):
    """The §4.2 parameters a step writes over a loaded bond program (``None``: as loaded)."""

    wire_material: str | None = None
    wire_diameter_um: int | None = None
    stage_temperature_sp_c: float | None = None
    ball_force_gf: int | None = None
    ball_time_ms: int | None = None
    ball_ultrasonic_pct: int | None = None
    stitch_force_gf: int | None = None
    stitch_time_ms: int | None = None
    stitch_ultrasonic_pct: int | None = None
    loop_height_um: int | None = None
    fab_diameter_um: int | None = None
    gas_flow_l_min: float | None = None
    consecutive_fail_limit: int | None = None

    def check_rules(self) -> None:
        """The §4.2 START checks among the parameters given: FAB_D 1.5–3.0 × WIRE_D, and Cu
        wire with at least 0.4 L/min of forming gas."""
        fab_d, wire_d = self.fab_diameter_um, self.wire_diameter_um
        if fab_d is not None and wire_d is not None:
            low, high = fab_window_um(wire_d)
            if not low <= fab_d <= high:
                raise ParameterOutOfRange(f"FAB_D {fab_d:g} µm not 1.5-3.0 × WIRE_D {wire_d:g} µm")
        gas = self.gas_flow_l_min
        if gas is not None and lacks_forming_gas(self.wire_material, gas):
            raise ParameterOutOfRange(
                f"Cu wire needs GAS_FLOW >= {CU_GAS_FLOW_MIN_L_MIN} L/min, not {gas}"
            )
