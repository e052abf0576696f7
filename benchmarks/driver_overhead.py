"""Driver call vs the bare library call on the same simulator, one per transport library:
pymodbus (mold press, Modbus/TCP), pyvisa-py (die bonder, SCPI over a TCP socket), pyserial
(metrology, line protocol over a pty). Both read the tool's state; the ratio is what the
driver's checks, parsing and error mapping cost on top of the library."""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

import pyvisa
import serial
from pymodbus.client import ModbusTcpClient
from pyvisa.resources import MessageBasedResource

from benchmarks.timing import median_call_s
from drivers.address import parse_modbus_address
from drivers.die_bonder import DieBonder
from drivers.metrology import Metrology
from drivers.mold_press import MoldPress
from sim.clock import SimClock
from sim.registry import serve_function
from sim.world import World


def _modbus() -> tuple[float, float]:
    with serve_function("mold-press")(clock=SimClock(1.0), world=World()) as sim:
        where = parse_modbus_address(sim.address)
        client = ModbusTcpClient(where.host, port=where.port, timeout=1.0, retries=0)
        client.connect()
        try:
            bare = median_call_s(
                lambda: client.read_input_registers(0, count=1, device_id=where.unit)
            )
        finally:
            client.close()
        with MoldPress.open(sim.address) as press:
            driver = median_call_s(press.state)
    return bare, driver


def _visa() -> tuple[float, float]:
    with serve_function("die-bonder")(clock=SimClock(1.0), world=World()) as sim:
        manager = pyvisa.ResourceManager("@py")
        session = cast(MessageBasedResource, manager.open_resource(sim.address))
        session.read_termination = session.write_termination = "\n"
        try:
            bare = median_call_s(lambda: session.query("SYST:STAT?"))
        finally:
            session.close()
            manager.close()
        with DieBonder.open(sim.address) as bonder:
            driver = median_call_s(bonder.state)
    return bare, driver


def _serial() -> tuple[float, float]:
    with serve_function("metrology")(clock=SimClock(1.0), world=World()) as sim:
        port = serial.serial_for_url(sim.address, baudrate=38400, timeout=1.0)

        def bare_status() -> bytes:
            port.write(b"ST?\r")
            return port.read_until(b"\r")

        try:
            bare = median_call_s(bare_status)
        finally:
            port.close()
        with Metrology.open(sim.address) as metrology:
            driver = median_call_s(metrology.state)
    return bare, driver


def main() -> Iterable[str]:
    lines = ["driver call vs bare library call (median of 300 state reads, same simulator)"]
    for library, measure in (("pymodbus", _modbus), ("pyvisa-py", _visa), ("pyserial", _serial)):
        bare, driver = measure()
        lines.append(
            f"  {library:<10} bare {1e6 * bare:7.0f} us   driver {1e6 * driver:7.0f} us   "
            f"ratio {driver / bare:5.2f}"
        )
    return lines
