"""UVL-3 UV laser ablation system driver. Host interface: laser.md (SCPI over TCP, port 5025).
A whole cycle: docs/tools/laser.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from drivers.records import SiteRecord, alarms, defects
from drivers.scpi import ScpiTool
from drivers.setpoints import SetPoints
from drivers.settings import Command, Reading, Setting
from drivers.states import ToolState
from drivers.values import Choice, Flag, Number, Quoted, Timestamp, quoted_names

PHASES = ("NONE", "LOAD", "ALIGN", "ABLATE", "INSPECT", "UNLOAD")
CALIBRATION_RATIO_LIMITS = (0.900, 1.100)


@dataclass(frozen=True)
class LaserRecord(SiteRecord):
    """``RESult:DATA?`` record (laser.md §5); every value is None for X and N sites."""

    vias_open: int | None
    vias_total: int | None
    recess_depth_um: float | None  # None also for patterns without area recess
    mean_pulses_per_via: int | None


@dataclass(frozen=True)
class Calibration:
    """``LASer:CALibrate?``: measured/expected power and when; ratio 0 and no time if none."""

    ratio: float
    timestamp: datetime | None

    @property
    def done(self) -> bool:
        """A calibration has run since power-up (it may still have failed with 8101)."""
        return self.timestamp is not None

    @property
    def in_tolerance(self) -> bool:
        """The ratio is within 0.900-1.100 (else the tool raised 8101)."""
        lo, hi = CALIBRATION_RATIO_LIMITS
        return self.done and lo <= self.ratio <= hi


class Laser(ScpiTool):
    """UVL-3 UV laser (laser.md): vias and area recesses in the PI film of Package B.

    Unit of work: one film strip (Format B by default); ``CYCLe:PROGress?`` counts sites.
    Summary extra fields: ``(pattern, vias_ablated)``.
    """

    tool_name = "laser"
    model = "UVL-3"
    poll_interval_s = 0.5
    #: §3: RECipe:LOAD -> WARMUP 60 s, or 600 s after power-up or a source off for 30 min;
    #: §4: LASer:CALibrate, SETUP ≈ 30 s.
    state_durations_s: ClassVar[Mapping[ToolState, tuple[float, ...]]] = {
        ToolState.HEATING: (60.0, 600.0),
        ToolState.SETUP: (30.0,),
    }
    alarm_table = alarms("""
        8001 A Emergency stop
        8002 A Enclosure door opened during cycle
        8003 A Laser key switch off
        8004 H Fume extraction low
        8005 A Chiller fault
        8101 H Laser power out of tolerance
        8102 A Laser source fault
        8103 A Shutter fault
        8104 A Scanner fault
        8105 H Focus error
        8106 A Alignment failed
        8107 H Via open rate low
        8201 W Power calibration due
    """)
    record_type = LaserRecord
    summary_converters = (str, int)
    defect_texts = defects("""
        8501 via not open (no breakthrough within VIA:PULSes)
        8502 residue / carbonisation in via (vision)
        8503 pad damage (over-ablation)
        8504 recess depth out of tolerance
        8505 site fiducial not found, site not processed
        8506 site interrupted by abort
    """)

    # -- laser.md §4, in the manual's order ---------------------------------------------------
    pattern = Setting[str](
        "PATTern:SELect",
        Quoted(16, allow_empty=False),
        doc="PATTern:SELect: the stored per-site pattern (recipe); 25 if the tool does not know it.",
    )

    def pattern_catalog(self) -> list[str]:
        """``PATTern:CATalog?``: stored pattern names in ASCII order."""
        return self.ask("PATTern:CATalog?", quoted_names, quote_reply=True)

    pattern_vias = Setting[int](
        "PATTern:VIAS", Number(0, 10000), writable=False, doc="PATTern:VIAS?: vias per site."
    )
    pattern_area_mm2 = Setting[float](
        "PATTern:AREA",
        Number(0.0, 10000.0, 2, "mm²"),
        writable=False,
        doc="PATTern:AREA?: area-recess size per site, mm² (0.00 = no area recess).",
    )
    fluence_j_cm2 = Setting[float](
        "LASer:FLUence", Number(0.20, 3.00, 2, "J/cm²"), doc="LASer:FLUence, J/cm² (recipe)."
    )
    frequency_khz = Setting[int](
        "LASer:FREQuency",
        Number(10, 200, 0, "kHz"),
        doc="LASer:FREQuency: pulse rate, kHz (recipe).",
    )
    spot_um = Setting[int](
        "LASer:SPOT", Number(10, 60, 0, "µm"), doc="LASer:SPOT: spot diameter, µm (recipe)."
    )
    film_thickness_um = Setting[float](
        "FILM:THICKness",
        Number(12.5, 125.0, 1, "µm"),
        doc="FILM:THICKness: PI film thickness, µm (recipe); sets the breakthrough pulse count.",
    )
    via_max_pulses = Setting[int](
        "VIA:PULSes", Number(10, 5000), doc="VIA:PULSes: maximum pulses per via (recipe)."
    )
    via_endpoint = Setting[bool](
        "VIA:ENDPoint",
        Flag(),
        default=True,
        doc="VIA:ENDPoint: True stops each via at breakthrough; False fires VIA:PULSes (recipe).",
    )
    recess_depth_um = Setting[float](
        "RECess:DEPTh",
        Number(1.0, 100.0, 1, "µm"),
        doc="RECess:DEPTh: area-recess target depth, µm (recipe); must be < FILM:THICKness.",
    )
    recess_tolerance_um = Setting[float](
        "RECess:TOLerance",
        Number(0.5, 10.0, 1, "µm"),
        doc="RECess:TOLerance: ± pass window of the recess depth, µm (recipe).",
    )

    power_w = Reading(
        "LASer:POWer?",
        float,
        Number(0.0, 1000.0, 3, "W"),
        doc="``LASer:POWer?``: average power at the work plane, W (0.000 with the source off).",
    )

    calibrate = Command(
        "LASer:CALibrate",
        doc="``LASer:CALibrate``: power calibration (overlapped, SETUP ≈ 30 s; poll the state). "
        "Needs the source on: IDLE -> 24, WARMUP -> 22 ``WARMUP``; DOOR, KEY and CHILLER block it.",
    )

    calibration = Reading("LASer:CALibrate?", Calibration, Number(0.0, 10.0, 3), Timestamp())
    shutter = Reading(
        "LASer:SHUTter?", str, Choice(("OPEN", "CLOSED")), doc="``LASer:SHUTter?``: OPEN or CLOSED."
    )
    source_hours = Reading(
        "LASer:HOURs?",
        int,
        Number(0, 10**9),
        doc="``LASer:HOURs?``: laser source operating hours (8202 above 20000 h).",
    )


@dataclass(frozen=True)
class AblationSettings(SetPoints, driver=Laser):
    """The §4 pattern and ablation set-points a step writes over a loaded tool recipe."""

    pattern: str
    fluence_j_cm2: float
    frequency_khz: int
    spot_um: int
    film_thickness_um: float
    via_max_pulses: int
    via_endpoint: bool = field(default=Laser.via_endpoint.default, kw_only=True)
    recess_depth_um: float
    recess_tolerance_um: float
