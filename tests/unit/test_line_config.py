"""configs/line.yaml validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from sequences.config_errors import ConfigError
from sequences.line_config import load_line_config


def test_default_line_config_has_every_tool_and_two_wire_bonders() -> None:
    config = load_line_config()
    stations = config.expanded()
    assert {s.tool for s in stations} == {
        "laminator",
        "die-bonder",
        "wire-bonder",
        "mold-press",
        "etch-bath",
        "ball-attach",
        "dicing-saw",
        "laser",
        "metrology",
    }
    assert [s.name for s in stations if s.tool == "wire-bonder"] == [
        "wire-bonder-1",
        "wire-bonder-2",
    ]
    assert all(s.address is None for s in stations), "the default line is simulated"


def test_broken_line_config_lists_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "line.yaml"
    path.write_text(
        "stations:\n"
        "  - {name: a, tool: wire-bondr}\n"
        "  - {name: b, tool: laser, count: 2, address: 'TCPIP::1.2.3.4::5025::SOCKET'}\n"
        "  - {name: c, tool: laser, colour: red}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_line_config(path)
    problems = info.value.problems
    assert len(problems) == 3
    assert problems[0].startswith("stations[0].tool:") and "'wire-bondr'" in problems[0]
    assert "single address needs count 1" in problems[1]
    assert problems[2].startswith("stations[2].colour:")


def test_duplicate_station_names_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "line.yaml"
    path.write_text(
        "stations:\n  - {name: wb, tool: wire-bonder, count: 2}\n  - {name: wb-1, tool: laser}\n"
    )
    with pytest.raises(ConfigError, match="duplicate station names: wb-1"):
        load_line_config(path)


def test_missing_and_malformed_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read file"):
        load_line_config(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("stations: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_line_config(broken)


def test_misspelt_key_suggests_the_field_it_resembles(tmp_path: Path) -> None:
    path = tmp_path / "line.yaml"
    path.write_text("lien: x\nstations:\n  - {name: a, tool: laser, on_alarms: wait}\n")
    with pytest.raises(ConfigError) as info:
        load_line_config(path)
    problems = sorted(info.value.problems)
    assert problems[0].startswith("lien: unknown key; did you mean 'line'?")
    assert problems[1].startswith("stations[0].on_alarms: unknown key; did you mean 'on_alarm'?")
    assert "retry_tool_s" in problems[1], "the known keys are listed"


def test_broken_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("line: x\nstations:\n  - {name: a, tool: laser\n  - {name: b}\n")
    with pytest.raises(ConfigError) as info:
        load_line_config(broken)
    message = str(info.value)
    assert message.startswith(f"{broken}:")
    assert "<unicode string>" not in message
    assert "line 4, column" in info.value.problems[0]
