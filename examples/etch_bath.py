"""Warm up the etch bath, etch one carrier of two strips, print the results, read and clear alarms.

Against a simulator it starts itself:   .venv/bin/python examples/etch_bath.py
Against a running bath or simulator:    .venv/bin/python examples/etch_bath.py --address ADDRESS
  RTU:                modbus+rtu:///dev/ttyUSB0?baudrate=19200&parity=E&unit=1
  TCP via gateway:    modbus+tcp://192.168.10.40:502?unit=1
(`packline sim serve --endpoints endpoints.json` prints the addresses of a whole simulated line.)
"""

from __future__ import annotations

import argparse

from drivers.etch_bath import Chemistry, EtchBath, EtchRecipe
from drivers.states import ToolState
from sim.registry import address_or_simulator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", help="Modbus address of the bath (default: start a simulator)")
    args = parser.parse_args()
    with (
        address_or_simulator("etch-bath", args.address, transport="rtu") as address,
        EtchBath.open(address) as bath,
    ):
        print("connected to", bath.identify())
        bath.wait_for_state([ToolState.IDLE, ToolState.READY], timeout_s=60, poll_s=0.05)
        chemistry = Chemistry(bath.chemistry)
        recipe = EtchRecipe.typical(chemistry)
        print(f"station chemistry {chemistry.name}: {recipe.temp_sp_c} °C, {recipe.conc_sp}, "
              f"target {recipe.depth_target_um} µm")  # fmt: skip
        bath.arm(recipe, strip_ids={1: "DEMO-001", 2: "DEMO-002"})
        bath.wait_for_state([ToolState.READY], timeout_s=3 * 3600, poll_s=0.05)
        readings = bath.bath_readings()
        print(f"READY: {readings.temp_c:.1f} °C, conc {readings.conc:.1f}, "
              f"level {readings.level_mm} mm, estimate {bath.etch_rate_est_um_min:.2f} µm/min")  # fmt: skip
        bath.start()
        phase = -1
        while (status := bath.status()).state not in (
            ToolState.DONE, ToolState.ABORTED, ToolState.ALARM
        ):  # fmt: skip
            if status.phase != phase:
                phase = status.phase
                print(f"  {bath.phase_names[phase]:<6} at {status.cycle_elapsed_s:4d} s, "
                      f"about {status.cycle_remaining_s} s to go")  # fmt: skip
        result = bath.cycle_result() if bath.common_inputs().results_available else None
        if result is not None:
            print(f"batch: map {result.result_map}, {result.end_reason.name}, "
                  f"{result.final_depth_um:.2f} µm in {result.final_etch_s} s "
                  f"({result.mean_rate_um_min:.2f} µm/min at {result.mean_temp_c:.1f} °C)")  # fmt: skip
            for slot in result.positions:
                if slot.result != "X":
                    print(
                        f"  slot {slot.position}: {slot.result} defect {slot.defect} {slot.strip_id}"
                    )
        alarms = bath.alarms()
        print("active alarms:", [f"{a.code} {a.alarm_class} {a.text}" for a in alarms] or "none")
        if alarms:
            bath.clear_alarms()
            print("after clear:", bath.active_alarms() or "none")
        if bath.state() in (ToolState.DONE, ToolState.ABORTED):
            bath.acknowledge()
        bath.disarm()


if __name__ == "__main__":
    main()
