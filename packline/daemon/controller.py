"""The line controller: connected stations, a queue of lots run one after another, recovery of
unfinished lots from the store, and the answers of the HTTP API (:class:`ControllerAPI`).

The same lot runner and stations run a dry run and the daemon; here they record into the
store (through :class:`LoggingRecorder`), so every result is committed before its tool is
acknowledged, and a restarted controller resumes each unfinished lot: finished steps are not
repeated, and a cycle that was running is reconciled with its tool (see ``run_step(resume=True)``).
"""

from __future__ import annotations

import logging
import string
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from drivers.errors import PacklineError
from drivers.records import AlarmInfo
from packline.daemon.controller_api import Json
from packline.daemon.line_events import LineEvents
from packline.daemon.logging_recorder import LoggingRecorder, kv
from packline.daemon.polling import StationPollers
from packline.daemon.reconnect import MAX_RETRY_S, Reconnectors
from packline.errors import Conflict, Invalid, NotFound
from packline.store import Store
from packline.store.records import LotRecord, LotSummary
from packline.vocabulary import (
    FINISHED_LOT_STATUSES,
    ID,
    ID_RULE,
    LOT_COMMANDS,
    PRIORITY_RANGE,
    RECIPE_NAME,
)
from sequences.config_errors import ConfigError
from sequences.line_config import LineConfig
from sequences.line_factory import Line, Wiring, open_line
from sequences.lot import LotPlan, LotRunner
from sequences.packml import E10, OPERATOR_COMMANDS
from sequences.recipe import RECIPES_DIR, load_recipe, validate_recipe
from sequences.records import AlarmRecord, StepStart
from sequences.route import Route, route_for
from sequences.station import Station
from sequences.station_machine import CommandRefused
from sequences.steps.base import Pace

log = logging.getLogger("packline.daemon")

DEFAULT_RECIPE = "heat-slug-die-equal"
#: Lots running at once; the next starts when one finishes (each runs a worker per station).
MAX_OVERLAPPING_LOTS = 4


def check_priority(priority: object) -> int:
    """A lot priority as given (API, CLI, SECS/GEM): an integer in PRIORITY_RANGE."""
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise Invalid(f"priority must be an integer, got {priority!r}")
    if priority not in PRIORITY_RANGE:
        raise Invalid(
            f"priority must be {PRIORITY_RANGE.start}..{PRIORITY_RANGE.stop - 1}, got {priority}"
        )
    return priority


def queue_rank(lot: LotSummary) -> tuple[int, int]:
    """A lot's place at a free station: higher priority first, then submit order (FIFO)."""
    return (-lot.get("priority", 0), lot["submit_seq"])


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
        reconnect_max_s: float = MAX_RETRY_S,
    ) -> None:
        """``reconnect_max_s``: the longest wall wait between attempts to reach a DOWN tool."""
        self.config = config
        self.store = store
        store.time_scale = time_scale  # kept with each state event: E10 in tool seconds
        self.addresses = dict(addresses)
        self.pace = Pace(time_scale, min_bound_wall_s=5.0)
        self.recipes_dir = recipes_dir
        self.events = LineEvents()  # the fronts (SECS/GEM) subscribe here
        self.recorder = LoggingRecorder(store, self.events)
        self.stations: dict[str, Station] = {}
        self._line: Line | None = None
        self._lock = threading.Condition()
        #: The lots running now, in the order they started (the FIFO of a free station).
        self._runners: dict[str, LotRunner] = {}
        #: Each running lot's :func:`queue_rank` (a priority change updates it).
        self._rank: dict[str, tuple[int, int]] = {}
        self._lot_threads: dict[str, threading.Thread] = {}
        self._stopping = False
        #: When the daemon started serving (epoch s): a station's E10 clock without events.
        self._serving_since = time.time()
        self._thread = threading.Thread(target=self._lots_loop, name="lots", daemon=True)
        self._reconnectors = Reconnectors(
            on_back=lambda _: self.wake(), max_retry_s=reconnect_max_s
        )
        self.pollers = StationPollers(on_idle_alarm=self._idle_alarm, on_lost=self._idle_lost)

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Connect every station's tool, then start running (and resuming) lots. A tool that
        does not answer leaves its station DOWN; it is reconnected in the background."""
        self._serving_since = time.time()
        self._line = open_line(
            self.config.expanded(),
            self.addresses,
            Wiring(
                self.pace,
                [self.recorder.state_event],
                on_alarm=self._alarm_sink,
                on_link_lost=self._link_lost,
            ),
            keep_down=True,
        )
        self.stations.update(self._line.stations)
        for name, station in self.stations.items():
            down = self._line.down.get(name)
            if down is not None:
                self._reconnectors.start(station)
                log.warning(kv(event="station_down", station=name, reason=down))
            else:
                log.info(
                    kv(
                        event="station_connected",
                        station=name,
                        tool=station.tool_kind,
                        address=self.addresses[name],
                    )
                )
        self.pollers.start(self.stations.values())
        self._thread.start()

    def stop(self, timeout_s: float | None = 10.0) -> None:
        """Graceful stop: no new cycle starts; waits on running cycles are dropped without
        aborting them (they are reconciled at the next start); drivers close."""
        with self._lock:
            self._stopping = True
            runners = list(self._runners.values())
            self._lock.notify_all()
        for runner in runners:
            runner.stop()
        self._reconnectors.stop()
        self.pollers.stop()
        self._thread.join(timeout_s)
        for thread in list(self._lot_threads.values()):
            thread.join(timeout_s)
        if self._line is not None:
            self._line.close()
        log.info(kv(event="controller_stopped"))

    def wake(self) -> None:
        with self._lock:
            self._lock.notify_all()

    def _link_lost(self, station: Station) -> None:
        """A tool dropped mid-cycle: its station is DOWN; reconnect it in the background."""
        log.warning(kv(event="station_down", station=station.name, reason=station.down_reason))
        self._reconnectors.start(station)

    def _idle_alarm(self, station: Station, alarm: AlarmInfo) -> None:
        """An alarm the poller saw on a station without strips: recorded under no lot."""
        self.recorder.alarm(
            "",
            AlarmRecord(
                time.time(),
                station.name,
                (),
                alarm.code,
                alarm.alarm_class,
                alarm.text,
                "raised while idle",
            ),
        )

    def _idle_lost(self, station: Station, reason: str) -> None:
        """An idle station's tool stopped answering: DOWN now, not when a strip is sent."""
        station.mark_down(reason)
        self._link_lost(station)

    def _alarm_sink(self, record: Any) -> None:
        """An alarm is recorded under the lot of the strips on the station ("" when idle)."""
        with self._lock:
            runners = list(self._runners.items())
        strips = set(record.strip_ids)
        lot_id = next((lid for lid, r in runners if strips & set(r.strips)), "")
        if not lot_id and len(runners) == 1:
            lot_id = runners[0][0]
        self.recorder.alarm(lot_id, record)

    def _ahead_of(self, lot_id: str) -> list[LotRunner]:
        """The running lots that go before ``lot_id`` at a free station: a higher priority, or
        the same one and submitted earlier."""
        with self._lock:
            mine = self._rank.get(lot_id)
            if mine is None:
                return []
            return [
                runner
                for other, runner in self._runners.items()
                if other != lot_id and self._rank.get(other, mine) < mine
            ]

    def _running_in_rank(self) -> list[LotRunner]:
        """The running lots, highest priority first, then FIFO (a shared batch load's order)."""
        with self._lock:
            ranked = sorted(self._runners, key=lambda lot: self._rank.get(lot, (0, 0)))
            return [self._runners[lot] for lot in ranked]

    def _load_mates(
        self, lot_id: str, in_flight: list[StepStart]
    ) -> dict[tuple[str, float], frozenset[str]]:
        """The lots whose strips shared a batch load with ``lot_id``'s cycles still on a tool
        (same station and start): that load is reconciled once, for all of them."""
        mine = {(start.station, start.started) for start in in_flight}
        if not mine:
            return {}
        mates: dict[tuple[str, float], set[str]] = {}
        for lot in self.store.open_lots():
            starts = in_flight if lot["lot_id"] == lot_id else self.store.in_flight(lot["lot_id"])
            for start in starts:
                if (start.station, start.started) in mine:
                    mates.setdefault((start.station, start.started), set()).add(lot["lot_id"])
        return {key: frozenset(lots) for key, lots in mates.items() if len(lots) > 1}

    # -- the lot queue ------------------------------------------------------------------------
    def _lots_loop(self) -> None:
        """Starts each open lot in its own thread as soon as it is submitted (up to
        MAX_OVERLAPPING_LOTS at once): lots overlap, and a free station serves the lot that
        started first among those that want it (FIFO)."""
        while True:
            with self._lock:
                if self._stopping:
                    return
                for lot_id in [k for k, t in self._lot_threads.items() if not t.is_alive()]:
                    del self._lot_threads[lot_id]
                lot = None
                if len(self._lot_threads) < MAX_OVERLAPPING_LOTS:
                    lot = min(
                        (
                            lot
                            for lot in self.store.open_lots()
                            if lot["status"] in ("running", "aborting", "queued")  # held wait
                            and lot["lot_id"] not in self._lot_threads
                        ),
                        key=queue_rank,
                        default=None,
                    )
                if lot is None:
                    self._lock.wait(0.5)
                    continue
                thread = threading.Thread(
                    target=self._run_lot_safely, args=(lot,), name=f"lot-{lot['lot_id']}"
                )
                self._lot_threads[lot["lot_id"]] = thread
                thread.start()

    def _run_lot_safely(self, lot: LotSummary) -> None:
        try:
            self._run_lot(lot)
        except Exception:  # the daemon keeps running whatever a lot does
            log.exception(kv(event="lot_failed", lot=lot["lot_id"]))
            self.store.set_lot_status(lot["lot_id"], "held", "controller error; see the log")
        finally:
            with self._lock:
                self._runners.pop(lot["lot_id"], None)
                self._rank.pop(lot["lot_id"], None)
                self._lock.notify_all()

    def _run_lot(self, summary: LotSummary) -> None:
        lot_id = summary["lot_id"]
        lot = self.store.lot(lot_id)  # the full record, with the recipe text
        if lot is None:  # cannot happen: lots are never deleted
            log.error(kv(event="lot_vanished", lot=lot_id))
            return
        route = self._route_of(lot)
        plan = LotPlan(lot_id, route.steps, route.rows, route.cols, tuple(lot["strip_ids"]))
        initial = self.store.strip_progress(lot_id)
        in_flight = self.store.in_flight(lot_id)
        load_mates = self._load_mates(lot_id, in_flight)
        stations = [
            self.stations[s.name]
            for s in self.config.expanded()
            if s.tool in {step.tool for step in route.steps}
        ]
        runner = LotRunner(
            plan,
            stations,
            self.recorder,
            initial=initial,
            in_flight=in_flight,
            defer=lambda station: any(r.wants(station) for r in self._ahead_of(lot_id)),
            partners=self._running_in_rank,
            load_mates=load_mates,
        )
        with self._lock:  # see lot_command
            current = self.store.lot(lot_id)
            if self._stopping or current is None:
                return
            if current["status"] not in ("running", "aborting", "queued"):
                return  # held (or aborted) since the lots loop chose it
            self._runners[lot_id] = runner
            self._rank[lot_id] = queue_rank(current)
            if current["status"] != "aborting":
                self.store.set_lot_status(lot_id, "running")
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
        self.events.publish(
            "lot_started",
            lot_id=lot_id,
            recipe=lot["recipe_name"],
            strip_ids=list(plan.strip_ids),
            resumed=bool(resumed),
        )
        final = runner.run()
        with self._lock:
            self._runners.pop(lot_id, None)
            stopping = self._stopping
        if stopping and not all(s.terminal for s in final.values()):
            log.info(kv(event="lot_paused_for_shutdown", lot=lot_id))
            return  # stays "running": the next start resumes it
        aborted = self.store.lot(lot_id)
        status = "aborted" if aborted and aborted["status"] == "aborting" else "complete"
        # an aborted lot keeps the reason its abort gave ("lot aborted by operator")
        reason = aborted["reason"] if aborted and status == "aborted" else ""
        self.store.set_lot_status(lot_id, status, reason)
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

    def _route_of(self, lot: LotRecord) -> Route:
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
        priority: int = 0,
    ) -> Json:
        priority = check_priority(priority)
        name = recipe or DEFAULT_RECIPE
        path = self._recipe_path(name)
        try:
            route = route_for(load_recipe(path))
        except ConfigError as exc:
            raise Invalid(f"recipe {name} is not valid", exc.problems) from None
        if lot_id is not None and not ID.match(lot_id):
            raise Invalid(f"lot_id {lot_id!r} must be {ID_RULE}")
        lot_id = lot_id or self._new_lot_id()
        if strip_ids:
            bad = [s for s in strip_ids if not isinstance(s, str) or not ID.match(s)]
            if bad:
                raise Invalid(
                    f"strip ids must be {ID_RULE}",
                    [f"strip id {b!r}" for b in bad],
                )
            if len(set(strip_ids)) != len(strip_ids):
                raise Invalid("strip ids must be unique")
            if strips is not None and strips != len(strip_ids):
                raise Invalid(f"strips={strips} but {len(strip_ids)} strip ids given")
            ids = list(strip_ids)
        elif strips is not None:
            if not 1 <= strips <= 200:
                raise Invalid(f"strips must be 1..200, got {strips}")
            ids = [f"{lot_id}-{k:02d}" for k in range(1, strips + 1)]
            if any(len(i) > 20 for i in ids):
                raise Invalid(f"lot_id {lot_id!r} too long to derive strip ids (max 20 characters)")
        else:
            raise Invalid("give strips (a count) or strip_ids")
        self.store.create_lot(
            lot_id,
            recipe_name=name,
            recipe_source=str(path),
            recipe_text=path.read_text(),
            rows=route.rows,
            cols=route.cols,
            steps=[s.name for s in route.steps],
            strip_ids=ids,
            priority=priority,
        )
        self.store.record_command("lot", lot_id, "submit", by, "queued")
        log.info(
            kv(
                event="lot_submitted",
                lot=lot_id,
                recipe=name,
                strips=len(ids),
                priority=priority,
                by=by,
            )
        )
        self.events.publish("lot_queued", lot_id=lot_id, recipe=name, strip_ids=ids)
        self.wake()
        return self.show_lot(lot_id)

    def _new_lot_id(self) -> str:
        """``L<yymmddHHMMSS>``; lots submitted within the same second get ``a``, ``b``... after it."""
        base = time.strftime("L%y%m%d%H%M%S")
        for suffix in ("", *string.ascii_lowercase):
            if self.store.lot(base + suffix) is None:
                return base + suffix
        raise Conflict(f"more than 27 lots submitted in one second; give lot_id ({base})")

    def _recipe_path(self, name: str) -> Path:
        if not RECIPE_NAME.match(name.removesuffix(".yaml")):
            raise Invalid(f"recipe name {name!r} is not a recipe name")
        path = self.recipes_dir / f"{name.removesuffix('.yaml')}.yaml"
        if not path.is_file():
            known = ", ".join(p.stem for p in sorted(self.recipes_dir.glob("*.yaml")))
            raise Invalid(f"no recipe {name!r}; known: {known}")
        return path

    def list_lots(self) -> list[Json]:
        return [self._public_lot(lot) for lot in self.store.lots()]

    def show_lot(self, lot_id: str) -> Json:
        lot = self.store.lot(lot_id)
        if lot is None:
            raise NotFound(f"no lot {lot_id!r}")
        return self._public_lot(lot)

    @staticmethod
    def _public_lot(lot: LotSummary | LotRecord) -> Json:
        return {k: v for k, v in lot.items() if k != "recipe_text"}

    def lot_command(self, lot_id: str, command: str, *, by: str) -> Json:
        if command not in LOT_COMMANDS:
            raise Invalid(f"unknown lot command {command!r}; one of {', '.join(LOT_COMMANDS)}")
        # The lot's status is read and written under the controller's lock, as _run_lot reads
        # it before it starts a lot: a lot is held (or aborted) either before it starts, and
        # then it does not, or after, through its runner. The runner is told outside the lock
        # (its workers take the controller's lock while holding their own).
        with self._lock:
            status = self.show_lot(lot_id)["status"]
            runner = self._runners.get(lot_id)
            if status in FINISHED_LOT_STATUSES:
                raise Conflict(f"lot {lot_id} is {status}")
            if command == "release" and status != "held":
                raise Conflict(f"lot {lot_id} is {status}, not held")
            reason = f"lot aborted by {by}"
            if command == "hold":
                self.store.set_lot_status(lot_id, "held", f"held by {by}")
            elif command == "release":
                self.store.set_lot_status(lot_id, "running" if runner is not None else "queued")
            elif runner is not None:
                self.store.set_lot_status(lot_id, "aborting", reason)
            else:
                self._abort_idle_lot(lot_id, reason)
        if runner is not None:
            if command == "hold":
                runner.hold()
            elif command == "release":
                runner.release()
            else:
                runner.abort(reason)
        self.store.record_command("lot", lot_id, command, by, "ok")
        log.info(kv(event="lot_command", lot=lot_id, command=command, by=by))
        self.wake()
        shown = self.show_lot(lot_id)
        self.events.publish(
            "lot_command", lot_id=lot_id, command=command, by=by, status=shown["status"]
        )
        return shown

    def set_lot_priority(self, lot_id: str, priority: int, *, by: str) -> Json:
        """Change an open lot's priority: it counts from the next free station on (cycles
        running go on). A finished lot is refused (Conflict)."""
        priority = check_priority(priority)
        with self._lock:
            lot = self.store.lot(lot_id)
            if lot is None:
                raise NotFound(f"no lot {lot_id}")
            if lot["status"] in FINISHED_LOT_STATUSES:
                raise Conflict(f"lot {lot_id} is {lot['status']}")
            self.store.set_lot_priority(lot_id, priority)
            if lot_id in self._rank:
                self._rank[lot_id] = (-priority, lot["submit_seq"])
        self.store.record_command("lot", lot_id, "priority", by, str(priority))
        log.info(kv(event="lot_priority", lot=lot_id, priority=priority, by=by))
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
        return dict(strip)

    def show_unit(self, strip_id: str, site: int) -> Json:
        unit = self.store.unit(strip_id, site)
        if unit is None:
            raise NotFound(f"no unit {strip_id}:{site}")
        return dict(unit)

    # -- stations ------------------------------------------------------------------------------
    def list_stations(self) -> list[Json]:
        return [self._station_view(station, live=False) for station in self.stations.values()]

    def show_station(self, name: str) -> Json:
        station = self.stations.get(name)
        if station is None:
            raise NotFound(f"no station {name!r}; stations: {', '.join(self.stations)}")
        view = self._station_view(station, live=True)
        view["e10_tool_s"] = self.e10()[name]
        return view

    def _station_view(self, station: Station, *, live: bool) -> Json:
        state, down, disabled = station.condition()
        view: Json = {
            "name": station.name,
            "tool": station.tool_kind,
            "address": self.addresses.get(station.name),
            "state": state.value,
            "step": station.current_step,
            "strips": list(station.current_strips),
            "policy": station.policy.value,
            "down": down or None,
            "disabled": disabled or None,
        }
        polled = self.pollers.live(station.name)
        if polled is not None:  # the poller's last answer: state, alarms, interlocks, when
            view |= polled.as_json(time.time())
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
            raise Invalid(
                f"unknown station command {command!r}; one of {', '.join(OPERATOR_COMMANDS)}"
            )
        try:
            state = station.command(command, cause=f"{command} by {by}")
        except CommandRefused as exc:
            self.store.record_command("station", name, command, by, f"refused: {exc}")
            raise Conflict(str(exc)) from None
        self.store.record_command("station", name, command, by, state.value)
        log.info(
            kv(event="station_command", station=name, command=command, by=by, state=state.value)
        )
        return self.show_station(name)

    def station_service(self, name: str, *, enable: bool, reason: str, by: str) -> Json:
        """``packline station disable|enable``: out of service (E10 scheduled down: no new work,
        a running cycle finishes) and back."""
        station = self.stations.get(name)
        if station is None:
            raise NotFound(f"no station {name!r}")
        command = "enable" if enable else "disable"
        reason = reason.strip()
        if not enable and not reason:
            raise Invalid("disable needs a reason (who reads the log must know why)")
        try:
            state = station.enable(by) if enable else station.disable(reason, by)
        except CommandRefused as exc:
            self.store.record_command("station", name, command, by, f"refused: {exc}")
            raise Conflict(str(exc)) from None
        self.store.record_command("station", name, command, by, f"{state.value} {reason}".strip())
        log.info(kv(event=f"station_{command}d", station=name, by=by, reason=reason))
        self.wake()
        return self.show_station(name)

    # -- alarms, recipes, E10 ------------------------------------------------------------------------
    def list_alarms(self, *, active_only: bool) -> list[Json]:
        return [dict(alarm) for alarm in self.store.alarms(active_only=active_only)]

    def ack_alarm(self, alarm_id: int, *, by: str) -> Json:
        result = self.store.ack_alarm(alarm_id, by)
        self.store.record_command("alarm", str(alarm_id), "ack", by, "ok")
        self.events.publish(
            "alarm_acked", alarm_id=alarm_id, station=result["station"], code=result["code"], by=by
        )
        return dict(result)

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
            raise Invalid("give exactly one of name or text")
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

    def e10(self, since: float | None = None) -> Json:
        """Tool seconds per E10 category for every station of the line, from the daemon's start
        (or the station's first recorded state change, if earlier) to now; ``since`` (epoch
        wall s): only the time from then on. The store keeps each event's time scale and
        answers in tool seconds; a tool second is a wall second times the ``--time-scale`` in
        force then. A station is PackML STOPPED until its first cycle resets it, yet available
        for work all along, so the time before its first state change in this run is standby
        (at this run's scale), not non-scheduled."""
        now = time.time()
        recorded = self.store.e10(now, since=since)
        first_change = self.store.first_state_change()
        scale = self.pace.time_scale
        tool_s: Json = {}
        for name in [*self.stations, *(n for n in recorded if n not in self.stations)]:
            totals = recorded.get(name) or {category.value: 0.0 for category in E10}
            seconds = dict(totals)
            first = first_change.get(name, now)
            if name in self.stations and first > self._serving_since:
                waited_s = min(first, now) - max(since or 0.0, self._serving_since)
                seconds[E10.STANDBY.value] += max(0.0, waited_s) * scale
            tool_s[name] = seconds
        return tool_s

    def e10_labelled(self) -> Json:
        """``GET /e10``: :meth:`e10` with its unit said (``tool_s``) and the time scale used."""
        return {"unit": "tool_s", "time_scale": self.pace.time_scale, "stations": self.e10()}

    def line_view(self, shift_start: float) -> Json:
        """Everything the operator page shows, in one read: live stations with the time they
        entered their state, the lots not finished with their progress, the active alarms,
        and E10 seconds per station since ``shift_start``."""
        since = self.store.state_since()
        stations = []
        for station in self.stations.values():
            view = self._station_view(station, live=True)
            # The page rebuilds a card only when its data changed: no per-poll timestamps.
            view.pop("answered_at", None)
            view.pop("answer_age_s", None)
            view["since"] = since.get(station.name)
            stations.append(view)
        lots = [self.show_lot(lot["lot_id"]) for lot in self.store.open_lots()]
        return {
            "stations": stations,
            "lots": lots,
            "alarms": [dict(alarm) for alarm in self.store.alarms(active_only=True)],
            "e10": self.e10(since=shift_start),
            "shift_start": shift_start,
        }
