"""TM-4 transfer mold press driver. Host interface: mold-press.md (Modbus TCP, unit 1).
A whole cycle: docs/tools/mold-press.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.errors import ParameterOutOfRange
from drivers.heat_up import HeatUpLaw
from drivers.modbus_tool import BatchModbusTool, BatchResult, PositionResult, ResultBlock
from drivers.records import alarms, defects
from drivers.registers import S16, STRING, U16, DiscreteInput, Holding, Input
from drivers.setpoints import SetPoints

POSITIONS = 4


@dataclass(frozen=True)
class ShotResult(BatchResult):
    """IR 110-125 after a shot (valid while RESULTS_AVAILABLE), with the positions' outcomes and
    strip ids."""

    fill_time_s: float
    peak_transfer_pressure_mpa: float
    cull_height_mm: float
    alpha_at_open: float
    t_alpha03_s: float
    chase_temp_min_c: float
    chase_temp_max_c: float
    clamp_force_min_kn: int
    positions: tuple[PositionResult, ...]


class MoldPress(BatchModbusTool):
    """TM-4 transfer mold press (mold-press.md). Unit of work: a shot of 1-4 strips."""

    tool_name = "mold-press"
    model = "TM-4"
    poll_interval_s = 0.5
    #: mold-press.md §8: heat-up at 5 °C/min; §3: READY after 60 s within ±TEMP_BAND.
    heat_up_law = HeatUpLaw(rate_c_per_min=5.0, stable_s=60.0)
    heaters = (("chase_top_pv_c", "chase_top_sp_c"), ("chase_bottom_pv_c", "chase_bottom_sp_c"))
    positions = POSITIONS
    phase_names = (
        "NONE",
        "LOAD",
        "PREHEAT",
        "CLAMP",
        "TRANSFER",
        "CURE",
        "OPEN",
        "CLEAN",
        "UNLOAD",
    )
    interlock_bits = ("ESTOP", "DOOR", "TEMP", "HYDRAULIC", "AIR", "LOAD", "HOST_WDT", "PELLET")
    alarm_table = alarms("""
        4001 A Emergency stop
        4002 A Safety door opened during cycle
        4003 W Host watchdog timeout
        4004 H Hydraulic pressure low
        4005 H Compressed air low
        4101 H Top chase temperature out of band
        4102 H Bottom chase temperature out of band
        4103 A Chase over-temperature
        4104 A Heater or thermocouple fault
        4105 H Preheater fault
        4111 A Clamp force not reached
        4112 A Transfer pressure high
        4113 A Transfer stroke not completed
        4114 H Pellet jam
        4115 H Pellet supply empty
        4116 W Cull height out of tolerance
        4117 W Auto-clean failure
        4118 A Ejector fault
        4119 H Consecutive short shots
        4201 W Pellet supply low
    """)
    defect_texts = defects("""
        4501 incomplete fill (short shot)
        4502 under-cure
        4503 cull height out of tolerance
        4504 chase temperature excursion during shot
        4505 clamp force low (flash risk)
        4506 transfer pressure low (void risk)
        4507 shot aborted after transfer started
    """)

    # -- discrete inputs (§4) --------------------------------------------------------------------
    temp_in_band = DiscreteInput(16, doc="TEMP_IN_BAND: both chases within ±TEMP_BAND.")
    clamped = DiscreteInput(17, doc="CLAMPED: mold closed at clamp force.")
    plunger_home = DiscreteInput(18, doc="PLUNGER_HOME: ram retracted.")
    hydraulic_ok = DiscreteInput(19, doc="HYDRAULIC_OK.")
    air_ok = DiscreteInput(20, doc="AIR_OK.")
    pellet_ok = DiscreteInput(21, doc="PELLET_OK: pellet stock ≥ PELLETS_PER_SHOT.")
    vacuum_assist_ok = DiscreteInput(22, doc="VACUUM_ASSIST_OK (meaningful in CLAMP-CURE).")

    # -- holding registers (§4), manual order -----------------------------------------------------
    chase_top_sp_c = Holding(
        100, S16, scale=0.1, limits=(165.0, 185.0), unit="°C", default=175.0, doc="CHASE_TOP_SP."
    )
    chase_bottom_sp_c = Holding(
        101, S16, scale=0.1, limits=(165.0, 185.0), unit="°C", default=175.0, doc="CHASE_BOT_SP."
    )
    temp_band_c = Holding(
        102,
        U16,
        scale=0.1,
        limits=(1.0, 10.0),
        unit="°C",
        default=3.0,
        doc="TEMP_BAND: ± band around the set-points.",
    )
    clamp_force_sp_kn = Holding(
        103, U16, limits=(200, 800), unit="kN", default=500, doc="CLAMP_FORCE_SP."
    )
    transfer_pressure_sp_mpa = Holding(
        104, U16, scale=0.01, limits=(5.0, 10.0), unit="MPa", default=7.5, doc="TRANSFER_P_SP."
    )
    stage1_end_mm = Holding(
        105, U16, scale=0.1, limits=(1.0, 60.0), unit="mm", default=20.0, doc="S1_END_POS."
    )
    stage1_speed_mm_s = Holding(
        106, U16, scale=0.1, limits=(0.5, 20.0), unit="mm/s", default=6.0, doc="S1_SPEED."
    )
    stage2_end_mm = Holding(
        107, U16, scale=0.1, limits=(1.0, 60.0), unit="mm", default=40.0, doc="S2_END_POS."
    )
    stage2_speed_mm_s = Holding(
        108, U16, scale=0.1, limits=(0.5, 20.0), unit="mm/s", default=3.0, doc="S2_SPEED."
    )
    stage3_end_mm = Holding(
        109,
        U16,
        scale=0.1,
        limits=(1.0, 60.0),
        unit="mm",
        default=46.0,
        doc="S3_END_POS (fill position).",
    )
    stage3_speed_mm_s = Holding(
        110, U16, scale=0.1, limits=(0.5, 20.0), unit="mm/s", default=2.0, doc="S3_SPEED."
    )
    cure_s = Holding(
        111, U16, limits=(60, 180), unit="s", default=90, doc="CURE_S: in-mold cure time."
    )
    pellet_preheat_sp_c = Holding(
        112, S16, scale=0.1, limits=(60.0, 100.0), unit="°C", default=85.0, doc="PELLET_PREHEAT_SP."
    )
    substrate_preheat_sp_c = Holding(
        113,
        S16,
        scale=0.1,
        limits=(100.0, 175.0),
        unit="°C",
        default=150.0,
        doc="SUBSTRATE_PREHEAT_SP.",
    )
    preheat_s = Holding(114, U16, limits=(5, 60), unit="s", default=20, doc="PREHEAT_S.")
    pellets_per_shot = Holding(115, U16, limits=(1, 16), default=8, doc="PELLETS_PER_SHOT.")
    cull_sp_mm = Holding(
        116, U16, scale=0.01, limits=(2.0, 8.0), unit="mm", default=4.0, doc="CULL_SP."
    )
    cull_tolerance_mm = Holding(
        117, U16, scale=0.01, limits=(0.1, 2.0), unit="mm", default=0.5, doc="CULL_TOL."
    )
    alpha_min = Holding(
        118,
        U16,
        scale=0.001,
        limits=(0.5, 0.99),
        default=0.8,
        doc="ALPHA_MIN: minimum α at mold open.",
    )
    auto_clean = Holding(119, U16, limits=(0, 1), default=True, doc="AUTO_CLEAN (0/1).")
    vacuum_assist = Holding(120, U16, limits=(0, 1), default=True, doc="VACUUM_ASSIST (0/1).")
    load_mask = Holding(121, U16, limits=(1, 15), doc="LOAD_MASK: bit k-1 = position k.")
    strip_id = Holding(
        200, STRING, count=POSITIONS, doc="STRIP_ID_1..4: traceability, cleared by ACK."
    )

    # -- input registers (§4) ------------------------------------------------------------------------
    chase_top_pv_c = Input(100, S16, scale=0.1, unit="°C", doc="CHASE_TOP_PV.")
    chase_bottom_pv_c = Input(101, S16, scale=0.1, unit="°C", doc="CHASE_BOT_PV.")
    clamp_force_pv_kn = Input(102, U16, unit="kN", doc="CLAMP_FORCE_PV.")
    transfer_pressure_pv_mpa = Input(103, U16, scale=0.01, unit="MPa", doc="TRANSFER_P_PV.")
    plunger_position_mm = Input(104, U16, scale=0.1, unit="mm", doc="PLUNGER_POS (0 = home).")
    plunger_speed_mm_s = Input(105, U16, scale=0.1, unit="mm/s", doc="PLUNGER_SPEED.")
    pellet_stock = Input(106, U16, doc="PELLET_STOCK: pellets in the feeder.")
    strip_present = Input(107, U16, doc="STRIP_PRESENT: bit k-1 = position k.")
    phase_elapsed_s = Input(108, U16, unit="s", doc="PHASE_ELAPSED_S.")
    alpha_pv = Input(
        109, U16, scale=0.001, doc="ALPHA_PV: live cure estimate, 0 outside TRANSFER/CURE."
    )
    fill_time_s = Input(110, U16, scale=0.1, unit="s", doc="FILL_TIME.")
    peak_transfer_pressure_mpa = Input(111, U16, scale=0.01, unit="MPa", doc="PEAK_TRANSFER_P.")
    cull_height_mm = Input(112, U16, scale=0.01, unit="mm", doc="CULL_H.")
    alpha_at_open = Input(113, U16, scale=0.001, doc="ALPHA_OPEN: α at mold open.")
    t_alpha03_s = Input(114, U16, scale=0.1, unit="s", doc="T_ALPHA03: model time to α = 0.3.")
    chase_temp_min_c = Input(
        115, S16, scale=0.1, unit="°C", doc="CHASE_TEMP_MIN during CLAMP-OPEN."
    )
    chase_temp_max_c = Input(
        116, S16, scale=0.1, unit="°C", doc="CHASE_TEMP_MAX during CLAMP-OPEN."
    )
    clamp_force_min_kn = Input(117, U16, unit="kN", doc="CLAMP_FORCE_MIN during TRANSFER and CURE.")
    position_results = Input(
        118, count=POSITIONS, doc="POS_RESULT_1..4: README §4 code (0 no data, 1 P ... 4 N)."
    )
    position_defects = Input(122, count=POSITIONS, doc="POS_DEFECT_1..4: defect code, 0 if none.")
    shot_result = ResultBlock(ShotResult)


def check_stage_order(stage1_end_mm: float, stage2_end_mm: float, stage3_end_mm: float) -> None:
    """mold-press.md §4 ARM cross-check (reason 14): S1_END_POS < S2_END_POS < S3_END_POS."""
    if not stage1_end_mm < stage2_end_mm < stage3_end_mm:
        raise ParameterOutOfRange(
            f"plunger stages must satisfy S1 < S2 < S3, got {stage1_end_mm}, "
            f"{stage2_end_mm}, {stage3_end_mm} mm"
        )


@dataclass(frozen=True)
class MoldRecipe(SetPoints, driver=MoldPress):
    """HR 100-120 of one shot (LOAD_MASK, HR 121, follows from the loaded positions)."""

    chase_top_sp_c: float = MoldPress.chase_top_sp_c.default
    chase_bottom_sp_c: float = MoldPress.chase_bottom_sp_c.default
    temp_band_c: float = MoldPress.temp_band_c.default
    clamp_force_sp_kn: int = MoldPress.clamp_force_sp_kn.default
    transfer_pressure_sp_mpa: float = MoldPress.transfer_pressure_sp_mpa.default
    stage1_end_mm: float = MoldPress.stage1_end_mm.default
    stage1_speed_mm_s: float = MoldPress.stage1_speed_mm_s.default
    stage2_end_mm: float = MoldPress.stage2_end_mm.default
    stage2_speed_mm_s: float = MoldPress.stage2_speed_mm_s.default
    stage3_end_mm: float = MoldPress.stage3_end_mm.default
    stage3_speed_mm_s: float = MoldPress.stage3_speed_mm_s.default
    cure_s: int = MoldPress.cure_s.default
    pellet_preheat_sp_c: float = MoldPress.pellet_preheat_sp_c.default
    substrate_preheat_sp_c: float = MoldPress.substrate_preheat_sp_c.default
    preheat_s: int = MoldPress.preheat_s.default
    pellets_per_shot: int = MoldPress.pellets_per_shot.default
    cull_sp_mm: float = MoldPress.cull_sp_mm.default
    cull_tolerance_mm: float = MoldPress.cull_tolerance_mm.default
    alpha_min: float = MoldPress.alpha_min.default
    auto_clean: bool = MoldPress.auto_clean.default
    vacuum_assist: bool = MoldPress.vacuum_assist.default

    def check_rules(self) -> None:
        """The §4 ARM cross-check: S1 < S2 < S3."""
        check_stage_order(self.stage1_end_mm, self.stage2_end_mm, self.stage3_end_mm)

    @property
    def nominal_fill_s(self) -> float:
        """S1/v1 + (S2-S1)/v2 + (S3-S2)/v3 (13.0 s at defaults)."""
        return (
            self.stage1_end_mm / self.stage1_speed_mm_s
            + (self.stage2_end_mm - self.stage1_end_mm) / self.stage2_speed_mm_s
            + (self.stage3_end_mm - self.stage2_end_mm) / self.stage3_speed_mm_s
        )
