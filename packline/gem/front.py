"""The GEM front of the daemon: an HSMS-SS passive endpoint whose equipment is the line.

It subscribes to the controller's line events and turns each into collection events and
alarms (on its own thread, in the order they came, so the controller never waits on the
host), answers status variables from the controller's stations and the store, and hands
remote commands to the controller API. The controller knows nothing of GEM.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import queue
import socket
import threading
import time
from collections.abc import Sequence
from typing import Any

import secsgem.common
import secsgem.hsms
from secsgem.secs.functions.streams_functions import StreamsFunctions

from drivers.errors import PacklineError
from packline.daemon.controller import LineController
from packline.daemon.line_events import LineEvent
from packline.gem import catalogue
from packline.gem.alarm_ids import alarm_ids, alid_of
from packline.gem.equipment import PacklineEquipment
from packline.gem.functions import add_missing_functions
from packline.gem.hsms_link import LinkTimers
from packline.gem.items import Item, item
from packline.gem.process_programs import (
    DownloadPermission,
    ProcessPrograms,
    engineer_when_users,
)
from packline.gem.remote_commands import Answer, run_command
from packline.gem.settings import GemSettings
from packline.store.users import Users
from sequences.packml import PackState

log = logging.getLogger("packline.gem")

DV = catalogue.DV
CE = catalogue.CE
DOWN_STATES = {PackState.HELD, PackState.SUSPENDED, PackState.STOPPED, PackState.ABORTED}
UP_STATES = {PackState.IDLE, PackState.EXECUTE}
#: A station back in one of these has dealt with its alarms: they are cleared (S5F1 clear).
ALARMS_CLEARED_IN = {PackState.IDLE, PackState.EXECUTE, PackState.COMPLETE}
#: How a station records its upkeep through the alarm sink (sequences/station.py ``_upkeep``,
#: ``_ask_operator``): an operator request has class REQUEST; a calibration's handling says so.
UPKEEP_CLASS = "REQUEST"
UPKEEP_HANDLING = ("upkeep ", "operator request ")
QUEUED = ("queued", "held")
RUNNING = ("running", "aborting")


def is_upkeep(record: Any) -> bool:
    """Whether an alarm record is a station's upkeep (UpkeepRequested) rather than a tool alarm."""
    return bool(
        record.alarm_class == UPKEEP_CLASS or str(record.handling).startswith(UPKEEP_HANDLING)
    )


class GemFront:
    """Serves the line as one GEM equipment on ``settings.port`` at ``host``."""

    def __init__(
        self,
        controller: LineController,
        settings: GemSettings,
        *,
        host: str = "127.0.0.1",
        may_download: DownloadPermission | None = None,
    ) -> None:
        """``may_download``: who may download a recipe (S7F3); by default the line's users
        decide (:func:`engineer_when_users` with ``settings.user``)."""
        if settings.port is None:
            raise ValueError("GEM front without a port")
        self.controller = controller
        self.store = controller.store
        self.settings = settings
        self.host = host
        config = controller.config.expanded()
        self.station_names = [s.name for s in config]
        self.station_numbers = {s.name: n for n, s in enumerate(config, start=1)}
        hsms = secsgem.hsms.HsmsSettings(
            address=host,
            port=settings.port,
            connect_mode=secsgem.hsms.HsmsConnectMode.PASSIVE,
            device_type=secsgem.common.DeviceType.EQUIPMENT,
            session_id=settings.device_id,
            streams_functions=add_missing_functions(StreamsFunctions()),
            t3=float(settings.t3_s),
            t6=float(settings.t6_s),
            t7=float(settings.t7_s),
        )
        self.equipment = PacklineEquipment(
            hsms,
            station_svs=catalogue.station_svs(self.station_names),
            alarms=alarm_ids([(s.name, s.tool) for s in config]),
            status=self.status,
            command=self.command,
            programs=ProcessPrograms(
                controller.recipes_dir,
                may_download or engineer_when_users(Users(self.store), settings.user),
            ),
            outbox_store=self.store,
            online_substate=settings.online_substate,
            spooling=settings.enable_spooling,
            on_constant=self._constant_changed,
        )
        self.link = LinkTimers(
            self.equipment.protocol,
            t7_s=settings.t7_s,
            t8_s=settings.t8_s,
            linktest_s=settings.linktest_s,
        )
        for name, value in (
            ("T3ReplyTimeout", settings.t3_s),
            ("T6ControlTimeout", settings.t6_s),
            ("T7NotSelectedTimeout", settings.t7_s),
            ("T8NetworkIntercharacterTimeout", settings.t8_s),
            ("LinktestInterval", settings.linktest_s),
            ("EnableSpooling", int(settings.enable_spooling)),
        ):
            self.equipment.set_constant(name, value)
        self.equipment.restore_setup()  # what the host set before a restart wins
        self._events: queue.Queue[LineEvent | None] = queue.Queue()
        self._worker = threading.Thread(target=self._work, name="gem-events", daemon=True)
        self._lots: dict[str, tuple[int, int]] = {}  # lot -> (rows, cols)
        self._down: dict[str, bool] = {}
        self._set_alarms: dict[str, set[int]] = {}

    # -- life ------------------------------------------------------------------------------
    def start(self) -> None:
        """Listen (after checking the port is free: secsgem binds in a thread that cannot
        report a failure), and start reporting line events."""
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((self.host, self.settings.port or 0))
            except OSError as exc:
                raise OSError(
                    f"HSMS port {self.host}:{self.settings.port} cannot be used: {exc.strerror}"
                ) from exc
        self._worker.start()
        self.controller.events.subscribe(self._events.put)
        self.equipment.enable()
        self._wait_listening(2.0)
        log.info(
            "GEM: HSMS-SS passive on %s:%s, device id %s",
            self.host,
            self.settings.port,
            self.settings.device_id,
        )

    def _wait_listening(self, timeout_s: float) -> None:
        """secsgem binds in its own thread: wait (bounded) until it has, so that a host told
        "listening" can connect at once."""
        connection = self.equipment.protocol._connection
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            server = getattr(connection, "_server_sock", None)
            with contextlib.suppress(OSError):
                if server is not None and server.getsockname()[1] == self.settings.port:
                    return
            time.sleep(0.01)
        log.warning("GEM: HSMS port %s not listening after %gs", self.settings.port, timeout_s)

    def stop(self) -> None:
        self.controller.events.unsubscribe(self._events.put)
        self._events.put(None)
        self._worker.join(5.0)
        self.equipment.disable()

    def _constant_changed(self, name: str, value: int) -> None:
        timeouts = self.equipment.settings.timeouts._data  # secsgem keeps no setters
        if name == "T3ReplyTimeout":
            timeouts["t3"] = float(value)
        elif name == "T6ControlTimeout":
            timeouts["t6"] = float(value)
        elif name == "T7NotSelectedTimeout":
            timeouts["t7"] = float(value)
            self.link.t7_s = value
        elif name == "T8NetworkIntercharacterTimeout":
            self.link.t8_s = value
        elif name == "LinktestInterval":
            self.link.set_linktest_s(value)
        elif name == "EnableSpooling":
            self.equipment.spooling = bool(value)

    # -- remote commands ------------------------------------------------------------------------
    def command(self, name: str, params: Sequence[tuple[str, Any]]) -> Answer:
        return run_command(
            self.controller,
            name,
            params,
            stations=self.station_names,
            recipes=self.equipment.programs.directory(),
        )

    # -- status variables -----------------------------------------------------------------------
    def status(self, svid: int) -> Item:
        """The value of status variable ``svid`` now."""
        station = catalogue.station_sv(svid, self.station_names)
        if station is not None:
            return self._station_status(*station)
        if svid == catalogue.SV_SPOOL_COUNT.vid:
            return item("U4", self.store.spool_count())
        lots = self.store.open_lots()
        running = [lot["lot_id"] for lot in lots if lot["status"] in RUNNING]
        waiting = [lot["lot_id"] for lot in lots if lot["status"] in QUEUED]
        if svid == catalogue.SV_LINE_STATE.vid:
            held = any(lot["status"] == "held" and lot.get("started") for lot in lots)
            return item("A", "RUNNING" if running else "HELD" if held else "IDLE")
        if svid == catalogue.SV_CURRENT_LOT.vid:
            return item("A", running[0] if running else "")
        if svid == catalogue.SV_LOTS_IN_QUEUE.vid:
            return item("U4", len(waiting))
        if svid == catalogue.SV_QUEUED_LOTS.vid:
            return item("L<A>", waiting)
        return item("A", "")

    def _station_status(self, name: str, kind: str) -> Item:
        station = self.controller.stations.get(name)
        if station is None:  # not connected yet
            return item("L<A>", []) if kind == "CurrentStrips" else item("A", "")
        if kind == "PackMLState":
            return item("A", station.state.value)
        if kind == "CurrentStrips":
            return item("L<A>", list(station.current_strips))
        if kind == "CurrentStep":
            return item("A", station.current_step)
        try:
            return item("A", station.driver.state().name)
        except PacklineError:
            return item("A", "UNREACHABLE")

    # -- line events -> collection events and alarms -------------------------------------------
    def _work(self) -> None:
        while True:
            event = self._events.get()
            if event is None:
                return
            try:
                self._report(event)
            except Exception:  # one bad event must not end reporting
                log.exception("GEM: could not report %s", event.kind)

    def _stamp(self, epoch_s: float) -> Item:
        offset = self.equipment.now() - datetime.datetime.now(datetime.UTC)
        when = datetime.datetime.fromtimestamp(epoch_s, datetime.UTC) + offset
        return item("A", when.strftime("%Y%m%d%H%M%S") + when.strftime("%f")[:2])

    def _raise(self, event: str, epoch_s: float, **values: Item) -> None:
        data = {DV[name]: value for name, value in values.items()}
        data[DV["EventTime"]] = self._stamp(epoch_s)
        self.equipment.raise_event(CE[event], data)

    def _report(self, event: LineEvent) -> None:
        data, at = event.data, event.time
        kind = event.kind
        if kind in ("lot_queued", "lot_started"):
            lot = {
                "LotID": item("A", data["lot_id"]),
                "RecipeName": item("A", data["recipe"]),
                "StripCount": item("U4", len(data["strip_ids"])),
            }
            if kind == "lot_queued":
                self._raise("LotQueued", at, **lot, StripIDs=item("L<A>", data["strip_ids"]))
            else:
                self._raise("LotStarted", at, **lot)
        elif kind == "lot_finished":
            lot_id = item("A", data["lot_id"])
            if data["status"] == "aborted":
                self._raise("LotAborted", at, LotID=lot_id, Reason=item("A", data["reason"]))
            else:
                self._raise("LotCompleted", at, LotID=lot_id, LotStatus=item("A", data["status"]))
            self._lots.pop(data["lot_id"], None)
        elif kind == "step_started":
            start = data["record"]
            for strip_id in start.strip_ids:
                self._raise("StripStepStarted", start.started, **self._strip_step(start, strip_id))
        elif kind == "step_done":
            self._step_completed(data["record"])
        elif kind == "strip_finished":
            disposition = data["record"]
            if disposition.status == "on hold":
                self._raise(
                    "StripOnHold",
                    disposition.time,
                    LotID=item("A", data["lot_id"]),
                    StripID=item("A", disposition.strip_id),
                    Reason=item("A", disposition.reason),
                )
        elif kind == "alarm" and is_upkeep(data["record"]):
            self._upkeep(data["lot_id"], data["record"])
        elif kind == "alarm":
            self._alarm(data["record"])
        elif kind == "station_state":
            self._station_state(data["record"])

    @staticmethod
    def _strip_step(record: Any, strip_id: str) -> dict[str, Item]:
        return {
            "LotID": item("A", record.lot_id),
            "StripID": item("A", strip_id),
            "StepName": item("A", record.step),
            "StepIndex": item("U4", record.step_index),
            "StationName": item("A", record.station),
        }

    def _step_completed(self, record: Any) -> None:
        rows, cols = self._layout(record.lot_id)
        result_map = record.outcome.result_map
        summary = [f"{k}={v}" for k, v in record.outcome.tool_summary.items()]
        self._raise(
            "StripStepCompleted",
            record.ended,
            **self._strip_step(record, record.strip_id),
            SiteResultMap=item("A", result_map),
            MapRows=item("U4", rows),
            MapCols=item("U4", cols),
            UnitsPassed=item("U4", result_map.count("P")),
            UnitsFailed=item("U4", result_map.count("F")),
            MeasuredSummary=item("L<A>", summary),
        )

    def _layout(self, lot_id: str) -> tuple[int, int]:
        if lot_id not in self._lots:
            lot = self.store.lot(lot_id)
            self._lots[lot_id] = (int(lot["rows"]), int(lot["cols"])) if lot else (0, 0)
        return self._lots[lot_id]

    def _alarm(self, record: Any) -> None:
        alid = alid_of(self.station_numbers.get(record.station, 0), record.code)
        self.equipment.raise_alarm(alid, is_set=True)
        self._set_alarms.setdefault(record.station, set()).add(alid)
        self._raise(
            "AlarmSet",
            record.time,
            StationName=item("A", record.station),
            ALID=item("U4", alid),
            AlarmCode=item("U4", record.code),
            AlarmText=item("A", record.text),
            AlarmHandling=item("A", record.handling),
        )

    def _upkeep(self, lot_id: str, record: Any) -> None:
        """An upkeep the station recorded (not a tool alarm: no S5F1)."""
        self._raise(
            "UpkeepRequested",
            record.time,
            StationName=item("A", record.station),
            LotID=item("A", lot_id),
            UpkeepItem=item("A", record.text),
            UpkeepResult=item("A", record.handling),
            AlarmCode=item("U4", record.code),
        )

    def _station_state(self, record: Any) -> None:
        name, new = record.station, record.to_state
        self._raise(
            "StationStateChanged",
            record.time,
            StationName=item("A", name),
            PreviousState=item("A", record.from_state.value),
            NewState=item("A", new.value),
            StateCause=item("A", record.cause),
        )
        if new in DOWN_STATES and self._down.get(name) is not True:
            self._down[name] = True
            self._raise(
                "StationDown",
                record.time,
                StationName=item("A", name),
                NewState=item("A", new.value),
                StateCause=item("A", record.cause),
            )
        elif new in UP_STATES and self._down.get(name) is not False:
            self._down[name] = False
            self._raise(
                "StationUp", record.time, StationName=item("A", name), NewState=item("A", new.value)
            )
        if new in ALARMS_CLEARED_IN:
            for alid in sorted(self._set_alarms.pop(name, set())):
                alarm = self.equipment.alarm_ids.get(alid)
                self.equipment.raise_alarm(alid, is_set=False)
                self._raise(
                    "AlarmCleared",
                    record.time,
                    StationName=item("A", name),
                    ALID=item("U4", alid),
                    AlarmCode=item("U4", alarm.code if alarm else 0),
                    AlarmText=item("A", alarm.text if alarm else ""),
                )
