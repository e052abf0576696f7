"""Warm up and calibrate the UV laser, ablate one Format B film strip, print its result map and
a few records, then read and clear the alarms.

Against a simulator it starts itself:   .venv/bin/python examples/laser.py
Against a running laser or simulator:   .venv/bin/python examples/laser.py --address TCPIP::127.0.0.1::5025::SOCKET
(`packline sim serve --endpoints endpoints.json` prints the addresses of a whole simulated line.)
"""

from __future__ import annotations

import argparse

from drivers.laser import Laser
from drivers.states import ToolState
from sim.registry import address_or_simulator

STRIP_ID = "FB-DEMO-001"
RECIPE = "B-IO16-DIE4"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", help="VISA resource of the laser (default: start a simulator)")
    args = parser.parse_args()
    with address_or_simulator("laser", args.address) as address, Laser.open(address) as laser:
        print("connected to", laser.identify())
        laser.wait_for_state([ToolState.IDLE, ToolState.READY], timeout_s=60, poll_s=0.05)
        laser.load_recipe(RECIPE)
        print("warming up the source ...")
        laser.wait_for_state([ToolState.READY], timeout_s=900, poll_s=0.05)
        calibration = laser.calibration()
        if "CAL" in laser.interlocks() or not calibration.in_tolerance:
            laser.calibrate()
            laser.wait_for_state([ToolState.READY], timeout_s=120, poll_s=0.05)
            calibration = laser.calibration()
        print(f"calibration ratio {calibration.ratio:.3f} at {calibration.timestamp}")
        print(
            f"pattern {laser.pattern}: {laser.pattern_vias} vias + {laser.pattern_area_mm2:.2f} mm² "
            f"recess to {laser.recess_depth_um:.1f} µm at {laser.fluence_j_cm2:.2f} J/cm², "
            f"{laser.power_w():.3f} W"
        )
        rows, cols = laser.strip_size
        laser.strip_id = STRIP_ID
        laser.input_map = "1" * (rows * cols)
        laser.start()
        laser.wait_for_state([ToolState.DONE, ToolState.ABORTED], timeout_s=3600, poll_s=0.05)
        result = laser.cycle_result()
        summary = result.summary
        pattern, vias_ablated = summary.extra
        print(
            f"{summary.strip_id}: {summary.passed} P, {summary.failed} F, {summary.skipped} X, "
            f"{summary.not_processed} N in {summary.cycle_s:.1f} s; {vias_ablated} vias ({pattern})"
        )
        for row in range(rows, 0, -1):  # top row first, datum corner at lower left
            print("  ", result.result_map[(row - 1) * cols : row * cols])
        for record in result.records[:3] + [r for r in result.records if not r.passed][:3]:
            print("  ", record, laser.defect_texts.get(record.defect, ""))
        laser.acknowledge()
        alarms = laser.alarms()
        print("active alarms:", [f"{a.code} {a.alarm_class} {a.text}" for a in alarms] or "none")
        if alarms:
            laser.clear_alarms()
            print("after clear:", laser.active_alarms() or "none")


if __name__ == "__main__":
    main()
