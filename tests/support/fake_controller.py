"""An in-memory :class:`~packline.daemon.controller_api.ControllerAPI` for the HTTP layer's tests.

It is the one thing mocked there: a real controller needs a line of tools, and what is under
test is the web layer in front of it (routes, validation, auth, errors, the page)."""

from __future__ import annotations

import threading
from typing import Any

from packline.daemon.controller_api import ControllerAPI, Json
from packline.errors import Conflict, Invalid, NotFound
from packline.vocabulary import FINISHED_LOT_STATUSES
from packline.web.security import LOCAL_USER

_STATION_MOVES = {  # command -> (states it is allowed in, state after); None: any state
    "hold": ({"EXECUTE"}, "HELD"),
    "unhold": ({"HELD"}, "EXECUTE"),
    "stop": (None, "STOPPED"),
    "abort": (None, "ABORTED"),
    "clear": ({"ABORTED"}, "STOPPED"),
    "reset": ({"STOPPED"}, "IDLE"),
}


def _lot(lot_id: str, recipe: str, strip_ids: list[str], status: str = "queued") -> Json:
    return {
        "lot_id": lot_id,
        "recipe_name": recipe,
        "status": status,
        "reason": "",
        "created": 1_795_000_000.0,
        "started": None,
        "finished": None,
        "strip_count": len(strip_ids),
        "strip_ids": strip_ids,
        "steps": ["laminate", "die attach"],
        "rows": 3,
        "cols": 10,
        "counts": {"complete": 0, "scrapped": 0, "on hold": 0, "in progress": len(strip_ids)},
        "progress": [
            {"step_index": 0, "step": "laminate", "strips_done": 1, "units_passed": 30},
            {"step_index": 1, "step": "die attach", "strips_done": 0, "units_passed": 0},
        ],
        "strips": [
            {"strip_id": s, "position": i, "status": "waiting", "next_step": "laminate"}
            for i, s in enumerate(strip_ids)
        ],
    }


def submit_call(**given: Any) -> tuple[str, dict[str, Any]]:
    """The call :meth:`FakeController.submit_lot` records for a submit by the local user:
    the fields ``given``, every other one at what the API passes when it is left out."""
    left_out = dict.fromkeys(("recipe", "strips", "strip_ids", "lot_id"))
    return ("submit_lot", {**left_out, "by": LOCAL_USER.name, "priority": 0, **given})


class FakeController:
    """:class:`ControllerAPI` on dicts. ``fail_with``: every method raises it (a broken controller)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail_with: BaseException | None = None
        self.block: threading.Event | None = None  # list_stations waits for it when set
        self.lots: dict[str, Json] = {"L1": _lot("L1", "heat-slug-die-equal", ["L1-01", "L1-02"])}
        self.stations: dict[str, Json] = {
            "mold-press": {
                "name": "mold-press",
                "tool": "mold-press",
                "address": "modbus+tcp://127.0.0.1:5020?unit=1",
                "state": "EXECUTE",
                "step": "mold",
                "strips": ["L1-01"],
                "policy": "retry",
                "down": None,
                "disabled": None,
                "alarms": [{"code": 4115, "class": "H", "text": "Chase temperature low"}],
                "e10_tool_s": {"productive": 120.5, "standby": 30.0},
            },
            "laminator": {
                "name": "laminator",
                "tool": "laminator",
                "address": "modbus+tcp://127.0.0.1:5021?unit=1",
                "state": "IDLE",
                "step": None,
                "strips": [],
                "policy": "wait",
                "down": None,
                "disabled": None,
            },
        }
        self.alarms: list[Json] = [
            {
                "alarm_id": 1,
                "lot_id": "L1",
                "time": 1_795_000_100.0,
                "station": "mold-press",
                "strip_ids": ["L1-01"],
                "code": 4115,
                "class": "H",
                "text": "Chase temperature low",
                "handling": "resumed",
                "acked_at": None,
                "acked_by": None,
                "active": True,
            },
            {
                "alarm_id": 2,
                "lot_id": "L1",
                "time": 1_795_000_050.0,
                "station": "laminator",
                "strip_ids": [],
                "code": 1203,
                "class": "W",
                "text": "Film roll low",
                "handling": "resumed",
                "acked_at": 1_795_000_060.0,
                "acked_by": "operator",
                "active": False,
            },
        ]

    def _called(self, method: str, **arguments: Any) -> None:
        self.calls.append((method, arguments))
        if self.fail_with is not None:
            raise self.fail_with

    def _lot_or_404(self, lot_id: str) -> Json:
        if lot_id not in self.lots:
            raise NotFound(f"no lot {lot_id!r}")
        return self.lots[lot_id]

    # -- lots
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
        self._called(
            "submit_lot",
            recipe=recipe,
            strips=strips,
            strip_ids=strip_ids,
            lot_id=lot_id,
            by=by,
            priority=priority,
        )
        if recipe not in (None, "heat-slug-die-equal", "film-laser-wire"):
            raise Invalid(f"no recipe {recipe!r}", ["known: heat-slug-die-equal"])
        lot_id = lot_id or f"L{len(self.lots) + 1}"
        if lot_id in self.lots:
            raise Conflict(f"lot {lot_id} exists")
        if strip_ids is None:
            if strips is None:
                raise Invalid("give strips (a count) or strip_ids")
            strip_ids = [f"{lot_id}-{k:02d}" for k in range(1, strips + 1)]
        self.lots[lot_id] = _lot(lot_id, recipe or "heat-slug-die-equal", strip_ids)
        return self.lots[lot_id]

    def list_lots(self) -> list[Json]:
        self._called("list_lots")
        return [
            {k: v for k, v in lot.items() if k not in ("progress", "strips")}
            for lot in self.lots.values()
        ]

    def show_lot(self, lot_id: str) -> Json:
        self._called("show_lot", lot_id=lot_id)
        return self._lot_or_404(lot_id)

    def set_lot_priority(self, lot_id: str, priority: int, *, by: str) -> Json:
        self._called("set_lot_priority", lot_id=lot_id, priority=priority, by=by)
        lot = self._lot_or_404(lot_id)
        if lot["status"] in FINISHED_LOT_STATUSES:
            raise Conflict(f"lot {lot_id} is {lot['status']}")
        lot["priority"] = priority
        return lot

    def lot_command(self, lot_id: str, command: str, *, by: str) -> Json:
        self._called("lot_command", lot_id=lot_id, command=command, by=by)
        lot = self._lot_or_404(lot_id)
        if lot["status"] == "aborted":
            raise Conflict(f"lot {lot_id} is aborted")
        lot["status"] = {"hold": "held", "release": "running", "abort": "aborted"}[command]
        lot["reason"] = f"{command} by {by}"
        return lot

    # -- strips and units
    def show_strip(self, strip_id: str) -> Json:
        self._called("show_strip", strip_id=strip_id)
        if strip_id != "L1-01":
            raise NotFound(f"no strip {strip_id!r}")
        return {"strip_id": strip_id, "lot_id": "L1", "status": "waiting", "steps": []}

    def show_unit(self, strip_id: str, site: int) -> Json:
        self._called("show_unit", strip_id=strip_id, site=site)
        if strip_id != "L1-01" or site > 30:
            raise NotFound(f"no unit {strip_id}:{site}")
        step = {
            "step": "laminate",
            "station": "laminator",
            "tool": "laminator",
            "started": 1_795_000_000.0,
            "ended": 1_795_005_657.2,
            "result": "P",
            "defect": 0,
            "values": {"void_pct": 0.8},
            "recipe_values": {"press_temp_c": 180},
        }
        return {"strip_id": strip_id, "site": site, "lot_id": "L1", "steps": [step]}

    # -- stations
    def list_stations(self) -> list[Json]:
        self._called("list_stations")
        if self.block is not None:
            self.block.wait(10)
        return [
            {k: v for k, v in s.items() if k not in ("alarms", "e10_tool_s")}
            for s in self.stations.values()
        ]

    def _station_or_404(self, name: str) -> Json:
        if name not in self.stations:
            raise NotFound(f"no station {name!r}")
        return self.stations[name]

    def show_station(self, name: str) -> Json:
        self._called("show_station", name=name)
        return self._station_or_404(name)

    def station_command(self, name: str, command: str, *, by: str) -> Json:
        self._called("station_command", name=name, command=command, by=by)
        station = self._station_or_404(name)
        allowed, after = _STATION_MOVES[command]
        if allowed is not None and station["state"] not in allowed:
            raise Conflict(f"{command} is not allowed in {station['state']}", [name])
        station["state"] = after
        return station

    def station_service(self, name: str, *, enable: bool, reason: str, by: str) -> Json:
        """As the controller's: disable needs a reason and stops the station, enable resets it;
        either refused (409) when the station already is what it asks for."""
        self._called("station_service", name=name, enable=enable, reason=reason, by=by)
        station = self._station_or_404(name)
        reason = reason.strip()
        if not enable and not reason:
            raise Invalid("disable needs a reason (who reads the log must know why)")
        if enable != bool(station["disabled"]):
            state = "not disabled" if enable else f"already: {station['disabled']}"
            raise Conflict(f"{'enable' if enable else 'disable'} {name}: {state}")
        station["disabled"] = None if enable else reason
        station["state"] = "IDLE" if enable else "STOPPED"
        return station

    # -- alarms
    def list_alarms(self, *, active_only: bool) -> list[Json]:
        self._called("list_alarms", active_only=active_only)
        return [a for a in self.alarms if a["active"] or not active_only]

    def ack_alarm(self, alarm_id: int, *, by: str) -> Json:
        self._called("ack_alarm", alarm_id=alarm_id, by=by)
        for alarm in self.alarms:
            if alarm["alarm_id"] == alarm_id:
                alarm.update(active=False, acked_by=by, acked_at=1_795_000_200.0)
                return alarm
        raise NotFound(f"no alarm {alarm_id}")

    # -- recipes, E10
    def list_recipes(self) -> list[Json]:
        self._called("list_recipes")
        return [
            {"name": "heat-slug-die-equal", "product": "heat-slug", "variant": "die equal"},
            {"name": "broken", "valid": False, "problems": ["die.width_mm: missing"]},
        ]

    def validate_recipe(self, *, name: str | None, text: str | None) -> Json:
        self._called("validate_recipe", name=name, text=text)
        if name == "heat-slug-die-equal" or (text and "product" in text):
            return {"valid": True, "problems": [], "route": ["laminate", "die attach"]}
        return {"valid": False, "problems": ["product: missing"], "route": []}

    def e10(self, since: float | None = None) -> Json:
        self._called("e10", since=since)
        return {
            "laminator": {"productive": 5657.2, "standby": 600.0, "unscheduled down": 0.0},
            "mold-press": {"productive": 183.9, "standby": 6000.0, "unscheduled down": 12.5},
        }

    def e10_labelled(self) -> Json:
        return {"unit": "tool_s", "time_scale": 1000.0, "stations": self.e10()}

    # -- the operator page
    def line_view(self, shift_start: float) -> Json:
        self._called("line_view", shift_start=shift_start)
        return {
            "stations": [
                {
                    **s,
                    "tool_state": "READY",
                    "alarms": s.get("alarms", []),
                    "since": 1_795_000_000.0,
                }
                for s in self.stations.values()
            ],
            "lots": [
                lot for lot in self.lots.values() if lot["status"] not in ("complete", "aborted")
            ],
            "alarms": [a for a in self.alarms if a["active"]],
            "e10": {k: v for k, v in self.e10().items()},
            "shift_start": shift_start,
        }


def _is_a_controller(controller: ControllerAPI) -> ControllerAPI:
    return controller  # mypy checks that FakeController implements the protocol


_is_a_controller(FakeController())
