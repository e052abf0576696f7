"""Simulators by protocol family, each started on its default transport, and raw clients.

A family fixture is parametrized over every simulator of that family, so each rule of the
manuals is checked against all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from sim.simulated_tool import SimulatedTool
from tests.support.raw_clients import (
    FramedClient,
    LineClient,
    ModbusRawClient,
    ScpiClient,
    link_for,
    modbus_link,
)

SCPI_TOOLS = ("die-bonder", "ball-attach", "laser", "dicing-saw")
#: (tool, serve options) of every Modbus endpoint kind: TCP tools, the bath on RTU and gateway.
MODBUS_TOOLS = (
    ("laminator", {}),
    ("mold-press", {}),
    ("etch-bath", {"transport": "rtu"}),
    ("etch-bath", {"transport": "tcp"}),
)
MODBUS_IDS = ("laminator", "mold-press", "etch-bath-rtu", "etch-bath-gateway")

StartTool = Callable[..., SimulatedTool]


@pytest.fixture(params=SCPI_TOOLS)
def scpi(request: pytest.FixtureRequest, sim_tool: StartTool) -> Iterator[ScpiClient]:
    """A raw SCPI client on a freshly started SCPI simulator (saw: serial pty, CR LF)."""
    simulated = sim_tool(request.param)
    link = link_for(simulated.address)
    client = ScpiClient(link, tool=simulated)
    yield client
    link.close()


@pytest.fixture(params=MODBUS_TOOLS, ids=MODBUS_IDS)
def modbus(request: pytest.FixtureRequest, sim_tool: StartTool) -> Iterator[ModbusRawClient]:
    """A raw Modbus client (MBAP or RTU bytes) on a freshly started Modbus simulator."""
    tool, options = request.param
    simulated = sim_tool(tool, **options)
    link, rtu = modbus_link(simulated.address)
    client = ModbusRawClient(link, rtu=rtu, tool=simulated)
    yield client
    link.close()


@pytest.fixture
def metrology(sim_tool: StartTool) -> Iterator[LineClient]:
    simulated = sim_tool("metrology")
    link = link_for(simulated.address)
    yield LineClient(link)
    link.close()


@pytest.fixture
def wire_bonder(sim_tool: StartTool) -> Iterator[FramedClient]:
    simulated = sim_tool("wire-bonder")
    link = link_for(simulated.address)
    yield FramedClient(link)
    link.close()
