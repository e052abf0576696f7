"""WireBonder driver against the simulated WB-3 over a real pty and over ``socket://``:
full cycles, every link fault, alarms of each class mid-cycle, interlocks."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from drivers.errors import AlarmActive, InterlockActive, ProtocolError, ToolTimeout
from drivers.states import ToolState
from drivers.wire_bonder import WireBonder
from sim.fronts.framed import FramedServer
from sim.simulated_tool import SimulatedTool
from sim.wire_bonder import WireBonderModel
from tests.integration.conftest import StartTool
from tests.support.integration_cycles import cleared, stopping_alarm
from tests.support.integration_waits import raises_within
from tests.support.measured import measured

pytestmark = pytest.mark.sim_time_scale(2000)
QUIET: dict[str, float] = {
    "nsop_ppm": 0,
    "nsol_ppm": 0,
    "short_tail_ppm": 0,
    "wire_break_ppm": 0,
    "efo_fail_ppm": 0,
}
POLL_S = 0.005

#: ``start(timeout_s=0.2, **serve_options)`` -> a driver on a fresh simulator, the simulator.
Start = Callable[..., tuple[WireBonder, SimulatedTool]]


@pytest.fixture(params=["pty", "tcp"])
def start(request: pytest.FixtureRequest, start_tool: StartTool) -> Start:
    """Factory: a simulated wire bonder on the parametrized transport (no process defects
    unless the options ask for them) and a driver connected to it in IDLE."""

    def start_bonder(timeout_s: float = 0.5, **options: Any) -> tuple[WireBonder, SimulatedTool]:
        options = {"seed": 3, "transport": request.param, **QUIET, **options}
        return start_tool("wire-bonder", timeout_s=timeout_s, **options)

    return start_bonder


def model_of(tool: SimulatedTool) -> WireBonderModel:
    assert isinstance(tool.model, WireBonderModel)
    return tool.model


def ready(bonder: WireBonder, program: str = "A64") -> None:
    bonder.load_program(program)
    assert bonder.wait_for_state([ToolState.READY], timeout_s=10, poll_s=POLL_S) is ToolState.READY


def test_wire_bonder_full_cycle_with_map_and_results(start: Start) -> None:
    bonder, sim = start()
    assert bonder.identify().model == "WB-3"
    ready(bonder)
    assert bonder.stage_temperature().pv_c == pytest.approx(150.0, abs=3.0)
    bonder.strip_id = "LA2403-017"
    bonder.write_input_map("1" * 29 + "0")
    assert bonder.input_map == "1" * 29 + "0"
    bonder.start()
    assert bonder.wait_for_state([ToolState.DONE], timeout_s=10, poll_s=POLL_S) is ToolState.DONE
    result = bonder.cycle_result()
    assert result.result_map == "P" * 29 + "X"
    summary = result.summary
    assert (summary.strip_id, summary.passed, summary.skipped, summary.wires_bonded) == (
        "LA2403-017",
        29,
        1,
        29 * 64,
    )
    assert summary.cycle_s == pytest.approx(29 * (64 * 0.08 + 1.5) + 17, rel=0.03)
    first, last = result.records[0], result.records[-1]
    assert (first.wires_bonded, first.wires_total, first.nsop, first.nsol) == (64, 64, 0, 0)
    assert (
        first.mean_fab_um == pytest.approx(50.0, abs=2.0)
        and abs(measured(first.mean_loop_um) - 250) < 10
    )
    assert (last.result, last.wires_bonded) == ("X", None)
    assert bonder.consumables().capillary_bonds == 2 * 29 * 64
    bonder.acknowledge()
    assert bonder.status().state is ToolState.READY and bonder.strip_id == ""
    strip = sim.model.world.get("LA2403-017")
    assert (
        strip is not None and strip.site(1).wires_bonded == 64 and strip.site(30).wires_bonded == 0
    )


def test_wire_bonder_format_b_strip_pages_maps_and_records(start: Start) -> None:
    bonder, _ = start()
    ready(bonder, "B16")
    assert (bonder.strip_size, bonder.wires_per_unit) == ((8, 30), 16)
    input_map = "10" * 120
    bonder.write_input_map(input_map)
    assert bonder.read_input_map() == input_map
    bonder.start()
    bonder.wait_for_state([ToolState.DONE], timeout_s=10, poll_s=POLL_S)
    result = bonder.cycle_result()
    assert result.result_map == "PX" * 120 and len(result.records) == 240
    assert [r.site for r in result.records] == list(range(1, 241))


def test_wire_bonder_parameters_and_programs_round_trip(start: Start) -> None:
    bonder, _ = start()
    ready(bonder)
    bonder.loop_height_um = 220
    bonder.gas_flow_l_min = 0.84
    assert (bonder.loop_height_um, bonder.gas_flow_l_min) == (220, 0.8)
    assert bonder.program().edited
    bonder.save_program("A64-LOW")
    assert bonder.program_list() == ["A64", "A64-LOW", "B16"]
    bonder.reset()
    assert bonder.program().name == "" and bonder.loop_height_um == 250


# -- link faults ------------------------------------------------------------------------------------
def test_wire_bonder_stalled_reply_is_recovered_without_executing_twice(start: Start) -> None:
    bonder, sim = start(timeout_s=0.2)
    ready(bonder)
    sim.faults.link_fault("stall")
    bonder.start()  # lost OK; the retransmission gets the stored reply, not NAK 20
    assert model_of(sim).cycle_number == 1
    bonder.wait_for_state([ToolState.DONE], timeout_s=10, poll_s=POLL_S)


def test_wire_bonder_long_stall_raises_timeout_within_the_retry_budget(start: Start) -> None:
    bonder, sim = start(timeout_s=0.2)
    sim.faults.link_fault("stall", duration_s=1.5)
    with raises_within(ToolTimeout, 4 * 0.2 + 1.0) as failure:
        bonder.status()
    assert "STAT?" in failure.value.sent
    time.sleep(1.0)  # the tool answers again once the stall is over
    assert bonder.identify().model == "WB-3"


def test_wire_bonder_dropped_link_recovers(start: Start) -> None:
    bonder, sim = start()
    ready(bonder)
    sim.faults.link_fault("drop")
    bonder.strip_id = "DROP-1"  # pty: deaf for 1 s, retransmitted; tcp: reconnected
    assert bonder.strip_id == "DROP-1"


@pytest.mark.parametrize("kind", ["garble", "truncate", "bad_checksum"])
def test_wire_bonder_corrupted_reply_is_retransmitted_and_not_reexecuted(
    start: Start, kind: str
) -> None:
    bonder, sim = start(timeout_s=0.2)
    ready(bonder)
    sim.faults.link_fault(kind)
    bonder.start()
    assert model_of(sim).cycle_number == 1
    assert bonder.status().state in (ToolState.RUNNING, ToolState.DONE)


def test_wire_bonder_persistent_bad_checksums_fail_the_link_then_it_recovers(
    start: Start,
) -> None:
    bonder, sim = start()
    sim.faults.link_fault("bad_checksum", count=4)
    with pytest.raises(ProtocolError) as failure:
        bonder.consumables()
    assert failure.value.sent.endswith("CONS?") and "bad checksum" in str(failure.value)
    assert bonder.consumables().wire_left_m == 500.0


# -- alarms and interlocks ---------------------------------------------------------------------------
def test_wire_bonder_abort_class_alarm_mid_unit(start: Start) -> None:
    bonder, sim = start()
    ready(bonder)
    unit_2_s = (1.5 + 64 * 0.08) + 1.5 + 20 * 0.08
    sim.faults.condition("ESTOP", phase="BOND", after_s=unit_2_s)
    bonder.start()
    assert stopping_alarm(bonder) == (3001, "A")
    sim.model.set_condition("ESTOP", False)  # operator releases the E-stop
    assert cleared(bonder) is ToolState.ABORTED
    result = bonder.cycle_result()
    assert result.result_map == "PF" + "N" * 28
    assert result.records[1].defect == 3508 and 0 < measured(result.records[1].wires_bonded) < 64


def test_wire_bonder_hold_class_alarm_mid_cycle_pauses_and_resumes(start: Start) -> None:
    bonder, sim = start()
    ready(bonder)
    sim.faults.alarm(3106, site=5)
    bonder.start()
    assert stopping_alarm(bonder) == (3106, "H")
    with pytest.raises(AlarmActive) as blocked:
        bonder.resume()
    assert blocked.value.detail == "3106"
    bonder.clear_alarms()
    status = bonder.status()
    assert (status.state, status.site, status.done) == (ToolState.PAUSED, 5, 4)
    bonder.resume()
    bonder.wait_for_state([ToolState.DONE], timeout_s=10, poll_s=POLL_S)
    assert bonder.result_map() == "P" * 30


def test_wire_bonder_warning_mid_cycle_does_not_stop_it(start: Start) -> None:
    bonder, sim = start()
    ready(bonder)
    sim.faults.alarm(3201, site=3)
    bonder.start()
    assert bonder.wait_for_state([ToolState.DONE], timeout_s=10, poll_s=POLL_S) is ToolState.DONE
    assert [a.code for a in bonder.alarms()] == [3201]
    assert bonder.alarms()[0].alarm_class == "W"


def test_wire_bonder_interlock_blocks_start_until_the_cover_closes(start: Start) -> None:
    bonder, sim = start()
    ready(bonder)
    sim.model.set_condition("DOOR", True)
    with pytest.raises(InterlockActive) as blocked:
        bonder.start()
    assert blocked.value.detail == "DOOR"
    assert bonder.last_error().detail == "DOOR"
    sim.model.set_condition("DOOR", False)
    bonder.start()
    bonder.wait_for_state([ToolState.DONE], timeout_s=10, poll_s=POLL_S)


def test_wire_bonder_spool_empty_hold_as_in_the_manual_example(start: Start) -> None:
    bonder, sim = start(wire_m=16 * 64 * 0.003 + 0.05)
    ready(bonder)
    bonder.write_input_map("1" * 29 + "0")
    bonder.start()
    assert stopping_alarm(bonder)[0] == 3109
    status = bonder.status()
    assert (status.state, status.phase, status.site, status.done, status.total) == (
        ToolState.ALARM,
        "BOND",
        17,
        16,
        29,
    )
    with pytest.raises(AlarmActive):
        bonder.resume()
    sim.model.fix(3109)  # operator loads a new spool
    bonder.clear_alarms()
    assert bonder.status().state is ToolState.PAUSED
    bonder.resume()
    bonder.wait_for_state([ToolState.DONE], timeout_s=10, poll_s=POLL_S)
    assert bonder.summary().passed == 29


def test_wire_bonder_simulator_address_is_pty_path_or_socket_url(start: Start) -> None:
    _, sim = start()
    assert isinstance(sim.server, FramedServer)
    assert sim.address.startswith(("/dev/pts/", "socket://127.0.0.1:"))
