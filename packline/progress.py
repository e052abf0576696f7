"""Live progress of a lot: a Rich table on a terminal, plain lines otherwise."""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Self

from rich.table import Table

from sequences.lot import LotRunner, LotSnapshot


class PlainProgress:
    """One line per cycle start (station, step, strips) and per strip that ends, for pipes and logs."""

    def __init__(self, write: Callable[[str], None] | None = None) -> None:
        self._write = write or _print_now
        self._seen: dict[str, tuple[str, str, int]] = {}
        self._lock = threading.Lock()
        #: The reader went away (``packline dry-run | head``): the lot runs on, silently.
        self.closed = False

    def write(self, line: str) -> None:
        """Write one line; a closed output stops the lines, never the lot's station threads."""
        if self.closed:
            return
        try:
            self._write(line)
        except BrokenPipeError:
            self.closed = True

    def __call__(self, snapshot: LotSnapshot) -> None:
        with self._lock:
            clock = _tool_clock(snapshot)
            starting: dict[tuple[str, int], list[str]] = {}
            for strip in snapshot.strips:
                key = (strip.status, strip.station, strip.next_step)
                if self._seen.get(strip.strip_id) == key:
                    continue
                self._seen[strip.strip_id] = key
                if strip.status == "processing":
                    starting.setdefault((strip.station, strip.next_step), []).append(strip.strip_id)
                elif strip.terminal:
                    why = f" ({strip.reason})" if strip.reason else ""
                    self.write(f"[{clock}] strip {strip.strip_id} {strip.status}{why}")
            for (station, step), strips in starting.items():
                self.write(
                    f"[{clock}] {station:<14} {snapshot.step_names[step]:<16} {' '.join(strips)}"
                )


class LiveProgress:
    """A live table per station (state, step, strips) and the lot's counts, refreshed 4 times a second."""

    def __init__(self, runner: LotRunner) -> None:
        from rich.console import Console
        from rich.live import Live

        self.runner = runner
        self.live = Live(console=Console(), refresh_per_second=4, transient=False)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._refresh, daemon=True)

    def __enter__(self) -> Self:
        self.live.__enter__()
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.live.update(self._table(self.runner.snapshot()))
        self.live.__exit__(exc_type, exc, tb)

    def _refresh(self) -> None:
        while not self._stop.wait(0.25):
            self.live.update(self._table(self.runner.snapshot()))

    def _table(self, snapshot: LotSnapshot) -> Table:
        table = Table(title=f"lot {snapshot.lot_id}  tool time {_tool_clock(snapshot)}")
        for column in ("station", "state", "step", "strips"):
            table.add_column(column)
        for view in snapshot.stations:
            table.add_row(view.name, view.state, view.step, " ".join(view.strips))
        counts = (
            f"waiting {snapshot.count('waiting')}  processing {snapshot.count('processing')}  "
            f"complete {snapshot.count('complete')}  scrapped {snapshot.count('scrapped')}  "
            f"on hold {snapshot.count('on hold')}"
        )
        table.caption = counts
        return table


def live_display(runner: LotRunner) -> contextlib.AbstractContextManager[object]:
    """A live table on a terminal; nothing when output is piped (use :class:`PlainProgress`)."""
    return LiveProgress(runner) if sys.stdout.isatty() else contextlib.nullcontext()


def plain_progress() -> PlainProgress | None:
    """Plain progress lines when output is piped; None on a terminal (the live table shows it)."""
    return None if sys.stdout.isatty() else PlainProgress()


def _print_now(line: str) -> None:
    """Print a progress line at once, also into a pipe (``| tee log``), not a buffer later."""
    print(line, flush=True)


def _tool_clock(snapshot: LotSnapshot) -> str:
    """Tool time since the lot started, on the line's clock, as H:MM:SS."""
    whole = round(max(0.0, snapshot.tool_elapsed_s))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
