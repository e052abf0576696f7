"""What the HTTP API (and tests) may ask of the line controller.

Every method returns JSON-ready data (dicts, lists, str, int, float, bool, None) and raises
only :mod:`packline.errors` for a request it refuses. ``by`` names the user who asked and goes
into the operator-command log. No HTTP here: the web layer and the SECS/GEM host both call it.
"""

from __future__ import annotations

from typing import Any, Protocol

Json = dict[str, Any]


class ControllerAPI(Protocol):
    # -- lots -------------------------------------------------------------------------------
    def submit_lot(
        self,
        *,
        recipe: str | None,
        strips: int | None,
        strip_ids: list[str] | None,
        lot_id: str | None,
        by: str,
        priority: int = 0,
    ) -> Json:
        """Queue a lot: ``recipe`` is a recipe name in configs/recipes (default: the heat-slug
        die-equal recipe); either ``strips`` (ids are generated) or ``strip_ids``; ``priority``
        (higher goes first at a free station, FIFO within one; -1000..1000). Returns the
        lot as :meth:`show_lot` does (``lot_id``, ``status`` "queued"...)."""
        ...

    def set_lot_priority(self, lot_id: str, priority: int, *, by: str) -> Json:
        """Change an open lot's priority (from the next free station on)."""
        ...

    def list_lots(self) -> list[Json]: ...

    def show_lot(self, lot_id: str) -> Json:
        """Lot with ``status`` (queued, running, held, complete, aborted), recipe, counts, and
        per-step progress (strips done, units passed/failed) and per-strip status."""
        ...

    def lot_command(self, lot_id: str, command: str, *, by: str) -> Json:
        """``hold`` (no new cycles start), ``release``, ``abort`` (strips not finished go on hold)."""
        ...

    # -- strips and units ------------------------------------------------------------------------
    def show_strip(self, strip_id: str) -> Json:
        """A strip's lot, status and every step it went through with result maps."""
        ...

    def show_unit(self, strip_id: str, site: int) -> Json:
        """A unit's full genealogy: every step with station, tool, times, result, defect, values,
        recipe values."""
        ...

    # -- stations ------------------------------------------------------------------------------
    def list_stations(self) -> list[Json]: ...

    def show_station(self, name: str) -> Json:
        """PackML state, tool kind, address, current step and strips, the tool's active alarms,
        alarm policy, E10 times."""
        ...

    def station_command(self, name: str, command: str, *, by: str) -> Json:
        """hold, unhold, stop, abort, clear, reset."""
        ...

    def station_service(self, name: str, *, enable: bool, reason: str, by: str) -> Json:
        """Take a station out of service (``enable=False``, a reason is required) or back."""
        ...

    # -- alarms ----------------------------------------------------------------------------------
    def list_alarms(self, *, active_only: bool) -> list[Json]: ...

    def ack_alarm(self, alarm_id: int, *, by: str) -> Json: ...

    # -- recipes and time accounting -------------------------------------------------------------------
    def list_recipes(self) -> list[Json]: ...

    def validate_recipe(self, *, name: str | None, text: str | None) -> Json:
        """``{"valid": bool, "problems": [...], "route": [...]}`` for a stored recipe or YAML text."""
        ...

    def e10(self, since: float | None = None) -> Json:
        """Tool seconds per E10 category per station (since ``since``, else since the first event)."""
        ...

    def e10_labelled(self) -> Json:
        """``{"unit": "tool_s", "time_scale": N, "stations": e10()}``."""
        ...

    # -- the operator page -----------------------------------------------------------------------
    def line_view(self, shift_start: float) -> Json:
        """``stations`` (live, with ``since``: when the state was entered), ``lots`` not finished
        (as :meth:`show_lot`), active ``alarms``, ``e10`` since ``shift_start``."""
        ...
