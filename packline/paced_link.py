"""The host-latency model of a dry run on the virtual clock.

Host work costs no tool time on a virtual clock: the clock stands still while a host thread
talks to a tool. A real line controller pays for every exchange (its command, the tool's
reply over the wire, its own handling), and a dry run that ignored it would promise a
throughput no line reaches. :class:`PacedLink` wraps a driver's transport so that every
message the driver sends first costs ``latency_s`` tool seconds on the clock: the host thread
waits that long on the clock (other stations run meanwhile) and then talks to the tool.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from drivers.base import Tool
from drivers.clock import HostClock

#: Tool seconds one host-tool exchange costs a line controller: serial at 9600 Bd (~20 bytes
#: each way) ~ 40 ms, Modbus/TCP or SCPI over a plant LAN 5-20 ms, plus the host's handling.
DEFAULT_HOST_LATENCY_S = 0.02

#: Wall seconds a host waits for the simulator to take a message that needs no reply (a
#: stalled link of a fault scenario never takes it: the host then goes on).
SETTLE_WALL_S = 2.0

#: Transport methods that send one message to the tool (the SCPI ``read`` that follows a
#: ``write`` belongs to the same exchange): VISA, line and framed links, Modbus.
SENDS = frozenset(
    {
        "write",
        "exchange",
        "read_coils",
        "read_discrete_inputs",
        "read_holding_registers",
        "read_input_registers",
        "write_register",
        "write_registers",
        "write_coil",
        "pulse_coil",
    }
)


#: Messages a dry run's host sent, by (tool, message kind): see :func:`message_kind`.
Tally = Counter[tuple[str, str]]
#: Wall seconds the host spent in those messages, by (tool, message kind): from the send to
#: the reply (or, for a message without reply, until the tool took it), the clock standing
#: still meanwhile. Where a dry run's wall time goes, exchange by exchange.
WallTally = dict[tuple[str, str], float]


def message_kind(name: str, args: tuple[Any, ...]) -> str:
    """What kind of message a send is, for counting: an SCPI or text command's header
    (``SYST:ERR?``, ``STRip:ID``), a Modbus call with its start register (``read_input_registers
    0``)."""
    if args and isinstance(args[0], str):
        return args[0].split(" ", 1)[0]
    if args and isinstance(args[0], int):
        return f"{name} {args[0]}"
    return name


class PacedLink:
    """A driver's transport whose every message first costs ``latency_s`` on ``clock``.

    With a ``tally`` each message is also counted there under ``(tool, message_kind)``; with
    a ``wall`` the wall seconds of its exchange are added there under the same key."""

    def __init__(
        self,
        link: Any,
        clock: HostClock,
        latency_s: float,
        *,
        tool: str = "tool",
        tally: Tally | None = None,
        wall: WallTally | None = None,
    ) -> None:
        if latency_s < 0:
            raise ValueError(f"host latency must be >= 0 s, got {latency_s}")
        self._link = link
        self._clock = clock
        self.latency_s = latency_s
        self._tool = tool
        self._tally = tally
        self._wall = wall
        #: Messages sent through this link.
        self.sent = 0
        #: The last message sent, whose reply a ``read`` waits for.
        self._last_key: tuple[str, str] | None = None

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._link, name)
        if not callable(attribute):
            return attribute
        if name == "read" and self._wall is not None:
            wrapped = self._timed_read(attribute)
        elif name in SENDS:
            wrapped = self._paced(attribute, name)
        else:
            return attribute
        self.__dict__[name] = wrapped  # made once: later lookups skip __getattr__
        return wrapped

    def _paced(self, send: Callable[..., Any], name: str) -> Callable[..., Any]:
        clock: Any = self._clock
        await_served: Callable[[int, float], bool] | None = getattr(clock, "await_served", None)
        settle: Callable[[], None] | None = getattr(clock, "settle", None)
        defer_settle: Callable[[Callable[[], object]], bool] = getattr(
            clock, "defer_settle", lambda _settle: False
        )
        if name != "write":
            await_served = None

        def paced(*args: Any, **kwargs: Any) -> Any:
            if settle is not None:
                settle()  # the last message without a reply was taken (see _taken)
            self.sent += 1
            key = (self._tool, message_kind(name, args))
            if self._tally is not None:
                self._tally[key] += 1
            if self.latency_s > 0:
                clock.sleep(self.latency_s)
            self._last_key = key
            started = time.perf_counter()
            if await_served is None:
                try:
                    return send(*args, **kwargs)
                finally:
                    self._add_wall(key, started)
            served_before = clock.exchanges
            try:
                result = send(*args, **kwargs)
            finally:
                self._add_wall(key, started)

            def taken() -> None:
                # A write may need no reply: the tool takes it before the clock moves on.
                # Deferred to the host's next wait or message: a query's reply read meanwhile
                # has already shown it taken (a check, no wait).
                waited = time.perf_counter()
                await_served(served_before, SETTLE_WALL_S)
                self._add_wall(key, waited)

            if not defer_settle(taken):
                taken()
            return result

        return paced

    def _timed_read(self, read: Callable[..., Any]) -> Callable[..., Any]:
        """A read's wall seconds go to the message it answers (a query's write)."""

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return read(*args, **kwargs)
            finally:
                if self._last_key is not None:
                    self._add_wall(self._last_key, started)

        return timed

    def _add_wall(self, key: tuple[str, str], started: float) -> None:
        if self._wall is not None:
            self._wall[key] = self._wall.get(key, 0.0) + time.perf_counter() - started


def pace_driver(
    driver: Tool,
    clock: HostClock,
    latency_s: float,
    tally: Tally | None = None,
    wall: WallTally | None = None,
) -> PacedLink:
    """Make every message ``driver`` sends from now on cost ``latency_s`` on ``clock`` (and
    count it in ``tally``, and its wall seconds in ``wall``, if given)."""
    link = PacedLink(
        driver.link,  # type: ignore[attr-defined]
        clock,
        latency_s,
        tool=driver.tool_name,
        tally=tally,
        wall=wall,
    )
    driver.link = link  # type: ignore[attr-defined]
    return link
