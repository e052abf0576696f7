"""Tool addresses: one string per tool, in configs and on the command line.

- VISA resource strings for the SCPI tools: ``TCPIP::127.0.0.1::5025::SOCKET``,
  ``ASRL/dev/ttyUSB0::INSTR``;
- pyserial URLs or device paths for the framed/line serial tools: ``/dev/ttyUSB0``,
  ``socket://127.0.0.1:7003`` (raw TCP), ``rfc2217://edge-1:7001`` (an RFC 2217 serial server
  such as ser2net; a VISA tool behind one uses raw TCP, ``TCPIP::edge-1::7003::SOCKET``);
- ``modbus+tcp://HOST:PORT?unit=N`` and ``modbus+rtu://DEVICE?baudrate=19200&parity=E&unit=N``
  for the Modbus tools.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from drivers.errors import ParameterOutOfRange


@dataclass(frozen=True)
class ModbusAddress:
    """A parsed ``modbus+tcp://`` or ``modbus+rtu://`` address."""

    kind: str  # "tcp" or "rtu"
    host: str = ""
    port: int = 502
    device: str = ""
    unit: int = 1
    baudrate: int = 19200
    parity: str = "E"
    stopbits: int = 1
    bytesize: int = 8


_PARITIES = {"N", "E", "O"}


def parse_modbus_address(address: str) -> ModbusAddress:
    """Parse a Modbus address; raise :class:`ParameterOutOfRange` naming what is wrong."""
    parts = urlsplit(address)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    known = {"unit", "baudrate", "parity", "stopbits", "bytesize"}
    unknown = set(query) - known
    if unknown:
        raise ParameterOutOfRange(
            f"unknown option(s) {sorted(unknown)} in Modbus address {address!r}; "
            f"allowed: {sorted(known)}"
        )
    try:
        unit = int(query.get("unit", "1"))
    except ValueError:
        raise ParameterOutOfRange(f"unit must be an integer in {address!r}") from None
    if not 0 <= unit <= 247:
        raise ParameterOutOfRange(f"unit {unit} outside 0-247 in {address!r}")
    if parts.scheme == "modbus+tcp":
        if not parts.hostname:
            raise ParameterOutOfRange(f"missing host in {address!r}")
        try:
            port = parts.port or 502
        except ValueError:
            raise ParameterOutOfRange(f"bad port in {address!r}") from None
        return ModbusAddress("tcp", host=parts.hostname, port=port, unit=unit)
    if parts.scheme == "modbus+rtu":
        device = (parts.netloc + parts.path) or ""
        if not device:
            raise ParameterOutOfRange(f"missing serial device in {address!r}")
        parity = query.get("parity", "E").upper()
        if parity not in _PARITIES:
            raise ParameterOutOfRange(f"parity {parity!r} not one of N, E, O in {address!r}")
        try:
            baudrate = int(query.get("baudrate", "19200"))
            stopbits = int(query.get("stopbits", "1"))
            bytesize = int(query.get("bytesize", "8"))
        except ValueError:
            raise ParameterOutOfRange(
                f"baudrate/stopbits/bytesize not integers in {address!r}"
            ) from None
        return ModbusAddress(
            "rtu",
            device=device,
            unit=unit,
            baudrate=baudrate,
            parity=parity,
            stopbits=stopbits,
            bytesize=bytesize,
        )
    raise ParameterOutOfRange(
        f"not a Modbus address: {address!r} (expected modbus+tcp://HOST:PORT?unit=N "
        "or modbus+rtu://DEVICE?baudrate=19200&parity=E&unit=N)"
    )


def is_visa_resource(address: str) -> bool:
    """True for VISA resource strings (``TCPIP::...``, ``ASRL...::INSTR``, ``GPIB...``)."""
    head = address.split("::", 1)[0].upper()
    return "::" in address and head.startswith(("TCPIP", "ASRL", "GPIB", "USB"))
