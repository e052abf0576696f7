"""Laminator driver against the simulated LM-8 over real Modbus TCP on loopback: cycles,
holds, aborts, warnings, interlocks, refusals and link faults (laminator.md §3-§10)."""

from __future__ import annotations

import runpy
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from drivers.errors import (
    AlarmActive,
    ConnectionLost,
    InterlockActive,
    NotAllowedInState,
    ToolError,
    ToolTimeout,
)
from drivers.laminator import LaminationRecipe, Laminator
from drivers.states import ToolState
from sim.clock import SimClock
from sim.simulated_tool import SimulatedTool
from sim.world import World
from tests.integration.conftest import StartTool
from tests.support.integration_cycles import FINISHED, cleared, finished, stopping_alarm
from tests.support.integration_waits import raises_within, wait_until

pytestmark = pytest.mark.sim_time_scale(20000)
POLL_S = 0.005
TIMEOUT_S = 0.25
STRIPS = {1: "LA2403-017", 2: "LA2403-018"}


@dataclass
class Rig:
    """A simulated laminator and a driver connected to it."""

    sim: SimulatedTool
    laminator: Laminator
    world: World

    def ready(
        self, recipe: LaminationRecipe | None = None, strip_ids: dict[int, str] = STRIPS
    ) -> None:
        self.laminator.arm(recipe or LaminationRecipe(), strip_ids=strip_ids)
        self.laminator.wait_for_state([ToolState.READY], timeout_s=5.0, poll_s=POLL_S)

    def wait(
        self, *states: ToolState, timeout_s: float = 5.0, raise_on_alarm: bool = False
    ) -> ToolState:
        return self.laminator.wait_for_state(
            states, timeout_s=timeout_s, poll_s=POLL_S, raise_on_alarm=raise_on_alarm
        )


@pytest.fixture
def rig(start_tool: StartTool, sim_world: World) -> Rig:
    """A simulated LM-8 and its driver in IDLE, with one retry (two lost replies fail a request)."""
    laminator, sim = start_tool("laminator", timeout_s=TIMEOUT_S, link={"retries": 1})
    return Rig(sim, laminator, sim_world)


# -- a normal cycle -----------------------------------------------------------------------------


def test_laminator_runs_a_full_cycle_of_two_strips(rig: Rig) -> None:
    laminator = rig.laminator
    assert laminator.identify().model == "LM-8" and laminator.protocol_version == 1.0
    laminator.recipe_id = 17
    rig.ready()
    assert laminator.status().recipe_id_active == 17
    assert (laminator.load_mask, laminator.strip_present, laminator.temp_sp_active_c) == (
        0b11,
        0b11,
        100.0,
    )
    assert laminator.temp_in_band and not laminator.door_locked and laminator.common_inputs().ready
    began = time.monotonic()
    laminator.start()
    phases = set()
    while (status := laminator.status()).state is not ToolState.DONE:
        assert time.monotonic() - began < 2.0, f"cycle still {status.state.name} after 2 s"
        phases.add(status.phase)
        time.sleep(POLL_S)
    assert time.monotonic() - began < 2.0  # 94 min of tool time
    assert 5 in phases  # DWELL seen
    assert status.cycle_count == 1 and status.cycle_elapsed_s == pytest.approx(94 * 60, rel=0.02)
    assert laminator.common_inputs().results_available

    result = laminator.cycle_result()
    assert result.result_map == "PPXXXXXX"
    assert [(p.strip_id, p.defect) for p in result.positions[:2]] == [
        ("LA2403-017", 0),
        ("LA2403-018", 0),
    ]
    assert result.dwell_actual_s == 2700 and result.peak_temp_c == pytest.approx(170.0, abs=2.0)
    assert result.max_temp_dev_c <= 2.0 and result.min_pressure_dwell_mpa >= 1.9
    assert result.max_vacuum_dwell_kpa <= 2.0
    strip = rig.world.get("LA2403-018")
    assert strip is not None and len(strip.sites) == 30
    assert all(
        s.slice_thickness_um == 200.0 and not s.lamination_voids for s in strip.sites.values()
    )

    laminator.acknowledge()
    assert laminator.strip_ids() == [""] * 8
    assert laminator.state() in (ToolState.HEATING, ToolState.READY)
    assert laminator.cycle_result().result_map == "PPXXXXXX"  # readable until the next START


@pytest.mark.sim_time_scale(10000)
def test_laminator_pauses_and_resumes_in_dwell(rig: Rig) -> None:
    laminator = rig.laminator
    rig.ready(LaminationRecipe(dwell_s=5400))
    laminator.start()
    wait_until(lambda: laminator.phase() == "DWELL", 5.0, poll_s=POLL_S)
    laminator.pause()
    assert laminator.state() is ToolState.PAUSED
    remaining = laminator.dwell_remaining_s
    time.sleep(0.05)  # 250 s of tool time
    assert laminator.dwell_remaining_s == remaining and laminator.phase() == "DWELL"
    assert (
        laminator.temp_in_band
        and laminator.pressure_in_band
        and laminator.vacuum_ok
        and laminator.door_locked
    )
    laminator.pause()  # nop while PAUSED
    laminator.resume()
    assert laminator.state() is ToolState.RUNNING
    rig.wait(*FINISHED)
    result = laminator.cycle_result()
    assert result.result_map == "PPXXXXXX" and result.dwell_actual_s == 5400


# -- alarms of each class ------------------------------------------------------------------------


def test_laminator_hydraulic_hold_alarm_pauses_then_resumes(rig: Rig) -> None:
    laminator = rig.laminator
    rig.sim.faults.condition("HYDRAULIC", phase="DWELL", after_s=60.0)
    rig.ready()
    laminator.start()
    assert stopping_alarm(laminator, 5) == (1004, "H")
    status = laminator.status()
    assert (status.state, status.phase, status.active_alarm) == (ToolState.ALARM, 5, 1004)
    assert status.alarm_words[0] == 1 << 3 and status.interlock_word == 1 << 3
    assert not laminator.hydraulic_ok
    assert cleared(laminator) is ToolState.ALARM  # supply still low: the alarm stays
    with pytest.raises(AlarmActive) as refused:
        laminator.resume()
    assert refused.value.detail == "1004"

    rig.sim.faults.condition("HYDRAULIC", False)  # supply restored
    assert cleared(laminator) is ToolState.PAUSED
    laminator.resume()
    assert rig.wait(*FINISHED) is ToolState.DONE
    assert laminator.cycle_result().result_map == "PPXXXXXX"


def test_laminator_estop_aborts_the_cycle_with_1504(rig: Rig) -> None:
    laminator = rig.laminator
    rig.sim.faults.condition("ESTOP", phase="DWELL", after_s=60.0)
    rig.ready()
    laminator.start()
    assert stopping_alarm(laminator, 5) == (1001, "A")
    assert not laminator.common_inputs().estop_ok
    assert laminator.alarms_in_words(laminator.status().alarm_words) == [1001]
    rig.sim.faults.condition("ESTOP", False)  # E-stop released
    assert cleared(laminator) is ToolState.ABORTED
    result = laminator.cycle_result()
    assert result.result_map == "FFXXXXXX" and [p.defect for p in result.positions[:2]] == [
        1504,
        1504,
    ]
    assert rig.world.get("LA2403-017").site(1).defects == {"laminator": 1504}  # type: ignore[union-attr]
    laminator.acknowledge()
    assert laminator.state() in (ToolState.HEATING, ToolState.READY)


def test_laminator_abort_before_pressing_leaves_positions_not_processed(rig: Rig) -> None:
    laminator = rig.laminator
    rig.sim.faults.condition("HYDRAULIC", phase="EVACUATE", after_s=10.0)
    rig.ready()
    laminator.start()
    rig.wait(ToolState.ALARM)
    rig.sim.faults.condition("HYDRAULIC", False)
    assert cleared(laminator) is ToolState.PAUSED
    laminator.abort()
    assert laminator.state() is ToolState.ABORTED
    assert laminator.cycle_result().result_map == "NNXXXXXX"
    assert rig.world.get("LA2403-017") is None  # nothing was laminated


def test_laminator_temperature_deviation_warning_marks_the_load_1501(rig: Rig) -> None:
    laminator = rig.laminator
    rig.sim.faults.alarm(1104, phase="DWELL", after_s=100.0)
    rig.ready()
    laminator.start()
    assert finished(laminator, 5) is ToolState.DONE
    status = laminator.status()
    assert (status.warning_count, status.alarm_list, status.active_alarm) == (1, (1104,), 0)
    assert [a.alarm_class for a in laminator.alarms()] == ["W"]
    result = laminator.cycle_result()
    assert result.result_map == "FFXXXXXX" and [p.defect for p in result.positions[:2]] == [
        1501,
        1501,
    ]
    laminator.clear_alarms()
    assert laminator.active_alarms() == []


def test_laminator_vacuum_leak_in_dwell_marks_1503_and_leaves_voids(rig: Rig) -> None:
    laminator = rig.laminator
    rig.sim.faults.condition("VACUUM_LEAK", phase="DWELL", after_s=60.0, clear_after_s=300.0)
    rig.ready()
    laminator.start()
    assert rig.wait(*FINISHED) is ToolState.DONE
    assert 1122 in laminator.active_alarms()
    result = laminator.cycle_result()
    assert result.result_map == "FFXXXXXX" and result.positions[0].defect == 1503
    assert result.max_vacuum_dwell_kpa > 4.0
    assert rig.world.get("LA2403-017").site(7).lamination_voids  # type: ignore[union-attr]


# -- interlocks and refusals ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "bit"), [("DOOR", 1), ("HYDRAULIC", 3), ("COOLING_WATER", 4), ("LOAD", 5)]
)
def test_laminator_interlock_blocks_start_until_removed(
    rig: Rig, sim_clock: SimClock, condition: str, bit: int
) -> None:
    laminator = rig.laminator
    rig.ready()
    rig.sim.faults.condition(condition)
    with pytest.raises(InterlockActive) as info:
        laminator.start()
    assert info.value.detail == condition
    assert (
        laminator.status().interlock_word == 1 << bit and laminator.common_inputs().interlock_active
    )
    assert laminator.status().reject_reason == 22
    rig.sim.faults.condition(condition, False)
    sim_clock.set_scale(1000)  # the 94 min cycle lasts 0.28 s at 20000x: RUNNING seen under load
    laminator.start()
    assert laminator.state() is ToolState.RUNNING


def test_laminator_load_interlock_shows_empty_positions(rig: Rig) -> None:
    rig.ready()
    rig.sim.faults.condition("LOAD")
    assert rig.laminator.loaded_positions() == ()
    assert rig.laminator.interlocks() == ["LOAD"]


@pytest.mark.sim_time_scale(1000)
def test_laminator_start_while_heating_is_refused_with_temp(rig: Rig) -> None:
    rig.laminator.arm(LaminationRecipe(), strip_ids=STRIPS)
    with pytest.raises(InterlockActive) as info:
        rig.laminator.start()
    assert info.value.detail == "TEMP"


def test_laminator_refuses_commands_not_allowed_in_state(rig: Rig) -> None:
    laminator = rig.laminator
    with pytest.raises(NotAllowedInState) as info:
        laminator.start()
    assert (info.value.code, info.value.detail) == (24, "")
    rig.ready()
    with pytest.raises(NotAllowedInState, match="READY"):
        laminator.pause()
    with pytest.raises(NotAllowedInState, match="READY"):
        laminator.acknowledge()
    rig.sim.faults.condition("HYDRAULIC", phase="CLOSE")
    laminator.start()
    rig.wait(ToolState.ALARM)
    with pytest.raises(AlarmActive):
        laminator.platen_sp_c = 175.0
    rig.sim.faults.condition("HYDRAULIC", False)
    assert cleared(laminator) is ToolState.PAUSED
    with pytest.raises(NotAllowedInState, match="PAUSED"):
        laminator.dwell_s = 3000
    with pytest.raises(NotAllowedInState, match="PAUSED"):
        laminator.arm()


def test_laminator_cross_check_is_refused_by_the_tool_at_arm(rig: Rig) -> None:
    laminator = rig.laminator
    laminator.platen_sp_c = 160.0
    laminator.standby_sp_c = 115.0  # each in range; together they break §4
    with pytest.raises(ToolError) as info:
        laminator.arm()
    assert type(info.value) is ToolError and info.value.code == 14
    assert laminator.status().reject_reason == 14
    laminator.standby_sp_c = 110.0
    laminator.arm()
    assert laminator.state() is ToolState.HEATING


def test_laminator_tool_checks_addresses_and_values(rig: Rig) -> None:
    laminator = rig.laminator
    with pytest.raises(ToolError) as value:
        laminator.write_registers(106, [350])
    assert (value.value.code, value.value.native_code) == (13, 3)
    with pytest.raises(ToolError) as partial:
        laminator.write_registers(200, [0x4142])  # part of a strip id field
    assert partial.value.native_code == 3
    for request in (
        lambda: laminator.read_registers("input", 131, 1),
        lambda: laminator.read_registers("holding", 112, 1),
        lambda: laminator.read_discrete_inputs(22, 1),
        lambda: laminator.pulse(8, "coil 8"),
    ):
        with pytest.raises(ToolError) as address:
            request()
        assert (address.value.code, address.value.native_code) == (10, 2)
    assert laminator.read_registers("input", 0, 28)[0] == ToolState.IDLE


def test_laminator_host_watchdog_warns_and_blocks_start_until_heartbeat(rig: Rig) -> None:
    laminator = rig.laminator
    rig.ready()
    laminator.host_watchdog_s = 5
    time.sleep(0.01)  # 200 s of tool time without a heartbeat
    assert laminator.common_inputs().watchdog_expired and 1003 in laminator.active_alarms()
    with pytest.raises(InterlockActive, match="HOST_WDT"):
        laminator.start()
    laminator.host_watchdog_s = 0
    laminator.heartbeat()
    laminator.clear_alarms()
    assert laminator.active_alarms() == []
    laminator.start()


# -- link faults ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("stall", ToolTimeout),
        ("garble", ToolTimeout),
        ("truncate", ToolTimeout),
        ("drop", ConnectionLost),
    ],
)
def test_laminator_link_fault_raises_within_timeout_and_recovers(
    rig: Rig, kind: str, error: type[Exception]
) -> None:
    laminator = rig.laminator
    rig.ready()
    laminator.start()
    rig.sim.faults.link_fault(kind, count=2)  # the request and its one retry
    with raises_within(error, 2 * TIMEOUT_S + 0.5):
        laminator.state()
    assert rig.wait(*FINISHED) is ToolState.DONE  # the cycle went on regardless
    assert laminator.cycle_result().result_map == "PPXXXXXX"


def test_laminator_other_unit_ids_get_no_reply(rig: Rig) -> None:
    address = rig.sim.address.replace("unit=1", "unit=2")
    with (
        Laminator.open(address, timeout_s=TIMEOUT_S, retries=0) as stranger,
        pytest.raises(ToolTimeout),
    ):
        stranger.state()


def test_laminator_a_third_connection_is_closed(rig: Rig) -> None:
    with Laminator.open(rig.sim.address, timeout_s=TIMEOUT_S, retries=0) as second:
        assert second.state() is ToolState.IDLE
        third = Laminator.open(rig.sim.address, timeout_s=TIMEOUT_S, retries=0)
        with third, pytest.raises(ConnectionLost):
            third.state()
    assert rig.laminator.state() is ToolState.IDLE


def test_laminator_single_lost_reply_is_absorbed_by_the_retry(rig: Rig) -> None:
    rig.sim.faults.link_fault("stall")
    assert rig.laminator.state() is ToolState.IDLE


def test_laminator_example_script_runs_against_the_simulator(
    capsys: pytest.CaptureFixture[str],
) -> None:
    example = runpy.run_path(str(Path(__file__).parents[2] / "examples" / "laminator.py"))
    assert example["main"](["--time-scale", "20000", "--strip-id", "EX-1"]) == 0
    out = capsys.readouterr().out
    assert "result map PXXXXXXX" in out and "alarms: none" in out
