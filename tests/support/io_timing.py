"""Wall-time bounds of the host-I/O tests, said once: a wait that must end inside a window."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

#: Wall time a timed-out read or write may overrun its timeout on a loaded 2-core machine.
SLACK_S = 0.7


@contextmanager
def takes_s(at_least_s: float, under_s: float) -> Iterator[None]:
    """The block takes at least ``at_least_s`` and under ``under_s`` of wall time: a timeout
    that fires neither early nor late, or a wait that is bounded."""
    started = time.monotonic()
    yield
    took_s = time.monotonic() - started
    assert at_least_s <= took_s < under_s, f"took {took_s:.2f} s, not {at_least_s}..{under_s} s"
