"""Modbus request PDUs judged as README §9.2 steps 1 and 2, and reply PDUs encoded.

The simulator owns this instead of leaving it to pymodbus' server, whose decoder answers
function codes the manuals do not have (07, 08, 17, 43), answers a malformed request with
``80 01`` and checks quantities after the address (decisions.md, "Simulators: bad input").

A :class:`Request` is what the datastore sees: function code, start address, and either the
quantity to read or the values to write. Steps 3-5 (addresses 02, values 03, state 06) are
the datastore's.
"""

from __future__ import annotations

from dataclasses import dataclass

ILLEGAL_FUNCTION = 0x01
ILLEGAL_ADDRESS = 0x02
ILLEGAL_VALUE = 0x03
DEVICE_BUSY = 0x06  # README §9.2 step 5: "not allowed now", reason in REJECT_REASON
GATEWAY_PATH_UNAVAILABLE = 0x0A
GATEWAY_NO_RESPONSE = 0x0B

READ_BITS = (0x01, 0x02)
READ_WORDS = (0x03, 0x04)
SUPPORTED = (0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0F, 0x10)
#: README §9.2 step 2: quantity limits per function code.
QUANTITY_MAX = {0x01: 2000, 0x02: 2000, 0x03: 125, 0x04: 125, 0x0F: 1968, 0x10: 123}
COIL_ON, COIL_OFF = 0xFF00, 0x0000


class RequestError(Exception):
    """A request refused at steps 1-2; ``code`` is the Modbus exception code."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Request:
    """A well-formed request: ``count`` for reads, ``values`` (bits or words) for writes."""

    function: int
    address: int
    count: int = 0
    values: tuple[int, ...] = ()

    @property
    def is_write(self) -> bool:
        return self.function in (0x05, 0x06, 0x0F, 0x10)


def judge(pdu: bytes) -> Request:
    """Steps 1 (function code, 01) and 2 (quantity, byte count, FC05 value, 03) of §9.2.

    A PDU whose length does not fit its function code is a byte-count mismatch (03).
    """
    if not pdu or pdu[0] not in SUPPORTED:
        raise RequestError(ILLEGAL_FUNCTION)
    function = pdu[0]
    if function in (*READ_BITS, *READ_WORDS, 0x05, 0x06):
        if len(pdu) != 5:
            raise RequestError(ILLEGAL_VALUE)
        address, field = int.from_bytes(pdu[1:3], "big"), int.from_bytes(pdu[3:5], "big")
        if function == 0x05:
            if field not in (COIL_ON, COIL_OFF):
                raise RequestError(ILLEGAL_VALUE)
            return Request(function, address, 1, (1 if field == COIL_ON else 0,))
        if function == 0x06:
            return Request(function, address, 1, (field,))
        if not 1 <= field <= QUANTITY_MAX[function]:
            raise RequestError(ILLEGAL_VALUE)
        return Request(function, address, field)
    # FC15 / FC16: address, quantity, byte count, data
    if len(pdu) < 6:
        raise RequestError(ILLEGAL_VALUE)
    address, quantity, byte_count = (
        int.from_bytes(pdu[1:3], "big"),
        int.from_bytes(pdu[3:5], "big"),
        pdu[5],
    )
    if not 1 <= quantity <= QUANTITY_MAX[function]:
        raise RequestError(ILLEGAL_VALUE)
    expected = (quantity + 7) // 8 if function == 0x0F else 2 * quantity
    data = pdu[6:]
    if byte_count != expected or len(data) != expected:
        raise RequestError(ILLEGAL_VALUE)
    if function == 0x0F:
        bits = tuple((data[i // 8] >> (i % 8)) & 1 for i in range(quantity))
        return Request(function, address, quantity, bits)
    words = tuple(int.from_bytes(data[i : i + 2], "big") for i in range(0, expected, 2))
    return Request(function, address, quantity, words)


def exception_pdu(function: int, code: int) -> bytes:
    """``fc | 0x80, code`` (the function code as received, also an unsupported one)."""
    return bytes([(function | 0x80) & 0xFF, code])


def reply_pdu(request: Request, data: list[int] | None) -> bytes:
    """The normal reply: read data, or the echo the Modbus application protocol defines."""
    function = request.function
    if function in READ_BITS:
        assert data is not None
        packed = bytearray((len(data) + 7) // 8)
        for index, bit in enumerate(data):
            if bit:
                packed[index // 8] |= 1 << (index % 8)
        return bytes([function, len(packed)]) + bytes(packed)
    if function in READ_WORDS:
        assert data is not None
        body = b"".join((word & 0xFFFF).to_bytes(2, "big") for word in data)
        return bytes([function, len(body)]) + body
    head = bytes([function]) + request.address.to_bytes(2, "big")
    if function == 0x05:
        return head + (COIL_ON if request.values[0] else COIL_OFF).to_bytes(2, "big")
    if function == 0x06:
        return head + request.values[0].to_bytes(2, "big")
    return head + request.count.to_bytes(2, "big")
