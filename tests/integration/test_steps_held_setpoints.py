"""Set-points the tool already holds are not sent again: a die bonder's settings go once per
lot, not once per strip, and again whenever the host can no longer be sure the tool holds
them (a reconnect, a recipe load, an alarm). Against the simulated DB-4 over its transport."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from drivers.clock import WallClock
from drivers.die_bonder import DieBonder, DieBondSettings
from drivers.errors import PacklineError
from drivers.states import ToolState
from packline.paced_link import Tally, pace_driver
from sequences.jobs import StripJob
from sequences.steps.die_bond import DieBondStep
from sim.clock import SimClock
from sim.simulated_tool import SimulatedTool
from tests.support.step_runs import run

SCALE = 5000
pytestmark = pytest.mark.sim_time_scale(SCALE)

SETTINGS = DieBondSettings(dispense_volume_nl=1200)
STEP = DieBondStep("die attach", "A-EQUAL", SETTINGS)
#: Messages that write a die-bond setting: the header of each field of DieBondSettings.
SETTING_HEADERS = frozenset(SETTINGS.declaration(member).key for member in SETTINGS.values())


@pytest.fixture
def bonder(sim_tool: Callable[..., SimulatedTool]) -> Iterator[tuple[DieBonder, Tally]]:
    """A connected DieBonder whose every message is counted by kind."""
    simulated = sim_tool("die-bonder", seed=7)
    tool = DieBonder.open(simulated.address)
    tally: Tally = Tally()
    pace_driver(tool, WallClock(SCALE), 0.0, tally)
    yield tool, tally
    tool.close()


def settings_sent(tally: Tally) -> int:
    return sum(n for (_, kind), n in tally.items() if kind in SETTING_HEADERS)


def one_strip(tool: DieBonder, step: DieBondStep, strip_id: str, clock: SimClock) -> str:
    (outcome,) = run(step, tool, [StripJob(strip_id, 3, 10, "1" * 30)], clock)
    return outcome.result_map


def test_a_second_strip_with_the_same_settings_sends_none_of_them(
    bonder: tuple[DieBonder, Tally], sim_clock: SimClock
) -> None:
    tool, tally = bonder
    one_strip(tool, STEP, "H-1", sim_clock)
    first = settings_sent(tally)
    assert first == len(SETTING_HEADERS), "the first set-up writes every setting"
    second_map = one_strip(tool, STEP, "H-2", sim_clock)
    assert settings_sent(tally) == first, "the tool holds them all"
    assert DieBondSettings.read_from(tool) == SETTINGS, "and does hold them"
    assert second_map.count("P") >= 28


def test_a_changed_setting_alone_is_sent(
    bonder: tuple[DieBonder, Tally], sim_clock: SimClock
) -> None:
    tool, tally = bonder
    one_strip(tool, STEP, "H-1", sim_clock)
    before = settings_sent(tally)
    more = DieBondSettings(dispense_volume_nl=1300)
    one_strip(tool, DieBondStep("die attach", "A-EQUAL", more), "H-2", sim_clock)
    assert settings_sent(tally) == before + 1
    assert tally["die-bonder", "DISPense:VOLume"] == 2
    assert tool.dispense_volume_nl == 1300


def test_after_a_reconnect_every_setting_is_sent_again(
    bonder: tuple[DieBonder, Tally], sim_clock: SimClock
) -> None:
    tool, tally = bonder
    one_strip(tool, STEP, "H-1", sim_clock)
    tool.link.reopen()  # type: ignore[attr-defined]  # what a lost link's recovery does
    one_strip(tool, STEP, "H-2", sim_clock)
    assert settings_sent(tally) == 2 * len(SETTING_HEADERS)


def test_after_a_failed_step_every_setting_is_sent_again(
    bonder: tuple[DieBonder, Tally], sim_clock: SimClock
) -> None:
    tool, tally = bonder
    one_strip(tool, STEP, "H-1", sim_clock)
    with pytest.raises(PacklineError):
        one_strip(tool, DieBondStep("die attach", "NO-SUCH-RECIPE", SETTINGS), "H-2", sim_clock)
    tool.wait_for_state([ToolState.IDLE, ToolState.HEATING, ToolState.READY], timeout_s=5.0)
    one_strip(tool, STEP, "H-3", sim_clock)
    assert settings_sent(tally) == 2 * len(SETTING_HEADERS)
