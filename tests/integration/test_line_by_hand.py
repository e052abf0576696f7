"""A Format A strip carried by hand through the simulated line with the drivers' public API:
laminate -> die attach -> wire bond -> mold -> etch -> (SLUG) -> ball attach -> (BALL).

What the earlier simulated steps produced must show up at metrology: the slug the etch left
and the balls the ball attach formed, and an under-etch as residual copper and low pad
exposure on the affected sites.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from statistics import mean
from typing import Any

import pytest

from drivers.base import Tool
from drivers.etch_bath import Chemistry, EndpointMode, EtchRecipe
from drivers.laminator import LaminationRecipe
from drivers.metrology import BallRecord, SlugRecord
from drivers.mold_press import MoldRecipe
from drivers.records import next_input_map
from drivers.registry import driver_class
from drivers.states import ToolState
from sim.line import SimulatedLine, StationSim
from tests.support.integration_cycles import FINISHED

SITES = 30
STATIONS = [
    StationSim("laminator", "laminator"),
    StationSim("die-bonder", "die-bonder"),
    StationSim("wire-bonder", "wire-bonder"),
    StationSim("mold-press", "mold-press"),
    StationSim("etch-bath", "etch-bath", {"chemistry": 1}),
    StationSim("ball-attach", "ball-attach"),
    StationSim("metrology", "metrology"),
]


@pytest.fixture
def line() -> Iterator[SimulatedLine]:
    with SimulatedLine(STATIONS, time_scale=5000, seed=3).start() as simulated:
        yield simulated


def wait(tool: Tool, *states: ToolState) -> ToolState:
    return tool.wait_for_state(states, timeout_s=20.0, poll_s=0.002)


@contextmanager
def station(line: SimulatedLine, name: str) -> Iterator[Any]:
    """The driver of station ``name`` once its tool is IDLE or READY; the cycle the block ran
    acknowledged at its end."""
    with driver_class(name).open(line.address(name)) as tool:
        wait(tool, ToolState.IDLE, ToolState.READY)
        yield tool
        tool.acknowledge()


def run_cycle(tool: Tool) -> ToolState:
    """START once the tool is READY; the state its cycle finished in."""
    wait(tool, ToolState.READY)
    tool.start()
    return wait(tool, *FINISHED)


def laminate(line: SimulatedLine, strip: str) -> None:
    with station(line, "laminator") as laminator:
        laminator.arm(LaminationRecipe(), strip_ids={1: strip})
        assert run_cycle(laminator) is ToolState.DONE
        assert laminator.cycle_result().result_map.startswith("P")


def attach_dies(line: SimulatedLine, strip: str) -> str:
    with station(line, "die-bonder") as bonder:
        bonder.load_recipe("A-EQUAL")
        wait(bonder, ToolState.READY)
        bonder.strip_id, bonder.input_map = strip, "1" * SITES
        run_cycle(bonder)
        return bonder.cycle_result().result_map


def bond_wires(line: SimulatedLine, strip: str, input_map: str) -> str:
    with station(line, "wire-bonder") as bonder:
        bonder.load_program("A64")
        wait(bonder, ToolState.READY)
        bonder.strip_id, bonder.input_map = strip, input_map
        run_cycle(bonder)
        return bonder.cycle_result().result_map


def mold(line: SimulatedLine, strip: str) -> None:
    with station(line, "mold-press") as press:
        press.arm(MoldRecipe(), strip_ids={1: strip})
        assert run_cycle(press) is ToolState.DONE
        assert press.shot_result().result_map[0] == "P"


def etch(line: SimulatedLine, strip: str, recipe: EtchRecipe) -> float:
    with station(line, "etch-bath") as bath:
        bath.arm(recipe, strip_ids={1: strip})
        assert run_cycle(bath) is ToolState.DONE
        return float(bath.cycle_result().final_depth_um)


def attach_balls(line: SimulatedLine, strip: str, input_map: str) -> str:
    with station(line, "ball-attach") as balls:
        balls.load_recipe("A-BALL050")
        wait(balls, ToolState.READY)
        balls.set_magazine([strip], [input_map])
        run_cycle(balls)
        return balls.cycle_result(1).result_map


def measure(line: SimulatedLine, strip: str, recipe: str, input_map: str) -> list[Any]:
    with station(line, "metrology") as gauge:
        gauge.load_recipe(recipe)
        wait(gauge, ToolState.READY)
        if not gauge.calibration().passed:
            gauge.calibrate()
            wait(gauge, ToolState.READY)
        gauge.strip_id, gauge.input_map = strip, input_map
        run_cycle(gauge)
        return list(gauge.cycle_result().records)


def test_heat_slug_strip_by_hand_shows_the_slug_and_balls_at_metrology(line: SimulatedLine) -> None:
    strip = "HS-HAND-01"
    laminate(line, strip)
    attached = attach_dies(line, strip)
    bonded = bond_wires(line, strip, next_input_map(attached))
    mold(line, strip)
    depth_um = etch(line, strip, EtchRecipe.typical(Chemistry.CUCL2))
    assert depth_um >= 230.0

    good = next_input_map(bonded)
    slugs: list[SlugRecord] = measure(line, strip, "A-SLUG", good)
    world = line.world.get(strip)
    assert world is not None
    for record in slugs:
        if record.result == "X":
            continue
        site = world.site(record.site)
        assert record.slug_protrusion_um == pytest.approx(site.slug_protrusion_um, abs=5.0)
        assert record.residual_cu_um is not None and record.residual_cu_um <= 1.0
        assert record.pad_exposure_pct is not None and record.pad_exposure_pct >= 95.0
    slug_mean_um = mean(r.slug_protrusion_um for r in slugs if r.slug_protrusion_um is not None)
    assert 200.0 <= slug_mean_um <= 260.0, "200 µm slice + adhesive"

    balled = attach_balls(line, strip, good)
    heights: list[BallRecord] = measure(line, strip, "A-BALL", next_input_map(balled))
    measured = [r for r in heights if r.ball_height_mean_um is not None]
    assert len(measured) >= 25
    for ball in measured:
        site = world.site(ball.site)
        assert ball.ball_height_mean_um == pytest.approx(site.ball_height_mean_um, abs=5.0)
        assert ball.clearance_um is not None and ball.clearance_um > 0, (
            "claim 3: slug thinner than the balls"
        )
    ball_mean_um = mean(
        r.ball_height_mean_um for r in measured if r.ball_height_mean_um is not None
    )
    assert slug_mean_um < ball_mean_um


def test_under_etch_shows_as_residual_copper_and_low_pad_exposure(line: SimulatedLine) -> None:
    strip = "HS-HAND-02"
    laminate(line, strip)
    attached = attach_dies(line, strip)
    bond_wires(line, strip, next_input_map(attached))
    mold(line, strip)
    # ~165 µm of a 200 µm slice:
    short = EtchRecipe(endpoint_mode=EndpointMode.TIME, etch_time_s=300)
    depth_um = etch(line, strip, short)
    assert depth_um < 200.0

    slugs: list[SlugRecord] = measure(line, strip, "A-SLUG", "1" * SITES)
    measured = [r for r in slugs if r.residual_cu_um is not None]
    assert len(measured) == SITES
    assert all(r.result == "F" and r.defect in (9504, 9505) for r in measured)
    assert min(r.residual_cu_um for r in measured if r.residual_cu_um is not None) > 10.0
    assert max(r.pad_exposure_pct for r in measured if r.pad_exposure_pct is not None) < 95.0
