"""SCPI command table of the UVL-3 (laser.md §4) on top of the common SCPI front (README §9.1)."""

from __future__ import annotations

from sim.fronts.scpi import ScpiCommand, ScpiFront, need_args, param_command, quoted_arg
from sim.fronts.scpi_server import ScpiServer
from sim.laser.model import LaserModel


def laser_commands(model: LaserModel) -> list[ScpiCommand]:
    """The tool-specific commands, in the manual's order."""

    def select_pattern(args: list[str], suffixes: list[int]) -> None:
        need_args(args, 1)
        model.select_pattern(quoted_arg(args[0]))

    def param(pattern: str, name: str) -> ScpiCommand:
        return param_command(pattern, model, name)

    return [
        ScpiCommand(
            "PATTern:SELect",
            command=select_pattern,
            query=lambda a, s: f'"{model.params["pattern"]}"',
        ),
        ScpiCommand(
            "PATTern:CATalog",
            query=lambda a, s: ",".join(f'"{n}"' for n in model.pattern_catalog()),
        ),
        ScpiCommand("PATTern:VIAS", query=lambda a, s: str(model.pattern.vias)),
        ScpiCommand("PATTern:AREA", query=lambda a, s: f"{model.pattern.area_mm2:.2f}"),
        param("LASer:FLUence", "fluence_j_cm2"),
        param("LASer:FREQuency", "frequency_khz"),
        param("LASer:SPOT", "spot_um"),
        param("FILM:THICKness", "film_thickness_um"),
        param("VIA:PULSes", "via_max_pulses"),
        param("VIA:ENDPoint", "via_endpoint"),
        param("RECess:DEPTh", "recess_depth_um"),
        param("RECess:TOLerance", "recess_tolerance_um"),
        ScpiCommand("LASer:POWer", query=lambda a, s: f"{model.power_w():.3f}"),
        ScpiCommand(
            "LASer:CALibrate",
            command=lambda a, s: model.calibrate(),
            query=lambda a, s: model.calibration_text(),
            nargs=(0, 0),
        ),
        ScpiCommand("LASer:SHUTter", query=lambda a, s: model.shutter()),
        ScpiCommand("LASer:HOURs", query=lambda a, s: str(int(model.source_hours))),
    ]


def laser_server(model: LaserModel, *, transport: str = "tcp", port: int = 0) -> ScpiServer:
    """The UVL-3's SCPI front on a loopback TCP port (laser.md §2) or a pty."""
    return ScpiServer(ScpiFront(model, laser_commands(model)), transport=transport, port=port)
