"""The nine simulated tools by manual name, each a module with a ``serve()`` function:

    serve(*, clock, world, seed=0, port=0, transport=<default>, **options) -> SimulatedTool

Modules are imported on first use, so that serving one tool does not load the others.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from sim.simulated_tool import SimulatedTool

SIMULATORS: dict[str, str] = {
    "laminator": "sim.laminator",
    "die-bonder": "sim.die_bonder",
    "wire-bonder": "sim.wire_bonder",
    "mold-press": "sim.mold_press",
    "etch-bath": "sim.etch_bath",
    "ball-attach": "sim.ball_attach",
    "dicing-saw": "sim.dicing_saw",
    "laser": "sim.laser",
    "metrology": "sim.metrology",
}


def serve_function(tool: str) -> Callable[..., SimulatedTool]:
    """The ``serve`` function of a tool's simulator; KeyError names the known tools."""
    try:
        module_name = SIMULATORS[tool]
    except KeyError:
        raise KeyError(f"no simulator for tool {tool!r}; known: {', '.join(SIMULATORS)}") from None
    module: Any = importlib.import_module(module_name)
    serve: Callable[..., SimulatedTool] = module.serve
    return serve
