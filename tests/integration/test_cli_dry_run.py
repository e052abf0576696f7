"""``packline dry-run`` as a user runs it (the foundation's three-tool strip)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

PACKLINE = [sys.executable, "-m", "packline.cli"]


def test_dry_run_prints_each_steps_result_map_and_summary() -> None:
    result = subprocess.run(
        [*PACKLINE, "dry-run", "--time-scale", "2000", "--strip-id", "T-001"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for step in ("[die attach]", "[wire bond ]", "[mold      ]"):
        assert step in out
    assert out.count("result map  ") == 3
    assert "EPOXY" in out and "wires" in out and "alpha at open" in out
    good = re.search(
        r"strip T-001: (\d+) of 30 sites attached, bonded and molded without a defect", out
    )
    assert good is not None and int(good.group(1)) >= 27, (
        "a default recipe yields (almost) every site"
    )


def test_dry_run_with_an_abort_alarm_scenario_stops_and_says_why(tmp_path: Path) -> None:
    scenario = tmp_path / "estop.yaml"
    scenario.write_text(
        "faults:\n  - tool: wire-bonder\n    at: {phase: BOND, after_s: 20}\n    alarm: 3001\n"
    )
    result = subprocess.run(
        [*PACKLINE, "dry-run", "--time-scale", "2000", "--scenario", str(scenario)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "alarm 3001 (A) Emergency stop" in result.stderr
    assert "[die attach]" in result.stdout and "[wire bond ]" not in result.stdout


def test_dry_run_with_a_broken_scenario_exits_2(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("faults:\n  - tool: wire-bonder\n    alarm: 3001\n    link: stall\n")
    result = subprocess.run(
        [*PACKLINE, "dry-run", "--scenario", str(scenario)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "fault 1 needs exactly one of" in result.stderr
