"""``python -m benchmarks [NAME ...]``: run the named benchmarks (all by default) and print
what each measured, after a line describing the machine."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable

from benchmarks import (
    daemon_status,
    driver_overhead,
    exchange_cost,
    long_lot,
    lots,
    overlap,
    serial_reply_read,
)
from benchmarks.timing import machine

BENCHMARKS: dict[str, Callable[[], Iterable[str]]] = {
    "drivers": driver_overhead.main,
    "recipes": lots.every_recipe,
    "determinism": lots.determinism,
    "fingerprint": lots.fingerprint,
    "lot-size": lots.lot_size,
    "exchanges": lots.exchanges,
    "exchange-cost": exchange_cost.main,
    "serial-read": serial_reply_read.lines,
    "daemon": daemon_status.main,
    "long-lot": long_lot.main,
    "overlap": overlap.main,
}


def main(argv: list[str]) -> int:
    names = argv or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s) {', '.join(unknown)}; one of {', '.join(BENCHMARKS)}")
        return 2
    print(f"machine: {machine()}", flush=True)
    for name in names:
        print()
        for line in BENCHMARKS[name]():
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
