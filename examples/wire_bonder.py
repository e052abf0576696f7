"""WB-3 wire bonder: warm up and verify the tool, bond one strip, print its result map and the
failed units, then read the alarms and clear them.

    .venv/bin/python examples/wire_bonder.py               # starts a simulated WB-3 on a pty
    .venv/bin/python examples/wire_bonder.py --tcp         # ... on loopback TCP (socket://)
    .venv/bin/python examples/wire_bonder.py --address /dev/ttyUSB0
    .venv/bin/python examples/wire_bonder.py --address socket://10.0.4.31:7003 --program B16

Without ``--address`` the simulated WB-3 starts with a capillary near the end of its life, so
the strip ends with the "Capillary life 90 %" warning (3201) to read; the script then resets
the bond counter (``CAPRESET``: the operator fitted a new capillary) and clears the warning.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator

from drivers.states import ToolState
from drivers.wire_bonder import WireBonder


@contextlib.contextmanager
def simulated_wb3(transport: str) -> Iterator[str]:
    """A simulated WB-3 at time scale 200 (heat-up ≈ 2 s, one Format A strip ≈ 1 s)."""
    from sim.clock import SimClock
    from sim.wire_bonder import serve
    from sim.world import World

    tool = serve(clock=SimClock(200.0), world=World(), transport=transport, capillary_bonds=898_500)
    try:
        yield tool.address
    finally:
        tool.stop()


def run(address: str, program: str, strip_id: str) -> None:
    with WireBonder.open(address) as bonder:
        print(f"{bonder.identify()} at {address}")
        bonder.wait_for_state(
            [s for s in ToolState if s is not ToolState.INIT], timeout_s=60, poll_s=0.1
        )

        # Warm up and verify.
        bonder.load_program(program)
        info = bonder.program()
        print(
            f"program {info.name}: {info.wires} wires/unit, heating to {bonder.stage_temperature_sp_c} °C ..."
        )
        bonder.wait_for_state([ToolState.READY], timeout_s=900, poll_s=0.2)
        consumables = bonder.consumables()
        print(
            f"READY: stage {bonder.stage_temperature_c():.1f} °C, {bonder.wire_material} "
            f"{bonder.wire_diameter_um} µm wire, FAB {bonder.fab_diameter_um} µm, loop {bonder.loop_height_um} µm; "
            f"capillary {consumables.capillary_bonds}/{consumables.capillary_limit_bonds} bonds, "
            f"{consumables.wire_left_m:.1f} m of wire"
        )

        # One strip.
        rows, cols = bonder.strip_size
        bonder.strip_id = strip_id
        bonder.write_input_map("1" * (rows * cols), sites=rows * cols)
        bonder.start()
        state = bonder.wait_for_state(
            [ToolState.DONE, ToolState.ABORTED], timeout_s=3600, poll_s=0.2
        )
        result = bonder.cycle_result()
        summary = result.summary
        print(
            f"{state.name}: strip {summary.strip_id} {summary.passed} P / {summary.failed} F / "
            f"{summary.skipped} X / {summary.not_processed} N in {summary.cycle_s:.1f} s, "
            f"{summary.wires_bonded} wires"
        )
        for row in range(rows, 0, -1):
            print(f"  row {row}: {result.result_map[(row - 1) * cols : row * cols]}")
        for record in result.records:
            if record.result == "F":
                text = WireBonder.defect_texts.get(record.defect, "?")
                print(
                    f"  site {record.site}: {record.defect} {text} ({record.wires_bonded}/{record.wires_total} wires)"
                )
        bonder.acknowledge()

        # Alarms.
        alarms = bonder.alarms()
        for alarm in alarms:
            print(f"alarm {alarm.code} ({alarm.alarm_class}) {alarm.text}")
        if any(alarm.code in (3108, 3201) for alarm in alarms):
            bonder.reset_capillary()
            print("operator fitted a new capillary: CAPRESET")
        bonder.clear_alarms()
        print(
            f"after clear: alarms {bonder.active_alarms() or 'none'}, state {bonder.state().name}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--address", help="device path or socket:// URL of the WB-3 (default: a simulator)"
    )
    parser.add_argument(
        "--tcp", action="store_true", help="serve the simulator on loopback TCP, not a pty"
    )
    parser.add_argument("--program", default="A64", help="bond program (default A64)")
    parser.add_argument("--strip", default="LA2403-017", help="strip id (default LA2403-017)")
    args = parser.parse_args()
    if args.address:
        run(args.address, args.program, args.strip)
        return
    with simulated_wb3("tcp" if args.tcp else "pty") as address:
        run(address, args.program, args.strip)


if __name__ == "__main__":
    main()
