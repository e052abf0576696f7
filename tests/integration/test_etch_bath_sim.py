"""EtchBath driver against the simulated WE-2 over Modbus RTU on a pty and over the Modbus TCP
gateway (every test runs on both unless it is about one of them)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from functools import partial

import pytest
from pymodbus.client import ModbusTcpClient

from drivers.address import parse_modbus_address
from drivers.errors import (
    AlarmActive,
    CommunicationError,
    InterlockActive,
    NotAllowedInState,
    ProtocolError,
    ToolError,
    ToolTimeout,
)
from drivers.etch_bath import (
    Baud,
    Chemistry,
    EndpointMode,
    EndReason,
    EtchBath,
    EtchRecipe,
    LineParity,
    StationSettings,
)
from drivers.states import ToolState
from sim.clock import SimClock
from sim.simulated_tool import SimulatedTool
from sim.world import World
from tests.support import integration_waits
from tests.support.integration_cycles import cleared, finished, stopping_alarm
from tests.support.integration_waits import answered, raises_within

FAST = 10000.0  # 17 min heat-up ≈ 0.1 s, a 582 s batch ≈ 60 ms
SLOW = 2000.0  # a HOST-mode etch of up to 7200 s lasts 3.6 s: time to act in ETCH
HOLD = 200.0  # while a test inspects a held batch: the bath cools, the etchant keeps etching
STILL = 1.0  # wall pace: a test acts inside a phase of a few seconds without racing it
STRIPS = {1: "S1", 2: "S2"}
QUICK_TIMEOUT_S = 0.5


@pytest.fixture(params=["rtu", "tcp"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def bath_sim(
    sim_tool: Callable[..., SimulatedTool], sim_clock: SimClock, sim_world: World, transport: str
) -> SimulatedTool:
    sim_clock.set_scale(FAST)
    for strip_id in STRIPS.values():  # Package A strips as the laminator leaves them
        for site in sim_world.strip(strip_id, 3, 10).sites.values():
            site.slice_thickness_um = 200.0
            site.adhesive_thickness_um = 25.0
    return sim_tool("etch-bath", seed=5, transport=transport)


@pytest.fixture
def bath(bath_sim: SimulatedTool) -> Iterator[EtchBath]:
    with EtchBath.open(bath_sim.address, timeout_s=1.0, retries=1) as bath:
        bath.wait_for_state([ToolState.IDLE], timeout_s=5, poll_s=0.01)
        yield bath


@pytest.fixture
def quick_bath(bath_sim: SimulatedTool) -> Iterator[EtchBath]:
    """A driver with short timeouts, for the link fault tests (the only client of the bath)."""
    with EtchBath.open(bath_sim.address, timeout_s=QUICK_TIMEOUT_S, retries=1) as bath:
        bath.wait_for_state([ToolState.IDLE], timeout_s=5, poll_s=0.01)
        yield bath


def cucl2_rate_um_min(temp_c: float, conc_be: float) -> float:
    """The etch-bath manual's §5 rate law for CUCL2: r_ref 33.0 µm/min at 50.0 °C and 32.0 °Bé,
    Ea 30 kJ/mol, a = 1, g = 1."""
    arrhenius = math.exp(-(30_000 / 8.314) * (1 / (temp_c + 273.15) - 1 / (50.0 + 273.15)))
    return 33.0 * arrhenius * conc_be / 32.0


def ready(bath: EtchBath, recipe: EtchRecipe | None = None) -> None:
    bath.arm(recipe or EtchRecipe(), strip_ids=STRIPS)
    bath.wait_for_state([ToolState.READY], timeout_s=10, poll_s=0.01)


#: Polls fast: the simulated tool moves on at thousands of times real time.
wait_until = partial(integration_waits.wait_until, timeout_s=5.0, poll_s=0.005)


def etching_past(bath: EtchBath, depth_um: float) -> Callable[[], bool]:
    return lambda: bath.phase() == "ETCH" and bath.etch_depth_acc_um >= depth_um


# -- normal batches ---------------------------------------------------------------------------------------
def test_etch_bath_depth_batch_of_two_strips_reaches_the_target(
    bath: EtchBath, sim_world: World
) -> None:
    assert bath.identify().model == "WE-2"
    assert bath.station_settings().chemistry is Chemistry.CUCL2
    ready(bath)
    assert bath.temp_in_band and bath.carrier_present and bath.strip_present == 0b11
    # The estimate follows the bath it measures (§5), read in one request with it: at FAST
    # scale thousands of tool seconds pass between READY and this read, and where in its band
    # the bath then stands moves the rate by more than the tolerance.
    now = bath.read_values(EtchBath.temp_pv_c, EtchBath.conc_pv, EtchBath.etch_rate_est_um_min)
    assert now["etch_rate_est_um_min"] == pytest.approx(
        cucl2_rate_um_min(now["temp_pv_c"], now["conc_pv"]), abs=0.3
    )
    bath.start()
    assert finished(bath) is ToolState.DONE
    result = bath.cycle_result()
    assert result.end_reason is EndReason.DEPTH
    assert result.final_depth_um == pytest.approx(230.0, abs=0.6)
    assert result.final_etch_s == pytest.approx(418, abs=2)
    assert result.result_map == "PPXXXXXXXX"
    assert [p.strip_id for p in result.positions[:2]] == ["S1", "S2"]
    status = bath.status()
    assert status.cycle_count == 1 and status.cycle_elapsed_s == pytest.approx(582, abs=8)
    bath.acknowledge()
    assert bath.state() is ToolState.READY and bath.strip_ids()[:2] == ["", ""]
    for strip_id in STRIPS.values():
        strip = sim_world.get(strip_id)
        assert strip is not None
        assert all(
            s.pad_exposure_pct == 100.0 and s.residual_cu_um == 0.0 for s in strip.sites.values()
        )


def test_etch_bath_time_mode_too_short_leaves_residual_copper(
    bath: EtchBath, sim_world: World
) -> None:
    ready(bath, EtchRecipe(endpoint_mode=EndpointMode.TIME, etch_time_s=300))
    bath.start()
    finished(bath)
    result = bath.cycle_result()
    assert (result.end_reason, result.final_etch_s) == (EndReason.TIME, 300)
    assert result.final_depth_um == pytest.approx(165.0, abs=0.6)
    assert result.result_map.startswith("PP")  # the bath cannot see it: metrology must
    site = sim_world.get("S1").site(5)  # type: ignore[union-attr]
    assert site.residual_cu_um is not None and site.residual_cu_um > 20.0
    assert site.pad_exposure_pct is not None and site.pad_exposure_pct < 1.0


def test_etch_bath_host_mode_ends_on_end_etch(bath: EtchBath, sim_clock: SimClock) -> None:
    ready(bath, EtchRecipe(endpoint_mode=EndpointMode.HOST, etch_time_max_s=7200))
    sim_clock.set_scale(STILL)  # LOAD + LOWER last 21 s: the pause lands there however loaded
    bath.start()
    bath.pause()  # held in LOAD or LOWER
    assert bath.phase() in ("LOAD", "LOWER")
    with pytest.raises(NotAllowedInState):
        bath.end_etch()  # only in phase ETCH
    bath.resume()
    sim_clock.set_scale(HOLD)
    wait_until(etching_past(bath, 100.0))
    # 100 µm more take 0.9 s of wall time at HOLD (90 ms at SLOW): at wall pace the host's
    # reads and END_ETCH land short of 200 µm however loaded the machine.
    sim_clock.set_scale(STILL)
    assert bath.etch_progress().remaining_s > 6000  # HOST: ETCH_TIME_MAX_S - elapsed
    before = bath.etch_depth_acc_um
    bath.end_etch()
    assert bath.end_reason is EndReason.HOST
    sim_clock.set_scale(SLOW)
    finished(bath)
    result = bath.cycle_result()
    assert result.end_reason is EndReason.HOST
    assert before <= result.final_depth_um < 200.0  # ended by the host, well short of the slice
    assert result.result_map.startswith("PP")


def test_etch_bath_pause_in_etch_raises_the_carrier_and_stops_the_depth(
    bath: EtchBath, sim_clock: SimClock
) -> None:
    ready(bath, EtchRecipe(endpoint_mode=EndpointMode.HOST, etch_time_max_s=7200))
    sim_clock.set_scale(SLOW)
    bath.start()
    wait_until(etching_past(bath, 50.0))
    bath.pause()
    assert bath.state() is ToolState.PAUSED
    held = bath.etch_progress()
    wait_until(lambda: bath.hoist_at_top)
    time.sleep(0.1)  # 200 s of bath time with the carrier out
    assert bath.etch_progress().depth_um == held.depth_um
    assert bath.etch_progress().elapsed_s == held.elapsed_s
    bath.resume()
    wait_until(lambda: bath.etch_depth_acc_um > held.depth_um + 5.0)
    bath.end_etch()
    sim_clock.set_scale(FAST)
    finished(bath)
    with pytest.raises(NotAllowedInState):
        bath.pause()  # DONE
    assert bath.cycle_result().end_reason is EndReason.HOST


def test_etch_bath_pause_is_refused_after_etch(bath: EtchBath, sim_clock: SimClock) -> None:
    ready(bath, EtchRecipe(rinse_s=600))
    sim_clock.set_scale(HOLD)  # the 652 s RINSE lasts 3.3 s: seen and paused in, however loaded
    bath.start()
    wait_until(lambda: bath.phase() == "RINSE")
    with pytest.raises(NotAllowedInState) as info:
        bath.pause()
    assert info.value.detail == "RUNNING"
    sim_clock.set_scale(FAST)
    assert finished(bath) is ToolState.DONE


# -- alarms of each class ------------------------------------------------------------------------------------
def test_etch_bath_level_low_in_etch_holds_then_resumes_to_the_target(
    bath: EtchBath, bath_sim: SimulatedTool, sim_clock: SimClock
) -> None:
    ready(bath)
    bath_sim.faults.condition("LEVEL", phase="ETCH", after_s=60)
    # HOLD from START: with the heater off a long hold cools the bath out of window (5102 after
    # 330 s), and the host must see the alarm well before; the operator is as quick.
    sim_clock.set_scale(HOLD)
    bath.start()
    assert stopping_alarm(bath) == (5110, "H")
    status = bath.status()
    assert (status.phase, status.active_alarm) == (3, 5110)  # ALARM in ETCH
    held = bath.etch_depth_acc_um
    assert 25.0 < held < 40.0 and not bath.level_ok
    wait_until(lambda: bath.hoist_at_top)
    assert bath.etch_depth_acc_um == held
    assert cleared(bath) is ToolState.ALARM  # the level is still low: nothing changes
    with pytest.raises(AlarmActive):
        bath.resume()
    bath_sim.model.fix(5110)  # the operator tops up
    assert cleared(bath) is ToolState.PAUSED
    bath.resume()
    sim_clock.set_scale(FAST)
    assert finished(bath) is ToolState.DONE
    result = bath.cycle_result()
    assert result.end_reason is EndReason.DEPTH
    assert result.final_depth_um == pytest.approx(230.0, abs=0.6)
    assert result.result_map.startswith("PP")


def test_etch_bath_estop_in_etch_aborts_with_5503(
    bath: EtchBath, bath_sim: SimulatedTool, sim_world: World, sim_clock: SimClock
) -> None:
    ready(bath)
    bath_sim.faults.condition("ESTOP", phase="ETCH", after_s=60)
    sim_clock.set_scale(SLOW)  # the hoist cannot move under E-stop: the strips keep etching
    bath.start()
    assert stopping_alarm(bath) == (5001, "A")
    sim_clock.set_scale(HOLD)
    assert not bath.common_inputs().estop_ok and not bath.heater_on
    bath_sim.model.set_condition("ESTOP", False)
    assert cleared(bath) is ToolState.ABORTED
    result = bath.cycle_result()
    assert result.end_reason is EndReason.ABORTED
    assert result.result_map == "FFXXXXXXXX"
    assert {p.defect for p in result.positions[:2]} == {5503}
    wait_until(lambda: bath.hoist_at_top)
    site = sim_world.get("S2").site(30)  # type: ignore[union-attr]
    assert site.defects["etch-bath"] == 5503 and site.residual_cu_um is not None
    assert site.residual_cu_um > 20.0 and site.pad_exposure_pct == 0.0
    assert site.etch_depth_um is not None and site.etch_depth_um > result.final_depth_um
    bath.acknowledge()


def test_etch_bath_hold_after_etch_is_deferred_to_the_end_of_unload(
    bath: EtchBath, bath_sim: SimulatedTool
) -> None:
    ready(bath)
    bath_sim.faults.alarm(5004, phase="RINSE", after_s=10)
    bath.start()
    assert stopping_alarm(bath)[0] == 5004
    inputs = bath.common_inputs()
    assert inputs.results_available and not inputs.cycle_active
    assert bath.cycle_result().result_map.startswith("PP")  # the batch completed
    assert cleared(bath) is ToolState.DONE
    bath.acknowledge()


def test_etch_bath_etch_time_limit_raises_5150_and_fails_with_5501(bath: EtchBath) -> None:
    ready(bath, EtchRecipe(depth_target_um=500.0, etch_time_max_s=60))
    bath.start()
    assert finished(bath) is ToolState.DONE
    result = bath.cycle_result()
    assert (result.end_reason, result.final_etch_s) == (EndReason.MAX_TIME, 60)
    assert result.result_map == "FFXXXXXXXX"
    assert {p.defect for p in result.positions[:2]} == {5501}
    assert bath.active_alarms() == [5150] and bath.alarm_info(5150).alarm_class == "W"
    bath.clear_alarms()
    assert bath.active_alarms() == []


def test_etch_bath_warning_during_etch_marks_positions_5502(
    bath: EtchBath, bath_sim: SimulatedTool
) -> None:
    ready(bath)
    bath_sim.faults.alarm(5120, phase="ETCH", after_s=30)
    bath.start()
    assert finished(bath) is ToolState.DONE  # a warning changes no state
    assert bath.status().warning_count == 1
    result = bath.cycle_result()
    assert result.result_map == "FFXXXXXXXX"
    assert {p.defect for p in result.positions[:2]} == {5502}


# -- interlocks, station settings, manual coils ----------------------------------------------------------------
def test_etch_bath_interlocks_block_start(
    bath: EtchBath, bath_sim: SimulatedTool, sim_clock: SimClock
) -> None:
    sim_clock.set_scale(HOLD)  # the heat-up takes 4.7 s: START comes while still HEATING
    bath.arm(EtchRecipe(), strip_ids=STRIPS)
    with pytest.raises(InterlockActive) as info:
        bath.start()  # still HEATING
    assert info.value.detail == "TEMP"  # CARRIER is active too, but does not block START
    sim_clock.set_scale(FAST)
    bath.wait_for_state([ToolState.READY], timeout_s=10, poll_s=0.01)
    for condition in ("DOOR", "LOAD"):
        bath_sim.model.set_condition(condition, True)
        with pytest.raises(InterlockActive) as info:
            bath.start()
        assert info.value.detail == condition
        assert condition in bath.interlocks()
        bath_sim.model.set_condition(condition, False)
    bath.start()
    assert finished(bath) is ToolState.DONE


def test_etch_bath_station_settings_and_cross_check_at_arm(bath: EtchBath) -> None:
    bath.unit_id = 5  # IDLE: station settings may change; the line ones at the next power-up
    bath.baud = Baud.B38400
    assert bath.station_settings() == StationSettings(
        Chemistry.CUCL2, 5, Baud.B38400, LineParity.EVEN_8E1
    )
    assert bath.state() is ToolState.IDLE  # still answering on unit 1 at 19200
    bath.chemistry = Chemistry.KOH  # takes effect at once: a KOH bath
    bath.temp_sp_c = 60.0  # in register range, outside the KOH window
    with pytest.raises(ToolError) as info:
        bath.arm()
    assert (info.value.code, info.value.native_code) == (14, 6)
    bath.arm(EtchRecipe.typical(Chemistry.KOH), strip_ids={1: "P1"})
    with pytest.raises(NotAllowedInState):
        bath.chemistry = Chemistry.CUCL2  # not in HEATING
    assert bath.station_settings().chemistry is Chemistry.KOH
    assert bath.acid_pv_mol_l == 0.0 and bath.orp_pv_mv == 0 and bath.cu_load_pv_g_l == 0.0


def test_etch_bath_manual_hoist_and_level_coil_rules(bath: EtchBath, sim_clock: SimClock) -> None:
    bath.hoist_down()  # IDLE, no carrier
    wait_until(lambda: bath.hoist_at_bottom)
    bath.hoist_up()
    wait_until(lambda: bath.hoist_at_top)
    ready(bath)
    with pytest.raises(InterlockActive) as info:
        bath.hoist_down()
    assert info.value.detail == "CARRIER"
    with pytest.raises(NotAllowedInState):
        bath.end_etch()
    sim_clock.set_scale(STILL)  # the 582 s batch lasts 58 ms at FAST: refused while it runs
    bath.start()
    with pytest.raises(NotAllowedInState):
        bath.heater_enable = False
    bath.heater_enable = True
    sim_clock.set_scale(FAST)
    finished(bath)


def test_etch_bath_host_watchdog_blocks_start_until_heartbeat(bath: EtchBath) -> None:
    ready(bath)
    bath.host_watchdog_s = 10
    wait_until(lambda: bath.common_inputs().watchdog_expired)
    assert 5003 in bath.active_alarms()
    with pytest.raises(InterlockActive, match="HOST_WDT"):
        bath.start()
    bath.host_watchdog_s = 0
    bath.heartbeat()
    bath.start()
    assert finished(bath) is ToolState.DONE


# -- addressing: RTU unit id, gateway ---------------------------------------------------------------------------
def test_etch_bath_answers_only_its_unit_id(
    bath_sim: SimulatedTool, sim_tool: Callable[..., SimulatedTool], transport: str
) -> None:
    other = bath_sim.address.replace("unit=1", "unit=2")
    with EtchBath.open(other, timeout_s=0.2, retries=0) as stranger:
        if transport == "rtu":
            with pytest.raises(ToolTimeout):
                stranger.state()  # the RTU side gives no reply
        else:
            with pytest.raises(ToolError) as info:
                stranger.state()
            assert info.value.native_code == 10  # gateway path unavailable
    seven = sim_tool("etch-bath", transport=transport, unit_id=7)
    assert seven.address.endswith("unit=7")
    with EtchBath.open(seven.address) as bath:
        assert bath.station_settings().unit_id == 7


@pytest.mark.parametrize("transport", ["tcp"])
def test_etch_bath_gateway_reports_a_silent_bath_as_0x0b(bath_sim: SimulatedTool) -> None:
    bath_sim.model.set_condition("BUS", True)  # the RS-485 side does not answer the gateway
    with EtchBath.open(bath_sim.address) as bath:  # the gateway's 1 s host timeout
        started = time.monotonic()
        with pytest.raises(ToolTimeout, match="0x0B"):
            bath.state()
        assert 0.5 <= time.monotonic() - started < 1.0  # the gateway waits 500 ms
        bath_sim.model.set_condition("BUS", False)
        assert bath.state() in (ToolState.INIT, ToolState.IDLE)


@pytest.mark.parametrize("transport", ["tcp"])
def test_etch_bath_register_map_edges_follow_the_manual(
    bath: EtchBath, bath_sim: SimulatedTool, sim_clock: SimClock
) -> None:
    endpoint = parse_modbus_address(bath_sim.address)
    client = ModbusTcpClient(endpoint.host, port=endpoint.port, timeout=1.0, retries=0)
    assert client.connect()
    try:
        for request in (
            lambda: client.read_input_registers(141, count=1, device_id=1),
            lambda: client.read_holding_registers(119, count=1, device_id=1),
            lambda: client.read_discrete_inputs(28, count=1, device_id=1),
            lambda: client.read_coils(21, count=1, device_id=1),
        ):
            assert request().exception_code == 2
        # Half of DEPTH_TARGET, then 2 strip ids:
        assert client.write_register(113, 1, device_id=1).exception_code == 3
        assert client.write_registers(205, [0x4142] * 10, device_id=1).exception_code == 3
        in_range = client.write_registers(110, [600, 10], device_id=1)  # cross-checks come at ARM
        assert not in_range.isError()
        atomic = client.write_registers(109, [1, 700, 7201], device_id=1)  # 7201 s out of range
        assert atomic.exception_code == 3 and bath.etch_time_s == 600  # nothing written
        assert client.write_coils(16, [False, True, True], device_id=1).exception_code == 3
        sim_clock.set_scale(STILL)  # the ~1000 s heat-up lasts 0.1 s at FAST: HEATING is seen
        echo = client.write_coil(0, True, device_id=1)  # ARM
        assert not echo.isError() and echo.bits[0] is True
        assert bath.state() is ToolState.HEATING
        assert not client.write_coils(19, [False, True], device_id=1).isError()
        assert bath.heater_enable is False and bath.pump_enable is True
    finally:
        client.close()


# -- link faults ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("transport", "kind"),
    [
        *(("rtu", kind) for kind in ("stall", "garble", "truncate", "bad_checksum")),
        *(("tcp", kind) for kind in ("stall", "garble", "truncate")),  # MBAP has no checksum
    ],
)
def test_etch_bath_bad_replies_raise_within_the_timeout_and_recover(
    quick_bath: EtchBath, bath_sim: SimulatedTool, kind: str
) -> None:
    bath_sim.faults.link_fault(kind)
    assert quick_bath.identify().model == "WE-2"  # one bad reply: the retry is right
    bath_sim.faults.link_fault(kind, count=10)
    with raises_within(
        (CommunicationError, ProtocolError), 2 * QUICK_TIMEOUT_S + 0.5
    ):  # two attempts
        quick_bath.state()  # never a corrupted value taken as data
    bath_sim.faults.clear()
    assert quick_bath.state() is ToolState.IDLE


def test_etch_bath_dropped_link_raises_or_reconnects_and_recovers(
    quick_bath: EtchBath, bath_sim: SimulatedTool, transport: str
) -> None:
    bath_sim.faults.link_fault("drop")
    started = time.monotonic()
    try:
        quick_bath.identify()  # TCP: reopened within the request; RTU: the bus is silent for 1 s
    except CommunicationError:
        assert transport == "rtu"
    assert time.monotonic() - started < 2 * QUICK_TIMEOUT_S + 0.5
    assert answered(quick_bath.state, 3.0) is ToolState.IDLE
