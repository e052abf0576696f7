"""Upkeep before a station's next cycle (the manuals' periodic work): what the host does itself
(calibrations), and what it asks an operator for (consumables out, a blade worn to 90 % of its
life). Run between cycles, inside the next cycle's set-up, so E10 counts it as set-up
(scheduled down), never as productive time; recorded through the station's alarm sink with its
result and duration.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from drivers.base import Tool
from drivers.dicing_saw import DicingSaw
from drivers.die_bonder import DieBonder
from drivers.etch_bath import Chemistry, EtchBath
from drivers.laser import Laser
from drivers.metrology import Metrology
from drivers.states import ToolState
from sequences.steps.base import Pace
from sequences.steps.held import (
    calibrated_hours_ago,
    forget_calibration,
    forget_held,
    held_reading,
    note_reading,
    read_calibration,
)

#: die-bonder.md §6 alarms that call for a placement calibration: 2203 "Placement calibration
#: due" (> 24 h since the last one), 2105 "Placement out of tolerance" (3 times in a row).
CALIBRATION_DUE = 2203
PLACEMENT_OUT_OF_TOLERANCE = 2105
#: The tool's CALibrate:PLACe takes about 40 s (§7); the wait is bounded at three times that.
CALIBRATION_BOUND_TOOL_S = 120.0


@dataclass(frozen=True)
class UpkeepDone:
    """One upkeep action: what (alarm code that called for it), its result, its duration."""

    code: int
    text: str
    result: str
    duration_tool_s: float


def calibrate_placement_if_due(
    tool: Tool, pace: Pace, *, after_2105: bool, alarms: Sequence[int] | None = None
) -> UpkeepDone | None:
    """``CALibrate:PLACe`` on a die bonder when 2203 is active or 2105 was raised since the last
    calibration; wait for it to end, clear the 2203 warning it answers. None when not due.
    ``alarms``: the active alarm codes if read already."""
    if not isinstance(tool, DieBonder):
        return None
    due = CALIBRATION_DUE in (tool.active_alarms() if alarms is None else alarms)
    if not (due or after_2105):
        return None
    clock = pace.host_clock
    started = clock.timestamp()
    tool.calibrate_placement()
    pace.wait_for_state(
        tool,
        (ToolState.IDLE, ToolState.READY, ToolState.HEATING),
        CALIBRATION_BOUND_TOOL_S,
        entered_s=clock.now(),
    )
    tool.clear_alarms()  # the 2203 warning stays latched until cleared (README §6)
    correction = tool.placement_calibration()
    took_tool_s = (clock.timestamp() - started) * clock.record_scale
    why = "2105 placement out of tolerance" if after_2105 and not due else "2203 calibration due"
    return UpkeepDone(
        PLACEMENT_OUT_OF_TOLERANCE if why.startswith("2105") else CALIBRATION_DUE,
        f"CALibrate:PLACe ({why})",
        f"done, corrected {correction.dx_um:.1f},{correction.dy_um:.1f} um",
        took_tool_s,
    )


#: laser.md §6: 8201 "Power calibration due" (> 8 h since LASer:CALibrate). The step itself
#: calibrates only when interlock CAL blocks START (24 h, or after power-up).
LASER_CALIBRATION_DUE = 8201
#: LASer:CALibrate takes about 30 s (laser.md §8); bounded at three times that.
LASER_CALIBRATION_BOUND_TOOL_S = 90.0


def calibrate_laser_if_due(tool: Tool, pace: Pace) -> UpkeepDone | None:
    """``LASer:CALibrate`` on a laser whose 8201 warning is active and whose source is on
    (READY: the calibration needs it; a laser still warming up is left to the step); wait for
    it, clear the latched warning. None when not due."""
    if not isinstance(tool, Laser) or LASER_CALIBRATION_DUE not in tool.active_alarms():
        return None
    if tool.state() is not ToolState.READY:
        return None
    clock = pace.host_clock
    started = clock.timestamp()
    tool.calibrate()
    pace.wait_for_state(
        tool, (ToolState.READY,), LASER_CALIBRATION_BOUND_TOOL_S, entered_s=pace.host_clock.now()
    )
    tool.clear_alarms()
    ratio = tool.calibration().ratio
    return UpkeepDone(
        LASER_CALIBRATION_DUE,
        "LASer:CALibrate (8201 power calibration due)",
        f"done, power ratio {ratio:.3f}",
        (clock.timestamp() - started) * clock.record_scale,
    )


#: metrology.md §6: 9201 "Calibration due" (> 20 h since the last passed CAL); interlock CAL
#: refuses RUN at 24 h, or after power-up (no CAL yet).
GAUGE_CALIBRATION_DUE = 9201
GAUGE_CALIBRATION_DUE_H = 20.0
#: CAL takes about 20 s (metrology.md §8); bounded at three times that.
GAUGE_CALIBRATION_BOUND_TOOL_S = 60.0
#: INIT after power-up takes 15 s (metrology.md §8); bounded at four times that.
GAUGE_INIT_BOUND_TOOL_S = 60.0


def calibrate_gauge_if_due(tool: Tool, pace: Pace) -> UpkeepDone | None:
    """``CAL`` on a metrology gauge with no passed calibration within 20 h (9201 due, or
    none since power-up); wait for it (SETUP, back to IDLE or READY), clear the latched
    warning. Its result PASS or FAIL is the upkeep's result (a FAIL is left to the inspect
    step, which refuses to measure with interlock CAL). None when not due: a passed
    calibration the host read on this link and knows to be younger than 20 h costs no
    exchange (:func:`sequences.steps.held.calibrated_hours_ago`)."""
    if not isinstance(tool, Metrology):
        return None
    clock = pace.host_clock
    known_h = calibrated_hours_ago(tool, clock.now())  # a passed CAL read on this link
    if known_h is not None and known_h <= GAUGE_CALIBRATION_DUE_H:
        return None
    state = tool.state()
    if state is ToolState.INIT:  # power-up (15 s): CAL would be refused, 21 Busy
        state = pace.wait_for_state(
            tool, (ToolState.IDLE, ToolState.READY), GAUGE_INIT_BOUND_TOOL_S
        )
    if state not in (ToolState.IDLE, ToolState.READY):
        return None  # anything else is left to the inspect step's own checks
    last = read_calibration(tool, clock.now())
    hours = last.hours_since
    if last.passed and hours is not None and hours <= GAUGE_CALIBRATION_DUE_H:
        return None
    started = clock.timestamp()
    forget_calibration(tool)  # a CAL replaces it
    tool.calibrate()
    pace.wait_for_state(
        tool,
        (ToolState.IDLE, ToolState.READY),
        GAUGE_CALIBRATION_BOUND_TOOL_S,
        entered_s=clock.now(),
    )
    tool.clear_alarms()  # 9201 stays latched until cleared (README §6)
    result = read_calibration(tool, clock.now()).result
    why = "none since power-up" if hours is None else f"last passed {hours:.1f} h ago"
    return UpkeepDone(
        GAUGE_CALIBRATION_DUE,
        f"CAL (9201 gauge calibration due: {why})",
        f"done, {result.value}",
        (clock.timestamp() - started) * clock.record_scale,
    )


def upkeep_label(tool: Tool) -> tuple[int, str]:
    """The alarm code and command an upkeep of ``tool`` is recorded under (a failed one too)."""
    if isinstance(tool, Laser):
        return LASER_CALIBRATION_DUE, "LASer:CALibrate"
    if isinstance(tool, Metrology):
        return GAUGE_CALIBRATION_DUE, "CAL"
    return CALIBRATION_DUE, "CALibrate:PLACe"


#: Interlocks that need an operator's hands (the manuals' consumables), with the request made.
OPERATOR_REQUESTS: dict[str, str] = {
    "EPOXY": "replace the syringe",  # die-bonder.md §6
    "DIE": "load dies (wafer or tray)",
    "PLATE": "load a plate reel",
    "WIRE": "change the wire spool",  # wire-bonder.md
    "CAPILLARY": "change the capillary",
    "FLUX": "refill the flux",  # ball-attach.md
    "BALL": "refill the balls",
    "PELLET": "refill the pellets",  # mold-press.md
    "BLADE": "change the blade",  # dicing-saw.md: asked at 90 % of its life, see below
    "CU_LOAD": "renew the bath",  # etch-bath.md 5123: FeCl3 asked at 90 % of CU_LOAD_MAX
}

#: The manuals' "running low" warnings (class W) -> the request that answers them, asked
#: before the consumable is out: die-bonder.md 2201/2202, wire-bonder.md 3201/3202,
#: mold-press.md 4201, ball-attach.md 6201/6202 (the saw's 7201 is read as its count, below).
LOW_ALARMS: dict[int, str] = {
    2201: "EPOXY",
    2202: "DIE",
    3201: "CAPILLARY",
    3202: "WIRE",
    4201: "PELLET",
    6201: "FLUX",
    6202: "BALL",
}

#: Requests made from a low warning, before anything runs out, not from an interlock. The saw's
#: interlock BLADE also means a blade set-up the step answers itself (BLADe:SETup), so the
#: blade is asked for from its wear: BLADe:COUNt? at 90 % of BLADe:LIMit (alarm 7201 "Blade
#: life 90 %", dicing-saw.md §6), before the next cycle, so 7103 never stops a strip midway.
LOW_WARNINGS = frozenset({"BLADE"})
BLADE_LOW_FRACTION = 0.9
#: An FeCl3 bath's copper loading CU_LOAD_PV rises with every load (it is not regenerated):
#: the bath is asked to be renewed at this fraction of CU_LOAD_MAX, before the next load, so
#: interlock CU_LOAD (5123 at 100 %) never refuses a carrier. A FeCl3 load of the default
#: recipe adds a few g/L; 90 % leaves room for more than one load at the 100 g/L limit.
CU_LOAD_LOW_FRACTION = 0.9


@dataclass(frozen=True)
class OperatorRequest:
    """What a station asks an operator for: the interlocks that block it and what to do."""

    station: str
    interlocks: tuple[str, ...]
    text: str


def requests_due(
    tool: Tool,
    *,
    low: bool = True,
    cu_load_max_g_l: float | None = None,
    interlocks: Sequence[str] | None = None,
    alarms: Sequence[int] | None = None,
) -> tuple[str, ...]:
    """What an operator must answer on ``tool`` (keys of OPERATOR_REQUESTS): its active
    interlocks that are consumables out, and with ``low`` the consumables running low that
    the host watches (LOW_WARNINGS). ``cu_load_max_g_l``: the copper limit the next etch
    recipe writes, if lower than the one the bath holds. ``interlocks`` and ``alarms``: the
    active ones if read already (:func:`active_interlocks`, ``Tool.active_alarms``)."""
    active = active_interlocks(tool) if interlocks is None else interlocks
    due = [name for name in active if name in OPERATOR_REQUESTS.keys() - LOW_WARNINGS]
    if low:
        if watches_low(tool):
            codes = tool.active_alarms() if alarms is None else alarms
            due += [LOW_ALARMS[code] for code in codes if code in LOW_ALARMS]
        if blade_worn(tool):
            due.append("BLADE")
        if bath_aged(tool, cu_load_max_g_l):
            due.append("CU_LOAD")
    return tuple(dict.fromkeys(due))  # once each, in the order found


def active_interlocks(tool: Tool) -> list[str]:
    """The tool's active interlocks (SCPI ``SYSTem:INTerlock?``, Modbus INTERLOCK_WORD); none
    for a tool that reports none (the wire bonder)."""
    interlocks = getattr(tool, "interlocks", None)
    return list(interlocks()) if callable(interlocks) else []


def watches_low(tool: Tool) -> bool:
    """Whether ``tool``'s manual has a running-low warning the host answers (LOW_ALARMS in
    its alarm table): only those tools are asked their active alarms for one (the metrology
    gauge, the saw, the laser, the etch bath and the laminator have none)."""
    return not LOW_ALARMS.keys().isdisjoint(tool.alarm_table)


def low_warnings_latched(tool: Tool) -> bool:
    """Whether a low warning is among the tool's active alarms. They stay latched until an
    alarm clear (README §6), so the station clears them while it waits: one whose cause is
    gone (refilled) goes, one still low stays."""
    return watches_low(tool) and any(code in LOW_ALARMS for code in tool.active_alarms())


def blade_worn(tool: Tool) -> bool:
    """Whether a dicing saw's blade has cut 90 % of its life (BLADe:COUNt? vs BLADe:LIMit; the
    limit, a machine setting, and a count below it noted after the last cycle are not asked
    again)."""
    if not isinstance(tool, DicingSaw):
        return False
    limit = held_reading(tool, "blade_limit_cuts", lambda: tool.blade_limit_cuts)
    # The count after the last cycle, where the host knows it: below 90 % it stays below
    # until the next cycle (only a blade change lowers it).
    if held_reading(tool, "blade_count", tool.blade_count) < BLADE_LOW_FRACTION * limit:
        return False
    # Worn, or an operator is at the blade (a change at the tool zeroes the count and
    # invalidates the setup): what the host knew of the blade no longer holds.
    note_reading(tool, "blade_count", None)
    note_reading(tool, "blade_exposure_mm", None)
    return tool.blade_count() >= BLADE_LOW_FRACTION * limit


def bath_aged(tool: Tool, cu_load_max_g_l: float | None = None) -> bool:
    """Whether an FeCl3 etch bath's copper loading CU_LOAD_PV (input 104) has reached 90 % of
    CU_LOAD_MAX: the lower of the bath's (holding 107) and ``cu_load_max_g_l``, the one the
    next recipe writes."""
    if not isinstance(tool, EtchBath) or tool.chemistry is not Chemistry.FECL3:
        return False
    limit = tool.cu_load_max_g_l
    if cu_load_max_g_l is not None:
        limit = min(limit, cu_load_max_g_l)
    return tool.cu_load_pv_g_l >= CU_LOAD_LOW_FRACTION * limit


def record_answer(tool: Tool, due: tuple[str, ...]) -> None:
    """The operator released the station with ``due`` still outstanding: they say it is done.
    A blade change the tool cannot see itself is recorded on it (``BLADe:CHANge``: count 0,
    set-up invalid, so the dicing step runs ``BLADe:SETup`` before its cycle, as the manual's
    §9 example does after an operator's change); supplies the tools detect need nothing."""
    if "BLADE" in due and isinstance(tool, DicingSaw):
        tool.change_blade()
        forget_held(tool)  # count 0, blade setup invalid
