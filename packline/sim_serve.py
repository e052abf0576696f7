"""``packline sim serve``: the simulated line of a line config on loopback, until SIGINT/SIGTERM.

At the end it says whether the line kept its time scale: each tool's ticker sums how late it
woke for the tool's own events, in tool seconds; past :data:`MAX_LAG_PCT` of the time served
(the dry run's rule) the line fell behind, says so and exits 1."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from packline.simulated_lot import MAX_LAG_PCT
from sequences.line_config import load_line_config
from sim.line import SimulatedLine, StationSim
from sim.scenario import load_scenario


def serve_line(
    config_path: Path | None,
    *,
    time_scale: float,
    endpoints_path: Path | None,
    seed: int,
    scenario_path: Path | None,
    max_lag_pct: float = MAX_LAG_PCT,
) -> int:
    """Start every station of the config, write the endpoints file, wait for a signal."""
    config = load_line_config(config_path)
    stations = [StationSim(s.name, s.tool, s.sim) for s in config.expanded()]
    scenario = (
        load_scenario(scenario_path, stations=[(s.name, s.tool) for s in stations])
        if scenario_path
        else None
    )
    stop = threading.Event()
    failure: str | None = None
    kept, pace = True, ""
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        with SimulatedLine(stations, time_scale=time_scale, seed=seed).start() as line:
            if scenario is not None:
                line.load_scenario(scenario)
            if endpoints_path is not None:
                line.write_endpoints(endpoints_path)
            width = max(len(s.name) for s in stations)
            print(f"simulated line {config.line!r} at time scale {time_scale:g}:")
            for name, endpoint in line.endpoints().items():
                print(f"  {name:<{width}}  {endpoint['tool']:<12}  {endpoint['address']}")
            if endpoints_path is not None:
                print(f"endpoints written to {endpoints_path}")
            print("serving until SIGINT or SIGTERM", flush=True)
            failure = watch_endpoints(line, stop)
            kept, pace = pace_verdict(
                line.lag_s(), line.clock.now() - line.serving_since_s, max_lag_pct
            )
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if failure is not None:
        print(f"simulated line stopped: {failure}", file=sys.stderr)
        return 1
    print(f"simulated line stopped; {pace}", file=sys.stderr)
    if not kept:
        print(
            "packline: the simulated line could not keep its time scale on this machine: its "
            "tools' events came late (a lower --time-scale, or a less loaded machine)",
            file=sys.stderr,
        )
        return 1
    return 0


def pace_verdict(
    lag_s: dict[str, float], served_s: float, max_lag_pct: float = MAX_LAG_PCT
) -> tuple[bool, str]:
    """Whether the most-delayed tool kept the scale, and a line that says how far it fell
    behind."""
    if not lag_s or served_s <= 0:
        return True, "no time served"
    station, worst_s = max(lag_s.items(), key=lambda item: item[1])
    pct = 100.0 * worst_s / served_s
    kept = pct <= max_lag_pct
    verdict = "kept its time scale" if kept else "FELL BEHIND its time scale"
    return kept, (
        f"{verdict}: {served_s:.0f} tool s served, most-delayed station {station} "
        f"{worst_s:.1f} tool s late ({pct:.2f} %, limit {max_lag_pct:g} %)"
    )


def dead_endpoint(line: SimulatedLine) -> str | None:
    """The reason of the first station whose endpoint can no longer serve, or None."""
    for station, tool in line.tools.items():
        failure = getattr(tool.server, "failure", None)
        if failure:
            return f"station {station}: {failure}"
    return None


def watch_endpoints(line: SimulatedLine, stop: threading.Event, poll_s: float = 0.5) -> str | None:
    """Wait for ``stop``; return early with the reason if an endpoint dies (never a zombie)."""
    while not stop.wait(poll_s):
        failure = dead_endpoint(line)
        if failure is not None:
            return failure
    return None
