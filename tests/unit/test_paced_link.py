"""The host-latency model: every message a driver sends costs the host latency on the clock."""

from __future__ import annotations

import pytest

from drivers.mold_press import MoldPress
from packline.paced_link import pace_driver
from sim.clock import SimClock, VirtualClock
from sim.registry import serve_function
from sim.world import World


def test_every_message_to_the_tool_first_costs_the_host_latency_in_tool_time() -> None:
    clock = VirtualClock()
    with (
        serve_function("mold-press")(clock=SimClock(1.0), world=World()) as press_sim,
        MoldPress.open(press_sim.address) as press,
        clock.participant("host"),
    ):
        link = pace_driver(press, clock, 0.05)
        for _ in range(4):
            press.state()  # one input-register read each
        assert link.sent == 4
        assert clock.now() == pytest.approx(0.2)


def test_a_negative_host_latency_is_refused() -> None:
    with pytest.raises(ValueError, match="host latency"):
        pace_driver(MoldPress("modbus+tcp://127.0.0.1:1?unit=1"), VirtualClock(), -0.01)
