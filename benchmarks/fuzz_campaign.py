"""The long fuzzing campaign of issue 9: generated requests against every protocol.

    .venv/bin/python -m benchmarks.fuzz_campaign [--cases 10000] [--seed 0] [protocol ...]

Prints, per protocol, the cases run, the failures and the time taken, then the first
failures in full; exits 1 if any case failed. The test suite runs the same campaigns short
(tests/fuzz/test_protocol_fuzz.py).
"""

from __future__ import annotations

import argparse
import sys
import time

from tests.fuzz.protocols import CAMPAIGNS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("protocols", nargs="*", help=f"some of {', '.join(CAMPAIGNS)} (all)")
    parser.add_argument("--cases", type=int, default=10_000, help="cases per protocol")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    unknown = sorted(set(args.protocols) - set(CAMPAIGNS))
    if unknown:
        parser.error(f"unknown protocol(s) {', '.join(unknown)}; known: {', '.join(CAMPAIGNS)}")
    failed = False
    print(f"{'protocol':<12} {'cases':>7} {'failures':>8} {'time s':>7}")
    for name in args.protocols or list(CAMPAIGNS):
        started = time.monotonic()
        result = CAMPAIGNS[name](args.cases, args.seed)
        elapsed = time.monotonic() - started
        print(f"{name:<12} {result.cases:>7} {len(result.failures):>8} {elapsed:>7.1f}", flush=True)
        for failure in result.failures[:5]:
            print(f"    {failure[:300]}")
        failed = failed or bool(result.failures)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
