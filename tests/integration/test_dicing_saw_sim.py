"""DS-2 driver against the simulated saw over pyvisa-py ASRL on a real pty (CR LF both ways):
warm-up, blade setup, a full Format B cycle with paged results, an alarm of each class, interlocks,
and the link faults stall / drop / garble / truncate, each bounded by the driver's timeouts."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from drivers.dicing_saw import DicingSaw, DicingSummaryExtra
from drivers.errors import (
    ConnectionLost,
    InterlockActive,
    ProtocolError,
    ToolError,
    ToolTimeout,
)
from drivers.states import ToolState
from sim.clock import SimClock
from sim.simulated_tool import SimulatedTool
from sim.world import World
from tests.integration.conftest import StartTool
from tests.support.integration_cycles import cleared, finished, stopping_alarm
from tests.support.integration_waits import answered, raises_within, wait_until

pytestmark = pytest.mark.sim_time_scale(5000)
POLL_S = 0.005


#: ``start_saw(timeout_s=0.2, **serve_options)`` -> a driver in IDLE, its simulator.
StartSaw = Callable[..., tuple[DicingSaw, SimulatedTool]]


@pytest.fixture
def start_saw(start_tool: StartTool) -> StartSaw:
    """Factory: a simulated DS-2 on a pty and a driver connected to it in IDLE."""

    def start(*, timeout_s: float = 2.0, **options: Any) -> tuple[DicingSaw, SimulatedTool]:
        saw, simulated = start_tool("dicing-saw", timeout_s=timeout_s, seed=3, **options)
        assert simulated.address.startswith("ASRL/dev/")
        return saw, simulated

    return start


def make_ready(saw: DicingSaw) -> None:
    """Power-up to READY with a valid blade setup (the manual's normal-cycle sequence)."""
    saw.wait_for_state([ToolState.IDLE], timeout_s=5, poll_s=POLL_S)
    saw.load_recipe("B-SING")
    saw.wait_for_state([ToolState.READY], timeout_s=5, poll_s=POLL_S)
    saw.setup_blade()
    saw.wait_for_state([ToolState.READY], timeout_s=5, poll_s=POLL_S)


def test_dicing_saw_warms_up_cold_and_needs_blade_setup_before_start(
    start_saw: StartSaw, sim_clock: SimClock
) -> None:
    saw, _ = start_saw()
    sim_clock.set_scale(100)  # the cold warm-up lasts 3 s, not 60 ms: WARMUP stays while we look
    loaded_at = sim_clock.now()
    saw.load_recipe("B-SING")
    assert saw.query("SYST:STAT?") == "WARMUP"
    with pytest.raises(InterlockActive) as warming:
        saw.start()
    assert warming.value.detail == "WARMUP"
    with pytest.raises(InterlockActive):
        saw.setup_blade()
    sim_clock.set_scale(5000)
    saw.wait_for_state([ToolState.READY], timeout_s=5, poll_s=POLL_S)
    assert sim_clock.now() - loaded_at >= 300.0  # cold warm-up; exact timing: model unit tests
    assert saw.interlocks() == ["BLADE"]
    assert saw.blade_exposure_mm() == 0.0
    with pytest.raises(InterlockActive) as blade:
        saw.start()
    assert blade.value.detail == "BLADE"
    saw.setup_blade()
    saw.wait_for_state([ToolState.READY], timeout_s=5, poll_s=POLL_S)
    assert saw.interlocks() == []
    assert 1.0 < saw.blade_exposure_mm() < 1.3
    spindle = saw.measure_spindle()
    assert spindle.krpm == 30.0 and 0 < spindle.load_pct < 20
    assert saw.measure_coolant_l_min() == 1.5


def test_dicing_saw_runs_a_format_b_strip_and_pages_results_by_16(
    start_saw: StartSaw, sim_world: World
) -> None:
    saw, _ = start_saw()
    make_ready(saw)
    input_map = "1" * 6 + "0" + "1" * 124 + "0" + "1" * 108
    saw.strip_id = "FB2405-112"
    saw.input_map = input_map
    saw.start()
    assert finished(saw) is ToolState.DONE
    progress = saw.progress()
    assert (progress.done, progress.total, progress.remaining_s) == (80, 80, 0)
    pages: list[str] = []
    write = saw.link.write

    def recording_write(message: str) -> None:
        pages.append(message)
        write(message)

    saw.link.write = recording_write  # type: ignore[method-assign]
    result = saw.cycle_result()
    assert [p for p in pages if p.startswith("RESult:DATA?")] == [
        f"RESult:DATA? {start},16" for start in range(1, 241, 16)
    ]
    summary = result.summary
    assert (summary.strip_id, summary.sites, summary.passed, summary.skipped) == (
        "FB2405-112",
        240,
        238,
        2,
    )
    assert summary.cycle_s == pytest.approx(275.0, abs=3.0)
    assert summary.extra == DicingSummaryExtra(line_passes_cut=80, blade_count_after=80)
    assert saw.blade_count() == 80
    assert [r.site for r in result.records if r.result == "X"] == [7, 132]
    assert result.records[6].max_chipping_um is None
    checked = [r for r in result.records if r.max_chipping_um is not None]
    assert checked and all(r.mean_kerf_width_um is not None for r in checked)
    assert all(r.max_chipping_um is not None and r.max_chipping_um <= 50 for r in checked)
    strip = sim_world.get("FB2405-112")
    assert strip is not None
    assert all(site.singulated for site in strip.sites.values())
    saw.acknowledge()
    assert saw.state() is ToolState.READY
    assert saw.progress().total == 0
    assert saw.input_map == "1" * 240


def test_dicing_saw_blade_life_hold_then_change_clear_setup_resume(start_saw: StartSaw) -> None:
    saw, _ = start_saw(blade_count=19950)
    make_ready(saw)
    saw.strip_id = "FB2405-113"
    saw.start()
    assert stopping_alarm(saw) == (7103, "H")
    assert saw.active_alarms() == [7201, 7103]
    assert saw.alarm_info(7103).text == "Blade life reached"
    assert cleared(saw) is ToolState.ALARM  # count still at the limit
    saw.change_blade()
    assert cleared(saw) is ToolState.PAUSED
    assert saw.active_alarms() == []
    with pytest.raises(InterlockActive) as blade:
        saw.resume()
    assert blade.value.detail == "BLADE"
    saw.setup_blade()
    saw.wait_for_state([ToolState.PAUSED], timeout_s=5, poll_s=POLL_S)
    assert saw.blade_exposure_mm() > 1.0
    saw.resume()
    assert finished(saw) is ToolState.DONE
    summary = saw.summary()
    assert summary.passed == 240
    assert summary.extra == DicingSummaryExtra(line_passes_cut=80, blade_count_after=30)


def test_dicing_saw_estop_mid_cycle_aborts_and_leaves_uncut_sites_f7504(
    start_saw: StartSaw, sim_world: World, sim_clock: SimClock
) -> None:
    saw, simulated = start_saw()
    make_ready(saw)
    simulated.faults.condition("ESTOP", True, phase="CH2", after_s=20.0)
    saw.strip_id = "FB2405-114"
    saw.start()
    assert stopping_alarm(saw) == (7001, "A")
    assert saw.measure_spindle().krpm == 0.0
    assert cleared(saw) is ToolState.ALARM  # E-stop still pressed
    simulated.faults.condition("ESTOP", False)
    saw.clear_alarms()
    assert saw.wait_for_state([ToolState.ABORTED], timeout_s=2, poll_s=POLL_S)
    result = saw.cycle_result()
    # 20 s into CH2: column boundaries 0-3 cut (two passes each, kerf check after line 10).
    for record in result.records:
        col = (record.site - 1) % 30 + 1
        expected = ("P", 0) if col <= 3 else ("F", 7504)
        assert (record.result, record.defect) == expected, record
    assert result.summary.extra.line_passes_cut == 18 + 9
    strip = sim_world.get("FB2405-114")
    assert strip is not None and strip.site(30).defects == {"dicing-saw": 7504}
    sim_clock.set_scale(100)  # the warm restart lasts 0.6 s, not 12 ms: WARMUP stays while we look
    saw.acknowledge()
    assert saw.query("SYST:STAT?") == "WARMUP"  # the spindle stopped: warm up again


def test_dicing_saw_overload_at_first_line_fails_touched_sites_and_skips_the_rest(
    start_saw: StartSaw,
) -> None:
    saw, _ = start_saw()
    make_ready(saw)
    saw.cut_feed_mm_s = 100.0
    saw.start()
    assert stopping_alarm(saw)[0] == 7101
    saw.clear_alarms()
    assert saw.wait_for_state([ToolState.ABORTED], timeout_s=2, poll_s=POLL_S)
    result_map = saw.result_map()
    assert result_map == "F" * 30 + "N" * 210  # line 1 bounds row 1 only


def test_dicing_saw_warning_7201_mid_cycle_changes_nothing(start_saw: StartSaw) -> None:
    saw, _ = start_saw(blade_count=17990)
    make_ready(saw)
    assert saw.active_alarms() == []
    saw.start()
    assert finished(saw) is ToolState.DONE
    assert [(a.code, a.alarm_class) for a in saw.alarms()] == [(7201, "W")]
    saw.clear_alarms()
    assert saw.active_alarms() == [7201]  # cause persists until the blade is changed
    saw.acknowledge()
    saw.change_blade()
    saw.clear_alarms()
    assert saw.active_alarms() == []


def test_dicing_saw_coolant_low_holds_7104_and_resumes_after_flow_restored(
    start_saw: StartSaw,
) -> None:
    saw, simulated = start_saw()
    make_ready(saw)
    simulated.faults.condition("COOLANT", True, phase="CH1", after_s=10.0)
    saw.start()
    assert stopping_alarm(saw) == (7104, "H")
    assert saw.measure_coolant_l_min() == pytest.approx(0.9)
    assert saw.interlocks() == ["COOLANT"]
    simulated.faults.condition("COOLANT", False)
    saw.wait_for_state([ToolState.ALARM], timeout_s=1, poll_s=POLL_S)
    assert cleared(saw) is ToolState.PAUSED
    saw.resume()
    assert finished(saw) is ToolState.DONE
    assert saw.summary().passed == 240


def test_dicing_saw_cover_interlock_blocks_start_and_opening_mid_cycle_aborts(
    start_saw: StartSaw,
) -> None:
    saw, simulated = start_saw()
    make_ready(saw)
    simulated.faults.condition("DOOR", True)
    assert saw.interlocks() == ["DOOR"]
    with pytest.raises(InterlockActive) as door:
        saw.start()
    assert door.value.detail == "DOOR"
    simulated.faults.condition("DOOR", False)
    assert saw.interlocks() == []
    simulated.faults.condition("DOOR", True, phase="CH1", after_s=5.0)
    saw.start()
    assert stopping_alarm(saw) == (7002, "A")


def test_dicing_saw_speed_over_blade_limit_is_refused_at_start_and_keeps_ready(
    start_saw: StartSaw, sim_clock: SimClock
) -> None:
    saw, _ = start_saw()
    make_ready(saw)
    saw.spindle_speed_krpm = 40.0
    assert saw.state() is ToolState.READY
    assert saw.measure_spindle().krpm == 40.0
    with pytest.raises(ToolError) as conflict:
        saw.start()
    assert (conflict.value.code, conflict.value.native_code) == (14, -221)
    saw.spindle_speed_krpm = 35.0
    sim_clock.set_scale(100)  # slow enough to abort mid-cycle
    saw.start()
    saw.abort()
    assert saw.state() is ToolState.ABORTED
    assert set(saw.result_map()) <= {"N", "F"}


def test_dicing_saw_pause_stops_at_the_end_of_a_line_pass(
    start_saw: StartSaw, sim_clock: SimClock
) -> None:
    saw, _ = start_saw()
    make_ready(saw)
    sim_clock.set_scale(100)
    saw.start()
    wait_until(lambda: saw.phase() == "CH1", 5, poll_s=POLL_S)
    saw.pause()
    assert saw.state() is ToolState.PAUSED
    time.sleep(0.1)  # 10 sim s: the current pass (4.7 s) ends, no further pass starts
    held = saw.progress().done
    time.sleep(0.1)
    assert saw.progress().done == held
    assert saw.phase() == "CH1"
    sim_clock.set_scale(5000)
    saw.resume()
    assert finished(saw) is ToolState.DONE


# -- link faults ------------------------------------------------------------------------------------


def test_dicing_saw_short_stall_is_a_timeout_and_the_link_stays_usable(start_saw: StartSaw) -> None:
    saw, simulated = start_saw(timeout_s=0.2)
    assert saw.identify().model == "DS-2"
    simulated.faults.link_fault("stall", duration_s=0.1)
    with raises_within(ToolTimeout, 1.0):
        saw.state()
    assert saw.identify().model == "DS-2"


def test_dicing_saw_long_stall_loses_the_link_then_recovers_without_stale_replies(
    start_saw: StartSaw,
) -> None:
    saw, simulated = start_saw(timeout_s=0.2)
    simulated.faults.link_fault("stall", duration_s=0.6)
    with raises_within(ConnectionLost, 1.0):
        saw.state()
    time.sleep(0.4)  # the stalled tool now answers the SYST:ERR? it had queued
    assert saw.identify().model == "DS-2"
    assert saw.identify().model == "DS-2"
    assert saw.blade_count() == 0


def test_dicing_saw_dropped_link_is_connection_lost_and_recovers(start_saw: StartSaw) -> None:
    saw, simulated = start_saw(timeout_s=0.2)
    make_ready(saw)
    saw.start()
    simulated.faults.link_fault("drop")
    with raises_within(ConnectionLost, 1.0):
        saw.state()
    state = answered(saw.state, 3.0)  # the serial line is dead for 1 s
    assert state in (ToolState.RUNNING, ToolState.DONE)  # the cycle went on meanwhile
    assert finished(saw) is ToolState.DONE


def test_dicing_saw_garbled_reply_is_a_protocol_error(start_saw: StartSaw) -> None:
    saw, simulated = start_saw(timeout_s=0.2)
    simulated.faults.link_fault("garble")
    with pytest.raises(ProtocolError) as garbled:
        saw.state()
    assert garbled.value.sent == "SYST:STAT?"
    assert saw.state() is ToolState.IDLE


def test_dicing_saw_truncated_result_page_is_a_timeout_and_the_page_can_be_reread(
    start_saw: StartSaw,
) -> None:
    saw, simulated = start_saw(timeout_s=0.2)
    make_ready(saw)
    saw.start()
    assert finished(saw) is ToolState.DONE
    simulated.faults.link_fault("truncate")
    with raises_within(ToolTimeout, 1.0):
        saw.result_records(17, 16)
    page = saw.result_records(17, 16)
    assert [r.site for r in page] == list(range(17, 33))


def test_dicing_saw_over_a_serial_device_server_tcp(
    start_tool: StartTool,
) -> None:
    saw, simulated = start_tool("dicing-saw", timeout_s=2.0, transport="tcp")
    assert simulated.address.startswith("TCPIP::127.0.0.1::")
    assert saw.identify().model == "DS-2"
    make_ready(saw)
    assert saw.result_count() == 0
