"""The TM-4 abort sequence (mold-press.md §3 A-class, §8 "Abort sequence 15 s"): the ram stops
and retracts, then the press opens and ejects once E-stop and door are clear.

The 15 s split (sim decision, docs/tools/mold-press.md): the ram retracts for 7 s at a constant
speed from where it stopped, then the press opens and ejects for 8 s, the nominal OPEN of §3.
Both timers are linear, so the sequence is exact for a step of any length."""

from __future__ import annotations

from dataclasses import dataclass

RETRACT_S = 7.0
OPEN_S = 8.0  # §3 OPEN nominal: open, eject


@dataclass
class AbortSequence:
    """Where the ram stopped and the time each stage has still to run (0: done or none)."""

    from_mm: float = 0.0
    retract_left_s: float = 0.0
    open_left_s: float = 0.0

    @property
    def running(self) -> bool:
        return self.retract_left_s > 0.0 or self.open_left_s > 0.0

    @property
    def left_s(self) -> float:
        """Tool seconds the sequence still needs (not counting a wait for E-stop or door)."""
        return self.retract_left_s + self.open_left_s

    def begin(self, ram_mm: float) -> None:
        """The cycle stopped with the ram at ``ram_mm`` (0 = home)."""
        self.from_mm = ram_mm
        self.retract_left_s = RETRACT_S
        self.open_left_s = OPEN_S

    @property
    def retracting(self) -> bool:
        return self.retract_left_s > 0.0

    def ram_mm(self) -> float:
        """PLUNGER_POS while retracting: back from where the ram stopped to home in 7 s."""
        return self.from_mm * self.retract_left_s / RETRACT_S

    def ram_speed_mm_s(self) -> float:
        """PLUNGER_SPEED while retracting (u16: the magnitude), else 0."""
        return self.from_mm / RETRACT_S if self.retracting else 0.0

    def advance(self, dt_s: float, *, may_open: bool) -> bool:
        """Run ``dt_s`` of the sequence: the retraction first, then, if ``may_open`` (E-stop
        and door clear), the opening. True when the press opened in this step."""
        used_s = min(dt_s, self.retract_left_s)
        self.retract_left_s -= used_s
        if self.retract_left_s > 0.0 or not may_open or self.open_left_s <= 0.0:
            return False
        self.open_left_s = max(0.0, self.open_left_s - (dt_s - used_s))
        return True

    def event_in_s(self, *, may_open: bool) -> float | None:
        """Tool seconds to the end of the running stage, None when none runs (or the opening
        waits for E-stop and door)."""
        if self.retracting:
            return self.retract_left_s
        if self.open_left_s > 0.0 and may_open:
            return self.open_left_s
        return None
