"""The WB-3 command set (wire-bonder.md §4): command text in, reply text out.

``execute("PAR? STAGE_T")`` returns ``"PAR=STAGE_T,150.0"``; a refused command raises
:class:`~sim.tool_model.Reject` with its catalogue code (the framed front turns it into a
NAK) and is remembered for ``LASTERR?``. Check order as README §7: syntax, type and range
first, then the state matrix, settings conflicts and interlocks (in the model).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sim.params import parse_integer, parse_number
from sim.tool_model import CATALOGUE_TEXT, Reject
from sim.wire_bonder.model import WireBonderModel

_KEYWORD = re.compile(r"^[A-Za-z]+\??$")
_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")
MAP_PIECE = 200  # §4.1: MAP / MAP? / RMAP? carry up to 200 characters
PLIST_PAGE = 10
RES_PAGE = 4


@dataclass(frozen=True)
class Command:
    """One keyword: its handler and how many arguments it takes."""

    handler: Callable[[list[str]], str]
    min_args: int = 0
    max_args: int = 0


def number(text: str) -> float:
    """A numeric argument (README §3 input rules); 12 if it is not a number, 13 if too large."""
    return parse_number(text)


def integer(text: str, lo: int, hi: int) -> int:
    """An integer argument rounded from any number; 13 outside ``lo..hi``."""
    return parse_integer(text, lo, hi)


def name_arg(text: str, max_len: int) -> str:
    """README §3 identifier/name; 12 if it breaks the rules."""
    if not _NAME.match(text) or len(text) > max_len:
        raise Reject(12)
    return text


class WireBonderCommands:
    """Parses command text, calls the model, formats replies and keeps LASTERR."""

    def __init__(self, model: WireBonderModel) -> None:
        self.model = model
        self.last_error: Reject | None = None
        m = model
        self.commands: dict[str, Command] = {
            "IDN?": Command(lambda a: f"IDN=GENERIC,{m.model_name},{m.serial},{m.firmware}"),
            "STAT?": Command(lambda a: self._status()),
            "RESET": Command(lambda a: self._ok(m.do_reset)),
            "PROG": Command(lambda a: self._ok(lambda: m.load_recipe(name_arg(a[0], 16))), 1, 1),
            "PROG?": Command(
                lambda a: f"PROG={m.recipe_label()},{m.params['WIRES'] if m.loaded_recipe else 0}"
            ),
            "PLIST?": Command(self._program_list, 1, 1),
            "PSAVE": Command(
                lambda a: self._ok(lambda: m.save_program(name_arg(a[0], 16) if a else None)), 0, 1
            ),
            "UNLOAD": Command(lambda a: self._ok(m.unload_recipe)),
            "PAR": Command(self._set_parameter, 2, 2),
            "PAR?": Command(self._parameter, 1, 1),
            "SIZE": Command(
                lambda a: self._ok(
                    lambda: m.set_size(integer(a[0], 0, 9999), integer(a[1], 0, 9999))
                ),
                2,
                2,
            ),
            "SIZE?": Command(lambda a: f"SIZE={m.size[0]},{m.size[1]}"),
            "PITCH": Command(
                lambda a: self._ok(lambda: m.set_pitch(number(a[0]), number(a[1]))), 2, 2
            ),
            "PITCH?": Command(lambda a: f"PITCH={m.pitch_mm[0]:.3f},{m.pitch_mm[1]:.3f}"),
            "STRIP": Command(lambda a: self._ok(lambda: m.set_strip_id(self._strip_id(a))), 0, 1),
            "STRIP?": Command(lambda a: f"STRIP={m.strip_id}"),
            "MAP": Command(self._write_map, 2, 2),
            "MAP?": Command(lambda a: self._map_page("MAP", m.input_map, a[0]), 1, 1),
            "START": Command(lambda a: self._ok(m.do_start)),
            "PAUSE": Command(lambda a: self._ok(m.do_pause)),
            "RESUME": Command(lambda a: self._ok(m.do_resume)),
            "ABORT": Command(lambda a: self._ok(m.do_abort)),
            "ACK": Command(lambda a: self._ok(m.do_ack)),
            "TEMP?": Command(lambda a: f"TEMP={m.stage_pv_c:.1f},{m.stage_sp_c:.1f}"),
            "CONS?": Command(lambda a: self._consumables()),
            "CAPRESET": Command(lambda a: self._ok(m.reset_capillary)),
            "ALM?": Command(
                lambda a: (
                    "ALM=" + ",".join(str(v) for v in [len(m.active_alarms), *m.active_alarms])
                )
            ),
            "ALMTXT?": Command(self._alarm_text, 1, 1),
            "ALMCLR": Command(lambda a: self._ok(m.clear_alarms)),
            "RCNT?": Command(lambda a: f"RCNT={len(m.results.rows) if m.results else 0}"),
            "RES?": Command(self._results, 1, 2),
            "RMAP?": Command(self._result_map, 1, 1),
            "RSUM?": Command(lambda a: self._summary()),
            "LASTERR?": Command(lambda a: self._last_error()),
        }

    # -- entry point ------------------------------------------------------------------------
    def execute(self, text: str) -> str:
        """Run one command text (without the sequence digit) and return the reply text."""
        try:
            return self._dispatch(text)
        except Reject as reject:
            self.last_error = reject
            raise

    def _dispatch(self, text: str) -> str:
        keyword, space, rest = text.partition(" ")
        if not _KEYWORD.match(keyword):
            raise Reject(11)
        command = self.commands.get(keyword.upper())
        if command is None:
            raise Reject(10)
        args = rest.split(",") if space else []
        if not command.min_args <= len(args) <= command.max_args:
            raise Reject(12)
        with self.model.lock:
            self.model.sync()
            return command.handler(args)

    @staticmethod
    def _ok(action: Callable[[], None]) -> str:
        action()
        return "OK"

    # -- handlers ---------------------------------------------------------------------------
    def _status(self) -> str:
        m = self.model
        done, total, _, _ = m.progress()
        phase = m.phase if m.cycle_active else "NONE"
        alarms = len(m.active_alarms)
        return f"STAT={m.state_name()},{phase},{m.current_unit()},{done},{total},{alarms}"

    def _consumables(self) -> str:
        bonds, wire_m = self.model.consumables_now()
        return f"CONS={bonds},{self.model.cap_limit},{wire_m:.1f}"

    def _program_list(self, args: list[str]) -> str:
        start = integer(args[0], 1, 10_000)
        names = self.model.catalog()
        return ",".join([f"PLIST={len(names)}", *names[start - 1 : start - 1 + PLIST_PAGE]])

    def _parameter_name(self, text: str) -> str:
        name = text.strip().upper()
        if name not in self.model.params.specs:
            raise Reject(12)
        return name

    def _set_parameter(self, args: list[str]) -> str:
        name = self._parameter_name(args[0])
        if name in self.model.read_only_params:
            raise Reject(12)
        self.model.set_param(name, args[1])
        return "OK"

    def _parameter(self, args: list[str]) -> str:
        name = self._parameter_name(args[0])
        m = self.model
        if name == "WIRES" and m.loaded_recipe is None:
            return "PAR=WIRES,0"
        return f"PAR={name},{m.params.text(name)}"

    @staticmethod
    def _strip_id(args: list[str]) -> str:
        text = args[0] if args else ""
        return "" if text == "" else name_arg(text, 20)

    def _write_map(self, args: list[str]) -> str:
        start, chars = integer(args[0], 1, 10_000), args[1]
        if not chars or len(chars) > MAP_PIECE or set(chars) - {"0", "1"}:
            raise Reject(12)
        m = self.model
        if start - 1 + len(chars) > m.sites:
            raise Reject(26)
        m.check("set")
        m.input_map = m.input_map[: start - 1] + chars + m.input_map[start - 1 + len(chars) :]
        return "OK"

    def _map_page(self, keyword: str, full_map: str, start_text: str) -> str:
        start = integer(start_text, 1, 10_000)
        if start > len(full_map):
            raise Reject(13)
        return f"{keyword}={start},{full_map[start - 1 : start - 1 + MAP_PIECE]}"

    def _alarm_text(self, args: list[str]) -> str:
        code = round(number(args[0]))
        if code not in self.model.alarm_by_code:
            raise Reject(12)
        alarm = self.model.alarm_def(code)
        return f"ALMTXT={code},{alarm.alarm_class},{alarm.text}"

    def _results(self, args: list[str]) -> str:
        results = self.model.results
        sites = len(results.rows) if results else self.model.sites
        start = integer(args[0], 1, sites)  # README §7: range (13) before no results (27)
        count = integer(args[1], 1, RES_PAGE) if len(args) > 1 else 1
        rows = self.model.require_results().rows
        records = [
            ",".join([str(r.site), r.result, str(r.defect), *r.values])
            for r in rows[start - 1 : start - 1 + count]
        ]
        return "RES=" + ";".join(records)

    def _result_map(self, args: list[str]) -> str:
        start = integer(args[0], 1, 10_000)
        return self._map_page("RMAP", self.model.require_results().result_map, str(start))

    def _summary(self) -> str:
        r = self.model.require_results()
        counts = [len(r.rows), r.count("P"), r.count("F"), r.count("X"), r.count("N")]
        return ",".join(
            [f"RSUM={r.strip_id}", *map(str, counts), f"{r.cycle_s:.1f}", *r.summary_extra]
        )

    def _last_error(self) -> str:
        error = self.last_error
        if error is None:
            return "LASTERR=0,No error"
        text = CATALOGUE_TEXT.get(error.code, "Unknown error")
        if 20 <= error.code <= 23 and error.detail:
            text = f"{text};{error.detail}"
        return f"LASTERR={error.code},{text}"
