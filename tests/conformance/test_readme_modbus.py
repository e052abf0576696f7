"""README §5, §7 and §9.2 rules on every Modbus simulator (laminator, mold press, the etch
bath on RTU and through its gateway): valid requests of every function code, command
coils, REJECT_REASON, atomic and whole-field writes, value ranges."""

from __future__ import annotations

from sim.fronts.modbus import ModbusFront
from sim.fronts.modbus_map import RegisterMap
from sim.modbus_model import ModbusToolModel
from tests.conformance.test_modbus_bad_requests import state_code, wait_idle
from tests.support.modbus_pdu import write_multiple
from tests.support.raw_clients import ModbusRawClient, read_pdu


def model_of(client: ModbusRawClient) -> ModbusToolModel:
    assert client.tool is not None
    model = client.tool.model
    assert isinstance(model, ModbusToolModel)
    return model


def model_registers(client: ModbusRawClient) -> RegisterMap:
    """The register map the simulator's front serves."""
    assert client.tool is not None
    front = client.tool.server
    assert isinstance(front, ModbusFront)
    return front.datastore.registers


def fc16(address: int, words: list[int]) -> bytes:
    """FC16 writing ``words`` from ``address``: the request of :func:`write_multiple`."""
    return write_multiple(address, words)[0]


def reject_registers(client: ModbusRawClient) -> tuple[int, int]:
    reply = client.request(read_pdu(0x04, 4, 2))
    assert reply is not None and reply[:2] == b"\x04\x04", reply
    return int.from_bytes(reply[2:4], "big"), int.from_bytes(reply[4:6], "big")


def test_s92_every_function_code_of_the_manual_is_answered(modbus: ModbusRawClient) -> None:
    assert modbus.request(read_pdu(0x01, 0, 8)) == b"\x01\x01\x00"  # command coils read 0
    reply = modbus.request(read_pdu(0x02, 0, 8))
    assert reply is not None and reply[:2] == b"\x02\x01"
    assert modbus.request(read_pdu(0x03, 0, 3)) is not None
    assert modbus.request(read_pdu(0x04, 900, 1)) == b"\x04\x02\x00\x64"  # PROTOCOL_VERSION 100
    assert modbus.request(b"\x06\x00\x02\x12\x34") == b"\x06\x00\x02\x12\x34"  # heartbeat echo
    assert modbus.request(b"\x05\x00\x06\xff\x00") == b"\x05\x00\x06\xff\x00"  # ALARM_RESET
    assert modbus.request(fc16(1, [0, 7])) == b"\x10\x00\x01\x00\x02"
    assert modbus.request(b"\x0f\x00\x06\x00\x02\x01\x00") == b"\x0f\x00\x06\x00\x02"


def test_s92_command_coils_always_read_0(modbus: ModbusRawClient) -> None:
    wait_idle(modbus)
    assert modbus.request(b"\x05\x00\x01\xff\x00") == b"\x05\x00\x01\xff\x00"  # DISARM: nop
    assert modbus.request(read_pdu(0x01, 0, 8)) == b"\x01\x01\x00"


def test_s92_start_in_idle_is_06_with_reject_reason_24(modbus: ModbusRawClient) -> None:
    wait_idle(modbus)
    _, count = reject_registers(modbus)
    assert modbus.request(b"\x05\x00\x02\xff\x00") == b"\x85\x06"
    assert reject_registers(modbus) == (24, (count + 1) & 0xFFFF)
    assert modbus.request(b"\x05\x00\x03\xff\x00") == b"\x85\x06"  # PAUSE in IDLE
    assert reject_registers(modbus)[0] == 20
    assert state_code(modbus) == 1


def test_s92_fc15_setting_two_command_coils_is_03_and_runs_neither(
    modbus: ModbusRawClient,
) -> None:
    wait_idle(modbus)
    assert modbus.request(b"\x0f\x00\x00\x00\x02\x01\x03") == b"\x8f\x03"  # ARM + DISARM
    assert state_code(modbus) == 1


def test_s92_writes_outside_the_tables_are_02_and_values_out_of_range_03(
    modbus: ModbusRawClient,
) -> None:
    assert modbus.request(b"\x06\x00\x63\x00\x00") == b"\x86\x02"  # HR 99: not in any table
    assert modbus.request(read_pdu(0x04, 28, 1)) == b"\x84\x02"  # IR 28 between blocks
    assert modbus.request(b"\x06\x00\x01\x02\x59") == b"\x86\x03"  # HOST_WATCHDOG_S 601


def test_s92_multi_register_writes_are_atomic(modbus: ModbusRawClient) -> None:
    wait_idle(modbus)
    before = modbus.request(read_pdu(0x03, 0, 2))
    assert modbus.request(fc16(0, [7, 601])) == b"\x90\x03"  # RECIPE_ID ok, watchdog not
    assert modbus.request(read_pdu(0x03, 0, 2)) == before


def test_s92_a_strip_id_is_written_whole_or_not_at_all(modbus: ModbusRawClient) -> None:
    wait_idle(modbus)
    field = model_registers(modbus).holding_def("STRIP_ID_1")
    assert field.length == 10
    assert modbus.request(fc16(field.address, [0x4142] * 5)) == b"\x90\x03"  # half of it
    text = [0x4C41, 0x2D30, 0x3031] + [0] * 7  # "LA-001"
    assert (
        modbus.request(fc16(field.address, text))
        == b"\x10" + field.address.to_bytes(2, "big") + b"\x00\x0a"
    )
    bad = [0x4120, 0x4200] + [0] * 8  # "A B": a space breaks README §3
    assert modbus.request(fc16(field.address, bad)) == b"\x90\x03"
    words = modbus.request(read_pdu(0x03, field.address, 10))
    assert words is not None and words[2:8] == b"LA-001"
