"""``packline dry-run``: a Format A strip through die attach, wire bond and mold on a simulated
line, with the real drivers over real transports, printing each step's result map and summary.

This is the foundation's dry run; the full route runner (every product variant, lots, reports)
builds on the same steps.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from drivers.die_bonder import DieBonder
from drivers.errors import PacklineError
from drivers.mold_press import MoldPress, MoldRecipe
from drivers.records import next_input_map
from drivers.wire_bonder import WireBonder
from sequences.strip_steps import Pace, StepOutcome, die_attach, mold_shot, wire_bond
from sim.line import SimulatedLine, StationSim
from sim.scenario import load_scenario

STATIONS = [
    StationSim("die-bonder", "die-bonder"),
    StationSim("wire-bonder", "wire-bonder"),
    StationSim("mold-press", "mold-press"),
]
FORMAT_A_SITES = 30


def _print_outcome(outcome: StepOutcome) -> None:
    print(
        f"[{outcome.step:<10}] {outcome.station:<12} {outcome.strip_id}  {outcome.final_state.name}"
    )
    print(f"    result map  {outcome.result_map}")
    print(f"    summary     {outcome.summary}  ({outcome.wall_s:.2f} s wall)")


def run_dry_run(*, time_scale: float, seed: int, strip_id: str, scenario_path: Path | None) -> int:
    """Run the strip; 0 if every step finished (DONE), 1 if a step failed or a tool alarmed."""
    scenario = load_scenario(scenario_path) if scenario_path else None
    pace = Pace(time_scale)
    print(
        f"dry run: strip {strip_id} (Format A, {FORMAT_A_SITES} sites), time scale {time_scale:g}, seed {seed}"
    )
    started = time.monotonic()
    with SimulatedLine(STATIONS, time_scale=time_scale, seed=seed).start() as line:
        if scenario is not None:
            line.load_scenario(scenario)
        line.world.strip(strip_id, 3, 10)
        for name, endpoint in line.endpoints().items():
            print(f"    {name:<12} {endpoint['address']}")
        try:
            with (
                DieBonder.open(line.address("die-bonder")) as die_bonder,
                WireBonder.open(line.address("wire-bonder")) as wire_bonder,
                MoldPress.open(line.address("mold-press")) as press,
            ):
                attached = die_attach(
                    die_bonder,
                    station="die-bonder",
                    recipe="A-EQUAL",
                    strip_id=strip_id,
                    input_map="1" * FORMAT_A_SITES,
                    pace=pace,
                )
                _print_outcome(attached)
                bonded = wire_bond(
                    wire_bonder,
                    station="wire-bonder",
                    program="A64",
                    strip_id=strip_id,
                    input_map=next_input_map(attached.result_map),
                    pace=pace,
                )
                _print_outcome(bonded)
                (molded,) = mold_shot(
                    press,
                    station="mold-press",
                    recipe=MoldRecipe(),
                    strips={1: strip_id},
                    pace=pace,
                )
                _print_outcome(molded)
        except PacklineError as exc:
            print(f"dry run stopped: {exc}", file=sys.stderr)
            return 1
        site_states = line.world.get(strip_id)
        assert site_states is not None
        good = sum(
            1
            for site in site_states.sites.values()
            if not site.defects and site.molded and site.wires_bonded
        )
    print(
        f"strip {strip_id}: {good} of {FORMAT_A_SITES} sites attached, bonded and molded without a defect"
    )
    print(f"done in {time.monotonic() - started:.1f} s wall")
    outcomes_done = all(o.final_state.name == "DONE" for o in (attached, bonded, molded))
    return 0 if outcomes_done else 1
