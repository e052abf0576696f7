"""The line controller: connected stations, a queue of lots run one after another, recovery of
unfinished lots from the store, and the answers of the HTTP API (:class:`ControllerAPI`).

The same lot runner and stations run a dry run and the daemon; here they record into the
store (through :class:`LoggingRecorder`), so every result is committed before its tool is
acknowledged, and a restarted controller resumes each unfinished lot: finished steps are not
repeated, and a cycle that was running is reconciled with its tool (see ``resume_step``).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any

import yaml

from drivers.base import Tool
from drivers.errors import PacklineError
from drivers.registry import driver_class
from packline.daemon.controller_api import Json
from packline.daemon.errors import BadRequest, Conflict, NotFound
from packline.daemon.line_events import LineEvents
from packline.daemon.logging_recorder import LoggingRecorder, kv
from packline.store import Store
from sequences.config_errors import ConfigError
from sequences.line_config import LineConfig
from sequences.lot import LotPlan, LotRunner
from sequences.packml import OPERATOR_COMMANDS
from sequences.recipe import RECIPES_DIR, load_recipe, validate_recipe
from sequences.route import Route, route_for
from sequences.station import AlarmPolicy, Station
from sequences.station_machine import CommandRefused
from sequences.steps.base import Pace

log = logging.getLogger("packline.daemon")

DEFAULT_RECIPE = "heat-slug-die-equal"
IDENTIFIER = re.compile(r"^[A-Za-z0-9_.\-]{1,20}$")  # README §3: lot and strip ids
RECIPE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")  # a file stem in configs/recipes
LOT_COMMANDS = ("hold", "release", "abort")


class LineController:
    """Owns the stations and runs the lots of the store."""

    def __init__(
        self,
        *,
        config: LineConfig,
        store: Store,
        addresses: Mapping[str, str],
        time_scale: float = 1.0,
        recipes_dir: Path = RECIPES_DIR,
    ) -> None:
        self.config = config
        self.store = store
        self.addresses = dict(addresses)
        self.pace = Pace(time_scale, min_bound_wall_s=5.0)
        self.recipes_dir = recipes_dir
        self.events = LineEvents()  # the fronts (SECS/GEM) subscribe here
        self.recorder = LoggingRecorder(store, self.events)
        self.stations: dict[str, Station] = {}
        self._drivers: list[Tool] = []
        self._lock = threading.Condition()
        self._runner: LotRunner | None = None
        self._running_lot = ""
        self._stopping = False
        self._thread = threading.Thread(target=self._lots_loop, name="lots", daemon=True)

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Connect every station's tool, then start running (and resuming) lots."""
        for entry in self.config.expanded():
            address = self.addresses.get(entry.name)
            if address is None:
                raise ValueError(f"station {entry.name} has no address")
            driver = driver_class(entry.tool).open(address)
            self._drivers.append(driver)
            self.stations[entry.name] = Station(
                entry.name,
                entry.tool,
                driver,
                pace=self.pace,
                policy=AlarmPolicy(entry.on_alarm),
                retry_tool_s=entry.retry_tool_s,
                listeners=[self.recorder.state_event],
                on_alarm=self._alarm_sink,
            )
            log.info(
                kv(event="station_connected", station=entry.name, tool=entry.tool, address=address)
            )
        self._thread.start()

    def stop(self, timeout_s: float | None = 10.0) -> None:
        """Graceful stop: no new cycle starts; waits on running cycles are dropped without
        aborting them (they are reconciled at the next start); drivers close."""
        with self._lock:
            self._stopping = True
            runner = self._runner
            self._lock.notify_all()
        if runner is not None:
            runner.stop()
        self._thread.join(timeout_s)
        for driver in self._drivers:
            with suppress(PacklineError):
                driver.close()
        log.info(kv(event="controller_stopped"))

    def wake(self) -> None:
        with self._lock:
            self._lock.notify_all()

    def _alarm_sink(self, record: Any) -> None:
        self.recorder.alarm(self._running_lot, record)

    # -- the lot queue ------------------------------------------------------------------------
    def _lots_loop(self) -> None:
        while True:
            with self._lock:
                if self._stopping:
                    return
                lot = next(
                    (
                        lot
                        for lot in self.store.open_lots()
                        if lot["status"] in ("running", "aborting", "queued")  # held lots wait
                    ),
                    None,
                )
                if lot is None:
                    self._lock.wait(0.5)
                    continue
            try:
                self._run_lot(lot)
            except Exception:  # the daemon keeps running whatever a lot does
                log.exception(kv(event="lot_failed", lot=lot["lot_id"]))
                self.store.set_lot_status(lot["lot_id"], "held", "controller error; see the log")

    def _run_lot(self, summary: Json) -> None:
        lot_id = summary["lot_id"]
        lot = self.store.lot(lot_id) or summary  # the full record, with the recipe text
        route = self._route_of(lot)
        plan = LotPlan(lot_id, route.steps, route.rows, route.cols, tuple(lot["strip_ids"]))
        initial = self.store.strip_progress(lot_id)
        in_flight = self.store.in_flight(lot_id)
        stations = [
            self.stations[s.name]
            for s in self.config.expanded()
            if s.tool in {step.tool for step in route.steps}
        ]
        runner = LotRunner(plan, stations, self.recorder, initial=initial, in_flight=in_flight)
        with self._lock:
            if self._stopping:
                return
            self._runner, self._running_lot = runner, lot_id
        resumed = " (resumed)" if lot["status"] == "running" else ""
        log.info(
            kv(
                event="lot_started",
                lot=lot_id,
                recipe=lot["recipe_name"],
                strips=len(plan.strip_ids),
                in_flight=len(in_flight),
                note=resumed.strip(),
            )
        )
        self.store.set_lot_status(lot_id, "running")
        self.events.publish(
            "lot_started",
            lot_id=lot_id,
            recipe=lot["recipe_name"],
            strip_ids=list(plan.strip_ids),
            resumed=bool(resumed),
        )
        final = runner.run()
        with self._lock:
            self._runner, self._running_lot = None, ""
            stopping = self._stopping
        if stopping and not all(s.terminal for s in final.values()):
            log.info(kv(event="lot_paused_for_shutdown", lot=lot_id))
            return  # stays "running": the next start resumes it
        aborted = self.store.lot(lot_id)
        status = "aborted" if aborted and aborted["status"] == "aborting" else "complete"
        self.store.set_lot_status(lot_id, status)
        reason = aborted["reason"] if aborted and status == "aborted" else ""
        self.events.publish("lot_finished", lot_id=lot_id, status=status, reason=reason)
        counts = {
            k: sum(1 for s in final.values() if s.status == k)
            for k in ("complete", "scrapped", "on hold")
        }
        log.info(
            kv(
                event="lot_finished",
                lot=lot_id,
                status=status,
                **{k.replace(" ", "_"): v for k, v in counts.items()},
            )
        )

    def _route_of(self, lot: Json) -> Route:
        data = yaml.safe_load(lot["recipe_text"])
        return route_for(
            validate_recipe(data, f"lot {lot['lot_id']} recipe", file_stem=lot["recipe_name"])
        )

    # -- lots (API) ------------------------------------------------------------------------------
    def submit_lot(
        self,
        *,
        recipe: str | None,
        strips: int | None,
        strip_ids: list[str] | None,
        lot_id: str | None,
        by: str,
    ) -> Json:
        name = recipe or DEFAULT_RECIPE
        path = self._recipe_path(name)
        try:
            route = route_for(load_recipe(path))
        except ConfigError as exc:
            raise BadRequest(f"recipe {name} is not valid", exc.problems) from None
        if lot_id is not None and not IDENTIFIER.match(lot_id):
            raise BadRequest(f"lot_id {lot_id!r} must be 1-20 characters of A-Z a-z 0-9 - _ .")
        lot_id = lot_id or time.strftime("L%y%m%d%H%M%S")
        if strip_ids:
            bad = [s for s in strip_ids if not isinstance(s, str) or not IDENTIFIER.match(s)]
            if bad:
                raise BadRequest(
                    "strip ids must be 1-20 characters of A-Z a-z 0-9 - _ .",
                    [f"strip id {b!r}" for b in bad],
                )
            if len(set(strip_ids)) != len(strip_ids):
                raise BadRequest("strip ids must be unique")
            if strips is not None and strips != len(strip_ids):
                raise BadRequest(f"strips={strips} but {len(strip_ids)} strip ids given")
            ids = list(strip_ids)
        elif strips is not None:
            if not 1 <= strips <= 200:
                raise BadRequest(f"strips must be 1..200, got {strips}")
            ids = [f"{lot_id}-{k:02d}" for k in range(1, strips + 1)]
            if any(len(i) > 20 for i in ids):
                raise BadRequest(
                    f"lot_id {lot_id!r} too long to derive strip ids (max 20 characters)"
                )
        else:
            raise BadRequest("give strips (a count) or strip_ids")
        self.store.create_lot(
            lot_id,
            recipe_name=name,
            recipe_source=str(path),
            recipe_text=path.read_text(),
            rows=route.rows,
            cols=route.cols,
            steps=[s.name for s in route.steps],
            strip_ids=ids,
        )
        self.store.record_command("lot", lot_id, "submit", by, "queued")
        log.info(kv(event="lot_submitted", lot=lot_id, recipe=name, strips=len(ids), by=by))
        self.events.publish("lot_queued", lot_id=lot_id, recipe=name, strip_ids=ids)
        self.wake()
        return self.show_lot(lot_id)

    def _recipe_path(self, name: str) -> Path:
        if not RECIPE_NAME.match(name.removesuffix(".yaml")):
            raise BadRequest(f"recipe name {name!r} is not a recipe name")
        path = self.recipes_dir / f"{name.removesuffix('.yaml')}.yaml"
        if not path.is_file():
            known = ", ".join(p.stem for p in sorted(self.recipes_dir.glob("*.yaml")))
            raise BadRequest(f"no recipe {name!r}; known: {known}")
        return path

    def list_lots(self) -> list[Json]:
        return [self._public_lot(lot) for lot in self.store.lots()]

    def show_lot(self, lot_id: str) -> Json:
        lot = self.store.lot(lot_id)
        if lot is None:
            raise NotFound(f"no lot {lot_id!r}")
        return self._public_lot(lot)

    @staticmethod
    def _public_lot(lot: Json) -> Json:
        return {k: v for k, v in lot.items() if k != "recipe_text"}

    def lot_command(self, lot_id: str, command: str, *, by: str) -> Json:
        if command not in LOT_COMMANDS:
            raise BadRequest(f"unknown lot command {command!r}; one of {', '.join(LOT_COMMANDS)}")
        lot = self.show_lot(lot_id)
        status = lot["status"]
        with self._lock:
            runner = self._runner if self._running_lot == lot_id else None
        if status in ("complete", "aborted"):
            raise Conflict(f"lot {lot_id} is {status}")
        if command == "hold":
            if runner is not None:
                runner.hold()
            self.store.set_lot_status(lot_id, "held", f"held by {by}")
        elif command == "release":
            if status != "held":
                raise Conflict(f"lot {lot_id} is {status}, not held")
            if runner is not None:
                runner.release()
            self.store.set_lot_status(lot_id, "running" if runner is not None else "queued")
        else:
            reason = f"lot aborted by {by}"
            if runner is not None:
                self.store.set_lot_status(lot_id, "aborting", reason)
                runner.abort(reason)
            else:
                self._abort_idle_lot(lot_id, reason)
        self.store.record_command("lot", lot_id, command, by, "ok")
        log.info(kv(event="lot_command", lot=lot_id, command=command, by=by))
        self.wake()
        return self.show_lot(lot_id)

    def _abort_idle_lot(self, lot_id: str, reason: str) -> None:
        from sequences.records import StripDisposition

        for strip_id, progress in self.store.strip_progress(lot_id).items():
            if not progress.terminal:
                self.recorder.strip_finished(  # logged and published, like a runner's
                    lot_id, StripDisposition(strip_id, "on hold", reason, time.time())
                )
        self.store.set_lot_status(lot_id, "aborted", reason)
        self.events.publish("lot_finished", lot_id=lot_id, status="aborted", reason=reason)

    # -- strips and units ------------------------------------------------------------------------
    def show_strip(self, strip_id: str) -> Json:
        strip = self.store.strip(strip_id)
        if strip is None:
            raise NotFound(f"no strip {strip_id!r}")
        return strip

    def show_unit(self, strip_id: str, site: int) -> Json:
        unit = self.store.unit(strip_id, site)
        if unit is None:
            raise NotFound(f"no unit {strip_id}:{site}")
        return unit

    # -- stations ------------------------------------------------------------------------------
    def list_stations(self) -> list[Json]:
        return [self._station_view(station, live=False) for station in self.stations.values()]

    def show_station(self, name: str) -> Json:
        station = self.stations.get(name)
        if station is None:
            raise NotFound(f"no station {name!r}; stations: {', '.join(self.stations)}")
        view = self._station_view(station, live=True)
        view["e10_s"] = self.store.e10(time.time()).get(name, {})
        return view

    def _station_view(self, station: Station, *, live: bool) -> Json:
        view: Json = {
            "name": station.name,
            "tool": station.tool_kind,
            "address": self.addresses.get(station.name),
            "state": station.state.value,
            "step": station.current_step,
            "strips": list(station.current_strips),
            "policy": station.policy.value,
        }
        if live:
            try:
                view["tool_state"] = station.driver.state().name
                view["alarms"] = [
                    {"code": a.code, "class": a.alarm_class, "text": a.text}
                    for a in station.driver.alarms()
                ]
            except PacklineError as exc:
                view["tool_state"] = "UNREACHABLE"
                view["alarms"] = []
                view["link_error"] = str(exc)
        return view

    def station_command(self, name: str, command: str, *, by: str) -> Json:
        station = self.stations.get(name)
        if station is None:
            raise NotFound(f"no station {name!r}")
        if command not in OPERATOR_COMMANDS:
            raise BadRequest(
                f"unknown station command {command!r}; one of {', '.join(OPERATOR_COMMANDS)}"
            )
        try:
            state = station.command(command, cause=f"operator {by}")
        except CommandRefused as exc:
            self.store.record_command("station", name, command, by, f"refused: {exc}")
            raise Conflict(str(exc)) from None
        self.store.record_command("station", name, command, by, state.value)
        log.info(
            kv(event="station_command", station=name, command=command, by=by, state=state.value)
        )
        return self.show_station(name)

    # -- alarms, recipes, E10 ------------------------------------------------------------------------
    def list_alarms(self, *, active_only: bool) -> list[Json]:
        return self.store.alarms(active_only=active_only)

    def ack_alarm(self, alarm_id: int, *, by: str) -> Json:
        result = self.store.ack_alarm(alarm_id, by)
        self.store.record_command("alarm", str(alarm_id), "ack", by, "ok")
        return result

    def list_recipes(self) -> list[Json]:
        recipes = []
        for path in sorted(self.recipes_dir.glob("*.yaml")):
            try:
                route = route_for(load_recipe(path))
                recipes.append(
                    {
                        "name": path.stem,
                        "product": route.product,
                        "variant": route.variant,
                        "valid": True,
                    }
                )
            except ConfigError as exc:
                recipes.append({"name": path.stem, "valid": False, "problems": exc.problems})
        return recipes

    def validate_recipe(self, *, name: str | None, text: str | None) -> Json:
        if (name is None) == (text is None):
            raise BadRequest("give exactly one of name or text")
        try:
            if name is not None:
                route = route_for(load_recipe(self._recipe_path(name)))
            else:
                try:
                    data = yaml.safe_load(text or "")
                except yaml.YAMLError as exc:
                    return {"valid": False, "problems": [f"not valid YAML ({exc})"], "route": []}
                route = route_for(validate_recipe(data, "request body"))
        except ConfigError as exc:
            return {"valid": False, "problems": exc.problems, "route": []}
        return {"valid": True, "problems": [], "route": route.describe()}

    def e10(self) -> Json:
        return self.store.e10(time.time())
