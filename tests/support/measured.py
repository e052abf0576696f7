"""Reading a measured value in an assertion without letting a missing one pass."""

from __future__ import annotations

from typing import Any


def measured(value: Any) -> float:
    """``value`` as a float; fails the test when it is None (not measured), instead of an
    ``or 0`` that would make ``<= limit`` pass on nothing."""
    assert value is not None, "value not measured"
    return float(value)
