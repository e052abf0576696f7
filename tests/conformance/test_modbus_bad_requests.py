"""README §9.2 request checks on every Modbus simulator (TCP tools, the bath on RTU and through
its TCP gateway), from the cases found with third-party clients (issue 9)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

import sim.fronts.modbus as front
from sim.simulated_tool import SimulatedTool
from tests.support.integration_waits import wait_until
from tests.support.raw_clients import ModbusRawClient, modbus_client, modbus_link, read_pdu

StartTool = Callable[..., SimulatedTool]
MODELS = {"laminator": "LM-8", "mold-press": "TM-4", "etch-bath": "WE-2"}


def model_name(client: ModbusRawClient) -> str:
    """MODEL (IR 901-908) as the tool reports it; fails if the tool no longer answers."""
    reply = client.request(read_pdu(0x04, 901, 8))
    assert reply is not None and reply[:2] == b"\x04\x10", reply
    return reply[2:].split(b"\x00", 1)[0].decode("ascii")


def assert_still_serving(client: ModbusRawClient) -> None:
    assert client.tool is not None
    assert model_name(client) == MODELS[client.tool.tool_name]


def state_code(client: ModbusRawClient) -> int:
    reply = client.request(read_pdu(0x04, 0, 1))
    assert reply is not None and reply[:2] == b"\x04\x02", reply
    return int.from_bytes(reply[2:4], "big")


def wait_idle(client: ModbusRawClient, timeout_s: float = 2.0) -> None:
    """Past the power-up INIT phase (README §5): IDLE, not armed."""
    wait_until(lambda: state_code(client) == 1, timeout_s, "tool did not reach IDLE")


def is_gateway(client: ModbusRawClient) -> bool:
    assert client.tool is not None
    return client.tool.tool_name == "etch-bath" and not client.rtu


@pytest.mark.parametrize("function", [0x07, 0x08, 0x11, 0x2B, 0x55, 0x00, 0x7F])
def test_unsupported_function_code_gets_exception_01_with_its_own_code(
    modbus: ModbusRawClient, function: int
) -> None:
    pdu = bytes([function]) + (b"\x0e\x01\x00" if function == 0x2B else b"\x00\x00\x12\x34")
    assert modbus.request(pdu) == bytes([function | 0x80, 0x01])
    assert_still_serving(modbus)


def test_other_unit_id_gets_no_reply_and_the_gateway_answers_0x0a(
    modbus: ModbusRawClient,
) -> None:
    for pdu in (read_pdu(0x04, 0, 1), b"\x08\x00\x00\x12\x34"):
        reply = modbus.request(pdu, unit=2, timeout_s=0.3)
        if is_gateway(modbus):
            assert reply == bytes([pdu[0] | 0x80, 0x0A])
        else:
            assert reply is None  # on a bus another slave's address: silence, never an echo
    assert_still_serving(modbus)


@pytest.mark.parametrize(
    ("function", "quantity"),
    [(0x01, 0), (0x01, 2001), (0x02, 2001), (0x03, 0), (0x03, 126), (0x04, 126)],
)
def test_read_quantity_out_of_limits_gets_03_before_the_address_check(
    modbus: ModbusRawClient, function: int, quantity: int
) -> None:
    for address in (0, 60000):  # a bad address too: quantity comes first (step 2 before 3)
        assert modbus.request(read_pdu(function, address, quantity)) == bytes(
            [function | 0x80, 0x03]
        )


def test_fc05_value_other_than_ff00_or_0000_gets_03_and_does_not_execute(
    modbus: ModbusRawClient,
) -> None:
    wait_idle(modbus)
    assert modbus.request(b"\x05\x00\x00\x12\x34") == b"\x85\x03"  # ARM with 0x1234
    assert modbus.request(b"\x05\xea\x60\x12\x34") == b"\x85\x03"  # and at a bad address
    time.sleep(0.05)
    assert state_code(modbus) == 1  # ARM did not run: still IDLE, not HEATING


def test_fc15_quantity_1969_gets_03(modbus: ModbusRawClient) -> None:
    pdu = b"\x0f\x00\x00" + (1969).to_bytes(2, "big") + bytes([247]) + bytes(247)
    assert modbus.request(pdu) == b"\x8f\x03"


def test_byte_count_not_matching_the_quantity_gets_03(modbus: ModbusRawClient) -> None:
    assert modbus.request(b"\x10\x00\x00\x00\x02\x03\x00\x01\x00") == b"\x90\x03"
    assert modbus.request(b"\x0f\x00\x00\x00\x09\x01\x00") == b"\x8f\x03"
    assert modbus.request(b"\x03\x00\x00") == b"\x83\x03"  # PDU too short for its code


def test_fc16_too_many_registers_gets_03(modbus: ModbusRawClient) -> None:
    pdu = b"\x10\x00\x00" + (124).to_bytes(2, "big") + bytes([248]) + bytes(248)
    assert modbus.request(pdu) == b"\x90\x03"


def test_etch_bath_rtu_truncated_frame_does_not_swallow_the_next_request(
    sim_tool: StartTool,
) -> None:
    with modbus_client(sim_tool("etch-bath", transport="rtu").address) as client:
        whole = client.adu(1, read_pdu(0x04, 901, 8))
        client.link.write(whole[:5])  # truncated; the gap after it is far over 1.5 chars
        time.sleep(0.05)
        assert model_name(client) == "WE-2"


@pytest.mark.parametrize("tool", ["laminator", "mold-press", "etch-bath"])
def test_third_tcp_connection_is_closed_at_once_and_two_are_served(
    sim_tool: StartTool, tool: str
) -> None:
    address = sim_tool(tool, **({"transport": "tcp"} if tool == "etch-bath" else {})).address
    links = [modbus_link(address)[0] for _ in range(3)]
    try:
        assert links[2].read_until(b"x", 1.0) == b""  # closed without data
        for link in links[:2]:
            client = ModbusRawClient(link, rtu=False)
            assert client.request(read_pdu(0x04, 0, 1)) is not None
    finally:
        for link in links:
            link.close()


def test_mbap_framing_error_closes_the_connection_and_the_tool_keeps_serving(
    sim_tool: StartTool,
) -> None:
    address = sim_tool("mold-press").address
    bad = modbus_link(address)[0]
    bad.write(b"\x00\x01\x00\x07\x00\x06\x01\x04\x00\x00\x00\x01")  # protocol id 7
    assert bad.read_until(b"x", 1.0) == b""
    bad.close()
    with modbus_client(address) as good:
        assert good.request(read_pdu(0x04, 0, 1)) is not None


def test_tcp_connection_idle_past_the_limit_is_closed(
    sim_tool: StartTool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(front, "TCP_IDLE_CLOSE_S", 0.2)  # README §9.2: 120 s on the tool
    with modbus_client(sim_tool("mold-press").address) as client:
        assert client.request(read_pdu(0x04, 0, 1)) is not None
        assert client.link.read_until(b"x", 2.0) == b""  # closed by the tool


def test_tcp_idle_limit_counts_from_the_last_request(
    sim_tool: StartTool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # README §9.2: 120 s on the tool; here 1 s, ten times the test's pace between requests,
    # so that a loaded machine does not leave a gap the tool may take for idleness.
    monkeypatch.setattr(front, "TCP_IDLE_CLOSE_S", 1.0)
    with modbus_client(sim_tool("mold-press").address) as client:
        started = time.monotonic()
        while time.monotonic() - started < 2.5:  # busy for longer than the limit: kept open
            assert client.request(read_pdu(0x04, 0, 1)) is not None
            time.sleep(0.1)
        assert client.link.read_until(b"x", 2.0) == b""  # then idle: closed by the tool


def test_gateway_discards_a_request_sent_before_the_previous_reply(sim_tool: StartTool) -> None:
    simulated = sim_tool("etch-bath", transport="tcp")
    with modbus_client(simulated.address) as client:
        simulated.model.conditions["BUS"] = True  # the bath is silent: 0x0B after 500 ms
        client.link.write(client.adu(1, read_pdu(0x04, 0, 1)))
        time.sleep(0.05)
        second = client.adu(1, read_pdu(0x04, 901, 8))
        client.link.write(second)  # before the first reply: discarded (README §9.2)
        assert client.link.read_some(2.0)[7:] == b"\x84\x0b"
        assert client.link.read_some(0.8) == b""  # nothing for the second request
