"""The simulator core: clock, fault triggers, scenarios, and the README §5 state machine."""

from __future__ import annotations

import time
from pathlib import Path
from typing import ClassVar

import pytest

from sim.clock import SimClock
from sim.faults import CycleContext, FaultInjector
from sim.scenario import ScenarioError, load_scenario
from sim.tool_model import AlarmDef, State, Step, ToolModel
from sim.world import World
from tests.support.model_bench import ModelBench, cleared, cleared_after, fixed, released
from tests.support.refusal import refusal


class Toy(ToolModel):
    """A minimal tool: three 10 s units, each a hold point; out of band while COLD is set."""

    tool_name = "toy"
    init_s = 5.0
    stable_s = 10.0
    alarm_defs = (
        AlarmDef(1, "Emergency stop", "A"),
        AlarmDef(2, "Supply empty", "H"),
        AlarmDef(3, "Low", "W"),
    )
    interlock_table = (("DOOR", frozenset({"start", "resume"})), ("TEMP", frozenset({"start"})))
    condition_alarms: ClassVar[dict[str, int]] = {"ESTOP": 1}

    def __init__(self, clock: SimClock, world: World) -> None:
        super().__init__(clock, world)
        self.done_units: list[int] = []
        self.aborted_by: bool | None = None

    def build_cycle(self) -> list[Step]:
        return [
            Step("WORK", 10.0, site=k, on_end=lambda k=k: self.done_units.append(k))
            for k in (1, 2, 3)
        ]

    def on_abort(self, by_alarm: bool) -> None:
        self.aborted_by = by_alarm

    def conditions_in_band(self) -> bool:
        """Out of band while COLD is set (heaters off)."""
        return not self.conditions.get("COLD", False)


@pytest.fixture
def toy() -> ModelBench:
    """A Toy past its 5 s of INIT."""
    toy = ModelBench(Toy)
    toy.advance(5.0)
    return toy


@pytest.fixture
def ready(toy: ModelBench) -> ModelBench:
    """The Toy armed and READY (10 s in band)."""
    toy.model.do_arm()
    toy.advance(10.0)
    return toy


def test_sim_clock_scales_and_changes_scale_continuously() -> None:
    clock = SimClock(1000)
    time.sleep(0.02)
    before = clock.now()
    assert before >= 20.0
    clock.set_scale(1)
    assert clock.now() == pytest.approx(before, abs=1.0)
    with pytest.raises(ValueError, match="positive"):
        SimClock(0)


def test_tool_goes_init_idle_heating_ready(toy: ModelBench) -> None:
    model = toy.model
    assert model.state is State.IDLE
    assert refusal(model.do_start)[0] == 24
    model.do_arm()
    assert model.state is State.HEATING
    assert refusal(model.do_start) == (22, "TEMP")
    toy.advance(10.0)
    assert model.state is State.READY


def test_pause_takes_effect_at_the_next_hold_point(ready: ModelBench) -> None:
    model = ready.model
    model.do_start()
    ready.advance(4.0)
    model.do_pause()
    assert model.state is State.PAUSED
    ready.advance(20.0)
    assert model.done_units == [1], "unit 1 completes, then the cycle holds"
    model.do_resume()
    ready.advance(30.0)
    assert model.state is State.DONE and model.done_units == [1, 2, 3]


def test_hold_alarm_then_clear_goes_paused_and_blocks_resume_while_active(
    ready: ModelBench,
) -> None:
    model = ready.model
    model.do_start()
    model.raise_alarm(2, cause_for_s=30.0)
    assert model.state is State.ALARM
    assert refusal(model.do_resume) == (23, "2")
    assert cleared(model) is State.ALARM, "the cause persists for 30 s"
    ready.advance(31.0)
    assert cleared(model) is State.PAUSED


def test_abort_class_alarm_aborts_after_clear(ready: ModelBench) -> None:
    model = ready.model
    model.do_start()
    model.set_condition("ESTOP", True)
    assert model.state is State.ALARM and model.aborted_by is True
    assert cleared_after(model, lambda: model.set_condition("ESTOP", False)) is State.ABORTED


def test_cycle_time_stops_with_an_abort_class_alarm_and_never_jumps_back(
    ready: ModelBench,
) -> None:
    model = ready.model
    model.do_start()
    ready.advance(12.0)
    model.set_condition("ESTOP", True)
    ready.advance(300.0)  # the operator takes five minutes to release and clear
    assert model.state is State.ALARM
    assert model.cycle_elapsed_s == pytest.approx(12.0), "held in ALARM: the cycle stopped"
    assert released(model, "ESTOP") is State.ABORTED
    assert model.cycle_elapsed_s == pytest.approx(12.0)


def test_warning_changes_no_state_and_interlock_blocks_start(ready: ModelBench) -> None:
    model = ready.model
    model.raise_alarm(3)
    assert model.state is State.READY
    model.set_condition("DOOR", True)
    assert refusal(model.do_start) == (22, "DOOR")


def test_scheduled_fault_fires_at_its_phase_and_time(ready: ModelBench) -> None:
    model = ready.model
    model.faults.alarm(2, phase="WORK", after_s=15.0)
    model.do_start()
    ready.advance(14.0)
    assert 2 not in model.active_alarms
    ready.advance(2.0)
    assert model.active_alarms == [2]


def test_fault_injector_consumes_link_faults_in_order() -> None:
    faults = FaultInjector()
    faults.link_fault("garble", count=2)
    assert faults.take_link_fault(("stall", "drop")) is None
    assert faults.take_link_fault().kind == "garble"  # type: ignore[union-attr]
    assert faults.take_link_fault().kind == "garble"  # type: ignore[union-attr]
    assert faults.take_link_fault() is None
    with pytest.raises(ValueError, match="unknown link fault"):
        faults.link_fault("explode")


def test_fault_trigger_matches_site() -> None:
    faults = FaultInjector()
    faults.alarm(7, site=12)
    assert faults.due(CycleContext(1, "BOND", 5.0, 5.0, 11)) == []
    assert [f.alarm for f in faults.due(CycleContext(1, "BOND", 6.0, 6.0, 12))] == [7]


def test_scenario_file_errors_name_the_entry(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("faults:\n  - station: mold-press\n    alarm: 4005\n    link: stall\n")
    with pytest.raises(
        ScenarioError, match="fault 1 needs exactly one of 'alarm', 'condition', 'link'"
    ):
        load_scenario(bad)
    bad.write_text(
        "faults:\n  - tool: mold-press\n    at: {phase: CURE, when: 3}\n    alarm: 4005\n"
    )
    with pytest.raises(ScenarioError, match="unknown trigger field"):
        load_scenario(bad)
    good = tmp_path / "good.yaml"
    good.write_text(
        "faults:\n  - tool: mold-press\n    at: {phase: CURE, after_s: 5}\n    condition: AIR\n    clear_after_s: 60\n"
    )
    assert load_scenario(good)[0]["condition"] == "AIR"


def test_blocking_alarm_abandons_a_setup_operation(toy: ModelBench) -> None:
    model = toy.model
    finished: list[bool] = []
    model.check("setup")
    model.do_setup(40.0, lambda: finished.append(True))
    assert model.state is State.SETUP
    toy.advance(10.0)
    model.raise_alarm(2)
    assert model.state is State.ALARM
    toy.advance(60.0)
    assert not finished, "the abandoned setup never completes"
    assert cleared(model) is State.IDLE


def estop_while_cold_then_back_in_band_for_1_s(toy: ModelBench) -> None:
    """E-stop (heaters off): 20 s out of band, released and back in band, 1 s on, cleared."""
    toy.model.set_condition("ESTOP", True)
    toy.model.set_condition("COLD", True)
    toy.advance(20.0)
    toy.model.set_condition("COLD", False)
    toy.model.fix(1)
    toy.advance(1.0)
    toy.model.clear_alarms()


def assert_ready_after_the_full_stable_time(toy: ModelBench) -> None:
    """HEATING until the conditions have been in band 10 s (1 s of it before the clear)."""
    assert toy.model.state is State.HEATING
    assert refusal(toy.model.do_start) == (22, "TEMP")
    toy.advance(8.5)
    assert toy.model.state is State.HEATING
    toy.advance(1.0)
    assert toy.model.state is State.READY


def test_after_a_heater_off_alarm_in_ready_ready_waits_the_stable_time_in_band(
    ready: ModelBench,
) -> None:
    """README §5 HEATING -> READY only after the stable time in band: an E-stop in READY that
    let the conditions leave the band is cleared to HEATING, not READY on the old dwell."""
    estop_while_cold_then_back_in_band_for_1_s(ready)
    assert_ready_after_the_full_stable_time(ready)


def test_an_alarm_during_init_restarts_init_after_the_clear() -> None:
    """README §5: INIT ends in IDLE when the power-up self-test and homing are done. An E-stop
    stops them; after the clear the tool runs INIT again from its start, not straight to IDLE."""
    toy = ModelBench(Toy)
    model = toy.model
    toy.advance(3.0)
    model.set_condition("ESTOP", True)
    assert model.state is State.ALARM
    toy.advance(10.0)
    assert fixed(model, 1) is State.INIT
    assert refusal(model.do_arm) == (21, "INIT")
    toy.advance(4.9)
    assert model.state is State.INIT
    toy.advance(0.2)
    assert model.state is State.IDLE


def test_after_a_heater_off_alarm_in_a_cycle_ack_waits_the_stable_time_in_band(
    ready: ModelBench,
) -> None:
    """The same in a cycle: an E-stop aborts it; the ACK 1 s after the conditions are back in
    band leads to HEATING, not READY on the dwell the tool had at START."""
    ready.model.do_start()
    ready.advance(4.0)
    estop_while_cold_then_back_in_band_for_1_s(ready)
    assert ready.model.state is State.ABORTED
    ready.model.do_ack()
    assert_ready_after_the_full_stable_time(ready)
