"""Small helpers the benchmarks share: timing a call, and describing the machine."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable


def median_call_s(call: Callable[[], object], *, calls: int = 300, warmup: int = 20) -> float:
    """Median wall seconds of one ``call`` over ``calls`` calls (after ``warmup`` calls)."""
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def machine() -> str:
    """``nproc`` and CPU model: the figures mean nothing without them."""
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{os.cpu_count()} CPU(s), {model}, Python {platform.python_version()}, "
        f"load average {load:.2f} at start"
    )
