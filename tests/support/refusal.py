"""What a simulated tool refuses: the catalogue code and detail of the
:class:`sim.tool_model.Reject` a model call raises, for the model tests' one-line checks."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sim.tool_model import Reject


def refusal(call: Callable[..., object], *args: object) -> tuple[int, str]:
    """``(code, detail)`` of the Reject that ``call(*args)`` raises; the test fails if none."""
    with pytest.raises(Reject) as refused:
        call(*args)
    return refused.value.code, refused.value.detail
