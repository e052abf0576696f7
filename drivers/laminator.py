"""LM-8 vacuum laminator driver. Host interface: laminator.md (Modbus TCP, unit 1).
A whole cycle: docs/tools/laminator.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from drivers.errors import ParameterOutOfRange
from drivers.heat_up import HeatUpLaw
from drivers.modbus_tool import BatchModbusTool, BatchResult, PositionResult, ResultBlock
from drivers.records import alarms, defects
from drivers.registers import S16, STRING, U16, DiscreteInput, Holding, Input
from drivers.setpoints import SetPoints

POSITIONS = 8
STANDBY_GAP_C = 50.0  # §4 cross-check: STANDBY_SP <= PLATEN_SP - 50.0 °C
# §9 typical durations used by LaminationRecipe.nominal_cycle_s.
CLOSE_S, PUMPDOWN_S, VENT_S = 20.0, 120.0, 60.0
BUILD_RATE_MPA_PER_S = 2.0 / 30.0


@dataclass(frozen=True)
class LaminationResult(BatchResult):
    """IR 110-130 after a cycle (valid while RESULTS_AVAILABLE), with the positions' strip ids."""

    peak_temp_c: float
    max_temp_dev_c: float
    min_pressure_dwell_mpa: float
    max_vacuum_dwell_kpa: float
    dwell_actual_s: int
    positions: tuple[PositionResult, ...]

    def by_strip(self) -> dict[str, PositionResult]:
        """The outcomes of the positions that carried a strip id, by strip id."""
        return {p.strip_id: p for p in self.positions if p.strip_id}


class Laminator(BatchModbusTool):
    """LM-8 vacuum laminator (laminator.md). Unit of work: a press load of 1-8 strips."""

    tool_name = "laminator"
    model = "LM-8"
    poll_interval_s = 1.0  # §2: status no faster than every 250 ms, 1 s recommended
    #: laminator.md §8: heat-up at most 8 °C/min; §3: READY after 60 s within ±TEMP_BAND of
    #: STANDBY_SP.
    heat_up_law = HeatUpLaw(rate_c_per_min=8.0, stable_s=60.0)
    heaters = (("platen_top_pv_c", "standby_sp_c"), ("platen_bottom_pv_c", "standby_sp_c"))
    positions = POSITIONS
    phase_names = ("NONE", "CLOSE", "EVACUATE", "PRESSURIZE", "RAMP", "DWELL", "COOL", "VENT")
    interlock_bits = ("ESTOP", "DOOR", "TEMP", "HYDRAULIC", "COOLING_WATER", "LOAD", "HOST_WDT")
    alarm_table = alarms("""
        1001 A Emergency stop
        1002 A Door opened during cycle
        1003 W Host watchdog timeout
        1004 H Hydraulic pressure low
        1005 H Cooling water flow low
        1101 A Top platen over-temperature
        1102 A Bottom platen over-temperature
        1103 A Thermocouple open
        1104 W Temperature deviation in dwell
        1105 H Heat-up timeout
        1111 A Pressure build timeout
        1112 W Pressure deviation in dwell
        1121 A Vacuum not reached
        1122 W Vacuum lost in dwell
        1131 W Cool-down rate low
    """)
    #: ALARM_WORD_n bit m of each alarm (§7 "Word.bit").
    # fmt: off
    alarm_word_bits: ClassVar[Mapping[int, tuple[int, int]]] = {
        1001: (1, 0), 1002: (1, 1), 1003: (1, 2), 1004: (1, 3), 1005: (1, 4),
        1101: (2, 0), 1102: (2, 1), 1103: (2, 2), 1104: (2, 3), 1105: (2, 4),
        1111: (3, 0), 1112: (3, 1), 1121: (3, 2), 1122: (3, 3), 1131: (3, 4),
    }
    # fmt: on
    defect_texts = defects("""
        1501 temperature excursion during dwell
        1502 pressure excursion during dwell
        1503 vacuum lost during dwell
        1504 lamination incomplete (cycle aborted after pressing started)
    """)

    # -- discrete inputs (§4) --------------------------------------------------------------
    temp_in_band = DiscreteInput(
        16, doc="TEMP_IN_BAND: both platens within ±TEMP_BAND of the active SP."
    )
    pressure_in_band = DiscreteInput(17, doc="PRESSURE_IN_BAND (meaningful in phases 3-6).")
    vacuum_ok = DiscreteInput(18, doc="VACUUM_OK: chamber pressure <= VACUUM_SP.")
    door_locked = DiscreteInput(19, doc="DOOR_LOCKED.")
    hydraulic_ok = DiscreteInput(20, doc="HYDRAULIC_OK: hydraulic supply pressure sufficient.")
    cooling_water_ok = DiscreteInput(
        21, doc="COOLING_WATER_OK: platen cooling water flow sufficient."
    )

    # -- holding registers (§4), manual order -------------------------------------------------
    platen_sp_c = Holding(
        100, S16, scale=0.1, limits=(150.0, 190.0), unit="°C", default=170.0, doc="PLATEN_SP."
    )
    standby_sp_c = Holding(
        101, S16, scale=0.1, limits=(50.0, 120.0), unit="°C", default=100.0, doc="STANDBY_SP."
    )
    ramp_rate_c_per_min = Holding(
        102, U16, scale=0.1, limits=(2.0, 5.0), unit="°C/min", default=4.0, doc="RAMP_RATE."
    )
    dwell_s = Holding(
        103,
        U16,
        limits=(1800, 5400),
        unit="s",
        default=2700,
        doc="DWELL_S: in-band time at PLATEN_SP.",
    )
    cool_rate_c_per_min = Holding(
        104, U16, scale=0.1, limits=(2.0, 5.0), unit="°C/min", default=4.0, doc="COOL_RATE."
    )
    unload_sp_c = Holding(
        105, S16, scale=0.1, limits=(40.0, 100.0), unit="°C", default=80.0, doc="UNLOAD_SP."
    )
    pressure_sp_mpa = Holding(
        106, U16, scale=0.01, limits=(1.0, 3.0), unit="MPa", default=2.0, doc="PRESSURE_SP."
    )
    pressure_band_mpa = Holding(
        107, U16, scale=0.01, limits=(0.05, 0.5), unit="MPa", default=0.1, doc="PRESSURE_BAND (±)."
    )
    temp_band_c = Holding(
        108, U16, scale=0.1, limits=(0.5, 5.0), unit="°C", default=2.0, doc="TEMP_BAND (±)."
    )
    vacuum_sp_kpa = Holding(
        109,
        U16,
        scale=0.1,
        limits=(0.5, 20.0),
        unit="kPa",
        default=2.0,
        doc="VACUUM_SP (absolute).",
    )
    evac_s = Holding(
        110,
        U16,
        limits=(60, 900),
        unit="s",
        default=300,
        doc="EVAC_S: hold at vacuum before pressing.",
    )
    load_mask = Holding(111, U16, limits=(1, 255), doc="LOAD_MASK: bit k-1 = position k.")
    strip_id = Holding(
        200, STRING, count=POSITIONS, doc="STRIP_ID_1..8: traceability, cleared by ACK."
    )

    # -- input registers (§4) -------------------------------------------------------------------
    platen_top_pv_c = Input(100, S16, scale=0.1, unit="°C", doc="PLATEN_TOP_PV.")
    platen_bottom_pv_c = Input(101, S16, scale=0.1, unit="°C", doc="PLATEN_BOT_PV.")
    temp_sp_active_c = Input(
        102, S16, scale=0.1, unit="°C", doc="TEMP_SP_ACTIVE: ramping SP; 0 in IDLE."
    )
    pressure_pv_mpa = Input(103, U16, scale=0.01, unit="MPa", doc="PRESSURE_PV: press pressure.")
    vacuum_pv_kpa = Input(
        104, U16, scale=0.1, unit="kPa", doc="VACUUM_PV (absolute; 101.3 at atmosphere)."
    )
    strip_present = Input(
        105, U16, doc="STRIP_PRESENT: load-position sensors, bit k-1 = position k."
    )
    phase_elapsed_s = Input(106, U16, unit="s", doc="PHASE_ELAPSED_S.")
    dwell_remaining_s = Input(107, U16, unit="s", doc="DWELL_REMAINING_S: counts down in DWELL.")
    heater_top_out_pct = Input(108, U16, unit="%", doc="HEATER_TOP_OUT, 0-100.")
    heater_bottom_out_pct = Input(109, U16, unit="%", doc="HEATER_BOT_OUT, 0-100.")
    position_results = Input(
        110, count=POSITIONS, doc="POS_RESULT_1..8: 0 no data, 1 P, 2 F, 3 X, 4 N."
    )
    position_defects = Input(118, count=POSITIONS, doc="POS_DEFECT_1..8: defect code, 0 if none.")
    peak_temp_c = Input(
        126, S16, scale=0.1, unit="°C", doc="PEAK_TEMP: max platen PV in the cycle."
    )
    max_temp_dev_c = Input(
        127, U16, scale=0.1, unit="°C", doc="MAX_TEMP_DEV: max |PV - PLATEN_SP| in DWELL."
    )
    min_pressure_dwell_mpa = Input(128, U16, scale=0.01, unit="MPa", doc="MIN_PRESSURE_DWELL.")
    max_vacuum_dwell_kpa = Input(
        129, U16, scale=0.1, unit="kPa", doc="MAX_VACUUM_DWELL (absolute)."
    )
    dwell_actual_s = Input(130, U16, unit="s", doc="DWELL_ACTUAL_S: in-band dwell accumulated.")
    cycle_result = ResultBlock(LaminationResult)

    def alarms_in_words(self, alarm_words: tuple[int, ...]) -> list[int]:
        """Alarm codes set in ALARM_WORD_1..4 (``status().alarm_words``), in table order."""
        return [
            code
            for code, (word, bit) in self.alarm_word_bits.items()
            if word <= len(alarm_words) and alarm_words[word - 1] & (1 << bit)
        ]

    def loaded_positions(self) -> tuple[int, ...]:
        """Positions whose sensors see a strip (STRIP_PRESENT)."""
        present = self.strip_present
        return tuple(k for k in range(1, POSITIONS + 1) if present & (1 << (k - 1)))


@dataclass(frozen=True)
class LaminationRecipe(SetPoints, driver=Laminator):
    """HR 100-110 of one press load (LOAD_MASK, HR 111, follows from the loaded positions)."""

    platen_sp_c: float = Laminator.platen_sp_c.default
    standby_sp_c: float = Laminator.standby_sp_c.default
    ramp_rate_c_per_min: float = Laminator.ramp_rate_c_per_min.default
    dwell_s: int = Laminator.dwell_s.default
    cool_rate_c_per_min: float = Laminator.cool_rate_c_per_min.default
    unload_sp_c: float = Laminator.unload_sp_c.default
    pressure_sp_mpa: float = Laminator.pressure_sp_mpa.default
    pressure_band_mpa: float = Laminator.pressure_band_mpa.default
    temp_band_c: float = Laminator.temp_band_c.default
    vacuum_sp_kpa: float = Laminator.vacuum_sp_kpa.default
    evac_s: int = Laminator.evac_s.default

    def check_rules(self) -> None:
        """§4: STANDBY_SP <= PLATEN_SP - 50.0 °C (the tool refuses ARM/START otherwise)."""
        if self.standby_sp_c > self.platen_sp_c - STANDBY_GAP_C:
            raise ParameterOutOfRange(
                f"standby_sp_c {self.standby_sp_c} °C must be at most platen_sp_c - "
                f"{STANDBY_GAP_C} = {self.platen_sp_c - STANDBY_GAP_C} °C"
            )

    @property
    def nominal_cycle_s(self) -> float:
        """Typical START-to-DONE time (§9: about 5640 s at defaults); pump-down taken as 120 s."""
        rise_c = self.platen_sp_c - self.standby_sp_c
        fall_c = self.platen_sp_c - self.unload_sp_c
        return (
            CLOSE_S
            + PUMPDOWN_S
            + self.evac_s
            + self.pressure_sp_mpa / BUILD_RATE_MPA_PER_S
            + 60.0 * rise_c / self.ramp_rate_c_per_min
            + self.dwell_s
            + 60.0 * fall_c / self.cool_rate_c_per_min
            + VENT_S
        )
