"""Remote commands (S2F41) into the controller: parameters checked one by one, then one call
of the controller API, the same call the HTTP API makes, so a lot from the host is the same
lot as one from the API (same store, genealogy, reports, page).

Nothing is half-done: every parameter is checked before the controller is called, and the
controller's own checks refuse before they write (``submit_lot`` writes the lot in one
transaction). The answer is ``(HCACK, [(CPNAME, CPACK)], reason)``; the reason is for the
operator's log and the host's terminal (S10F1), since S2F42 has no room for text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from packline.daemon.controller_api import ControllerAPI
from packline.errors import Invalid, NotFound, Refused
from packline.gem.catalogue import COMMANDS
from packline.vocabulary import PRIORITY_RANGE

# HCACK (E5): 0 done, 1 no such command, 2 cannot perform now, 3 a parameter is invalid.
HCACK_DONE, HCACK_NO_COMMAND, HCACK_CANNOT_NOW, HCACK_BAD_PARAMETER = 0, 1, 2, 3
# CPACK (E5): 1 no such parameter name, 2 illegal value, 3 illegal format.
CPACK_NO_NAME, CPACK_BAD_VALUE, CPACK_BAD_FORMAT = 1, 2, 3

BY = "gem-host"  # who asked, in the operator-command log
IDENTIFIER = re.compile(r"^[A-Za-z0-9_.\-]{1,20}$")  # README §3: lot and strip ids
STRIP_COUNT_RANGE = range(1, 201)
PARAMS = {c.name: set(c.params) for c in COMMANDS}
STATION_COMMANDS = {"STATION_HOLD": "hold", "STATION_UNHOLD": "unhold"}
#: Out of service and back (the controller's ``station_service``): command -> enable.
SERVICE_COMMANDS = {"STATION_DISABLE": False, "STATION_ENABLE": True}
SIGNED_DIGITS = re.compile(r"^[+-]?[0-9]+$")
LOT_COMMANDS = {"HOLD_LOT": "hold", "RELEASE_LOT": "release", "ABORT_LOT": "abort"}


@dataclass
class Answer:
    """What S2F42 says (HCACK and a CPACK per bad parameter) and why, in words."""

    hcack: int
    cpacks: list[tuple[str, int]] = field(default_factory=list)
    reason: str = ""


class _Bad(Exception):
    def __init__(self, name: str, cpack: int, why: str) -> None:
        super().__init__(why)
        self.name, self.cpack, self.why = name, cpack, why


def _integer(name: str, value: Any, allowed: range) -> int:
    """An integer item or ASCII digits (hosts send both), within ``allowed``."""
    if isinstance(value, bool):
        raise _Bad(name, CPACK_BAD_FORMAT, f"{name} must be a number, got a boolean")
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if isinstance(value, str):
        if not SIGNED_DIGITS.match(value.strip()):
            raise _Bad(name, CPACK_BAD_FORMAT, f"{name} must be digits, got {value!r}")
        value = int(value.strip())
    if isinstance(value, list) and len(value) == 1:  # a one-element array item
        value = value[0]
    if not isinstance(value, int):
        raise _Bad(name, CPACK_BAD_FORMAT, f"{name} must be a number, got {value!r}")
    if value not in allowed:
        raise _Bad(
            name,
            CPACK_BAD_VALUE,
            f"{name} must be {allowed.start}..{allowed.stop - 1}, got {value}",
        )
    return value


def _text(name: str, value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        raise _Bad(name, CPACK_BAD_FORMAT, f"{name} must be text (A), got {value!r}")
    return value.strip()


def _identifier(name: str, value: Any) -> str:
    text = _text(name, value)
    if not IDENTIFIER.match(text):
        raise _Bad(name, CPACK_BAD_VALUE, f"{name} {text!r}: 1-20 of A-Z a-z 0-9 - _ .")
    return text


def _strip_ids(value: Any) -> list[str]:
    ids = [part.strip() for part in _text("STRIP_IDS", value).split(",")]
    bad = [i for i in ids if not IDENTIFIER.match(i)]
    if bad:
        raise _Bad("STRIP_IDS", CPACK_BAD_VALUE, f"STRIP_IDS: not strip ids: {', '.join(bad)}")
    if len(set(ids)) != len(ids):
        raise _Bad("STRIP_IDS", CPACK_BAD_VALUE, "STRIP_IDS: a strip id is given twice")
    return ids


def run_command(
    api: ControllerAPI,
    name: str,
    params: Sequence[tuple[str, Any]],
    *,
    stations: Sequence[str],
    recipes: Sequence[str],
) -> Answer:
    """Check and run remote command ``name`` with ``params`` (CPNAME, CPVAL) on ``api``;
    ``stations`` and ``recipes`` are the names a parameter may take."""
    if name not in PARAMS:
        return Answer(HCACK_NO_COMMAND, reason=f"no remote command {name!r}")
    given: dict[str, Any] = {}
    bad: list[_Bad] = []
    for cpname, cpval in params:
        if cpname not in PARAMS[name]:
            bad.append(_Bad(cpname, CPACK_NO_NAME, f"{name} has no parameter {cpname!r}"))
        elif cpname in given:
            bad.append(_Bad(cpname, CPACK_BAD_VALUE, f"{cpname} given twice"))
        else:
            given[cpname] = cpval
    checked, more = _check(name, given, stations, recipes)
    bad += more
    if bad:
        return Answer(
            HCACK_BAD_PARAMETER, [(b.name, b.cpack) for b in bad], "; ".join(b.why for b in bad)
        )
    try:
        _call(api, name, checked)
    except Refused as exc:
        # A lot or strip id already taken is a bad START_LOT parameter; for the other
        # commands a conflict is the object's state (lot complete, station busy): not now.
        if isinstance(exc, Invalid | NotFound) or name == "START_LOT":
            culprit = _culprit(name, checked, exc.message)
            return Answer(HCACK_BAD_PARAMETER, [(culprit, CPACK_BAD_VALUE)], _why(exc))
        return Answer(HCACK_CANNOT_NOW, reason=_why(exc))
    return Answer(HCACK_DONE)


def _check(
    name: str, given: dict[str, Any], stations: Sequence[str], recipes: Sequence[str]
) -> tuple[dict[str, Any], list[_Bad]]:
    """The parameters of ``name`` as the controller takes them, and every problem found."""
    checked: dict[str, Any] = {}
    bad: list[_Bad] = []

    def take(cpname: str, convert: Any, *args: Any) -> None:
        if cpname in given:
            try:
                checked[cpname] = convert(cpname, given[cpname], *args)
            except _Bad as problem:
                bad.append(problem)

    def require(cpname: str) -> None:
        if cpname not in given:
            bad.append(_Bad(cpname, CPACK_BAD_VALUE, f"{name} needs {cpname}"))

    if name == "START_LOT":
        require("RECIPE")
        take("RECIPE", _text)
        recipe = checked.get("RECIPE")
        if recipe is not None and recipe.removesuffix(".yaml") not in recipes:
            bad.append(_Bad("RECIPE", CPACK_BAD_VALUE, f"no recipe {recipe!r}"))
        take("LOT_ID", _identifier)
        take("PRIORITY", _integer, PRIORITY_RANGE)
        take("STRIP_COUNT", _integer, STRIP_COUNT_RANGE)
        if "STRIP_IDS" in given:
            try:
                checked["STRIP_IDS"] = _strip_ids(given["STRIP_IDS"])
            except _Bad as problem:
                bad.append(problem)
        if ("STRIP_IDS" in given) == ("STRIP_COUNT" in given):
            for cpname in ("STRIP_IDS", "STRIP_COUNT"):
                bad.append(
                    _Bad(cpname, CPACK_BAD_VALUE, "give exactly one of STRIP_IDS, STRIP_COUNT")
                )
    elif name in LOT_COMMANDS:
        require("LOT_ID")
        take("LOT_ID", _identifier)
    else:
        require("STATION")
        take("STATION", _text)
        if name == "STATION_DISABLE":
            require("REASON")
        take("REASON", _text)
        if name == "STATION_DISABLE" and checked.get("REASON") == "":
            bad.append(_Bad("REASON", CPACK_BAD_VALUE, "REASON must say why (it is logged)"))
        station = checked.get("STATION")
        if station is not None and station not in stations:
            bad.append(
                _Bad("STATION", CPACK_BAD_VALUE, f"no station {station!r}: {', '.join(stations)}")
            )
    return checked, bad


def _call(api: ControllerAPI, name: str, checked: dict[str, Any]) -> None:
    if name == "START_LOT":
        api.submit_lot(
            recipe=checked["RECIPE"],
            strips=checked.get("STRIP_COUNT"),
            strip_ids=checked.get("STRIP_IDS"),
            lot_id=checked.get("LOT_ID"),
            by=BY,
            priority=checked.get("PRIORITY", 0),
        )
    elif name in LOT_COMMANDS:
        api.lot_command(checked["LOT_ID"], LOT_COMMANDS[name], by=BY)
    elif name in SERVICE_COMMANDS:
        api.station_service(
            checked["STATION"],
            enable=SERVICE_COMMANDS[name],
            reason=checked.get("REASON", ""),
            by=BY,
        )
    else:
        api.station_command(checked["STATION"], STATION_COMMANDS[name], by=BY)


def _culprit(name: str, checked: dict[str, Any], message: str) -> str:
    """The parameter a controller refusal is about (its message names the thing)."""
    text = message.lower()
    if name == "START_LOT":
        if "recipe" in text:
            return "RECIPE"
        if "strip" in text:
            return "STRIP_IDS" if "STRIP_IDS" in checked else "STRIP_COUNT"
        return "LOT_ID"
    return "LOT_ID" if name in LOT_COMMANDS else "STATION"


def _why(exc: Refused) -> str:
    return "; ".join([exc.message, *exc.problems])
