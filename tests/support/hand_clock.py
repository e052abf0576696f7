"""A simulator clock a test moves by hand (``clock.t += 5.0``), so a model's figures are exact
and no wall time passes."""

from __future__ import annotations

from sim.clock import SimClock


class HandClock(SimClock):
    """Sim time that moves only when the test sets ``t``. ``virtual``: the model steps on its
    grid as under :class:`sim.clock.VirtualClock` (else as under a wall clock)."""

    def __init__(self, *, virtual: bool = False) -> None:
        super().__init__(1.0)
        self.t = 0.0
        self.virtual = virtual

    def now(self) -> float:
        return self.t
