"""The finishing steps (laser recess, ball attach, dice, inspect) run through ``run_step``
against the simulated tools over their real transports: what a process engineer reads from the
outcomes (maps, defect codes, measured values, cycle times) and how the station's controls
(hold alarms, operator aborts) and the recipe windows act on a cycle.

Sim time runs 5000x (the shortest bound, 120 tool s to leave INIT or SETUP, is then 24 ms of
wall time) unless a test says otherwise; the tools start powered up (INIT, no
calibration, no blade setup), as after a power cycle.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import partial
from typing import Any

import pytest

from drivers.ball_attach import BallAttachSettings, ReflowLimits
from drivers.dicing_saw import CutSettings
from drivers.errors import ToolAlarm
from drivers.laser import AblationSettings
from drivers.states import ToolState
from sequences.jobs import SiteOutcome, StripJob, StripOutcome
from sequences.steps.ball_attach import BallAttachStep
from sequences.steps.base import Pace, StepControl, StepRefused, load_tool_recipe
from sequences.steps.dice import DiceStep
from sequences.steps.held import calibrated_hours_ago
from sequences.steps.inspect import InspectStep
from sequences.steps.judging import HOST_OUTSIDE_RECIPE
from sequences.steps.laser_recess import LaserRecessStep
from sequences.upkeep import calibrate_gauge_if_due
from sim.clock import SimClock
from sim.metrology import MetrologyModel
from sim.simulated_tool import SimulatedTool
from sim.world import StripState, World
from tests.support.integration_waits import when
from tests.support.step_runs import Start, calls_to, opened_drivers, resuming
from tests.support.step_runs import run as run_steps

pytestmark = pytest.mark.sim_time_scale(5000)

CLEAN_LASER = {"via_block_rate": 0.0, "residue_rate": 0.0, "fiducial_miss_rate": 0.0}
FORMAT_A, FORMAT_B = (3, 10), (8, 30)
ZONES_C = (130.0, 160.0, 175.0, 185.0, 200.0, 220.0, 250.0, 250.0)
#: Inspecting an etched heat-slug strip: slug height, pad exposure, residual copper.
SLUG = InspectStep(
    "SLUG", "A-SLUG", {"SLUG": (200.0, 260.0), "PADX": (95.0, 100.0), "RESCU": (0.0, 1.0)}
)
BALL_LIMITS = {"BALLH": (350.0, 450.0), "COPL": (0.0, 100.0), "CLEAR": (50.0, 1000.0)}


def strip_job(strip_id: str, layout: tuple[int, int], skipped: tuple[int, ...] = ()) -> StripJob:
    """A strip whose ``skipped`` sites (1-based) failed upstream."""
    rows, cols = layout
    input_map = "".join("0" if site in skipped else "1" for site in range(1, rows * cols + 1))
    return StripJob(strip_id, rows, cols, input_map)


def laser_recess(pattern: str = "IO16", **changes: Any) -> LaserRecessStep:
    settings = AblationSettings(
        pattern=pattern,
        fluence_j_cm2=1.20,
        frequency_khz=50,
        spot_um=25,
        film_thickness_um=25.0,
        via_max_pulses=250,
        recess_depth_um=12.0,
        recess_tolerance_um=2.0,
    )
    return LaserRecessStep(f"B-{pattern}", replace(settings, **changes))


def ball_attach(nominal_strips: int = 20, **changes: Any) -> BallAttachStep:
    settings = BallAttachSettings(
        flux_thickness_um=50,
        ball_diameter_mm=0.50,
        balls_per_site=192,
        zone_temperature_c=ZONES_C,
        reflow_speed_mm_s=12.0,
        reflow_limits=ReflowLimits(235.0, 245.0, 50.0, 70.0),
    )
    return BallAttachStep("A-BALL050", replace(settings, **changes), nominal_strips)


def dice(**changes: Any) -> DiceStep:
    settings = CutSettings(
        spindle_speed_krpm=30.0,
        blade_thickness_um=250,
        cut_feed_mm_s=40.0,
        cut_passes=2,
        cut_offset_limit_um=25,
        cut_chipping_limit_um=50,
    )
    return DiceStep(tool_recipe="B-SING", settings=replace(settings, **changes))


def etched_slugs(world: World, strip_id: str) -> StripState:
    """A Format A strip as a good etch leaves it: 230 µm slugs, pads exposed, no copper left."""
    strip = world.strip(strip_id, *FORMAT_A)
    for state in strip.sites.values():
        state.slug_protrusion_um, state.pad_exposure_pct, state.residual_cu_um = 230.0, 99.5, 0.1
    return strip


#: ``run(step, tool, jobs, clock, control)`` on station S1.
run = partial(run_steps, station="S1")


def site(outcome: StripOutcome, site_id: int) -> SiteOutcome:
    return outcome.sites[site_id - 1]


def measured(site_outcome: SiteOutcome, key: str) -> float:
    """A measured value of a site (it must be there and be a number)."""
    value = site_outcome.values[key]
    assert isinstance(value, int | float), f"site {site_outcome.site} {key} = {value!r}"
    return float(value)


#: The serve options of each simulator these tests start: a clean laser process, fixed seeds.
SERVED: dict[str, dict[str, Any]] = {
    "laser": CLEAN_LASER,
    "ball-attach": {"seed": 5},
    "dicing-saw": {"seed": 3},
    "metrology": {"seed": 2},
}


@pytest.fixture
def start(sim_tool: Callable[..., SimulatedTool]) -> Iterator[Start]:
    """``start("laser")`` -> a driver on a fresh simulator of the tool (options of
    :data:`SERVED` and the call), closed afterwards, and the simulator."""
    with opened_drivers(sim_tool) as open_tool:
        yield lambda name, **options: open_tool(name, **{**SERVED[name], **options})


# == laser recess ===================================================================================
def test_laser_recess_io16_calibrates_after_power_up_and_opens_every_via(
    start: Start,
    sim_clock: SimClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    laser, _ = start("laser")
    step = laser_recess("IO16")
    job = strip_job("FB2405-112", FORMAT_B, skipped=(57, 200))

    (outcome,) = run(step, laser, [job], sim_clock)

    assert outcome.result_map == "".join("X" if s in (57, 200) else "P" for s in range(1, 241))
    opened = [s for s in outcome.sites if s.result == "P"]
    assert all(s.values["vias_open"] == s.values["vias_total"] == 16 for s in opened)
    pulses = [measured(s, "mean_pulses_per_via") for s in opened]
    assert sum(pulses) / len(pulses) == pytest.approx(126.0, abs=1.5), "N_bt = 126 at 25 µm"
    assert max(pulses) < step.settings.via_max_pulses
    assert site(outcome, 57).values == {}
    summary = outcome.tool_summary
    assert (summary["pattern"], summary["vias_ablated"]) == ("IO16", 238 * 16)
    assert 0.9 <= summary["calibration_ratio"] <= 1.1
    assert summary["cycle_s"] == pytest.approx(83.0, abs=1.0)  # laser.md §8: ≈ 83 s
    assert step.expected_cycle_tool_s == pytest.approx(summary["cycle_s"], rel=0.02)
    assert laser.state() is ToolState.READY, "acknowledged"

    calibrated = laser.calibration().timestamp
    loads = calls_to(monkeypatch, laser, "load_recipe")
    (second,) = run(step, laser, [strip_job("FB2405-113", FORMAT_B)], sim_clock)
    assert second.result_map == "P" * 240
    assert laser.calibration().timestamp == calibrated, "a valid calibration is not repeated"
    assert loads == [], "the armed recipe is kept: no second warm-up"


def test_laser_recess_io16_die4_reaches_the_die_recess_depth_within_tolerance(
    start: Start,
    sim_clock: SimClock,
    sim_world: World,
) -> None:
    laser, _ = start("laser")
    step = laser_recess("IO16-DIE4")

    (outcome,) = run(step, laser, [strip_job("FB2405-120", FORMAT_B)], sim_clock)

    assert outcome.result_map == "P" * 240
    depths = [measured(s, "recess_depth_um") for s in outcome.sites]
    assert all(10.0 <= depth <= 14.0 for depth in depths), "12.0 ± 2.0 µm"
    assert outcome.tool_summary["recess_depth_mean_um"] == pytest.approx(12.0, abs=0.3)
    assert outcome.tool_summary["cycle_s"] == pytest.approx(2664.0, rel=0.01)  # laser.md §8
    assert step.expected_cycle_tool_s == pytest.approx(2664.0, rel=0.01)
    assert outcome.recipe_values["settings"]["pattern"] == "IO16-DIE4"
    world = sim_world.get("FB2405-120")
    assert world is not None
    assert world.site(1).area_recess_depth_um == pytest.approx(depths[0], abs=0.05)


def test_laser_recess_refuses_too_few_pulses_and_a_wrong_step_before_touching_the_laser(
    start: Start, sim_clock: SimClock
) -> None:
    laser, _ = start("laser")
    laser.wait_for_state([ToolState.IDLE], timeout_s=5, poll_s=0.005)
    step = laser_recess("IO16", via_max_pulses=100)  # 126 pulses break through 25 µm

    with pytest.raises(StepRefused, match="VIA:PULSes 100 < 126"):
        run(step, laser, [strip_job("FB2405-121", FORMAT_B)], sim_clock)
    with pytest.raises(StepRefused, match="dice runs on DicingSaw"):
        run(dice(), laser, [strip_job("FB2405-121", FORMAT_B)], sim_clock)
    assert laser.recipe_name() == ("", False)
    assert laser.state() is ToolState.IDLE


# == ball attach ====================================================================================
def test_ball_attach_magazine_of_three_reports_each_strip_with_upstream_failures_as_x(
    start: Start,
    sim_clock: SimClock,
    sim_world: World,
) -> None:
    line, _ = start("ball-attach")
    sim_world.strip("LA2403-018", *FORMAT_A).site(14).pad_exposure_pct = 60.0  # copper left
    jobs = [
        strip_job("LA2403-017", FORMAT_A, skipped=(30,)),
        strip_job("LA2403-018", FORMAT_A),
        strip_job("LA2403-019", FORMAT_A, skipped=(1, 2)),
    ]
    step = ball_attach(nominal_strips=3)

    outcomes = run(step, line, jobs, sim_clock)

    assert [o.strip_id for o in outcomes] == ["LA2403-017", "LA2403-018", "LA2403-019"]
    first, second, third = outcomes
    assert first.result_map[29] == "X" and third.result_map[:2] == "XX"
    assert site(first, 30).values == {}
    assert site(second, 14).result == "F" and site(second, 14).defect in (6501, 6506)
    assert measured(site(second, 14), "missing") > 0
    for outcome in outcomes:
        assert outcome.result_map.count("P") >= 26, "5-50 ppm ball defects: a rare F at most"
        assert outcome.step == "ball attach" and outcome.station == "S1"
        summary = outcome.tool_summary
        assert 235.0 <= summary["peak_c"] <= 245.0 and 50.0 <= summary["tal_s"] <= 70.0
        assert summary["cycle_s"] == pytest.approx(363.0, abs=4.0)  # feed to exit, §8
        passed = [s for s in outcome.sites if s.result == "P"]
        assert all(s.values["missing"] == 0 for s in passed)
        assert all(measured(s, "max_offset_um") <= 25.0 for s in passed)
        assert all(
            measured(s, "mean_diameter_mm") == pytest.approx(0.527, abs=0.02) for s in passed
        )
    assert [o.tool_summary["magazine_index"] for o in outcomes] == [1, 2, 3]
    assert step.expected_cycle_tool_s == pytest.approx(363.3 + 2 * 30.0, abs=0.1)
    assert line.state() is ToolState.READY


def test_ball_attach_refuses_set_points_whose_profile_misses_the_peak_window(
    start: Start, sim_clock: SimClock
) -> None:
    line, _ = start("ball-attach")
    cool = ball_attach(zone_temperature_c=(130.0, 160.0, 175.0, 185.0, 200.0, 210.0, 225.0, 225.0))

    with pytest.raises(StepRefused, match=r"profile misses the limits \(6508\): peak_c"):
        run(cool, line, [strip_job("LA2403-030", FORMAT_A)], sim_clock)
    assert line.state() in (ToolState.HEATING, ToolState.READY), "no magazine started"
    assert line.strip_ids[1] == "", "no strip committed to the line"


# == dice ===========================================================================================
def test_dice_sets_up_the_blade_after_power_up_and_singulates_a_format_b_strip(
    start: Start,
    sim_clock: SimClock,
    sim_world: World,
) -> None:
    saw, _ = start("dicing-saw")
    step = dice()

    (outcome,) = run(step, saw, [strip_job("FB2405-112", FORMAT_B, skipped=(7, 132))], sim_clock)

    assert outcome.result_map.count("X") == 2 and outcome.result_map.count("N") == 0
    assert outcome.result_map.count("P") >= 235
    summary = outcome.tool_summary
    assert summary["blade_exposure_mm"] > 1.0, "BLADe:SETup ran"
    assert (summary["line_passes_cut"], summary["blade_count_after"]) == (80, 80)
    assert summary["cycle_s"] == pytest.approx(275.0, rel=0.03)  # dicing-saw.md §8
    assert step.expected_cycle_tool_s == pytest.approx(275.0, rel=0.01)
    checked = [s for s in outcome.sites if "max_chipping_um" in s.values]
    assert len(checked) > 30
    assert all(measured(s, "max_chipping_um") <= 50 for s in checked if s.result == "P")
    assert all(abs(measured(s, "max_kerf_offset_um")) <= 25 for s in checked if s.result == "P")
    world = sim_world.get("FB2405-112")
    assert world is not None and world.site(1).singulated


def test_dice_refuses_a_blade_worn_out_by_the_last_strip_at_set_up(
    start: Start, sim_clock: SimClock
) -> None:
    """The check lets BLADE pass (a setup may clear it); the set-up, told by the check that
    BLADE was active, asks again (no setup was due) and refuses the worn blade."""
    saw, _ = start("dicing-saw", blade_count=950)
    run(dice(), saw, [strip_job("FB2405-114", FORMAT_B)], sim_clock)  # 80 line passes
    saw.blade_limit_cuts = 1000  # 1030 cut: worn out
    with pytest.raises(StepRefused, match=r"blade life reached \(1030 line passes\)"):
        run(dice(), saw, [strip_job("FB2405-115", FORMAT_B)], sim_clock)


def test_dice_refuses_a_spindle_speed_the_blade_does_not_allow(
    start: Start, sim_clock: SimClock
) -> None:
    saw, _ = start("dicing-saw")
    saw.wait_for_state([ToolState.IDLE], timeout_s=5, poll_s=0.005)

    with pytest.raises(StepRefused, match=r"40\.0 krpm over the 35\.0 krpm"):
        run(dice(spindle_speed_krpm=40.0), saw, [strip_job("FB2405-113", FORMAT_B)], sim_clock)
    assert saw.state() is ToolState.IDLE, "nothing was sent"


# == inspect ========================================================================================
def test_inspect_recess_measures_the_vias_and_die_recesses_the_laser_made(
    start: Start, sim_clock: SimClock
) -> None:
    laser, _ = start("laser")
    gauge, _ = start("metrology")
    job = strip_job("FB2405-130", FORMAT_B, skipped=(3,))
    (recessed,) = run(laser_recess("IO16-DIE4"), laser, [job], sim_clock)
    inspect = InspectStep(
        "RECESS",
        "B-RECESS",
        {"VIA": (23.0, 27.0), "AREA": (10.0, 14.0), "RESID": (0.0, 0.5)},
    )

    (outcome,) = run(inspect, gauge, [replace(job, input_map=recessed.next_input_map)], sim_clock)

    assert outcome.result_map == recessed.result_map
    assert outcome.result_map.count("P") == 239 and outcome.result_map[2] == "X"
    for gauged, ablated in zip(outcome.sites, recessed.sites, strict=True):
        if gauged.result == "X":
            continue
        assert measured(gauged, "via_depth_mean_um") == pytest.approx(25.0, abs=2.0), "to the pad"
        assert measured(gauged, "area_recess_depth_um") == pytest.approx(
            measured(ablated, "recess_depth_um"), abs=2.0
        ), "the gauge sees the depth the laser reported"
        assert measured(gauged, "residual_pi_um") <= 0.5
    statistics = outcome.tool_summary["statistics"]
    assert statistics["AREA"]["n"] == 239
    assert statistics["AREA"]["mean"] == pytest.approx(12.0, abs=0.5)
    assert outcome.tool_summary["mode"] == "RECESS"
    assert outcome.tool_summary["cycle_s"] == pytest.approx(16.0 + 239 * 0.8, rel=0.02)
    assert gauge.calibration().passed, "calibrated after power-up"


def test_inspect_slug_fails_under_etched_sites_on_pad_exposure_and_residual_copper(
    start: Start,
    sim_clock: SimClock,
    sim_world: World,
) -> None:
    gauge, _ = start("metrology")
    strip = etched_slugs(sim_world, "HS-SLUG-01")
    for under_etched in (5, 6):  # copper left on the pads: low exposure and residual copper
        strip.site(under_etched).pad_exposure_pct = 60.0
        strip.site(under_etched).residual_cu_um = 30.0
    strip.site(7).residual_cu_um = 3.0  # pads exposed, a thin copper film left

    (outcome,) = run(SLUG, gauge, [strip_job("HS-SLUG-01", FORMAT_A)], sim_clock)

    failed = {s.site: s.defect for s in outcome.sites if s.result == "F"}
    assert failed == {5: 9504, 6: 9504, 7: 9505}
    assert site(outcome, 5).values["residual_cu_um"] == pytest.approx(30.0, abs=1.0)
    assert site(outcome, 1).values["slug_protrusion_um"] == pytest.approx(230.0, abs=5.0)
    assert outcome.next_input_map[4:7] == "000"
    assert outcome.tool_summary["statistics"]["PADX"]["minimum"] < 95.0


def test_inspect_ball_measures_claim_3_as_clearance_and_fails_slugs_above_the_balls(
    start: Start,
    sim_clock: SimClock,
    sim_world: World,
) -> None:
    line, _ = start("ball-attach")
    gauge, _ = start("metrology")
    job = strip_job("HS-BALL-01", FORMAT_A)
    (balled,) = run(ball_attach(nominal_strips=1), line, [job], sim_clock)
    strip = sim_world.get("HS-BALL-01")
    assert strip is not None
    for state in strip.sites.values():
        state.slug_protrusion_um = 230.0  # etched slug, well below the ~400 µm balls
    balls = [s.site for s in balled.sites if s.result == "P"]
    thick = {balls[2], balls[16]}  # slug thicker than the balls are high: claim 3 violated
    for site_id in thick:
        strip.site(site_id).slug_protrusion_um = 430.0
    inspect = InspectStep("BALL", "A-BALL", BALL_LIMITS | {"MISS": (0.0, 0.0)})

    (outcome,) = run(inspect, gauge, [replace(job, input_map=balled.next_input_map)], sim_clock)

    failed = {s.site: s.defect for s in outcome.sites if s.result == "F"}
    assert failed == dict.fromkeys(thick, 9508)
    for bad in thick:
        clearance_um = measured(site(outcome, bad), "clearance_um")
        ball_min_um = measured(site(outcome, bad), "ball_height_min_um")
        slug_um = measured(site(outcome, bad), "slug_protrusion_um")
        assert clearance_um < 0 < ball_min_um
        assert clearance_um == pytest.approx(ball_min_um - slug_um, abs=0.15)
    good = [s for s in outcome.sites if s.result == "P"]
    assert len(good) >= 25
    assert all(measured(s, "clearance_um") >= 50.0 for s in good), "claim 3 holds on P sites"
    assert all(measured(s, "slug_protrusion_um") < measured(s, "ball_height_mean_um") for s in good)
    assert outcome.tool_summary["statistics"]["CLEAR"]["minimum"] < 0.0


def test_inspect_ball_fails_claim_3_on_the_host_when_clear_was_opened_at_the_panel(
    start: Start,
    sim_clock: SimClock,
    sim_world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gauge, simulated = start("metrology")
    station = simulated.model
    assert isinstance(station, MetrologyModel)
    strip = sim_world.strip("HS-BALL-02", *FORMAT_A)
    for state in strip.sites.values():
        state.ball_height_mean_um, state.ball_height_min_um = 400.0, 395.0
        state.coplanarity_um, state.slug_protrusion_um = 30.0, 230.0
    strip.site(8).slug_protrusion_um = 430.0
    start = gauge.start

    def start_after_a_panel_edit() -> None:
        station.set_limit("CLEAR", "-1000.0", "1000.0")  # the operator, at the station's panel
        start()

    monkeypatch.setattr(gauge, "start", start_after_a_panel_edit)
    (outcome,) = run(
        InspectStep("BALL", "A-BALL", BALL_LIMITS),
        gauge,
        [strip_job("HS-BALL-02", FORMAT_A)],
        sim_clock,
    )

    assert outcome.result_map == "P" * 7 + "F" + "P" * 22
    assert site(outcome, 8).defect == HOST_OUTSIDE_RECIPE
    assert measured(site(outcome, 8), "clearance_um") < 0
    assert "clearance_um" in outcome.tool_summary["host_failed"][8]
    assert outcome.tool_summary["passed"] == 30, "the station passed it"


@pytest.mark.parametrize(
    ("mode", "recipe", "world", "bad_world", "limits", "defect", "key"),
    [
        (
            "DIE",
            "A-DIE",
            {"die_dx_um": 3.0, "die_dy_um": -2.0, "die_dtheta_deg": 0.05},
            {"die_dx_um": 40.0},
            {"DX": (-25.0, 25.0), "DY": (-25.0, 25.0), "DT": (-0.5, 0.5)},
            9501,
            "dx_um",
        ),
        (
            "PKG",
            "A-PKG",
            {"package_thickness_um": 300.0, "warp_um": 20.0},
            {"package_thickness_um": 345.0},
            {"THK": (270.0, 330.0), "WARP": (0.0, 50.0)},
            9513,
            "package_thickness_um",
        ),
    ],
)
def test_inspect_die_and_pkg_modes_fail_the_site_outside_its_limits(
    start: Start,
    sim_clock: SimClock,
    sim_world: World,
    mode: str,
    recipe: str,
    world: dict[str, float],
    bad_world: dict[str, float],
    limits: dict[str, tuple[float, float]],
    defect: int,
    key: str,
) -> None:
    gauge, _ = start("metrology")
    strip = sim_world.strip(f"HS-{mode}-01", *FORMAT_A)
    for state in strip.sites.values():
        for name, value in world.items():
            setattr(state, name, value)
    for name, value in bad_world.items():
        setattr(strip.site(12), name, value)

    (outcome,) = run(
        InspectStep(mode, recipe, limits),
        gauge,
        [strip_job(f"HS-{mode}-01", FORMAT_A)],
        sim_clock,
    )

    assert outcome.result_map == "P" * 11 + "F" + "P" * 18
    assert site(outcome, 12).defect == defect
    assert site(outcome, 12).values[key] == pytest.approx(next(iter(bad_world.values())), abs=5.0)
    assert outcome.step == f"inspect {mode.lower()}"
    assert outcome.recipe_values["limits"] == {k: list(v) for k, v in limits.items()}


@pytest.mark.parametrize(
    ("mode", "limits", "reason"),
    [
        ("BALL", {"BALLH": (350.0, 450.0), "COPL": (0.0, 100.0)}, "claim 3 needs the CLEAR"),
        ("BALL", {"BALLH": (350.0, 450.0), "CLEAR": (0.0, 1000.0)}, "claim 3 needs the CLEAR"),
        ("BALL", {"CLEAR": (50.0, 1000.0), "SLUG": (200.0, 260.0)}, "SLUG is not an item of"),
        ("ball", {"CLEAR": (50.0, 1000.0), "HEIGHT": (0.0, 1.0)}, "HEIGHT is not an item of"),
        ("XRAY", {}, "MODE 'XRAY' not one of DIE, SLUG, BALL, RECESS, PKG"),
        ("BALL", {"CLEAR": (50.0, 5000.1)}, "CLEAR limit = 5000.1 outside"),
        ("BALL", {"CLEAR": (50.0, 10.0)}, "CLEAR limits need lo <= hi"),
        ("BALL", {"CLEAR": (50.0, 1000.0), "MISS": (0.0, 0.5)}, "MISS limit = 0.5 must be a whole"),
    ],
    ids=[
        "no-clear",
        "clear-from-zero",
        "item-of-another-mode",
        "unknown-item",
        "unknown-mode",
        "outside-lim-range",
        "lo-above-hi",
        "fraction-of-a-count",
    ],
)
def test_inspect_with_a_bad_mode_limit_or_no_positive_clearance_is_refused_before_loading(
    start: Start,
    sim_clock: SimClock,
    mode: str,
    limits: dict[str, tuple[float, float]],
    reason: str,
) -> None:
    gauge, _ = start("metrology")
    name = f"inspect {mode.lower()}"
    with pytest.raises(StepRefused, match=re.escape(f"{name}: ") + ".*" + re.escape(reason)):
        run(InspectStep(mode, "A-BALL", limits), gauge, [strip_job("X1", FORMAT_A)], sim_clock)
    assert gauge.recipe_name() == ("", False), "nothing was loaded"


# == station controls ===============================================================================
def test_inspect_asks_cal_only_when_it_does_not_know_a_passed_calibration_on_this_link(
    start: Start,
    sim_clock: SimClock,
    sim_world: World,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After power-up the step asks CAL? (NONE), calibrates and reads the PASS; the next
    strip's set-up knows it (only CAL replaces it) and asks nothing; after a failed step (a
    refused RUN may be the calibration's interlock) and on a link opened again (the gauge may
    have lost its calibration in a power cycle) it asks again."""
    gauge, _ = start("metrology")
    sent: list[list[str]] = []
    job = strip_job("HS-CAL-X", FORMAT_A)
    for n in range(4):
        if n == 2:
            with pytest.raises(StepRefused):
                run(InspectStep("SLUG", "A-SLUG", {"COPL": (0, 1)}), gauge, [job], sim_clock)
        if n == 3:
            gauge.close()
            gauge.connect()
        strip_id = f"HS-CAL-{n}"
        etched_slugs(sim_world, strip_id)
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger=gauge.log.name):
            (outcome,) = run(SLUG, gauge, [strip_job(strip_id, FORMAT_A)], sim_clock)
        assert outcome.result_map == "P" * 30
        sent.append(re.findall(r"'(CAL\??)'", caplog.text))
    assert sent == [["CAL?", "CAL", "CAL?"], [], ["CAL?"], ["CAL?"]]


def test_inspect_does_not_look_at_the_state_after_a_load_the_gauge_took(
    start: Start,
    sim_clock: SimClock,
    sim_world: World,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The MS-3 has no HEATING (§3): a LOAD it took leaves it READY at once, so the set-up
    goes on to calibrate, id and map without a further ``ST?``; the cycle still runs."""
    gauge, _ = start("metrology")
    etched_slugs(sim_world, "HS-LOAD-1")
    with caplog.at_level(logging.DEBUG, logger=gauge.log.name):
        (outcome,) = run(SLUG, gauge, [strip_job("HS-LOAD-1", FORMAT_A)], sim_clock)
    assert outcome.result_map == "P" * 30
    sent = re.findall(r"'([A-Z]+\??)[ ']", caplog.text)
    after_load = sent[sent.index("LOAD") : sent.index("CAL")]
    assert "LOAD" in after_load and "ST?" not in after_load, after_load


def test_hold_alarm_is_handed_to_the_station_which_fixes_it_and_the_cycle_completes(
    start: Start,
    sim_clock: SimClock,
    sim_world: World,
) -> None:
    gauge, simulated = start("metrology")
    etched_slugs(sim_world, "HS-HOLD-01")
    simulated.faults.condition("VACUUM", site=10)  # the strip lifts off the stage at site 10
    alarms: list[ToolAlarm] = []
    reseat = resuming(alarms, fix=simulated.model.fix)  # the operator reseats the strip

    (outcome,) = run(SLUG, gauge, [strip_job("HS-HOLD-01", FORMAT_A)], sim_clock, reseat)

    assert [(a.code, a.alarm_class) for a in alarms] == [(9003, "H")]
    assert outcome.result_map == "P" * 30, "held at the end of the site, nothing lost"
    assert gauge.state() is ToolState.READY


@pytest.mark.sim_time_scale(400)
def test_operator_abort_ends_the_laser_cycle_and_leaves_the_rest_of_the_strip_unprocessed(
    start: Start, sim_clock: SimClock
) -> None:
    laser, simulated = start("laser")
    control = StepControl()

    operator = when(  # the operator aborts after five sites
        lambda: simulated.model.progress()[0] >= 5, control.abort.set, 20.0, poll_s=0.001
    )
    (outcome,) = run(
        laser_recess("IO16-DIE4"), laser, [strip_job("FB2405-140", FORMAT_B)], sim_clock, control
    )
    operator.join(timeout=5)

    assert control.final_state is ToolState.ABORTED
    done = outcome.result_map.count("P")
    assert 5 <= done < 60
    assert outcome.result_map.count("N") >= 180
    interrupted = [s for s in outcome.sites if s.result == "F"]
    assert all(s.defect == 8506 for s in interrupted) and len(interrupted) <= 1
    assert outcome.next_input_map == "1" * done + "0" * (240 - done)
    assert outcome.tool_summary["not_processed"] == outcome.result_map.count("N")
    assert laser.state() in (ToolState.READY, ToolState.HEATING), "acknowledged"


def test_a_gauge_found_idle_is_asked_its_calibration_again(
    start: Start,
    sim_clock: SimClock,
    sim_world: World,
) -> None:
    """A power-up on a serial link the host never saw close loses the MS-3's calibration
    (metrology.md §3) and unloads its recipe: a gauge found IDLE is not trusted to hold the
    calibration the host read before (here a RST, which leaves it IDLE the same way)."""
    gauge, _ = start("metrology")
    pace = Pace(sim_clock.time_scale)
    done = calibrate_gauge_if_due(gauge, pace)  # none since power-up: CAL, then CAL? read
    assert done is not None and done.result == "done, PASS", done
    assert calibrated_hours_ago(gauge, sim_clock.now()) is not None, "the CAL it read is known"
    gauge.reset()
    assert gauge.state() is ToolState.IDLE
    load_tool_recipe(gauge, "A-SLUG", pace, 60.0)
    assert calibrated_hours_ago(gauge, sim_clock.now()) is None, "asked again, not trusted"
