"""A daemon stop that overruns its budget ends the process with the stuck threads' stacks."""

from __future__ import annotations

import subprocess
import sys

from packline.daemon.stop_watchdog import EXIT_STOP_OVERRAN

STUCK_STOP = """
import threading, time
from packline.daemon.stop_watchdog import StopWatchdog
StopWatchdog({budget}).start()
threading.Event().wait({stuck_s})  # a close that never returns
print("stop returned")
"""

CLEAN_STOP = """
from packline.daemon.stop_watchdog import StopWatchdog
watchdog = StopWatchdog(0.5).start()
watchdog.finished()
import time; time.sleep(1.0)
print("stopped cleanly")
"""


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )


def test_a_stop_stuck_past_its_budget_exits_with_the_stacks() -> None:
    done = run(STUCK_STOP.format(budget=0.3, stuck_s=20))
    assert done.returncode == EXIT_STOP_OVERRAN
    assert "stop overran" in done.stderr
    assert "Current thread" in done.stderr or "Thread 0x" in done.stderr
    assert "stop returned" not in done.stdout


def test_a_stop_within_its_budget_is_left_alone() -> None:
    done = run(CLEAN_STOP)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "stopped cleanly"
