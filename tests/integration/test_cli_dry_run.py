"""``packline dry-run`` as a user runs it: a lot through the simulated line, with a report."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

PACKLINE = [sys.executable, "-m", "packline.cli"]


def dry_run(tmp_path: Path, *args: str, timeout: float = 150) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PACKLINE, "dry-run", "--report-dir", str(tmp_path), "--lot-id", "T", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_default_dry_run_reports_yield_defects_stations_and_throughput(tmp_path: Path) -> None:
    result = dry_run(tmp_path, "--strips", "4")  # the virtual clock
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "heat-slug-die-equal" in out and "claim A3" in out
    assert re.search(r"\] laminator\s+laminate\s+T-01 T-02 T-03 T-04", out), (
        "progress lines name station, step, strips"
    )
    assert "virtual clock" in out and "wall time" in out
    for section in (
        "Yield per step",
        "Defect Pareto",
        "Alarms",
        "Stations (tool seconds)",
        "Throughput",
    ):
        assert section in out
    report = json.loads((tmp_path / "T" / "report.json").read_text())
    assert report["dispositions"]["complete"] == ["T-01", "T-02", "T-03", "T-04"]
    steps = [row["step"] for row in report["yield"]["per_step"]]
    assert steps[:3] == ["laminate", "die attach", "wire bond"] and steps[-1] == "inspect pkg"
    good = report["yield"]["good_units"]
    assert 0.9 * 120 <= good <= 120, "4 strips × 30 sites, a good recipe yields nearly all"
    for name in ("report.txt", "report.html", "occupancy.png"):
        assert (tmp_path / "T" / name).stat().st_size > 500


def test_dry_run_with_a_broken_recipe_lists_the_problems_and_exits_2(tmp_path: Path) -> None:
    recipe = tmp_path / "bad.yaml"
    recipe.write_text("product: heat-slug\nname: bad\n")
    result = dry_run(tmp_path, "--recipe", str(recipe))
    assert result.returncode == 2
    assert "bad.yaml" in result.stderr and "problem" in result.stderr


def test_dry_run_with_a_broken_scenario_exits_2(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("faults:\n  - tool: wire-bonder\n    alarm: 3001\n    link: stall\n")
    result = dry_run(tmp_path, "--scenario", str(scenario))
    assert result.returncode == 2
    assert "fault 1 needs exactly one of" in result.stderr


def test_dry_run_with_the_shipped_fault_scenario_reports_what_the_line_did(tmp_path: Path) -> None:
    scenario = Path(__file__).resolve().parents[2] / "configs" / "scenarios" / "line-faults.yaml"
    result = dry_run(
        tmp_path, "--strips", "8", "--time-scale", "2000", "--scenario", str(scenario), timeout=240
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "T" / "report.json").read_text())
    handled = {(a["station"], a["code"]): a["handling"] for a in report["alarms"]}
    assert handled.get(("wire-bonder-1", 3101)) == "resumed"
    assert handled.get(("mold-press", 4101)) == "resumed"
    assert handled.get(("etch-bath-cu", 0)) == "resumed", report["alarms"]
    assert handled.get(("die-bonder", 0)) == "resumed", report["alarms"]
    dispositions = report["dispositions"]
    assert sorted(
        dispositions["complete"] + dispositions["scrapped"] + dispositions["on hold"]
    ) == [f"T-{k:02d}" for k in range(1, 9)]
    assert len(dispositions["complete"]) == 8, report["reasons"]
    assert "3101" in result.stdout and "resumed" in result.stdout
