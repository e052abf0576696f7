"""Driver classes by manual name (``mold-press`` -> :class:`drivers.mold_press.MoldPress`)."""

from __future__ import annotations

import importlib

from drivers.base import Tool

DRIVERS: dict[str, str] = {
    "laminator": "drivers.laminator:Laminator",
    "die-bonder": "drivers.die_bonder:DieBonder",
    "wire-bonder": "drivers.wire_bonder:WireBonder",
    "mold-press": "drivers.mold_press:MoldPress",
    "etch-bath": "drivers.etch_bath:EtchBath",
    "ball-attach": "drivers.ball_attach:BallAttach",
    "dicing-saw": "drivers.dicing_saw:DicingSaw",
    "laser": "drivers.laser:Laser",
    "metrology": "drivers.metrology:Metrology",
}


def driver_class(tool: str) -> type[Tool]:
    """The driver class for a manual name; KeyError names the known tools."""
    try:
        module_name, class_name = DRIVERS[tool].split(":")
    except KeyError:
        raise KeyError(f"no driver for tool {tool!r}; known: {', '.join(DRIVERS)}") from None
    cls = getattr(importlib.import_module(module_name), class_name)
    assert issubclass(cls, Tool)
    return cls
