"""Single-strip tools with named recipes (die bonder, wire bonder, ball attach, saw, laser,
metrology): recipe store, strip data (id, size, pitch, input map) and per-site results.

The Modbus batch tools (laminator, mold press, etch bath) do not use this layer.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sim.params import ParamSet, ParamSpec
from sim.tool_model import CycleResults, Reject, SiteResult, State, ToolModel

MAX_RECIPES = 32


def ascii_sorted(names: list[str]) -> list[str]:
    """README §3 ASCII order (``-`` < ``.`` < digits < upper case < ``_`` < lower case)."""
    return sorted(names)


class StripToolModel(ToolModel):
    """A tool that works on one strip per cycle, site by site, with stored recipes."""

    #: The manual's parameter table (recipe members and machine settings).
    param_specs: ClassVar[list[ParamSpec]] = []
    default_size: ClassVar[tuple[int, int]] = (3, 10)
    default_pitch_mm: ClassVar[tuple[float, float]] = (17.3, 17.3)
    #: Recipes stored at delivery: name -> parameter overrides.
    factory_recipes: ClassVar[dict[str, dict[str, Any]]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params = ParamSet(self.param_specs)
        self.size = self.default_size
        self.pitch_mm = self.default_pitch_mm
        self.strip_id = ""
        self.input_map = "1" * self.sites
        self.recipes: dict[str, dict[str, Any]] = {}
        for name, overrides in self.factory_recipes.items():
            values = self.params.recipe_snapshot() | overrides
            self.recipes[name] = {"params": values, "size": self.size, "pitch": self.pitch_mm}
        self.loaded_recipe: str | None = None
        self.recipe_edited = False

    @property
    def sites(self) -> int:
        return self.size[0] * self.size[1]

    # -- recipes ------------------------------------------------------------------------
    def load_recipe(self, name: str) -> None:
        with self.lock:
            self.check("arm")
            if name not in self.recipes:
                raise Reject(25)
            stored = self.recipes[name]
            previous = (self.params.recipe_snapshot(), self.size, self.pitch_mm)
            self.params.restore(stored["params"])
            if tuple(stored["size"]) != self.size:
                self.size = tuple(stored["size"])
                self.input_map = "1" * self.sites
            self.pitch_mm = tuple(stored["pitch"])
            try:
                self.do_arm()
            except Reject:
                self.params.restore(previous[0])
                self.size, self.pitch_mm = previous[1], previous[2]
                raise
            self.loaded_recipe = name
            self.recipe_edited = False

    def unload_recipe(self) -> None:
        with self.lock:
            if self.check("disarm"):
                self.do_disarm()
            self.loaded_recipe = None
            self.recipe_edited = False

    def save_recipe(self, name: str | None = None) -> None:
        with self.lock:
            self.check("set")
            target = name if name is not None else self.loaded_recipe
            if target is None:
                raise Reject(24)
            if target not in self.recipes and len(self.recipes) >= MAX_RECIPES:
                raise Reject(28)
            self.recipes[target] = {
                "params": self.params.recipe_snapshot(),
                "size": self.size,
                "pitch": self.pitch_mm,
            }
            if target == self.loaded_recipe:
                self.recipe_edited = False

    def delete_recipe(self, name: str) -> None:
        with self.lock:
            self.check("set")
            if name not in self.recipes:
                raise Reject(25)
            del self.recipes[name]

    def catalog(self) -> list[str]:
        return ascii_sorted(list(self.recipes))

    def recipe_label(self) -> str:
        if self.loaded_recipe is None:
            return ""
        return self.loaded_recipe + ("*" if self.recipe_edited else "")

    # -- parameters and strip data ---------------------------------------------------------
    def set_param(self, name: str, text: str) -> None:
        """Set a parameter from text: range first, then the state matrix (README §7 order)."""
        with self.lock:
            spec = self.params.specs[name]
            value = spec.parse(text)
            self.check("set")
            self.params[name] = value
            self.after_param_change(name)
            if spec.recipe and self.loaded_recipe is not None:
                self.recipe_edited = True

    def after_param_change(self, name: str) -> None:
        """React to a changed parameter (e.g. a zone set-point change returns to HEATING)."""

    def set_size(self, rows: int, cols: int) -> None:
        with self.lock:
            if not (1 <= rows <= 32 and 1 <= cols <= 64 and rows * cols <= 1024):
                raise Reject(13)
            self.check("set")
            self.size = (rows, cols)
            self.input_map = "1" * self.sites
            if self.loaded_recipe is not None:
                self.recipe_edited = True

    def set_pitch(self, x_mm: float, y_mm: float) -> None:
        with self.lock:
            if not (1.0 <= x_mm <= 50.0 and 1.0 <= y_mm <= 50.0):
                raise Reject(13)
            self.check("set")
            self.pitch_mm = (round(x_mm, 3), round(y_mm, 3))
            if self.loaded_recipe is not None:
                self.recipe_edited = True

    def set_strip_id(self, strip_id: str) -> None:
        with self.lock:
            self.check("set")
            self.strip_id = strip_id

    def set_input_map(self, value: str) -> None:
        with self.lock:
            if set(value) - {"0", "1"}:
                raise Reject(12, scpi=-151)
            if len(value) != self.sites:
                raise Reject(26)
            self.check("set")
            self.input_map = value

    def do_reset(self) -> None:
        """``*RST``/``RST``/``RESET``: IDLE, recipe unloaded, defaults, strip data and results cleared."""
        with self.lock:
            self.check("reset")
            self.armed = False
            self.on_disarm()
            self.params.reset()
            self.size = self.default_size
            self.pitch_mm = self.default_pitch_mm
            self.strip_id = ""
            self.input_map = "1" * self.sites
            self.loaded_recipe = None
            self.recipe_edited = False
            self.results = None
            self.cycle_active = False
            self.phase = "NONE"
            self._set_state(State.IDLE)

    def on_ack(self) -> None:
        self.strip_id = ""
        self.input_map = "1" * self.sites

    # -- results ----------------------------------------------------------------------------
    def new_results(self, value_fields: int) -> CycleResults:
        """Result rows for this cycle: X for input-map 0, N (not reached) for the rest."""
        empty = ("",) * value_fields
        rows = [
            SiteResult(site, "X" if self.input_map[site - 1] == "0" else "N", 0, empty)
            for site in range(1, self.sites + 1)
        ]
        self.results = CycleResults(self.strip_id, rows)
        return self.results

    def sites_to_process(self) -> list[int]:
        return [site for site in range(1, self.sites + 1) if self.input_map[site - 1] == "1"]

    def require_results(self) -> CycleResults:
        if self.results is None:
            raise Reject(27)
        return self.results

    def progress_reported(self) -> bool:
        """README §9.1: progress is of the active cycle, or the finished one in DONE/ABORTED
        (or ALARM after it); outside a cycle, after ACK too, it is ``0,0,0,0``."""
        finished = self.state in (State.DONE, State.ABORTED, State.ALARM)
        return self.results is not None and (self.cycle_active or finished)

    def progress(self) -> tuple[int, int, int, int]:
        with self.lock:
            if not self.progress_reported():
                return (0, 0, 0, 0)
            assert self.results is not None
            total = sum(1 for r in self.results.rows if r.result != "X")
            done = sum(1 for r in self.results.rows if r.result in ("P", "F"))
            elapsed = int(self.cycle_elapsed_s) if self.cycle_active else int(self.results.cycle_s)
            remaining = 0 if not self.cycle_active else int(self.remaining_estimate_s())
            return (done, total, elapsed, remaining)

    def remaining_estimate_s(self) -> float:
        """Remaining cycle time from the steps still queued."""
        total = sum(step.duration_s for step in self.steps)
        return max(0.0, total - self.step_elapsed_s)
