"""Fault injection for one simulated tool, from Python or from a scenario file.

Two kinds, injected where they belong:
- link faults, taken by the protocol front before it answers: ``stall`` (no reply),
  ``drop`` (close the connection), ``garble`` (corrupt the reply), ``truncate`` (send part of
  it), ``bad_checksum`` (framed protocols: wrong checksum);
- process faults, taken by the model at a chosen moment of a cycle: an alarm of the manual's
  table, or a physical condition (``DOOR``, ``ESTOP``, ``AIR``, ``TEMP``...) switched on or off.

A trigger names the moment: ``cycle`` (n-th cycle since start, default any), ``phase`` (on
entering that phase), ``after_s`` (sim seconds after the cycle start or phase entry),
``site`` (when that site starts). A trigger with none of them fires at once.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

LINK_FAULTS = ("stall", "drop", "garble", "truncate", "bad_checksum")


@dataclass(frozen=True)
class Trigger:
    """When a process fault fires (all given fields must match)."""

    cycle: int | None = None
    phase: str | None = None
    after_s: float = 0.0
    site: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Trigger:
        data = dict(data or {})
        unknown = set(data) - {"cycle", "phase", "after_s", "site"}
        if unknown:
            raise ValueError(
                f"unknown trigger field(s) {sorted(unknown)}; use cycle, phase, after_s, site"
            )
        return cls(
            cycle=None if data.get("cycle") is None else int(data["cycle"]),
            phase=None if data.get("phase") is None else str(data["phase"]).upper(),
            after_s=float(data.get("after_s", 0.0)),
            site=None if data.get("site") is None else int(data["site"]),
        )


@dataclass
class LinkFault:
    """A link fault applied to the next ``count`` replies (``stall`` may last ``duration_s``)."""

    kind: str
    count: int = 1
    duration_s: float | None = None


@dataclass
class ProcessFault:
    """An alarm (``alarm`` code), a condition change (``condition`` name -> ``active``), or a
    link fault armed at a moment of the cycle (``link``)."""

    trigger: Trigger
    alarm: int | None = None
    condition: str | None = None
    active: bool = True
    link: LinkFault | None = None
    #: sim seconds after which the cause goes away by itself (None: until fixed by hand).
    clear_after_s: float | None = None
    fired: bool = False


@dataclass
class CycleContext:
    """What the model tells the injector about where it is."""

    cycle: int
    phase: str
    cycle_elapsed_s: float
    phase_elapsed_s: float
    site: int | None


@dataclass
class FaultInjector:
    """Pending faults of one tool; thread-safe (tests inject while the front serves)."""

    process: list[ProcessFault] = field(default_factory=list)
    link: deque[LinkFault] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: The alarm table of the tool these faults are for (set by its model; None: not known yet).
    alarm_codes: frozenset[int] | None = None
    tool_name: str = "tool"

    def know_alarms(self, tool_name: str, codes: Iterable[int]) -> None:
        """Bind to a tool's alarm table: alarms outside it are refused from now on."""
        self.tool_name = tool_name
        self.alarm_codes = frozenset(codes)
        with self.lock:
            unknown = [f.alarm for f in self.process if f.alarm is not None]
            unknown = [code for code in unknown if code not in self.alarm_codes]
        if unknown:
            raise ValueError(self._unknown_alarm(unknown[0]))

    def _unknown_alarm(self, code: object) -> str:
        allowed = ", ".join(str(c) for c in sorted(self.alarm_codes or ()))
        return f"alarm {code!r} is not in the {self.tool_name} alarm table: {allowed}"

    # -- Python API -------------------------------------------------------------------
    def alarm(self, code: int, *, clear_after_s: float | None = None, **trigger: Any) -> None:
        """Raise alarm ``code`` at the trigger (at once without one); ValueError, and nothing
        queued, for a code outside the tool's alarm table."""
        if isinstance(code, bool) or not isinstance(code, int):
            raise ValueError(f"alarm {code!r} is not an alarm code (a whole number)")
        if self.alarm_codes is not None and code not in self.alarm_codes:
            raise ValueError(self._unknown_alarm(code))
        with self.lock:
            self.process.append(
                ProcessFault(Trigger.from_dict(trigger), alarm=code, clear_after_s=clear_after_s)
            )

    def condition(
        self, name: str, active: bool = True, *, clear_after_s: float | None = None, **trigger: Any
    ) -> None:
        """Switch a physical condition (interlock cause) on or off at the trigger."""
        with self.lock:
            self.process.append(
                ProcessFault(
                    Trigger.from_dict(trigger),
                    condition=name.upper(),
                    active=active,
                    clear_after_s=clear_after_s,
                )
            )

    def link_fault(self, kind: str, *, count: int = 1, duration_s: float | None = None) -> None:
        """Apply a link fault to the next ``count`` replies."""
        if kind not in LINK_FAULTS:
            raise ValueError(f"unknown link fault {kind!r}; one of {', '.join(LINK_FAULTS)}")
        with self.lock:
            self.link.append(LinkFault(kind, count, duration_s))

    def arm_link_fault(self, fault: LinkFault) -> None:
        """Queue a link fault that a process trigger has released."""
        with self.lock:
            self.link.append(LinkFault(fault.kind, fault.count, fault.duration_s))

    def clear(self) -> None:
        with self.lock:
            self.process.clear()
            self.link.clear()

    # -- used by fronts and models ------------------------------------------------------
    def has_pending_process(self) -> bool:
        """Whether a process fault has yet to fire: models ask before they describe where
        they are in their cycle, on every step (a read without the lock: a fault queued
        meanwhile is seen at the next step, as it would be with it)."""
        if not self.process:  # the common case, on every step
            return False
        return any(not fault.fired for fault in self.process)

    def take_link_fault(self, kinds: tuple[str, ...] = LINK_FAULTS) -> LinkFault | None:
        """The next queued link fault if it is one of ``kinds`` (consumes one use).

        Fronts ask for ``stall``/``drop`` on every message and for the reply-shaping kinds
        (``garble``, ``truncate``, ``bad_checksum``) only when a reply is about to go out.
        """
        if not self.link:  # the common case, on every message: no lock needed to see it
            return None
        with self.lock:
            if not self.link or self.link[0].kind not in kinds:
                return None
            fault = self.link[0]
            fault.count -= 1
            if fault.count <= 0:
                self.link.popleft()
            return LinkFault(fault.kind, 1, fault.duration_s)

    def immediate(self) -> list[ProcessFault]:
        """Faults without any trigger field: they fire at once, in or out of a cycle."""
        with self.lock:
            due = [f for f in self.process if not f.fired and f.trigger == Trigger()]
            for fault in due:
                fault.fired = True
            return due

    def due(self, ctx: CycleContext) -> list[ProcessFault]:
        """Process faults whose trigger matches the model's position in its cycle."""
        with self.lock:
            due = []
            for fault in self.process:
                if fault.fired:
                    continue
                t = fault.trigger
                if t.cycle is not None and t.cycle != ctx.cycle:
                    continue
                if t.phase is not None and t.phase != ctx.phase:
                    continue
                if t.site is not None and t.site != ctx.site:
                    continue
                elapsed = ctx.phase_elapsed_s if t.phase is not None else ctx.cycle_elapsed_s
                if elapsed + 1e-9 < t.after_s:
                    continue
                fault.fired = True
                due.append(fault)
            return due

    def pending_in_phase_after(self, ctx: CycleContext) -> float | None:
        """Sim seconds until the next timed fault of the current phase/cycle (bounds a model step)."""
        with self.lock:
            best: float | None = None
            for fault in self.process:
                t = fault.trigger
                if (
                    fault.fired
                    or t.site is not None
                    or (t.cycle is not None and t.cycle != ctx.cycle)
                ):
                    continue
                if t.phase is not None and t.phase != ctx.phase:
                    continue
                elapsed = ctx.phase_elapsed_s if t.phase is not None else ctx.cycle_elapsed_s
                wait = t.after_s - elapsed
                if wait > 0 and (best is None or wait < best):
                    best = wait
            return best

    # -- scenario files --------------------------------------------------------------------
    def load_entries(self, entries: list[dict[str, Any]]) -> None:
        """Add scenario entries (already selected for this tool): see :mod:`sim.scenario`."""
        for entry in entries:
            entry = dict(entry)
            entry.pop("tool", None)
            entry.pop("station", None)
            trigger = entry.pop("at", None)
            clear_after_s = entry.pop("clear_after_s", None)
            if "alarm" in entry:
                code = int(entry.pop("alarm"))
                self._no_more(entry)
                self.alarm(code, clear_after_s=clear_after_s, **(trigger or {}))
            elif "condition" in entry:
                name = str(entry.pop("condition"))
                active = bool(entry.pop("active", True))
                self._no_more(entry)
                self.condition(name, active, clear_after_s=clear_after_s, **(trigger or {}))
            elif "link" in entry:
                kind = str(entry.pop("link"))
                count = int(entry.pop("count", 1))
                duration_s = entry.pop("duration_s", None)
                self._no_more(entry)
                if kind not in LINK_FAULTS:
                    raise ValueError(
                        f"unknown link fault {kind!r}; one of {', '.join(LINK_FAULTS)}"
                    )
                fault = LinkFault(kind, count, None if duration_s is None else float(duration_s))
                if trigger:
                    with self.lock:
                        self.process.append(ProcessFault(Trigger.from_dict(trigger), link=fault))
                else:
                    with self.lock:
                        self.link.append(fault)
            else:
                raise ValueError(f"scenario entry {entry} has none of alarm, condition, link")

    @staticmethod
    def _no_more(entry: dict[str, Any]) -> None:
        if entry:
            raise ValueError(f"unknown scenario field(s) {sorted(entry)}")
