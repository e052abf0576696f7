"""DB-4 die bonder driver. Host interface: die-bonder.md (SCPI over TCP socket, port 5025).
A whole cycle: docs/tools/die-bonder.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from drivers.records import SiteRecord, alarms, defects
from drivers.scpi import ScpiTool
from drivers.setpoints import SetPoints
from drivers.settings import Command, Reading, Setting
from drivers.states import ToolState
from drivers.values import INTEGER, REAL, Choice, Flag, Number, Timestamp

MODES = ("EPOXY", "GAPFILL", "FLIPCHIP", "PLATE")
_HEATER = Choice(("STAGE", "HEAD", "CURE"))
_MODE = Choice(MODES)


@dataclass(frozen=True)
class DieBondRecord(SiteRecord):
    """``RESult:DATA?`` record (§5): offsets of the die or plate, bond line, volume, force.

    Fields that do not apply to the MODE, and every value of X and N sites, are ``None``.
    """

    dx_um: float | None = None
    dy_um: float | None = None
    dtheta_deg: float | None = None
    blt_um: float | None = None
    volume_nl: int | None = None
    force_n: float | None = None


@dataclass(frozen=True)
class PlacementCalibration:
    """``CALibrate:PLACe?``: offset corrected by the last calibration; ``timestamp`` None if never."""

    dx_um: float
    dy_um: float
    timestamp: datetime | None


class DieBonder(ScpiTool):
    """DB-4 die bonder (die-bonder.md). Unit of work: one strip, site by site."""

    tool_name = "die-bonder"
    model = "DB-4"
    poll_interval_s = 0.5
    #: §8: from 25 °C the cure track, the slowest heater, takes 8 min, then 30 s stable.
    typical_s: ClassVar[Mapping[ToolState, float]] = {ToolState.HEATING: 8 * 60.0 + 30.0}
    #: §4: CALibrate:PLACe, SETUP ≈ 40 s (its heat-up depends on the heaters: polled).
    state_durations_s: ClassVar[Mapping[ToolState, tuple[float, ...]]] = {ToolState.SETUP: (40.0,)}
    record_type = DieBondRecord
    #: Summary extra: ``(mode, dies_or_plates_used)``.
    summary_converters = (_MODE.parse, int)
    alarm_table = alarms("""
        2001 A Emergency stop
        2002 A Cover opened during cycle
        2003 H Work-holder vacuum low
        2004 H Compressed air low
        2101 H Syringe empty
        2102 H Adhesive volume check failed 3 times in a row
        2103 H Pick-up failed 3 times in a row
        2104 A Strip fiducial not found
        2105 H Placement out of tolerance 3 times in a row
        2106 H Wafer map end
        2107 H Plate feeder empty
        2108 H Stage temperature out of band
        2109 H Bond head temperature out of band
        2110 H Cure track temperature out of band
        2111 A Heater fault
        2112 A Bond force sensor fault
        2201 W Syringe low
        2202 W Die supply low
        2203 W Placement calibration due
    """)
    defect_texts = defects("""
        2501 adhesive volume out of tolerance (vision)
        2502 adhesive coverage incomplete (vision)
        2503 placement offset x/y out of tolerance
        2504 placement rotation out of tolerance
        2505 bond-line thickness out of tolerance
        2506 bond force out of band (FLIPCHIP)
        2507 pick-up failed 3 times, nothing placed
        2508 site fiducial not found, site not processed
        2509 gap fill incomplete (GAPFILL vision)
        2510 site interrupted by abort
    """)

    # -- §4 command reference, manual order ----------------------------------------------------
    mode = Setting[str](
        "MODE",
        _MODE,
        default="EPOXY",
        doc="MODE: per-site action EPOXY|GAPFILL|FLIPCHIP|PLATE (R).",
    )
    dispense_volume_nl = Setting[int](
        "DISPense:VOLume", Number(10, 30000, 0, "nL"), default=600, doc="DISPense:VOLume, nL (R)."
    )
    dispense_pattern = Setting[str](
        "DISPense:PATTern",
        Choice(("DOT", "STAR", "CROSS", "RING", "FILL")),
        default="STAR",
        doc="DISPense:PATTern (R).",
    )
    dispense_tolerance_pct = Setting[int](
        "DISPense:TOLerance",
        Number(2, 30, 0, "%"),
        default=10,
        doc="DISPense:TOLerance: volume pass window, ± % (R).",
    )
    place_zref = Setting[str](
        "PLACe:ZREFerence",
        Choice(("BASE", "TOP", "DIE")),
        default="BASE",
        doc="PLACe:ZREFerence: Z reference surface (R).",
    )
    place_force_n = Setting[float](
        "PLACe:FORCe", Number(0.5, 50.0, 1, "N"), default=2.0, doc="PLACe:FORCe, N (R)."
    )
    place_blt_um = Setting[float](
        "PLACe:BLT",
        Number(12.0, 75.0, 1, "µm"),
        default=25.0,
        doc="PLACe:BLT: bond-line target, µm (R).",
    )
    place_tolerance = Setting[tuple[float, float]](
        "PLACe:TOLerance",
        Number(5.0, 100.0, 1, "µm"),
        Number(0.10, 3.00, 2, "deg"),
        default=(25.0, 0.50),
        doc="PLACe:TOLerance: (x/y µm, θ deg) pass window (R).",
    )
    bond_force_n = Setting[float](
        "BOND:FORCe",
        Number(1.0, 500.0, 1, "N"),
        default=30.0,
        doc="BOND:FORCe: FLIPCHIP bond force, N (R).",
    )
    bond_temperature_c = Setting[float](
        "BOND:TEMPerature",
        Number(150.0, 350.0, 1, "°C"),
        default=280.0,
        doc="BOND:TEMPerature: bond head, °C (R).",
    )
    bond_time_s = Setting[float](
        "BOND:TIME",
        Number(0.3, 10.0, 1, "s"),
        default=4.0,
        doc="BOND:TIME: FLIPCHIP bond time, s (R).",
    )
    stage_temperature_c = Setting[float](
        "STAGe:TEMPerature",
        Number(25.0, 200.0, 1, "°C"),
        default=60.0,
        doc="STAGe:TEMPerature: work holder, °C (R).",
    )
    cure_enabled = Setting[bool](
        "CURE:STATe", Flag(), default=True, doc="CURE:STATe: snap-cure track on/off (R)."
    )
    cure_temperature_c = Setting[float](
        "CURE:TEMPerature",
        Number(100.0, 200.0, 1, "°C"),
        default=175.0,
        doc="CURE:TEMPerature: cure track, °C (R).",
    )
    cure_time_s = Setting[int](
        "CURE:TIME",
        Number(10, 1800, 0, "s"),
        default=60,
        doc="CURE:TIME: time on the cure track, s (R).",
    )

    def measure_temperature_c(self, heater: str) -> float:
        """``MEASure:TEMPerature? STAGE|HEAD|CURE``: actual temperature of a heater, °C."""
        return self._heater_temperature_c(_HEATER.check(heater, "heater"))

    _heater_temperature_c = Reading(
        "MEASure:TEMPerature? {0}", float, REAL, doc="``MEASure:TEMPerature? <heater>``, °C."
    )
    supply_epoxy_pct = Reading(
        "SUPPly:EPOXy?", int, INTEGER, doc="``SUPPly:EPOXy?``: % of the syringe remaining."
    )
    supply_dies = Reading(
        "SUPPly:DIE?", int, INTEGER, doc="``SUPPly:DIE?``: good dies left on wafer/tray."
    )
    supply_plates = Reading(
        "SUPPly:PLATe?", int, INTEGER, doc="``SUPPly:PLATe?``: plates left in the feeder."
    )

    calibrate_placement = Command(
        "CALibrate:PLACe",
        doc="``CALibrate:PLACe`` (overlapped): SETUP for about 40 s; poll the state.",
    )

    placement_calibration = Reading(
        "CALibrate:PLACe?", PlacementCalibration, REAL, REAL, Timestamp()
    )


@dataclass(frozen=True)
class DieBondSettings(SetPoints, driver=DieBonder):
    """The recipe parameters of §4, for writing or reading in one go."""

    mode: str = DieBonder.mode.default
    dispense_volume_nl: int = DieBonder.dispense_volume_nl.default
    dispense_pattern: str = DieBonder.dispense_pattern.default
    dispense_tolerance_pct: int = DieBonder.dispense_tolerance_pct.default
    place_zref: str = DieBonder.place_zref.default
    place_force_n: float = DieBonder.place_force_n.default
    place_blt_um: float = DieBonder.place_blt_um.default
    place_tolerance: tuple[float, float] = DieBonder.place_tolerance.default
    bond_force_n: float = DieBonder.bond_force_n.default
    bond_temperature_c: float = DieBonder.bond_temperature_c.default
    bond_time_s: float = DieBonder.bond_time_s.default
    stage_temperature_c: float = DieBonder.stage_temperature_c.default
    cure_enabled: bool = DieBonder.cure_enabled.default
    cure_temperature_c: float = DieBonder.cure_temperature_c.default
    cure_time_s: int = DieBonder.cure_time_s.default
