"""A tool's end of a real pseudo-terminal for serial transport tests: the pair itself, replies
sent in pieces, and a storm of signals to interrupt the host's waits."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
import tty
from collections.abc import Iterator


def vanish(master_fd: int) -> None:
    """The tool goes away: its end of the pty closes (the host's end hangs up), while the
    descriptor number stays taken (by /dev/null) until :func:`pty_pair` closes it. A plain
    ``os.close`` would free the number for the next file opened, which the pair's own close
    would then shut behind that file owner's back."""
    null_fd = os.open(os.devnull, os.O_RDWR)
    try:
        os.dup2(null_fd, master_fd)  # closes the master's description, keeps the number
    finally:
        os.close(null_fd)


@contextlib.contextmanager
def pty_pair() -> Iterator[tuple[int, int]]:
    """A raw pty's (master, slave) descriptors, both closed after (a test makes the tool vanish
    with :func:`vanish`, never by closing the master itself)."""
    master_fd, slave_fd = os.openpty()
    tty.setraw(master_fd)
    tty.setraw(slave_fd)
    try:
        yield master_fd, slave_fd
    finally:
        for fd in (slave_fd, master_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


def send_later(master_fd: int, pieces: list[bytes], gap_s: float = 0.03) -> threading.Thread:
    """The tool answering ``pieces`` one at a time, ``gap_s`` apart, from its own thread."""

    def run() -> None:
        for piece in pieces:
            time.sleep(gap_s)
            os.write(master_fd, piece)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@contextlib.contextmanager
def alarm_storm() -> Iterator[None]:
    """SIGALRM every 100 µs (a handler that does nothing, as a daemon's or a profiler's). A
    real-time timer: in trials it interrupted ~100 drains a second, where another thread's
    ``pthread_kill`` or a CPU-time timer (SIGPROF) interrupted none. Tests under it need
    pytest-timeout's thread method (its signal method uses SIGALRM and ITIMER_REAL)."""
    previous = signal.signal(signal.SIGALRM, lambda *_: None)
    signal.setitimer(signal.ITIMER_REAL, 0.0001, 0.0001)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
