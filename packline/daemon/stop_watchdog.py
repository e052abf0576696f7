"""A bound on the daemon's graceful stop.

Every part of a stop has its own bound (web server, GEM front, controller threads, driver
closes), but their sum is long and a tool library may still block in a close. A plant's service
manager wants the process gone within a known time, so once the stop starts a watchdog gives it
``budget_s``; past that it writes every thread's stack to stderr (what was stuck) and ends the
process. Nothing recorded is lost: results are committed before their tool is acknowledged, and
the next start reconciles running cycles exactly as after a crash.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import sys
import threading

log = logging.getLogger("packline.daemon")

#: Exit status of a stop that overran its budget (0 is a clean stop).
EXIT_STOP_OVERRAN = 3


class StopWatchdog:
    """Ends the process if a graceful stop takes longer than ``budget_s`` wall seconds."""

    def __init__(self, budget_s: float) -> None:
        self.budget_s = budget_s
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="stop-watchdog", daemon=True)

    def start(self) -> StopWatchdog:
        self._thread.start()
        return self

    def finished(self) -> None:
        self._done.set()

    def _watch(self) -> None:
        if self._done.wait(self.budget_s):
            return
        log.error("graceful stop overran %.0f s: exiting; the next start reconciles", self.budget_s)
        print(
            f"packline serve: stop overran {self.budget_s:.0f} s; stacks follow; exiting "
            f"(status {EXIT_STOP_OVERRAN})",
            file=sys.stderr,
            flush=True,
        )
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        os._exit(EXIT_STOP_OVERRAN)
