"""DS-2 dicing saw driver. Host interface: dicing-saw.md (SCPI over RS-232 9600 8N1, VISA ASRL,
CR LF both ways, result pages of at most 16 records, 5 s for result queries).
A whole cycle: docs/tools/dicing-saw.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import ClassVar, NamedTuple

from drivers.errors import ParameterOutOfRange
from drivers.records import SiteRecord, StripSummary, alarms, defects
from drivers.scpi import ScpiTool
from drivers.setpoints import SetPoints
from drivers.settings import Command, Reading, Setting
from drivers.states import ToolState
from drivers.values import INTEGER, REAL, Number

#: §4 START check: BLADe:THICKness upper bound (µm) -> highest SPINdle:SPEed (krpm).
MAX_SPEED_BY_THICKNESS = ((25, 30.0), (50, 40.0), (80, 35.0), (350, 35.0))


def max_spindle_speed_krpm(blade_thickness_um: int) -> float:
    """Highest SPINdle:SPEed that CYCLe:STARt accepts with this blade (§4; else -221)."""
    for upper_um, speed_krpm in MAX_SPEED_BY_THICKNESS:
        if blade_thickness_um <= upper_um:
            return speed_krpm
    return MAX_SPEED_BY_THICKNESS[-1][1]


@dataclass(frozen=True)
class DicingRecord(SiteRecord):
    """§5 result record: worst values over the checked lines bounding the site (None: none checked)."""

    max_chipping_um: int | None = None
    max_kerf_offset_um: int | None = None
    mean_kerf_width_um: int | None = None


class DicingSummaryExtra(NamedTuple):
    """The §5 tool-specific summary fields."""

    line_passes_cut: int
    blade_count_after: int


class SpindleReading(NamedTuple):
    """``MEASure:SPINdle?``: actual speed (1 decimal) and spindle load (whole %)."""

    krpm: float
    load_pct: int


class DicingSaw(ScpiTool):
    """DS-2 dicing saw (dicing-saw.md). Unit of work: one strip, gang cut along CH1 then CH2."""

    tool_name = "dicing-saw"
    model = "DS-2"
    termination = "\r\n"
    baud_rate = 9600
    result_timeout_s = 5.0
    result_page_size = 16
    poll_interval_s = 1.0
    #: §3: RECipe:LOAD -> WARMUP 60 s, or 300 s after power-up or a spindle stopped 30 min;
    #: §4: BLADe:SETup, SETUP ≈ 45 s.
    state_durations_s: ClassVar[Mapping[ToolState, tuple[float, ...]]] = {
        ToolState.HEATING: (60.0, 300.0),
        ToolState.SETUP: (45.0,),
    }
    alarm_table = alarms("""
        7001 A Emergency stop
        7002 A Cover opened during cycle
        7003 A Chuck vacuum low
        7004 H Compressed air low
        7101 A Spindle overload
        7102 A Blade breakage detected
        7103 H Blade life reached
        7104 H Coolant flow low
        7105 H Kerf offset over limit
        7106 H Chipping over limit 3 times in a row
        7107 A Alignment failed
        7108 A Spindle speed deviation
        7109 H Blade exposure insufficient
        7201 W Blade life 90 %
    """)
    defect_texts = defects("""
        7501 chipping over limit
        7502 kerf offset over limit
        7503 unit lost from tape/jig
        7504 not fully singulated (cycle ended before all bounding lines were cut)
    """)
    record_type = DicingRecord
    summary_converters = (int, int)

    # -- §4 command reference, manual order --------------------------------------------------------
    spindle_speed_krpm = Setting[float](
        "SPINdle:SPEed",
        Number(10.0, 60.0, 1, "krpm"),
        doc="SPINdle:SPEed, krpm (R). A change in READY takes effect at once and keeps READY.",
    )
    blade_thickness_um = Setting[int](
        "BLADe:THICKness",
        Number(15, 350, 0, "µm"),
        doc="BLADe:THICKness, µm (R). Limits the spindle speed at START (max_spindle_speed_krpm).",
    )
    blade_limit_cuts = Setting[int](
        "BLADe:LIMit",
        Number(1000, 50000, 0, "line passes"),
        doc="BLADe:LIMit: blade life in line passes (machine setting, kept by *RST).",
    )

    blade_count = Reading(
        "BLADe:COUNt?", int, INTEGER, doc="``BLADe:COUNt?``: line passes cut by the current blade."
    )

    change_blade = Command(
        "BLADe:CHANge",
        doc="``BLADe:CHANge``: record a blade change (count 0, setup invalid: interlock BLADE). "
        "Setup group, also allowed in PAUSED and ALARM (§3).",
    )
    setup_blade = Command(
        "BLADe:SETup",
        doc="``BLADe:SETup`` (overlapped, SETUP ≈ 45 s): measure the exposure. Needs the spindle: "
        "IDLE -> 24, WARMUP -> 22 WARMUP. Also allowed in PAUSED (returns to PAUSED).",
    )

    blade_exposure_mm = Reading(
        "BLADe:EXPosure?",
        float,
        REAL,
        doc="``BLADe:EXPosure?``: mm, 0.000 while the blade setup is invalid.",
    )

    cut_feed_mm_s = Setting[float](
        "CUT:FEED", Number(1.0, 100.0, 1, "mm/s"), doc="CUT:FEED, mm/s (R)."
    )
    cut_height_mm = Setting[float](
        "CUT:HEIGht",
        Number(0.030, 1.000, 3, "mm"),
        doc="CUT:HEIGht: blade tip above chuck, final pass, mm (R).",
    )
    cut_passes = Setting[int](
        "CUT:PASSes", Number(1, 3), doc="CUT:PASSes: passes per line, step cut (R)."
    )
    cut_check_every = Setting[int](
        "CUT:CHECk",
        Number(0, 50),
        default=5,
        doc="CUT:CHECk: kerf check after every n-th line, 0 = off (R).",
    )
    cut_offset_limit_um = Setting[int](
        "CUT:OFFSet:LIMit",
        Number(5, 100, 0, "µm"),
        doc="CUT:OFFSet:LIMit: kerf offset pass limit, µm (R).",
    )
    cut_chipping_limit_um = Setting[int](
        "CUT:CHIPping:LIMit",
        Number(10, 200, 0, "µm"),
        doc="CUT:CHIPping:LIMit: chipping pass limit, µm (R).",
    )
    coolant_flow_l_min = Setting[float](
        "COOLant:FLOW", Number(0.5, 3.0, 1, "L/min"), doc="COOLant:FLOW, L/min (R)."
    )

    measure_spindle = Reading("MEASure:SPINdle?", SpindleReading, REAL, Number(0, 10**6, 0, "%"))
    measure_coolant_l_min = Reading(
        "MEASure:COOLant?",
        float,
        REAL,
        doc="``MEASure:COOLant?``: actual coolant flow, L/min.",
    )

    # -- §5 results ------------------------------------------------------------------------------------
    def summary(self) -> StripSummary:
        """``RESult:SUMMary?`` with ``extra`` as :class:`DicingSummaryExtra`."""
        summary = super().summary()
        return replace(summary, extra=DicingSummaryExtra(*summary.extra))


@dataclass(frozen=True)
class CutSettings(SetPoints, driver=DicingSaw):
    """The §4 cut set-points a step writes over a loaded tool recipe."""

    spindle_speed_krpm: float
    blade_thickness_um: int
    cut_feed_mm_s: float
    cut_passes: int
    cut_check_every: int = field(default=DicingSaw.cut_check_every.default, kw_only=True)
    cut_offset_limit_um: int
    cut_chipping_limit_um: int

    def check_rules(self) -> None:
        """The §4 START check (else -221): the spindle speed the blade thickness allows."""
        highest_krpm = max_spindle_speed_krpm(self.blade_thickness_um)
        if self.spindle_speed_krpm > highest_krpm:
            raise ParameterOutOfRange(
                f"spindle {self.spindle_speed_krpm} krpm over the {highest_krpm} krpm "
                f"a {self.blade_thickness_um} µm blade allows"
            )
