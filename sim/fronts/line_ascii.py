"""Tool side of the plain line protocol of metrology.md §2, over a pty or a loopback TCP port.

A command is one line ending in CR (LF is ignored, at most 1100 characters): a keyword
(case-insensitive), then one space and comma-separated arguments. The reply is data lines
``D <record>`` (``RD`` only) and exactly one final line ``OK``, ``OK <data>`` or
``ER <code>,<text>`` with a ``;<detail>`` for codes 20-23. Unknown keyword -> ``ER 10``,
empty, overlong or unparsable line -> ``ER 11``, wrong argument count -> ``ER 12``.
Characters that arrive while the tool is busy with a command (between its CR and the end of
the reply) are discarded.

Link faults from the model's :class:`~sim.faults.FaultInjector`: ``stall`` (the command is
not executed and gets no reply), ``drop`` (TCP: the connection is closed; pty: the tool is
deaf and mute for a second), ``garble`` and ``truncate`` (the reply is corrupted or cut).
``bad_checksum`` has no meaning without a checksum and garbles the reply like ``garble``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sim.fronts.scpi import UNEXPECTED, shape_reply
from sim.fronts.stream import Connection, PtyEndpoint, TcpEndpoint
from sim.tool_model import CATALOGUE_TEXT, Reject, ToolModel

log = logging.getLogger("packline.sim.line")

CR = b"\r"
LF = b"\n"
MAX_LINE_CHARS = 1100
DETAIL_CODES = range(20, 24)


@dataclass(frozen=True)
class LineReply:
    """A reply with data lines: ``D <line>`` for each of ``lines``, then ``OK <data>``."""

    lines: tuple[str, ...] = ()
    data: str = ""


Handler = Callable[[list[str]], str | LineReply | None]


@dataclass(frozen=True)
class LineCommand:
    """One keyword of the command table; ``nargs`` is the (min, max) argument count.

    The handler gets the arguments (stripped) and returns the data of the ``OK`` line (``None``
    or ``""`` for a bare ``OK``) or a :class:`LineReply`; it raises :class:`Reject` to refuse.
    """

    keyword: str
    handler: Handler
    nargs: tuple[int, int] = (0, 0)


def error_line(reject: Reject) -> str:
    """``ER <code>,<text>`` with the README §7 text, plus ``;<detail>`` for codes 20-23."""
    text = CATALOGUE_TEXT.get(reject.code, "Unknown error")
    detail = f";{reject.detail}" if reject.code in DETAIL_CODES and reject.detail else ""
    return f"ER {reject.code},{text}{detail}"


class LineAsciiFront:
    """Serves a command table for a model over one byte-stream connection at a time."""

    def __init__(self, model: ToolModel, commands: Sequence[LineCommand]) -> None:
        self.model = model
        self.commands = {command.keyword.upper(): command for command in commands}

    # -- serving ----------------------------------------------------------------------------
    def serve(self, connection: Connection, stop: threading.Event) -> None:
        pending = bytearray()
        overlong = False
        while not stop.is_set():
            end = pending.find(CR)
            if end < 0:
                if len(pending) - pending.count(LF) > MAX_LINE_CHARS:
                    overlong = True  # keep discarding up to the CR, then answer ER 11
                    pending.clear()
                pending += connection.recv(None)
                continue
            raw = bytes(pending[:end]).replace(LF, b"")
            del pending[: end + 1]
            reply = self._reply_bytes(raw, overlong, connection)
            overlong = False
            # Whatever came in while the tool was busy with this command is discarded.
            pending += connection.recv(0.0)
            if pending:
                log.debug(
                    "%s: discarded %r received while busy", self.model.tool_name, bytes(pending)
                )
                pending.clear()
            if reply is not None:
                connection.send(reply)

    def _reply_bytes(self, raw: bytes, overlong: bool, connection: Connection) -> bytes | None:
        fault = self.model.faults.take_link_fault(("stall", "drop"))
        if fault is not None:
            log.info("%s: link fault %s on %r", self.model.tool_name, fault.kind, raw)
            if fault.kind == "drop":
                connection.drop()
            elif fault.duration_s:
                time.sleep(fault.duration_s)
            return None
        data = b"".join(
            line.encode("ascii", errors="replace") + CR
            for line in self.handle(raw, overlong=overlong)
        )
        shaping = self.model.faults.take_link_fault(("garble", "truncate", "bad_checksum"))
        if shaping is not None:
            log.info(
                "%s: link fault %s on the reply to %r", self.model.tool_name, shaping.kind, raw
            )
            data = shape_reply(data, shaping, CR)
        return data

    # -- one command line -------------------------------------------------------------------
    def handle(self, raw: bytes, *, overlong: bool = False) -> list[str]:
        """Execute one command line (without CR); return the reply lines (without CR)."""
        try:
            return self._execute(raw, overlong)
        except Reject as reject:
            return [error_line(reject)]
        except Exception:
            log.exception("%s: unexpected error on %r", self.model.tool_name, raw)
            return [error_line(UNEXPECTED)]

    def _execute(self, raw: bytes, overlong: bool) -> list[str]:
        try:
            text = raw.decode("ascii").strip()
        except UnicodeDecodeError:
            raise Reject(11) from None
        if overlong or not text or len(text) > MAX_LINE_CHARS or not text.isprintable():
            raise Reject(11)
        keyword, _, rest = text.partition(" ")
        command = self.commands.get(keyword.upper())
        if command is None:
            raise Reject(10)
        args = [arg.strip() for arg in rest.split(",")] if rest.strip() else []
        low, high = command.nargs
        if not low <= len(args) <= high:
            raise Reject(12)
        with self.model.lock:
            self.model.sync()
            reply = command.handler(args)
        if isinstance(reply, LineReply):
            final = f"OK {reply.data}" if reply.data else "OK"
            return [*(f"D {line}" for line in reply.lines), final]
        return [f"OK {reply}" if reply else "OK"]


class LineAsciiServer:
    """Serves a :class:`LineAsciiFront` on a pty (address: the device path) or loopback TCP
    (address: ``socket://127.0.0.1:PORT``), both opened by pyserial."""

    def __init__(self, front: LineAsciiFront, *, transport: str = "pty", port: int = 0) -> None:
        name = front.model.tool_name
        self.endpoint: TcpEndpoint | PtyEndpoint
        if transport == "tcp":
            self.endpoint = TcpEndpoint(front.serve, port=port, name=name)
        elif transport == "pty":
            self.endpoint = PtyEndpoint(front.serve, name=name)
        else:
            raise ValueError(f"line transport must be pty or tcp, not {transport!r}")

    def start(self) -> None:
        self.endpoint.start()

    def stop(self) -> None:
        self.endpoint.stop()

    @property
    def failure(self) -> str | None:
        """Why the endpoint can no longer serve, or None."""
        return self.endpoint.failure

    @property
    def address(self) -> str:
        if isinstance(self.endpoint, TcpEndpoint):
            return f"socket://{self.endpoint.host}:{self.endpoint.port}"
        return self.endpoint.device
