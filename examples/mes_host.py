"""A small MES host: submits a lot to a packline daemon over SECS/GEM and prints its events.

    .venv/bin/python examples/mes_host.py                 # starts its own simulated daemon
    .venv/bin/python examples/mes_host.py --port 5000     # against a running daemon:
    packline serve --simulate --hsms-port 5000 --time-scale 100

It connects (HSMS active), goes online (S1F17), defines one report per collection event with
every data variable the equipment lists for it (S1F23, S2F33/35/37), enables the alarms
(S5F3), starts a lot with the remote command START_LOT (S2F41) and prints every event report
(S6F11) and alarm (S5F1) until the lot is completed or aborted.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from packline.gem.host import GemHost, Received

SHOWN = ("LotQueued", "LotStarted", "StripStepCompleted", "StripOnHold", "LotCompleted", "LotAborted", "AlarmSet")  # fmt: skip


@contextlib.contextmanager
def simulated_daemon() -> Iterator[int]:
    """``packline serve --simulate`` with GEM on a free port; yields the port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "daemon.log"
        command = [sys.executable, "-m", "packline.cli", "serve", "--simulate", "--port", "0",
                   "--db", f"{folder}/line.db", "--hsms-port", str(port), "--time-scale", "2000"]  # fmt: skip
        daemon = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while "HSMS-SS passive" not in log.read_text():
                if daemon.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the daemon did not start:\n{log.read_text()}")
                time.sleep(0.1)
            yield port
        finally:
            daemon.terminate()
            daemon.wait(timeout=30)


def show(event: Received) -> str:
    values = event.values
    if event.name == "StripStepCompleted":
        return (
            f"{values['StripID']:>8} {values['StepName']:<14} {values['SiteResultMap']}"
            f"  ({values['UnitsPassed']} passed, {values['UnitsFailed']} failed)"
        )
    detail = ", ".join(f"{k}={v}" for k, v in values.items() if k != "EventTime")
    return f"{event.name}: {detail}"


def run(port: int, recipe: str, strips: int, lot_id: str, timeout_s: float) -> int:
    host = GemHost(port)
    host.connect(15)
    try:
        print(f"online: ONLACK {host.online()}")
        host.subscribe()
        for alarm in host.send(5, 5, []).get():
            host.send(5, 3, {"ALED": 128, "ALID": alarm["ALID"]})
        hcack, cpacks = host.command(
            "START_LOT", [("RECIPE", recipe), ("STRIP_COUNT", strips), ("LOT_ID", lot_id)]
        )
        print(f"START_LOT {lot_id}: HCACK {hcack} {cpacks or ''}")
        if hcack != 0:
            host.wait_for(lambda h: bool(h.terminal), 2)
            print("\n".join(host.terminal))
            return 1
        shown = 0
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            host.wait_for(lambda h, seen=shown: len(h.events) > seen, 1.0)
            for event in host.events[shown:]:
                if event.name in SHOWN and event.values.get("LotID", lot_id) == lot_id:
                    print(show(event))
                shown += 1
                if event.name in ("LotCompleted", "LotAborted") and event.values["LotID"] == lot_id:
                    for alid, alcd, text in host.alarms:
                        print(f"alarm {alid} {'set' if alcd & 128 else 'cleared'}: {text}")
                    return 0
        print(f"lot {lot_id} did not finish within {timeout_s:.0f} s")
        return 1
    finally:
        host.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, help="HSMS port of a running daemon")
    parser.add_argument("--recipe", default="heat-slug-die-equal", help="recipe (PPID)")
    parser.add_argument("--strips", type=int, default=2, help="strips in the lot")
    parser.add_argument("--lot-id", default=time.strftime("MES%H%M%S"), help="lot id")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the lot")
    args = parser.parse_args()
    if args.port is not None:
        return run(args.port, args.recipe, args.strips, args.lot_id, args.timeout)
    with simulated_daemon() as port:
        return run(port, args.recipe, args.strips, args.lot_id, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
