"""Daemon status freshness with many stations: NOT MEASURED YET.

This needs the daemon's status path for a line of many stations (the lead's later work on the
daemon). Until then the benchmark says so instead of printing a figure it did not measure."""

from __future__ import annotations

from collections.abc import Iterable


def main() -> Iterable[str]:
    return [
        "daemon status freshness with many stations: not measured (stub) - needs the daemon's "
        "many-station status work; see docs/performance.md"
    ]
