"""The JSON API's routes: each checks who asks and calls one controller method.

Paths, parameters and bodies are validated by their models before a route runs; a route does
no checking of its own except the role a command needs. Sync routes: FastAPI runs them in its
thread pool, and the controller is thread-safe.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from packline import __version__
from packline.daemon.controller_api import ControllerAPI
from packline.errors import Forbidden, Invalid
from packline.strip_map import strip_map_xml
from packline.vocabulary import ID_PATTERN, role_allows
from packline.web import models as m
from packline.web.security import Operator, Reader, Viewer

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": m.Error, "description": text}
    for status, text in {
        400: "The request is malformed or a field is wrong; `problems` names each.",
        401: "Missing or wrong `Authorization: Bearer <token>`.",
        403: "The user's role does not allow this.",
        404: "No such route, or no such lot, strip, unit, station or alarm.",
        405: "The path exists for other methods (see the Allow header).",
        409: "Well formed but not allowed now (e.g. a command in the wrong state).",
        413: "The request body is over the limit (1 MiB).",
        415: "A request body that is not JSON.",
        500: "An unexpected error; the daemon logged it and keeps serving.",
    }.items()
}


def known_query_only(request: Request) -> None:
    """Refuse a query parameter the route does not take, so that a typo (``?actve=true``) is
    not silently ignored; and a parameter given twice."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    known = _query_names(dependant) if dependant is not None else set()
    for name in request.query_params:
        if name not in known:
            listed = ", ".join(sorted(known)) or "none"
            raise Invalid(f"unknown query parameter {name!r} (known: {listed})")
        if len(request.query_params.getlist(name)) > 1:
            raise Invalid(f"query parameter {name!r} given more than once")


def _query_names(dependant: Any) -> set[str]:
    names = {field.alias for field in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


router = APIRouter(responses=ERRORS, dependencies=[Depends(known_query_only)])

LotId = Annotated[str, Path(pattern=ID_PATTERN, description="a lot id")]
StripId = Annotated[str, Path(pattern=ID_PATTERN, description="a strip id")]
StationName = Annotated[str, Path(min_length=1, max_length=64, description="a station name")]


def controller(request: Request) -> ControllerAPI:
    api: ControllerAPI = request.app.state.controller
    return api


@router.get("/health", response_model=m.Health, tags=["daemon"])
def health(request: Request) -> Any:
    uptime_s = time.monotonic() - request.app.state.started_monotonic
    return {"status": "ok", "version": __version__, "uptime_s": round(uptime_s, 3)}


@router.post("/lots", response_model=m.Lot, status_code=201, tags=["lots"])
def submit_lot(
    request: Request, response: Response, user: Operator, body: m.LotRequest | None = None
) -> Any:
    """Queue a lot (answers the queued lot, `Location: /lots/<id>`)."""
    body = body or m.LotRequest()
    lot = controller(request).submit_lot(
        recipe=body.recipe,
        strips=body.strips,
        strip_ids=body.strip_ids,
        lot_id=body.lot_id,
        by=user.name,
        priority=body.priority,
    )
    response.headers["Location"] = f"/lots/{lot['lot_id']}"
    return lot


@router.get("/lots", response_model=list[m.Lot], tags=["lots"])
def list_lots(request: Request, _: Reader) -> Any:
    """Every lot (summary), in submit order."""
    return controller(request).list_lots()


@router.get("/lots/{lot_id}", response_model=m.Lot, tags=["lots"])
def show_lot(request: Request, lot_id: LotId, _: Reader) -> Any:
    """A lot: status, counts, progress per step, status per strip."""
    return controller(request).show_lot(lot_id)


@router.post("/lots/{lot_id}/{command}", response_model=m.Lot, tags=["lots"])
def lot_command(request: Request, lot_id: LotId, command: m.LotCommand, user: Operator) -> Any:
    """`hold`, `release` (an operator) or `abort` (an engineer only)."""
    if command.value == "abort" and not role_allows(user.role, "engineer"):
        raise Forbidden(f"user {user.name} is {user.role}: only an engineer may abort a lot")
    return controller(request).lot_command(lot_id, command.value, by=user.name)


@router.get("/strips/{strip_id}", response_model=m.Strip, tags=["lots"])
def show_strip(request: Request, strip_id: StripId, _: Reader) -> Any:
    """A strip's lot, status and steps with result maps."""
    return controller(request).show_strip(strip_id)


@router.get("/strips/{strip_id}/map", response_model=m.StripMap, tags=["lots"])
def show_strip_map(request: Request, strip_id: StripId, _: Reader) -> Any:
    """A strip's site map per step as E142-style substrate map XML (docs/gem.md)."""
    api = controller(request)
    strip = api.show_strip(strip_id)
    return {"strip_id": strip_id, "xml": strip_map_xml(strip, api.show_lot(strip["lot_id"]))}


@router.get("/units/{strip_id}/{site}", response_model=m.Unit, tags=["lots"])
def show_unit(
    request: Request,
    strip_id: StripId,
    site: Annotated[int, Path(ge=1, le=100_000, description="site on the strip, 1..")],
    _: Reader,
) -> Any:
    """A unit's genealogy."""
    return controller(request).show_unit(strip_id, site)


@router.get("/stations", response_model=list[m.Station], tags=["stations"])
def list_stations(request: Request, _: Reader) -> Any:
    """Every station: PackML state, step, strips, policy."""
    return controller(request).list_stations()


@router.get("/stations/{name}", response_model=m.Station, tags=["stations"])
def show_station(request: Request, name: StationName, _: Reader) -> Any:
    """One station, with the tool's live state, alarms and E10 times."""
    return controller(request).show_station(name)


@router.post("/stations/{name}/disable", response_model=m.Station, tags=["stations"])
def disable_station(
    request: Request, name: StationName, body: m.ServiceRequest, user: Operator
) -> Any:
    """Out of service (E10 scheduled down): no new work; a running cycle finishes."""
    return controller(request).station_service(name, enable=False, reason=body.reason, by=user.name)


@router.post("/stations/{name}/enable", response_model=m.Station, tags=["stations"])
def enable_station(
    request: Request, name: StationName, user: Operator, body: m.ServiceRequest | None = None
) -> Any:
    """Back in service: the station takes work again."""
    reason = body.reason if body is not None else ""
    return controller(request).station_service(name, enable=True, reason=reason, by=user.name)


@router.post("/stations/{name}/{command}", response_model=m.Station, tags=["stations"])
def station_command(
    request: Request, name: StationName, command: m.StationCommand, user: Operator
) -> Any:
    """A PackML operator command to the station."""
    return controller(request).station_command(name, command.value, by=user.name)


@router.get("/alarms", response_model=list[m.Alarm], tags=["alarms"])
def list_alarms(
    request: Request,
    _: Reader,
    active: Annotated[bool, Query(description="only alarms not acknowledged")] = False,
) -> Any:
    """Alarms, oldest first."""
    return controller(request).list_alarms(active_only=active)


@router.post("/alarms/{alarm_id}/ack", response_model=m.Alarm, tags=["alarms"])
def ack_alarm(
    request: Request,
    alarm_id: Annotated[int, Path(ge=1, le=2**62, description="an alarm id")],
    user: Operator,
) -> Any:
    """Acknowledge an alarm (again: the first ack stays)."""
    return controller(request).ack_alarm(alarm_id, by=user.name)


@router.get("/recipes", response_model=list[m.Recipe], tags=["recipes"])
def list_recipes(request: Request, _: Reader) -> Any:
    """The recipes in configs/recipes, valid or with problems."""
    return controller(request).list_recipes()


@router.post("/recipes/validate", response_model=m.RecipeValidation, tags=["recipes"])
def validate_recipe(request: Request, body: m.RecipeValidateRequest, _: Viewer) -> Any:
    """Check a stored recipe or recipe YAML (any signed-in user: it changes nothing)."""
    return controller(request).validate_recipe(name=body.name, text=body.text)


@router.get("/e10", response_model=m.E10, tags=["stations"])
def e10(request: Request, _: Reader) -> Any:
    """Tool seconds per E10 category per station (``unit``: tool_s; wall s x ``time_scale``)."""
    return controller(request).e10_labelled()


@router.put("/lots/{lot_id}/priority", response_model=m.Lot, tags=["lots"])
def set_lot_priority(request: Request, lot_id: LotId, body: m.LotPriority, user: Operator) -> Any:
    """Change an open lot's priority (from the next free station on)."""
    return controller(request).set_lot_priority(lot_id, body.priority, by=user.name)
