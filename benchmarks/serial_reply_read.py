"""CPU of one serial reply read (issue 10, s8ser): the transport's ``write`` and ``read_until``
over a real pty whose far end answers each command in four pieces, 200 µs apart, as a
simulated tool's reply arrives in a dry run. Prints the reading thread's CPU and the wall time
per exchange. Run on purpose: ``make bench BENCH=serial-read`` (2000 exchanges), or
``.venv/bin/python -m benchmarks.serial_reply_read [EXCHANGES]``."""

from __future__ import annotations

import os
import pty
import select
import sys
import threading
import time
from collections.abc import Iterator

from drivers.transports.serial_port import SerialTransport

PIECES = (b"OK ", b"12.345", b",67.890", b",DONE\r")
PIECE_GAP_S = 0.0002
WARMUP = 50


def _answer(master_fd: int, stop: threading.Event) -> None:
    """The tool: every command line it reads is answered in ``PIECES``."""
    pending = b""
    while not stop.is_set():
        if not select.select([master_fd], [], [], 0.05)[0]:
            continue
        pending += os.read(master_fd, 4096)
        while b"\r" in pending:
            _, pending = pending.split(b"\r", 1)
            for piece in PIECES:
                os.write(master_fd, piece)
                time.sleep(PIECE_GAP_S)


def lines(exchanges: int = 2000) -> Iterator[str]:
    """For ``python -m benchmarks``: a title, then what :func:`main` measured."""
    yield "serial reply read: transport write + read_until over a pty, reply in 4 pieces"
    yield "  " + main(exchanges)


def main(exchanges: int = 2000) -> str:
    master_fd, slave_fd = pty.openpty()
    stop = threading.Event()
    threading.Thread(target=_answer, args=(master_fd, stop), daemon=True).start()
    transport = SerialTransport(os.ttyname(slave_fd), tool="bench", baudrate=115200)
    expected = b"".join(PIECES)
    try:
        for _ in range(WARMUP):
            transport.write(b"MEAS?\r")
            transport.read_until(b"\r")
        cpu_s, wall_s = time.thread_time(), time.perf_counter()
        for _ in range(exchanges):
            transport.write(b"MEAS?\r")
            if transport.read_until(b"\r") != expected:
                raise RuntimeError("the reply came back wrong")
        cpu_s, wall_s = time.thread_time() - cpu_s, time.perf_counter() - wall_s
    finally:
        stop.set()
        transport.close()
        os.close(slave_fd)
        os.close(master_fd)
    return (
        f"{exchanges} exchanges: reader CPU {1e6 * cpu_s / exchanges:.1f} µs/exchange, "
        f"wall {1e6 * wall_s / exchanges:.1f} µs/exchange"
    )


if __name__ == "__main__":
    print(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
