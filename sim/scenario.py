"""Scenario files: faults to inject into a simulated line at chosen moments.

A scenario is YAML::

    faults:
      - station: wire-bonder-1        # or tool: wire-bonder (every station of that tool)
        at: {cycle: 2, phase: BOND, after_s: 5}
        alarm: 3101
      - station: mold-press
        at: {phase: CURE}
        condition: AIR                # an interlock cause switched on ...
        clear_after_s: 60             # ... and gone again 60 sim seconds later
      - tool: etch-bath
        at: {phase: ETCH}
        link: stall                   # stall | drop | garble | truncate | bad_checksum
        duration_s: 2
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file and entry."""


def load_scenario(path: str | Path) -> list[dict[str, Any]]:
    """Read and check a scenario file; return its fault entries."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError(f"{path}: cannot read scenario ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("faults"), list):
        raise ScenarioError(f"{path}: a scenario needs a top-level 'faults:' list")
    entries = data["faults"]
    for index, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise ScenarioError(f"{path}: fault {index} is not a mapping")
        if ("station" in entry) == ("tool" in entry):
            raise ScenarioError(f"{path}: fault {index} needs exactly one of 'station' or 'tool'")
        if sum(key in entry for key in ("alarm", "condition", "link")) != 1:
            raise ScenarioError(
                f"{path}: fault {index} needs exactly one of 'alarm', 'condition', 'link'"
            )
        try:
            from sim.faults import FaultInjector

            FaultInjector().load_entries([entry])
        except (ValueError, TypeError) as exc:
            raise ScenarioError(f"{path}: fault {index}: {exc}") from exc
    return entries


def entries_for(entries: Iterable[dict[str, Any]], station: str, tool: str) -> list[dict[str, Any]]:
    """The entries that select a station by name or by tool."""
    return [e for e in entries if e.get("station") == station or e.get("tool") == tool]
