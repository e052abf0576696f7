"""Round trip of a wire bonder query (``IDN?``, framed link) on the simulator's pty directly and
through ser2net in raw TCP and RFC 2217 mode, plus how long the link takes to come back after
ser2net restarts. Needs ser2net (``make services``).

    .venv/bin/python -m benchmarks.edge_serial
"""

from __future__ import annotations

import statistics
import time

from drivers.wire_bonder import WireBonder
from sim.clock import SimClock
from sim.wire_bonder import serve
from sim.world import World
from tests.support.ser2net import Ser2net

QUERIES = 200


def round_trip_ms(address: str) -> tuple[float, float]:
    with WireBonder.open(address) as bonder:
        samples = []
        for _ in range(QUERIES):
            start = time.perf_counter()
            bonder.identify()
            samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * len(samples))]


def main() -> None:
    sim = serve(clock=SimClock(1.0), world=World(), transport="pty")
    try:
        median, p95 = round_trip_ms(sim.address)
        print(f"pty direct:        median {median:.2f} ms, p95 {p95:.2f} ms")
        for mode in ("raw", "rfc2217"):
            with Ser2net(sim.address, mode=mode) as edge:
                start = time.perf_counter()
                WireBonder.open(edge.address).close()
                opened_ms = (time.perf_counter() - start) * 1000
                median, p95 = round_trip_ms(edge.address)
                with WireBonder.open(edge.address) as bonder:
                    edge.cut()
                    edge.restore()
                    start = time.perf_counter()
                    bonder.identify()
                    back_ms = (time.perf_counter() - start) * 1000
            print(
                f"ser2net {mode:<8}: median {median:.2f} ms, p95 {p95:.2f} ms, open "
                f"{opened_ms:.0f} ms, first query after a restart {back_ms:.0f} ms"
            )
    finally:
        sim.stop()


if __name__ == "__main__":
    main()
