"""SCPI front (README §9.1) for the simulated SCPI tools, over TCP or a pty.

Header matching follows SCPI: short or long form of each node, case-insensitive, optional
nodes in ``[ ]``, a numeric suffix where the pattern has ``#`` (omitted = 1). Commands have
no reply; a failing query has none either and queues its error. The common command set is
served here against :class:`~sim.strip_tool.StripToolModel`; each tool adds its own table.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from sim.faults import LinkFault
from sim.fronts.stream import Connection, LineReader
from sim.params import parse_integer, parse_number
from sim.strip_tool import StripToolModel
from sim.tool_model import CATALOGUE_TEXT, Reject, SiteResult, State

log = logging.getLogger("packline.sim.scpi")

SetHandler = Callable[[list[str], list[int]], None]
QueryHandler = Callable[[list[str], list[int]], str]

_SCPI_FORMS = {
    10: (-113, "Undefined header"),
    11: (-102, "Syntax error"),
    13: (-222, "Data out of range"),
    14: (-221, "Settings conflict"),
}
#: What a request that fails unexpectedly inside the simulator is answered with (decisions.md).
UNEXPECTED = Reject(12, scpi=-224)
#: Headers whose command :meth:`ScpiFront._resolve` remembers (a tool speaks a few dozen).
RESOLVED_MAX = 256

_SCPI_12 = {
    -104: "Data type error",
    -108: "Parameter not allowed",
    -109: "Missing parameter",
    -224: "Illegal parameter value",
    -151: "Invalid string data",
    -114: "Header suffix out of range",
    -113: "Undefined header",
}


#: A pattern's nodes: ``[`` if optional, and the node (``SYSTem``, ``STRip#``, ``*IDN``).
_NODES = re.compile(r"(\[?):?([A-Za-z0-9#*]+)\]?")


def _short_form(word: str) -> str:
    return "".join(ch for ch in word if ch.isupper() or ch.isdigit())  # O2LImit -> O2LI


@lru_cache(maxsize=1024)
def compile_header(pattern: str) -> re.Pattern[str]:
    """``SYSTem:ERRor[:NEXT]`` -> regex; ``STRip#`` captures an optional numeric suffix. Built
    once per pattern: the SCPI tools share the common command set."""
    regex = ""
    for optional, node in _NODES.findall(pattern):
        suffix = node.endswith("#")
        word = node.rstrip("#")
        short = _short_form(word)
        body = (
            f"(?:{re.escape(word.upper())}|{re.escape(short)})"
            if short != word.upper()
            else re.escape(short)
        )
        body += r"(\d+)?" if suffix else ""
        part = f":{body}" if regex or optional else f":?{body}"
        regex += f"(?:{part})?" if optional else part
    return re.compile(f"^{regex}$", re.IGNORECASE)


@dataclass
class ScpiCommand:
    """One header with its command and/or query handler; ``suffix_max`` bounds ``#`` suffixes."""

    pattern: str
    command: SetHandler | None = None
    query: QueryHandler | None = None
    suffix_max: int = 1
    nargs: tuple[int, int] | None = None  # (min, max) arguments of the command form
    #: (min, max) arguments of the query form: most queries take none (more: -108, README §7)
    query_nargs: tuple[int, int] = (0, 0)

    def __post_init__(self) -> None:
        self._regex: re.Pattern[str] | None = None
        self._first_forms, self._first_suffix = _first_node(self.pattern)

    def match(self, header: str) -> re.Match[str] | None:
        """The header's match against the pattern, or None. The pattern's regex is compiled at
        the first header whose first node is the pattern's (long or short form, any case): a
        tool's table has dozens of headers, a host sends a few, and compiling them all was a
        tenth of a dry run's start-up."""
        if self._first_forms:
            first = (header[1:] if header[:1] == ":" else header).split(":", 1)[0]
            if first.isascii() and not self._is_first_node(first.upper()):
                return None
        if self._regex is None:
            self._regex = compile_header(self.pattern)
        return self._regex.match(header)

    def _is_first_node(self, node: str) -> bool:
        """Whether ``node`` (upper case) is the pattern's first node, suffixed where it may be."""
        if node in self._first_forms:
            return True
        return self._first_suffix and any(
            node.startswith(form) and node[len(form) :].isdigit() for form in self._first_forms
        )


def _first_node(pattern: str) -> tuple[frozenset[str], bool]:
    """The forms (upper case) of the first node every header matching ``pattern`` starts with
    (after an optional ``:``, up to the next ``:`` or its end), and whether a numeric suffix may
    follow them; no forms if the first node is optional (any header may skip it)."""
    nodes = _NODES.findall(pattern)
    if not nodes or nodes[0][0]:
        return frozenset(), False
    node = nodes[0][1]
    word = node.rstrip("#")
    return frozenset({word.upper(), _short_form(word)}), node.endswith("#")


def split_args(text: str) -> list[str]:
    """Split comma-separated arguments, keeping quoted strings whole (quotes kept)."""
    if not text.strip():
        return []
    args, current, quoted = [], "", False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            args.append(current.strip())
            current = ""
        else:
            current += ch
    if quoted:
        raise Reject(11)
    args.append(current.strip())
    return args


def quoted_arg(text: str) -> str:
    """The content of a quoted string argument; -104 if it is not quoted."""
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise Reject(12, scpi=-104)
    return text[1:-1]


def int_arg(text: str, lo: int, hi: int) -> int:
    """An integer argument (README §3 number rules): -104 if not a number, 13 out of range."""
    return parse_integer(text, lo, hi)


def _check_count(args: list[str], bounds: tuple[int, int]) -> None:
    """-109 for too few arguments, -108 for too many (README §7, code 12)."""
    if len(args) < bounds[0]:
        raise Reject(12, scpi=-109)
    if len(args) > bounds[1]:
        raise Reject(12, scpi=-108)


def need_args(args: list[str], count: int) -> None:
    if len(args) < count:
        raise Reject(12, scpi=-109)
    if len(args) > count:
        raise Reject(12, scpi=-108)


class ScpiFront:
    """Serves one SCPI tool: error queue, ESR, the common set and the tool's own commands."""

    def __init__(
        self, model: StripToolModel, commands: list[ScpiCommand], *, terminator: bytes = b"\n"
    ) -> None:
        self.model = model
        self.terminator = terminator
        self.errors: deque[tuple[int, str]] = deque()
        self.esr = 0
        self.commands = commands + self.common_commands()
        #: Header (as sent, without ``?``) -> the first command whose pattern it matches and
        #: its numeric suffixes: the same answer as the scan, which a host repeats every poll.
        self._resolved: dict[str, tuple[ScpiCommand, list[int]]] = {}

    # -- serving ------------------------------------------------------------------------
    def serve(self, connection: Connection, stop: threading.Event) -> None:
        reader = LineReader(connection, terminator=b"\n", ignore=b"\r")
        while True:
            raw = reader.next_line(stop)
            if raw is None:
                return
            fault = self.model.faults.take_link_fault(("stall", "drop"))
            if fault is not None and self._link_fault(fault, connection):
                continue
            reply = self.handle(raw.decode("ascii", errors="replace"))
            if reply is None:
                continue
            fault = self.model.faults.take_link_fault(("garble", "truncate", "bad_checksum"))
            data = reply.encode("ascii", errors="replace") + self.terminator
            if fault is not None:
                data = shape_reply(data, fault, self.terminator)
            connection.send(data)

    def _link_fault(self, fault: LinkFault, connection: Connection) -> bool:
        """Apply stall/drop; True when the message must not be executed."""
        log.info("%s: link fault %s", self.model.tool_name, fault.kind)
        if fault.kind == "drop":
            connection.drop()
            return True
        if fault.duration_s:
            time.sleep(fault.duration_s)
        return True

    def handle(self, message: str) -> str | None:
        """Execute one message; return the reply text (no terminator) or None."""
        try:
            return self._execute(message.strip())
        except Reject as reject:
            self.queue_error(reject)
            return None
        except Exception:
            # The closest manual error for a request the tool could not carry out (decisions.md).
            log.exception("%s: unexpected error on %r", self.model.tool_name, message)
            self.queue_error(UNEXPECTED)
            return None

    def _execute(self, message: str) -> str | None:
        if _has_compound(message):
            raise Reject(11)
        if not message:
            return None
        header, _, rest = message.partition(" ")
        is_query = header.endswith("?")
        header = header.rstrip("?")
        resolved = self._resolve(header)
        if resolved is not None:
            command, suffixes = resolved
            if any(not 1 <= s <= command.suffix_max for s in suffixes):
                raise Reject(10, scpi=-114)
            args = split_args(rest)
            handler = command.query if is_query else command.command
            if handler is None:
                raise Reject(10, scpi=-113)
            with self.model.lock:
                self.model.sync()
                if is_query:
                    _check_count(args, command.query_nargs)
                    return command.query(args, suffixes) if command.query else None
                assert command.command is not None
                if command.nargs is not None:
                    _check_count(args, command.nargs)
                command.command(args, suffixes)
                return None
        raise Reject(10, scpi=-113)

    def _resolve(self, header: str) -> tuple[ScpiCommand, list[int]] | None:
        """The first command ``header`` matches, with its suffixes (1 when left out); None when
        none does. Matches are remembered (at most :data:`RESOLVED_MAX` headers)."""
        resolved = self._resolved.get(header)
        if resolved is not None:
            return resolved
        for command in self.commands:
            match = command.match(header)
            if match:
                resolved = (command, [int(g) if g else 1 for g in match.groups()])
                if len(self._resolved) < RESOLVED_MAX:
                    self._resolved[header] = resolved
                return resolved
        return None

    # -- error queue --------------------------------------------------------------------
    def queue_error(self, reject: Reject) -> None:
        code, text = scpi_error(reject)
        if code < 0:
            self.esr |= {1: 1 << 5, 2: 1 << 4, 3: 1 << 3, 4: 1 << 2}[-code // 100]
        else:
            self.esr |= 1 << 3
        if len(self.errors) >= 16:
            self.errors[-1] = (-350, "Queue overflow")
        else:
            self.errors.append((code, text))

    # -- the common command set ----------------------------------------------------------
    def common_commands(self) -> list[ScpiCommand]:
        m = self.model
        no_args = (0, 0)
        return [
            ScpiCommand(
                "*IDN", query=lambda a, s: f"GENERIC,{m.model_name},{m.serial},{m.firmware}"
            ),
            ScpiCommand("*RST", command=lambda a, s: m.do_reset(), nargs=no_args),
            ScpiCommand("*CLS", command=lambda a, s: self._clear_status(), nargs=no_args),
            ScpiCommand("*OPC", query=lambda a, s: "1"),
            ScpiCommand("*ESR", query=lambda a, s: self._read_esr()),
            ScpiCommand(
                "*STB", query=lambda a, s: str((4 if self.errors else 0) | (32 if self.esr else 0))
            ),
            ScpiCommand("SYSTem:ERRor:COUNt", query=lambda a, s: str(len(self.errors))),
            ScpiCommand("SYSTem:ERRor[:NEXT]", query=lambda a, s: self._next_error()),
            ScpiCommand("SYSTem:STATe", query=lambda a, s: m.state_name()),
            ScpiCommand(
                "SYSTem:INTerlock", query=lambda a, s: ",".join(m.active_interlocks()) or "NONE"
            ),
            ScpiCommand("SYSTem:VERSion", query=lambda a, s: "1999.0"),
            ScpiCommand(
                "RECipe:LOAD", command=lambda a, s: m.load_recipe(_one_name(a)), nargs=(0, 1)
            ),
            ScpiCommand("RECipe:UNLoad", command=lambda a, s: m.unload_recipe(), nargs=no_args),
            ScpiCommand(
                "RECipe:SAVE", command=lambda a, s: m.save_recipe(_one_name(a)), nargs=(0, 1)
            ),
            ScpiCommand(
                "RECipe:DELete", command=lambda a, s: m.delete_recipe(_one_name(a)), nargs=(0, 1)
            ),
            ScpiCommand(
                "RECipe:CATalog", query=lambda a, s: ",".join(f'"{n}"' for n in m.catalog()) or '""'
            ),
            ScpiCommand("RECipe:NAME", query=lambda a, s: f'"{m.recipe_label()}"'),
            ScpiCommand(
                "STRip#:ID",
                command=lambda a, s: m.set_strip_id(_one_id(a)),
                query=lambda a, s: f'"{m.strip_id}"',
                nargs=(0, 1),
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
            ScpiCommand(
                "STRip#:MAP",
                command=lambda a, s: m.set_input_map(_one_quoted(a)),
                query=lambda a, s: f'"{m.input_map}"',
                nargs=(0, 1),
            ),
            ScpiCommand("CYCLe:STARt", command=lambda a, s: m.do_start(), nargs=no_args),
            ScpiCommand("CYCLe:PAUSe", command=lambda a, s: m.do_pause(), nargs=no_args),
            ScpiCommand("CYCLe:RESume", command=lambda a, s: m.do_resume(), nargs=no_args),
            ScpiCommand("CYCLe:ABORt", command=lambda a, s: m.do_abort(), nargs=no_args),
            ScpiCommand("CYCLe:ACKnowledge", command=lambda a, s: m.do_ack(), nargs=no_args),
            ScpiCommand("CYCLe:PHASe", query=lambda a, s: m.phase if m.cycle_active else "NONE"),
            ScpiCommand(
                "CYCLe:PROGress", query=lambda a, s: ",".join(str(v) for v in m.progress())
            ),
            ScpiCommand(
                "ALARm:ACTive",
                query=lambda a, s: ",".join(
                    str(v) for v in [len(m.active_alarms), *m.active_alarms]
                ),
            ),
            ScpiCommand("ALARm:TEXT", query=self._alarm_text, query_nargs=(1, 1)),
            ScpiCommand("ALARm:CLEar", command=lambda a, s: m.clear_alarms(), nargs=no_args),
            ScpiCommand(
                "RESult:COUNt", query=lambda a, s: str(len(m.results.rows) if m.results else 0)
            ),
            ScpiCommand("RESult:DATA", query=self._result_data, query_nargs=(0, 2)),
            ScpiCommand("RESult:MAP", query=lambda a, s: f'"{m.require_results().result_map}"'),
            ScpiCommand("RESult:SUMMary", query=lambda a, s: self.summary_text()),
        ]

    def _clear_status(self) -> None:
        self.errors.clear()
        self.esr = 0

    def _read_esr(self) -> str:
        value, self.esr = self.esr, 0  # README §9.1: cleared on read
        return str(value)

    def _next_error(self) -> str:
        if not self.errors:
            return '0,"No error"'
        code, text = self.errors.popleft()
        return f'{code},"{text}"'

    def _set_size(self, args: list[str], suffixes: list[int]) -> None:
        need_args(args, 2)
        rows, cols = (int_arg(a, 1, 1024) for a in args)
        self.model.set_size(rows, cols)

    def _set_pitch(self, args: list[str], suffixes: list[int]) -> None:
        need_args(args, 2)
        x, y = (parse_number(a) for a in args)
        self.model.set_pitch(x, y)

    def _alarm_text(self, args: list[str], suffixes: list[int]) -> str:
        need_args(args, 1)
        code = int_arg(args[0], 0, 99999)
        if code not in self.model.alarm_by_code:
            raise Reject(12, scpi=-224)
        alarm = self.model.alarm_def(code)
        return f'{code},{alarm.alarm_class},"{alarm.text}"'

    def result_page(self, args: list[str], sites: int, page_max: int) -> tuple[int, int]:
        """Validate ``RESult:DATA? [start[,count]]``; return (start, count)."""
        if len(args) > 2:
            raise Reject(12, scpi=-108)
        start = int_arg(args[0], 1, max(1, sites)) if args else 1
        count = int_arg(args[1], 1, page_max) if len(args) > 1 else min(64, page_max)
        return start, count

    def result_sites(self) -> int:
        """Sites a result query may address: the results' strip, else the working strip size."""
        results = self.model.results
        return len(results.rows) if results else self.model.sites

    def _result_data(self, args: list[str], suffixes: list[int]) -> str:
        # README §7: the range check (-222) comes before "no results" (27).
        start, count = self.result_page(args, self.result_sites(), self.page_max)
        results = self.model.require_results()
        rows = results.rows[start - 1 : start - 1 + count]
        return ";".join(format_row(r) for r in rows)

    page_max = 64

    def summary_text(self) -> str:
        r = self.model.require_results()
        fields = [
            f'"{r.strip_id}"',
            str(len(r.rows)),
            str(r.count("P")),
            str(r.count("F")),
            str(r.count("X")),
            str(r.count("N")),
            f"{r.cycle_s:.1f}",
            *r.summary_extra,
        ]
        return ",".join(fields)


def format_row(row: SiteResult) -> str:
    """``<site>,<result>,<defect>,<values...>`` (README §8)."""
    return ",".join([str(row.site), row.result, str(row.defect), *row.values])


def scpi_error(reject: Reject) -> tuple[int, str]:
    """SCPI form (code, text) of a catalogue rejection (README §7)."""
    if reject.code == 12 or (reject.code == 10 and reject.scpi is not None):
        native = reject.scpi or -104
        return native, _SCPI_12[native]
    if reject.code in _SCPI_FORMS:
        return _SCPI_FORMS[reject.code]
    text = CATALOGUE_TEXT.get(reject.code, "Unknown error")
    return reject.code, f"{text};{reject.detail}" if reject.detail else text


def shape_reply(data: bytes, fault: LinkFault, terminator: bytes) -> bytes:
    """Corrupt a reply for a garble/truncate fault."""
    if fault.kind == "truncate":
        return data[: max(1, (len(data) - len(terminator)) // 2)]
    body = bytearray(data[: -len(terminator)] if terminator else data)
    for index in range(0, len(body), 3):
        body[index] = 0x7E - (body[index] % 0x20)
    return bytes(body) + terminator


def _has_compound(message: str) -> bool:
    quoted = False
    for ch in message:
        if ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted:
            return True
    return False


def _one_quoted(args: list[str]) -> str:
    need_args(args, 1)
    return quoted_arg(args[0])


def _one_name(args: list[str]) -> str:
    return _checked_ident(_one_quoted(args), 16, allow_empty=False)


def _one_id(args: list[str]) -> str:
    return _checked_ident(_one_quoted(args), 20, allow_empty=True)


def _checked_ident(text: str, max_len: int, *, allow_empty: bool) -> str:
    if (
        len(text) > max_len
        or not re.match(r"^[A-Za-z0-9_.\-]*$", text)
        or (not text and not allow_empty)
    ):
        raise Reject(12, scpi=-151)
    return text


def param_command(pattern: str, model: StripToolModel, name: str) -> ScpiCommand:
    """A tool parameter as a SCPI set/query command."""

    def set_value(args: list[str], suffixes: list[int]) -> None:
        need_args(args, 1)
        model.set_param(name, args[0])

    return ScpiCommand(pattern, command=set_value, query=lambda a, s: model.params.text(name))


__all__ = ["ScpiCommand", "ScpiFront", "State", "param_command"]
