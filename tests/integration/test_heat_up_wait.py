"""The host sleeps through a heat-up whose rate the manual gives (drivers.heat_up), on the
virtual clock against the simulated tools: READY is still seen at once, in a few polls
instead of one per poll interval, and never before the manual's least heat-up time. A
heat-up whose manual gives only a duration from cold is polled at a share of it: ~20 polls,
READY seen at most 5 % of it late."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drivers.ball_attach import BallAttach
from drivers.dicing_saw import DicingSaw
from drivers.die_bonder import DieBonder
from drivers.heat_up import HeatUpLaw
from drivers.laminator import LaminationRecipe, Laminator
from drivers.metrology import Metrology
from drivers.mold_press import MoldPress, MoldRecipe
from drivers.scpi import ScpiTool
from drivers.states import ToolState
from packline.paced_link import Tally, pace_driver
from sequences.jobs import StripJob
from sequences.steps.base import Pace, wait_ready
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
    # One look per 60 tool s, or per 5 % of a heat-up over 20 min (to see an alarm), and a
    # few polls at the end: without the rate the heat-up took ~130 polls stretched to 5 % of
    # the time waited; a look every 60 s cost the mold press's 31 min ~35.
    looks = least_s / pace.cycle_watch_s(least_s)
    assert polls <= looks + 8, f"{polls} state polls for a {took_s:.0f} s heat-up"


def _heat_up_from_load(
    clock: VirtualClock,
    tool: str,
    driver: type[ScpiTool],
    recipe: str,
    pace: Pace,
    *,
    told_when: bool = False,
) -> tuple[float, int]:
    """Load ``recipe`` on a fresh (cold) simulated ``tool`` and wait for READY (``told_when``:
    telling the wait when the load was sent): the tool seconds from the load to READY seen,
    and the state polls it took."""
    sent: Tally = Tally()
    with (
        serve_function(tool)(clock=clock, world=World()) as simulated,
        driver.open(simulated.address) as scpi,
    ):
        pace_driver(scpi, clock, 0.0, tally=sent)
        wait_settled(scpi, pace)
        scpi.load_recipe(recipe)
        began_s, polls_before = clock.now(), sent[tool, "SYST:STAT?"]
        wait_ready(scpi, pace, 3600.0, entered_s=began_s if told_when else None)
        return clock.now() - began_s, sent[tool, "SYST:STAT?"] - polls_before


@pytest.mark.parametrize(
    ("tool", "driver", "recipe"),
    [
        ("die-bonder", DieBonder, "A-EQUAL"),  # §8: cure track 8 min from 25 °C, +30 s stable
        ("dicing-saw", DicingSaw, "A-SING"),  # §8: WARMUP 300 s after power-up
        ("ball-attach", BallAttach, "A-BALL050"),  # §8: HEATING from cold 20 min
    ],
)
def test_a_heat_up_the_manual_gives_only_a_duration_for_is_polled_at_a_share_of_it(
    clock: VirtualClock, tool: str, driver: type[ScpiTool], recipe: str
) -> None:
    # The moment READY came, seen by polling at the manual's rate throughout (no stretch).
    ready_s, _ = _heat_up_from_load(clock, tool, driver, recipe, Pace(clock=clock, stretch=0.0))
    took_s, polls = _heat_up_from_load(clock, tool, driver, recipe, Pace(clock=clock))
    from_cold_s = driver.typical_s[ToolState.HEATING]
    assert ready_s > from_cold_s / 2, "the simulated tool heated up from cold"
    # Never assumed READY before the tool said so, and seen at most 5 % of the manual's
    # heat-up (at most one minute, the alarm latency) late.
    assert ready_s - driver.poll_interval_s <= took_s
    assert took_s <= ready_s + min(60.0, 0.05 * max(took_s, from_cold_s))
    # ~1/5 % polls: stretched from the manual's 0.5-1 s poll it took ~100.
    assert polls <= 25, f"{polls} state polls for a {took_s:.0f} s heat-up"


def test_a_warm_up_the_manual_gives_its_lengths_for_is_looked_at_when_one_ends(
    clock: VirtualClock,
) -> None:
    """dicing-saw.md §3: a WARMUP lasts 60 s, or 300 s from cold. Told when its load was sent,
    the host looks at 60 s (still WARMUP: the cold case) and then every 60 s (the alarm
    watch) up to 300 s: READY seen within the manual's poll interval of its coming, in a
    handful of looks, not ~21 stretched polls."""
    ready_s, _ = _heat_up_from_load(
        clock, "dicing-saw", DicingSaw, "A-SING", Pace(clock=clock, stretch=0.0)
    )
    took_s, polls = _heat_up_from_load(
        clock, "dicing-saw", DicingSaw, "A-SING", Pace(clock=clock), told_when=True
    )
    assert ready_s == pytest.approx(300.0, abs=2 * DicingSaw.poll_interval_s), "from cold"
    assert ready_s - DicingSaw.poll_interval_s <= took_s <= ready_s + DicingSaw.poll_interval_s
    assert polls <= 8, f"{polls} state polls for a {took_s:.0f} s warm-up"


def _calibration(clock: VirtualClock, pace: Pace, *, told_when: bool = False) -> tuple[float, int]:
    """``CAL`` on a simulated MS-3 with a recipe loaded, then wait for it to end: the tool
    seconds from ``CAL`` to READY seen, and the state polls it took."""
    sent: Tally = Tally()
    with (
        serve_function("metrology")(clock=clock, world=World()) as simulated,
        Metrology.open(simulated.address) as gauge,
    ):
        pace_driver(gauge, clock, 0.0, tally=sent)
        wait_settled(gauge, pace)
        gauge.load_recipe("A-SLUG")
        gauge.calibrate()
        began_s, polls_before = clock.now(), sent["metrology", "ST?"]
        entered_s = began_s if told_when else None
        pace.wait_for_state(gauge, [ToolState.READY], 60.0, entered_s=entered_s)
        return clock.now() - began_s, sent["metrology", "ST?"] - polls_before


def test_a_setup_the_manual_gives_a_duration_for_is_polled_at_a_share_of_it(
    clock: VirtualClock,
) -> None:
    # metrology.md §4: CAL, SETUP ≈ 20 s; polled every 0.2 s it took ~50 polls.
    ended_s, _ = _calibration(clock, Pace(clock=clock, stretch=0.0))
    took_s, polls = _calibration(clock, Pace(clock=clock))
    assert ended_s - Metrology.poll_interval_s <= took_s <= ended_s + 0.05 * 20.0
    assert polls <= 25, f"{polls} state polls for a {took_s:.0f} s calibration"


def test_a_setup_the_host_started_is_looked_at_when_the_manual_has_it_end(
    clock: VirtualClock,
) -> None:
    """metrology.md §4: CAL, SETUP ≈ 20 s. Told when it sent CAL, the host looks at once and
    then 20 s later (plus its poll interval): READY seen as soon as polling every 0.2 s
    would, in two looks."""
    ended_s, _ = _calibration(clock, Pace(clock=clock, stretch=0.0))
    took_s, polls = _calibration(clock, Pace(clock=clock), told_when=True)
    assert (
        ended_s - Metrology.poll_interval_s <= took_s <= ended_s + Metrology.poll_interval_s + 1e-6
    )
    assert polls <= 3, f"{polls} state polls for a {took_s:.0f} s calibration"
