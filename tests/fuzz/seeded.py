"""One way to run a hypothesis search in this suite: seeded, bounded, no example database,
generation only (no shrinking: a campaign counts failures instead of minimising one)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st


def run_seeded(
    strategy: st.SearchStrategy[Any], case: Callable[[Any], None], *, cases: int, seed_value: int
) -> None:
    """Call ``case`` with ``cases`` values drawn from ``strategy``, reproducibly."""

    @seed(seed_value)
    @settings(
        max_examples=cases,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(value: Any) -> None:
        case(value)

    run()
