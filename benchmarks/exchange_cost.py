"""What one host-tool exchange costs in a dry run, tool by tool: CPU (the whole process's, and
the host thread's alone) and voluntary context switches per message of the driver's state read, on a virtual clock with the default host
latency (the dry run's setting), one participant, over the tool's real transport.

A dry run's wall time is its exchanges' cost times their number plus the models' physics;
this isolates the first factor (the clock moves 20 ms a message, so the model's own work per
request is that of a tool standing idle). Medians of repeated batches, as the machine is shared.
"""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Iterable

from drivers.registry import driver_class
from packline.paced_link import DEFAULT_HOST_LATENCY_S, pace_driver
from sim.clock import VirtualClock
from sim.registry import serve_function
from sim.world import World

TOOLS = (
    "die-bonder",
    "dicing-saw",
    "ball-attach",
    "laser",
    "metrology",
    "wire-bonder",
    "laminator",
    "mold-press",
    "etch-bath",
)
#: State reads per batch; the etch bath's Modbus RTU waits the manual's 3.5-character
#: silence at each frame's end, so it gets fewer.
READS = 300
RTU_READS = 100
BATCHES = 7
WARMUP_READS = 30


def measure(tool: str) -> tuple[float, float, float]:
    """Median CPU µs (process, host thread) and voluntary context switches per message of
    ``tool``'s state read."""
    clock = VirtualClock()
    reads = RTU_READS if tool == "etch-bath" else READS
    cpu_us: list[float] = []
    host_us: list[float] = []
    switches: list[float] = []
    with (
        serve_function(tool)(clock=clock, world=World()) as sim,
        driver_class(tool).open(sim.address) as driver,
    ):
        link = pace_driver(driver, clock, DEFAULT_HOST_LATENCY_S)
        with clock.participant("benchmark"):
            for _ in range(WARMUP_READS):
                driver.state()
            for _ in range(BATCHES):
                sent = link.sent
                usage = resource.getrusage(resource.RUSAGE_SELF)
                started, host_started = time.process_time(), time.thread_time()
                for _ in range(reads):
                    driver.state()
                spent, host_spent = time.process_time() - started, time.thread_time() - host_started
                messages = link.sent - sent
                after = resource.getrusage(resource.RUSAGE_SELF)
                cpu_us.append(spent / messages * 1e6)
                host_us.append(host_spent / messages * 1e6)
                switches.append((after.ru_nvcsw - usage.ru_nvcsw) / messages)
    return statistics.median(cpu_us), statistics.median(host_us), statistics.median(switches)


def main(tools: Iterable[str] = TOOLS) -> Iterable[str]:
    yield (
        f"cost of one exchange (driver state read, virtual clock, host latency "
        f"{DEFAULT_HOST_LATENCY_S * 1000:g} ms; median of {BATCHES} batches)"
    )
    for tool in tools:
        cpu_us, host_us, switches = measure(tool)
        yield (
            f"  {tool:<12} {cpu_us:6.0f} us CPU ({host_us:4.0f} us the host thread's)"
            f"   {switches:4.1f} voluntary context switches"
        )
