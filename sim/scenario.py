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

Checked like a recipe: every problem is listed (entry, field, the allowed values), not only
the first: the tool must be one of the simulators, the station one of the line (when the
stations are known), the alarm code one of that tool's alarm table and the phase one of that
tool's phases. A fault that passes here cannot fail when it fires.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from sim.faults import LINK_FAULTS, FaultInjector
from sim.registry import SIMULATORS, model_class

#: Phases a trigger may name, per tool (the manuals' §3 phase lists; the Modbus tools' are
#: their PHASE register tables).
MANUAL_PHASES: dict[str, tuple[str, ...]] = {
    "die-bonder": ("LOAD", "ALIGN", "BOND", "CURE", "UNLOAD"),
    "wire-bonder": ("LOAD", "ALIGN", "BOND", "UNLOAD"),
    "ball-attach": ("FEED", "DRAIN"),
    "dicing-saw": ("LOAD", "ALIGN", "CH1", "ROTATE", "CH2", "CLEAN", "UNLOAD"),
    "laser": ("LOAD", "ALIGN", "ABLATE", "INSPECT", "UNLOAD"),
    "metrology": ("LOAD", "ALIGN", "MEASURE", "UNLOAD"),
}
KINDS = ("alarm", "condition", "link")
ENTRY_FIELDS = frozenset(
    {"station", "tool", "at", "clear_after_s", "active", "count", "duration_s"}
)


class ScenarioError(ValueError):
    """A scenario that cannot be used; ``problems`` lists every one found."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s)\n{lines}")


#: Modules holding the PHASE register table (``PHASES``) of each Modbus tool.
PHASE_TABLES = {
    "laminator": "sim.laminator.tables",
    "mold-press": "sim.mold_press.model",
    "etch-bath": "sim.etch_bath.model",
}


@functools.cache
def tool_phases(tool: str) -> tuple[str, ...]:
    """The phases of ``tool`` a trigger may name."""
    if tool in MANUAL_PHASES:
        return MANUAL_PHASES[tool]
    phases: tuple[str, ...] = importlib.import_module(PHASE_TABLES[tool]).PHASES
    return tuple(p for p in phases if p != "NONE")


@functools.cache
def tool_alarms(tool: str) -> tuple[int, ...]:
    """The alarm codes of ``tool``'s alarm table."""
    return tuple(sorted(a.code for a in model_class(tool).alarm_defs))


def load_scenario(
    path: str | Path, *, stations: Sequence[tuple[str, str]] | None = None
) -> list[dict[str, Any]]:
    """Read and check a scenario file; return its fault entries.

    ``stations`` (``(name, tool)`` pairs of the line) lets ``station:`` entries be checked.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ScenarioError(str(path), [f"cannot read scenario ({exc})"]) from exc
    if not isinstance(data, dict) or not isinstance(data.get("faults"), list):
        raise ScenarioError(str(path), ["a scenario needs a top-level 'faults:' list"])
    entries: list[Any] = data["faults"]
    problems = check_entries(entries, stations)
    if problems:
        raise ScenarioError(str(path), problems)
    return entries


def check_entries(
    entries: Sequence[Any], stations: Sequence[tuple[str, str]] | None = None
) -> list[str]:
    """Every problem of the scenario entries, one line each (``fault 3 alarm: ...``)."""
    problems: list[str] = []
    for index, entry in enumerate(entries, start=1):
        problems += [f"fault {index} {p}" for p in _entry_problems(entry, stations)]
    return problems


def _entry_problems(entry: Any, stations: Sequence[tuple[str, str]] | None) -> list[str]:
    if not isinstance(entry, dict):
        return ["is not a mapping (station or tool, at, and one of alarm, condition, link)"]
    problems: list[str] = []
    unknown = sorted(str(k) for k in entry if k not in ENTRY_FIELDS and k not in KINDS)
    if unknown:
        allowed = ", ".join(sorted(ENTRY_FIELDS | set(KINDS)))
        problems.append(f"unknown field(s) {', '.join(unknown)}; allowed: {allowed}")
    tools = _selected_tools(entry, stations, problems)
    kinds = [k for k in KINDS if k in entry]
    if len(kinds) != 1:
        problems.append("needs exactly one of 'alarm', 'condition', 'link'")
    problems += _trigger_problems(entry.get("at"), tools)
    if "alarm" in entry:
        problems += _alarm_problems(entry["alarm"], tools)
    if "condition" in entry and not (
        isinstance(entry["condition"], str) and entry["condition"].strip()
    ):
        problems.append(f"condition: {entry['condition']!r} is not a condition name")
    if "link" in entry and entry["link"] not in LINK_FAULTS:
        problems.append(f"link: {entry['link']!r} not one of {', '.join(LINK_FAULTS)}")
    for name in ("clear_after_s", "duration_s"):
        if name in entry and not _is_number(entry[name], minimum=0):
            problems.append(f"{name}: {entry[name]!r} is not a number of seconds >= 0")
    if "count" in entry and not (_is_int(entry["count"]) and entry["count"] >= 1):
        problems.append(f"count: {entry['count']!r} is not a whole number >= 1")
    if "active" in entry and not isinstance(entry["active"], bool):
        problems.append(f"active: {entry['active']!r} is not true or false")
    if not problems:
        try:  # the injector's own reading must agree (it is what runs)
            FaultInjector().load_entries([entry])
        except (ValueError, TypeError) as exc:
            problems.append(str(exc))
    return problems


def _selected_tools(
    entry: dict[str, Any], stations: Sequence[tuple[str, str]] | None, problems: list[str]
) -> list[str]:
    """The tools an entry selects (empty when its selector is wrong: problems says why)."""
    if ("station" in entry) == ("tool" in entry):
        problems.append("needs exactly one of 'station' or 'tool'")
        return []
    if "tool" in entry:
        tool = entry["tool"]
        if not isinstance(tool, str) or tool not in SIMULATORS:
            problems.append(f"tool: {tool!r} not one of {', '.join(SIMULATORS)}")
            return []
        if stations is not None and tool not in {t for _, t in stations}:
            problems.append(f"tool: the line has no {tool} station")
        return [tool]
    station = entry["station"]
    if stations is None:
        return []
    by_name = dict(stations)
    if not isinstance(station, str) or station not in by_name:
        problems.append(f"station: {station!r} not one of {', '.join(by_name)}")
        return []
    return [by_name[station]]


def _trigger_problems(at: Any, tools: list[str]) -> list[str]:
    if at is None:
        return []
    if not isinstance(at, dict):
        return ["at: is not a mapping of cycle, phase, after_s, site"]
    problems = []
    unknown = sorted(str(k) for k in at if k not in ("cycle", "phase", "after_s", "site"))
    if unknown:
        problems.append(
            f"at: unknown trigger field(s) {', '.join(unknown)}; use cycle, phase, after_s, site"
        )
    for name in ("cycle", "site"):
        if at.get(name) is not None and not (_is_int(at[name]) and at[name] >= 1):
            problems.append(f"at.{name}: {at[name]!r} is not a whole number >= 1")
    if "after_s" in at and not _is_number(at["after_s"], minimum=0):
        problems.append(f"at.after_s: {at['after_s']!r} is not a number of seconds >= 0")
    phase = at.get("phase")
    if phase is not None:
        for tool in tools:
            allowed = tool_phases(tool)
            if not isinstance(phase, str) or phase.upper() not in allowed:
                problems.append(f"at.phase: {phase!r} not a phase of {tool}: {', '.join(allowed)}")
    return problems


def _alarm_problems(code: Any, tools: list[str]) -> list[str]:
    if not _is_int(code):
        return [f"alarm: {code!r} is not an alarm code"]
    problems = []
    for tool in tools:
        allowed = tool_alarms(tool)
        if code not in allowed:
            problems.append(
                f"alarm: {code} is not in the {tool} alarm table: {', '.join(map(str, allowed))}"
            )
    return problems


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any, *, minimum: float) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and value == value  # not NaN
        and minimum <= value < float("inf")
    )


def entries_for(entries: Iterable[dict[str, Any]], station: str, tool: str) -> list[dict[str, Any]]:
    """The entries that select a station by name or by tool."""
    return [e for e in entries if e.get("station") == station or e.get("tool") == tool]
