"""WB-3 frames in the manual's notation (wire-bonder.md §2), for scripts of the scripted peer
(:mod:`tests.support.expected_protocol`) and the simulator's link tests:
``wire("<STX>1IDN?<ETX>4D<CR>")`` is the frame's bytes, :func:`host` / :func:`ack` build a
frame with its checksum, :func:`nak` a rejection.
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
