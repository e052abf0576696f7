"""The host-latency model: every message a driver sends costs the host latency on the clock."""

from __future__ import annotations

import threading
import time

import pytest

from drivers.die_bonder import DieBonder
from drivers.mold_press import MoldPress
from packline.paced_link import Tally, WallTally, message_kind, pace_driver
from sim.clock import SimClock, VirtualClock
from sim.registry import serve_function
from sim.world import World
from tests.support.io_timing import takes_s


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


def test_a_tally_counts_each_message_by_tool_and_kind() -> None:
    """What a dry run's exchange count is made of: a Modbus read by its start register."""
    clock = VirtualClock()
    tally: Tally = Tally()
    with (
        serve_function("mold-press")(clock=SimClock(1.0), world=World()) as press_sim,
        MoldPress.open(press_sim.address) as press,
        clock.participant("host"),
    ):
        pace_driver(press, clock, 0.0, tally=tally)
        press.state()
        press.state()
        press.status()
    assert tally == {("mold-press", "read_input_registers 0"): 3}


def test_a_wall_tally_keeps_each_exchange_wall_time_apart_from_the_latency_sleep() -> None:
    """The wall a dry run spends per tool: the exchange itself (the tool taking 0.2 wall s),
    not the host latency, which is tool time on the clock."""
    clock = VirtualClock()
    tool = MoldPress("modbus+tcp://127.0.0.1:1?unit=1")
    tool.link = LateTakingLink(clock)  # type: ignore[attr-defined]
    wall: WallTally = {}
    with clock.participant("host"):
        pace_driver(tool, clock, 30.0, wall=wall)
        started = time.perf_counter()
        tool.link.write("TEMP:SET 175")  # type: ignore[attr-defined]
        clock.sleep(1.0)  # the host's next wait: the tool takes the message first
        took_s = time.perf_counter() - started
    assert list(wall) == [("mold-press", "TEMP:SET")]
    assert 0.2 <= wall["mold-press", "TEMP:SET"] <= took_s
    assert clock.now() == pytest.approx(31.0), "the latency stays tool time"


def test_an_scpi_message_is_counted_by_its_header() -> None:
    assert message_kind("write", ("BOND:TEMP 250",)) == "BOND:TEMP"
    assert message_kind("write", ("SYST:ERR?",)) == "SYST:ERR?"
    assert message_kind("write_registers", (200, [1, 2])) == "write_registers 200"


def test_a_negative_host_latency_is_refused() -> None:
    with pytest.raises(ValueError, match="host latency"):
        pace_driver(MoldPress("modbus+tcp://127.0.0.1:1?unit=1"), VirtualClock(), -0.01)


class LateTakingLink:
    """A link whose tool takes each written message 0.2 wall s later (a busy simulator), and
    notes the tool time it took it at."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.taken_at_s: list[float] = []

    def write(self, message: str) -> None:
        threading.Timer(0.2, self._take).start()

    def _take(self) -> None:
        self.taken_at_s.append(self.clock.now())
        self.clock.on_request()


def test_a_message_without_reply_is_taken_by_the_tool_before_time_moves_on() -> None:
    """Else an SCPI command would land at another tool time whenever the machine is busy."""
    clock = VirtualClock()
    tool = MoldPress("modbus+tcp://127.0.0.1:1?unit=1")
    link = LateTakingLink(clock)
    tool.link = link  # type: ignore[attr-defined]
    with clock.participant("host"):
        pace_driver(tool, clock, 0.02)
        tool.link.write("TEMP:SET 175")  # type: ignore[attr-defined]
        clock.sleep(10.0)
        tool.link.write("TEMP:SET 180")  # type: ignore[attr-defined]
        tool.link.write("TEMP:SET 185")  # type: ignore[attr-defined]
    assert link.taken_at_s == pytest.approx([0.02, 10.04, 10.06]), (
        "a write was taken only after the clock moved on"
    )


def test_a_query_answered_costs_no_wait_for_the_tool_to_take_it() -> None:
    """An SCPI query's reply shows the tool took it: the host's next wait does not wait
    for that again (one thread hand-off less per query), and time moves as before."""
    clock = VirtualClock()
    with (
        serve_function("die-bonder")(clock=clock, world=World()) as bonder_sim,
        DieBonder.open(bonder_sim.address) as bonder,
        clock.participant("host"),
    ):
        pace_driver(bonder, clock, 0.02)
        waits: list[int] = []
        await_served = clock.await_served

        def counted(served_before: int, timeout_wall_s: float) -> bool:
            waits.append(clock.exchanges - served_before)
            return await_served(served_before, timeout_wall_s)

        clock.await_served = counted  # type: ignore[method-assign]
        for _ in range(5):
            bonder.state()
        clock.sleep(1.0)
        assert clock.now() == pytest.approx(1.1)
    assert len(waits) == 5, "every query was checked before time moved"
    assert all(ahead >= 1 for ahead in waits), "a query's wait found it not yet taken"


def test_waiting_for_a_tool_to_take_a_message_is_bounded_in_wall_time() -> None:
    clock = VirtualClock()
    with takes_s(0.1, 1.0):
        assert clock.await_served(clock.exchanges, 0.1) is False  # a stalled link never takes it
