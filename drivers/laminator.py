"""LM-8 vacuum laminator driver. Host interface: laminator.md (Modbus TCP, unit 1).

with Laminator.open("modbus+tcp://127.0.0.1:502?unit=1") as laminator:
    laminator.arm(LaminationRecipe(dwell_s=2700), strip_ids={1: "LA2403-017", 2: "LA2403-018"})
    laminator.wait_for_state([ToolState.READY], timeout_s=3600)
    laminator.start()
    laminator.wait_for_state([ToolState.DONE, ToolState.ABORTED], timeout_s=3 * 3600)
    result = laminator.cycle_result()
    laminator.acknowledge()
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from drivers.errors import ParameterOutOfRange
from drivers.modbus_tool import (
    S16,
    STRING,
    U16,
    BatchModbusTool,
    DiscreteInput,
    Holding,
    Input,
    PositionResult,
    Register,
    position_result_char,
)
from drivers.records import AlarmInfo

POSITIONS = 8
STRIP_ID_BASE = 200
RESULT_BASE = 110  # IR 110-130
STANDBY_GAP_C = 50.0  # §4 cross-check: STANDBY_SP <= PLATEN_SP - 50.0 °C
# §9 typical durations used by LaminationRecipe.nominal_cycle_s.
CLOSE_S, PUMPDOWN_S, VENT_S = 20.0, 120.0, 60.0
BUILD_RATE_MPA_PER_S = 2.0 / 30.0


@dataclass(frozen=True)
class LaminationRecipe:
    """HR 100-110 of one press load, in engineering units (defaults as the manual, §4).

    LOAD_MASK (HR 111) is not part of the recipe: it follows from the loaded positions.
    """

    platen_sp_c: float = 170.0
    standby_sp_c: float = 100.0
    ramp_rate_c_per_min: float = 4.0
    dwell_s: int = 2700
    cool_rate_c_per_min: float = 4.0
    unload_sp_c: float = 80.0
    pressure_sp_mpa: float = 2.0
    pressure_band_mpa: float = 0.1
    temp_band_c: float = 2.0
    vacuum_sp_kpa: float = 2.0
    evac_s: int = 300

    def check_consistency(self) -> None:
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


@dataclass(frozen=True)
class LaminationResult:
    """IR 110-130 after a cycle (valid while RESULTS_AVAILABLE), with the positions' strip ids."""

    peak_temp_c: float
    max_temp_dev_c: float
    min_pressure_dwell_mpa: float
    max_vacuum_dwell_kpa: float
    dwell_actual_s: int
    positions: tuple[PositionResult, ...]

    @property
    def result_map(self) -> str:
        """One character per position 1-8 (P F X N; X also for "no data")."""
        return "".join(p.result or "X" for p in self.positions)

    def by_strip(self) -> dict[str, PositionResult]:
        """The outcomes of the positions that carried a strip id, by strip id."""
        return {p.strip_id: p for p in self.positions if p.strip_id}


class Laminator(BatchModbusTool):
    """LM-8 vacuum laminator (laminator.md). Unit of work: a press load of 1-8 strips."""

    tool_name = "laminator"
    model = "LM-8"
    poll_interval_s = 1.0  # §2: status no faster than every 250 ms, 1 s recommended
    positions = POSITIONS
    strip_id_base = STRIP_ID_BASE
    phase_names = ("NONE", "CLOSE", "EVACUATE", "PRESSURIZE", "RAMP", "DWELL", "COOL", "VENT")
    interlock_bits = ("ESTOP", "DOOR", "TEMP", "HYDRAULIC", "COOLING_WATER", "LOAD", "HOST_WDT")
    alarm_table: ClassVar[Mapping[int, AlarmInfo]] = {
        a.code: a
        for a in (
            AlarmInfo(1001, "A", "Emergency stop"),
            AlarmInfo(1002, "A", "Door opened during cycle"),
            AlarmInfo(1003, "W", "Host watchdog timeout"),
            AlarmInfo(1004, "H", "Hydraulic pressure low"),
            AlarmInfo(1005, "H", "Cooling water flow low"),
            AlarmInfo(1101, "A", "Top platen over-temperature"),
            AlarmInfo(1102, "A", "Bottom platen over-temperature"),
            AlarmInfo(1103, "A", "Thermocouple open"),
            AlarmInfo(1104, "W", "Temperature deviation in dwell"),
            AlarmInfo(1105, "H", "Heat-up timeout"),
            AlarmInfo(1111, "A", "Pressure build timeout"),
            AlarmInfo(1112, "W", "Pressure deviation in dwell"),
            AlarmInfo(1121, "A", "Vacuum not reached"),
            AlarmInfo(1122, "W", "Vacuum lost in dwell"),
            AlarmInfo(1131, "W", "Cool-down rate low"),
        )
    }
    #: ALARM_WORD_n bit m of each alarm (§7 "Word.bit").
    # fmt: off
    alarm_word_bits: ClassVar[Mapping[int, tuple[int, int]]] = {
        1001: (1, 0), 1002: (1, 1), 1003: (1, 2), 1004: (1, 3), 1005: (1, 4),
        1101: (2, 0), 1102: (2, 1), 1103: (2, 2), 1104: (2, 3), 1105: (2, 4),
        1111: (3, 0), 1112: (3, 1), 1121: (3, 2), 1122: (3, 3), 1131: (3, 4),
    }
    # fmt: on
    defect_texts: ClassVar[Mapping[int, str]] = {
        1501: "temperature excursion during dwell",
        1502: "pressure excursion during dwell",
        1503: "vacuum lost during dwell",
        1504: "lamination incomplete (cycle aborted after pressing started)",
    }

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
    platen_sp_c = Holding(100, S16, scale=0.1, limits=(150.0, 190.0), unit="°C", doc="PLATEN_SP.")
    standby_sp_c = Holding(101, S16, scale=0.1, limits=(50.0, 120.0), unit="°C", doc="STANDBY_SP.")
    ramp_rate_c_per_min = Holding(
        102, U16, scale=0.1, limits=(2.0, 5.0), unit="°C/min", doc="RAMP_RATE."
    )
    dwell_s = Holding(
        103, U16, limits=(1800, 5400), unit="s", doc="DWELL_S: in-band time at PLATEN_SP."
    )
    cool_rate_c_per_min = Holding(
        104, U16, scale=0.1, limits=(2.0, 5.0), unit="°C/min", doc="COOL_RATE."
    )
    unload_sp_c = Holding(105, S16, scale=0.1, limits=(40.0, 100.0), unit="°C", doc="UNLOAD_SP.")
    pressure_sp_mpa = Holding(
        106, U16, scale=0.01, limits=(1.0, 3.0), unit="MPa", doc="PRESSURE_SP."
    )
    pressure_band_mpa = Holding(
        107, U16, scale=0.01, limits=(0.05, 0.5), unit="MPa", doc="PRESSURE_BAND (±)."
    )
    temp_band_c = Holding(108, U16, scale=0.1, limits=(0.5, 5.0), unit="°C", doc="TEMP_BAND (±).")
    vacuum_sp_kpa = Holding(
        109, U16, scale=0.1, limits=(0.5, 20.0), unit="kPa", doc="VACUUM_SP (absolute)."
    )
    evac_s = Holding(
        110, U16, limits=(60, 900), unit="s", doc="EVAC_S: hold at vacuum before pressing."
    )
    load_mask = Holding(111, U16, limits=(1, 255), doc="LOAD_MASK: bit k-1 = position k.")
    strip_id_1 = Holding(200, STRING, doc="STRIP_ID_1 (traceability, cleared by ACK).")
    strip_id_2 = Holding(210, STRING, doc="STRIP_ID_2.")
    strip_id_3 = Holding(220, STRING, doc="STRIP_ID_3.")
    strip_id_4 = Holding(230, STRING, doc="STRIP_ID_4.")
    strip_id_5 = Holding(240, STRING, doc="STRIP_ID_5.")
    strip_id_6 = Holding(250, STRING, doc="STRIP_ID_6.")
    strip_id_7 = Holding(260, STRING, doc="STRIP_ID_7.")
    strip_id_8 = Holding(270, STRING, doc="STRIP_ID_8.")

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
    position_result_1 = Input(110, U16, doc="POS_RESULT_1: 0 no data, 1 P, 2 F, 3 X, 4 N.")
    position_result_2 = Input(111, U16, doc="POS_RESULT_2.")
    position_result_3 = Input(112, U16, doc="POS_RESULT_3.")
    position_result_4 = Input(113, U16, doc="POS_RESULT_4.")
    position_result_5 = Input(114, U16, doc="POS_RESULT_5.")
    position_result_6 = Input(115, U16, doc="POS_RESULT_6.")
    position_result_7 = Input(116, U16, doc="POS_RESULT_7.")
    position_result_8 = Input(117, U16, doc="POS_RESULT_8.")
    position_defect_1 = Input(118, U16, doc="POS_DEFECT_1: defect code, 0 if none.")
    position_defect_2 = Input(119, U16, doc="POS_DEFECT_2.")
    position_defect_3 = Input(120, U16, doc="POS_DEFECT_3.")
    position_defect_4 = Input(121, U16, doc="POS_DEFECT_4.")
    position_defect_5 = Input(122, U16, doc="POS_DEFECT_5.")
    position_defect_6 = Input(123, U16, doc="POS_DEFECT_6.")
    position_defect_7 = Input(124, U16, doc="POS_DEFECT_7.")
    position_defect_8 = Input(125, U16, doc="POS_DEFECT_8.")
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

    # -- recipe and cycle (§5) ------------------------------------------------------------------
    def write_recipe(
        self, recipe: LaminationRecipe, *, positions: Sequence[int] | None = None
    ) -> None:
        """Write HR 100-111 in one FC16; ranges and the §4 cross-check are checked first."""
        recipe.check_consistency()
        super().write_recipe(recipe, positions=positions)

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

    def cycle_result(self) -> LaminationResult:
        """IR 110-130 (one FC04) and the strip ids, as one record."""
        words = self.read_registers("input", RESULT_BASE, 21)
        ids = self.strip_ids()
        cls = type(self)

        def value(reg: Register) -> float:
            offset = reg.address - RESULT_BASE
            return float(reg.from_words(words[offset : offset + 1]))

        positions = tuple(
            PositionResult(k + 1, position_result_char(words[k]), words[8 + k], ids[k])
            for k in range(POSITIONS)
        )
        return LaminationResult(
            peak_temp_c=value(cls.peak_temp_c),
            max_temp_dev_c=value(cls.max_temp_dev_c),
            min_pressure_dwell_mpa=value(cls.min_pressure_dwell_mpa),
            max_vacuum_dwell_kpa=value(cls.max_vacuum_dwell_kpa),
            dwell_actual_s=int(value(cls.dwell_actual_s)),
            positions=positions,
        )
