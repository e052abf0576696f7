"""Tool addresses and the suite's error messages."""

from __future__ import annotations

import pytest

from drivers.address import is_visa_resource, parse_modbus_address
from drivers.errors import InterlockActive, ParameterOutOfRange, ToolError, ToolTimeout, tool_error


def test_modbus_tcp_address_with_unit() -> None:
    address = parse_modbus_address("modbus+tcp://127.0.0.1:5020?unit=1")
    assert (address.kind, address.host, address.port, address.unit) == ("tcp", "127.0.0.1", 5020, 1)


def test_modbus_rtu_address_with_serial_settings() -> None:
    address = parse_modbus_address("modbus+rtu:///dev/ttyUSB0?baudrate=19200&parity=E&unit=7")
    serial = (address.device, address.baudrate, address.parity)
    assert (address.kind, serial, address.unit) == ("rtu", ("/dev/ttyUSB0", 19200, "E"), 7)


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("modbus+tcp://:502?unit=1", "missing host"),
        ("modbus+tcp://h:502?unit=300", "unit 300 outside 0-247"),
        ("modbus+tcp://h:502?unit=x", "unit must be an integer"),
        ("modbus+tcp://h:502?speed=1", "unknown option"),
        ("modbus+rtu:///dev/x?parity=Q", "parity 'Q'"),
        ("tcp://h:502", "not a Modbus address"),
    ],
)
def test_bad_modbus_addresses_say_what_is_wrong(address: str, message: str) -> None:
    with pytest.raises(ParameterOutOfRange, match=message):
        parse_modbus_address(address)


def test_visa_resource_strings_are_recognised() -> None:
    assert is_visa_resource("TCPIP::127.0.0.1::5025::SOCKET")
    assert is_visa_resource("ASRL/dev/ttyUSB0::INSTR")
    assert not is_visa_resource("socket://127.0.0.1:7003")
    assert not is_visa_resource("/dev/ttyUSB0")


def test_tool_error_message_names_tool_address_code_detail_and_what_was_sent() -> None:
    error = tool_error(
        22, "DOOR", tool="die-bonder", address="TCPIP::10.0.0.5::5025::SOCKET", sent="CYCL:STAR"
    )
    assert isinstance(error, InterlockActive)
    assert str(error) == (
        "die-bonder at TCPIP::10.0.0.5::5025::SOCKET: tool error 22 Interlock active;DOOR (sent 'CYCL:STAR')"
    )


def test_scpi_native_code_is_kept_beside_the_catalogue_code() -> None:
    error = tool_error(13, native_code=-222, tool="die-bonder", address="a", sent="DISP:VOL 40000")
    assert type(error) is ToolError
    assert error.code == 13 and error.native_code == -222
    assert "13 Out of range [-222]" in str(error)


def test_timeout_message_names_the_tool() -> None:
    error = ToolTimeout(
        "no reply within 0.50 s", tool="wire-bonder", address="/dev/pts/3", sent="STAT?"
    )
    assert str(error) == "wire-bonder at /dev/pts/3: no reply within 0.50 s (sent 'STAT?')"
