"""The LM-8 manual's tables for the simulator: phases, settings, alarms, interlocks
and the fixed times and limits of laminator.md §3, §4, §7 and §9."""

from __future__ import annotations

from sim.modbus_model import Setting
from sim.tool_model import AlarmDef

PHASES = ("NONE", "CLOSE", "EVACUATE", "PRESSURIZE", "RAMP", "DWELL", "COOL", "VENT")
#: §3: PAUSE and holds freeze these phases at once; CLOSE and VENT run to their end.
HOLD_AT_ONCE_PHASES = frozenset({"EVACUATE", "PRESSURIZE", "RAMP", "DWELL", "COOL"})
PRESSING_PHASES = frozenset({"RAMP", "DWELL", "COOL"})
PUMPING_PHASES = frozenset({"EVACUATE", "PRESSURIZE", "RAMP", "DWELL", "COOL"})

CLOSE_S = 20.0  # §9
PUMPDOWN_TYPICAL_S = 120.0  # §9, used for CYCLE_REMAINING_S
VENT_S = 60.0  # §9
ABORT_VENT_S = 60.0  # §9: abort sequence
HEATUP_TIMEOUT_S = 30 * 60.0  # 1105
PRESSURE_BUILD_TIMEOUT_S = 120.0  # 1111
VACUUM_TIMEOUT_S = 600.0  # 1121
TEMP_DEVIATION_S = 60.0  # 1104
PRESSURE_DEVIATION_S = 30.0  # 1112
VACUUM_LOST_S = 30.0  # 1122
SLOW_COOL_S = 5 * 60.0  # 1131
OVERTEMP_MARGIN_C = 15.0  # 1101/1102
OVERTEMP_ABSOLUTE_C = 205.0
STANDBY_GAP_C = 50.0  # §4 cross-check

#: W alarms that mark the load, with the defect they set (§5, §6).
MARKING_ALARMS = {1104: 1501, 1112: 1502, 1122: 1503}
ABORT_DEFECT = 1504
#: Conditions an operator remedy (``fix``) removes, per alarm.
REMEDIES: dict[int, tuple[str, ...]] = {
    1101: ("RUNAWAY_TOP",),
    1102: ("RUNAWAY_BOT",),
    1104: ("HEATER_WEAK_TOP", "HEATER_WEAK_BOT"),
    1105: ("HEATER_WEAK_TOP", "HEATER_WEAK_BOT"),
    1111: ("PRESS_VALVE",),
    1112: ("PRESS_LEAK",),
    1121: ("VACUUM_LEAK",),
    1122: ("VACUUM_LEAK",),
    1131: ("COOLING_WEAK",),
}
#: Strip layout assumed for a strip the world has not seen: Format A or B (README §4).
STACK_FORMATS = {"cu-slice": (3, 10), "plate-sheet": (8, 30)}
ADHESIVE_RANGE_UM = (13.0, 102.0)  # §1: sheet adhesive

START_AND_RESUME = frozenset({"start", "resume"})

ALARM_DEFS = (
    AlarmDef(1001, "Emergency stop", "A", (1, 0)),
    AlarmDef(1002, "Door opened during cycle", "A", (1, 1)),
    AlarmDef(1003, "Host watchdog timeout", "W", (1, 2)),
    AlarmDef(1004, "Hydraulic pressure low", "H", (1, 3)),
    AlarmDef(1005, "Cooling water flow low", "H", (1, 4)),
    AlarmDef(1101, "Top platen over-temperature", "A", (2, 0)),
    AlarmDef(1102, "Bottom platen over-temperature", "A", (2, 1)),
    AlarmDef(1103, "Thermocouple open", "A", (2, 2)),
    AlarmDef(1104, "Temperature deviation in dwell", "W", (2, 3)),
    AlarmDef(1105, "Heat-up timeout", "H", (2, 4)),
    AlarmDef(1111, "Pressure build timeout", "A", (3, 0)),
    AlarmDef(1112, "Pressure deviation in dwell", "W", (3, 1)),
    AlarmDef(1121, "Vacuum not reached", "A", (3, 2)),
    AlarmDef(1122, "Vacuum lost in dwell", "W", (3, 3)),
    AlarmDef(1131, "Cool-down rate low", "W", (3, 4)),
)
INTERLOCK_TABLE = (
    ("ESTOP", START_AND_RESUME),
    ("DOOR", START_AND_RESUME),
    ("TEMP", frozenset({"start"})),
    ("HYDRAULIC", START_AND_RESUME),
    ("COOLING_WATER", START_AND_RESUME),
    ("LOAD", frozenset({"start"})),
    ("HOST_WDT", START_AND_RESUME),
)
#: Conditions whose onset raises an alarm (ESTOP also outside a cycle, TC_OPEN always).
CONDITION_ALARMS = {
    "ESTOP": 1001,
    "DOOR": 1002,
    "HYDRAULIC": 1004,
    "COOLING_WATER": 1005,
    "TC_OPEN": 1103,
}
#: HR 100-111 (§4) at power-on, engineering units.
SETTING_DEFAULTS: dict[str, Setting] = {
    "PLATEN_SP": 170.0,  # °C
    "STANDBY_SP": 100.0,  # °C
    "RAMP_RATE": 4.0,  # °C/min
    "DWELL_S": 2700,
    "COOL_RATE": 4.0,  # °C/min
    "UNLOAD_SP": 80.0,  # °C
    "PRESSURE_SP": 2.0,  # MPa
    "PRESSURE_BAND": 0.1,  # MPa
    "TEMP_BAND": 2.0,  # °C
    "VACUUM_SP": 2.0,  # kPa
    "EVAC_S": 300,
    "LOAD_MASK": 255,
}
