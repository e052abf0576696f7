"""BallAttach driver against the simulated BA-8 over pyvisa-py TCPIP SOCKET (loopback)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

import pytest

from drivers.ball_attach import BallAttach, ReflowLimits
from drivers.errors import (
    AlarmActive,
    CommunicationError,
    InterlockActive,
    NotAllowedInState,
    ProtocolError,
    ToolError,
    ToolTimeout,
)
from drivers.states import ToolState
from sim.clock import SimClock
from sim.simulated_tool import SimulatedTool
from sim.world import World
from tests.integration.conftest import StartTool
from tests.support import integration_waits
from tests.support.integration_cycles import cleared, finished, stopping_alarm
from tests.support.integration_waits import raises_within

FAST = 5000.0  # 20 min of heating in a quarter of a second
SLOW = 200.0  # a 30 s takt in 0.15 s
STILL = 1.0  # the line all but stops while a test looks at it and acts


@pytest.fixture
def ba_sim(sim_tool: Callable[..., SimulatedTool], sim_clock: SimClock) -> SimulatedTool:
    sim_clock.set_scale(FAST)
    return sim_tool("ball-attach", seed=5)


@pytest.fixture
def ba(ba_sim: SimulatedTool) -> Iterator[BallAttach]:
    with BallAttach.open(ba_sim.address, timeout_s=0.3) as ba:
        ba.wait_for_state([ToolState.IDLE], timeout_s=5, poll_s=0.01)
        yield ba


def ready(ba: BallAttach) -> None:
    ba.load_recipe("A-BALL050")
    ba.wait_for_state([ToolState.READY], timeout_s=10, poll_s=0.01)


#: Polls fast: the simulated tool moves on at thousands of times real time.
wait_until = partial(integration_waits.wait_until, timeout_s=10.0, poll_s=0.005)


def catch(clock: SimClock, condition: Callable[[], bool]) -> None:
    """Wait until ``condition`` (one that stays true once reached), then hold the line still
    so that what the test reads next is what it just caught, however loaded the machine."""
    wait_until(condition)
    clock.set_scale(STILL)


# == full cycles ======================================================================================
def test_ball_attach_two_strip_magazine_reports_per_strip_results(
    ba: BallAttach, sim_world: World
) -> None:
    sim_world.strip("LA2403-017", 3, 10).site(14).pad_exposure_pct = 70.0  # residual copper
    ready(ba)
    assert ba.reflow_profile().peak_c == pytest.approx(241.7, abs=0.2)
    ba.set_magazine(["LA2403-017", "LA2403-018"], ["1" * 29 + "0", "1" * 30])
    ba.start()
    assert finished(ba) is ToolState.DONE
    progress = ba.progress()
    assert (progress.done, progress.total, progress.remaining_s) == (2, 2, 0)
    assert progress.elapsed_s == pytest.approx(393, abs=2)
    first, second = ba.magazine_results()
    assert first.summary.strip_id == "LA2403-017" and first.result_map[29] == "X"
    site_14 = first.ball_records[13]
    assert site_14.result == "F" and site_14.defect == 6501
    assert site_14.missing is not None and site_14.missing > 10
    assert first.summary.cycle_s == pytest.approx(363.3, abs=0.1)
    assert first.peak_c == pytest.approx(241.7, abs=0.5) and first.tal_s == pytest.approx(
        60.4, abs=1
    )
    assert first.max_o2_ppm is not None and first.max_o2_ppm < 500
    assert second.summary.sites == 30 and second.summary.passed >= 28
    assert [ba.strip_status(k) for k in (1, 2, 3)] == ["DONE", "DONE", "NOTRUN"]
    assert ba.result_count(2) == 30 and ba.result_count(3) == 0
    ba.acknowledge()
    assert ba.state() is ToolState.READY
    assert (ba.magazine_count, ba.strip_ids[1], ba.input_maps[1]) == (1, "", "1" * 30)
    site = sim_world.get("LA2403-018").site(1)  # type: ignore[union-attr]
    assert site.balls_placed == 192 and site.coplanarity_um is not None


def test_ball_attach_five_strip_magazine_pipelines_at_a_30_s_takt(
    ba: BallAttach, sim_clock: SimClock
) -> None:
    ready(ba)
    ba.set_magazine([f"M5-{k}" for k in range(1, 6)])
    sim_clock.set_scale(SLOW)
    ba.start()
    catch(sim_clock, lambda: ba.strip_status(3) != "WAIT")  # fed at 60 s
    assert ba.strip_status(3) in ("PRINT", "PLACE")
    assert [ba.strip_status(k) for k in (1, 2, 4, 5)] == ["REFLOW", "REFLOW", "WAIT", "WAIT"]
    assert ba.phase() == "FEED"
    sim_clock.set_scale(FAST)
    finished(ba)
    assert ba.progress().elapsed_s == pytest.approx(363 + 30 * 4, abs=2)
    results = ba.magazine_results()
    assert [r.summary.strip_id for r in results] == [f"M5-{k}" for k in range(1, 6)]
    assert all(r.summary.cycle_s == pytest.approx(363.3, abs=0.1) for r in results)
    assert sum(r.summary.passed for r in results) >= 145


def test_ball_attach_pause_finishes_the_strips_in_the_line_and_resume_feeds_again(
    ba: BallAttach, sim_clock: SimClock
) -> None:
    ready(ba)
    ba.set_magazine(["P1", "P2", "P3"])
    sim_clock.set_scale(STILL)
    ba.start()
    sim_clock.skip(45)  # P2 is fed at 30 s, P3 would be at 60 s: land in between, not race to it
    assert ba.strip_status(2) != "WAIT" and ba.strip_status(3) == "WAIT"
    ba.pause()
    assert ba.state() is ToolState.PAUSED
    sim_clock.set_scale(FAST)
    wait_until(lambda: ba.strip_status(2) == "DONE")
    assert ba.strip_status(3) == "WAIT" and ba.state() is ToolState.PAUSED
    ba.resume()
    assert finished(ba) is ToolState.DONE


# == alarms of each class =============================================================================
def test_ball_attach_ball_supply_empty_holds_feeding_while_the_oven_finishes(
    start_tool: StartTool, sim_clock: SimClock
) -> None:
    sim_clock.set_scale(FAST)
    # Balls for one strip only.
    ba, ba_sim = start_tool("ball-attach", timeout_s=0.3, seed=1, ball_supply_pct=0.7)
    ready(ba)
    ba.set_magazine(["H1", "H2"])
    sim_clock.set_scale(SLOW)
    ba.start()
    assert stopping_alarm(ba, 5) == (6102, "H")
    sim_clock.set_scale(STILL)
    assert ba.active_alarms() == [6202, 6102]
    assert ba.alarm_info(6202).alarm_class == "W"
    assert (ba.strip_status(1), ba.strip_status(2)) == ("REFLOW", "WAIT")
    assert "BALL" in ba.interlocks()
    with pytest.raises(AlarmActive) as blocked:
        ba.resume()
    assert blocked.value.detail == "6102"
    assert cleared(ba) is ToolState.ALARM  # the reservoir is still empty: the alarm stays
    sim_clock.set_scale(FAST)
    wait_until(lambda: ba.strip_status(1) == "DONE")  # strips in the oven complete
    ba_sim.model.fix(6102)  # the operator refills the ball reservoir
    assert cleared(ba) is ToolState.PAUSED and ba.active_alarms() == []
    sim_clock.set_scale(STILL)  # H2's few hundred tool s are tens of ms at FAST
    ba.resume()
    assert ba.state() is ToolState.RUNNING
    sim_clock.set_scale(FAST)
    assert finished(ba) is ToolState.DONE
    assert all(r.summary.passed >= 28 for r in ba.magazine_results())


def test_ball_attach_estop_fails_the_strips_in_the_oven_with_6508(
    ba: BallAttach, ba_sim: SimulatedTool
) -> None:
    ready(ba)
    ba.set_magazine([f"E{k}" for k in range(1, 6)])
    ba_sim.faults.condition("ESTOP", True, after_s=100)  # E1-E3 in the oven, E4 placing
    ba.start()
    assert stopping_alarm(ba) == (6001, "A")
    assert cleared(ba) is ToolState.ALARM  # still pressed
    ba_sim.model.set_condition("ESTOP", False)
    assert cleared(ba) is ToolState.ABORTED
    results = ba.magazine_results()
    assert [r.result_map for r in results] == ["F" * 30] * 4 + ["N" * 30]
    assert [{rec.defect for rec in r.records} for r in results] == [
        {6508},
        {6508},
        {6508},
        {6510},
        {0},
    ]
    assert results[0].ball_records[0].missing is None  # not inspected
    assert results[4].peak_c is None and ba.strip_status(5) == "NOTRUN"
    ba.acknowledge()


def test_ball_attach_abort_mid_magazine_drains_the_oven_then_aborts(
    ba: BallAttach, sim_clock: SimClock
) -> None:
    ready(ba)
    ba.set_magazine([f"A{k}" for k in range(1, 6)])
    sim_clock.set_scale(SLOW)
    ba.start()
    catch(sim_clock, lambda: ba.strip_status(4) != "WAIT")  # A4 fed at 90 s
    assert ba.strip_status(4) in ("PRINT", "PLACE")
    ba.abort()
    assert ba.state() is ToolState.RUNNING and ba.phase() == "DRAIN"
    assert ba.strip_status(4) == "DONE" and ba.strip_status(5) == "NOTRUN"
    sim_clock.set_scale(FAST)
    assert finished(ba) is ToolState.ABORTED
    results = ba.magazine_results()
    assert all(r.summary.passed >= 28 for r in results[:3])  # the oven strips completed
    assert {rec.defect for rec in results[3].records} == {6510}
    assert results[3].summary.failed == 30 and results[4].summary.not_processed == 30
    assert ba.progress().elapsed_s == pytest.approx(60 + 363, abs=2)  # A3 was the last out


def test_ball_attach_oxygen_warning_marks_the_strips_in_the_oven_6509(
    ba: BallAttach, ba_sim: SimulatedTool
) -> None:
    ready(ba)
    ba.set_magazine(["O1", "O2"])
    ba_sim.faults.condition("O2", True, after_s=100, clear_after_s=60)  # air ingress
    ba.start()
    assert finished(ba) is ToolState.DONE
    assert ba.active_alarms() == [6108]
    assert ba.alarm_info(6108).alarm_class == "W"
    for result in ba.magazine_results():
        assert result.summary.failed == 30
        assert {rec.defect for rec in result.records} <= {6501, 6502, 6503, 6509}
        assert result.max_o2_ppm is not None and result.max_o2_ppm > 500
    ba.clear_alarms()
    assert ba.active_alarms() == [] and ba.o2_ppm < 500


# == interlocks and state rules =====================================================================
def test_ball_attach_interlocks_block_start_in_table_order(
    ba: BallAttach, ba_sim: SimulatedTool, sim_clock: SimClock
) -> None:
    sim_clock.set_scale(STILL)
    ba.load_recipe("A-BALL050")
    with pytest.raises(InterlockActive) as heating:
        ba.start()
    assert heating.value.detail == "TEMP" and ba.interlocks() == ["TEMP"]
    sim_clock.set_scale(FAST)
    ba.wait_for_state([ToolState.READY], timeout_s=10, poll_s=0.01)
    ba_sim.model.set_condition("MAGAZINE", True)
    ba_sim.model.set_condition("DOOR", True)
    with pytest.raises(InterlockActive) as door:
        ba.start()
    assert door.value.detail == "DOOR" and ba.interlocks() == ["DOOR", "MAGAZINE"]
    ba_sim.model.set_condition("DOOR", False)
    with pytest.raises(InterlockActive, match="MAGAZINE"):
        ba.start()
    ba_sim.model.set_condition("MAGAZINE", False)
    sim_clock.set_scale(STILL)  # a 363 s strip lasts 73 ms at FAST: RUNNING is seen under load
    ba.start()
    assert ba.state() is ToolState.RUNNING


def test_ball_attach_empty_ball_reservoir_is_the_ball_interlock(
    start_tool: StartTool, sim_clock: SimClock
) -> None:
    sim_clock.set_scale(FAST)
    ba, _ = start_tool("ball-attach", timeout_s=0.3, ball_supply_pct=0.0)
    ready(ba)
    assert ba.ball_supply_pct == 0 and 6202 in ba.active_alarms()
    with pytest.raises(InterlockActive, match="BALL"):
        ba.start()


def test_ball_attach_zone_change_in_ready_returns_to_heating(
    ba: BallAttach, sim_clock: SimClock
) -> None:
    ready(ba)
    sim_clock.set_scale(STILL)
    ba.zone_temperature_c[6] = 225.0
    assert ba.state() is ToolState.HEATING
    assert ba.zone_temperature_pv_c(6) < 223.0
    sim_clock.set_scale(FAST)
    ba.wait_for_state([ToolState.READY], timeout_s=10, poll_s=0.01)
    assert ba.zone_temperature_pv_c(6) == pytest.approx(225.0, abs=3.0)
    assert ba.recipe_name() == ("A-BALL050", True)


def test_ball_attach_settings_round_trip_through_the_tool(ba: BallAttach) -> None:
    ready(ba)
    ba.reflow_limits = ReflowLimits(230.0, 250.0, 45.0, 80.0)
    ba.ball_diameter_mm = 0.45
    ba.nitrogen = False
    ba.flux_method = "PIN"
    assert ba.reflow_limits == ReflowLimits(230.0, 250.0, 45.0, 80.0)
    assert (ba.ball_diameter_mm, ba.nitrogen, ba.flux_method) == (0.45, False, "PIN")
    ba.save_recipe("A-BALL045")
    assert ba.recipe_catalog() == ["A-BALL045", "A-BALL050"]
    ba.delete_recipe("A-BALL045")
    assert ba.recipe_catalog() == ["A-BALL050"]
    ba.unload_recipe()
    assert ba.state() is ToolState.IDLE and ba.recipe_name() == ("", False)
    ba.reset()
    assert ba.state() is ToolState.IDLE and ba.ball_diameter_mm == 0.5


@pytest.mark.parametrize(
    ("message", "code", "native"),
    [
        ("STR2:SIZE 3,10", 10, -114),
        ("REFL:ZONE9:TEMP 200", 10, -114),
        ("BALL:ALL SAC999", 12, -224),
        ("REFL:ZONE3:TEMP 320", 13, -222),
        ("REFL:LIM 245,235,50,70", 14, -221),
        ('STR3:MAP "111"', 26, 26),
        ('STR3:ID "bad id!"', 12, -151),
    ],
)
def test_ball_attach_simulator_rejects_as_the_manual_says(
    ba: BallAttach, message: str, code: int, native: int
) -> None:
    with pytest.raises(ToolError) as info:
        ba.write(message)
    assert (info.value.code, info.value.native_code) == (code, native)
    assert ba.error_count() == 0  # the driver drained the queue


def test_ball_attach_results_of_a_strip_not_in_the_cycle_are_error_27(ba: BallAttach) -> None:
    ready(ba)
    ba.set_magazine(["R1", "R2"])
    ba.start()
    finished(ba)
    with pytest.raises(ToolError) as info:
        ba.result_records(strip=3)
    assert info.value.code == 27
    with pytest.raises(NotAllowedInState) as state:
        ba.magazine_count = 3
    assert state.value.detail == "DONE"


# == link faults ====================================================================================
@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("stall", ToolTimeout),
        ("drop", CommunicationError),
        ("garble", ProtocolError),
        ("truncate", (ProtocolError, CommunicationError)),
    ],
)
def test_ball_attach_link_fault_raises_within_the_timeout_and_recovers(
    ba: BallAttach, ba_sim: SimulatedTool, kind: str, error: type[Exception]
) -> None:
    """A stalled, dropped, garbled or truncated reply is an error within the timeout, never
    taken as data, and the next exchanges on the same driver are answered again."""
    ready(ba)
    ba_sim.faults.link_fault(kind)
    with raises_within(error, 1.5):
        ba.reflow_profile()
    assert ba.reflow_profile().peak_c == pytest.approx(241.7, abs=0.2)
    assert ba.identify().model == "BA-8"
    assert ba.state() is ToolState.READY
