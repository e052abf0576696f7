"""The long fuzzing campaign of issue 9: generated requests against every protocol.

    .venv/bin/python -m benchmarks.fuzz_campaign [--cases 10000] [--seed 0]
        [--reply-timeout-s 10] [protocol ...]

Prints, per protocol, the cases run, the failures, the cases answered only when replayed on a
fresh connection, the time taken and the load average, then the tool's identity and state
after the campaign and the first failures and replays in full; exits 1 if any case failed.
The campaign judges correctness, not latency: a reply may take up to ``--reply-timeout-s``,
and a request left unanswered is replayed once before it counts as a failure. The test suite
runs the same campaigns short (tests/fuzz/test_protocol_fuzz.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from tests.fuzz.protocols import CAMPAIGNS, REPLY_TIMEOUT_S

SHOWN = 5  # failures and replays printed in full per protocol


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("protocols", nargs="*", help=f"some of {', '.join(CAMPAIGNS)} (all)")
    parser.add_argument("--cases", type=int, default=10_000, help="cases per protocol")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--reply-timeout-s",
        type=float,
        default=REPLY_TIMEOUT_S,
        help=f"longest wait for one reply, in seconds ({REPLY_TIMEOUT_S:g})",
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.protocols) - set(CAMPAIGNS))
    if unknown:
        parser.error(f"unknown protocol(s) {', '.join(unknown)}; known: {', '.join(CAMPAIGNS)}")
    if args.cases < 1 or args.reply_timeout_s <= 0:
        parser.error("--cases and --reply-timeout-s must be positive")
    failed = False
    print(f"seed {args.seed}, reply timeout {args.reply_timeout_s:g} s")
    print(
        f"{'protocol':<12} {'cases':>7} {'failures':>8} {'replayed':>8} {'time s':>7}  load 1/5/15"
    )
    for name in args.protocols or list(CAMPAIGNS):
        started = time.monotonic()
        result = CAMPAIGNS[name](args.cases, args.seed, args.reply_timeout_s)
        elapsed = time.monotonic() - started
        load = "/".join(f"{value:.1f}" for value in os.getloadavg())
        print(
            f"{name:<12} {result.cases:>7} {len(result.failures):>8} {len(result.replayed):>8}"
            f" {elapsed:>7.1f}  {load}",
            flush=True,
        )
        print(f"    after: {result.final or 'no identity'}")
        for failure in result.failures[:SHOWN]:
            print(f"    FAILED {_shortened(failure)}")
        for replay in result.replayed[:SHOWN]:
            print(f"    replayed {_shortened(replay)}")
        failed = failed or bool(result.failures)
    return 1 if failed else 0


def _shortened(text: str, limit: int = 400) -> str:
    """Long generated requests cut in the middle: the outcome is at the end of the text."""
    return text if len(text) <= limit else f"{text[:120]} ... {text[-(limit - 120) :]}"


if __name__ == "__main__":
    sys.exit(main())
