"""``packline sim serve`` as a user runs it: a real process, an endpoints file, a signal."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from drivers.mold_press import MoldPress

PACKLINE = [sys.executable, "-m", "packline.cli"]


def wait_for_file(
    path: Path, process: subprocess.Popen[str], timeout_s: float = 20.0
) -> dict[str, dict[str, str]]:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "endpoints file not written"
        time.sleep(0.05)
    return json.loads(path.read_text())


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_sim_serve_writes_endpoints_and_exits_0_on_signal(tmp_path: Path, stop_signal: int) -> None:
    config = tmp_path / "line.yaml"
    config.write_text(
        "line: test\nstations:\n  - {name: press-a, tool: mold-press}\n  - {name: press-b, tool: mold-press}\n"
    )
    endpoints = tmp_path / "e.json"
    process = subprocess.Popen(
        [
            *PACKLINE,
            "sim",
            "serve",
            "--config",
            str(config),
            "--time-scale",
            "1000",
            "--endpoints",
            str(endpoints),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        served = wait_for_file(endpoints, process)
        assert set(served) == {"press-a", "press-b"}
        assert served["press-a"]["tool"] == "mold-press"
        with MoldPress.open(served["press-b"]["address"]) as press:
            assert press.identify().model == "TM-4"
        process.send_signal(stop_signal)
        out, err = process.communicate(timeout=15)
        assert process.returncode == 0, err
        assert "press-a" in out
    finally:
        if process.poll() is None:
            process.kill()


def test_sim_serve_with_a_broken_config_exits_2_and_lists_problems(tmp_path: Path) -> None:
    config = tmp_path / "line.yaml"
    config.write_text("stations:\n  - {name: x, tool: toaster}\n")
    result = subprocess.run(
        [*PACKLINE, "sim", "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ},
    )
    assert result.returncode == 2
    assert "stations[0].tool" in result.stderr and "'toaster'" in result.stderr


def test_sim_serve_default_config_serves_all_nine_tools_each_reachable(tmp_path: Path) -> None:
    from drivers.registry import driver_class

    endpoints = tmp_path / "e.json"
    process = subprocess.Popen(
        [*PACKLINE, "sim", "serve", "--time-scale", "1000", "--endpoints", str(endpoints)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        served = wait_for_file(endpoints, process)
        assert {e["tool"] for e in served.values()} == {
            "laminator", "die-bonder", "wire-bonder", "mold-press", "etch-bath",
            "ball-attach", "dicing-saw", "laser", "metrology",
        }  # fmt: skip
        assert {"wire-bonder-1", "wire-bonder-2", "etch-bath-cu", "etch-bath-pi"} <= set(served)
        for station, endpoint in served.items():
            with driver_class(endpoint["tool"]).open(endpoint["address"]) as tool:
                assert tool.identify().vendor == "GENERIC", station
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=15)
        assert process.returncode == 0
    finally:
        if process.poll() is None:
            process.kill()
