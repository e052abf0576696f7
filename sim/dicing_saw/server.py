"""DS-2 SCPI front (dicing-saw.md §2, §4): the tool's command table on the common SCPI front,
replies ending in CR LF, result pages of at most 16 records, messages of at most 1100 characters."""

from __future__ import annotations

from sim.dicing_saw.model import DicingSawModel
from sim.fronts.scpi import ScpiCommand, ScpiFront, param_command
from sim.tool_model import Reject

MAX_MESSAGE_CHARS = 1100


def tool_commands(model: DicingSawModel) -> list[ScpiCommand]:
    """§4 in manual order."""
    no_args = (0, 0)
    return [
        param_command("SPINdle:SPEed", model, "spindle_speed_krpm"),
        param_command("BLADe:THICKness", model, "blade_thickness_um"),
        param_command("BLADe:LIMit", model, "blade_limit"),
        ScpiCommand("BLADe:COUNt", query=lambda a, s: str(model.blade.count)),
        ScpiCommand("BLADe:CHANge", command=lambda a, s: model.change_blade(), nargs=no_args),
        ScpiCommand("BLADe:SETup", command=lambda a, s: model.setup_blade(), nargs=no_args),
        ScpiCommand("BLADe:EXPosure", query=lambda a, s: f"{model.exposure_reading_mm():.3f}"),
        param_command("CUT:FEED", model, "cut_feed_mm_s"),
        param_command("CUT:HEIGht", model, "cut_height_mm"),
        param_command("CUT:PASSes", model, "cut_passes"),
        param_command("CUT:CHECk", model, "cut_check"),
        param_command("CUT:OFFSet:LIMit", model, "cut_offset_limit_um"),
        param_command("CUT:CHIPping:LIMit", model, "cut_chipping_limit_um"),
        param_command("COOLant:FLOW", model, "coolant_flow_l_min"),
        ScpiCommand("MEASure:SPINdle", query=lambda a, s: _spindle_reading(model)),
        ScpiCommand("MEASure:COOLant", query=lambda a, s: f"{model.coolant_l_min:.1f}"),
    ]


def _spindle_reading(model: DicingSawModel) -> str:
    """``<krpm 1 dec.>,<load % NR1>``."""
    return f"{model.spindle_krpm:.1f},{round(model.load_pct)}"


class DicingSawFront(ScpiFront):
    """The common SCPI front with the DS-2's terminator, page size and line length."""

    page_max = 16

    def __init__(self, model: DicingSawModel) -> None:
        super().__init__(model, tool_commands(model), terminator=b"\r\n")

    def handle(self, message: str) -> str | None:
        """A message over 1100 characters is not executed: ``-102,"Syntax error"``."""
        if len(message.strip()) > MAX_MESSAGE_CHARS:
            self.queue_error(Reject(11))
            return None
        return super().handle(message)
