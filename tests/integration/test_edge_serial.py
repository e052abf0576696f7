"""Serial tools behind an edge serial device server (ser2net) in front of the simulator's pty:
the wire bonder and metrology over RFC 2217 and raw TCP, the VISA dicing saw over raw TCP, and an
edge link cut and restored in the middle of a wire bonder cycle."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drivers.dicing_saw import DicingSaw
from drivers.errors import ConnectionLost, ParameterOutOfRange
from drivers.metrology import Metrology
from drivers.states import ToolState
from drivers.wire_bonder import WireBonder
from sim.clock import SimClock
from sim.dicing_saw import serve as serve_saw
from sim.metrology import serve as serve_metrology
from sim.simulated_tool import SimulatedTool
from sim.wire_bonder import serve as serve_bonder
from sim.world import World
from tests.support.ser2net import Ser2net

QUIET = {"nsop_ppm": 0, "nsol_ppm": 0, "short_tail_ppm": 0, "wire_break_ppm": 0, "efo_fail_ppm": 0}
POLL_S = 0.005
BONDER_SCALE = 500.0
#: While the test starts the cycle and cuts the link: its 210 tool s last 10 s, so the cut
#: lands inside it however busy the machine (0.4 s at BONDER_SCALE).
CUT_SCALE = 20.0


@pytest.fixture
def bonder_sim() -> Iterator[SimulatedTool]:
    tool = serve_bonder(
        clock=SimClock(BONDER_SCALE), world=World(), seed=3, transport="pty", **QUIET
    )
    yield tool
    tool.stop()


@pytest.mark.parametrize("mode", ["rfc2217", "raw"])
def test_wire_bonder_cycle_survives_an_edge_link_cut_mid_cycle(
    bonder_sim: SimulatedTool, mode: str
) -> None:
    with Ser2net(bonder_sim.address, mode=mode) as edge, WireBonder.open(edge.address) as bonder:
        bonder.wait_for_state([ToolState.IDLE], timeout_s=5, poll_s=POLL_S)
        bonder.load_program("A64")
        bonder.wait_for_state([ToolState.READY], timeout_s=10, poll_s=POLL_S)
        bonder.strip_id = "EDGE-001"
        bonder.write_input_map("1" * 29 + "0")
        bonder_sim.model.clock.set_scale(CUT_SCALE)
        bonder.start()
        assert bonder.status().state is ToolState.RUNNING

        edge.cut()
        with pytest.raises(ConnectionLost) as lost:
            bonder.status()
        assert str(edge.port) in str(lost.value)  # the error names the edge address
        edge.restore()
        bonder_sim.model.clock.set_scale(BONDER_SCALE)

        # The tool went on bonding while the link was down; the driver reconnects on its own.
        assert bonder.wait_for_state([ToolState.DONE], timeout_s=10, poll_s=POLL_S) is (
            ToolState.DONE
        )
        result = bonder.cycle_result()
        assert result.result_map == "P" * 29 + "X"
        assert (result.summary.strip_id, result.summary.passed, result.summary.wires_bonded) == (
            "EDGE-001",
            29,
            29 * 64,
        )
        assert [record.site for record in result.records] == list(range(1, 31))
        # Bonded once: the cut neither lost nor repeated a command that moves material.
        assert bonder.consumables().capillary_bonds == 2 * 29 * 64
        bonder.acknowledge()
        assert bonder.status().state is ToolState.READY
    strip = bonder_sim.model.world.get("EDGE-001")
    assert strip is not None and strip.site(1).wires_bonded == 64


@pytest.mark.parametrize("mode", ["rfc2217", "raw"])
def test_metrology_identifies_through_an_edge_serial_server(mode: str) -> None:
    tool = serve_metrology(clock=SimClock(2000.0), world=World(), seed=3, transport="pty")
    try:
        with (
            Ser2net(tool.address, mode=mode, baud=38400) as edge,
            Metrology.open(edge.address) as gauge,
        ):
            assert gauge.identify().model == "MS-3"
    finally:
        tool.stop()


def test_dicing_saw_runs_over_raw_tcp_to_the_edge_server_and_refuses_rfc2217() -> None:
    tool = serve_saw(clock=SimClock(2000.0), world=World(), seed=3, transport="pty")
    device = tool.address.removeprefix("ASRL").removesuffix("::INSTR")
    try:
        with (
            Ser2net(device, mode="raw", baud=9600) as edge,
            DicingSaw.open(f"TCPIP::127.0.0.1::{edge.port}::SOCKET") as saw,
        ):
            assert saw.identify().model == "DS-2"
        with pytest.raises(ParameterOutOfRange, match="TCPIP::HOST::PORT::SOCKET"):
            DicingSaw.open("ASRLrfc2217://127.0.0.1:9::INSTR")
    finally:
        tool.stop()
