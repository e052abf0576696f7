"""Warm up and verify the dicing saw, dice one Format B strip, print its result map, read and
clear alarms.

Against a simulator it starts itself:   .venv/bin/python examples/dicing_saw.py
Against a running saw or simulator:     .venv/bin/python examples/dicing_saw.py --address ASRL/dev/ttyUSB0::INSTR
(`packline sim serve --endpoints endpoints.json` prints the addresses of a whole simulated line.)
"""

from __future__ import annotations

import argparse

from drivers.dicing_saw import DicingSaw, max_spindle_speed_krpm
from drivers.states import ToolState
from sim.registry import address_or_simulator

STRIP_ID = "DEMO-B-001"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", help="VISA resource of the saw (default: start a simulator)")
    args = parser.parse_args()
    with (
        address_or_simulator("dicing-saw", args.address) as address,
        DicingSaw.open(address) as saw,
    ):
        print("connected to", saw.identify())
        saw.wait_for_state([ToolState.IDLE, ToolState.READY], timeout_s=60, poll_s=0.05)
        saw.load_recipe("B-SING")
        saw.wait_for_state([ToolState.READY], timeout_s=400, poll_s=0.05)  # WARMUP 300 s cold
        if "BLADE" in saw.interlocks():
            saw.setup_blade()
            saw.wait_for_state([ToolState.READY], timeout_s=120, poll_s=0.05)
        speed, thickness = saw.spindle_speed_krpm, saw.blade_thickness_um
        limit = max_spindle_speed_krpm(thickness)
        print(
            f"blade {thickness} µm at {speed} krpm (limit {limit}), exposure {saw.blade_exposure_mm()} mm"
        )
        print(f"blade count {saw.blade_count()} of {saw.blade_limit_cuts} line passes")
        spindle = saw.measure_spindle()
        print(
            f"spindle {spindle.krpm} krpm, load {spindle.load_pct} %, coolant {saw.measure_coolant_l_min()} L/min"
        )
        rows, cols = saw.strip_size
        saw.strip_id = STRIP_ID
        saw.input_map = "1" * (rows * cols)
        saw.start()
        saw.wait_for_state([ToolState.DONE, ToolState.ABORTED], timeout_s=900, poll_s=0.05)
        result = saw.cycle_result()
        summary = result.summary
        print(
            f"{summary.strip_id}: {summary.passed} P, {summary.failed} F, {summary.skipped} X, "
            f"{summary.not_processed} N in {summary.cycle_s} s, {summary.extra.line_passes_cut} line passes"
        )
        for row in range(rows, 0, -1):  # die side up, row 1 at the bottom (README §4)
            print(f"  row {row}: {result.result_map[(row - 1) * cols : row * cols]}")
        worst = max(
            (r for r in result.records if r.max_chipping_um is not None),
            key=lambda r: r.max_chipping_um,
        )
        print(f"worst chipping {worst.max_chipping_um} µm at site {worst.site}")
        saw.acknowledge()
        alarms = saw.alarms()
        print("active alarms:", [f"{a.code} {a.alarm_class} {a.text}" for a in alarms] or "none")
        if alarms:
            saw.clear_alarms()
            print("after clear:", saw.active_alarms() or "none")


if __name__ == "__main__":
    main()
