"""How many step results per second the store commits, on SQLite and on PostgreSQL.

Each record is one ``step_done`` (one transaction: the step result and its 30 units), the write
the daemon makes before a tool is acknowledged. ``--lines N`` runs N writers at once, each a
line with its own Store (connection), as N line daemons sharing one database would.

    .venv/bin/python -m benchmarks.store_writes --db /tmp/bench.db
    .venv/bin/python -m benchmarks.store_writes --db postgresql://postgres@127.0.0.1:5432/bench
    .venv/bin/python -m benchmarks.store_writes --start-postgres --lines 4

``--start-postgres`` starts a throw-away durable (fsync on) server like the tests' one.
"""

from __future__ import annotations

import argparse
import threading
import time

from packline.store import Store
from sequences.jobs import SiteOutcome, StripOutcome
from sequences.records import StepRecord

SITES = 30


def record(lot_id: str, strip_id: str, step_index: int) -> StepRecord:
    sites = tuple(SiteOutcome(n, "P", 0, {"height_um": 100.0 + n}) for n in range(1, SITES + 1))
    outcome = StripOutcome(strip_id, "wire bond", "wb-1", "P" * SITES, sites, {}, {})
    return StepRecord(lot_id, strip_id, step_index, "wire bond", "wb-1", "wb", 0.0, 1.0, outcome)


def writer(location: str, line: str, strips: int, steps: int, times: list[float]) -> None:
    with Store(location, line=line) as store:
        lot_id = f"{line}-LOT"
        strip_ids = [f"{line}-{n:04d}" for n in range(strips)]
        store.create_lot(
            lot_id,
            recipe_name="bench",
            recipe_source="bench",
            recipe_text="",
            rows=5,
            cols=6,
            steps=[f"s{i}" for i in range(steps)],
            strip_ids=strip_ids,
        )
        start = time.perf_counter()
        for step_index in range(steps):
            for strip_id in strip_ids:
                store.step_done(record(lot_id, strip_id, step_index))
        times.append(time.perf_counter() - start)


def run(location: str, lines: int, strips: int, steps: int) -> float:
    times: list[float] = []
    threads = [
        threading.Thread(target=writer, args=(location, f"L{n}", strips, steps, times))
        for n in range(lines)
    ]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    total = lines * strips * steps
    print(
        f"{location.split('@')[-1]}: {lines} line(s) x {strips * steps} step results "
        f"({SITES} units each): {total / elapsed:.0f} results/s, "
        f"{elapsed / total * 1000:.2f} ms per result overall"
    )
    return total / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="SQLite file or postgresql:// URL")
    parser.add_argument("--start-postgres", action="store_true")
    parser.add_argument("--lines", type=int, default=1)
    parser.add_argument("--strips", type=int, default=50)
    parser.add_argument("--steps", type=int, default=4)
    args = parser.parse_args()
    if args.start_postgres:
        from tests.support.postgres import PostgresServer

        server = PostgresServer(durable=True).start()
        try:
            run(server.new_database(), args.lines, args.strips, args.steps)
        finally:
            server.stop()
    else:
        run(args.db, args.lines, args.strips, args.steps)


if __name__ == "__main__":
    main()
