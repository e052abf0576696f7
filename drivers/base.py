"""What every tool driver shares: open/close, context manager, identity, state, alarms, cycle.

A concrete driver subclasses one of the transport-family bases (:class:`drivers.scpi.ScpiTool`,
:class:`drivers.modbus_tool.ModbusTool`, or a serial base) and adds the members of its manual.
"""

from __future__ import annotations

import contextlib
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, ClassVar, Self, TypeVar

from drivers.clock import HostClock
from drivers.errors import PacklineError, ProtocolError, ToolAlarm, ToolTimeout
from drivers.records import AlarmInfo, Identity
from drivers.states import ToolState

T = TypeVar("T")
E = TypeVar("E", bound=PacklineError)


class Tool(ABC):
    """Base of every driver. Use :meth:`open` (a context manager) rather than the constructor."""

    #: Manual name, e.g. ``mold-press``; used in logs, errors and configs.
    tool_name: ClassVar[str] = "tool"
    #: Model string the tool reports, e.g. ``TM-4``.
    model: ClassVar[str] = ""
    #: Default poll interval in seconds when waiting on the tool (the manuals' poll rates).
    poll_interval_s: ClassVar[float] = 0.5
    #: The manual's duration (§8 timing, tool seconds) of a state the tool leaves by itself,
    #: where it gives one and no rate (HEATING/WARMUP from cold, SETUP), else the longest of
    #: :attr:`state_durations_s`; it never says when the state ends (:meth:`wait_for_state`).
    typical_s: ClassVar[Mapping[ToolState, float]] = {}
    #: The manual's durations of a state the host's own command starts, where it fixes them
    #: (§3/§4/§8: a saw's WARMUP lasts 60 s, or 300 s from cold; a CAL's SETUP ≈ 20 s).
    state_durations_s: ClassVar[Mapping[ToolState, tuple[float, ...]]] = {}
    #: The state an acknowledge the tool took leaves it in, where its manual fixes it (the
    #: MS-3 has no HEATING: READY); None where it depends on the tool's conditions (README
    #: §5: READY, or HEATING/WARMUP when out of band).
    acknowledged_to: ClassVar[ToolState | None] = None
    #: The manual's alarm table, code -> AlarmInfo (``records.alarms``), for hosts that list
    #: alarms before any occur (a text tool also answers for each code: ``alarm_info``).
    alarm_table: ClassVar[Mapping[int, AlarmInfo]] = {}
    #: The manual's defect codes, code -> text (``records.defects``).
    defect_texts: ClassVar[Mapping[int, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        longest = {state: max(ends) for state, ends in cls.state_durations_s.items()}
        cls.typical_s = {**longest, **cls.typical_s}

    def __init__(self, address: str) -> None:
        self.address = address
        self.log = logging.getLogger(f"packline.drivers.{self.tool_name}")

    # -- lifecycle ------------------------------------------------------------------
    @classmethod
    def open(cls, address: str, **options: Any) -> Self:
        """Connect to the tool at ``address`` and return the driver (also a context manager)."""
        tool = cls(address, **options)
        tool.connect()
        return tool

    @abstractmethod
    def connect(self) -> None:
        """Open the transport and bring the link to a known state."""

    @abstractmethod
    def close(self) -> None:
        """Close the transport. A running cycle on the tool is not affected."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.address!r})"

    # -- common interface -----------------------------------------------------------
    @abstractmethod
    def identify(self) -> Identity:
        """Vendor, model, serial number and firmware of the tool."""

    @abstractmethod
    def state(self) -> ToolState:
        """The tool's current state (README §5)."""

    def cycle_look(self) -> tuple[ToolState, float | None]:
        """The state in one exchange, with the running cycle's remaining tool seconds when that
        same exchange reports them (else None: a tool that reports them separately is asked
        separately, e.g. ``CYCLe:PROGress?``)."""
        return self.state(), None

    def heat_up_left_s(self) -> float:
        """Tool seconds a heat-up (HEATING) is at least away from READY, from the temperatures
        the tool reports and its manual's heat-up rate (:mod:`drivers.heat_up`); 0 where the
        manual gives no rate, or nothing is known to be left."""
        return 0.0

    @abstractmethod
    def active_alarms(self) -> list[int]:
        """Codes of the active alarms, in order of occurrence."""

    @abstractmethod
    def alarm_info(self, code: int) -> AlarmInfo:
        """Class and text of an alarm code of this tool's table."""

    @abstractmethod
    def clear_alarms(self) -> None:
        """Clear every alarm whose cause has gone."""

    @abstractmethod
    def start(self) -> None:
        """Start a cycle (READY -> RUNNING)."""

    @abstractmethod
    def pause(self) -> None:
        """Pause the cycle at the tool's next safe point."""

    @abstractmethod
    def resume(self) -> None:
        """Resume a paused cycle."""

    @abstractmethod
    def abort(self) -> None:
        """Abort the active cycle."""

    @abstractmethod
    def acknowledge(self) -> None:
        """Acknowledge DONE/ABORTED; results stay readable until the next start."""

    # -- helpers built on the interface -----------------------------------------------
    def alarms(self) -> list[AlarmInfo]:
        """The active alarms with their class and text."""
        return [self.alarm_info(code) for code in self.active_alarms()]

    def wait_for_state(
        self,
        targets: Iterable[ToolState],
        *,
        timeout_s: float,
        poll_s: float | None = None,
        raise_on_alarm: bool = True,
        on_poll: Callable[[ToolState], None] | None = None,
        clock: HostClock | None = None,
        stretch: float = 0.0,
        max_poll_s: float = 60.0,
        typical_s: Mapping[ToolState, float] | None = None,
        entered_s: float | None = None,
    ) -> ToolState:
        """Poll until the tool is in one of ``targets``; ``timeout_s`` bounds the wait.

        ``timeout_s`` and ``poll_s`` are seconds of ``clock`` (tool seconds; wall seconds
        without a clock). The bound is judged when the state was asked, not when the reply
        came. With ``raise_on_alarm`` an ALARM state that is not a target raises
        :class:`ToolAlarm` for the first abort- or hold-class alarm.

        ``stretch`` lets the poll interval grow to that share of the time waited so far (at
        most ``max_poll_s``): a long wait (a heat-up) then costs a few dozen polls, and the
        moment it ends is seen within that share of it. With ``typical_s`` (a state's
        duration, :attr:`typical_s`) a poll that finds the tool in such a state waits at
        least ``stretch`` of that duration: the stretch as if it had been waited.

        ``entered_s``: the clock time by which the host's own command (a recipe load, a
        calibration) put the tool in the state it waits out. With ``stretch`` (a virtual
        clock), a poll that finds the tool in a state of :attr:`state_durations_s` sleeps to
        the next of its ends after ``entered_s`` (plus one poll interval, the host's
        resolution), at most ``max_poll_s``; past the last, the stretch as above.
        """
        wanted = frozenset(targets)
        interval = self.poll_interval_s if poll_s is None else poll_s
        now = time.monotonic if clock is None else clock.now
        sleep = time.sleep if clock is None else clock.sleep
        started = now()
        deadline = started + timeout_s
        while True:
            polled_at = now()
            current = self.state()
            if on_poll is not None:
                on_poll(current)
            if current in wanted:
                return current
            if raise_on_alarm and current is ToolState.ALARM:
                raise self.alarm_error()
            if polled_at >= deadline:
                raise self.error(
                    ToolTimeout,
                    f"still {current.name} after {timeout_s:.1f} s waiting for "
                    + "/".join(sorted(s.name for s in wanted)),
                )
            longest_s = max(max_poll_s, interval)
            end_s = self._next_end_s(current, entered_s, interval, now()) if stretch else None
            if end_s is not None:
                sleep(min(end_s - now(), longest_s))
                continue
            waited = max(polled_at - started, (typical_s or {}).get(current, 0.0))
            sleep(min(max(interval, stretch * waited), longest_s))

    def _next_end_s(
        self, state: ToolState, entered_s: float | None, margin_s: float, now_s: float
    ) -> float | None:
        """The first end of ``state`` (:attr:`state_durations_s` after ``entered_s``, plus
        ``margin_s``) still ahead of ``now_s``; None when none is known or all have passed."""
        if entered_s is None:
            return None
        ends = (entered_s + d + margin_s for d in self.state_durations_s.get(state, ()))
        return min((end for end in ends if end > now_s), default=None)

    def alarm_error(self) -> ToolAlarm:
        """The first abort- or hold-class alarm (else the first alarm) as a :class:`ToolAlarm`."""
        infos = self.alarms()
        blocking = [a for a in infos if a.alarm_class in ("A", "H")] or infos
        first = blocking[0] if blocking else AlarmInfo(0, "?", "ALARM state without active alarms")
        return ToolAlarm(
            first.code, first.alarm_class, first.text, tool=self.tool_name, address=self.address
        )

    # -- paged reads --------------------------------------------------------------------
    def read_pages(
        self, read_page: Callable[[int, int], Sequence[T]], total: int, page_size: int, what: str
    ) -> list[T]:
        """Items 1..``total`` read ``read_page(start, count)`` by ``page_size``; a page that
        comes back empty is a ProtocolError (the tool has fewer than it said)."""
        items: list[T] = []
        while len(items) < total:
            page = read_page(len(items) + 1, min(page_size, total - len(items)))
            if not page:
                raise self.protocol_error(f"{what} returned nothing at {len(items) + 1} of {total}")
            items.extend(page)
        return items

    # -- error wrapping of replies ------------------------------------------------------
    def error(self, kind: type[E], message: str, sent: str = "") -> E:
        """A ``kind`` error naming this tool, its address and what was sent."""
        return kind(message, **self.where(sent))

    def where(self, sent: str = "") -> dict[str, str]:
        """This tool, its address and what was sent, as every error names them."""
        return {"tool": self.tool_name, "address": self.address, "sent": sent}

    def protocol_error(self, message: str, sent: str = "") -> ProtocolError:
        """A :class:`ProtocolError` naming this tool, its address and what was sent."""
        return self.error(ProtocolError, message, sent)

    @contextlib.contextmanager
    def parsing(self, sent: str, reply: str = "") -> Iterator[None]:
        """Decode a reply: any ProtocolError, ValueError or KeyError raised inside becomes one
        ProtocolError naming this tool, its address, what was sent and (if given) the reply."""
        try:
            yield
        except ProtocolError as exc:
            if exc.address:
                raise
            raise self._malformed(sent, reply, exc.reason) from None
        except (ValueError, KeyError) as exc:
            raise self._malformed(sent, reply, f"does not parse: {exc}") from None

    def _malformed(self, sent: str, reply: str, reason: str) -> ProtocolError:
        message = f"reply {reply!r} malformed ({reason})" if reply else reason
        return self.protocol_error(message, sent)
