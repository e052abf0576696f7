"""Scenario files are checked like recipes: every problem, with entry, field and allowed values."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.scenario import ScenarioError, load_scenario

LINE = [("press", "mold-press"), ("bonder-1", "wire-bonder"), ("bath", "etch-bath")]


def problems_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, stations=LINE)
    assert str(path) in str(caught.value)
    return caught.value.problems


def test_unknown_alarm_code_is_refused_with_the_tools_alarm_table(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path, "faults:\n  - tool: mold-press\n    alarm: 9999\n")
    assert problem.startswith("fault 1 alarm: 9999 is not in the mold-press alarm table: 4001,")


def test_alarm_of_another_tool_is_refused_for_a_station(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path, "faults:\n  - station: bath\n    alarm: 3101\n")
    assert "alarm: 3101 is not in the etch-bath alarm table: 5001," in problem


def test_unknown_station_tool_and_phase_are_refused_with_the_allowed_values(
    tmp_path: Path,
) -> None:
    problems = problems_of(
        tmp_path,
        "faults:\n"
        "  - station: nowhere\n    alarm: 4001\n"
        "  - tool: toaster\n    link: stall\n"
        "  - tool: mold-press\n    at: {phase: ETCH}\n    alarm: 4001\n"
        "  - tool: laser\n    link: drop\n",
    )
    assert problems == [
        "fault 1 station: 'nowhere' not one of press, bonder-1, bath",
        "fault 2 tool: 'toaster' not one of laminator, die-bonder, wire-bonder, mold-press, "
        "etch-bath, ball-attach, dicing-saw, laser, metrology",
        "fault 3 at.phase: 'ETCH' not a phase of mold-press: LOAD, PREHEAT, CLAMP, TRANSFER, "
        "CURE, OPEN, CLEAN, UNLOAD",
        "fault 4 tool: the line has no laser station",
    ]


def test_every_problem_of_every_entry_is_listed(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path,
        "faults:\n"
        "  - tool: mold-press\n    alarm: 9999\n    at: {phase: NOPE, cycle: 0, when: 1}\n"
        "    colour: red\n"
        "  - 7\n"
        "  - station: press\n    link: jam\n    count: -1\n    duration_s: .nan\n",
    )
    assert len(problems) == 9, problems
    assert [" ".join(p.split()[:2]) for p in problems] == ["fault 1"] * 5 + ["fault 2"] + [
        "fault 3"
    ] * 3
    joined = "\n".join(problems)
    for field in ("colour", "at: unknown trigger field(s) when", "at.cycle", "at.phase", "alarm"):
        assert field in joined
    for field in ("link: 'jam'", "count: -1", "duration_s: nan"):
        assert field in joined


def test_the_shipped_scenario_passes_against_the_shipped_line() -> None:
    from sequences.line_config import load_line_config

    root = Path(__file__).resolve().parents[2]
    config = load_line_config(root / "configs" / "line.yaml")
    stations = [(s.name, s.tool) for s in config.expanded()]
    entries = load_scenario(root / "configs" / "scenarios" / "line-faults.yaml", stations=stations)
    assert [e.get("alarm") for e in entries] == [3101, 4101, None, None]
