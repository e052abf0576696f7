"""Faults between the metrology driver and the simulated MS-3 over a real pty and socket://:
link faults (stall, drop, garble, truncate), alarms of class A, H and W in the middle of a
cycle, and the CAL and DOOR interlocks. The driver raises the documented error, never waits
past its timeout, and recovers where the manual says it can."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from drivers.errors import (
    AlarmActive,
    CommunicationError,
    ConnectionLost,
    InterlockActive,
    ProtocolError,
    ToolTimeout,
)
from drivers.metrology import MeasureMode, Metrology
from drivers.states import ToolState
from sim.clock import SimClock
from sim.simulated_tool import SimulatedTool
from sim.world import World
from tests.support.integration_cycles import cleared, finished, stopping_alarm
from tests.support.integration_waits import answered, raises_within

SCALE = 2000.0
LINE_TIMEOUT_S = 1.0
BALLED = {
    "ball_height_mean_um": 400.0,
    "ball_height_min_um": 390.0,
    "coplanarity_um": 60.0,
    "slug_protrusion_um": 225.0,
}


@pytest.fixture(params=["pty", "tcp"])
def ms3(
    request: pytest.FixtureRequest,
    sim_tool: Callable[..., SimulatedTool],
    sim_clock: SimClock,
    sim_world: World,
) -> SimulatedTool:
    sim_clock.set_scale(SCALE)
    strip = sim_world.strip("LA2403-017", 3, 10)
    for site in strip.sites.values():
        for name, value in BALLED.items():
            setattr(site, name, value)
    return sim_tool("metrology", seed=5, transport=request.param)


@pytest.fixture
def gauge(ms3: SimulatedTool) -> Iterator[Metrology]:
    with Metrology.open(ms3.address, line_timeout_s=LINE_TIMEOUT_S) as gauge:
        gauge.wait_for_state([ToolState.IDLE], timeout_s=5, poll_s=0.005)
        gauge.load_recipe("A-BALL")
        gauge.calibrate()
        gauge.wait_for_state([ToolState.READY], timeout_s=5, poll_s=0.005)
        gauge.strip_id = "LA2403-017"
        yield gauge


# -- link faults ------------------------------------------------------------------------------------
def test_metrology_stalled_reply_times_out_and_the_next_command_works(
    ms3: SimulatedTool, gauge: Metrology
) -> None:
    ms3.faults.link_fault("stall")
    with raises_within(ToolTimeout, LINE_TIMEOUT_S + 1.0):
        gauge.status()
    assert gauge.state() is ToolState.READY


def test_metrology_dropped_link_is_reported_and_recovered(
    ms3: SimulatedTool, gauge: Metrology
) -> None:
    ms3.faults.link_fault("drop")
    with raises_within(CommunicationError, LINE_TIMEOUT_S + 1.0) as raised:
        gauge.status()
    if ms3.address.startswith("socket://"):
        assert isinstance(raised.value, ConnectionLost)  # the socket was closed: reconnect
    else:
        assert isinstance(raised.value, ToolTimeout)  # a serial line cannot close: silence
    # The pty tool is deaf for a second after a drop.
    assert answered(gauge.state, 3.0) is ToolState.READY


@pytest.mark.parametrize("kind", ["garble", "bad_checksum"])
def test_metrology_garbled_reply_is_a_protocol_error_and_the_link_resynchronises(
    ms3: SimulatedTool, gauge: Metrology, kind: str
) -> None:
    gauge.start()
    finished(gauge)
    ms3.faults.link_fault(kind)
    with pytest.raises(ProtocolError):
        gauge.records(mode=MeasureMode.BALL)  # 30 D lines and OK, garbled
    assert len(gauge.records(mode=MeasureMode.BALL)) == 30


def test_metrology_truncated_reply_times_out_and_the_next_command_works(
    ms3: SimulatedTool, gauge: Metrology
) -> None:
    gauge.start()
    finished(gauge)
    ms3.faults.link_fault("truncate")
    with raises_within(ToolTimeout, LINE_TIMEOUT_S + 1.0):
        gauge.records(mode=MeasureMode.BALL)
    assert gauge.result_map() == "P" * 30


# -- alarms in the middle of a cycle ----------------------------------------------------------------
def test_metrology_abort_class_alarm_mid_cycle_ends_in_aborted_with_the_rest_n(
    ms3: SimulatedTool, gauge: Metrology
) -> None:
    ms3.faults.alarm(9104, site=5)  # stage motion fault while measuring site 5
    gauge.start()
    assert stopping_alarm(gauge) == (9104, "A")
    with pytest.raises(AlarmActive):
        gauge.resume()
    assert cleared(gauge) is ToolState.ABORTED
    assert gauge.result_map() == "PPPP" + "N" * 26
    assert gauge.summary().not_processed == 26
    gauge.acknowledge()
    assert gauge.state() is ToolState.READY


def test_metrology_alignment_failure_leaves_every_site_n(
    ms3: SimulatedTool, gauge: Metrology
) -> None:
    ms3.faults.alarm(9103, phase="ALIGN", after_s=1.0)
    gauge.start()
    assert stopping_alarm(gauge)[0] == 9103
    gauge.clear_alarms()
    assert gauge.result_map() == "N" * 30


def test_metrology_hold_alarm_mid_cycle_pauses_after_the_site_as_in_the_manual(
    ms3: SimulatedTool, gauge: Metrology
) -> None:
    ms3.faults.condition("VACUUM", site=7)  # stage vacuum drops while site 7 is measured
    gauge.start()
    assert stopping_alarm(gauge) == (9003, "H")
    status = gauge.status()
    assert (status.state, status.phase, status.done) == (ToolState.ALARM, "MEASURE", 7)
    with pytest.raises(AlarmActive) as blocked:
        gauge.resume()
    assert blocked.value.detail == "9003"
    gauge.clear_alarms()
    assert gauge.active_alarms() == [9003]  # vacuum still low: the alarm stays
    ms3.model.fix(9003)  # strip reseated
    assert cleared(gauge) is ToolState.PAUSED
    gauge.resume()
    assert finished(gauge) is ToolState.DONE
    assert gauge.result_map() == "P" * 30


def test_metrology_warning_mid_cycle_changes_no_state(ms3: SimulatedTool, gauge: Metrology) -> None:
    ms3.faults.alarm(9105, site=3)
    gauge.start()
    assert finished(gauge) is ToolState.DONE
    assert [(a.code, a.alarm_class) for a in gauge.alarms()] == [(9105, "W")]
    gauge.clear_alarms()
    assert gauge.active_alarms() == []


def test_metrology_unknown_strip_holds_with_sensor_signal_low(gauge: Metrology) -> None:
    gauge.strip_id = "NOT-IN-THE-WORLD"
    gauge.start()
    assert stopping_alarm(gauge)[0] == 9102
    gauge.clear_alarms()
    gauge.abort()
    result = gauge.cycle_result()
    assert result.result_map == "FFF" + "N" * 27
    assert {r.defect for r in result.records[:3]} == {9515}


def test_metrology_dirty_sensor_window_is_cleaned_and_the_cycle_resumes(
    ms3: SimulatedTool, gauge: Metrology
) -> None:
    ms3.faults.condition("SENSOR", site=10)
    gauge.start()
    stopping_alarm(gauge)
    ms3.model.fix(9102)  # clean the sensor window
    gauge.clear_alarms()
    gauge.resume()
    finished(gauge)
    assert gauge.result_map() == "P" * 9 + "FFF" + "P" * 18


# -- interlocks -------------------------------------------------------------------------------------
def test_metrology_cal_interlock_after_power_up(ms3: SimulatedTool) -> None:
    with Metrology.open(ms3.address) as gauge:
        gauge.wait_for_state([ToolState.IDLE], timeout_s=5, poll_s=0.005)
        gauge.load_recipe("A-BALL")
        with pytest.raises(InterlockActive) as refused:
            gauge.start()
        assert refused.value.detail == "CAL"
        assert not gauge.calibration().passed


def test_metrology_door_interlock_blocks_run_and_cal_and_holds_a_cycle(
    ms3: SimulatedTool, gauge: Metrology
) -> None:
    ms3.faults.condition("DOOR")
    time.sleep(0.03)
    with pytest.raises(InterlockActive) as refused:
        gauge.start()
    assert refused.value.detail == "DOOR"
    with pytest.raises(InterlockActive):
        gauge.calibrate()
    ms3.faults.condition("DOOR", False)
    time.sleep(0.03)
    ms3.faults.condition("DOOR", site=20)  # cover opened during the cycle
    gauge.start()
    assert stopping_alarm(gauge)[0] == 9002
    ms3.model.fix(9002)  # cover closed
    gauge.clear_alarms()
    gauge.resume()
    assert finished(gauge) is ToolState.DONE
