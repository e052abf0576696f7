"""What a cycle costs in exchanges once the line runs (virtual clock): the host does not ask a
tool again what it already knows. Each further strip through a die bonder asks its state three
times, not eight: the station that acknowledged the last cycle itself does not look for a
leftover finished one, the cycle's end state in the results is the one its wait saw, the
host looks at a cycle when its reported remaining time (whole seconds) has surely run out
(one remaining-time query a cycle, not a look just before the end and a second query), a
cycle just started is asked its remaining time, not its state first, and a tool found READY
with its recipe kept and no set-point written since is READY still. The recipe the host
loaded is not asked again, nor a gauge's passed calibration, nor the alarms of a tool whose
manual has no running-low warning, nor the interlocks the station's upkeep read a moment
before the step's check."""

from __future__ import annotations

from packline.simulated_lot import LotRun
from tests.support.integration_lots import heat_slug_route, simulated_lot, strip_ids


def two_and_four_strips(tool: str | None) -> tuple[LotRun, LotRun]:
    """The default route (only its steps on ``tool``, if given) for 2 and for 4 strips: what
    the last two cost is what a further strip costs once the line runs. Every strip complete."""
    route = heat_slug_route(tool=tool)
    two, four = (simulated_lot(route, n, lot_id="S", seed=3) for n in (2, 4))
    assert four.report["dispositions"]["complete"] == strip_ids("S", 4)
    return two, four


def test_a_further_die_bonder_cycle_asks_its_state_three_times_its_remaining_time_once() -> None:
    one, four = (
        simulated_lot(heat_slug_route(tool="die-bonder"), n, lot_id="X", seed=3) for n in (1, 4)
    )
    assert four.report["dispositions"]["complete"] == ["X-01", "X-02", "X-03", "X-04"]
    state_reads = four.sent["die-bonder", "SYST:STAT?"] - one.sent["die-bonder", "SYST:STAT?"]
    # One look at the set-up's start, one at the cycle's reported end, one at the 60 s watch
    # (a cycle of ~85 s): no look just after START, nor again before it.
    assert state_reads <= 3 * 3, f"{state_reads / 3:.1f} state reads a further cycle"
    assert four.sent["die-bonder", "RECipe:NAME?"] == 1, "the recipe it loaded is known"
    interlock_reads = four.sent["die-bonder", "SYST:INT?"] - one.sent["die-bonder", "SYST:INT?"]
    assert interlock_reads == 3, "the upkeep's reading serves the step's check"
    alarm_reads = four.sent["die-bonder", "ALARm:ACTive?"] - one.sent["die-bonder", "ALARm:ACTive?"]
    assert alarm_reads == 3, "one reading for the placement calibration and the low warnings"
    progress = (
        four.sent["die-bonder", "CYCLe:PROGress?"] - one.sent["die-bonder", "CYCLe:PROGress?"]
    )
    assert progress == 3, f"{progress / 3:.1f} remaining-time queries a further cycle"
    # Each cycle's results still say how it ended.
    assert {r.outcome.tool_summary["end_state"] for r in four.recorder.steps} == {"DONE"}


def test_a_further_strip_through_the_gauge_costs_fourteen_messages_an_inspection() -> None:
    """Three inspections a strip (SLUG, BALL, PKG), each: id, map, RUN, the remaining time, a
    look at its end (and one at the 60 s watch in BALL's 91 s), summary, map, records, the
    statistics of the mode's items, ACK; a state look at set-up only when the gauge waited
    for its strip (an ACK it took a moment before left it READY: no HEATING, §3). Not asked
    again: the recipe name, the alarms (the MS-3 has no running-low warning), the
    calibration and the state for the upkeep, READY after a set-up that kept the recipe."""
    two, four = two_and_four_strips(None)
    further = {
        kind: four.sent["metrology", kind] - two.sent["metrology", kind]
        for tool, kind in four.sent
        if tool == "metrology"
    }
    for kind in ("NAME?", "AL?", "CAL?"):
        assert further.get(kind, 0) == 0, f"{kind} asked again for a further strip"
    assert further["RUN"] == further["ACK"] == 2 * 3, "every inspection ran and was acknowledged"
    assert further["ST?"] <= 2 * 5, f"{further['ST?'] / 2:.1f} state looks a further strip"
    total = sum(further.values())
    assert total <= 2 * 3 * 14, f"{total / 6:.1f} messages an inspection"


def test_a_further_wire_bonder_cycle_looks_at_its_state_at_the_watch_and_its_expected_end() -> None:
    """The WB-2 reports no remaining time (``STAT?`` counts units): a ~216 s cycle is looked
    at every 60 s (the alarm latency) and at its expected end, not just after START; its set-up
    looks once, since a kept program with held parameters leaves it READY."""
    two, four = two_and_four_strips("wire-bonder")
    state_reads = four.sent["wire-bonder", "STAT?"] - two.sent["wire-bonder", "STAT?"]
    # set-up 1, looks at 60, 120, 180 s and the expected end (one more if it ends a moment later)
    assert state_reads <= 2 * 6, f"{state_reads / 2:.1f} state reads a further cycle"
    assert four.sent["wire-bonder", "RES?"] == 4 * 8, "every unit's record read (4 a page)"


def test_a_further_saw_cycle_asks_nothing_of_its_blade_but_the_exposure_it_reports() -> None:
    """The blade's limit (a machine setting), its count after the last cycle (in the summary)
    and its exposure (read with the results) are known to the next cycle's upkeep and set-up:
    no BLADe:LIMit?, BLADe:COUNt? or second BLADe:EXPosure? or SYST:INT? a strip; the blade is
    still set up once, after power-up."""
    two, four = two_and_four_strips("dicing-saw")
    expected = {
        "BLADe:LIMit?": 0,
        "BLADe:COUNt?": 0,
        "BLADe:EXPosure?": 2,  # one a cycle, with its results
        "BLADe:SETup": 0,
        "CYCLe:STARt": 2,
    }
    further = {
        kind: four.sent["dicing-saw", kind] - two.sent["dicing-saw", kind] for kind in expected
    }
    assert further == expected
    assert four.sent["dicing-saw", "BLADe:SETup"] == 1
    # BLADE changes only with a setup, a cut or a blade change: the upkeep's reading, judged
    # by the check, serves the set-up too (one SYST:INT? a strip, not two).
    interlock_reads = four.sent["dicing-saw", "SYST:INT?"] - two.sent["dicing-saw", "SYST:INT?"]
    assert interlock_reads == 2, f"{interlock_reads / 2:.1f} interlock reads a further strip"


def test_a_lamination_is_looked_at_every_five_percent_of_its_length_not_every_minute() -> None:
    """A press load runs ~94 min (laminator.md §9): looked at every 60 s it cost ~95 status
    reads; at 5 % of its expected length (``Pace.watch_share``) about 20, and ten at the
    manual's rate as the end CYCLE_REMAINING_S estimates comes. The set-up's look serves
    ARM's check, and the load's cycle time is the one the look that saw DONE read (held
    there, README §9.2). The whole load (INIT, ARM, heat-up naps, cycle, results) costs at
    most 55 status-block reads (121 before), and the strips are laminated all the same."""
    run = simulated_lot(heat_slug_route(tool="laminator"), 2, lot_id="L", seed=3)
    assert run.report["dispositions"]["complete"] == ["L-01", "L-02"]
    (record,) = {r.outcome.tool_summary["end_state"] for r in run.recorder.steps}
    assert record == "DONE"
    status_reads = run.sent["laminator", "read_input_registers 0"]
    assert status_reads <= 55, f"{status_reads} status reads for one press load"
