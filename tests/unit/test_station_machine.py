"""The PackML station machine: allowed commands, events, E10 accounting, the diagram."""

from __future__ import annotations

import threading

import pytest

from sequences.packml import E10, PackState
from sequences.records import CycleRecord
from sequences.station_machine import (
    EVENTS_KEPT,
    CommandRefused,
    StateEvent,
    StationMachine,
    cycle_phases,
    e10_seconds,
    mermaid_diagram,
)


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_station_runs_reset_start_complete_with_an_event_per_change() -> None:
    machine = StationMachine("wire-bonder-1")
    machine.command("reset")
    machine.command("start")
    assert machine.state is PackState.EXECUTE
    machine.command("complete", cause="strip done")
    assert machine.state is PackState.COMPLETE
    path = [(e.from_state, e.to_state) for e in machine.events]
    assert path[0] == (PackState.STOPPED, PackState.RESETTING)
    assert path[-1] == (PackState.COMPLETING, PackState.COMPLETE)
    assert machine.events[-2].cause == "strip done"
    assert all(e.station == "wire-bonder-1" for e in machine.events)


@pytest.mark.parametrize(
    ("setup", "command"),
    [
        ((), "start"),
        (("reset",), "unhold"),
        (("reset", "start"), "clear"),
        (("reset", "start"), "reset"),
    ],
)
def test_commands_outside_packml_are_refused_with_the_state(
    setup: tuple[str, ...], command: str
) -> None:
    machine = StationMachine("die-bonder")
    for step in setup:
        machine.command(step)
    before = machine.state
    with pytest.raises(CommandRefused, match=f"'{command}' is not allowed in {before}"):
        machine.command(command)
    assert machine.state is before


def test_unknown_command_is_refused() -> None:
    with pytest.raises(CommandRefused):
        StationMachine("x").command("explode")


def test_acting_state_waits_for_its_work_when_not_auto_completed() -> None:
    machine = StationMachine("mold-press", auto_complete=[PackState.RESETTING, PackState.STARTING])
    machine.command("reset")
    machine.command("start")
    machine.command("hold", cause="alarm 4005")
    assert machine.state is PackState.HOLDING
    assert machine.may("abort") and not machine.may("unhold")
    machine.finish_acting("tool paused")
    assert machine.state is PackState.HELD


def test_every_state_can_be_aborted_and_cleared_back_to_stopped() -> None:
    for state in PackState:
        if state in (PackState.ABORTING, PackState.ABORTED):
            continue
        machine = StationMachine("s", initial=state)
        machine.command("abort", cause="operator abort")
        assert machine.state is PackState.ABORTED
        machine.command("clear")
        assert machine.state is PackState.STOPPED


def test_e10_accounting_from_events() -> None:
    clock = ManualClock()
    machine = StationMachine("wb", clock=clock)
    machine.command("reset")  # t=1000 -> IDLE
    clock.now = 1010.0
    machine.command("start")  # EXECUTE from 1010
    clock.now = 1070.0
    machine.command("hold")  # HELD from 1070
    clock.now = 1100.0
    machine.command("unhold")
    totals = e10_seconds(machine.events, until=1120.0)
    assert totals[E10.STANDBY] == pytest.approx(10.0)
    assert totals[E10.PRODUCTIVE] == pytest.approx(60.0 + 20.0)
    assert totals[E10.UNSCHEDULED_DOWN] == pytest.approx(30.0)


def test_e10_counts_set_up_apart_from_productive_and_adds_up_to_the_window() -> None:
    """A cycle's set-up (heat-up) and the wait for the host after DONE are in EXECUTE for
    PackML, but not productive for E10; the categories add up to exactly until - start."""
    clock = ManualClock()
    machine = StationMachine("press", clock=clock)
    clock.now = 1005.0
    machine.command("reset")  # IDLE from 1005 (STOPPED 1000..1005 within the window)
    clock.now = 1010.0
    machine.command("start")  # EXECUTE from 1010: heat-up to 1050, cycle 1050..1090, ack ..1095
    clock.now = 1095.0
    machine.command("complete")
    machine.command("reset")  # IDLE from 1095
    cycle = CycleRecord("press", "mold-press", "mold", ("S1",), 1010.0, 1050.0, 1090.0, "DONE")
    phases = cycle_phases([cycle], until=1200.0)
    totals = e10_seconds(machine.events, start=1000.0, until=1200.0, phases=phases)
    assert totals[E10.PRODUCTIVE] == pytest.approx(40.0), "START to DONE only"
    assert totals[E10.SCHEDULED_DOWN] == pytest.approx(40.0), "heat-up is set-up"
    assert totals[E10.STANDBY] == pytest.approx(5.0 + 5.0 + 105.0)
    assert totals[E10.NON_SCHEDULED] == pytest.approx(5.0)
    assert sum(totals.values()) == pytest.approx(200.0)
    later = e10_seconds(machine.events, start=1020.0, until=1060.0, phases=phases)
    assert sum(later.values()) == pytest.approx(40.0), "events outside the window do not count"
    assert later[E10.PRODUCTIVE] == pytest.approx(10.0)


def test_e10_recounts_every_cycle_of_many_whatever_order_the_phases_come_in() -> None:
    """Three cycles in one EXECUTE stretch broken by a hold that falls in the second one's
    set-up: each set-up and host wait is recounted where it overlaps EXECUTE, never in HELD,
    and the phases may come in any order."""
    clock = ManualClock()
    machine = StationMachine("saw", clock=clock)
    machine.command("reset")
    machine.command("start")  # EXECUTE from 1000
    clock.now = 1040.0
    machine.command("hold")  # HELD 1040..1050, inside the second cycle's set-up (1035..1045)
    clock.now = 1050.0
    machine.command("unhold")  # EXECUTE again from 1050
    clock.now = 1100.0
    machine.command("complete")
    machine.command("reset")  # IDLE from 1100
    cycles = [
        CycleRecord("saw", "dicing-saw", "dice", (f"S{k}",), begin, begin + 10.0, end, "DONE")
        for k, (begin, end) in enumerate([(1000.0, 1025.0), (1035.0, 1060.0), (1065.0, 1095.0)])
    ]
    phases = cycle_phases(cycles, until=1100.0)
    for ordered in (phases, list(reversed(phases))):
        totals = e10_seconds(machine.events, start=1000.0, until=1100.0, phases=ordered)
        assert totals[E10.SCHEDULED_DOWN] == pytest.approx(10.0 + 5.0 + 10.0), "set-ups"
        assert totals[E10.STANDBY] == pytest.approx(10.0 + 5.0 + 5.0), "waits on the host"
        assert totals[E10.UNSCHEDULED_DOWN] == pytest.approx(10.0), "the hold"
        assert totals[E10.PRODUCTIVE] == pytest.approx(90.0 - 25.0 - 20.0)
        assert sum(totals.values()) == pytest.approx(100.0)


def test_listeners_see_each_event_and_polls_do_not_block() -> None:
    seen: list[StateEvent] = []
    machine = StationMachine("etch", listeners=[seen.append])
    machine.command("reset")
    results: list[PackState] = []
    poller = threading.Thread(target=lambda: results.extend(machine.state for _ in range(100)))
    poller.start()
    machine.command("start")
    poller.join(timeout=2)
    assert len(results) == 100 and seen[-1].to_state is PackState.EXECUTE


def test_a_command_from_another_thread_waits_for_the_running_one_and_keeps_its_cause() -> None:
    in_reset = threading.Event()
    release = threading.Event()

    def slow_listener(event: StateEvent) -> None:
        if event.to_state is PackState.RESETTING:
            in_reset.set()
            release.wait(timeout=5)

    machine = StationMachine("mold", listeners=[slow_listener])
    first = threading.Thread(target=machine.command, args=("reset", "line start"))
    first.start()
    assert in_reset.wait(timeout=5)
    second = threading.Thread(target=machine.command, args=("stop", "operator stop"))
    second.start()
    second.join(timeout=0.2)
    assert second.is_alive(), "the stop ran inside the reset's transition"
    release.set()
    first.join(timeout=5)
    second.join(timeout=5)
    path = [(e.from_state, e.to_state, e.cause) for e in machine.events]
    assert path == [
        (PackState.STOPPED, PackState.RESETTING, "line start"),
        (PackState.RESETTING, PackState.IDLE, "line start"),
        (PackState.IDLE, PackState.STOPPING, "operator stop"),
        (PackState.STOPPING, PackState.STOPPED, "operator stop"),
    ]


def test_diagram_is_mermaid_generated_from_the_transition_table() -> None:
    text = mermaid_diagram()
    assert "stateDiagram-v2" in text
    for state in PackState:
        assert state.value in text
    assert "HELD --> UNHOLDING: unhold" in text


def test_a_station_running_for_months_keeps_only_its_latest_state_changes_in_memory() -> None:
    seen: list[StateEvent] = []
    machine = StationMachine("wire-bonder-1", listeners=[seen.append])
    machine.command("reset")
    for _ in range(EVENTS_KEPT):  # IDLE -> STARTING -> EXECUTE -> COMPLETING -> COMPLETE -> ...
        machine.command("start")
        machine.command("complete")
        machine.command("reset")
    assert len(seen) > EVENTS_KEPT * 3, "the listeners (the daemon's store) see every change"
    assert len(machine.events) == EVENTS_KEPT
    assert list(machine.events) == seen[-EVENTS_KEPT:], "the latest ones, in order"
