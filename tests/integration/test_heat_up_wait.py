"""The host sleeps through a heat-up whose rate the manual gives (drivers.heat_up), on the
virtual clock against the simulated tools: READY is still seen at once, in a few polls
instead of one per poll interval, and never before the manual's least heat-up time."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drivers.heat_up import HeatUpLaw
from drivers.laminator import LaminationRecipe, Laminator
from drivers.mold_press import MoldPress, MoldRecipe
from drivers.states import ToolState
from packline.paced_link import Tally, pace_driver
from sequences.jobs import StripJob
from sequences.steps.base import Pace
from sequences.steps.batch import BatchStep
from sequences.steps.laminate import LaminateStep
from sequences.steps.mold import MoldStep
from sequences.steps.setup import wait_settled
from sim.clock import VirtualClock
from sim.registry import serve_function
from sim.world import World

AMBIENT_C = 25.0
JOBS = [StripJob("HU-1", 3, 10, "1" * 30)]


def test_the_least_heat_up_is_the_coldest_heaters_climb_to_the_band_plus_the_stable_time() -> None:
    law = HeatUpLaw(rate_c_per_min=5.0, stable_s=60.0)
    # 25 -> 172 °C (175 - band 3) at 5 °C/min is 1764 s; the warmer heater does not count.
    assert law.least_left_s([25.0, 100.0], 175.0, 3.0) == pytest.approx(1764.0 + 60.0)
    assert law.least_left_s([173.0, 176.0], 175.0, 3.0) == 0.0, "in band: stable time unknown"
    assert law.least_left_s([190.0], 175.0, 3.0) == 0.0, "cooling: no rate in the manual"


@pytest.fixture
def clock() -> Iterator[VirtualClock]:
    virtual = VirtualClock()
    with virtual.participant("host"):
        yield virtual


@pytest.mark.parametrize(
    ("tool", "driver", "step", "least_s", "poll_s"),
    [
        # mold-press.md §8: 25 -> 175 °C at 5 °C/min + 60 s stable (31 min): 1764 + 60 s least.
        ("mold-press", MoldPress, MoldStep(MoldRecipe()), (175.0 - 3.0 - AMBIENT_C) * 12 + 60, 0.5),
        # laminator.md §8: 25 -> 100 °C at most 8 °C/min + 60 s stable (11 min).
        (
            "laminator",
            Laminator,
            LaminateStep(LaminationRecipe()),
            (100.0 - 2.0 - AMBIENT_C) * 7.5 + 60,
            1.0,
        ),
    ],
)
def test_a_heat_up_with_a_manual_rate_is_slept_through_and_ready_seen_in_a_few_polls(
    clock: VirtualClock,
    tool: str,
    driver: type[MoldPress] | type[Laminator],
    step: BatchStep,
    least_s: float,
    poll_s: float,
) -> None:
    sent: Tally = Tally()
    pace = Pace(clock=clock)
    with (
        serve_function(tool)(clock=clock, world=World()) as simulated,
        driver.open(simulated.address) as batch,
    ):
        pace_driver(batch, clock, 0.0, tally=sent)
        wait_settled(batch, pace)
        began_s, polls_before = clock.now(), sent[tool, "read_input_registers 0"]

        step.set_up(batch, JOBS, pace)

        took_s = clock.now() - began_s
        assert batch.state() is ToolState.READY
        polls = sent[tool, "read_input_registers 0"] - polls_before
    assert took_s >= least_s, "READY before the manual's heat-up rate allows"
    # The tool was READY within a poll interval of when the host saw it: the host's first
    # look after the slept heat-up, or one of the few polls after it.
    assert took_s <= least_s * 1.15 + 10 * poll_s
    # One look per 60 tool s (to see an alarm) and a few polls at the end: without the rate
    # the heat-up took ~130 polls stretched to 5 % of the time waited.
    assert polls <= least_s / 60 + 25, f"{polls} state polls for a {took_s:.0f} s heat-up"
