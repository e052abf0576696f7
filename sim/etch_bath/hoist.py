"""The carrier hoist: 0 mm at the top (load position), 400 mm immersed (etch-bath.md §3, §4).

It moves at LOWER_SPEED towards its target. A jammed drive (condition HOIST) or one that
cannot reach the target in time is reported so that the model raises 5140.
"""

from __future__ import annotations

TOP_MM = 0.0
BOTTOM_MM = 400.0
#: A move that has made no progress for this long (plus the nominal travel) is a motion fault.
STALL_MARGIN_S = 5.0


class Hoist:
    """Position and target of the hoist; the model decides where it should go."""

    def __init__(self) -> None:
        self.pos_mm = TOP_MM
        self.target_mm = TOP_MM
        self.stalled_s = 0.0
        #: Where the last :meth:`advance` started.
        self.pos_before_mm = TOP_MM

    @property
    def at_top(self) -> bool:
        return self.pos_mm <= TOP_MM + 1e-6

    @property
    def at_bottom(self) -> bool:
        return self.pos_mm >= BOTTOM_MM - 1e-6

    @property
    def moving(self) -> bool:
        return abs(self.target_mm - self.pos_mm) > 1e-6

    def go(self, target_mm: float) -> None:
        if target_mm != self.target_mm:
            self.target_mm = target_mm
            self.stalled_s = 0.0

    def advance(self, dt_s: float, speed_mm_s: float, *, enabled: bool, jammed: bool) -> bool:
        """Move for ``dt_s``; True when a commanded move has stalled past its time limit."""
        self.pos_before_mm = self.pos_mm
        if not self.moving:
            self.stalled_s = 0.0
            return False
        if not enabled:
            return False
        if jammed:
            self.stalled_s += dt_s
            return self.stalled_s > (BOTTOM_MM - TOP_MM) / speed_mm_s + STALL_MARGIN_S
        step = speed_mm_s * dt_s
        if abs(self.target_mm - self.pos_mm) <= step:
            self.pos_mm = self.target_mm
        else:
            self.pos_mm += step if self.target_mm > self.pos_mm else -step
        return False
