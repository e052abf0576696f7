"""Warm up the ball attach line, run a magazine of one strip, print its result map, read and
clear alarms.

Against a simulator it starts itself:   .venv/bin/python examples/ball_attach.py
Against a running BA-8 or simulator:    .venv/bin/python examples/ball_attach.py --address TCPIP::127.0.0.1::5025::SOCKET
(`packline sim serve --endpoints endpoints.json` prints the addresses of a whole simulated line.)
"""

from __future__ import annotations

import argparse

from drivers.ball_attach import BallAttach
from drivers.states import ToolState
from sim.registry import address_or_simulator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", help="VISA resource of the BA-8 (default: start a simulator)")
    parser.add_argument("--strip", default="DEMO-001", help="strip id (default DEMO-001)")
    args = parser.parse_args()
    with (
        address_or_simulator("ball-attach", args.address) as address,
        BallAttach.open(address) as ba,
    ):
        print("connected to", ba.identify())
        ba.wait_for_state([ToolState.IDLE, ToolState.READY], timeout_s=60, poll_s=0.05)
        ba.load_recipe("A-BALL050")
        ba.wait_for_state([ToolState.READY], timeout_s=3600, poll_s=0.05)
        zones = ", ".join(f"{ba.zone_temperature_pv_c(n):.1f}" for n in range(1, 9))
        profile = ba.reflow_profile()
        print(f"READY: zones {zones} °C, O2 {ba.o2_ppm} ppm")
        print(f"profile: peak {profile.peak_c} °C, TAL {profile.tal_s} s, soak {profile.soak_s} s")
        print(f"supplies: flux {ba.flux_supply_pct} %, balls {ba.ball_supply_pct} %")
        ba.set_magazine([args.strip])
        ba.start()
        ba.wait_for_state([ToolState.DONE, ToolState.ABORTED], timeout_s=1200, poll_s=0.05)
        result = ba.cycle_result(1)
        summary = result.summary
        print(f"strip {summary.strip_id}: map {result.result_map}")
        print(
            f"  {summary.passed} P, {summary.failed} F in {summary.cycle_s} s; "
            f"peak {result.peak_c} °C, TAL {result.tal_s} s, max O2 {result.max_o2_ppm} ppm"
        )
        for record in result.records:
            if record.result == "F":
                print(f"  site {record.site}: {record.defect} {ba.defect_texts[record.defect]}")
        ba.acknowledge()
        alarms = ba.alarms()
        print("active alarms:", [f"{a.code} {a.alarm_class} {a.text}" for a in alarms] or "none")
        if alarms:
            ba.clear_alarms()
            print("after clear:", ba.active_alarms() or "none")


if __name__ == "__main__":
    main()
