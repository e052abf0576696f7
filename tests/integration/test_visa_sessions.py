"""Several SCPI tools in one process share pyvisa's resource manager: closing or reconnecting
one driver must leave the others' sessions alone."""

from __future__ import annotations

from collections.abc import Callable

from drivers.die_bonder import DieBonder
from drivers.laser import Laser
from sim.simulated_tool import SimulatedTool


def test_reconnecting_one_scpi_driver_keeps_the_other_sessions_open(
    sim_tool: Callable[..., SimulatedTool],
) -> None:
    bonder_sim, laser_sim = sim_tool("die-bonder"), sim_tool("laser")
    with (
        DieBonder.open(bonder_sim.address, timeout_s=2.0) as bonder,
        Laser.open(laser_sim.address, timeout_s=2.0) as laser,
    ):
        assert laser.identify().model == "UVL-3"
        bonder.close()  # what a station does to recover a lost link
        bonder.connect()
        assert bonder.identify().model == "DB-4"
        assert laser.identify().model == "UVL-3", (
            "the laser's session survived the bonder's reconnect"
        )
