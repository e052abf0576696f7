"""Metrology driver against the simulated MS-3 over a real pty and over socket://: a cycle in
every MODE on a strip the test builds in the shared world, measured values checked against the
world within gauge noise."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import serial

from drivers.metrology import (
    BallRecord,
    DieRecord,
    Limit,
    MeasureMode,
    Metrology,
    PkgRecord,
    RecessRecord,
    SlugRecord,
)
from drivers.scpi import CycleResult
from drivers.states import ToolState
from sim.clock import SimClock
from sim.simulated_tool import SimulatedTool
from sim.world import SiteState, World

SCALE = 2000.0  # the 91 s Format A BALL strip takes about 45 ms


@pytest.fixture(params=["pty", "tcp"])
def ms3(
    request: pytest.FixtureRequest, sim_tool: Callable[..., SimulatedTool], sim_clock: SimClock
) -> SimulatedTool:
    sim_clock.set_scale(SCALE)
    return sim_tool("metrology", seed=11, transport=request.param)


@pytest.fixture
def gauge(ms3: SimulatedTool) -> Iterator[Metrology]:
    with Metrology.open(ms3.address) as gauge:
        gauge.wait_for_state([ToolState.IDLE], timeout_s=5, poll_s=0.005)
        yield gauge


def ready(gauge: Metrology, recipe: str) -> None:
    gauge.load_recipe(recipe)
    gauge.calibrate()
    gauge.wait_for_state([ToolState.READY], timeout_s=5, poll_s=0.005)


def measure(gauge: Metrology, strip_id: str, input_map: str | None = None) -> CycleResult:
    gauge.strip_id = strip_id
    if input_map is not None:
        gauge.input_map = input_map
    gauge.start()
    gauge.wait_for_state([ToolState.DONE], timeout_s=10, poll_s=0.005)
    result = gauge.cycle_result()
    gauge.acknowledge()
    return result


def build(
    world: World, strip_id: str, rows: int, cols: int, values: Callable[[int, SiteState], None]
) -> dict[int, SiteState]:
    strip = world.strip(strip_id, rows, cols)
    for site_id, site in strip.sites.items():
        values(site_id, site)
    return strip.sites


def near(measured: float | None, world: float | None, sigma: float) -> bool:
    """Within 5 σ of gauge noise plus the rounding of the record."""
    assert measured is not None and world is not None
    return abs(measured - world) <= 5 * sigma + 0.05


def test_metrology_die_mode_measures_placement_from_the_world(
    gauge: Metrology, sim_world: World
) -> None:
    def placed(site_id: int, site: SiteState) -> None:
        site.die_placed = True
        site.die_dx_um, site.die_dy_um = (site_id - 15) * 1.5, 0.5 * site_id - 5
        site.die_dtheta_deg = 0.8 if site_id == 4 else 0.01 * (site_id % 7) - 0.03
        if site_id == 3:
            site.die_dx_um = 40.0

    sites = build(sim_world, "DA-001", 3, 10, placed)
    sites[30] = SiteState()  # no die on site 30
    ready(gauge, "A-DIE")
    result = measure(gauge, "DA-001")
    assert result.result_map == "PPFF" + "P" * 25 + "F"
    assert [r.defect for r in result.records if r.result == "F"] == [9501, 9502, 9515]
    for record in result.records[:29]:
        assert isinstance(record, DieRecord)
        world = sites[record.site]
        assert near(record.dx_um, world.die_dx_um, 0.5) and near(record.dy_um, world.die_dy_um, 0.5)
        assert near(record.dtheta_deg, world.die_dtheta_deg, 0.005)
    assert result.summary.cycle_s == pytest.approx(16 + 30 * 0.6)


def test_metrology_slug_mode_finds_the_under_etched_sites(
    gauge: Metrology, sim_world: World
) -> None:
    def etched(site_id: int, site: SiteState) -> None:
        site.slug_protrusion_um = 220.0 + site_id
        site.pad_exposure_pct, site.residual_cu_um = 99.0, 0.0
        if site_id in (11, 12, 13):  # under-etched: copper left on the pads, pads partly covered
            site.residual_cu_um, site.pad_exposure_pct = 4.0, 70.0
        if site_id == 14:
            site.residual_cu_um = 2.5

    sites = build(sim_world, "CU-017", 3, 10, etched)
    ready(gauge, "A-SLUG")
    result = measure(gauge, "CU-017")
    assert result.result_map == "P" * 10 + "FFFF" + "P" * 16
    assert [(r.site, r.defect) for r in result.records if r.result == "F"] == [
        (11, 9504),
        (12, 9504),
        (13, 9504),
        (14, 9505),
    ]
    for record in result.records:
        assert isinstance(record, SlugRecord)
        world = sites[record.site]
        assert near(record.slug_protrusion_um, world.slug_protrusion_um, 1.0)
        assert near(record.pad_exposure_pct, world.pad_exposure_pct, 0.3)
        assert near(record.residual_cu_um, world.residual_cu_um, 0.1)
    assert gauge.statistics("RESCU").maximum == pytest.approx(4.0, abs=0.6)


def test_metrology_ball_mode_takes_91_s_and_checks_slug_clearance(
    gauge: Metrology, sim_world: World
) -> None:
    def balled(site_id: int, site: SiteState) -> None:
        site.ball_height_mean_um, site.ball_height_min_um = 390.0 + site_id, 380.0 + site_id
        site.coplanarity_um = 45.0 + site_id if site_id <= 20 else 90.0
        site.slug_protrusion_um = None if site_id > 20 else 225.0
        site.balls_missing = 1 if site_id == 5 else 0
        if site_id == 6:
            site.slug_protrusion_um = 300.0  # slug taller than the balls: claim A3 violated

    sites = build(sim_world, "LA2403-017", 3, 10, balled)
    ready(gauge, "A-BALL")
    gauge.set_limit(Limit("COPL", 0.0, 70.0))
    began = time.monotonic()
    result = measure(gauge, "LA2403-017")
    assert time.monotonic() - began < 91 / SCALE + 1.0
    assert result.summary.cycle_s == pytest.approx(91.0)
    assert result.summary.extra == (MeasureMode.BALL,)
    assert [(r.site, r.defect) for r in result.records if r.result == "F"] == [
        (5, 9509),
        (6, 9508),
    ] + [(site, 9507) for site in range(21, 31)]
    for record in result.records:
        assert isinstance(record, BallRecord)
        world = sites[record.site]
        assert near(record.ball_height_mean_um, world.ball_height_mean_um, 1.0)
        assert near(record.ball_height_min_um, world.ball_height_min_um, 1.5)
        assert near(record.coplanarity_um, world.coplanarity_um, 1.5)
        assert record.balls_missing == world.balls_missing
        if world.slug_protrusion_um is None:
            assert record.slug_protrusion_um is None and record.clearance_um is None
        else:
            assert near(record.slug_protrusion_um, world.slug_protrusion_um, 1.0)
            assert record.slug_protrusion_um is not None and record.ball_height_min_um is not None
            clearance = record.ball_height_min_um - record.slug_protrusion_um
            assert record.clearance_um == pytest.approx(clearance, abs=0.051)


def test_metrology_recess_mode_on_a_format_b_strip(gauge: Metrology, sim_world: World) -> None:
    def recessed(site_id: int, site: SiteState) -> None:
        site.via_depth_um, site.via_depth_min_um = 24.8 + 0.002 * (site_id % 100), 24.2
        site.area_recess_depth_um = 12.0 if site_id % 2 else None
        site.residual_pi_um = 0.9 if site_id == 100 else 0.1

    sites = build(sim_world, "PI-B-0042", 8, 30, recessed)
    ready(gauge, "B-RECESS")
    result = measure(gauge, "PI-B-0042")
    assert len(result.records) == 240 and result.summary.cycle_s == pytest.approx(208.0)
    assert [(r.site, r.defect) for r in result.records if r.result == "F"] == [(100, 9512)]
    for record in result.records:
        assert isinstance(record, RecessRecord)
        world = sites[record.site]
        assert near(record.via_depth_mean_um, world.via_depth_um, 0.5)
        assert record.via_depth_min_um is not None and record.via_depth_mean_um is not None
        assert record.via_depth_min_um <= record.via_depth_mean_um
        assert near(record.residual_pi_um, world.residual_pi_um, 0.05)
        if world.area_recess_depth_um is None:
            assert record.area_recess_depth_um is None
        else:
            assert near(record.area_recess_depth_um, world.area_recess_depth_um, 0.5)


def test_metrology_pkg_mode_measures_thickness_warp_and_pads(
    gauge: Metrology, sim_world: World
) -> None:
    def packaged(site_id: int, site: SiteState) -> None:
        site.package_thickness_um, site.warp_um = 300.0 + site_id % 5, 15.0
        site.pad_protrusion_um = 20.0 if site_id <= 10 else None
        if site_id == 9:
            site.warp_um = 80.0

    sites = build(sim_world, "PK-9", 3, 10, packaged)
    ready(gauge, "A-PKG")
    result = measure(gauge, "PK-9", "0" + "1" * 29)
    assert result.result_map == "X" + "P" * 7 + "F" + "P" * 21
    assert result.records[8].defect == 9514
    for record in result.records[1:]:
        assert isinstance(record, PkgRecord)
        world = sites[record.site]
        assert near(record.package_thickness_um, world.package_thickness_um, 2.0)
        assert near(record.warp_um, world.warp_um, 2.0)
        if world.pad_protrusion_um is None:
            assert record.pad_protrusion_min_um is None
        else:
            assert near(record.pad_protrusion_min_um, world.pad_protrusion_um, 0.5)
    assert result.records[0] == PkgRecord(1, "X", 0, None, None, None)
    stats = gauge.statistics("PADP")
    assert stats.n == 9
    history = sim_world.get("PK-9")
    assert history is not None and history.history[-1][1:] == ("metrology", "PKG P=28 F=1")


def test_metrology_recipe_settings_round_trip_through_the_tool(gauge: Metrology) -> None:
    gauge.mode = MeasureMode.RECESS
    gauge.strip_size = (8, 30)
    gauge.strip_pitch_mm = (5.3, 5.3)
    gauge.set_limit(Limit("VIA", 24.0, 26.0))
    gauge.save_recipe("B-VIA-TIGHT")
    gauge.reset()
    assert (gauge.mode, gauge.strip_size) == (MeasureMode.SLUG, (3, 10))
    gauge.load_recipe("B-VIA-TIGHT")
    assert gauge.recipe_name() == ("B-VIA-TIGHT", False)
    assert gauge.limits()["VIA"] == Limit("VIA", 24.0, 26.0)
    assert (gauge.strip_size, gauge.strip_pitch_mm) == ((8, 30), (5.3, 5.3))
    assert "B-VIA-TIGHT" in gauge.recipe_catalog()
    assert gauge.enclosure_temperature_c == pytest.approx(22.0)


def test_metrology_tool_discards_what_arrives_while_it_is_busy(
    sim_tool: Callable[..., SimulatedTool], sim_clock: SimClock
) -> None:
    sim_clock.set_scale(SCALE)
    ms3 = sim_tool("metrology", transport="pty")
    time.sleep(15 / SCALE)  # INIT
    with serial.serial_for_url(ms3.address, baudrate=38400, timeout=0.3) as port:
        port.write(b"ID?\rST?\r")  # the second command arrives before the first is answered
        assert port.read_until(b"\r") == b"OK GENERIC,MS-3,MS3-00057,1.8.0\r"
        assert port.read_until(b"\r") == b""
        port.write(b"\nst?\r\n")  # LF ignored, keyword case-insensitive
        assert port.read_until(b"\r") == b"OK IDLE,SLUG,NONE,0,0\r"
        port.write(b"LIST? " + b"1" * 1200 + b"\r")
        assert port.read_until(b"\r") == b"ER 11,Syntax error\r"


def test_metrology_driver_and_simulator_agree_on_every_record_type(
    gauge: Metrology, sim_world: World
) -> None:
    """The records of an unmeasurable strip still parse in every MODE (all value fields empty)."""
    for mode in ("DIE", "SLUG", "BALL", "PKG"):
        ready(gauge, f"A-{mode}")
        gauge.strip_id = "EMPTY"
        gauge.input_map = "11" + "0" * 28
        gauge.start()
        gauge.wait_for_state([ToolState.DONE], timeout_s=5, poll_s=0.005)
        records: list[Any] = gauge.records()
        assert [(r.result, r.defect) for r in records[:3]] == [("F", 9515), ("F", 9515), ("X", 0)]
        assert gauge.summary_mode() == mode
        gauge.acknowledge()
