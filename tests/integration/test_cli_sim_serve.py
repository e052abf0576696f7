"""``packline sim serve`` as a user runs it: a real process, an endpoints file, a signal."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from drivers.mold_press import MoldPress
from sim.simulated_tool import SimulatedTool

PACKLINE = [sys.executable, "-m", "packline.cli"]


@contextmanager
def sim_serve(*args: str) -> Iterator[subprocess.Popen[str]]:
    """``packline sim serve`` with ``args``, its output piped; killed at the end if still up."""
    process = subprocess.Popen(
        [*PACKLINE, "sim", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


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
    options = ["--time-scale", "1000", "--endpoints", str(endpoints)]
    # Whether a loaded machine keeps the scale is tested below.
    with sim_serve("--config", str(config), *options, "--max-lag-pct", "100") as process:
        served = wait_for_file(endpoints, process)
        assert set(served) == {"press-a", "press-b"}
        assert served["press-a"]["tool"] == "mold-press"
        with MoldPress.open(served["press-b"]["address"]) as press:
            assert press.identify().model == "TM-4"
        process.send_signal(stop_signal)
        out, err = process.communicate(timeout=15)
        assert process.returncode == 0, err
        assert "press-a" in out


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
    with sim_serve("--time-scale", "1000", "--endpoints", str(endpoints)) as process:
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


def serve_until_stopped(
    tmp_path: Path, max_lag_pct: float, after_s: float, time_scale: float = 1000.0
) -> int:
    """``serve_line`` of a one-die-bonder line in this process, stopped by SIGTERM."""
    import threading

    from packline.sim_serve import serve_line

    config = tmp_path / "line.yaml"
    config.write_text("line: t\nstations:\n  - {name: bonder, tool: die-bonder}\n")
    endpoints = tmp_path / "e.json"

    def stop_when_served() -> None:
        deadline = time.monotonic() + 20
        while not endpoints.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(after_s)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=stop_when_served, daemon=True).start()
    return serve_line(
        config,
        time_scale=time_scale,
        endpoints_path=endpoints,
        seed=1,
        scenario_path=None,
        max_lag_pct=max_lag_pct,
    )


def test_sim_serve_that_could_not_keep_its_scale_says_so_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The die bonder's INIT ends 30 tool s (0.3 s wall at scale 100) after start: its ticker
    # wakes for it a little late on any real machine, which no grace and a limit of 0 % make
    # a line that fell behind.
    monkeypatch.setattr(SimulatedTool, "late_grace_wall_s", 0.0)
    code = serve_until_stopped(tmp_path, max_lag_pct=0.0, after_s=0.6, time_scale=100.0)
    err = capsys.readouterr().err
    assert code == 1, err
    assert "FELL BEHIND its time scale" in err and "most-delayed station bonder" in err
    assert "could not keep its time scale" in err


def test_sim_serve_that_kept_its_scale_says_how_late_it_was_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = serve_until_stopped(tmp_path, max_lag_pct=100.0, after_s=0.3)
    err = capsys.readouterr().err
    assert code == 0, err
    assert re.search(r"kept its time scale: \d+ tool s served, most-delayed station bonder", err)
