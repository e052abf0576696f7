"""WE-2 etch bath driver. Host interface: etch-bath.md (Modbus RTU over RS-485 at 19200 8E1, or
Modbus TCP through the gateway; the unit id is the bath's RTU address, HR 500).
A whole cycle: docs/tools/etch-bath.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar

from drivers.address import parse_modbus_address
from drivers.errors import PacklineError, ParameterOutOfRange, ToolError, ToolTimeout
from drivers.heat_up import HeatUpLaw
from drivers.modbus_tool import BatchModbusTool, BatchResult, PositionResult, ResultBlock
from drivers.records import alarms, defects
from drivers.registers import (
    S16,
    STRING,
    U16,
    U32,
    Block,
    DiscreteInput,
    Holding,
    Input,
    LevelCoil,
    Pulse,
)
from drivers.setpoints import SetPoints
from drivers.transports.modbus import ModbusExceptionReply

SLOTS = 10


class Chemistry(IntEnum):
    """HR 100 CHEMISTRY (station setting)."""

    CUCL2 = 1
    FECL3 = 2
    KOH = 3


class EndpointMode(IntEnum):
    """HR 109 ENDPOINT_MODE."""

    TIME = 0
    DEPTH = 1
    HOST = 2


class EndReason(IntEnum):
    """IR 115 END_REASON."""

    NONE = 0
    TIME = 1
    DEPTH = 2
    HOST = 3
    MAX_TIME = 4
    ABORTED = 5


class Baud(IntEnum):
    """HR 501 BAUD (station setting, effective at the next power-up)."""

    B9600 = 0
    B19200 = 1
    B38400 = 2
    B57600 = 3


class LineParity(IntEnum):
    """HR 502 PARITY (station setting, effective at the next power-up)."""

    EVEN_8E1 = 0
    ODD_8O1 = 1
    NONE_8N2 = 2


@dataclass(frozen=True)
class ChemistryWindow:
    """The §4 cross-checks of one chemistry (checked by the tool at ARM and START)."""

    temp_c: tuple[float, float]
    conc: tuple[float, float]
    cu_load_max_g_l: float | None = None


WINDOWS: Mapping[Chemistry, ChemistryWindow] = {
    Chemistry.CUCL2: ChemistryWindow((45.0, 55.0), (28.0, 36.0)),
    Chemistry.FECL3: ChemistryWindow((40.0, 55.0), (36.0, 42.0), cu_load_max_g_l=100.0),
    Chemistry.KOH: ChemistryWindow((65.0, 90.0), (10.0, 45.0)),
}


@dataclass(frozen=True)
class BathReadings:
    """IR 100-108: the bath's process values."""

    temp_c: float
    conc: float
    acid_mol_l: float
    orp_mv: int
    cu_load_g_l: float
    level_mm: int
    flow_l_min: float
    heater_out_pct: int
    hoist_pos_mm: int


@dataclass(frozen=True)
class EtchProgress:
    """IR 109-114: what a host polls during ETCH (mode HOST: poll every 1 s, pulse END_ETCH)."""

    rate_um_min: float
    depth_um: float
    elapsed_s: int
    remaining_s: int
    strip_present: int


@dataclass(frozen=True)
class BathInputs:
    """DI 16-27."""

    temp_in_band: bool
    conc_in_band: bool
    level_ok: bool
    level_high: bool
    hoist_at_top: bool
    hoist_at_bottom: bool
    carrier_present: bool
    pump_running: bool
    heater_on: bool
    dosing_active: bool
    exhaust_ok: bool
    flow_ok: bool


@dataclass(frozen=True)
class StationSettings:
    """HR 100 and HR 500-502 (writable in IDLE only, non-volatile)."""

    chemistry: Chemistry
    unit_id: int
    baud: Baud
    parity: LineParity


@dataclass(frozen=True)
class EtchResult(BatchResult):
    """IR 115-140 after a batch (valid while RESULTS_AVAILABLE), with the slots' outcomes and
    strip ids."""

    end_reason: EndReason
    final_depth_um: float
    final_etch_s: int
    mean_rate_um_min: float
    mean_temp_c: float
    positions: tuple[PositionResult, ...]

    def strip_results(self) -> dict[str, PositionResult]:
        """Loaded slots by strip id."""
        return {p.strip_id: p for p in self.positions if p.strip_id and p.result != "X"}


class EtchBath(BatchModbusTool):
    """WE-2 etch bath (etch-bath.md). Unit of work: a carrier of 1-10 strips (slots 1-10)."""

    tool_name = "etch-bath"
    model = "WE-2"
    poll_interval_s = 1.0
    #: etch-bath.md §8: heat-up at 1.5 °C/min; §3: READY after 60 s within ±TEMP_BAND.
    heat_up_law = HeatUpLaw(rate_c_per_min=1.5, stable_s=60.0)
    heaters = (("temp_pv_c", "temp_sp_c"),)
    positions = SLOTS
    phase_names = ("NONE", "LOAD", "LOWER", "ETCH", "RAISE", "DRIP", "RINSE", "UNLOAD")
    interlock_bits = (
        "ESTOP", "DOOR", "TEMP", "LEVEL", "EXHAUST", "LOAD", "HOST_WDT", "CU_LOAD", "CARRIER",
    )  # fmt: skip
    alarm_table = alarms("""
        5001 A Emergency stop
        5002 H Lid opened during cycle
        5003 W Host watchdog timeout
        5004 H Exhaust flow low
        5101 W Bath temperature high
        5102 W Bath temperature low
        5103 A Bath over-temperature
        5104 A Heater fault
        5105 H Heat-up timeout
        5110 H Level low
        5111 W Level high
        5120 W Concentration out of band
        5121 W ORP out of band
        5122 W Free acid out of band
        5123 H Copper loading high
        5124 W Density sensor drift
        5130 H Replenisher pump fault
        5131 H Recirculation flow low
        5140 A Hoist motion fault
        5141 A Hoist overtravel
        5150 W Etch time limit reached
    """)
    interlock_blocks: ClassVar[Mapping[str, frozenset[str]]] = {
        "ESTOP": frozenset({"START", "RESUME", "HOIST_UP", "HOIST_DOWN"}),
        "DOOR": frozenset({"START", "RESUME", "HOIST_UP", "HOIST_DOWN"}),
        "TEMP": frozenset({"START"}),
        "LEVEL": frozenset({"START", "RESUME"}),
        "EXHAUST": frozenset({"START", "RESUME"}),
        "LOAD": frozenset({"START"}),
        "HOST_WDT": frozenset({"START", "RESUME"}),
        "CU_LOAD": frozenset({"START", "RESUME"}),
        "CARRIER": frozenset({"HOIST_DOWN"}),
    }
    defect_texts = defects("""
        5501 target depth not reached (etch time limit in mode DEPTH or HOST)
        5502 bath out of window during etch
        5503 etch interrupted by abort
    """)

    # -- coils (§4) ---------------------------------------------------------------------------------
    heater_enable = LevelCoil(
        19, doc="HEATER_ENABLE: heater may run when armed (0 refused in a cycle)."
    )
    pump_enable = LevelCoil(20, doc="PUMP_ENABLE: recirculation pump runs when armed (same rule).")

    # -- discrete inputs (§4) -------------------------------------------------------------------------
    temp_in_band = DiscreteInput(16, doc="TEMP_IN_BAND: TEMP_PV within ±TEMP_BAND of TEMP_SP.")
    conc_in_band = DiscreteInput(17, doc="CONC_IN_BAND: CONC_PV within ±CONC_BAND.")
    level_ok = DiscreteInput(18, doc="LEVEL_OK: level ≥ 350 mm.")
    level_high = DiscreteInput(19, doc="LEVEL_HIGH: level > 450 mm.")
    hoist_at_top = DiscreteInput(20, doc="HOIST_AT_TOP.")
    hoist_at_bottom = DiscreteInput(21, doc="HOIST_AT_BOTTOM: carrier immersed.")
    carrier_present = DiscreteInput(22, doc="CARRIER_PRESENT.")
    pump_running = DiscreteInput(23, doc="PUMP_RUNNING.")
    heater_on = DiscreteInput(24, doc="HEATER_ON.")
    dosing_active = DiscreteInput(25, doc="DOSING_ACTIVE.")
    exhaust_ok = DiscreteInput(26, doc="EXHAUST_OK.")
    flow_ok = DiscreteInput(27, doc="FLOW_OK.")

    # -- holding registers (§4), manual order ----------------------------------------------------------
    chemistry = Holding(
        100, enum=Chemistry, doc="CHEMISTRY: station setting, IDLE only, non-volatile."
    )
    temp_sp_c = Holding(
        101, S16, scale=0.1, limits=(20.0, 95.0), unit="°C", default=50.0, doc="TEMP_SP."
    )
    temp_band_c = Holding(
        102, U16, scale=0.1, limits=(0.5, 5.0), unit="°C", default=1.5, doc="TEMP_BAND: ±."
    )
    conc_sp = Holding(
        103,
        U16,
        scale=0.1,
        limits=(10.0, 50.0),
        unit="°Bé|wt%",
        default=32.0,
        doc="CONC_SP: °Bé (CUCL2, FECL3) / wt% (KOH).",
    )
    conc_band = Holding(
        104,
        U16,
        scale=0.1,
        limits=(0.5, 5.0),
        unit="°Bé|wt%",
        default=2.0,
        doc="CONC_BAND: ±, unit of CONC_SP.",
    )
    acid_sp_mol_l = Holding(
        105,
        U16,
        scale=0.01,
        limits=(0.0, 3.0),
        unit="mol/L",
        default=1.35,
        doc="ACID_SP: free HCl (ignored for KOH).",
    )
    orp_sp_mv = Holding(
        106, U16, limits=(300, 700), unit="mV", default=540, doc="ORP_SP (ignored for KOH)."
    )
    cu_load_max_g_l = Holding(
        107,
        U16,
        scale=0.1,
        limits=(10.0, 200.0),
        unit="g/L",
        default=160.0,
        doc="CU_LOAD_MAX (ignored for KOH).",
    )
    pump_speed_pct = Holding(108, U16, limits=(50, 100), unit="%", default=80, doc="PUMP_SPEED.")
    endpoint_mode = Holding(
        109,
        enum=EndpointMode,
        default=EndpointMode.DEPTH,
        doc="ENDPOINT_MODE: TIME, DEPTH or HOST.",
    )
    etch_time_s = Holding(
        110, U16, limits=(10, 3600), unit="s", default=420, doc="ETCH_TIME_S (mode TIME)."
    )
    etch_time_max_s = Holding(
        111, U16, limits=(10, 7200), unit="s", default=900, doc="ETCH_TIME_MAX_S: guard, all modes."
    )
    depth_target_um = Holding(
        112,
        U32,
        scale=0.01,
        limits=(1.0, 1000.0),
        unit="µm",
        default=230.0,
        doc="DEPTH_TARGET (mode DEPTH): u32, one FC16.",
    )
    lower_speed_mm_s = Holding(
        114, U16, limits=(5, 50), unit="mm/s", default=25, doc="LOWER_SPEED (lower and raise)."
    )
    drip_s = Holding(115, U16, limits=(0, 60), unit="s", default=10, doc="DRIP_S.")
    rinse_s = Holding(116, U16, limits=(0, 600), unit="s", default=60, doc="RINSE_S.")
    auto_dose = Holding(
        117,
        U16,
        limits=(0, 1),
        default=True,
        doc="AUTO_DOSE: 1 = replenisher dosing and level top-up.",
    )
    load_mask = Holding(118, U16, limits=(1, 1023), doc="LOAD_MASK: bit k-1 = slot k.")
    unit_id = Holding(
        500, U16, limits=(1, 247), doc="UNIT_ID: RTU address; IDLE only, next power-up."
    )
    baud = Holding(501, enum=Baud, doc="BAUD: IDLE only, effective at the next power-up.")
    parity = Holding(502, enum=LineParity, doc="PARITY: IDLE only, effective at the next power-up.")
    strip_id = Holding(
        200, STRING, count=SLOTS, doc="STRIP_ID_1..10: traceability, cleared by ACK."
    )

    # -- input registers (§4) ------------------------------------------------------------------------
    temp_pv_c = Input(100, S16, scale=0.1, unit="°C", doc="TEMP_PV.")
    conc_pv = Input(101, U16, scale=0.1, unit="°Bé|wt%", doc="CONC_PV.")
    acid_pv_mol_l = Input(102, U16, scale=0.01, unit="mol/L", doc="ACID_PV (0 for KOH).")
    orp_pv_mv = Input(103, S16, unit="mV", doc="ORP_PV (0 for KOH).")
    cu_load_pv_g_l = Input(104, U16, scale=0.1, unit="g/L", doc="CU_LOAD_PV (0 for KOH).")
    level_pv_mm = Input(105, U16, unit="mm", doc="LEVEL_PV (nominal 400).")
    flow_pv_l_min = Input(106, U16, scale=0.1, unit="L/min", doc="FLOW_PV.")
    heater_out_pct = Input(107, U16, unit="%", doc="HEATER_OUT.")
    hoist_pos_mm = Input(108, U16, unit="mm", doc="HOIST_POS: 0 top, 400 immersed.")
    etch_rate_est_um_min = Input(
        109, U16, scale=0.01, unit="µm/min", doc="ETCH_RATE_EST (1 s, 0 in IDLE)."
    )
    etch_depth_acc_um = Input(110, U32, scale=0.01, unit="µm", doc="ETCH_DEPTH_ACC: batch depth.")
    etch_elapsed_s = Input(112, U16, unit="s", doc="ETCH_ELAPSED_S: immersed time in ETCH.")
    etch_remaining_s = Input(113, U16, unit="s", doc="ETCH_REMAINING_S (per endpoint mode).")
    strip_present = Input(114, U16, doc="STRIP_PRESENT: slot sensors, bit k-1 = slot k.")
    end_reason = Input(115, enum=EndReason, doc="END_REASON (result).")
    final_depth_um = Input(116, U32, scale=0.01, unit="µm", doc="FINAL_DEPTH (result).")
    final_etch_s = Input(118, U16, unit="s", doc="FINAL_ETCH_S (result).")
    mean_rate_um_min = Input(119, U16, scale=0.01, unit="µm/min", doc="MEAN_RATE (result).")
    mean_temp_c = Input(120, S16, scale=0.1, unit="°C", doc="MEAN_TEMP (result).")
    position_results = Input(121, count=SLOTS, doc="POS_RESULT_1..10: README §4 code (result).")
    position_defects = Input(131, count=SLOTS, doc="POS_DEFECT_1..10: defect code (result).")

    bath_readings = Block(
        BathReadings,
        temp_c=temp_pv_c,
        conc=conc_pv,
        acid_mol_l=acid_pv_mol_l,
        orp_mv=orp_pv_mv,
        cu_load_g_l=cu_load_pv_g_l,
        level_mm=level_pv_mm,
        flow_l_min=flow_pv_l_min,
    )
    etch_progress = Block(
        EtchProgress,
        rate_um_min=etch_rate_est_um_min,
        depth_um=etch_depth_acc_um,
        elapsed_s=etch_elapsed_s,
        remaining_s=etch_remaining_s,
    )
    cycle_result = ResultBlock(EtchResult)

    def __init__(self, address: str, *, timeout_s: float | None = None, retries: int = 3) -> None:
        """Default timeouts are the manual's: 300 ms on RTU, 1 s through the gateway."""
        if timeout_s is None:
            timeout_s = 0.3 if parse_modbus_address(address).kind == "rtu" else 1.0
        super().__init__(address, timeout_s=timeout_s, retries=retries)

    # -- tool commands (coils 16-18) ----------------------------------------------------------------
    end_etch = Pulse(
        16,
        "END_ETCH",
        doc="END_ETCH: end the ETCH phase now (any mode); refused outside ETCH (20).",
    )
    hoist_up = Pulse(17, "HOIST_UP", doc="HOIST_UP: manual move to the top; IDLE, HEATING, READY.")
    hoist_down = Pulse(
        18,
        "HOIST_DOWN",
        doc="HOIST_DOWN: manual move to immersion; as HOIST_UP, not with a carrier.",
    )

    # -- recipe, strips and arming -----------------------------------------------------------------------
    def check_recipe(  # type: ignore[override]  # an EtchRecipe, with the station's chemistry
        self, recipe: EtchRecipe, *, chemistry: Chemistry | None = None
    ) -> None:
        """The §4 windows of the station's chemistry (read from HR 100 unless given): HR
        101-118 then go in one FC16, DEPTH_TARGET inside it."""
        station = Chemistry(chemistry) if chemistry is not None else self.chemistry
        problems = recipe.conflicts(station)
        if problems:
            raise ParameterOutOfRange("; ".join(problems))

    # -- block reads ----------------------------------------------------------------------------------------
    def station_settings(self) -> StationSettings:
        """UNIT_ID, BAUD, PARITY (one request) and CHEMISTRY."""
        cls = type(self)
        line = self.read_values(cls.unit_id, cls.baud, cls.parity)
        return StationSettings(chemistry=self.chemistry, **line)

    def bath_inputs(self) -> BathInputs:
        """DI 16-27 in one request."""
        return BathInputs(*self.read_discrete_inputs(16, 12))

    # -- errors: the gateway's own exceptions --------------------------------------------------------------
    def _translate(self, exc: ModbusExceptionReply, sent: str) -> PacklineError:
        """As the base, plus the gateway's 0x0A (unit not routed) and 0x0B (bath silent)."""
        if exc.exception_code == 11:
            return self.error(
                ToolTimeout, "gateway: the bath did not answer within 500 ms (exception 0x0B)", sent
            )
        if exc.exception_code == 10:
            return ToolError(
                10, "Gateway path unavailable",
                f"unit {self.link.endpoint.unit} is not routed by the gateway",
                native_code=10, **self.where(sent),
            )  # fmt: skip
        return super()._translate(exc, sent)


@dataclass(frozen=True)
class EtchRecipe(SetPoints, driver=EtchBath):
    """HR 101-117 of one batch (LOAD_MASK, HR 118, follows from the loaded slots)."""

    temp_sp_c: float = EtchBath.temp_sp_c.default
    temp_band_c: float = EtchBath.temp_band_c.default
    conc_sp: float = EtchBath.conc_sp.default  # °Bé (CUCL2, FECL3) or wt% (KOH)
    conc_band: float = EtchBath.conc_band.default
    acid_sp_mol_l: float = EtchBath.acid_sp_mol_l.default
    orp_sp_mv: int = EtchBath.orp_sp_mv.default
    cu_load_max_g_l: float = EtchBath.cu_load_max_g_l.default
    pump_speed_pct: int = EtchBath.pump_speed_pct.default
    endpoint_mode: EndpointMode = EtchBath.endpoint_mode.default
    etch_time_s: int = EtchBath.etch_time_s.default
    etch_time_max_s: int = EtchBath.etch_time_max_s.default
    depth_target_um: float = EtchBath.depth_target_um.default
    lower_speed_mm_s: int = EtchBath.lower_speed_mm_s.default
    drip_s: int = EtchBath.drip_s.default
    rinse_s: int = EtchBath.rinse_s.default
    auto_dose: bool = EtchBath.auto_dose.default

    @classmethod
    def typical(cls, chemistry: Chemistry) -> EtchRecipe:
        """The typical recipes of etch-bath.md §5 (slug etch CUCL2 or FECL3, PI recess KOH)."""
        if chemistry is Chemistry.FECL3:
            return cls(temp_sp_c=45.0, conc_sp=40.0, acid_sp_mol_l=0.17, orp_sp_mv=580,
                       cu_load_max_g_l=100.0, etch_time_max_s=1200)  # fmt: skip
        if chemistry is Chemistry.KOH:
            return cls(temp_sp_c=80.0, conc_sp=30.0, depth_target_um=25.0)
        return cls()

    def conflicts(self, chemistry: Chemistry) -> list[str]:
        """The §4 cross-checks this recipe fails for ``chemistry`` (empty: consistent)."""
        window = WINDOWS[Chemistry(chemistry)]
        problems = []
        if not window.temp_c[0] <= self.temp_sp_c <= window.temp_c[1]:
            problems.append(
                f"TEMP_SP {self.temp_sp_c} °C outside {window.temp_c} for {chemistry.name}"
            )
        if not window.conc[0] <= self.conc_sp <= window.conc[1]:
            problems.append(f"CONC_SP {self.conc_sp} outside {window.conc} for {chemistry.name}")
        limit = window.cu_load_max_g_l
        if limit is not None and self.cu_load_max_g_l > limit:
            problems.append(
                f"CU_LOAD_MAX {self.cu_load_max_g_l} g/L above {limit} for {chemistry.name}"
            )
        if self.endpoint_mode is EndpointMode.TIME and self.etch_time_max_s < self.etch_time_s:
            problems.append(
                f"ETCH_TIME_MAX_S {self.etch_time_max_s} s below ETCH_TIME_S {self.etch_time_s} s"
            )
        return problems
