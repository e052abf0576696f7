"""Laminate one strip on an LM-8: warm up, check the tool, run a cycle, print the results,
read and clear the alarms (laminator.md §5).

    .venv/bin/python examples/laminator.py                          # starts a simulated LM-8 (time x600)
    .venv/bin/python examples/laminator.py --address "modbus+tcp://10.0.0.21:502?unit=1" --strip-id LA2403-017

Without ``--address`` the script serves a simulated laminator on loopback and runs against it;
the ~94 min cycle then takes about 10 s.
"""

from __future__ import annotations

import argparse
import contextlib
import sys

from drivers.errors import PacklineError, ToolAlarm
from drivers.laminator import LaminationRecipe, Laminator
from drivers.states import ToolState

INIT_S = 10.0  # §3
HEATUP_LIMIT_S = 30 * 60.0  # alarm 1105 after 30 min
POLL_S = 0.25  # §2: no faster than every 250 ms


def run(laminator: Laminator, strip_id: str, time_scale: float) -> int:
    """The engineer's sequence; ``time_scale`` shortens the waits for a simulated tool."""
    identity = laminator.identify()
    print(f"{identity.model} serial {identity.serial}, firmware {identity.firmware}")
    laminator.wait_for_state(
        [ToolState.IDLE, ToolState.HEATING, ToolState.READY], timeout_s=INIT_S / time_scale + 5.0
    )

    recipe = LaminationRecipe()
    laminator.arm(recipe, strip_ids={1: strip_id})
    print(f"armed: platen {recipe.platen_sp_c} °C, standby {recipe.standby_sp_c} °C; heating up")
    laminator.wait_for_state(
        [ToolState.READY], timeout_s=HEATUP_LIMIT_S / time_scale + 5.0, poll_s=POLL_S
    )
    top, bottom = laminator.platen_top_pv_c, laminator.platen_bottom_pv_c
    print(f"READY: platens {top:.1f} / {bottom:.1f} °C, in band: {laminator.temp_in_band}")
    print(
        f"loaded positions {laminator.loaded_positions()}, interlocks {laminator.interlocks() or 'none'}"
    )

    laminator.start()
    last_phase = ""

    def show_phase(state: ToolState) -> None:
        nonlocal last_phase
        phase = laminator.phase()
        if phase != last_phase:
            print(f"  {state.name:8} {phase}")
            last_phase = phase

    timeout_s = 1.5 * recipe.nominal_cycle_s / time_scale + 10.0
    try:
        final = laminator.wait_for_state(
            [ToolState.DONE, ToolState.ABORTED],
            timeout_s=timeout_s,
            poll_s=POLL_S,
            on_poll=show_phase,
        )
    except ToolAlarm as alarm:
        print(f"cycle stopped by alarm {alarm.code} ({alarm.alarm_class}) {alarm.text}")
        return 1

    result = laminator.cycle_result()
    print(f"{final.name}: result map {result.result_map}")
    for position in result.positions:
        if position.strip_id:
            defect = laminator.defect_texts.get(position.defect, "")
            print(
                f"  position {position.position} {position.strip_id}: {position.result} {defect}".rstrip()
            )
    print(
        f"  peak {result.peak_temp_c} °C, max deviation {result.max_temp_dev_c} °C, "
        f"min pressure {result.min_pressure_dwell_mpa} MPa, max vacuum {result.max_vacuum_dwell_kpa} kPa, "
        f"dwell {result.dwell_actual_s} s"
    )

    alarms = laminator.alarms()
    print("alarms:", ", ".join(f"{a.code} ({a.alarm_class}) {a.text}" for a in alarms) or "none")
    laminator.clear_alarms()
    laminator.acknowledge()
    print(
        f"acknowledged; laminator {laminator.state().name}, alarms left {laminator.active_alarms()}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--address", help="modbus+tcp://HOST:PORT?unit=1 (default: start a simulator)"
    )
    parser.add_argument("--strip-id", default="LA2403-017", help="strip id in position 1")
    parser.add_argument("--time-scale", type=float, default=600.0, help="simulator speed-up")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        if args.address:
            address, time_scale = args.address, 1.0
        else:
            from sim.clock import SimClock
            from sim.laminator import serve
            from sim.world import World

            simulator = serve(clock=SimClock(args.time_scale), world=World())
            stack.callback(simulator.stop)
            address, time_scale = simulator.address, args.time_scale
            print(f"simulated LM-8 at {address}")
        try:
            laminator = stack.enter_context(Laminator.open(address))
            return run(laminator, args.strip_id, time_scale)
        except PacklineError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2


if __name__ == "__main__":
    sys.exit(main())
