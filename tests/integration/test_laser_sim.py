"""Laser driver against the simulated UVL-3 over a real TCP socket (pyvisa-py TCPIP SOCKET):
warm-up, calibration and full cycles, process defects, alarms of each class, interlocks and
link faults. Sim time runs 20000x unless a test says otherwise."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any, cast

import pytest

from drivers.errors import (
    AlarmActive,
    CommunicationError,
    InterlockActive,
    NotAllowedInState,
    PacklineError,
    ProtocolError,
    ToolAlarm,
    ToolError,
    ToolTimeout,
)
from drivers.laser import Laser, LaserRecord
from drivers.records import AlarmInfo
from drivers.scpi import CycleResult
from drivers.states import ToolState
from sim.clock import SimClock
from sim.simulated_tool import SimulatedTool
from sim.world import World
from tests.integration.conftest import StartTool
from tests.support.integration_cycles import cleared, finished, stopping_alarm
from tests.support.integration_waits import answered, raises_within, wait_until

pytestmark = pytest.mark.sim_time_scale(20000)

READY = [ToolState.READY]
CLEAN = {"via_block_rate": 0.0, "residue_rate": 0.0, "fiducial_miss_rate": 0.0}
POLL_S = 0.005


@pytest.fixture
def open_laser(start_tool: StartTool) -> Callable[..., tuple[Laser, SimulatedTool]]:
    """Factory: a simulated laser (clean process unless options say otherwise) and a driver
    connected to it in IDLE."""

    def start(*, timeout_s: float = 2.0, **options: Any) -> tuple[Laser, SimulatedTool]:
        return start_tool("laser", timeout_s=timeout_s, seed=11, **(CLEAN | options))

    return start


@pytest.fixture
def laser_sim(
    open_laser: Callable[..., tuple[Laser, SimulatedTool]],
) -> tuple[Laser, SimulatedTool]:
    return open_laser()


def warm_and_calibrate(laser: Laser, recipe: str = "B-IO16") -> None:
    laser.load_recipe(recipe)
    laser.wait_for_state(READY, timeout_s=5, poll_s=POLL_S)
    laser.calibrate()
    laser.wait_for_state(READY, timeout_s=5, poll_s=POLL_S)


def run_strip(laser: Laser, strip_id: str, input_map: str | None = None) -> CycleResult:
    laser.strip_id = strip_id
    if input_map is not None:
        laser.input_map = input_map
    laser.start()
    finished(laser)
    return laser.cycle_result()


def records_of(result: CycleResult) -> list[LaserRecord]:
    assert all(isinstance(r, LaserRecord) for r in result.records)
    return cast(list[LaserRecord], result.records)


def wait_alarm_state(laser: Laser) -> list[AlarmInfo]:
    laser.wait_for_state([ToolState.ALARM], timeout_s=10, poll_s=POLL_S, raise_on_alarm=False)
    return laser.alarms()


# == warm-up, calibration, full cycles ==============================================================
@pytest.mark.sim_time_scale(1000)
def test_laser_warms_up_calibrates_and_runs_a_format_b_io16_strip(
    open_laser: Callable[..., tuple[Laser, SimulatedTool]], sim_world: World, sim_clock: SimClock
) -> None:
    laser, _ = open_laser(via_block_rate=2e-4, residue_rate=1e-4, fiducial_miss_rate=5e-4)
    assert laser.identify().model == "UVL-3"
    assert laser.interlocks() == ["CAL"] and not laser.calibration().done
    assert (laser.strip_size, laser.strip_pitch_mm) == ((8, 30), (5.3, 5.3))
    laser.load_recipe("B-IO16")
    assert laser.state() is ToolState.HEATING  # WARMUP: 600 s cold = 0.6 s here
    assert "WARMUP" in laser.interlocks() and laser.power_w() > 0.0
    laser.wait_for_state(READY, timeout_s=5, poll_s=0.02)
    with pytest.raises(InterlockActive) as uncalibrated:
        laser.start()
    assert uncalibrated.value.detail == "CAL"
    sim_clock.set_scale(100)  # SETUP lasts 0.3 s
    laser.calibrate()
    assert laser.state() is ToolState.SETUP
    sim_clock.set_scale(1000)
    laser.wait_for_state(READY, timeout_s=2, poll_s=POLL_S)
    assert laser.calibration().in_tolerance and laser.interlocks() == []
    assert laser.power_w() == pytest.approx(0.295, abs=0.005)
    input_map = "0" + "1" * 238 + "0"
    laser.strip_id = "FB2405-112"
    laser.input_map = input_map
    sim_clock.set_scale(100)  # the 83 s strip lasts 0.83 s: RUNNING is seen on a loaded machine
    laser.start()
    assert laser.state() is ToolState.RUNNING
    sim_clock.set_scale(1000)
    finished(laser, 5)
    result = laser.cycle_result()
    summary, records = result.summary, records_of(result)
    assert (summary.strip_id, summary.sites, summary.skipped, summary.not_processed) == (
        "FB2405-112",
        240,
        2,
        0,
    )
    assert summary.passed + summary.failed == 238 and summary.passed >= 230
    assert summary.cycle_s == pytest.approx(83.0, abs=1.5)
    fired = [r for r in records if r.mean_pulses_per_via is not None]
    assert summary.extra == ("IO16", 16 * len(fired))
    assert result.result_map == "".join(r.result for r in records)
    assert result.result_map[0] == result.result_map[-1] == "X" and records[0].vias_open is None
    passed = [r for r in records if r.passed]
    assert all(r.vias_open == r.vias_total == 16 and r.recess_depth_um is None for r in passed)
    assert all(r.defect in laser.defect_texts for r in records if r.result == "F")
    assert laser.progress().done == laser.progress().total == 238
    strip = sim_world.get("FB2405-112")
    assert strip is not None
    site = strip.site(passed[0].site)
    assert (site.via_depth_um, site.via_depth_min_um, site.residual_pi_um) == (25.0, 25.0, 0.0)
    laser.acknowledge()
    assert laser.state() is ToolState.READY
    assert laser.strip_id == "" and laser.input_map == "1" * 240


def test_laser_io16_die4_recess_depth_follows_the_target(
    laser_sim: tuple[Laser, SimulatedTool], sim_world: World
) -> None:
    laser, _ = laser_sim
    warm_and_calibrate(laser, "B-IO16-DIE4")
    assert (laser.pattern, laser.pattern_vias, laser.pattern_area_mm2) == ("IO16-DIE4", 16, 4.0)
    assert (laser.recess_depth_um, laser.recess_tolerance_um) == (12.0, 2.0)
    started = time.monotonic()
    result = run_strip(laser, "FD-DIE4")
    assert time.monotonic() - started < 5.0
    records = records_of(result)
    assert result.summary.cycle_s == pytest.approx(2664.0, abs=5.0)
    depths = [r.recess_depth_um for r in records if r.recess_depth_um is not None]
    assert len(depths) == 240
    assert statistics.mean(depths) == pytest.approx(12.0, abs=0.15)
    assert all(
        abs(r.recess_depth_um - 12.0) <= 2.0 for r in records if r.passed and r.recess_depth_um
    )
    assert all(r.defect == 8504 for r in records if r.result == "F")
    strip = sim_world.get("FD-DIE4")
    assert strip is not None
    assert strip.site(9).area_recess_depth_um == pytest.approx(records[8].recess_depth_um, abs=0.05)


def test_laser_endpoint_off_with_too_many_pulses_damages_the_pads(
    laser_sim: tuple[Laser, SimulatedTool], sim_world: World
) -> None:
    laser, _ = laser_sim
    warm_and_calibrate(laser)
    laser.via_endpoint = False
    laser.via_max_pulses = 300  # > 2 x 126
    records = records_of(run_strip(laser, "FB-OVER"))
    assert {(r.result, r.defect, r.vias_open, r.mean_pulses_per_via) for r in records} == {
        ("F", 8503, 16, 300)
    }
    assert laser.defect_texts[8503] == "pad damage (over-ablation)"
    site = sim_world.get("FB-OVER").site(1)  # type: ignore[union-attr]
    assert site.via_depth_um == 25.0 and site.defects == {"laser": 8503}


def test_laser_too_few_pulses_leave_vias_closed_and_hold_after_three_sites(
    laser_sim: tuple[Laser, SimulatedTool], sim_world: World
) -> None:
    laser, _ = laser_sim
    warm_and_calibrate(laser)
    laser.via_max_pulses = 100  # < 126
    laser.strip_id = "FB-UNDER"
    laser.start()
    assert stopping_alarm(laser) == (8107, "H")
    assert laser.alarms() == [AlarmInfo(8107, "H", "Via open rate low")]
    first = cast(list[LaserRecord], laser.result_records(1, 4))
    assert [(r.result, r.defect, r.vias_open, r.mean_pulses_per_via) for r in first[:3]] == [
        ("F", 8501, 0, 100)
    ] * 3
    assert first[3].result == "N"
    site = sim_world.get("FB-UNDER").site(2)  # type: ignore[union-attr]
    assert site.via_depth_min_um == pytest.approx(100 * 0.199, abs=1.5)
    assert site.residual_pi_um is not None and site.residual_pi_um > 4.0
    with pytest.raises(AlarmActive):
        laser.resume()
    assert cleared(laser) is ToolState.PAUSED
    laser.abort()
    assert laser.state() is ToolState.ABORTED
    summary = laser.summary()
    assert (summary.failed, summary.not_processed, summary.extra) == (3, 237, ("IO16", 48))


# == alarms of each class ============================================================================
def test_laser_door_opened_mid_cycle_follows_the_manual_example(
    laser_sim: tuple[Laser, SimulatedTool], sim_clock: SimClock
) -> None:
    laser, simulated = laser_sim
    warm_and_calibrate(laser)
    simulated.faults.condition("DOOR", phase="ABLATE", after_s=17.3)
    laser.strip_id = "FB2405-112"
    laser.start()
    assert wait_alarm_state(laser) == [AlarmInfo(8002, "A", "Enclosure door opened during cycle")]
    assert laser.shutter() == "CLOSED" and laser.power_w() == 0.0
    with pytest.raises(AlarmActive) as blocked:
        laser.resume()
    assert (blocked.value.code, blocked.value.detail) == (23, "8002")
    assert cleared(laser) is ToolState.ALARM  # door still open
    simulated.faults.condition("DOOR", False)  # door closed
    assert cleared(laser) is ToolState.ABORTED
    result = laser.cycle_result()
    summary, records = result.summary, records_of(result)
    assert (summary.failed, summary.passed + summary.not_processed) == (1, 239)
    assert summary.cycle_s == pytest.approx(35.3, abs=0.3)
    interrupted = next(r for r in records if r.result == "F")
    assert interrupted.defect == 8506 and interrupted.vias_open is not None
    assert summary.extra == ("IO16", 16 * summary.passed + interrupted.vias_open)
    assert result.result_map == "P" * summary.passed + "F" + "N" * summary.not_processed
    sim_clock.set_scale(100)  # the 60 s warm restart lasts 0.6 s
    laser.acknowledge()
    assert laser.state() is ToolState.HEATING  # WARMUP: the source restarts
    sim_clock.set_scale(20000)
    laser.wait_for_state(READY, timeout_s=5, poll_s=POLL_S)


def test_laser_fume_extraction_low_holds_at_the_end_of_the_site(
    laser_sim: tuple[Laser, SimulatedTool],
) -> None:
    laser, simulated = laser_sim
    warm_and_calibrate(laser)
    simulated.faults.condition("EXHAUST", phase="ABLATE", after_s=5.05)
    laser.strip_id = "FB-HOLD"
    laser.start()
    assert wait_alarm_state(laser) == [AlarmInfo(8004, "H", "Fume extraction low")]
    result_map = laser.result_map()
    done = result_map.count("P")
    assert result_map == "P" * done + "N" * (240 - done) and 20 <= done <= 30
    assert laser.shutter() == "CLOSED"
    assert cleared(laser) is ToolState.ALARM and "EXHAUST" in laser.interlocks()
    simulated.faults.condition("EXHAUST", False)
    assert cleared(laser) is ToolState.PAUSED
    laser.resume()
    finished(laser)
    assert laser.state() is ToolState.DONE and laser.summary().passed == 240


def test_laser_alignment_failure_aborts_with_every_site_not_processed(
    laser_sim: tuple[Laser, SimulatedTool],
) -> None:
    laser, simulated = laser_sim
    warm_and_calibrate(laser)
    simulated.faults.alarm(8106, phase="ALIGN", after_s=4.0)
    laser.strip_id = "FB-ALIGN"
    laser.start()
    assert wait_alarm_state(laser) == [AlarmInfo(8106, "A", "Alignment failed")]
    assert cleared(laser) is ToolState.ABORTED
    assert laser.result_map() == "N" * 240 and laser.summary().extra == ("IO16", 0)


def test_laser_calibration_out_of_tolerance_raises_8101(
    open_laser: Callable[..., tuple[Laser, SimulatedTool]],
) -> None:
    laser, _ = open_laser(source_efficiency=0.85)
    laser.load_recipe("B-IO16")
    laser.wait_for_state(READY, timeout_s=5, poll_s=POLL_S)
    laser.calibrate()
    with pytest.raises(ToolAlarm) as alarm:
        laser.wait_for_state(READY, timeout_s=5, poll_s=POLL_S)
    assert (alarm.value.code, alarm.value.alarm_class) == (8101, "H")
    calibration = laser.calibration()
    assert calibration.done and not calibration.in_tolerance
    assert cleared(laser) is ToolState.READY and laser.interlocks() == ["CAL"]


@pytest.mark.sim_time_scale(50000)
def test_laser_calibration_due_warning_then_cal_interlock(
    laser_sim: tuple[Laser, SimulatedTool],
) -> None:
    laser, _ = laser_sim
    warm_and_calibrate(laser)
    wait_until(lambda: 8201 in laser.active_alarms(), 5.0, poll_s=0.02)  # 8 h = 0.6 s here
    assert laser.alarm_info(8201) == AlarmInfo(8201, "W", "Power calibration due")
    assert laser.state() is ToolState.READY  # a warning changes no state
    wait_until(lambda: "CAL" in laser.interlocks(), 5.0, poll_s=0.02)  # 24 h
    with pytest.raises(InterlockActive) as blocked:
        laser.start()
    assert blocked.value.detail == "CAL"
    laser.calibrate()
    laser.wait_for_state(READY, timeout_s=2, poll_s=POLL_S)
    laser.clear_alarms()
    assert laser.active_alarms() == [] and laser.interlocks() == []


def test_laser_source_hours_above_20000_warn(
    open_laser: Callable[..., tuple[Laser, SimulatedTool]],
) -> None:
    laser, _ = open_laser(source_hours=20500.0)
    assert laser.source_hours() == 20500
    assert laser.alarms() == [AlarmInfo(8202, "W", "Laser source hours high")]
    assert laser.state() is ToolState.IDLE


# == interlocks, pause, state matrix ================================================================
def test_laser_interlocks_block_start_resume_and_calibration(
    laser_sim: tuple[Laser, SimulatedTool], sim_clock: SimClock
) -> None:
    laser, simulated = laser_sim
    sim_clock.set_scale(100)  # the cold warm-up lasts 6 s: WARMUP stays while we look
    with pytest.raises(NotAllowedInState) as idle:
        laser.calibrate()
    assert idle.value.code == 24
    laser.load_recipe("B-IO16")
    for call in (laser.start, laser.calibrate):
        with pytest.raises(InterlockActive) as warming:
            call()
        assert warming.value.detail == "WARMUP"
    sim_clock.set_scale(20000)
    warm_and_calibrate(laser)
    # At 20000x the calibration's 24 h (interlock CAL) last 4.3 s of wall time, which a loaded
    # machine can spend on the requests below: at 1000x they last 86 s.
    sim_clock.set_scale(1000)
    model = simulated.model
    # The chiller also stops the source: START then meets the WARMUP state step first.
    for name, start_refusal, blocks_calibration in (
        ("DOOR", "DOOR", True),
        ("EXHAUST", "EXHAUST", False),
        ("CHILLER", "WARMUP", True),
    ):
        model.set_condition(name, True)
        assert name in laser.interlocks()
        with pytest.raises(InterlockActive) as blocked:
            laser.start()
        assert blocked.value.detail == start_refusal
        if blocks_calibration:
            with pytest.raises(InterlockActive) as no_calibration:
                laser.calibrate()
            assert no_calibration.value.detail == name
        model.set_condition(name, False)
    laser.wait_for_state(READY, timeout_s=5, poll_s=POLL_S)  # the chiller stopped the source
    model.set_condition("KEY", True)
    assert laser.interlocks()[0] == "KEY" and laser.power_w() == 0.0
    assert laser.state() is ToolState.HEATING
    model.set_condition("KEY", False)
    laser.wait_for_state(READY, timeout_s=5, poll_s=POLL_S)
    assert laser.interlocks() == []


@pytest.mark.sim_time_scale(100)
def test_laser_pause_takes_effect_at_the_end_of_the_current_site(
    open_laser: Callable[..., tuple[Laser, SimulatedTool]], sim_clock: SimClock
) -> None:
    laser, simulated = open_laser()
    sim_clock.set_scale(20000)
    warm_and_calibrate(laser)
    sim_clock.set_scale(100)  # a site takes 1.8 ms
    laser.strip_id = "FB-PAUSE"
    laser.start()
    while laser.phase() != "ABLATE":
        time.sleep(POLL_S)
    laser.pause()
    laser.wait_for_state([ToolState.PAUSED], timeout_s=2, poll_s=POLL_S)
    time.sleep(0.05)
    first = laser.progress().done
    assert laser.shutter() == "CLOSED"
    time.sleep(0.05)
    assert laser.progress().done == first
    result_map = laser.result_map()
    assert result_map == "P" * first + "N" * (240 - first)
    with pytest.raises(NotAllowedInState) as locked:
        laser.fluence_j_cm2 = 1.30
    assert locked.value.detail == "PAUSED"
    simulated.model.set_condition("VACUUM", True)
    assert "VACUUM" in laser.interlocks()
    assert wait_alarm_state(laser) == [AlarmInfo(8105, "H", "Focus error")]
    simulated.model.set_condition("VACUUM", False)
    assert cleared(laser) is ToolState.PAUSED
    sim_clock.set_scale(20000)
    laser.resume()
    finished(laser, 5)
    assert laser.summary().passed == 240


def test_laser_rejections_from_the_simulator(laser_sim: tuple[Laser, SimulatedTool]) -> None:
    laser, _ = laser_sim
    with pytest.raises(ToolError) as no_results:
        laser.summary()
    assert no_results.value.code == 27
    with pytest.raises(ToolError) as unknown:
        laser.pattern = "IO64"
    assert unknown.value.code == 25
    for raw, native in (("LAS:FLU 3.5", -222), ("VIA:ENDP MAYBE", -224), ("PATT:SEL IO16", -104)):
        with pytest.raises(ToolError) as rejected:
            laser.write(raw)
        assert rejected.value.native_code == native
    assert laser.pattern_catalog() == ["IO16", "IO16-DIE4", "IO32", "IO32-DIE4"]
    warm_and_calibrate(laser, "B-IO32-DIE4")
    laser.recess_depth_um = 25.0  # not < FILM:THICKness
    with pytest.raises(ToolError) as conflict:
        laser.start()
    assert (conflict.value.code, conflict.value.native_code) == (14, -221)
    laser.film_thickness_um = 50.0
    assert laser.recipe_name() == ("B-IO32-DIE4", True)


# == link faults =====================================================================================
@pytest.mark.parametrize(
    ("kind", "duration_s", "expected"),
    [
        ("stall", None, ToolTimeout),
        ("stall", 1.0, CommunicationError),
        ("drop", None, CommunicationError),
        ("garble", None, ProtocolError),
        ("truncate", None, (ProtocolError, CommunicationError)),
    ],
)
def test_laser_link_faults_raise_and_recover_without_hanging(
    open_laser: Callable[..., tuple[Laser, SimulatedTool]],
    kind: str,
    duration_s: float | None,
    expected: type[PacklineError] | tuple[type[PacklineError], ...],
) -> None:
    laser, simulated = open_laser(timeout_s=0.3)
    assert laser.state() is ToolState.IDLE
    simulated.faults.link_fault(kind, duration_s=duration_s)
    with raises_within(expected, 1.5):
        laser.identify()
    assert answered(laser.state, 5.0) is ToolState.IDLE
    assert laser.identify().model == "UVL-3"
