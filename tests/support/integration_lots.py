"""What the lot tests share: the default recipe's route or a stretch of it, a lot of it run on
the simulated line, and the tool seconds an alarm's handling took."""

from __future__ import annotations

import dataclasses
from typing import Any

from packline.simulated_lot import LotRun, run_simulated_lot
from sequences.line_config import LineConfig, load_line_config
from sequences.recipe import RECIPES_DIR, load_recipe
from sequences.route import Route, route_for


def heat_slug_route(
    first: str | None = None, last: str | None = None, *, tool: str | None = None
) -> Route:
    """The heat-slug-die-equal route, cut to its steps ``first`` .. ``last`` (claims sliced
    alike) or to its steps on ``tool`` (no claims)."""
    route = route_for(load_recipe(RECIPES_DIR / "heat-slug-die-equal.yaml"))
    if tool is not None:
        steps = tuple(s for s in route.steps if s.tool == tool)
        return dataclasses.replace(route, steps=steps, claims=())
    if first is None or last is None:
        return route
    names = [s.name for s in route.steps]
    window = slice(names.index(first), names.index(last) + 1)
    claims = route.claims[window] if route.claims else ()
    return dataclasses.replace(route, steps=route.steps[window], claims=claims)


def strip_ids(lot_id: str, strips: int) -> list[str]:
    """``L-01``, ``L-02`` ... for lot ``L``."""
    return [f"{lot_id}-{k:02d}" for k in range(1, strips + 1)]


def simulated_lot(
    route: Route,
    strips: int,
    *,
    lot_id: str,
    seed: int,
    config: LineConfig | None = None,
    **options: Any,
) -> LotRun:
    """Lot ``lot_id`` of ``strips`` strips (:func:`strip_ids`) through ``route`` on the default
    line (or ``config``); on the virtual clock unless ``options`` give a ``time_scale``."""
    return run_simulated_lot(
        route,
        strip_ids(lot_id, strips),
        lot_id=lot_id,
        config=config or load_line_config(),
        seed=seed,
        **options,
    )


def handling_s(handling: str) -> float:
    """The tool seconds an alarm's handling took (``upkeep done, PASS in 21.0 tool s``)."""
    return float(handling.split(" in ")[1].split()[0])
