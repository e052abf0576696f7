"""DB-4 die bonder driver. Host interface: die-bonder.md (SCPI over TCP socket, port 5025).

with DieBonder.open("TCPIP::10.0.4.21::5025::SOCKET") as bonder:
    bonder.load_recipe("A-EQUAL")
    bonder.wait_for_state([ToolState.READY], timeout_s=900)
    bonder.strip_id = "LA2403-017"
    bonder.input_map = "1" * 29 + "0"
    bonder.start()
    bonder.wait_for_state([ToolState.DONE, ToolState.ABORTED], timeout_s=300)
    result = bonder.cycle_result()      # summary.extra == (mode, dies_or_plates_used)
    bonder.acknowledge()
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, ClassVar

from drivers.errors import ProtocolError
from drivers.records import AlarmInfo, SiteRecord, optional
from drivers.scpi import Control, ScpiTool
from drivers.values import Choice, Flag, Number

MODES = ("EPOXY", "GAPFILL", "FLIPCHIP", "PLATE")
HEATERS = ("STAGE", "HEAD", "CURE")
_HEATER = Choice(HEATERS)
_MODE = Choice(MODES)
_CALIBRATION = re.compile(r'^(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?),"([^"]*)"$')


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

    value_fields: ClassVar[tuple[str, ...]] = (
        "dx_um",
        "dy_um",
        "dtheta_deg",
        "blt_um",
        "volume_nl",
        "force_n",
    )


@dataclass(frozen=True)
class PlacementCalibration:
    """``CALibrate:PLACe?``: offset corrected by the last calibration; ``timestamp`` None if never."""

    dx_um: float
    dy_um: float
    timestamp: datetime | None


@dataclass(frozen=True)
class DieBondSettings:
    """The recipe parameters of §4 (defaults as the manual), for writing or reading in one go."""

    mode: str = "EPOXY"
    dispense_volume_nl: int = 600
    dispense_pattern: str = "STAR"
    dispense_tolerance_pct: int = 10
    place_zref: str = "BASE"
    place_force_n: float = 2.0
    place_blt_um: float = 25.0
    place_tolerance: tuple[float, float] = (25.0, 0.50)
    bond_force_n: float = 30.0
    bond_temperature_c: float = 280.0
    bond_time_s: float = 4.0
    stage_temperature_c: float = 60.0
    cure_enabled: bool = True
    cure_temperature_c: float = 175.0
    cure_time_s: int = 60


class DieBonder(ScpiTool):
    """DB-4 die bonder (die-bonder.md). Unit of work: one strip, site by site."""

    tool_name = "die-bonder"
    model = "DB-4"
    poll_interval_s = 0.5
    record_type = DieBondRecord
    record_converters = (
        optional(float),
        optional(float),
        optional(float),
        optional(float),
        optional(int),
        optional(float),
    )
    #: Summary extra: ``(mode, dies_or_plates_used)``.
    summary_converters = (_MODE.parse, int)
    alarm_table: ClassVar[Mapping[int, AlarmInfo]] = {
        a.code: a
        for a in (
            AlarmInfo(2001, "A", "Emergency stop"),
            AlarmInfo(2002, "A", "Cover opened during cycle"),
            AlarmInfo(2003, "H", "Work-holder vacuum low"),
            AlarmInfo(2004, "H", "Compressed air low"),
            AlarmInfo(2101, "H", "Syringe empty"),
            AlarmInfo(2102, "H", "Adhesive volume check failed 3 times in a row"),
            AlarmInfo(2103, "H", "Pick-up failed 3 times in a row"),
            AlarmInfo(2104, "A", "Strip fiducial not found"),
            AlarmInfo(2105, "H", "Placement out of tolerance 3 times in a row"),
            AlarmInfo(2106, "H", "Wafer map end"),
            AlarmInfo(2107, "H", "Plate feeder empty"),
            AlarmInfo(2108, "H", "Stage temperature out of band"),
            AlarmInfo(2109, "H", "Bond head temperature out of band"),
            AlarmInfo(2110, "H", "Cure track temperature out of band"),
            AlarmInfo(2111, "A", "Heater fault"),
            AlarmInfo(2112, "A", "Bond force sensor fault"),
            AlarmInfo(2201, "W", "Syringe low"),
            AlarmInfo(2202, "W", "Die supply low"),
            AlarmInfo(2203, "W", "Placement calibration due"),
        )
    }
    defect_texts: ClassVar[Mapping[int, str]] = {
        2501: "adhesive volume out of tolerance (vision)",
        2502: "adhesive coverage incomplete (vision)",
        2503: "placement offset x/y out of tolerance",
        2504: "placement rotation out of tolerance",
        2505: "bond-line thickness out of tolerance",
        2506: "bond force out of band (FLIPCHIP)",
        2507: "pick-up failed 3 times, nothing placed",
        2508: "site fiducial not found, site not processed",
        2509: "gap fill incomplete (GAPFILL vision)",
        2510: "site interrupted by abort",
    }

    # -- §4 command reference, manual order ----------------------------------------------------
    mode: Control[str] = Control(
        "MODE", _MODE, doc="MODE: per-site action EPOXY|GAPFILL|FLIPCHIP|PLATE (R)."
    )
    dispense_volume_nl: Control[int] = Control(
        "DISPense:VOLume", Number(10, 30000, 0, "nL"), doc="DISPense:VOLume, nL (R)."
    )
    dispense_pattern: Control[str] = Control(
        "DISPense:PATTern",
        Choice(("DOT", "STAR", "CROSS", "RING", "FILL")),
        doc="DISPense:PATTern (R).",
    )
    dispense_tolerance_pct: Control[int] = Control(
        "DISPense:TOLerance",
        Number(2, 30, 0, "%"),
        doc="DISPense:TOLerance: volume pass window, ± % (R).",
    )
    place_zref: Control[str] = Control(
        "PLACe:ZREFerence",
        Choice(("BASE", "TOP", "DIE")),
        doc="PLACe:ZREFerence: Z reference surface (R).",
    )
    place_force_n: Control[float] = Control(
        "PLACe:FORCe", Number(0.5, 50.0, 1, "N"), doc="PLACe:FORCe, N (R)."
    )
    place_blt_um: Control[float] = Control(
        "PLACe:BLT", Number(12.0, 75.0, 1, "µm"), doc="PLACe:BLT: bond-line target, µm (R)."
    )
    place_tolerance: Control[tuple[float, float]] = Control(
        "PLACe:TOLerance",
        Number(5.0, 100.0, 1, "µm"),
        Number(0.10, 3.00, 2, "deg"),
        doc="PLACe:TOLerance: (x/y µm, θ deg) pass window (R).",
    )
    bond_force_n: Control[float] = Control(
        "BOND:FORCe", Number(1.0, 500.0, 1, "N"), doc="BOND:FORCe: FLIPCHIP bond force, N (R)."
    )
    bond_temperature_c: Control[float] = Control(
        "BOND:TEMPerature",
        Number(150.0, 350.0, 1, "°C"),
        doc="BOND:TEMPerature: bond head, °C (R).",
    )
    bond_time_s: Control[float] = Control(
        "BOND:TIME", Number(0.3, 10.0, 1, "s"), doc="BOND:TIME: FLIPCHIP bond time, s (R)."
    )
    stage_temperature_c: Control[float] = Control(
        "STAGe:TEMPerature",
        Number(25.0, 200.0, 1, "°C"),
        doc="STAGe:TEMPerature: work holder, °C (R).",
    )
    cure_enabled: Control[bool] = Control(
        "CURE:STATe", Flag(), doc="CURE:STATe: snap-cure track on/off (R)."
    )
    cure_temperature_c: Control[float] = Control(
        "CURE:TEMPerature",
        Number(100.0, 200.0, 1, "°C"),
        doc="CURE:TEMPerature: cure track, °C (R).",
    )
    cure_time_s: Control[int] = Control(
        "CURE:TIME", Number(10, 1800, 0, "s"), doc="CURE:TIME: time on the cure track, s (R)."
    )

    def measure_temperature_c(self, heater: str) -> float:
        """``MEASure:TEMPerature? STAGE|HEAD|CURE``: actual temperature of a heater, °C."""
        name = _HEATER.check(heater, "heater")
        return self._number(f"MEASure:TEMPerature? {name}", float)

    def supply_epoxy_pct(self) -> int:
        """``SUPPly:EPOXy?``: % of the syringe remaining."""
        return self._number("SUPPly:EPOXy?", int)

    def supply_dies(self) -> int:
        """``SUPPly:DIE?``: good dies left on wafer/tray."""
        return self._number("SUPPly:DIE?", int)

    def supply_plates(self) -> int:
        """``SUPPly:PLATe?``: plates left in the feeder."""
        return self._number("SUPPly:PLATe?", int)

    def calibrate_placement(self) -> None:
        """``CALibrate:PLACe`` (overlapped): SETUP for about 40 s; poll the state."""
        self.write("CALibrate:PLACe")

    def placement_calibration(self) -> PlacementCalibration:
        """``CALibrate:PLACe?``: correction and time of the last placement calibration."""
        reply = self.query("CALibrate:PLACe?")
        match = _CALIBRATION.match(reply.strip())
        try:
            if not match:
                raise ValueError('not <dx>,<dy>,"<timestamp>"')
            stamp = (
                datetime.strptime(match.group(3), "%Y-%m-%dT%H:%M:%S") if match.group(3) else None
            )
        except ValueError as exc:
            raise self._malformed("CALibrate:PLACe?", reply, exc) from None
        return PlacementCalibration(float(match.group(1)), float(match.group(2)), stamp)

    # -- recipe parameters in one go -----------------------------------------------------------
    def write_settings(self, settings: DieBondSettings) -> None:
        """Set every §4 recipe parameter, in manual order (each checked before it is sent)."""
        for item in fields(settings):
            setattr(self, item.name, getattr(settings, item.name))

    def read_settings(self) -> DieBondSettings:
        """The working recipe parameters."""
        return DieBondSettings(
            **{item.name: getattr(self, item.name) for item in fields(DieBondSettings)}
        )

    # -- helpers ---------------------------------------------------------------------------------
    def _number(self, query: str, kind: type[Any]) -> Any:
        reply = self.query(query)
        try:
            return kind(reply)
        except ValueError as exc:
            raise self._malformed(query, reply, exc) from None

    def _malformed(self, query: str, reply: str, exc: Exception) -> ProtocolError:
        return ProtocolError(
            f"reply {reply!r} malformed ({exc})",
            tool=self.tool_name,
            address=self.address,
            sent=query,
        )
