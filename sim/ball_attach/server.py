"""SCPI command table of the BA-8 (ball-attach.md §4) on top of the common SCPI front.

The BA-8 indexes strips: ``STRip<k>:ID|MAP|STATus`` and ``RESult<k>:*`` for k = 1-20. These
entries come before the common ones, so they also serve the suffix-less forms (k = 1), which
keeps ``STRip:ID`` and ``STRip1:ID`` the same datum. ``STRip:SIZE``/``PITCh`` accept only the
suffix 1 (``STRip2:SIZE`` -> -114).
"""

from __future__ import annotations

import re

from sim.ball_attach.model import MAX_STRIPS, BallAttachModel
from sim.ball_attach.profile import HEATED_ZONES
from sim.fronts.scpi import (
    ScpiCommand,
    ScpiFront,
    format_row,
    need_args,
    param_command,
    quoted_arg,
)
from sim.fronts.scpi_server import ScpiServer
from sim.tool_model import Reject

_IDENTIFIER = re.compile(r"^[A-Za-z0-9_.\-]{0,20}$")


class BallAttachFront(ScpiFront):
    """The common SCPI front plus the BA-8's own commands."""

    def __init__(self, model: BallAttachModel) -> None:
        self.ba = model
        super().__init__(model, self.tool_commands())

    def tool_commands(self) -> list[ScpiCommand]:
        """The tool-specific commands, in the manual's order."""
        m = self.ba

        def param(pattern: str, name: str) -> ScpiCommand:
            return param_command(pattern, m, name)

        return [
            ScpiCommand(
                "MAGazine:COUNt",
                command=lambda a, s: m.set_magazine_count(_one(a)),
                query=lambda a, s: str(m.magazine_count),
                nargs=(0, 1),
            ),
            ScpiCommand(
                "STRip#:ID",
                command=lambda a, s: m.set_strip_id_at(s[0], _identifier(a)),
                query=lambda a, s: f'"{m.strip_ids[s[0] - 1]}"',
                suffix_max=MAX_STRIPS,
                nargs=(0, 1),
            ),
            ScpiCommand(
                "STRip#:MAP",
                command=lambda a, s: m.set_input_map_at(s[0], quoted_arg(_one(a))),
                query=lambda a, s: f'"{m.input_maps[s[0] - 1]}"',
                suffix_max=MAX_STRIPS,
                nargs=(0, 1),
            ),
            ScpiCommand(
                "STRip#:STATus", query=lambda a, s: m.strip_status(s[0]), suffix_max=MAX_STRIPS
            ),
            ScpiCommand(
                "STRip#:SIZE",
                command=self._set_size,
                query=lambda a, s: f"{m.size[0]},{m.size[1]}",
                nargs=(0, 2),
            ),
            ScpiCommand(
                "STRip#:PITCh",
                command=self._set_pitch,
                query=lambda a, s: f"{m.pitch_mm[0]:.3f},{m.pitch_mm[1]:.3f}",
                nargs=(0, 2),
            ),
            param("FLUX:METHod", "FLUX_METHOD"),
            param("FLUX:THICKness", "FLUX_THICKNESS"),
            param("FLUX:SPEed", "FLUX_SPEED"),
            param("BALL:DIAMeter", "BALL_DIAMETER"),
            param("BALL:ALLoy", "BALL_ALLOY"),
            param("BALL:COUNt", "BALL_COUNT"),
            ScpiCommand(
                "REFLow:ZONE#:TEMPerature",
                command=lambda a, s: m.set_param(f"ZONE{s[0]}", _one(a)),
                query=lambda a, s: m.params.text(f"ZONE{s[0]}"),
                suffix_max=HEATED_ZONES,
            ),
            param("REFLow:SPEed", "REFLOW_SPEED"),
            param("REFLow:NITRogen", "NITROGEN"),
            param("REFLow:O2LImit", "O2_LIMIT"),
            ScpiCommand("REFLow:LIMits", command=self._set_limits, query=self._limits),
            ScpiCommand("REFLow:PROFile", query=lambda a, s: self._profile()),
            param("INSPection:OFFSet", "INSP_OFFSET"),
            param("INSPection:DIAMeter", "INSP_DIAMETER"),
            ScpiCommand(
                "MEASure:ZONE#:TEMPerature",
                query=lambda a, s: f"{m.zone_air_c(s[0] - 1):.1f}",
                suffix_max=HEATED_ZONES,
            ),
            ScpiCommand("MEASure:O2", query=lambda a, s: str(round(m.o2_ppm))),
            ScpiCommand("SUPPly:FLUX", query=lambda a, s: str(round(m.flux_supply_pct))),
            ScpiCommand("SUPPly:BALL", query=lambda a, s: str(round(m.ball_supply_pct))),
            ScpiCommand(
                "RESult#:COUNt", query=lambda a, s: self._result_count(s[0]), suffix_max=MAX_STRIPS
            ),
            ScpiCommand(
                "RESult#:DATA", query=self._strip_data, suffix_max=MAX_STRIPS, query_nargs=(0, 2)
            ),
            ScpiCommand(
                "RESult#:MAP",
                query=lambda a, s: f'"{m.strip_results(s[0]).result_map}"',
                suffix_max=MAX_STRIPS,
            ),
            ScpiCommand(
                "RESult#:SUMMary", query=lambda a, s: self._summary(s[0]), suffix_max=MAX_STRIPS
            ),
        ]

    # -- handlers ---------------------------------------------------------------------------
    def _set_limits(self, args: list[str], suffixes: list[int]) -> None:
        need_args(args, 4)
        self.ba.set_limits(args)

    def _limits(self, args: list[str], suffixes: list[int]) -> str:
        return ",".join(
            self.ba.params.text(name) for name in ("PEAK_MIN", "PEAK_MAX", "TAL_MIN", "TAL_MAX")
        )

    def _profile(self) -> str:
        p = self.ba.profile_figures()
        return (
            f"{p.peak_c:.1f},{p.tal_s:.1f},{p.soak_s:.1f},{p.max_ramp_c_s:.2f},{p.max_cool_c_s:.2f}"
        )

    def _result_count(self, index: int) -> str:
        try:
            return str(len(self.ba.strip_results(index).rows))
        except Reject:
            return "0"

    def _strip_data(self, args: list[str], suffixes: list[int]) -> str:
        try:
            sites = len(self.ba.strip_results(suffixes[0]).rows)
        except Reject:
            sites = self.ba.sites
        # README §7: the range check (-222) comes before "no results" (27).
        start, count = self.result_page(args, sites, self.page_max)
        results = self.ba.strip_results(suffixes[0])
        return ";".join(format_row(row) for row in results.rows[start - 1 : start - 1 + count])

    def _summary(self, index: int) -> str:
        r = self.ba.strip_results(index)
        counts = [len(r.rows), *(r.count(c) for c in "PFXN")]
        return ",".join(
            [f'"{r.strip_id}"', *map(str, counts), f"{r.cycle_s:.1f}", *r.summary_extra]
        )


def _one(args: list[str]) -> str:
    need_args(args, 1)
    return args[0]


def _identifier(args: list[str]) -> str:
    """A quoted strip id (README §3 identifier rule, -151 otherwise)."""
    text = quoted_arg(_one(args))
    if not _IDENTIFIER.match(text):
        raise Reject(12, scpi=-151)
    return text


def ball_attach_server(
    model: BallAttachModel, *, transport: str = "tcp", port: int = 0
) -> ScpiServer:
    """The BA-8's SCPI front on a loopback TCP port (ball-attach.md §2) or a pty."""
    return ScpiServer(BallAttachFront(model), transport=transport, port=port)
