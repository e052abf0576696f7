"""MoldPress driver against the simulated TM-4 over a real pymodbus TCP server."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from drivers.errors import (
    AlarmActive,
    CommunicationError,
    InterlockActive,
    NotAllowedInState,
    ToolError,
    ToolTimeout,
)
from drivers.mold_press import MoldPress, MoldRecipe
from drivers.states import ToolState
from sim.clock import SimClock
from sim.simulated_tool import SimulatedTool
from sim.world import World
from tests.support.integration_cycles import FINISHED, cleared, finished, stopping_alarm
from tests.support.integration_waits import raises_within, wait_until

FAST = 5000.0  # heat-up of ~31 min takes well under a second


@pytest.fixture
def press_sim(
    sim_tool: Callable[..., SimulatedTool], sim_clock: SimClock, sim_world: World
) -> SimulatedTool:
    sim_clock.set_scale(FAST)
    for strip_id in ("S1", "S2"):
        sim_world.strip(strip_id, 3, 10)
    return sim_tool("mold-press", seed=7)


@pytest.fixture
def press(press_sim: SimulatedTool) -> Iterator[MoldPress]:
    with MoldPress.open(press_sim.address, timeout_s=0.5, retries=1) as press:
        press.wait_for_state([ToolState.IDLE], timeout_s=5, poll_s=0.01)
        yield press


def ready(
    press: MoldPress, recipe: MoldRecipe | None = None, strips: dict[int, str] | None = None
) -> None:
    press.arm(recipe or MoldRecipe(), strip_ids=strips or {1: "S1", 2: "S2"})
    press.wait_for_state([ToolState.READY], timeout_s=10, poll_s=0.01)


def wait_phase(press: MoldPress, phase: str, timeout_s: float = 10.0) -> None:
    wait_until(
        lambda: press.phase() == phase,
        timeout_s,
        lambda: f"phase {phase} not reached",
        poll_s=0.005,
    )


def test_mold_press_full_shot_molds_both_strips_in_the_world(
    press: MoldPress, sim_world: World
) -> None:
    ready(press)
    assert press.temp_in_band
    started = time.monotonic()
    press.start()
    finished(press)
    assert time.monotonic() - started < 1.0, (
        "a 179 s shot must take well under a second at scale 5000"
    )
    result = press.shot_result()
    assert result.result_map == "PPXX"
    assert result.alpha_at_open == pytest.approx(0.91, abs=0.01)
    assert result.t_alpha03_s == pytest.approx(20.9, abs=0.2)
    assert result.fill_time_s == pytest.approx(13.0, abs=0.5)
    assert [p.strip_id for p in result.positions[:2]] == ["S1", "S2"]
    assert press.status().cycle_count == 1
    press.acknowledge()
    assert press.state() is ToolState.READY
    assert press.strip_ids() == ["", "", "", ""]
    site = sim_world.get("S1").site(1)  # type: ignore[union-attr]
    assert site.molded and site.mold_alpha == pytest.approx(0.91, abs=0.01)


def test_mold_press_start_while_heating_names_the_temp_interlock(press: MoldPress) -> None:
    press.arm(MoldRecipe(), strip_ids={1: "S1"})
    with pytest.raises(InterlockActive) as info:
        press.start()
    assert info.value.detail == "TEMP"


def test_mold_press_settings_conflict_at_arm(press: MoldPress) -> None:
    press.stage1_end_mm = 45.0  # S1 beyond S2: only the tool's cross-check can catch this
    with pytest.raises(ToolError) as info:
        press.arm()
    assert info.value.code == 14


def test_mold_press_door_interlock_blocks_start(
    press: MoldPress, press_sim: SimulatedTool, sim_clock: SimClock
) -> None:
    ready(press)
    press_sim.model.set_condition("DOOR", True)
    with pytest.raises(InterlockActive) as info:
        press.start()
    assert info.value.detail == "DOOR"
    assert "DOOR" in press.interlocks()
    press_sim.model.set_condition("DOOR", False)
    sim_clock.set_scale(50)  # the 179 s shot lasts 36 ms at FAST: RUNNING is seen under load
    press.start()
    assert press.state() is ToolState.RUNNING


def test_mold_press_pause_is_only_accepted_before_clamp(
    press: MoldPress, sim_clock: SimClock
) -> None:
    ready(press)
    sim_clock.set_scale(50)
    press.start()
    press.pause()
    press.wait_for_state([ToolState.PAUSED], timeout_s=5, poll_s=0.01)
    assert press.phase() in ("LOAD", "PREHEAT")
    press.resume()
    wait_phase(press, "CLAMP")
    with pytest.raises(NotAllowedInState) as info:
        press.pause()
    assert info.value.code == 20
    sim_clock.set_scale(FAST)
    assert finished(press) is ToolState.DONE


def test_mold_press_hold_alarm_in_load_pauses_after_clear(
    press: MoldPress, press_sim: SimulatedTool, sim_clock: SimClock
) -> None:
    ready(press)
    press_sim.model.pellet_stock = 3  # fewer than PELLETS_PER_SHOT: 4115 at LOAD
    press_sim.model.conditions["PELLET_BYPASS"] = True
    sim_clock.set_scale(50)
    with pytest.raises(InterlockActive, match="PELLET"):
        press.start()
    press_sim.faults.alarm(4115, phase="LOAD")
    press_sim.model.pellet_stock = 400
    press.start()
    assert stopping_alarm(press, 5) == (4115, "H")
    with pytest.raises(AlarmActive):
        press.resume()
    assert cleared(press) is ToolState.PAUSED
    press.resume()
    sim_clock.set_scale(FAST)
    assert finished(press) is ToolState.DONE
    assert press.shot_result().result_map == "PPXX"


def test_mold_press_hold_during_cure_is_deferred_until_the_shot_is_done(
    press: MoldPress, press_sim: SimulatedTool
) -> None:
    ready(press)
    press_sim.faults.condition("AIR", True, phase="CURE", after_s=5)
    press.start()
    assert stopping_alarm(press)[0] == 4005
    inputs = press.common_inputs()
    assert inputs.results_available and not inputs.cycle_active
    assert press.shot_result().result_map == "PPXX"  # the shot completed
    assert cleared(press) is ToolState.ALARM  # cause still present: stays ALARM
    press_sim.model.set_condition("AIR", False)
    assert cleared(press) is ToolState.DONE
    press.acknowledge()


def test_mold_press_estop_during_cure_aborts_with_4507(
    press: MoldPress, press_sim: SimulatedTool
) -> None:
    ready(press)
    press_sim.faults.condition("ESTOP", True, phase="CURE", after_s=10)
    press.start()
    assert stopping_alarm(press) == (4001, "A")
    assert not press.common_inputs().estop_ok
    press_sim.model.set_condition("ESTOP", False)
    assert cleared(press) is ToolState.ABORTED
    result = press.shot_result()
    assert result.result_map == "FFXX"
    assert {p.defect for p in result.positions[:2]} == {4507}


def test_mold_press_host_abort_before_transfer_leaves_positions_not_processed(
    press: MoldPress, sim_clock: SimClock
) -> None:
    ready(press)
    sim_clock.set_scale(50)
    press.start()
    press.abort()
    assert press.state() is ToolState.ABORTED
    assert press.shot_result().result_map == "NNXX"


def test_mold_press_slow_transfer_is_a_short_shot_and_two_raise_4119(press: MoldPress) -> None:
    slow = MoldRecipe(stage1_speed_mm_s=1.0, stage2_speed_mm_s=1.0, stage3_speed_mm_s=1.0)
    ready(press, slow)
    for shot in (1, 2):
        press.start()
        state = press.wait_for_state((*FINISHED, ToolState.ALARM), timeout_s=10, poll_s=0.01)
        result = press.shot_result()
        assert result.fill_time_s > result.t_alpha03_s
        assert {p.defect for p in result.positions[:2]} == {4501}
        if shot == 1:
            assert state is ToolState.DONE
            press.acknowledge()
            press.wait_for_state([ToolState.READY], timeout_s=5, poll_s=0.01)
    assert state is ToolState.ALARM and 4119 in press.active_alarms()


def test_mold_press_cool_short_cure_is_under_cured(press: MoldPress) -> None:
    ready(press, MoldRecipe(chase_top_sp_c=165.0, chase_bottom_sp_c=165.0, cure_s=60))
    press.start()
    finished(press)
    result = press.shot_result()
    assert result.alpha_at_open < 0.8
    assert {p.defect for p in result.positions[:2]} == {4502}


def test_mold_press_low_pellet_stock_raises_a_warning_only(
    press: MoldPress, press_sim: SimulatedTool
) -> None:
    press_sim.model.pellet_stock = 30
    ready(press)
    press.start()
    assert finished(press) is ToolState.DONE
    assert 4201 in press.active_alarms()
    assert press.alarm_info(4201).alarm_class == "W"
    assert press.status().warning_count == 1


def test_mold_press_stalled_reply_times_out_within_bound_and_recovers(
    press: MoldPress, press_sim: SimulatedTool
) -> None:
    press_sim.faults.link_fault("stall", count=2)
    with raises_within(ToolTimeout, 3.0, match="no valid reply after 2 attempt"):
        press.state()
    assert press.state() is ToolState.IDLE


def test_mold_press_dropped_connection_is_reopened_once(
    press: MoldPress, press_sim: SimulatedTool
) -> None:
    press_sim.faults.link_fault("drop")
    assert press.identify().model == "TM-4"  # the request is repeated on a fresh connection
    assert press.link.reconnect_count == 1


def test_mold_press_unreachable_press_is_connection_lost(press_sim: SimulatedTool) -> None:
    address = press_sim.address
    press_sim.stop()
    with pytest.raises(CommunicationError, match="mold-press at modbus"):
        MoldPress.open(address, timeout_s=0.2, retries=0)


@pytest.mark.parametrize("kind", ["garble", "truncate"])
def test_mold_press_corrupted_reply_is_never_taken_as_data(
    press: MoldPress, press_sim: SimulatedTool, kind: str
) -> None:
    press_sim.faults.link_fault(kind)
    # The corrupted reply was discarded, the retry is right:
    assert press.identify().serial == "TM4-00021"
    press_sim.faults.link_fault(kind, count=10)
    with raises_within(CommunicationError, 3.0):
        press.identify()
    press_sim.faults.clear()
    assert press.identify().model == "TM-4"


def test_mold_press_host_watchdog_blocks_start_until_heartbeat(
    press: MoldPress, press_sim: SimulatedTool
) -> None:
    ready(press)
    press.host_watchdog_s = 5
    wait_until(lambda: press.common_inputs().watchdog_expired, 5)
    assert 4003 in press.active_alarms()
    with pytest.raises(InterlockActive, match="HOST_WDT"):
        press.start()
    press.host_watchdog_s = 0
    press.heartbeat()
    press.clear_alarms()
    press.start()
    assert finished(press) is ToolState.DONE
