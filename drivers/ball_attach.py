"""BA-8 ball attach line driver. Host interface: ball-attach.md (SCPI over TCP socket, LF).
A magazine of 1-20 strips has per-strip data, status and results (``STRip<k>:*``,
``RESult<k>:*``). A whole cycle: docs/tools/ball-attach.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, cast

from drivers.errors import ParameterOutOfRange
from drivers.records import (
    SiteRecord,
    StripSummary,
    alarms,
    check_map,
    defects,
    optional,
    parse_result_map,
    parse_site_records,
    parse_summary,
)
from drivers.scpi import CycleResult, ScpiTool
from drivers.setpoints import SetPoints
from drivers.settings import IndexedAccess, Reading, Setting
from drivers.states import ToolState
from drivers.values import REAL, Choice, Flag, InputMap, Number, Quoted, check_identifier, unquote

MAX_STRIPS = 20
ZONES = 8
PHASES = ("NONE", "FEED", "DRAIN")


@dataclass(frozen=True)
class BallAttachRecord(SiteRecord):
    """``RESult<k>:DATA?`` record (§5): ball counts, worst offset, mean top-view diameter.

    All value fields are ``None`` for X and N sites and for sites that were not inspected
    (6507 not inspected, 6508 strip in the oven at an abort-class alarm, 6510 ejected).
    """

    missing: int | None
    extra: int | None
    bridged: int | None
    max_offset_um: float | None
    mean_diameter_mm: float | None


@dataclass(frozen=True)
class BallAttachResult(CycleResult):
    """One strip's results; the summary's tool fields are ``(peak °C, TAL s, max O₂ ppm)``,
    each ``None`` when the strip was never reflowed."""

    @property
    def ball_records(self) -> list[BallAttachRecord]:
        """``records``, typed: every record of a BA-8 result is a :class:`BallAttachRecord`."""
        return cast(list[BallAttachRecord], self.records)

    @property
    def peak_c(self) -> float | None:
        return self.summary.extra[0]

    @property
    def tal_s(self) -> float | None:
        return self.summary.extra[1]

    @property
    def max_o2_ppm(self) -> int | None:
        return self.summary.extra[2]


@dataclass(frozen=True)
class ReflowLimits:
    """``REFLow:LIMits``: peak window °C (200.0-260.0) and TAL window s (20.0-150.0)."""

    peak_min_c: float = 235.0
    peak_max_c: float = 245.0
    tal_min_s: float = 50.0
    tal_max_s: float = 70.0


@dataclass(frozen=True)
class ReflowProfile:
    """``REFLow:PROFile?``: the profile the zone set-points give (informative, §4)."""

    peak_c: float
    tal_s: float
    soak_s: float
    max_ramp_c_s: float
    max_cool_c_s: float


def _ordered_windows(peak_min: float, peak_max: float, tal_min: float, tal_max: float) -> None:
    """``REFLow:LIMits`` cross-check: each window's min below its max."""
    if not (peak_min < peak_max and tal_min < tal_max):
        raise ParameterOutOfRange(
            f"reflow limits need min < max, got peak {peak_min}-{peak_max} °C, "
            f"TAL {tal_min}-{tal_max} s"
        )


class BallAttach(ScpiTool):
    """BA-8 ball attach line (ball-attach.md): flux, ball mount, 8-zone N₂ reflow, inspection."""

    tool_name = "ball-attach"
    model = "BA-8"
    poll_interval_s = 1.0  # §2: state poll every 1-2 s
    #: §8: HEATING from cold 20 min (3 min after a zone change of <= 20 °C).
    typical_s: ClassVar[Mapping[ToolState, float]] = {ToolState.HEATING: 20 * 60.0}
    record_type = BallAttachRecord
    summary_converters = (optional(float), optional(float), optional(int))
    alarm_table = alarms("""
        6001 A Emergency stop
        6002 H Cover opened during cycle
        6003 H Nitrogen supply low
        6004 H Compressed air low
        6005 H Exhaust low
        6101 H Flux empty
        6102 H Ball supply empty
        6103 H Ball pick-up incomplete
        6104 H Flux print failure
        6105 H Reflow zone temperature out of band
        6106 A Reflow heater fault
        6107 A Conveyor stop / jam
        6108 W O2 above limit
        6109 H Inspection yield low
        6110 H Input magazine empty
        6201 W Flux low
        6202 W Ball supply low
    """)
    defect_texts = defects("""
        6501 missing ball
        6502 extra ball
        6503 bridged balls
        6504 ball offset over limit
        6505 ball diameter out of tolerance
        6506 flux residue or flux bridging on lands
        6507 site fiducial not found, site not inspected
        6508 reflow profile out of limits (whole strip)
        6509 O2 above limit during reflow (whole strip)
        6510 strip removed before reflow (abort)
    """)

    # -- §4 command reference, manual order ---------------------------------------------------
    magazine_count = Setting[int](
        "MAGazine:COUNt",
        Number(1, MAX_STRIPS),
        doc="MAGazine:COUNt: strips in the next cycle (per-cycle).",
    )
    strip_ids = Setting[IndexedAccess[str]](
        "STRip<k>:ID", Quoted(20), count=MAX_STRIPS, doc="STRip<k>:ID: strip id (per-cycle)."
    )
    input_maps = Setting[IndexedAccess[str]](
        "STRip<k>:MAP", InputMap(), count=MAX_STRIPS, doc="STRip<k>:MAP: input map (per-cycle)."
    )
    strip_status = Setting[IndexedAccess[str]](
        "STRip<k>:STATus",
        Choice(("WAIT", "PRINT", "PLACE", "REFLOW", "INSPECT", "DONE", "NOTRUN")),
        count=MAX_STRIPS,
        writable=False,
        doc="STRip<k>:STATus?: where strip k is in the line.",
    )
    flux_method = Setting[str](
        "FLUX:METHod", Choice(("PRINT", "PIN")), doc="FLUX:METHod: stencil print or pin transfer."
    )
    flux_thickness_um = Setting[int](
        "FLUX:THICKness", Number(20, 150, 0, "µm"), doc="FLUX:THICKness, µm."
    )
    flux_speed_mm_s = Setting[int](
        "FLUX:SPEed", Number(10, 100, 0, "mm/s"), doc="FLUX:SPEed: squeegee (PRINT only), mm/s."
    )
    ball_diameter_mm = Setting[float](
        "BALL:DIAMeter", Number(0.25, 0.90, 2, "mm"), doc="BALL:DIAMeter, mm."
    )
    ball_alloy = Setting[str]("BALL:ALLoy", Choice(("SAC305", "SAC405")), doc="BALL:ALLoy.")
    balls_per_site = Setting[int]("BALL:COUNt", Number(1, 2000), doc="BALL:COUNt: balls per site.")
    zone_temperature_c = Setting[IndexedAccess[float]](
        "REFLow:ZONE<n>:TEMPerature",
        Number(25.0, 300.0, 1, "°C"),
        count=ZONES,
        doc="REFLow:ZONE<n>:TEMPerature: zone set-point, °C (a change in READY returns to HEATING).",
    )
    reflow_speed_mm_s = Setting[float](
        "REFLow:SPEed", Number(5.0, 20.0, 1, "mm/s"), doc="REFLow:SPEed: conveyor, mm/s."
    )
    nitrogen = Setting[bool](
        "REFLow:NITRogen", Flag(), doc="REFLow:NITRogen: N₂ atmosphere on/off."
    )
    o2_limit_ppm = Setting[int](
        "REFLow:O2LImit", Number(50, 2000, 0, "ppm"), doc="REFLow:O2LImit, ppm."
    )
    inspection_offset_um = Setting[int](
        "INSPection:OFFSet", Number(10, 100, 0, "µm"), doc="INSPection:OFFSet: max ball offset, µm."
    )
    inspection_diameter_pct = Setting[int](
        "INSPection:DIAMeter",
        Number(5, 30, 0, "%"),
        doc="INSPection:DIAMeter: ± tolerance, % of BALL:DIAMeter.",
    )
    zone_temperature_pv_c = Setting[IndexedAccess[float]](
        "MEASure:ZONE<n>:TEMPerature",
        Number(-50.0, 500.0, 1, "°C"),
        count=ZONES,
        writable=False,
        doc="MEASure:ZONE<n>:TEMPerature?: actual zone temperature, °C.",
    )
    o2_ppm = Setting[int](
        "MEASure:O2",
        Number(0, 1_000_000, 0, "ppm"),
        writable=False,
        doc="MEASure:O2?: oven O₂, ppm.",
    )
    flux_supply_pct = Setting[int](
        "SUPPly:FLUX", Number(0, 100, 0, "%"), writable=False, doc="SUPPly:FLUX?: % remaining."
    )
    ball_supply_pct = Setting[int](
        "SUPPly:BALL", Number(0, 100, 0, "%"), writable=False, doc="SUPPly:BALL?: % remaining."
    )

    reflow_limits = Setting[ReflowLimits](
        "REFLow:LIMits",
        Number(200.0, 260.0, 1, "°C"),
        Number(200.0, 260.0, 1, "°C"),
        Number(20.0, 150.0, 1, "s"),
        Number(20.0, 150.0, 1, "s"),
        record=ReflowLimits,
        validate=_ordered_windows,
        default=ReflowLimits(),
        doc="``REFLow:LIMits``: peak and TAL windows the strip profile must meet (else 6508).",
    )
    reflow_profile = Reading("REFLow:PROFile?", ReflowProfile, REAL, REAL, REAL, REAL, REAL)

    # -- magazine (§5) --------------------------------------------------------------------------
    def set_magazine(
        self, strip_ids: Sequence[str], input_maps: Sequence[str] | None = None
    ) -> None:
        """``MAGazine:COUNt n`` then ``STRip<k>:ID`` (and ``STRip<k>:MAP``) for k = 1..n."""
        if not 1 <= len(strip_ids) <= MAX_STRIPS:
            raise ParameterOutOfRange(
                f"a magazine holds 1-{MAX_STRIPS} strips, got {len(strip_ids)}"
            )
        if input_maps is not None and len(input_maps) != len(strip_ids):
            raise ParameterOutOfRange(f"{len(input_maps)} input maps for {len(strip_ids)} strips")
        for strip_id in strip_ids:
            check_identifier(strip_id, "strip id")
        self.magazine_count = len(strip_ids)
        for k, strip_id in enumerate(strip_ids, start=1):
            self.strip_ids[k] = strip_id
            if input_maps is not None:
                self.input_maps[k] = input_maps[k - 1]

    def phase(self) -> str:
        """``CYCLe:PHASe?``: FEED (strips still entering), DRAIN (all fed) or NONE."""
        reply = super().phase()
        if reply not in PHASES:
            raise self.protocol_error(f"unknown phase {reply!r}", "CYCLe:PHASe?")
        return reply

    # -- results per strip (RESult<k>:*) ----------------------------------------------------------
    def result_count(self, strip: int = 1) -> int:
        """``RESult<k>:COUNt?``: records available for strip k (0 if none)."""
        return self.ask(f"{_result_header(strip)}:COUNt?", int, quote_reply=True)

    def result_records(
        self, start: int = 1, count: int | None = None, *, strip: int = 1
    ) -> list[SiteRecord]:
        """``RESult<k>:DATA? start,count``: one page of :class:`BallAttachRecord` of strip k."""
        count = self.result_page_size if count is None else count
        sent = f"{_result_header(strip)}:DATA? {int(start)},{int(count)}"
        return self.ask(sent, lambda reply: parse_site_records(self.record_type, reply))

    def all_results(self, sites: int, *, strip: int = 1) -> list[SiteRecord]:
        """Every record of strip k, paged by 64."""
        return self.read_pages(
            lambda start, count: self.result_records(start, count, strip=strip),
            sites,
            self.result_page_size,
            f"RESult{strip}:DATA?",
        )

    def result_map(self, strip: int = 1) -> str:
        """``RESult<k>:MAP?``: P F X N per site of strip k."""
        return self.ask(
            f"{_result_header(strip)}:MAP?", lambda reply: parse_result_map(unquote(reply))
        )

    def summary(self, strip: int = 1) -> StripSummary:
        """``RESult<k>:SUMMary?``: strip summary + ``(peak °C, TAL s, max O₂ ppm)``; the cycle
        field is the strip's own feed-to-exit time."""
        sent = f"{_result_header(strip)}:SUMMary?"
        return self.ask(sent, lambda reply: parse_summary(reply, self.summary_converters))

    def cycle_result(self, strip: int = 1) -> BallAttachResult:
        """Summary, map and every record of strip k of the last magazine."""
        summary = self.summary(strip)
        result_map = check_map(self.result_map(strip), summary.sites, what="result map")
        return BallAttachResult(summary, result_map, self.all_results(summary.sites, strip=strip))

    def magazine_results(self) -> list[BallAttachResult]:
        """:meth:`cycle_result` of every strip of the magazine (read before ``acknowledge``,
        which resets MAGazine:COUNt)."""
        return [self.cycle_result(k) for k in range(1, self.magazine_count + 1)]


def _result_header(strip: int) -> str:
    if isinstance(strip, bool) or not isinstance(strip, int) or not 1 <= strip <= MAX_STRIPS:
        raise ParameterOutOfRange(f"strip index {strip!r} outside 1..{MAX_STRIPS}")
    return f"RESult{strip}"


@dataclass(frozen=True)
class BallAttachSettings(SetPoints, driver=BallAttach):
    """The §4 flux, ball and reflow set-points a step writes over a loaded tool recipe."""

    flux_thickness_um: int
    ball_diameter_mm: float
    balls_per_site: int
    zone_temperature_c: tuple[float, ...]
    reflow_speed_mm_s: float
    reflow_limits: ReflowLimits
