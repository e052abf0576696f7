"""DB-4 die bonder: warm up and verify the tool, attach dies on one strip, print its result map
and the failed sites, then read the alarms and clear them.

    .venv/bin/python examples/die_bonder.py                # starts a simulated DB-4 (scale 500)
    .venv/bin/python examples/die_bonder.py --address TCPIP::10.0.4.21::5025::SOCKET
    .venv/bin/python examples/die_bonder.py --recipe B-FC --strip LB2403-101

Without ``--address`` the simulated DB-4 starts with a syringe just above 10 %, so a strip of
A-EQUAL ends with the "Syringe low" warning (2201) to read; the script then replaces the syringe in the
simulator (the operator's job) and clears the warning.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable, Iterator

from drivers.die_bonder import DieBonder
from drivers.states import ToolState

Operator = Callable[[int], None]


@contextlib.contextmanager
def simulated_db4() -> Iterator[tuple[str, Operator]]:
    """A simulated DB-4 on loopback TCP; yields its address and the operator's remedy for an
    alarm code (in the simulator: a new syringe, wafer or reel)."""
    from sim.clock import SimClock
    from sim.die_bonder import serve
    from sim.world import World

    tool = serve(clock=SimClock(500.0), world=World(), syringe_nl=520_000)
    try:
        yield tool.address, tool.model.fix
    finally:
        tool.stop()


def run(address: str, recipe: str, strip_id: str, operator: Operator | None = None) -> None:
    with DieBonder.open(address) as bonder:
        print(f"{bonder.identify()} at {address}")
        bonder.wait_for_state(
            [s for s in ToolState if s is not ToolState.INIT], timeout_s=60, poll_s=0.1
        )

        # Warm up and verify.
        bonder.load_recipe(recipe)
        print(f"recipe {recipe}: MODE {bonder.mode}, heating ...")
        bonder.wait_for_state([ToolState.READY], timeout_s=900, poll_s=0.1)
        temperatures = ", ".join(
            f"{h} {bonder.measure_temperature_c(h):.1f} °C" for h in ("STAGE", "HEAD", "CURE")
        )
        print(f"READY: {temperatures}")
        print(
            f"supplies: syringe {bonder.supply_epoxy_pct()} %, {bonder.supply_dies()} dies, "
            f"{bonder.supply_plates()} plates; interlocks {bonder.interlocks() or 'none'}"
        )
        calibration = bonder.placement_calibration()
        if calibration.timestamp is None:
            print("placement never calibrated: CALibrate:PLACe (about 40 s)")
            bonder.calibrate_placement()
            bonder.wait_for_state([ToolState.READY], timeout_s=120, poll_s=0.1)
            calibration = bonder.placement_calibration()
        print(
            f"placement calibration {calibration.dx_um:+.1f}/{calibration.dy_um:+.1f} µm at {calibration.timestamp}"
        )

        # One strip.
        rows, cols = bonder.strip_size
        bonder.strip_id = strip_id
        bonder.input_map = "1" * (rows * cols)
        bonder.start()
        state = bonder.wait_for_state(
            [ToolState.DONE, ToolState.ABORTED], timeout_s=3600, poll_s=0.1
        )
        result = bonder.cycle_result()
        summary = result.summary
        mode, used = summary.extra
        print(
            f"{state.name}: strip {summary.strip_id} {summary.passed} P / {summary.failed} F / "
            f"{summary.skipped} X / {summary.not_processed} N in {summary.cycle_s:.1f} s, {mode}, {used} placed"
        )
        for row in range(rows, 0, -1):
            print(f"  row {row}: {result.result_map[(row - 1) * cols : row * cols]}")
        for record in result.records:
            if record.result == "F":
                print(
                    f"  site {record.site}: {record.defect} {DieBonder.defect_texts.get(record.defect, '?')}"
                )
        bonder.acknowledge()

        # Alarms.
        for alarm in bonder.alarms():
            print(f"alarm {alarm.code} ({alarm.alarm_class}) {alarm.text}")
        if operator is not None and 2201 in bonder.active_alarms():
            operator(2201)
            print("operator fitted a new syringe")
        bonder.clear_alarms()
        print(
            f"after clear: alarms {bonder.active_alarms() or 'none'}, state {bonder.state().name}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", help="VISA resource of the DB-4 (default: start a simulator)")
    parser.add_argument("--recipe", default="A-EQUAL", help="stored recipe (default A-EQUAL)")
    parser.add_argument("--strip", default="LA2403-017", help="strip id (default LA2403-017)")
    args = parser.parse_args()
    if args.address:
        run(args.address, args.recipe, args.strip)
        return
    with simulated_db4() as (address, operator):
        run(address, args.recipe, args.strip, operator)


if __name__ == "__main__":
    main()
