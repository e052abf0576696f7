"""MS-3 metrology station driver. Host interface: metrology.md (line ASCII, RS-232 38400 8N1).
A whole cycle: docs/tools/metrology.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from drivers.errors import ParameterOutOfRange, ProtocolError
from drivers.records import (
    AlarmInfo,
    SiteRecord,
    StripSummary,
    alarms,
    check_map,
    defects,
    parse_result_map,
    parse_site_record,
    parse_summary,
)
from drivers.scpi import CycleResult, Progress
from drivers.setpoints import SetPoints
from drivers.settings import Command, Reading, Setting
from drivers.states import ToolState
from drivers.text_tool import TextTool
from drivers.transports.line_link import LineLink
from drivers.values import (
    INTEGER,
    PITCH_MM,
    STRIP_COLS,
    STRIP_ROWS,
    Choice,
    Enumerated,
    Identifier,
    InputMap,
    Number,
    StateName,
    check_strip_size,
)


class MeasureMode(StrEnum):
    """``MODE``: what the station measures (§1)."""

    DIE = "DIE"
    SLUG = "SLUG"
    BALL = "BALL"
    RECESS = "RECESS"
    PKG = "PKG"


PHASES = ("NONE", "LOAD", "ALIGN", "MEASURE", "UNLOAD")
#: ``LIM`` lo and hi, every item (§4; else the tool answers 13).
LIMIT_RANGE = (-5000.0, 5000.0)
RD_MAX = 1024


class LimitSetting(Setting[tuple[float, float]]):
    """A ``LIM`` item of §4: the pass window ``(lo, hi)`` of one item of one MODE, read with
    ``LIM? <item>`` (the reply repeats the item) and written with ``LIM <item>,<lo>,<hi>``, in
    the item's unit and decimals; lo ≤ hi (else the tool answers 14). The default is the
    window MODE sets."""

    query_form = "LIM? {key}"
    command_form = "LIM {key},{args}"
    echoes_key = True

    def __init__(
        self,
        key: str,
        mode: MeasureMode,
        unit: str,
        decimals: int,
        default: tuple[float, float],
        *,
        doc: str,
    ) -> None:
        value = Number(*LIMIT_RANGE, decimals, unit)
        super().__init__(key, value, value, default=default, doc=doc)
        self.mode = mode
        self.bound = value
        self.unit = unit
        self.decimals = decimals

    def checked(self, value: Any, what: str) -> list[Any]:
        """Both bounds in range (named ``<item> limit``), then lo ≤ hi."""
        lo, hi = super().checked(value, f"{self.key} limit")
        if value[0] > value[1]:
            raise ParameterOutOfRange(f"{self.key} limits need lo <= hi, got {lo}, {hi}")
        return [lo, hi]


class ModeSetting(Setting[MeasureMode]):
    """``MODE``, which resets every limit to the new MODE's defaults (§3, §4)."""

    def resets(self, value: Any) -> dict[str, tuple[float, float] | None]:
        """The members writing ``value`` resets, with what each then holds: its default for an
        item of the new MODE, None (not readable: the tool answers 12) for the others."""
        mode = MeasureMode(str(value).upper())
        return {
            item.attribute: item.default if item.mode is mode else None
            for item in LIMIT_ITEMS.values()
        }


# -- typed records ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Limit:
    """``LIM <item>,<lo>,<hi>``: pass window of one item, in the item's unit (LIMIT_ITEMS)."""

    item: str
    lo: float
    hi: float

    @property
    def unit(self) -> str:
        return LIMIT_ITEMS[self.item].unit


@dataclass(frozen=True)
class MetrologyStatus:
    """``ST?``: state, working MODE, phase (``NONE`` without a cycle), sites done and to do."""

    state: ToolState
    mode: MeasureMode
    phase: str
    done: int
    total: int


@dataclass(frozen=True)
class ItemStatistics:
    """``RSTAT? <item>`` over the measured sites; the figures are None when ``n`` is 0."""

    item: str
    n: int
    mean: float | None
    std: float | None
    minimum: float | None
    maximum: float | None


class CalResult(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    NONE = "NONE"


@dataclass(frozen=True)
class Calibration:
    """``CAL?``: result of the last CAL, when (tool local time), and hours since."""

    result: CalResult
    timestamp: datetime | None
    hours_since: float | None

    @property
    def passed(self) -> bool:
        return self.result is CalResult.PASS


@dataclass(frozen=True)
class DieRecord(SiteRecord):
    """MODE DIE: die offset and rotation."""

    dx_um: float | None
    dy_um: float | None
    dtheta_deg: float | None


@dataclass(frozen=True)
class SlugRecord(SiteRecord):
    """MODE SLUG: slug protrusion below the substrate bottom, exposed pad area, residual Cu."""

    slug_protrusion_um: float | None
    pad_exposure_pct: float | None
    residual_cu_um: float | None


@dataclass(frozen=True)
class BallRecord(SiteRecord):
    """MODE BALL; slug and clearance are None on sites without a slug."""

    ball_height_mean_um: float | None
    ball_height_min_um: float | None
    coplanarity_um: float | None
    slug_protrusion_um: float | None
    clearance_um: float | None
    balls_missing: int | None


@dataclass(frozen=True)
class RecessRecord(SiteRecord):
    """MODE RECESS; the die recess depth is None on sites without an area recess."""

    via_depth_mean_um: float | None
    via_depth_min_um: float | None
    area_recess_depth_um: float | None
    residual_pi_um: float | None


@dataclass(frozen=True)
class PkgRecord(SiteRecord):
    """MODE PKG; the pad protrusion is None on packages without back-face pads."""

    package_thickness_um: float | None
    warp_um: float | None
    pad_protrusion_min_um: float | None


RECORD_TYPES: dict[MeasureMode, type[SiteRecord]] = {
    MeasureMode.DIE: DieRecord,
    MeasureMode.SLUG: SlugRecord,
    MeasureMode.BALL: BallRecord,
    MeasureMode.RECESS: RecessRecord,
    MeasureMode.PKG: PkgRecord,
}


_MODE = Enumerated(MeasureMode)


_RECIPE_NAME = Identifier(16)  # README §3 names, sent bare on the MS-3


# -- the driver -----------------------------------------------------------------------------------
class Metrology(TextTool):
    """MS-3 metrology station (metrology.md). Unit of work: one strip, site by site."""

    identity_query = "ID?"
    alarms_query = "AL?"

    tool_name = "metrology"
    model = "MS-3"
    poll_interval_s = 0.2
    state_durations_s: ClassVar[Mapping[ToolState, tuple[float, ...]]] = {
        ToolState.SETUP: (20.0,)
    }  # §4: CAL, SETUP ≈ 20 s
    acknowledged_to = ToolState.READY  # §3: no HEATING; ACK: DONE/ABORTED -> READY
    alarm_codes: ClassVar[range] = range(9001, 9500)
    alarm_table = alarms("""
        9001 A Emergency stop
        9002 H Cover opened during cycle
        9003 H Stage vacuum low
        9004 H Compressed air low
        9101 H Calibration failed
        9102 H Sensor signal low
        9103 A Alignment failed
        9104 A Stage motion fault
        9105 W Enclosure temperature out of range
        9201 W Calibration due
    """)
    # §5: a failed site's defect code, in words for reports.
    defect_texts = defects("""
        9501 die offset (DX/DY) out of limits
        9502 die rotation (DT) out of limits
        9503 slug protrusion (SLUG) out of limits
        9504 pad exposure (PADX) insufficient
        9505 residual Cu on pads (RESCU)
        9506 ball height (BALLH) out of limits
        9507 coplanarity (COPL) out of limit
        9508 slug-to-ball clearance (CLEAR) insufficient
        9509 missing ball (MISS)
        9510 I/O-leg recess depth (VIA) out of limits
        9511 die recess depth (AREA) out of limits
        9512 residual PI on pads (RESID)
        9513 package thickness (THK) out of limits
        9514 warpage (WARP) out of limit
        9515 site not measurable (fiducial or signal)
        9516 pad protrusion (PADP) out of limits
    """)

    def __init__(self, address: str, *, line_timeout_s: float = 1.0) -> None:
        super().__init__(address)
        self.link = LineLink(
            address,
            tool=self.tool_name,
            baudrate=38400,
            timeout_s=line_timeout_s,
            logger=self.log,
        )

    def connect(self) -> None:
        self.link.open()

    def close(self) -> None:
        self.link.close()

    # -- exchanges ---------------------------------------------------------------------------
    def command(self, line: str) -> None:
        """Send a command that answers a bare ``OK``."""
        reply = self.link.exchange(line)
        if reply.data:
            raise self.protocol_error(f"command answered {reply.data!r}, expected a bare OK", line)

    def query(self, line: str) -> str:
        """Send a query; return the data of its ``OK`` line ('' for an empty value)."""
        return self.link.exchange(line).data

    # -- §4, in manual order -------------------------------------------------------------------
    status = Reading("ST?", MetrologyStatus, StateName(), _MODE, Choice(PHASES), INTEGER, INTEGER)

    def state(self) -> ToolState:
        """The state field of ``ST?``."""
        return self.status().state

    reset = Command(
        "RST",
        doc="``RST``: IDLE, recipe unloaded, defaults, strip data and results cleared; the calibration and the alarms stay.",
    )

    load_recipe = Command(
        "LOAD {}",
        _RECIPE_NAME,
        what="recipe name",
        doc="``LOAD <name>``: load a stored recipe; IDLE -> READY directly (25 if unknown).",
    )

    unload_recipe = Command("UNLOAD", doc="``UNLOAD``: back to IDLE.")

    save_recipe = Command(
        "SAVE {}",
        _RECIPE_NAME,
        what="recipe name",
        doc="``SAVE <name>``: store MODE, limits, size and pitch (28 when 32 recipes are stored).",
    )

    delete_recipe = Command(
        "DEL {}", _RECIPE_NAME, what="recipe name", doc="``DEL <name>`` (25 if absent)."
    )

    def recipe_list(self, start: int = 1) -> tuple[int, list[str]]:
        """``LIST? <start>``: total stored and up to 10 names from index ``start`` (ASCII order)."""
        start = int(Number(1, 32).check(start, "LIST? start"))
        sent = f"LIST? {start}"
        reply = self.query(sent)
        with self.parsing(sent):
            total, *names = reply.split(",")
            return int(total), names

    def recipe_catalog(self) -> list[str]:
        """Every stored recipe name, read with ``LIST?`` 10 at a time."""
        total, names = self.recipe_list(1)
        while len(names) < total:
            _, page = self.recipe_list(len(names) + 1)
            if not page:
                raise self.protocol_error(f"LIST? {len(names) + 1} returned no names of {total}")
            names.extend(page)
        return names

    def recipe_name(self) -> tuple[str, bool]:
        """``NAME?``: loaded recipe ('' if none) and whether it was edited since load/save."""
        name = self.query("NAME?")
        return (name[:-1], True) if name.endswith("*") else (name, False)

    mode = ModeSetting(
        "MODE",
        _MODE,
        default=MeasureMode.SLUG,
        doc="``MODE`` / ``MODE?``: the working MODE (default SLUG); setting it resets the limits to the mode defaults.",
    )
    strip_size = Setting[tuple[int, int]](
        "SIZE",
        STRIP_ROWS,
        STRIP_COLS,
        validate=check_strip_size,
        doc="``SIZE <rows>,<cols>`` / ``SIZE?`` (default 3,10); setting it resets the input map.",
    )
    strip_pitch_mm = Setting[tuple[float, float]](
        "PITCH",
        PITCH_MM,
        PITCH_MM,
        doc="``PITCH <x>,<y>`` / ``PITCH?``: site pitch in mm.",
    )

    # §4 limits (``LIM``), in the manual's table order: item, MODE, unit (decimals), default.
    dx_limits_um = LimitSetting(
        "DX", MeasureMode.DIE, "µm", 1, (-25.0, 25.0), doc="DX: die offset in x."
    )
    dy_limits_um = LimitSetting(
        "DY", MeasureMode.DIE, "µm", 1, (-25.0, 25.0), doc="DY: die offset in y."
    )
    dt_limits_deg = LimitSetting(
        "DT", MeasureMode.DIE, "deg", 2, (-0.5, 0.5), doc="DT: die rotation."
    )
    slug_limits_um = LimitSetting(
        "SLUG",
        MeasureMode.SLUG,
        "µm",
        1,
        (200.0, 260.0),
        doc="SLUG: slug protrusion below the substrate bottom.",
    )
    padx_limits_pct = LimitSetting(
        "PADX", MeasureMode.SLUG, "%", 1, (95.0, 100.0), doc="PADX: exposed pad area."
    )
    rescu_limits_um = LimitSetting(
        "RESCU", MeasureMode.SLUG, "µm", 1, (0.0, 1.0), doc="RESCU: residual Cu on the pads."
    )
    ballh_limits_um = LimitSetting(
        "BALLH", MeasureMode.BALL, "µm", 1, (350.0, 450.0), doc="BALLH: mean ball height."
    )
    copl_limits_um = LimitSetting(
        "COPL", MeasureMode.BALL, "µm", 1, (0.0, 100.0), doc="COPL: coplanarity."
    )
    clear_limits_um = LimitSetting(
        "CLEAR",
        MeasureMode.BALL,
        "µm",
        1,
        (100.0, 1000.0),
        doc="CLEAR: min ball height − slug protrusion.",
    )
    miss_limits_count = LimitSetting(
        "MISS", MeasureMode.BALL, "count", 0, (0, 0), doc="MISS: missing balls."
    )
    via_limits_um = LimitSetting(
        "VIA",
        MeasureMode.RECESS,
        "µm",
        1,
        (23.0, 27.0),
        doc="VIA: I/O-leg recess depth (the mean is judged).",
    )
    area_limits_um = LimitSetting(
        "AREA", MeasureMode.RECESS, "µm", 1, (10.0, 14.0), doc="AREA: die recess depth."
    )
    resid_limits_um = LimitSetting(
        "RESID", MeasureMode.RECESS, "µm", 1, (0.0, 0.5), doc="RESID: residual PI on the pads."
    )
    thk_limits_um = LimitSetting(
        "THK", MeasureMode.PKG, "µm", 1, (270.0, 330.0), doc="THK: package thickness."
    )
    warp_limits_um = LimitSetting(
        "WARP", MeasureMode.PKG, "µm", 1, (0.0, 50.0), doc="WARP: warpage."
    )
    padp_limits_um = LimitSetting(
        "PADP",
        MeasureMode.PKG,
        "µm",
        1,
        (5.0, 50.0),
        doc="PADP: pad protrusion from the carrier back face.",
    )

    def set_limit(self, limit: Limit) -> None:
        """``LIM <item>,<lo>,<hi>``: the item must belong to the working MODE (else the tool
        answers 12); lo ≤ hi and the -5000..5000 range are checked here first."""
        item = LIMIT_ITEMS[self._item(limit.item)]
        item.write(self, item.key, (limit.lo, limit.hi), item.attribute)

    def limit(self, item: str) -> Limit:
        """``LIM? <item>``: the window of an item of the working MODE."""
        name = self._item(item)
        lo, hi = LIMIT_ITEMS[name].read(self, name)
        return Limit(name, lo, hi)

    def limits(self) -> dict[str, Limit]:
        """Every limit of the working MODE (``MODE?`` then ``LIM?`` per item)."""
        mode = self.mode
        return {name: self.limit(name) for name, item in LIMIT_ITEMS.items() if item.mode is mode}

    strip_id = Setting[str](
        "STRIP",
        Identifier(20),
        doc="``STRIP <id>`` / ``STRIP?``: strip id of the next cycle ('' = not set).",
    )
    input_map = Setting[str](
        "MAP",
        InputMap(quoted=False),
        doc="``MAP <map>`` / ``MAP?``: input map, 1 = measure, 0 = skip (26 if the length is wrong).",
    )

    start = Command("RUN", doc="``RUN``: READY -> RUNNING (22 with DOOR, AIR or CAL interlocks).")

    pause = Command("PAUSE", doc="``PAUSE``: takes effect at the end of the current site.")

    resume = Command("RESUME", doc="``RESUME``.")

    abort = Command(
        "ABORT", doc="``ABORT``: the site in progress and the remaining sites become N."
    )

    acknowledge = Command(
        "ACK", doc="``ACK``: DONE/ABORTED -> READY; clears strip id and input map."
    )

    progress = Reading(
        "PROG?",
        Progress,
        INTEGER,
        INTEGER,
        INTEGER,
        INTEGER,
        doc="``PROG?``: sites done, to do, elapsed and remaining s (zeros without a cycle).",
    )
    record_count = Reading("RC?", int, INTEGER, doc="``RC?``: records available (0 if none).")

    def records(
        self, start: int = 1, count: int = RD_MAX, *, mode: MeasureMode | None = None
    ) -> list[SiteRecord]:
        """``RD <start>,<count>``: typed records of the last cycle (fewer if the strip ends).

        The record type follows the cycle's MODE, read with ``RSUM?`` unless ``mode`` is given.
        """
        start = int(Number(1, RD_MAX).check(start, "RD start"))
        count = int(Number(1, RD_MAX).check(count, "RD count"))
        if mode is None:
            mode = self.summary_mode()
        record_type = RECORD_TYPES[MeasureMode(mode)]
        sent = f"RD {start},{count}"
        reply = self.link.exchange(sent, max_records=count)
        with self.parsing(sent):
            if int(reply.data) != len(reply.records):
                raise ProtocolError(f"OK {reply.data} after {len(reply.records)} records")
            parsed = [parse_site_record(record_type, line) for line in reply.records]
            if [r.site for r in parsed] != list(range(start, start + len(parsed))):
                raise ProtocolError(
                    f"records are not sites {start}.. in order: {[r.site for r in parsed]}"
                )
        return parsed

    def result_map(self) -> str:
        """``RMAP?``: one of P F X N per site."""
        return self.ask("RMAP?", parse_result_map)

    def summary(self) -> StripSummary:
        """``RSUM?``: strip summary; ``extra`` is ``(MeasureMode,)`` of the cycle."""
        return self.ask("RSUM?", lambda reply: parse_summary(reply, (_MODE.parse,)))

    def summary_mode(self) -> MeasureMode:
        """The MODE the last cycle measured in (``RSUM?``)."""
        return MeasureMode(self.summary().extra[0])

    def statistics(self, item: str) -> ItemStatistics:
        """``RSTAT? <item>``: n, mean, std, min, max over the measured (P and F) sites."""
        sent = f"RSTAT? {self._item(item)}"
        reply = self.query(sent)
        with self.parsing(sent):
            name, n, *figures = reply.split(",")
            if name != sent[7:] or len(figures) != 4:
                raise ProtocolError(
                    f"RSTAT? reply {reply!r} is not <item>,<n>,<mean>,<std>,<min>,<max>"
                )
            values = [None if int(n) == 0 else float(f) for f in figures]
            return ItemStatistics(name, int(n), *values)

    def alarm_info(self, code: int) -> AlarmInfo:
        """``ALT? <code>``: class and text of an alarm of §6 (the tool answers 12 for others)."""
        code = int(
            Number(self.alarm_codes.start, self.alarm_codes.stop - 1).check(code, "alarm code")
        )
        sent = f"ALT? {code}"
        reply = self.query(sent)
        with self.parsing(sent):
            number, alarm_class, text = reply.split(",", 2)
            if int(number) != code or alarm_class not in ("A", "H", "W"):
                raise ProtocolError(f"ALT? reply {reply!r} is not {code},<A|H|W>,<text>")
            return AlarmInfo(code, alarm_class, text)

    clear_alarms = Command("ALC", doc="``ALC``: remove the alarms whose cause has gone.")

    calibrate = Command(
        "CAL", doc="``CAL``: SETUP for about 20 s on the reference gauge (22 with DOOR or AIR)."
    )

    def calibration(self) -> Calibration:
        """``CAL?``: last CAL result, timestamp and hours since (NONE after power-up)."""
        reply = self.query("CAL?")
        with self.parsing("CAL?"):
            result, stamp, hours = reply.split(",")
            if result == CalResult.NONE:
                return Calibration(CalResult.NONE, None, None)
            return Calibration(CalResult(result), datetime.fromisoformat(stamp), float(hours))

    enclosure_temperature_c = Setting[float](
        "TEMP",
        Number(-50.0, 150.0, 1, "°C"),
        writable=False,
        doc="``TEMP?``: enclosure temperature, °C (alarm 9105 outside 20.0-26.0).",
    )

    # -- helpers built on the commands ---------------------------------------------------------
    def cycle_result(self) -> CycleResult:
        """Summary, result map and every typed record of the finished cycle."""
        summary = self.summary()
        result_map = self.result_map()
        with self.parsing("RMAP?"):
            check_map(result_map, summary.sites, what="result map")
        records = self.records(1, summary.sites, mode=MeasureMode(summary.extra[0]))
        if len(records) != summary.sites:
            raise self.protocol_error(f"{len(records)} records for {summary.sites} sites", "RD")
        return CycleResult(summary, result_map, records)

    def _item(self, item: str) -> str:
        name = str(item).upper()
        if name not in LIMIT_ITEMS:
            raise self.error(
                ParameterOutOfRange, f"limit item {item!r} not one of {', '.join(LIMIT_ITEMS)}"
            )
        return name


#: The §4 ``LIM`` items by the manual's name, in its order.
LIMIT_ITEMS: dict[str, LimitSetting] = {
    member.key: member for member in vars(Metrology).values() if isinstance(member, LimitSetting)
}

Window = tuple[float, float]


@dataclass(frozen=True)
class InspectionSetPoints(SetPoints, driver=Metrology):
    """The MS-3 set-points of one inspection: MODE and the pass windows of its items, each
    field the :class:`Metrology` member of the same name (None: the MODE's default).

    MODE resets every limit (§4), so the two are one group: :meth:`values` gives MODE first
    and then every item of the MODE, a window left out as the default MODE sets; a writer
    that knows what MODE resets (``ModeSetting.resets``) sends only the windows that differ.
    """

    mode: MeasureMode
    dx_limits_um: Window | None = None
    dy_limits_um: Window | None = None
    dt_limits_deg: Window | None = None
    slug_limits_um: Window | None = None
    padx_limits_pct: Window | None = None
    rescu_limits_um: Window | None = None
    ballh_limits_um: Window | None = None
    copl_limits_um: Window | None = None
    clear_limits_um: Window | None = None
    miss_limits_count: Window | None = None
    via_limits_um: Window | None = None
    area_limits_um: Window | None = None
    resid_limits_um: Window | None = None
    thk_limits_um: Window | None = None
    warp_limits_um: Window | None = None
    padp_limits_um: Window | None = None

    @classmethod
    def of(cls, mode: MeasureMode | str, windows: Mapping[str, Window]) -> InspectionSetPoints:
        """The set-points of ``windows`` keyed by item name (``{"CLEAR": (50.0, 1000.0)}``);
        ParameterOutOfRange for an unknown MODE or a name that is not a §4 item."""
        modes = [m.value for m in MeasureMode]
        if str(mode).upper() not in modes:
            raise ParameterOutOfRange(f"MODE {mode!r} not one of {', '.join(modes)}")
        measure = MeasureMode(str(mode).upper())
        members: dict[str, Window] = {}
        for item, window in windows.items():
            name = str(item).upper()
            if name not in LIMIT_ITEMS:
                raise ParameterOutOfRange(f"limit {item} is not an item of MODE {measure}")
            lo, hi = window
            members[LIMIT_ITEMS[name].attribute] = (lo, hi)
        return cls(measure, **members)

    def values(self) -> dict[str, Any]:
        """MODE, then every item of the MODE in the manual's order: the window given, or the
        MODE's default (what the tool holds once MODE is written)."""
        values: dict[str, Any] = {"mode": self.mode}
        for item in LIMIT_ITEMS.values():
            if item.mode == self.mode:
                window = getattr(self, item.attribute)
                values[item.attribute] = item.default if window is None else window
        return values

    def windows(self) -> dict[str, Window]:
        """The windows given, by item name, in the manual's order."""
        return {
            item.key: window
            for item in LIMIT_ITEMS.values()
            if (window := getattr(self, item.attribute)) is not None
        }

    def check_rules(self) -> None:
        """Every window given is an item of the MODE (else the tool answers 12)."""
        for name in self.windows():
            if LIMIT_ITEMS[name].mode != self.mode:
                raise ParameterOutOfRange(f"limit {name} is not an item of MODE {self.mode}")
