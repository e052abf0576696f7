"""A scripted fake WB-3 for the driver unit tests (used by test_wire_bonder_driver.py), in the
manner of PyMeasure's expected_protocol.

The peer sits on a pty (the driver opens its device path) or a loopback TCP port (the driver
opens ``socket://``). It reads the host's frames one by one, checks each byte for byte against
the script (sequence digit and checksum included) and answers the scripted reply, or nothing
for a lost reply. Frames are written in the manual's notation: ``<STX>1IDN?<ETX>4D<CR>``.
"""

from __future__ import annotations

from functools import reduce

_TOKENS = {"<STX>": b"\x02", "<ETX>": b"\x03", "<ACK>": b"\x06", "<NAK>": b"\x15", "<CR>": b"\r"}


def wire(text: str) -> bytes:
    """The bytes of a frame written in the manual's notation."""
    data = text.encode("ascii")
    for token, byte in _TOKENS.items():
        data = data.replace(token.encode("ascii"), byte)
    return data


def _cs(payload: str) -> str:
    return f"{reduce(lambda a, b: a ^ b, payload.encode('ascii'), 0):02X}"


def host(payload: str) -> bytes:
    """A host frame with its correct checksum."""
    return wire(f"<STX>{payload}<ETX>{_cs(payload)}<CR>")


def ack(payload: str) -> bytes:
    """A positive reply with its correct checksum."""
    return wire(f"<ACK><STX>{payload}<ETX>{_cs(payload)}<CR>")


def nak(code: int) -> bytes:
    """A negative reply: two-digit code, no sequence digit."""
    payload = f"{code:02d}"
    return wire(f"<NAK><STX>{payload}<ETX>{_cs(payload)}<CR>")


Step = tuple[bytes, bytes | None]


def test_wire_bonder_peer_notation_gives_the_manual_bytes() -> None:
    """§2: ``1IDN?`` is ``02 31 49 44 4E 3F 03 34 44 0D``; the NAK payload ``22`` has checksum 00."""
    assert wire("<STX>1IDN?<ETX>4D<CR>") == bytes.fromhex("02 31 49 44 4E 3F 03 34 44 0D")
    assert host("1IDN?") == bytes.fromhex("02 31 49 44 4E 3F 03 34 44 0D")
    assert nak(22) == wire("<NAK><STX>22<ETX>00<CR>")
