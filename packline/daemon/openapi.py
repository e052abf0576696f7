"""The daemon's HTTP API as an OpenAPI 3.1 document, and the JSON Schema subset that checks requests.

The document is the API's single description: :mod:`packline.daemon.http_api` builds its routes
from ``OPENAPI["paths"]`` (path template, method, ``operationId``, parameters, request body), and
checks every path parameter, query parameter and request body against the schemas written here
with :func:`problems_in`. A route therefore cannot be served without being documented, and a
documented constraint cannot go unchecked.

Response schemas name the fields the CLI clients read (``lot_id``, ``status``, ``name``...) and
leave the rest of the controller's answer open (``additionalProperties`` is allowed).
"""

from __future__ import annotations

import re
from typing import Any

from packline import __version__

Schema = dict[str, Any]

#: Strip and lot ids are sent to the tools: README §3 identifiers (up to 20 of A-Z a-z 0-9 - _ .),
#: starting with a letter or digit so that an id can never be ``..`` or hidden in a file name.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,19}$"
#: A recipe name is a file name in configs/recipes without ``.yaml``: no path separators.
RECIPE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
MAX_STRIPS = 200

LOT_COMMANDS = ("hold", "release", "abort")
STATION_COMMANDS = ("hold", "unhold", "suspend", "unsuspend", "stop", "abort", "clear", "reset")


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _array_of(name: str) -> Schema:
    return {"type": "array", "items": _ref(name)}


_STRINGS: Schema = {"type": "array", "items": {"type": "string"}}
_ID: Schema = {
    "type": "string",
    "pattern": ID_PATTERN,
    "description": "1-20 characters of A-Z a-z 0-9 - _ . starting with a letter or digit",
}
_RECIPE_NAME: Schema = {
    "type": "string",
    "pattern": RECIPE_NAME_PATTERN,
    "description": "a recipe name of configs/recipes (file name without .yaml)",
}

SCHEMAS: dict[str, Schema] = {
    "Error": {
        "type": "object",
        "description": "Every 4xx and 5xx answer: what was wrong, and each problem found.",
        "required": ["error", "problems"],
        "properties": {"error": {"type": "string"}, "problems": _STRINGS},
    },
    "Health": {
        "type": "object",
        "required": ["status", "version", "uptime_s"],
        "properties": {
            "status": {"const": "ok"},
            "version": {"type": "string"},
            "uptime_s": {"type": "number", "description": "seconds since the server started"},
        },
    },
    "LotRequest": {
        "type": "object",
        "description": (
            "A lot to queue. Without `recipe` the heat-slug (die equal to the opening) recipe; "
            "either `strips` (the daemon makes the ids) or `strip_ids`, not both; without either "
            "the controller decides."
        ),
        "additionalProperties": False,
        "not": {"required": ["strips", "strip_ids"]},
        "properties": {
            "recipe": _RECIPE_NAME,
            "strips": {"type": "integer", "minimum": 1, "maximum": MAX_STRIPS},
            "strip_ids": {
                "type": "array",
                "items": _ID,
                "minItems": 1,
                "maxItems": MAX_STRIPS,
                "uniqueItems": True,
            },
            "lot_id": _ID,
        },
    },
    "CommandRequest": {
        "type": "object",
        "description": "An operator command takes no arguments: no body, or `{}`.",
        "additionalProperties": False,
        "properties": {},
    },
    "RecipeValidateRequest": {
        "type": "object",
        "description": "Either the name of a stored recipe or the YAML text of one.",
        "additionalProperties": False,
        "minProperties": 1,
        "not": {"required": ["name", "text"]},
        "properties": {
            "name": _RECIPE_NAME,
            "text": {"type": "string", "minLength": 1, "description": "recipe YAML"},
        },
    },
    "Lot": {
        "type": "object",
        "description": (
            "A lot: status, recipe, counts, per-step progress (strips done, units passed and "
            "failed) and per-strip status, as the controller reports them."
        ),
        "required": ["lot_id", "status"],
        "properties": {
            "lot_id": {"type": "string"},
            "status": {
                "type": "string",
                "description": "queued, running, held, aborting, complete or aborted",
            },
            "recipe_name": {"type": "string"},
            "strip_count": {"type": "integer"},
        },
    },
    "Strip": {
        "type": "object",
        "description": "A strip's lot, status and every step it went through with result maps.",
        "required": ["strip_id", "status"],
        "properties": {
            "strip_id": {"type": "string"},
            "lot_id": {"type": "string"},
            "status": {"type": "string"},
        },
    },
    "Unit": {
        "type": "object",
        "description": (
            "A unit's genealogy: every step with station, tool, times, result, defect, values "
            "and recipe values."
        ),
        "required": ["strip_id", "site"],
        "properties": {"strip_id": {"type": "string"}, "site": {"type": "integer"}},
    },
    "Station": {
        "type": "object",
        "description": (
            "PackML state, tool kind, address, current step and strips, active alarms, alarm "
            "policy and E10 times."
        ),
        "required": ["name", "state"],
        "properties": {"name": {"type": "string"}, "state": {"type": "string"}},
    },
    "Alarm": {
        "type": "object",
        "description": "A tool alarm (or lost link), what the line did about it, and its ack.",
        "required": ["alarm_id"],
        "properties": {
            "alarm_id": {"type": "integer"},
            "station": {"type": "string"},
            "code": {"type": "integer"},
            "active": {"type": "boolean", "description": "not acknowledged yet"},
        },
    },
    "Recipe": {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string"}},
    },
    "RecipeValidation": {
        "type": "object",
        "required": ["valid", "problems", "route"],
        "properties": {
            "valid": {"type": "boolean"},
            "problems": _STRINGS,
            "route": {"type": "array", "description": "the route's steps (empty when invalid)"},
        },
    },
    "E10": {
        "type": "object",
        "description": "Seconds per SEMI E10 category per station: {station: {category: s}}.",
        "additionalProperties": {"type": "object", "additionalProperties": {"type": "number"}},
    },
}

_ERRORS = {
    "400": ("BadRequest", "The request is malformed or a field is wrong; `problems` names each."),
    "401": ("Unauthorized", "Missing or wrong `Authorization: Bearer <token>`."),
    "404": ("NotFound", "No such route, or no such lot, strip, unit, station or alarm."),
    "405": ("MethodNotAllowed", "The path exists for other methods (see the Allow header)."),
    "409": ("Conflict", "Well formed but not allowed now (e.g. a command in the wrong state)."),
    "413": ("TooLarge", "The request body is over the limit (1 MiB)."),
    "500": ("InternalError", "An unexpected error; the daemon logged it and keeps serving."),
}

RESPONSES: dict[str, Schema] = {
    name: {
        "description": text,
        "content": {"application/json": {"schema": _ref("Error")}},
    }
    for name, text in _ERRORS.values()
}


def _path_param(name: str, schema: Schema, description: str) -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema,
        "description": description,
    }


_LOT_ID = _path_param("lot_id", {"type": "string"}, "lot id")
_STATION = _path_param("name", {"type": "string"}, "station name (configs/line.yaml)")


def _operation(
    operation_id: str,
    summary: str,
    *,
    ok: Schema,
    status: str = "200",
    parameters: list[Schema] | None = None,
    body: str | None = None,
    body_required: bool = False,
    conflict: bool = False,
) -> Schema:
    """One operation. Every operation may answer 400 (e.g. an unknown query parameter), 404, 405
    and 500; a POST (``body`` given) needs the bearer token and may also answer 401 and 413."""
    codes = ["400", "404", "405", "500"] + (["409"] if conflict else [])
    operation: Schema = {"operationId": operation_id, "summary": summary}
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = {
            "required": body_required,
            "content": {"application/json": {"schema": _ref(body)}},
        }
        operation["security"] = [{"bearerAuth": []}]
        codes = [*codes, "401", "413"]
    success: Schema = {"description": "OK", "content": {"application/json": {"schema": ok}}}
    if status == "201":
        success["description"] = "Created"
        success["headers"] = {
            "Location": {"schema": {"type": "string"}, "description": "the new resource's path"}
        }
    responses: Schema = {status: success}
    for code in sorted(set(codes)):
        responses[code] = {"$ref": f"#/components/responses/{_ERRORS[code][0]}"}
    operation["responses"] = responses
    return operation


PATHS: dict[str, Schema] = {
    "/openapi.json": {
        "get": _operation(
            "getOpenapi", "This document.", ok={"type": "object", "description": "OpenAPI 3.1"}
        )
    },
    "/health": {"get": _operation("getHealth", "The server answers.", ok=_ref("Health"))},
    "/lots": {
        "get": _operation("listLots", "Every lot, newest last.", ok=_array_of("Lot")),
        "post": _operation(
            "submitLot",
            "Queue a lot.",
            ok=_ref("Lot"),
            status="201",
            body="LotRequest",
            conflict=True,
        ),
    },
    "/lots/{lot_id}": {
        "get": _operation(
            "showLot",
            "A lot with its status, progress per step and status per strip.",
            ok=_ref("Lot"),
            parameters=[_LOT_ID],
        )
    },
    "/lots/{lot_id}/{command}": {
        "post": _operation(
            "lotCommand",
            "hold: start no new cycles; release: go on; abort: strips not finished go on hold.",
            ok=_ref("Lot"),
            parameters=[
                _LOT_ID,
                _path_param("command", {"enum": list(LOT_COMMANDS)}, "the lot command"),
            ],
            body="CommandRequest",
            conflict=True,
        )
    },
    "/strips/{strip_id}": {
        "get": _operation(
            "showStrip",
            "A strip's lot, status and steps with result maps.",
            ok=_ref("Strip"),
            parameters=[_path_param("strip_id", {"type": "string"}, "strip id")],
        )
    },
    "/strips/{strip_id}/map": {
        "get": _operation(
            "showStripMap",
            "A strip's site map per step as E142-style substrate map XML (docs/gem.md).",
            ok={
                "type": "object",
                "required": ["strip_id", "xml"],
                "properties": {"strip_id": {"type": "string"}, "xml": {"type": "string"}},
            },
            parameters=[_path_param("strip_id", {"type": "string"}, "strip id")],
        )
    },
    "/units/{strip_id}/{site}": {
        "get": _operation(
            "showUnit",
            "A unit's genealogy.",
            ok=_ref("Unit"),
            parameters=[
                _path_param("strip_id", {"type": "string"}, "strip id"),
                _path_param("site", {"type": "integer", "minimum": 1}, "site on the strip, 1.."),
            ],
        )
    },
    "/stations": {
        "get": _operation("listStations", "Every station of the line.", ok=_array_of("Station"))
    },
    "/stations/{name}": {
        "get": _operation("showStation", "One station.", ok=_ref("Station"), parameters=[_STATION])
    },
    "/stations/{name}/{command}": {
        "post": _operation(
            "stationCommand",
            "An operator command to the station's PackML machine (docs/lots.md).",
            ok=_ref("Station"),
            parameters=[
                _STATION,
                _path_param("command", {"enum": list(STATION_COMMANDS)}, "the PackML command"),
            ],
            body="CommandRequest",
            conflict=True,
        )
    },
    "/alarms": {
        "get": _operation(
            "listAlarms",
            "Alarms, oldest first; `active=true`: only those not acknowledged yet.",
            ok=_array_of("Alarm"),
            parameters=[
                {
                    "name": "active",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "boolean", "default": False},
                    "description": "true: active alarms only",
                }
            ],
        )
    },
    "/alarms/{alarm_id}/ack": {
        "post": _operation(
            "ackAlarm",
            "Acknowledge an alarm.",
            ok=_ref("Alarm"),
            parameters=[_path_param("alarm_id", {"type": "integer"}, "alarm id")],
            body="CommandRequest",
            conflict=True,
        )
    },
    "/recipes": {
        "get": _operation("listRecipes", "The recipes in configs/recipes.", ok=_array_of("Recipe"))
    },
    "/recipes/validate": {
        "post": _operation(
            "validateRecipe",
            "Check a stored recipe or recipe YAML: the route, or every problem.",
            ok=_ref("RecipeValidation"),
            body="RecipeValidateRequest",
            body_required=True,
        )
    },
    "/e10": {"get": _operation("getE10", "E10 time per station.", ok=_ref("E10"))},
}

OPENAPI: Schema = {
    "openapi": "3.1.0",
    "info": {
        "title": "packline line controller",
        "version": __version__,
        "description": (
            "The line controller daemon (`packline serve`). Reads are open; every POST needs "
            "`Authorization: Bearer <token>`. Errors are `{error, problems}`. See docs/http-api.md."
        ),
    },
    "paths": PATHS,
    "components": {
        "schemas": SCHEMAS,
        "responses": RESPONSES,
        "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
    },
}


# -- the JSON Schema subset the server checks requests with ------------------------------------

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}
_SUPPORTED = {
    "$ref", "type", "const", "enum", "properties", "required", "additionalProperties",
    "minProperties", "not", "items", "minItems", "maxItems", "uniqueItems", "minLength",
    "maxLength", "pattern", "minimum", "maximum", "default", "description",
}  # fmt: skip


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    for name in ("null", "integer", "number", "string", "array", "object"):
        if isinstance(value, _JSON_TYPES[name]):
            return name
    return type(value).__name__


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def problems_in(value: Any, schema: Schema, where: str = "body") -> list[str]:
    """Every way ``value`` breaks ``schema``, each naming the field (``strip_ids[2]``).

    Supports the keywords this document uses (and refuses others, so that a schema edit cannot
    silently go unchecked). ``integer`` excludes booleans and floats. Patterns here are anchored
    (``^...$``) and matched whole, so Python's ``$`` cannot accept a trailing newline.
    """
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        return problems_in(value, SCHEMAS[name], where)
    unknown = set(schema) - _SUPPORTED
    if unknown:
        raise ValueError(f"schema keywords not checked: {sorted(unknown)}")
    if "const" in schema and value != schema["const"]:
        return [f"{where} must be {schema['const']!r}, got {_short(value)}"]
    if "enum" in schema and value not in schema["enum"]:
        return [
            f"{where} must be one of {', '.join(map(str, schema['enum']))}, got {_short(value)}"
        ]
    kind = schema.get("type")
    if kind is not None:
        fits = isinstance(value, _JSON_TYPES[kind]) and not (
            kind in ("integer", "number") and isinstance(value, bool)
        )
        if not fits:
            article = "an" if kind[0] in "aeiou" else "a"
            return [f"{where} must be {article} {kind}, got {_type_name(value)} {_short(value)}"]
    if isinstance(value, dict):
        return _object_problems(value, schema, where)
    if isinstance(value, list):
        return _array_problems(value, schema, where)
    if isinstance(value, str):
        return _string_problems(value, schema, where)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            return [f"{where} must be at least {schema['minimum']}, got {value}"]
        if "maximum" in schema and value > schema["maximum"]:
            return [f"{where} must be at most {schema['maximum']}, got {value}"]
    return []


def _field(where: str, name: str) -> str:
    return name if where == "body" else f"{where}.{name}"


def _object_problems(value: dict[str, Any], schema: Schema, where: str) -> list[str]:
    problems: list[str] = []
    properties: dict[str, Schema] = schema.get("properties", {})
    for name in schema.get("required", []):
        if name not in value:
            problems.append(f"{_field(where, name)} is required")
    if len(value) < schema.get("minProperties", 0):
        problems.append(f"{where}: give {' or '.join(properties) or 'a property'}")
    both = schema.get("not", {}).get("required")
    if set(schema.get("not", {})) - {"required"}:
        raise ValueError("only 'not': {'required': [...]} is checked")
    if both and all(name in value for name in both):
        problems.append(f"{where}: give {' or '.join(both)}, not both")
    additional = schema.get("additionalProperties", True)
    for name, item in value.items():
        if name in properties:
            problems += problems_in(item, properties[name], _field(where, name))
        elif additional is False:
            allowed = ", ".join(properties) or "none"
            problems.append(f"{_field(where, name)} is not a known field (known: {allowed})")
        elif isinstance(additional, dict):
            problems += problems_in(item, additional, _field(where, name))
    return problems


def _array_problems(value: list[Any], schema: Schema, where: str) -> list[str]:
    problems: list[str] = []
    if len(value) < schema.get("minItems", 0):
        problems.append(f"{where} must have at least {schema['minItems']} item(s)")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        problems.append(f"{where} must have at most {schema['maxItems']} items, got {len(value)}")
    if schema.get("uniqueItems"):
        seen: list[Any] = []
        for item in value:
            if item in seen:
                problems.append(f"{where} has {_short(item)} more than once")
            seen.append(item)
    if "items" in schema:
        for index, item in enumerate(value):
            problems += problems_in(item, schema["items"], f"{where}[{index}]")
    return problems


def _string_problems(value: str, schema: Schema, where: str) -> list[str]:
    if len(value) < schema.get("minLength", 0):
        return [f"{where} must not be empty" if not value else f"{where} is too short"]
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        return [f"{where} must be at most {schema['maxLength']} characters"]
    if "pattern" in schema and not re.fullmatch(schema["pattern"], value):
        wanted = schema.get("description", f"matching {schema['pattern']}")
        return [f"{where} {_short(value)}: must be {wanted}"]
    return []
