"""``packline dry-run`` as a user runs it: a lot through the simulated line, with a report.

Runs that are about the process (its output, exit status, a closed pipe, its environment) start
a real ``packline`` process; arguments refused before the run and virtual-clock runs compared by
their reports call ``packline.cli.main`` in this process (a process start is most of their time).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from packline.cli import main

PACKLINE = [sys.executable, "-m", "packline.cli"]


def dry_run_args(report_dir: Path, *args: str) -> list[str]:
    """``packline dry-run`` of lot T with ``args``, its report written under ``report_dir``."""
    return ["dry-run", "--report-dir", str(report_dir), "--lot-id", "T", *args]


def dry_run(tmp_path: Path, *args: str, timeout: float = 150) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PACKLINE, *dry_run_args(tmp_path, *args)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class Result(NamedTuple):
    """What ``packline`` did in this process: its exit status and what it printed."""

    returncode: int
    stdout: str
    stderr: str


def dry_run_here(capsys: pytest.CaptureFixture[str], report_dir: Path, *args: str) -> Result:
    """``packline dry-run`` through ``main`` in this process (argparse's refusals included)."""
    try:
        code = main(dry_run_args(report_dir, *args))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


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
        "Stations (cycle times in tool seconds",
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
    assert_e10_and_clock_agree_with_the_makespan(report, out)
    page = (tmp_path / "T" / "report.html").read_text()
    assert "<img src='data:image/png;base64," in page, "the chart is in the page"
    assert "src='occupancy.png'" not in page
    assert page.count("<table>") >= 5 and "<pre>" not in page
    assert "0 none" not in out


def assert_e10_and_clock_agree_with_the_makespan(report: dict[str, Any], out: str) -> None:
    """E10 categories add up to the makespan, productive never exceeds busy (heat-up is set-up),
    and no progress line is later than the makespan."""
    makespan_s = report["makespan_s"]
    for row in report["stations"]:
        e10 = row["e10_s"]
        assert sum(e10.values()) == pytest.approx(makespan_s, abs=1.0), row["station"]
        productive_s = e10.get("productive")
        if productive_s is None:  # a station that never ran a cycle
            assert row["busy_s"] == 0, row["station"]
        else:
            assert productive_s <= row["busy_s"] + 1.0, row["station"]
    laminator = next(r for r in report["stations"] if r["station"] == "laminator")
    assert laminator["e10_s"]["scheduled down"] > 0, "the laminator's heat-up is set-up"
    clocks = re.findall(r"^\[(\d+):(\d\d):(\d\d)\]", out, flags=re.M)
    last_s = max(int(h) * 3600 + int(m) * 60 + int(sec) for h, m, sec in clocks)
    assert last_s <= makespan_s + 0.5, (last_s, makespan_s)


def test_dry_run_with_a_broken_recipe_lists_the_problems_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = tmp_path / "bad.yaml"
    recipe.write_text("product: heat-slug\nname: bad\n")
    result = dry_run_here(capsys, tmp_path, "--recipe", str(recipe))
    assert result.returncode == 2
    assert "bad.yaml" in result.stderr and "problem" in result.stderr


def test_dry_run_with_a_broken_scenario_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("faults:\n  - tool: wire-bonder\n    alarm: 3001\n    link: stall\n")
    result = dry_run_here(capsys, tmp_path, "--scenario", str(scenario))
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
    nsop = next(a for a in report["alarms"] if a["code"] == 3101)
    assert nsop["strips"] and nsop["held_s"] > 0, nsop
    line = next(line for line in result.stdout.splitlines() if " 3101 (H) " in line)
    assert ",".join(nsop["strips"]) in line and ", held 0:" in line, line
    link_notes = [n for n in report["notes"] if "die-bonder" in n]
    assert link_notes and "artefact of time compression" in link_notes[0]
    assert "Notes" in result.stdout
    assert_e10_and_clock_agree_with_the_makespan(report, result.stdout)


def test_an_unusable_report_dir_is_refused_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    started = time.monotonic()
    result = dry_run_here(capsys, blocker / "reports")
    assert result.returncode == 2
    assert "--report-dir" in result.stderr and "cannot write the report" in result.stderr
    assert "dry run: lot" not in result.stdout, "nothing ran"
    assert time.monotonic() - started < 30


def test_a_report_dir_that_fails_during_the_run_does_not_lose_the_report(tmp_path: Path) -> None:
    """The folder is replaced by a file while the lot runs: the report goes to a temporary
    folder, which the command names on stderr, and the text report is printed all the same."""
    reports = tmp_path / "reports"
    process = subprocess.Popen(
        [
            *PACKLINE,
            *dry_run_args(reports, "--strips", "1"),
        ],  # on the virtual clock: a wall-scaled run may fall behind here
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    deadline = time.monotonic() + 60
    while not (reports / "T").is_dir():
        assert process.poll() is None and time.monotonic() < deadline, "no report folder made"
        time.sleep(0.01)
    (reports / "T").rmdir()
    (reports / "T").write_text("in the way")
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err[-3000:]
    assert "Yield per step" in out
    spare = next(tmp_path.glob("packline-T-*"))
    assert f"wrote it to {spare}" in err
    assert json.loads((spare / "report.json").read_text())["lot"] == "T"


def test_a_dry_run_into_a_reader_that_stops_early_ends_quietly_with_its_report(
    tmp_path: Path,
) -> None:
    """``packline dry-run | head -25``: the lot runs to its end, the report folder is written,
    the command exits 141 without a traceback (the progress lines stop, not the stations)."""
    process = subprocess.Popen(
        [*PACKLINE, *dry_run_args(tmp_path, "--strips", "1", "--time-scale", "5000")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    for _ in range(40):  # the route sheet, then progress lines as they happen
        if "] die-bonder" in process.stdout.readline():
            break
    else:
        raise AssertionError("no progress line for the die bonder")
    process.stdout.close()  # mid-lot
    err = process.stderr.read()
    assert process.wait(timeout=120) == 141
    assert "Traceback" not in err and "BrokenPipeError" not in err, err[-2000:]
    assert json.loads((tmp_path / "T" / "report.json").read_text())["lot"] == "T"


def test_host_latency_flag_sets_the_tool_time_the_host_pays_per_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    makespans = {}
    for latency_ms in ("0", "500"):
        result = dry_run_here(
            capsys, tmp_path / latency_ms, "--strips", "1", "--host-latency-ms", latency_ms
        )
        assert result.returncode == 0, result.stderr[-3000:]
        report = json.loads((tmp_path / latency_ms / "T" / "report.json").read_text())
        assert report["clock"] == f"virtual clock, host latency {latency_ms} ms per exchange"
        makespans[latency_ms] = report["makespan_s"]
    assert makespans["500"] > makespans["0"] + 10, "half a second per message shows in the lot"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--host-latency-ms", "-5"], "--host-latency-ms: must be a finite number >= 0, got -5"),
        (["--host-latency-ms", "fast"], "--host-latency-ms: 'fast' is not a number"),
        (["--host-latency-ms", "20", "--time-scale", "100"], "pays its real latency"),
    ],
)
def test_a_bad_host_latency_is_refused_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], said: str
) -> None:
    result = dry_run_here(capsys, tmp_path, *args)
    assert result.returncode == 2
    assert said in result.stderr
    assert not (tmp_path / "T").exists(), "refused before the run"
