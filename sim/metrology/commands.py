"""The MS-3 command table of metrology.md §4 for the line front: arguments parsed and checked
in the README §7 order, model calls, and the reply formats of §4 and §5."""

from __future__ import annotations

import re

from sim.fronts.line_ascii import LineCommand, LineReply
from sim.fronts.scpi import format_row, int_arg
from sim.metrology.model import MetrologyModel, summary_of
from sim.params import ParamSpec
from sim.tool_model import Reject

_IDENTIFIER = re.compile(r"^[A-Za-z0-9_.\-]+$")
_PITCH = ParamSpec("PITCH", "float", 17.3, 1.0, 50.0, 3, recipe=False)
LIST_PAGE = 10
RD_MAX = 1024


def identifier(text: str, max_len: int) -> str:
    """README §3: 1-20 (names 1-16) characters of ``A-Z a-z 0-9 - _ .``; else 12."""
    if not _IDENTIFIER.match(text) or len(text) > max_len:
        raise Reject(12)
    return text


def metrology_commands(m: MetrologyModel) -> list[LineCommand]:
    """Every command of §4, in manual order."""

    def status(_: list[str]) -> str:
        done, total, _elapsed, _remaining = m.progress()
        phase = m.phase if m.cycle_active else "NONE"
        return f"{m.state_name()},{m.mode},{phase},{done},{total}"

    def recipe_list(args: list[str]) -> str:
        start = int_arg(args[0], 1, 1_000_000)
        names = m.catalog()
        return ",".join([str(len(names)), *names[start - 1 : start - 1 + LIST_PAGE]])

    def set_size(args: list[str]) -> None:
        rows, cols = (int_arg(arg, 1, 1024) for arg in args)
        m.set_size(rows, cols)

    def set_pitch(args: list[str]) -> None:
        x_mm, y_mm = (_PITCH.parse(arg) for arg in args)
        m.set_pitch(x_mm, y_mm)

    def limit(args: list[str]) -> str:
        item = m.mode_item(args[0])
        return ",".join([item, *m.limit_text(item)])

    def records(args: list[str]) -> LineReply:
        # README §7: both range checks (13) before "no results" (27).
        results = m.results
        sites = len(results.rows) if results else m.sites
        start = int_arg(args[0], 1, sites)
        count = int_arg(args[1], 1, RD_MAX)
        rows = m.require_results().rows
        page = rows[start - 1 : start - 1 + count]
        return LineReply(tuple(format_row(row) for row in page), str(len(page)))

    def summary(_: list[str]) -> str:
        r = m.require_results()
        counts = [str(len(r.rows)), *(str(r.count(c)) for c in "PFXN")]
        return ",".join([r.strip_id, *counts, f"{r.cycle_s:.1f}", *r.summary_extra])

    def item_statistics(args: list[str]) -> str:
        item, decimals, readings = m.item_readings(args[0])
        if not readings:
            return f"{item},0,,,,"
        # "+ 0.0": a mean that rounds to zero from below is 0.0, never -0.0 (README §3).
        numbers = ",".join(f"{round(v, decimals) + 0.0:.{decimals}f}" for v in summary_of(readings))
        return f"{item},{len(readings)},{numbers}"

    def alarm_text(args: list[str]) -> str:
        try:
            code = int_arg(args[0], 1, 99999)  # README §3: a leading '+' is allowed
        except Reject:
            raise Reject(12) from None  # §4: any code not in §6 is 12
        if code not in m.alarm_by_code:
            raise Reject(12)
        alarm = m.alarm_def(code)
        return f"{alarm.code},{alarm.alarm_class},{alarm.text}"

    one, two, three = (1, 1), (2, 2), (3, 3)
    return [
        LineCommand("ID?", lambda a: f"GENERIC,{m.model_name},{m.serial},{m.firmware}"),
        LineCommand("ST?", status),
        LineCommand("RST", lambda a: m.do_reset()),
        LineCommand("LOAD", lambda a: m.load_recipe(identifier(a[0], 16)), one),
        LineCommand("UNLOAD", lambda a: m.unload_recipe()),
        LineCommand("SAVE", lambda a: m.save_recipe(identifier(a[0], 16)), one),
        LineCommand("DEL", lambda a: m.delete_recipe(identifier(a[0], 16)), one),
        LineCommand("LIST?", recipe_list, one),
        LineCommand("NAME?", lambda a: m.recipe_label()),
        LineCommand("MODE", lambda a: m.set_mode(a[0]), one),
        LineCommand("MODE?", lambda a: m.mode),
        LineCommand("SIZE", set_size, two),
        LineCommand("SIZE?", lambda a: f"{m.size[0]},{m.size[1]}"),
        LineCommand("PITCH", set_pitch, two),
        LineCommand("PITCH?", lambda a: f"{m.pitch_mm[0]:.3f},{m.pitch_mm[1]:.3f}"),
        LineCommand("LIM", lambda a: m.set_limit(*a), three),
        LineCommand("LIM?", limit, one),
        LineCommand("STRIP", lambda a: m.set_strip_id(identifier(a[0], 20)), one),
        LineCommand("STRIP?", lambda a: m.strip_id),
        LineCommand("MAP", lambda a: m.set_input_map(a[0]), one),
        LineCommand("MAP?", lambda a: m.input_map),
        LineCommand("RUN", lambda a: m.do_start()),
        LineCommand("PAUSE", lambda a: m.do_pause()),
        LineCommand("RESUME", lambda a: m.do_resume()),
        LineCommand("ABORT", lambda a: m.do_abort()),
        LineCommand("ACK", lambda a: m.do_ack()),
        LineCommand("PROG?", lambda a: ",".join(str(v) for v in m.progress())),
        LineCommand("RC?", lambda a: str(len(m.results.rows)) if m.results else "0"),
        LineCommand("RD", records, two),
        LineCommand("RMAP?", lambda a: m.require_results().result_map),
        LineCommand("RSUM?", summary),
        LineCommand("RSTAT?", item_statistics, one),
        LineCommand(
            "AL?", lambda a: ",".join(str(v) for v in [len(m.active_alarms), *m.active_alarms])
        ),
        LineCommand("ALT?", alarm_text, one),
        LineCommand("ALC", lambda a: m.clear_alarms()),
        LineCommand("CAL", lambda a: m.calibrate()),
        LineCommand("CAL?", lambda a: ",".join(m.calibration())),
        LineCommand("TEMP?", lambda a: f"{m.enclosure_c:.1f}"),
    ]
