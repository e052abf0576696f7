"""Daemon status freshness with many stations: one ``packline serve`` process keeping the
status of 200 simulated stations fresh (issue 8: at most 2 s old).

A line config of 200 stations (20 of each tool kind) is served by ``packline sim serve`` in its
own process at time scale 1 (the manuals' poll rates are real seconds), and a real daemon
process polls them. While every station is idle, ``GET /stations`` is sampled every 0.5 s for
30 s: each sample gives every station's ``answer_age_s`` (seconds since its tool last
answered). Prints the worst and the 99th percentile age, and the daemon's CPU share.
Several minutes of wall time: run on purpose (``make bench BENCH=daemon``)."""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import httpx
import yaml

from drivers.registry import driver_class
from sim.registry import SIMULATORS
from tests.support.daemon_process import free_port

STATIONS = 200
SAMPLE_S = 30.0
EVERY_S = 0.5
START_TIMEOUT_S = 300.0
PACKLINE = [sys.executable, "-m", "packline.cli"]


def line_config(path: Path) -> int:
    """Write a line of STATIONS stations, the simulated tools in turn; their count."""
    tools = list(SIMULATORS)
    per_tool = {
        tool: STATIONS // len(tools) + (k < STATIONS % len(tools)) for k, tool in enumerate(tools)
    }
    entries = []
    for tool, count in per_tool.items():
        group = 0
        while count > 0:  # a config entry holds at most 16 stations
            group += 1
            entries.append({"name": f"{tool}-g{group}", "tool": tool, "count": min(count, 10)})
            count -= min(count, 10)
    path.write_text(yaml.safe_dump({"line": "bench-200", "stations": entries}))
    return STATIONS


def _wait(what: str, ready: object, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not callable(ready) or not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(tmp: Path) -> list[str]:
    config = tmp / "line.yaml"
    count = line_config(config)
    endpoints = tmp / "endpoints.json"
    sim_log, daemon_log = tmp / "sim.log", tmp / "daemon.log"
    sim = subprocess.Popen(
        [*PACKLINE, "sim", "serve", "--config", str(config), "--endpoints", str(endpoints)],
        stdout=sim_log.open("w"),
        stderr=subprocess.STDOUT,
    )
    daemon: subprocess.Popen[bytes] | None = None
    try:
        _wait("packline sim serve", endpoints.exists, sim, sim_log)
        port = free_port()
        started = time.monotonic()
        serve = ["serve", "--config", str(config), "--endpoints", str(endpoints)]
        serve += ["--db", str(tmp / "bench.db"), "--port", str(port), "--time-scale", "1"]
        daemon = subprocess.Popen(
            [*PACKLINE, *serve],
            stdout=daemon_log.open("w"),
            stderr=subprocess.STDOUT,
            env={**os.environ, "PACKLINE_TOKEN": "bench-token"},
        )
        http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30, trust_env=False)

        def answering() -> bool:
            try:
                views = http.get("/stations").json()
            except (httpx.HTTPError, ValueError):
                return False
            return len(views) == count and all(v.get("answered_at") for v in views)

        _wait("packline serve", answering, daemon, daemon_log)
        start_s = time.monotonic() - started
        ages: list[float] = []
        worst_per_sample: list[float] = []
        worst_by_tool: dict[str, float] = {}
        cpu0, t0 = _cpu_s(daemon.pid), time.monotonic()
        while time.monotonic() - t0 < SAMPLE_S:
            views = http.get("/stations").json()
            sample = [float(v["answer_age_s"]) for v in views]
            for view in views:
                tool, age = view["tool"], float(view["answer_age_s"])
                worst_by_tool[tool] = max(worst_by_tool.get(tool, 0.0), age)
            ages += sample
            worst_per_sample.append(max(sample))
            time.sleep(EVERY_S)
        cpu_share = (_cpu_s(daemon.pid) - cpu0) / (time.monotonic() - t0)
        errors = {v["name"]: v["poll_error"] for v in views if v.get("poll_error")}
        http.close()
    finally:
        for process in (daemon, sim):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
    ages.sort()
    p99 = ages[int(0.99 * (len(ages) - 1))]
    return [
        f"daemon status freshness: {count} simulated stations, all idle, time scale 1, "
        f"{len(worst_per_sample)} samples of GET /stations over {SAMPLE_S:.0f} s",
        f"  status age (s since the tool's last answer): median {statistics.median(ages):.2f}, "
        f"p99 {p99:.2f}, worst {max(ages):.2f} (target <= 2.00)",
        f"  daemon CPU {100 * cpu_share:.0f} % of one core while polling; "
        f"start to every station answered {start_s:.1f} s",
        "  worst age by tool (s; manual poll interval in brackets): "
        + ", ".join(
            f"{tool} {age:.2f} [{driver_class(tool).poll_interval_s:g}]"
            for tool, age in sorted(worst_by_tool.items())
        ),
        "  " + json.dumps({"worst_per_sample_s": [round(w, 2) for w in worst_per_sample[:10]]}),
        f"  stations whose last poll failed: {len(errors)}"
        + "".join(f"\n    {name}: {error[:160]}" for name, error in list(errors.items())[:5]),
    ]


def main() -> Iterable[str]:
    with tempfile.TemporaryDirectory() as tmp:
        return measure(Path(tmp))
