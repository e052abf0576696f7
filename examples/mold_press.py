"""Warm up the mold press, mold one shot of two strips, print the results, read and clear alarms.

Against a simulator it starts itself:   .venv/bin/python examples/mold_press.py
Against a running press or simulator:   .venv/bin/python examples/mold_press.py --address modbus+tcp://127.0.0.1:5020?unit=1
(`packline sim serve --endpoints endpoints.json` prints the addresses of a whole simulated line.)
"""

from __future__ import annotations

import argparse

from drivers.mold_press import MoldPress, MoldRecipe
from drivers.states import ToolState
from sim.registry import address_or_simulator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--address", help="Modbus address of the press (default: start a simulator)"
    )
    args = parser.parse_args()
    with (
        address_or_simulator("mold-press", args.address) as address,
        MoldPress.open(address) as press,
    ):
        print("connected to", press.identify())
        press.wait_for_state([ToolState.IDLE, ToolState.READY], timeout_s=60, poll_s=0.05)
        press.arm(MoldRecipe(cure_s=90), strip_ids={1: "DEMO-001", 2: "DEMO-002"})
        press.wait_for_state([ToolState.READY], timeout_s=3600, poll_s=0.05)
        print(f"chases at {press.chase_top_pv_c:.1f} / {press.chase_bottom_pv_c:.1f} °C, READY")
        press.start()
        press.wait_for_state([ToolState.DONE, ToolState.ABORTED], timeout_s=600, poll_s=0.05)
        shot = press.shot_result()
        print(
            f"shot: map {shot.result_map}, fill {shot.fill_time_s:.1f} s, alpha at open {shot.alpha_at_open:.3f}"
        )
        for position in shot.positions:
            print(
                f"  position {position.position}: {position.result or '-'} defect {position.defect} {position.strip_id}"
            )
        press.acknowledge()
        alarms = press.alarms()
        print("active alarms:", [f"{a.code} {a.alarm_class} {a.text}" for a in alarms] or "none")
        if alarms:
            press.clear_alarms()
            print("after clear:", press.active_alarms() or "none")


if __name__ == "__main__":
    main()
