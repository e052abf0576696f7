"""The driver snippets of the README and of docs/tools/*.md run as written against a simulator
(only the address in ``open(...)`` is replaced by the simulator's)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from drivers.registry import DRIVERS
from sim.clock import SimClock

ROOT = Path(__file__).resolve().parents[2]
OPEN_CALL = re.compile(r'(?P<cls>\w+)\.open\("(?P<address>[^"]+)"\)')
#: The tool of each driver class, as the registry names them.
TOOL_OF_CLASS = {spec.split(":")[1]: tool for tool, spec in DRIVERS.items()}


def driver_snippets() -> list[tuple[str, str]]:
    """(where, code) for every ```python block that opens a driver with a literal address."""
    found = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs" / "tools").glob("*.md"))]:
        blocks = re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)
        for number, code in enumerate(blocks, 1):
            if OPEN_CALL.search(code) and "import" in code:
                found.append((f"{page.relative_to(ROOT)}#{number}", code))
    return found


SNIPPETS = driver_snippets()


def test_the_readme_and_every_tool_page_have_a_driver_snippet() -> None:
    pages = {where.split("#")[0] for where, _ in SNIPPETS}
    assert "README.md" in pages
    assert pages - {"README.md"} == {f"docs/tools/{tool}.md" for tool in TOOL_OF_CLASS.values()}


@pytest.mark.sim_time_scale(1)
@pytest.mark.parametrize(("where", "code"), SNIPPETS, ids=[w for w, _ in SNIPPETS])
def test_driver_snippet_runs_as_written_against_a_simulator(
    where: str, code: str, sim_tool: Callable[..., Any], sim_clock: SimClock
) -> None:
    """The tool is just powered up, in INIT (its self-test takes 10-30 s), as a user's freshly
    started simulator is; half a second later time runs 2000 times faster to get through the
    heat-up and the cycle."""
    match = OPEN_CALL.search(code)
    assert match is not None
    simulated = sim_tool(TOOL_OF_CLASS[match["cls"]])
    runnable = code.replace(f'"{match["address"]}"', repr(simulated.address), 1)
    speed_up = threading.Timer(0.5, sim_clock.set_scale, [2000.0])
    speed_up.start()
    try:
        exec(compile(runnable, where, "exec"), {"__name__": "snippet"})  # our own docs
    finally:
        speed_up.cancel()
