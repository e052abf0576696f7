"""MS-3 metrology station: check the tool, calibrate it if needed, measure one strip, print the
result map and the failed sites, then read the alarms and clear them.

    .venv/bin/python examples/metrology.py             # starts a simulated MS-3 on a pty
    .venv/bin/python examples/metrology.py --address /dev/ttyUSB0 --recipe A-BALL --strip LA2403-017
    .venv/bin/python examples/metrology.py --address socket://127.0.0.1:7009

Without ``--address`` the script starts a simulated MS-3 (time scale 100) and builds a
Package A strip after ball attach in its world, with two bad sites and a warning to clear.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator

from drivers.metrology import LIMIT_ITEMS, Metrology
from drivers.states import ToolState


@contextlib.contextmanager
def simulated_ms3(strip_id: str) -> Iterator[str]:
    """A simulated MS-3 whose world holds ``strip_id`` after ball attach; yields its address."""
    from sim.clock import SimClock
    from sim.metrology import serve
    from sim.world import World

    world = World()
    for site_id, site in world.strip(strip_id, 3, 10).sites.items():
        site.ball_height_mean_um, site.ball_height_min_um, site.coplanarity_um = 402.0, 391.0, 60.0
        site.slug_protrusion_um = 225.0
        site.balls_missing = 1 if site_id == 12 else 0
        if site_id == 2:
            site.coplanarity_um = 118.0
    tool = serve(clock=SimClock(100.0), world=world, transport="pty")
    tool.faults.alarm(9105, site=20)  # an enclosure temperature warning during the cycle
    try:
        yield tool.address
    finally:
        tool.stop()


def run(address: str, recipe: str, strip_id: str, input_map: str | None) -> None:
    with Metrology.open(address) as gauge:
        print(f"{gauge.identify()} at {address}")
        gauge.wait_for_state([s for s in ToolState if s is not ToolState.INIT], timeout_s=30)
        gauge.load_recipe(recipe)
        status = gauge.status()
        print(
            f"state {status.state}, mode {status.mode}, enclosure {gauge.enclosure_temperature_c:.1f} °C"
        )
        calibration = gauge.calibration()
        if not calibration.passed or (calibration.hours_since or 0.0) > 20.0:
            print(f"calibration {calibration.result}: calibrating (about 20 s)")
            gauge.calibrate()
            gauge.wait_for_state([ToolState.READY], timeout_s=60)
        print(f"calibration {gauge.calibration()}")

        gauge.strip_id = strip_id
        if input_map is not None:
            gauge.input_map = input_map
        gauge.start()
        gauge.wait_for_state(
            [ToolState.DONE, ToolState.ABORTED], timeout_s=900, poll_s=0.2, raise_on_alarm=False
        )
        result = gauge.cycle_result()
        summary = result.summary
        print(
            f"strip {summary.strip_id}: {summary.passed} P, {summary.failed} F, {summary.skipped} X, "
            f"{summary.not_processed} N in {summary.cycle_s:.1f} s ({summary.extra[0]})"
        )
        rows, cols = gauge.strip_size
        for row in range(rows, 0, -1):  # top row first, datum corner at lower left (README §4)
            print(f"  row {row}: {result.result_map[(row - 1) * cols : row * cols]}")
        for record in result.records:
            if record.result == "F":
                print(f"  site {record.site}: defect {record.defect} {record}")
        for item in (name for name, spec in LIMIT_ITEMS.items() if spec.mode == summary.extra[0]):
            stats = gauge.statistics(item)
            print(
                f"  {item}: n={stats.n} mean={stats.mean} std={stats.std} min={stats.minimum} max={stats.maximum}"
            )
        gauge.acknowledge()

        for alarm in gauge.alarms():
            print(f"alarm {alarm.code} ({alarm.alarm_class}) {alarm.text}")
        gauge.clear_alarms()
        print(f"alarms after clear: {gauge.active_alarms() or 'none'}; state {gauge.state()}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--address", help="device path or socket://host:port (default: start a simulator)"
    )
    parser.add_argument("--recipe", default="A-BALL")
    parser.add_argument("--strip", default="LA2403-017")
    parser.add_argument("--map", help="input map, one 0/1 per site (default: all sites)")
    args = parser.parse_args()
    if args.address:
        run(args.address, args.recipe, args.strip, args.map)
    else:
        with simulated_ms3(args.strip) as address:
            run(address, args.recipe, args.strip, args.map)


if __name__ == "__main__":
    main()
