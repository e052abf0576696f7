"""The DB-4 SCPI command table (die-bonder.md §4) on top of the common set of
:class:`~sim.fronts.scpi.ScpiFront`: one entry per manual command, in manual order."""

from __future__ import annotations

from sim.die_bonder.model import ZONES, DieBonderModel
from sim.fronts.scpi import ScpiCommand, ScpiFront, need_args, param_command
from sim.tool_model import Reject


def build_front(model: DieBonderModel) -> ScpiFront:
    """A :class:`ScpiFront` serving the common set plus every DB-4 command."""
    m = model

    def set_place_tolerance(args: list[str], suffixes: list[int]) -> None:
        need_args(args, 2)
        # Both values are range-checked before either is set (README §7 order).
        m.params.specs["PLACE_TOL_XY"].parse(args[0])
        m.params.specs["PLACE_TOL_THETA"].parse(args[1])
        m.set_param("PLACE_TOL_XY", args[0])
        m.set_param("PLACE_TOL_THETA", args[1])

    def place_tolerance(args: list[str], suffixes: list[int]) -> str:
        return f"{m.params.text('PLACE_TOL_XY')},{m.params.text('PLACE_TOL_THETA')}"

    def measure_temperature(args: list[str], suffixes: list[int]) -> str:
        need_args(args, 1)
        zone = args[0].upper()
        if zone not in ZONES:
            raise Reject(12, scpi=-224)
        return f"{m.temperature_c(zone):.1f}"

    def calibration(args: list[str], suffixes: list[int]) -> str:
        dx, dy, stamp = m.calibration
        return f'{dx:.1f},{dy:.1f},"{stamp}"'

    commands = [
        param_command("MODE", m, "MODE"),
        param_command("DISPense:VOLume", m, "DISP_VOL"),
        param_command("DISPense:PATTern", m, "DISP_PATT"),
        param_command("DISPense:TOLerance", m, "DISP_TOL"),
        param_command("PLACe:ZREFerence", m, "PLACE_ZREF"),
        param_command("PLACe:FORCe", m, "PLACE_FORCE"),
        param_command("PLACe:BLT", m, "PLACE_BLT"),
        ScpiCommand("PLACe:TOLerance", command=set_place_tolerance, query=place_tolerance),
        param_command("BOND:FORCe", m, "BOND_FORCE"),
        param_command("BOND:TEMPerature", m, "BOND_TEMP"),
        param_command("BOND:TIME", m, "BOND_TIME"),
        param_command("STAGe:TEMPerature", m, "STAGE_TEMP"),
        param_command("CURE:STATe", m, "CURE_STATE"),
        param_command("CURE:TEMPerature", m, "CURE_TEMP"),
        param_command("CURE:TIME", m, "CURE_TIME"),
        ScpiCommand("MEASure:TEMPerature", query=measure_temperature, query_nargs=(1, 1)),
        ScpiCommand("SUPPly:EPOXy", query=lambda a, s: str(m.syringe_pct())),
        ScpiCommand("SUPPly:DIE", query=lambda a, s: str(max(0, m.dies))),
        ScpiCommand("SUPPly:PLATe", query=lambda a, s: str(max(0, m.plates))),
        ScpiCommand(
            "CALibrate:PLACe", command=lambda a, s: m.calibrate(), query=calibration, nargs=(0, 0)
        ),
    ]
    return ScpiFront(m, commands)
