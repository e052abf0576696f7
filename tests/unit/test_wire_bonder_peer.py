"""A scripted fake WB-3 for the driver unit tests (used by test_wire_bonder_driver.py), in the
manner of PyMeasure's expected_protocol.

The peer sits on a pty (the driver opens its device path) or a loopback TCP port (the driver
opens ``socket://``). It reads the host's frames one by one, checks each byte for byte against
the script (sequence digit and checksum included) and answers the scripted reply, or nothing
for a lost reply. Frames are written in the manual's notation: ``<STX>1IDN?<ETX>4D<CR>``.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
import time
import tty
from collections.abc import Sequence
from functools import reduce
from types import TracebackType

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


class FakePeer:
    """Plays ``script`` (host frame expected, reply or None) and records what went wrong."""

    def __init__(self, script: Sequence[Step], *, transport: str = "pty") -> None:
        self.script = list(script)
        self.received: list[bytes] = []
        self.errors: list[str] = []
        self.transport = transport
        self._stop = threading.Event()
        self._sock: socket.socket | None = None
        if transport == "pty":
            self._master, self._slave = os.openpty()
            tty.setraw(self._master)
            tty.setraw(self._slave)
            self.address = os.ttyname(self._slave)
        else:
            self._listener = socket.create_server(("127.0.0.1", 0))
            self.address = f"socket://127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._run, name="fake-wire-bonder", daemon=True)
        self._thread.start()

    # -- byte I/O over either transport ---------------------------------------------------------
    def _fd_ready(self, timeout_s: float) -> bool:
        if self.transport == "pty":
            return bool(select.select([self._master], [], [], timeout_s)[0])
        if self._sock is None:
            if not select.select([self._listener], [], [], timeout_s)[0]:
                return False
            self._sock, _ = self._listener.accept()
            return False
        return bool(select.select([self._sock], [], [], timeout_s)[0])

    def _read(self) -> bytes:
        if self.transport == "pty":
            return os.read(self._master, 1)
        assert self._sock is not None
        return self._sock.recv(1)

    def _write(self, data: bytes) -> None:
        if self.transport == "pty":
            os.write(self._master, data)
        else:
            assert self._sock is not None
            self._sock.sendall(data)

    def _read_frame(self, timeout_s: float) -> bytes | None:
        deadline = time.monotonic() + timeout_s
        frame = b""
        while not frame.endswith(b"\r"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._stop.is_set():
                return frame or None
            if self._fd_ready(min(remaining, 0.05)):
                byte = self._read()
                if not byte:
                    return frame or None
                frame += byte
        return frame

    def _run(self) -> None:
        for index, (expected, reply) in enumerate(self.script):
            frame = self._read_frame(5.0)
            if frame is None:
                self.errors.append(f"step {index}: no frame, expected {expected!r}")
                return
            self.received.append(frame)
            if frame != expected:
                self.errors.append(f"step {index}: got {frame!r}, expected {expected!r}")
                return
            if reply is not None:
                self._write(reply)
        extra = self._read_frame(0.05)
        if extra:
            self.received.append(extra)
            self.errors.append(f"unexpected frame after the script: {extra!r}")

    # -- test API ------------------------------------------------------------------------------
    def check(self) -> None:
        """Wait for the script to end and fail the test on any mismatch or leftover step."""
        self._thread.join(timeout=10)
        assert not self._thread.is_alive(), "fake peer still waiting for frames"
        assert not self.errors, self.errors
        assert len(self.received) == len(self.script), (
            f"only {len(self.received)} of {len(self.script)} frames came"
        )

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        if self.transport == "pty":
            for fd in (self._master, self._slave):
                with contextlib.suppress(OSError):
                    os.close(fd)
        else:
            if self._sock is not None:
                self._sock.close()
            self._listener.close()

    def __enter__(self) -> FakePeer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def test_wire_bonder_peer_notation_gives_the_manual_bytes() -> None:
    """§2: ``1IDN?`` is ``02 31 49 44 4E 3F 03 34 44 0D``; the NAK payload ``22`` has checksum 00."""
    assert wire("<STX>1IDN?<ETX>4D<CR>") == bytes.fromhex("02 31 49 44 4E 3F 03 34 44 0D")
    assert host("1IDN?") == bytes.fromhex("02 31 49 44 4E 3F 03 34 44 0D")
    assert nak(22) == wire("<NAK><STX>22<ETX>00<CR>")
