"""Stretching the links' wall-time timeouts for a dry run on the virtual clock.

Link timeouts are wall seconds (a real tool that does not answer in time has a problem). On the
virtual clock the simulated tools live in the same process as the host: a reply that comes late
came late only because the machine's CPU was shared, and a timeout there would make the host
retry, pay host latency again and shift what the run records, so the same seed would not give
the same answer on a loaded machine. A virtual-clock dry run therefore stretches every link
timeout by one factor for its duration; the transports ask :func:`wall_timeout_s` whenever they
arm a timeout.

The factor is process-wide (the links run on many threads), set by one dry run at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_factor = 1.0


def wall_timeout_s(timeout_s: float) -> float:
    """``timeout_s`` as the links should arm it now (stretched during a virtual-clock run)."""
    return timeout_s * _factor


@contextmanager
def stretched_link_timeouts(factor: float) -> Iterator[None]:
    """Multiply every link timeout armed inside the block by ``factor`` (>= 1)."""
    global _factor
    if factor < 1:
        raise ValueError(f"a link timeout stretch must be >= 1, got {factor}")
    with _lock:
        previous, _factor = _factor, factor
    try:
        yield
    finally:
        with _lock:
            _factor = previous
