"""The nine simulated tools by manual name, each a module with a ``serve()`` function:

    serve(*, clock, world, seed=0, port=0, transport=<default>, **options) -> SimulatedTool

Modules are imported on first use, so that serving one tool does not load the others.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Iterator
from typing import Any

from sim.simulated_tool import SimulatedTool
from sim.tool_model import ToolModel

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

#: The process model class of each simulator module (its alarm table, parameters, phases).
MODEL_CLASSES: dict[str, str] = {
    "laminator": "LaminatorModel",
    "die-bonder": "DieBonderModel",
    "wire-bonder": "WireBonderModel",
    "mold-press": "MoldPressModel",
    "etch-bath": "EtchBathModel",
    "ball-attach": "BallAttachModel",
    "dicing-saw": "DicingSawModel",
    "laser": "LaserModel",
    "metrology": "MetrologyModel",
}


def model_class(tool: str) -> type[ToolModel]:
    """The model class of a tool's simulator (imports its module)."""
    serve_function(tool)  # KeyError naming the known tools
    module: Any = importlib.import_module(SIMULATORS[tool])
    cls: type[ToolModel] = getattr(module, MODEL_CLASSES[tool])
    return cls


def serve_function(tool: str) -> Callable[..., SimulatedTool]:
    """The ``serve`` function of a tool's simulator; KeyError names the known tools."""
    try:
        module_name = SIMULATORS[tool]
    except KeyError:
        raise KeyError(f"no simulator for tool {tool!r}; known: {', '.join(SIMULATORS)}") from None
    module: Any = importlib.import_module(module_name)
    serve: Callable[..., SimulatedTool] = module.serve
    return serve


@contextlib.contextmanager
def address_or_simulator(
    tool: str, address: str | None, *, time_scale: float = 2000.0, **options: Any
) -> Iterator[str]:
    """``address`` if one is given; otherwise a simulated ``tool`` on loopback for the duration.

    Engineer scripts use it so that the same script runs against a real tool or on its own.
    """
    if address:
        yield address
        return
    from sim.clock import SimClock
    from sim.world import World

    with serve_function(tool)(clock=SimClock(time_scale), world=World(), **options) as simulated:
        yield simulated.address
