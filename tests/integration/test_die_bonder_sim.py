"""DieBonder driver against the simulated DB-4 over the real transport (pyvisa-py TCPIP SOCKET
on loopback, and a pty): full cycles of every MODE, alarms of each class, interlocks, errors
and link faults."""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import pytest

from drivers.die_bonder import DieBonder, DieBondRecord, DieBondSettings
from drivers.errors import (
    AlarmActive,
    CommunicationError,
    ConnectionLost,
    InterlockActive,
    NotAllowedInState,
    PacklineError,
    ProtocolError,
    ToolError,
    ToolTimeout,
)
from drivers.records import AlarmInfo, next_input_map
from drivers.scpi import Progress
from drivers.states import ToolState
from sequences.steps.setup import apply_setpoints
from sim.clock import SimClock
from sim.world import World
from tests.integration.conftest import StartTool
from tests.support.integration_cycles import FINISHED, cleared, finished
from tests.support.integration_waits import answered, raises_within

pytestmark = pytest.mark.sim_time_scale(5000)
POLL_S = 0.005


@pytest.fixture
def start_bonder(start_tool: StartTool) -> StartTool:
    """Factory: a simulated DB-4 (options as ``serve``) and a driver connected to it in IDLE."""
    return partial(start_tool, "die-bonder", seed=3, timeout_s=1.0)


def ready(bonder: DieBonder, recipe: str) -> None:
    bonder.load_recipe(recipe)
    bonder.wait_for_state([ToolState.READY], timeout_s=10.0, poll_s=POLL_S)


def run_strip(bonder: DieBonder, strip_id: str, input_map: str | None = None) -> ToolState:
    """Start a strip and wait until it is DONE, ABORTED or held in ALARM."""
    bonder.strip_id = strip_id
    if input_map is not None:
        bonder.input_map = input_map
    bonder.start()
    return bonder.wait_for_state((*FINISHED, ToolState.ALARM), timeout_s=10.0, poll_s=POLL_S)


def epoxy_record_passes(record: DieBondRecord, volume_nl: int) -> bool:
    """die-bonder.md §5 pass criteria at the default tolerances."""
    assert record.dx_um is not None and record.dy_um is not None and record.dtheta_deg is not None
    assert record.blt_um is not None and record.volume_nl is not None
    return (
        max(abs(record.dx_um), abs(record.dy_um)) <= 25.0
        and abs(record.dtheta_deg) <= 0.50
        and abs(record.volume_nl - volume_nl) <= 0.10 * volume_nl
        and abs(record.blt_um - 25.0) <= 10.0
    )


# -- full cycles ------------------------------------------------------------------------------
def test_die_bonder_runs_an_epoxy_strip_as_in_the_manual(
    start_bonder: Any, sim_world: World
) -> None:
    bonder, _ = start_bonder()
    assert bonder.identify().model == "DB-4"
    ready(bonder, "A-EQUAL")
    assert run_strip(bonder, "LA2403-017", "1" * 29 + "0") is ToolState.DONE

    result = bonder.cycle_result()
    summary = result.summary
    assert (summary.strip_id, summary.sites, summary.skipped, summary.not_processed) == (
        "LA2403-017",
        30,
        1,
        0,
    )
    assert summary.passed + summary.failed == 29
    assert summary.cycle_s == pytest.approx(86.7, abs=0.15)
    mode, used = summary.extra
    assert mode == "EPOXY" and used == sum(1 for r in result.records if r.dx_um is not None)
    assert result.result_map[29] == "X" and result.records[29] == DieBondRecord(30, "X", 0)
    for record in result.records[:29]:
        assert isinstance(record, DieBondRecord)
        assert (record.result == "P") == (record.defect == 0)
        if record.result == "P":
            assert epoxy_record_passes(record, 1200) and record.force_n == pytest.approx(
                2.0, abs=0.15
            )
    assert bonder.progress() == Progress(29, 29, 87, 0)

    strip = sim_world.get("LA2403-017")
    assert strip is not None
    for record in result.records[:29]:
        site = strip.site(record.site)
        assert site.die_placed == (record.dx_um is not None)
        assert site.adhesive_cure > 0.25  # 60 s snap cure at 175 °C
    assert not strip.site(30).die_placed

    bonder.acknowledge()
    assert bonder.state() is ToolState.READY
    assert (bonder.strip_id, bonder.input_map) == ("", "1" * 30)
    assert bonder.result_map() == result.result_map  # readable until the next start


def test_die_bonder_gap_fills_around_the_dies_of_the_first_pass(
    start_bonder: Any, sim_world: World
) -> None:
    bonder, _ = start_bonder()
    ready(bonder, "A-SMALL-1")
    run_strip(bonder, "LA2403-018", "1" * 28 + "00")
    first_pass = bonder.result_map()
    bonder.acknowledge()

    ready(bonder, "A-SMALL-2")
    assert run_strip(bonder, "LA2403-018", next_input_map(first_pass)) is ToolState.DONE
    result = bonder.cycle_result()
    processed = [r for r in result.records if r.result in "PF"]
    assert len(processed) == first_pass.count("P")
    assert result.summary.extra == ("GAPFILL", 0)
    assert result.summary.cycle_s == pytest.approx(4 + 3 + len(processed) * 1.928 + 60 + 4, abs=0.2)
    for record in processed:
        assert (record.dx_um, record.blt_um, record.force_n) == (None, None, None)
        assert record.volume_nl is not None and abs(record.volume_nl - 8640) <= 864
    strip = sim_world.get("LA2403-018")
    assert strip is not None
    assert [strip.site(r.site).gap_filled for r in processed] == [
        r.result == "P" for r in processed
    ]
    assert not strip.site(30).gap_filled


def test_die_bonder_bonds_flip_chips_on_a_format_b_strip(
    start_bonder: Any, sim_world: World
) -> None:
    bonder, _ = start_bonder()
    ready(bonder, "B-FC")
    assert bonder.strip_size == (8, 30) and bonder.strip_pitch_mm == (5.3, 5.3)
    assert bonder.measure_temperature_c("HEAD") == pytest.approx(280.0, abs=3.0)
    assert run_strip(bonder, "LB2403-101") is ToolState.DONE
    result = bonder.cycle_result()
    assert result.summary.cycle_s == pytest.approx(1331.0, abs=0.5)
    assert result.summary.extra[0] == "FLIPCHIP" and len(result.records) == 240
    for record in result.records:
        assert record.blt_um is None and record.volume_nl is None
        if record.result == "P":
            assert record.force_n is not None and abs(record.force_n - 30.0) <= 3.0
    strip = sim_world.get("LB2403-101")
    assert strip is not None
    assert sum(site.flip_chip_bonded for site in strip.sites.values()) == result.summary.extra[1]


def test_die_bonder_places_plates_and_counts_them(start_bonder: Any, sim_world: World) -> None:
    bonder, _ = start_bonder(plates=500)
    ready(bonder, "B-PLATE")
    assert run_strip(bonder, "LB2403-102", "1" * 200 + "0" * 40) is ToolState.DONE
    result = bonder.cycle_result()
    mode, used = result.summary.extra
    assert mode == "PLATE" and used >= 195
    assert bonder.supply_plates() == 500 - used
    strip = sim_world.get("LB2403-102")
    assert strip is not None
    assert sum(site.plate_placed for site in strip.sites.values()) == used
    assert not any(site.die_placed for site in strip.sites.values())


# -- alarms of each class -----------------------------------------------------------------------
def test_die_bonder_holds_on_an_empty_syringe_and_resumes_with_a_new_one(start_bonder: Any) -> None:
    bonder, simulated = start_bonder(syringe_nl=6000)
    ready(bonder, "A-EQUAL")
    assert run_strip(bonder, "LA2403-019") is ToolState.ALARM
    assert bonder.alarms() == [
        AlarmInfo(2201, "W", "Syringe low"),
        AlarmInfo(2101, "H", "Syringe empty"),
    ]
    assert bonder.progress().done == 5  # the sixth site was not started
    assert bonder.supply_epoxy_pct() == 0
    with pytest.raises(AlarmActive) as caught:
        bonder.resume()
    assert caught.value.detail == "2101"
    assert cleared(bonder) is ToolState.ALARM  # cause persists
    simulated.model.fix(2101)  # operator replaces the syringe
    assert cleared(bonder) is ToolState.PAUSED
    assert bonder.active_alarms() == []
    bonder.resume()
    assert finished(bonder) is ToolState.DONE
    assert "N" not in bonder.result_map()


def test_die_bonder_emergency_stop_aborts_the_strip(start_bonder: Any, sim_world: World) -> None:
    bonder, simulated = start_bonder()
    ready(bonder, "A-EQUAL")
    simulated.faults.condition("ESTOP", site=5)
    assert run_strip(bonder, "LA2403-020") is ToolState.ALARM
    assert bonder.alarms() == [AlarmInfo(2001, "A", "Emergency stop")]
    assert cleared(bonder) is ToolState.ALARM  # still pressed
    simulated.model.set_condition("ESTOP", False)  # released
    assert cleared(bonder) is ToolState.ABORTED
    result = bonder.cycle_result()
    assert result.result_map[4:] == "F" + "N" * 25
    assert (result.records[4].defect, result.records[4].dx_um) == (2510, None)
    assert (result.summary.not_processed, result.summary.failed >= 1) == (25, True)
    strip = sim_world.get("LA2403-020")
    assert strip is not None and strip.site(5).defects == {"die-bonder": 2510}
    bonder.acknowledge()
    assert bonder.state() in (ToolState.HEATING, ToolState.READY)


def test_die_bonder_warns_of_a_low_syringe_without_stopping(start_bonder: Any) -> None:
    bonder, simulated = start_bonder(syringe_nl=575_000)  # 30 x 18400 nL leaves < 10 %
    ready(bonder, "A-LARGE")
    assert run_strip(bonder, "LA2403-021") is ToolState.DONE
    assert bonder.alarms() == [AlarmInfo(2201, "W", "Syringe low")]
    assert "N" not in bonder.result_map()
    bonder.clear_alarms()
    assert bonder.active_alarms() == [2201]  # still below 10 %
    simulated.model.fix(2201)
    bonder.clear_alarms()
    assert bonder.active_alarms() == []
    assert bonder.state() is ToolState.DONE


def test_die_bonder_cover_opened_during_a_cycle_aborts_it(start_bonder: Any) -> None:
    bonder, simulated = start_bonder()
    ready(bonder, "A-EQUAL")
    simulated.faults.condition("DOOR", site=12)
    assert run_strip(bonder, "LA2403-022") is ToolState.ALARM
    assert bonder.active_alarms() == [2002]
    simulated.model.set_condition("DOOR", False)
    assert cleared(bonder) is ToolState.ABORTED
    assert bonder.result_map()[11:] == "F" + "N" * 18


# -- interlocks -----------------------------------------------------------------------------------
@pytest.mark.parametrize("interlock", ["DOOR", "AIR"])
def test_die_bonder_interlock_blocks_start_and_calibration(
    start_bonder: Any, interlock: str
) -> None:
    bonder, simulated = start_bonder()
    ready(bonder, "A-EQUAL")
    simulated.model.set_condition(interlock, True)
    assert bonder.interlocks() == [interlock]
    for command in (bonder.start, bonder.calibrate_placement):
        with pytest.raises(InterlockActive) as caught:
            command()
        assert caught.value.detail == interlock
    simulated.model.set_condition(interlock, False)
    assert bonder.interlocks() == []
    assert run_strip(bonder, "LA2403-023") is ToolState.DONE


def test_die_bonder_refuses_start_while_heating_with_temp(
    start_bonder: Any, sim_clock: SimClock
) -> None:
    bonder, _ = start_bonder()
    sim_clock.set_scale(10)
    bonder.load_recipe("A-EQUAL")
    assert bonder.state() is ToolState.HEATING
    assert bonder.interlocks() == ["TEMP"]
    with pytest.raises(InterlockActive) as caught:
        bonder.start()
    assert caught.value.detail == "TEMP"
    sim_clock.set_scale(5000)
    bonder.wait_for_state([ToolState.READY], timeout_s=10.0, poll_s=POLL_S)
    assert bonder.measure_temperature_c("CURE") == pytest.approx(175.0, abs=3.0)


def test_die_bonder_air_loss_holds_at_the_end_of_the_site(start_bonder: Any) -> None:
    bonder, simulated = start_bonder()
    ready(bonder, "A-EQUAL")
    simulated.faults.condition("AIR", site=8)
    assert run_strip(bonder, "LA2403-024") is ToolState.ALARM
    assert bonder.active_alarms() == [2004]
    assert bonder.progress().done == 8 and bonder.result_map()[8] == "N"  # site 8 completed
    with pytest.raises(AlarmActive):
        bonder.resume()
    simulated.model.fix(2004)
    assert cleared(bonder) is ToolState.PAUSED
    bonder.resume()
    assert finished(bonder) is ToolState.DONE


def test_die_bonder_pauses_after_the_current_site(start_bonder: Any, sim_clock: SimClock) -> None:
    bonder, _ = start_bonder()
    ready(bonder, "B-FC")
    sim_clock.set_scale(200)  # 5.5 s sites take 27 ms
    bonder.strip_id = "LB2403-103"
    bonder.start()
    time.sleep(0.1)
    bonder.pause()
    assert bonder.state() is ToolState.PAUSED
    time.sleep(0.06)
    done = bonder.progress().done
    time.sleep(0.1)
    assert bonder.progress().done == done and bonder.phase() == "BOND"
    with pytest.raises(NotAllowedInState) as caught:
        bonder.bond_time_s = 3.0
    assert caught.value.detail == "PAUSED"
    sim_clock.set_scale(5000)
    bonder.resume()
    assert finished(bonder) is ToolState.DONE
    assert bonder.summary().strip_id == "LB2403-103"


# -- setup, every command, errors ---------------------------------------------------------------
def test_die_bonder_calibrates_placement_in_setup(start_bonder: Any, sim_clock: SimClock) -> None:
    bonder, _ = start_bonder()
    assert bonder.placement_calibration().timestamp is None
    sim_clock.set_scale(10)  # SETUP lasts 4 s: seen, and refuses a recipe, however loaded
    bonder.calibrate_placement()
    assert bonder.state() is ToolState.SETUP
    with pytest.raises(NotAllowedInState) as caught:
        bonder.load_recipe("A-EQUAL")
    assert (caught.value.code, caught.value.detail) == (21, "SETUP")
    sim_clock.set_scale(100)
    bonder.wait_for_state([ToolState.IDLE], timeout_s=5.0, poll_s=POLL_S)
    calibration = bonder.placement_calibration()
    assert calibration.timestamp is not None and abs(calibration.dx_um) < 5.0


def test_die_bonder_serves_every_manual_command(start_bonder: Any) -> None:
    bonder, _ = start_bonder()
    assert DieBondSettings.read_from(bonder) == DieBondSettings()
    changed = DieBondSettings(
        mode="PLATE",
        dispense_volume_nl=100,
        dispense_pattern="DOT",
        dispense_tolerance_pct=15,
        place_zref="DIE",
        place_force_n=3.5,
        place_blt_um=20.0,
        place_tolerance=(30.0, 1.25),
        bond_force_n=45.0,
        bond_temperature_c=300.0,
        bond_time_s=2.5,
        stage_temperature_c=80.0,
        cure_enabled=False,
        cure_temperature_c=150.0,
        cure_time_s=90,
    )
    apply_setpoints(bonder, changed)
    assert DieBondSettings.read_from(bonder) == changed
    assert [bonder.measure_temperature_c(h) for h in ("STAGE", "HEAD", "CURE")] == [25.0] * 3
    assert (bonder.supply_epoxy_pct(), bonder.supply_dies(), bonder.supply_plates()) == (
        100,
        10000,
        10000,
    )
    bonder.strip_size = (4, 12)
    bonder.strip_pitch_mm = (12.5, 12.5)
    bonder.save_recipe("PLATE-4X12")
    assert "PLATE-4X12" in bonder.recipe_catalog()
    bonder.load_recipe("PLATE-4X12")
    assert bonder.recipe_name() == ("PLATE-4X12", False)
    bonder.dispense_volume_nl = 120
    assert bonder.recipe_name() == ("PLATE-4X12", True)
    bonder.unload_recipe()
    bonder.delete_recipe("PLATE-4X12")
    assert "PLATE-4X12" not in bonder.recipe_catalog()
    bonder.reset()
    assert DieBondSettings.read_from(bonder) == DieBondSettings()
    assert (bonder.strip_size, bonder.strip_pitch_mm) == ((3, 10), (17.3, 17.3))
    assert bonder.operation_complete() and bonder.scpi_version() == "1999.0"
    assert bonder.error_count() == 0 and bonder.status_byte() == 0


@pytest.mark.parametrize(
    ("message", "native"),
    [
        ("DISP:VOL 40000", -222),
        ("MODE GLUE", -224),
        ("CURE:STAT MAYBE", -224),
        ('STR:MAP "1111"', 26),
        ("CYCL:STAR", 24),
        ('RECipe:LOAD "NOPE"', 25),
        ("DISP:VOL 600;CYCL:STAR", -102),
        ("DISP:VOL MAX", -104),
        ("PLAC:TOL 25.0", -109),
        ("DISP:VOL 600,700", -108),
        ('STR:ID "LA 2403"', -151),
        ("DISP:SPEED 5", -113),
        ("CYCL:ACK", 20),
        ("CYCL:RES", 20),
    ],
)
def test_die_bonder_simulator_rejects_as_the_manual(
    start_bonder: Any, message: str, native: int
) -> None:
    bonder, _ = start_bonder()
    with pytest.raises(ToolError) as caught:
        bonder.write(message)
    assert caught.value.native_code == native
    assert bonder.next_error().code == 0


@pytest.mark.parametrize(
    ("query", "native"), [("MEAS:TEMP? OVEN", -224), ("RES:DATA?", 27), ("ALAR:TEXT? 4001", -224)]
)
def test_die_bonder_simulator_fails_queries_silently_with_a_queued_error(
    start_bonder: Any, query: str, native: int
) -> None:
    bonder, _ = start_bonder(timeout_s=0.3)
    with pytest.raises(ToolError) as caught:
        bonder.query(query)
    assert caught.value.native_code == native


def test_die_bonder_settings_conflict_and_state_errors_while_running(
    start_bonder: Any, sim_clock: SimClock
) -> None:
    bonder, _ = start_bonder()
    ready(bonder, "A-EQUAL")
    bonder.mode = "GAPFILL"  # PATTern is STAR: refused at START
    with pytest.raises(ToolError) as conflict:
        bonder.start()
    assert (conflict.value.code, conflict.value.native_code) == (14, -221)
    bonder.mode = "EPOXY"
    bonder.wait_for_state([ToolState.READY], timeout_s=5.0, poll_s=POLL_S)
    sim_clock.set_scale(20)
    bonder.start()
    with pytest.raises(NotAllowedInState) as state:
        bonder.write("DISP:VOL 900")
    assert state.value.detail == "RUNNING"
    with pytest.raises(ToolError) as out_of_range:
        bonder.write("DISP:VOL 40000")  # range is checked before state
    assert out_of_range.value.native_code == -222
    bonder.abort()
    assert bonder.state() is ToolState.ABORTED


# -- link faults ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("stall", ToolTimeout),
        ("drop", ConnectionLost),
        ("garble", ProtocolError),
        ("truncate", ToolTimeout),
    ],
)
def test_die_bonder_link_fault_raises_within_the_timeout_and_recovers(
    start_bonder: Any, kind: str, error: type[PacklineError]
) -> None:
    bonder, simulated = start_bonder(timeout_s=0.3)
    ready(bonder, "A-EQUAL")
    simulated.faults.link_fault(kind)
    with raises_within(error, 1.0):  # query timeout + one SYST:ERR? read at most
        bonder.state()
    assert bonder.state() is ToolState.READY
    assert run_strip(bonder, "LA2403-025") is ToolState.DONE


def test_die_bonder_recovers_after_a_stall_longer_than_its_timeout(start_bonder: Any) -> None:
    bonder, simulated = start_bonder(timeout_s=0.3)
    simulated.faults.link_fault("stall", duration_s=1.0)
    with raises_within(CommunicationError, 1.0):
        bonder.state()
    assert answered(bonder.state, 5.0) is ToolState.IDLE
    assert bonder.identify().model == "DB-4"


def test_die_bonder_works_over_a_pty(start_bonder: Any) -> None:
    bonder, simulated = start_bonder(transport="pty")
    assert simulated.address.startswith("ASRL/dev/")
    assert bonder.identify().serial == "DB4-00117"
    ready(bonder, "B-GLUE")
    assert run_strip(bonder, "LB2403-104") is ToolState.DONE
    assert bonder.summary().extra[0] == "EPOXY"
