"""Every variable, collection event and remote command the equipment offers: id, name,
SECS format and unit. docs/gem.md lists the same (a test compares it with S1F11/S1F23).

Ids: status variables 1001-1005 (secsgem's E30 standard ones) and 1010+, per-station status
variables 2000 + 10 x station number + k, data variables 3001+, collection events 1-3
(secsgem's control-state events) and 4001+, equipment constants 1-2 (secsgem's) and 10+.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: SECS-II formats used here: A (text), U4, F8, BOOLEAN, L<A> (a list of texts).
TEXT, U4, F8, BOOL, TEXT_LIST = "A", "U4", "F8", "BOOLEAN", "L<A>"


@dataclass(frozen=True)
class Variable:
    """A status variable (SV) or data variable (DV): ``vid``, name, format, unit, meaning."""

    vid: int
    name: str
    format: str
    unit: str
    doc: str


@dataclass(frozen=True)
class Event:
    """A collection event: ``ceid``, name, and the data variables valid with it (the contents
    of its default report)."""

    ceid: int
    name: str
    dvids: tuple[int, ...]
    doc: str


@dataclass(frozen=True)
class Command:
    """A remote command (S2F41): name, its parameters (``NAME`` -> meaning), and meaning."""

    name: str
    params: dict[str, str]
    doc: str


# -- status variables ----------------------------------------------------------------------------
#: secsgem answers these five itself (E30's standard SVs).
STANDARD_SVS = (
    Variable(1001, "Clock", TEXT, "", "equipment time, in the TimeFormat of ECID 2"),
    Variable(
        1002,
        "ControlState",
        "B",
        "",
        "E30: 1 equipment offline, 2 attempt online, 3 host offline, 4 online local, 5 online remote",
    ),
    Variable(1003, "EventsEnabled", "L<U4>", "", "CEIDs whose reports are enabled"),
    Variable(1004, "AlarmsEnabled", "L<U4>", "", "ALIDs whose S5F1 are enabled"),
    Variable(1005, "AlarmsSet", "L<U4>", "", "ALIDs set now"),
)
SV_LINE_STATE = Variable(1010, "LineState", TEXT, "", "IDLE, RUNNING or HELD (the running lot)")
SV_CURRENT_LOT = Variable(1011, "CurrentLot", TEXT, "", "lot id being run, empty if none")
SV_LOTS_IN_QUEUE = Variable(1012, "LotsInQueue", U4, "", "lots queued or held, not running")
SV_QUEUED_LOTS = Variable(1013, "QueuedLots", TEXT_LIST, "", "their lot ids in run order")
SV_SPOOL_COUNT = Variable(1014, "SpoolCountActual", U4, "", "messages kept for the host")
LINE_SVS = (SV_LINE_STATE, SV_CURRENT_LOT, SV_LOTS_IN_QUEUE, SV_QUEUED_LOTS, SV_SPOOL_COUNT)

#: Per station number n (line config order, from 1): SVID 2000 + 10 n + k.
STATION_SV_KINDS = (
    (1, "PackMLState", TEXT, "the station's PackML state (STOPPED, IDLE, EXECUTE, HELD...)"),
    (2, "ToolState", TEXT, "the tool's own state as it reports it; UNREACHABLE if it does not"),
    (3, "CurrentStrips", TEXT_LIST, "strip ids in the station's running cycle"),
    (4, "CurrentStep", TEXT, "the route step it runs, empty if none"),
)


def station_svs(stations: Sequence[str]) -> list[Variable]:
    """The per-station status variables of a line of ``stations`` (in line config order)."""
    return [
        Variable(2000 + 10 * n + k, f"{station}.{name}", fmt, "", doc)
        for n, station in enumerate(stations, start=1)
        for k, name, fmt, doc in STATION_SV_KINDS
    ]


def station_sv(svid: int, stations: Sequence[str]) -> tuple[str, str] | None:
    """``(station, kind name)`` of a per-station SVID, else None."""
    n, k = divmod(svid - 2000, 10)
    if svid < 2000 or not 1 <= n <= len(stations):
        return None
    kinds = {kind: name for kind, name, _, _ in STATION_SV_KINDS}
    return (stations[n - 1], kinds[k]) if k in kinds else None


# -- data variables ------------------------------------------------------------------------------
DVS = (
    Variable(3001, "LotID", TEXT, "", "the lot"),
    Variable(3002, "RecipeName", TEXT, "", "its master recipe (= PPID)"),
    Variable(3003, "StripIDs", TEXT_LIST, "", "its strips, in order"),
    Variable(3004, "StripCount", U4, "", "how many strips"),
    Variable(3005, "LotStatus", TEXT, "", "complete or aborted"),
    Variable(3006, "Reason", TEXT, "", "why (abort, hold), as the store records it"),
    Variable(3007, "StripID", TEXT, "", "the strip"),
    Variable(3008, "StepName", TEXT, "", "route step (e.g. 'wire bond')"),
    Variable(3009, "StepIndex", U4, "", "its index in the route, from 0"),
    Variable(3010, "StationName", TEXT, "", "the station (line config name)"),
    Variable(3011, "SiteResultMap", TEXT, "", "one of P F X N per site, site k at position k"),
    Variable(3012, "MapRows", U4, "", "strip layout rows"),
    Variable(3013, "MapCols", U4, "", "strip layout columns"),
    Variable(3014, "UnitsPassed", U4, "", "sites P in the map"),
    Variable(3015, "UnitsFailed", U4, "", "sites F in the map"),
    Variable(3016, "MeasuredSummary", TEXT_LIST, "", "the tool's cycle summary, 'name=value'"),
    Variable(3017, "PreviousState", TEXT, "", "PackML state left"),
    Variable(3018, "NewState", TEXT, "", "PackML state entered"),
    Variable(3019, "StateCause", TEXT, "", "why the state changed"),
    Variable(3020, "ALID", U4, "", "alarm id (see the alarm table)"),
    Variable(3021, "AlarmCode", U4, "", "the tool's own alarm code"),
    Variable(3022, "AlarmText", TEXT, "", "the tool's alarm text"),
    Variable(3023, "AlarmHandling", TEXT, "", "what the line did: resumed, strip on hold..."),
    Variable(3024, "EventTime", TEXT, "", "when it happened, YYYYMMDDhhmmsscc (UTC)"),
    Variable(
        3025, "UpkeepItem", TEXT, "", "the upkeep: calibration run, or what the operator is asked"
    ),
    Variable(3026, "UpkeepResult", TEXT, "", "how it ended and how long it took, as recorded"),
)
DV = {v.name: v.vid for v in DVS}

# -- collection events ---------------------------------------------------------------------------
_LOT = ("LotID", "EventTime")
_STRIP_STEP = ("LotID", "StripID", "StepName", "StepIndex", "StationName", "EventTime")


def _event(ceid: int, name: str, dvs: Sequence[str], doc: str) -> Event:
    return Event(ceid, name, tuple(DV[d] for d in dvs), doc)


#: secsgem fires these on control state changes.
STANDARD_EVENTS = (
    Event(1, "EquipmentOffline", (), "control state went to equipment offline"),
    Event(2, "ControlStateLocal", (), "control state went to online local"),
    Event(3, "ControlStateRemote", (), "control state went to online remote"),
)
EVENTS = (
    _event(
        4001, "LotQueued", (*_LOT, "RecipeName", "StripCount", "StripIDs"), "a lot was accepted"
    ),
    _event(
        4002, "LotStarted", (*_LOT, "RecipeName", "StripCount"), "the line started (or resumed) it"
    ),
    _event(4003, "StripStepStarted", _STRIP_STEP, "a strip's step starts on a station"),
    _event(
        4004,
        "StripStepCompleted",
        (
            *_STRIP_STEP,
            "SiteResultMap",
            "MapRows",
            "MapCols",
            "UnitsPassed",
            "UnitsFailed",
            "MeasuredSummary",
        ),
        "a strip's step has its results (committed)",
    ),
    _event(4005, "LotCompleted", (*_LOT, "LotStatus"), "every strip of the lot is finished"),
    _event(4006, "LotAborted", (*_LOT, "Reason"), "the lot was aborted"),
    _event(4007, "StripOnHold", (*_LOT, "StripID", "Reason"), "a strip went on hold"),
    _event(
        4008,
        "StationStateChanged",
        ("StationName", "PreviousState", "NewState", "StateCause", "EventTime"),
        "a station's PackML state changed",
    ),
    _event(
        4009,
        "StationDown",
        ("StationName", "NewState", "StateCause", "EventTime"),
        "a station entered HELD, SUSPENDED, STOPPED or ABORTED",
    ),
    _event(
        4010,
        "StationUp",
        ("StationName", "NewState", "EventTime"),
        "a station left those states for a working one",
    ),
    _event(
        4011,
        "UpkeepRequested",
        ("StationName", "LotID", "UpkeepItem", "UpkeepResult", "AlarmCode", "EventTime"),
        "a station's upkeep was recorded: a placement calibration, or an operator request"
        " (consumable) with its answer",
    ),
    _event(
        4012,
        "AlarmSet",
        ("StationName", "ALID", "AlarmCode", "AlarmText", "AlarmHandling", "EventTime"),
        "a tool alarm was raised (also S5F1)",
    ),
    _event(
        4013,
        "AlarmCleared",
        ("StationName", "ALID", "AlarmCode", "AlarmText", "EventTime"),
        "a tool alarm was cleared (also S5F1)",
    ),
)
CE = {e.name: e.ceid for e in EVENTS}

# -- remote commands -----------------------------------------------------------------------------
COMMANDS = (
    Command(
        "START_LOT",
        {
            "RECIPE": "recipe name in configs/recipes (required)",
            "STRIP_IDS": "comma-separated strip ids (or STRIP_COUNT)",
            "STRIP_COUNT": "1..200 strips, ids made from the lot id (or STRIP_IDS)",
            "LOT_ID": "lot id, 1-20 of A-Z a-z 0-9 - _ . (optional)",
            "PRIORITY": "-1000..1000, higher first at a free station (optional, default 0)",
        },
        "queue a lot, exactly as the HTTP API does",
    ),
    Command("HOLD_LOT", {"LOT_ID": "the lot"}, "no new cycles start for the lot"),
    Command("RELEASE_LOT", {"LOT_ID": "the lot"}, "release a held lot"),
    Command("ABORT_LOT", {"LOT_ID": "the lot"}, "abort; unfinished strips go on hold"),
    Command("STATION_HOLD", {"STATION": "station name"}, "PackML hold"),
    Command("STATION_UNHOLD", {"STATION": "station name"}, "PackML unhold"),
    Command(
        "STATION_DISABLE",
        {"STATION": "station name", "REASON": "why (required, logged)"},
        "out of service (E10 scheduled down): no new cycle, a running one finishes",
    ),
    Command(
        "STATION_ENABLE",
        {"STATION": "station name", "REASON": "note for the log (optional)"},
        "back in service",
    ),
)


# -- equipment constants -------------------------------------------------------------------------
@dataclass(frozen=True)
class Constant:
    """An equipment constant: id, name, range, default, unit, and what it sets."""

    ecid: int
    name: str
    min_value: int
    max_value: int
    default: int
    unit: str
    doc: str


STANDARD_CONSTANTS = (
    Constant(1, "EstablishCommunicationsTimeout", 10, 120, 10, "s", "S1F13 retry period"),
    Constant(2, "TimeFormat", 0, 2, 1, "", "clock: 0 YYMMDDhhmmss, 1 16 characters, 2 ISO 8601"),
)
CONSTANTS = (
    Constant(10, "T3ReplyTimeout", 1, 120, 45, "s", "E37 T3: wait for a reply"),
    Constant(11, "T6ControlTimeout", 1, 240, 5, "s", "E37 T6: wait for a control reply"),
    Constant(12, "T7NotSelectedTimeout", 1, 240, 10, "s", "E37 T7: connected, not selected"),
    Constant(13, "LinktestInterval", 1, 3600, 30, "s", "E37 linktest period"),
    Constant(14, "EnableSpooling", 0, 1, 1, "", "1: keep events and alarms while the host is away"),
    Constant(15, "T8NetworkIntercharacterTimeout", 1, 120, 5, "s", "E37 T8: gap inside a message"),
)
