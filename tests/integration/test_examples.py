"""Every engineer example runs against its own simulator with the one command in its docstring."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.py"))


def test_there_is_an_example_per_tool() -> None:
    assert {p.stem for p in EXAMPLES} >= {
        "laminator", "die_bonder", "wire_bonder", "mold_press", "etch_bath",
        "ball_attach", "dicing_saw", "laser", "metrology",
    }  # fmt: skip


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_a_cycle_and_prints_its_result_map(example: Path) -> None:
    docstring = example.read_text().split('"""')[1]
    assert f".venv/bin/python examples/{example.name}" in docstring, (
        "the docstring gives the command"
    )
    assert not re.search(r"(?<!/bin/)python examples/", docstring), (
        "a bare 'python' is not the project's virtualenv: ModuleNotFoundError"
    )
    result = subprocess.run(
        [sys.executable, str(example)], capture_output=True, text=True, timeout=55
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert re.search(r"\b[PFXN]{4,}\b", result.stdout), "a result map (P F X N per site) is printed"
