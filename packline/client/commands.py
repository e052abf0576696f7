"""The client subcommands: ``lot``, ``station``, ``alarm``, ``strip``, ``unit``, ``recipe list``.

Each leaf command is a function ``(client, args) -> (data, lines)``: the daemon's JSON (printed
with ``--json``) and the lines a person reads. :func:`run` resolves the daemon's URL and token,
calls it, and turns failures into exit codes: 1 when the daemon refused the request (its
message and problems on stderr), 2 when no daemon answered or the URL or token file is unusable.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from packline.client.api import (
    DEFAULT_URL,
    URL_ENV,
    DaemonClient,
    DaemonRefused,
    DaemonUnreachable,
    check_url,
    path_of,
)
from packline.client.render import cell, mapping_table, record, table
from packline.client.reports import add_report_commands
from packline.daemon.auth import CLIENT_TOKEN_FILE, TOKEN_ENV, TokenError, client_token
from packline.vocabulary import LOT_COMMANDS, STATION_COMMANDS

EXIT_OK, EXIT_REFUSED, EXIT_NO_DAEMON = 0, 1, 2
EXIT_WATCH_TIMEOUT = 124  # as timeout(1)

Shown = tuple[Any, list[str]]
Command = Callable[[DaemonClient, argparse.Namespace], Shown]
Subcommands = argparse._SubParsersAction

LOT_COLUMNS = (
    "lot_id", "status", "recipe_name", "strip_count", "complete", "scrapped", "on hold",
    "in progress", "created", "reason",
)  # fmt: skip
STATION_COLUMNS = (
    "name", "tool", "state", "step", "strips", "policy", "address", "tool_state", "answer_age_s",
)  # fmt: skip
ALARM_COLUMNS = (
    "alarm_id", "time", "station", "code", "class", "text", "handling", "strip_ids", "active",
    "acked_by",
)  # fmt: skip
RECIPE_COLUMNS = ("name", "product", "variant", "valid", "problems")


# -- lots ------------------------------------------------------------------------------------------
def lot_submit(client: DaemonClient, args: argparse.Namespace) -> Shown:
    body: dict[str, Any] = {}
    for field in ("recipe", "strips", "strip_ids", "lot_id", "priority"):
        if getattr(args, field) is not None:
            body[field] = getattr(args, field)
    if args.recipe is not None:
        body["recipe"] = recipe_name(args.recipe)
    lot = client.post("/lots", body)
    if args.quiet:
        return lot, [str(lot.get("lot_id"))]
    lines = [f"lot {lot.get('lot_id')} submitted: {lot.get('status')}"]
    lines += record(lot, hide=("lot_id", "status", "strips", "progress", "strip_ids", "steps"))
    return lot, lines


def lot_priority(client: DaemonClient, args: argparse.Namespace) -> Shown:
    lot = client.put(f"/lots/{args.lot_id}/priority", {"priority": args.priority})
    return lot, [f"lot {lot.get('lot_id')}: priority {lot.get('priority')}"]


def recipe_name(text: str) -> str:
    """The daemon runs recipes of its configs/recipes by name: a path names its file's recipe."""
    return Path(text).name.removesuffix(".yaml") if "/" in text or text.endswith(".yaml") else text


def lot_list(client: DaemonClient, args: argparse.Namespace) -> Shown:
    lots = client.get("/lots")
    rows = [{**lot, **lot.get("counts", {})} for lot in lots]  # one column per strip count
    return lots, table(rows, LOT_COLUMNS)


def lot_show(client: DaemonClient, args: argparse.Namespace) -> Shown:
    lot = client.get(path_of("lots", args.lot_id))
    hide = ["strip_ids"] + (["steps"] if "progress" in lot else [])
    return lot, record(steps_from_one(lot), hide=hide)


def steps_from_one(value: dict[str, Any]) -> dict[str, Any]:
    """Step numbers as the route sheet prints them (1 = first step); the JSON keeps the API's
    0-based ``step_index`` and ``next_step``."""
    shown = dict(value)
    steps = value.get("steps") or []
    if isinstance(value.get("progress"), list):
        shown["progress"] = [_step_number(row, "step_index") for row in value["progress"]]
    if isinstance(value.get("strips"), list):
        shown["strips"] = [
            _step_number(row, "next_step", steps) if isinstance(row, dict) else row
            for row in value["strips"]
        ]
    return shown


def _step_number(row: dict[str, Any], key: str, names: list[str] | None = None) -> dict[str, Any]:
    """``row`` with the 0-based ``key`` counted from 1 (``step_index`` shown as ``#``); a
    ``next_step`` past the last step is ``end``."""
    index = row.get(key)
    if not isinstance(index, int) or isinstance(index, bool):
        return row
    number: int | str = index + 1 if names is None or index < len(names) else "end"
    label = "#" if key == "step_index" else key
    return {(label if k == key else k): (number if k == key else v) for k, v in row.items()}


def lot_watch(client: DaemonClient, args: argparse.Namespace) -> Shown:
    """Follow a lot: one line whenever its status or counts change, until it ends."""
    deadline = time.monotonic() + args.timeout
    last = ""
    while True:
        lot = client.get(path_of("lots", args.lot_id))
        line = watch_line(lot)
        if line != last and not args.json:
            print(f"{time.strftime('%H:%M:%S')}  {line}", flush=True)
            last = line
        if lot.get("status") in ENDED:
            return lot, []
        if time.monotonic() + args.interval > deadline:
            raise WatchTimeout(
                f"lot {args.lot_id} still {lot.get('status')} after {args.timeout:g} s"
            )
        time.sleep(args.interval)


#: Lot statuses after which nothing changes any more.
ENDED = ("complete", "aborted")


class WatchTimeout(Exception):
    """``lot watch`` gave up waiting (``--timeout``)."""


def watch_line(lot: dict[str, Any]) -> str:
    """Status, strip counts and the steps in progress of a lot, on one line."""
    counts = lot.get("counts") or {}
    parts = [f"lot {lot.get('lot_id')} {lot.get('status')}"]
    parts += [f"{name} {counts[name]}" for name in counts]
    steps = lot.get("steps") or []
    busy = sorted(
        {
            s["next_step"]
            for s in lot.get("strips") or []
            if isinstance(s, dict)
            and s.get("status") == "processing"
            and isinstance(s.get("next_step"), int)
        }
    )
    if busy:
        names = [f"{i + 1} {steps[i]}" if i < len(steps) else str(i + 1) for i in busy]
        parts.append(f"at step {', '.join(names)}")
    if lot.get("reason"):
        parts.append(f"({lot['reason']})")
    return "  ".join(parts)


def strip_show(client: DaemonClient, args: argparse.Namespace) -> Shown:
    strip = client.get(path_of("strips", args.strip_id))
    shown = _step_number(dict(strip), "next_step")
    if isinstance(strip.get("steps"), list):
        shown["steps"] = [
            _step_number(row, "step_index") if isinstance(row, dict) else row
            for row in strip["steps"]
        ]
    return strip, record(shown)


def lot_command(client: DaemonClient, args: argparse.Namespace) -> Shown:
    lot = client.post(path_of("lots", args.lot_id, args.lot_command))
    reason = f" ({lot['reason']})" if lot.get("reason") else ""
    return lot, [f"lot {args.lot_id} {args.lot_command}: {lot.get('status')}{reason}"]


# -- stations --------------------------------------------------------------------------------------
def station_list(client: DaemonClient, args: argparse.Namespace) -> Shown:
    stations = client.get("/stations")
    return stations, table(stations, STATION_COLUMNS)


def station_show(client: DaemonClient, args: argparse.Namespace) -> Shown:
    station = client.get(path_of("stations", args.name))
    shown = dict(station)
    if "e10_tool_s" in shown:
        shown["e10 (tool s)"] = shown.pop("e10_tool_s")
    return station, record(shown)


def station_command(client: DaemonClient, args: argparse.Namespace) -> Shown:
    station = client.post(path_of("stations", args.name, args.station_command))
    verb = STATION_VERBS.get(args.station_command, args.station_command)
    return station, [f"station {args.name} {verb}: {station.get('state')}"]


def station_service(client: DaemonClient, args: argparse.Namespace) -> Shown:
    body = {"reason": args.reason} if args.reason else None
    station = client.post(path_of("stations", args.name, args.service), body)
    why = f" ({station['disabled']})" if station.get("disabled") else ""
    return station, [f"station {args.name} {args.service}d: {station.get('state')}{why}"]


# -- alarms, units, recipes ----------------------------------------------------------------------
def alarm_list(client: DaemonClient, args: argparse.Namespace) -> Shown:
    alarms = client.get("/alarms", {"active": "true"} if args.active else None)
    return alarms, table(alarms, ALARM_COLUMNS)


def alarm_ack(client: DaemonClient, args: argparse.Namespace) -> Shown:
    alarm = client.post(path_of("alarms", args.alarm_id, "ack"))
    by = f" by {alarm['acked_by']}" if alarm.get("acked_by") else ""
    when = f" at {cell(alarm['acked_at'], 'acked_at')}" if alarm.get("acked_at") else ""
    return alarm, [f"alarm {args.alarm_id} acknowledged{by}{when}"]


def unit_show(client: DaemonClient, args: argparse.Namespace) -> Shown:
    strip_id, site = args.unit
    unit = client.get(path_of("units", strip_id, site))
    return unit, record(unit)


def strip_map(client: DaemonClient, args: argparse.Namespace) -> Shown:
    answer = client.get(path_of("strips", args.strip_id, "map"))
    return answer, str(answer["xml"]).rstrip("\n").splitlines()


def recipe_list(client: DaemonClient, args: argparse.Namespace) -> Shown:
    recipes = client.get("/recipes")
    return recipes, table(recipes, RECIPE_COLUMNS)


def e10_show(client: DaemonClient, args: argparse.Namespace) -> Shown:
    e10 = client.get("/e10")
    if not e10.get("stations"):
        return e10, ["(no station events yet)"]
    title = (
        "E10 time per station, tool seconds since each station's first state change"
        f" (time scale {e10.get('time_scale')})"
    )
    return e10, [title, *mapping_table(e10["stations"], "station")]


# -- argument types --------------------------------------------------------------------------------
def _unit_ref(text: str) -> tuple[str, int]:
    strip_id, _, site = text.rpartition(":")
    if not strip_id or not site.isdigit() or int(site) < 1:
        raise argparse.ArgumentTypeError(f"expected STRIP:SITE (e.g. L1-01:7), got {text!r}")
    return strip_id, int(site)


def _id_list(text: str) -> list[str]:
    ids = [part.strip() for part in text.split(",")]
    if not all(ids):
        raise argparse.ArgumentTypeError(f"expected comma-separated strip ids, got {text!r}")
    return ids


# -- wiring ----------------------------------------------------------------------------------------
def _connection_options() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group("daemon")
    group.add_argument(
        "--url", default=None, help=f"daemon URL (default ${URL_ENV}, else {DEFAULT_URL})"
    )
    group.add_argument(
        "--token-file",
        type=Path,
        default=None,
        help=f"token for commands that change state (default ${TOKEN_ENV}, else ./{CLIENT_TOKEN_FILE})",
    )
    group.add_argument("--json", action="store_true", help="print the daemon's JSON answer")
    return options


#: One verb for "let it go on" on lots and stations: ``release`` (the station's PackML command
#: is ``unhold``, kept as an alias; ``lot unhold`` is accepted too).
STATION_VERBS = {"unhold": "release"}
VERB_ALIASES = {"release": ["unhold"]}


def _command_help(kind: str, command: str) -> str:
    if command == "release" or (kind == "station" and command == "unhold"):
        return f"release a held {kind} (alias: unhold)"
    return f"{command} a lot" if kind == "lot" else f"operator command '{command}'"


def _leaf(
    subcommands: Subcommands,
    name: str,
    command: Command,
    help_text: str,
    aliases: list[str] | None = None,
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subcommands.add_parser(
        name,
        help=help_text,
        description=help_text,
        parents=[_connection_options()],
        aliases=aliases or [],
    )
    parser.set_defaults(client_command=command)
    return parser


def add_client_commands(commands: Subcommands) -> None:
    """Add ``lot``, ``station``, ``alarm``, ``strip``, ``unit`` and ``e10`` to the commands."""
    lot = commands.add_parser("lot", help="lots on the daemon: submit, list, show, hold...")
    lots = lot.add_subparsers(dest="lot_subcommand", required=True, metavar="SUBCOMMAND")
    submit = _leaf(lots, "submit", lot_submit, "queue a lot on the daemon")
    submit.add_argument(
        "--recipe",
        metavar="NAME|PATH",
        help="recipe name, or path of a file in configs/recipes (default: heat-slug, die equal)",
    )
    submit.add_argument(
        "-q", "--quiet", action="store_true", help="print only the lot id (for scripts)"
    )
    sizes = submit.add_mutually_exclusive_group()
    sizes.add_argument("--strips", type=int, help="number of strips; the daemon makes the ids")
    sizes.add_argument(
        "--strip-ids", type=_id_list, metavar="A,B,...", help="the strips' ids, comma-separated"
    )
    submit.add_argument("--lot-id", help="lot id (default: made by the daemon)")
    submit.add_argument(
        "--priority",
        type=int,
        metavar="N",
        help="-1000..1000, higher goes first at a free station (default 0; FIFO within one)",
    )
    priority = _leaf(lots, "priority", lot_priority, "change an open lot's priority")
    priority.add_argument("lot_id", metavar="ID")
    priority.add_argument("priority", type=int, metavar="N", help="-1000..1000, higher first")
    _leaf(lots, "list", lot_list, "every lot with its status")
    _leaf(lots, "show", lot_show, "a lot: progress per step, status per strip").add_argument(
        "lot_id", metavar="ID"
    )
    watch = _leaf(lots, "watch", lot_watch, "follow a lot live until it ends (complete or aborted)")
    watch.add_argument("lot_id", metavar="ID")
    watch.add_argument(
        "--interval", type=float, default=2.0, help="seconds between looks (default 2)"
    )
    watch.add_argument(
        "--timeout",
        type=float,
        default=86400.0,
        help="give up after this many seconds (default a day)",
    )
    for command in LOT_COMMANDS:
        aliases = VERB_ALIASES.get(command, [])
        parser = _leaf(lots, command, lot_command, _command_help("lot", command), aliases)
        parser.add_argument("lot_id", metavar="ID")
        parser.set_defaults(lot_command=command)

    station = commands.add_parser("station", help="stations on the daemon: list, show, commands")
    stations = station.add_subparsers(
        dest="station_subcommand", required=True, metavar="SUBCOMMAND"
    )
    _leaf(stations, "list", station_list, "every station with its PackML state")
    _leaf(
        stations, "show", station_show, "a station: state, tool, alarms, E10 tool seconds"
    ).add_argument("name", metavar="NAME")
    for command in STATION_COMMANDS:
        verb = STATION_VERBS.get(command, command)
        aliases = [command] if verb != command else []
        parser = _leaf(stations, verb, station_command, _command_help("station", command), aliases)
        parser.add_argument("name", metavar="NAME")
        parser.set_defaults(station_command=command)
    for service, text in (
        ("disable", "take a station out of service (E10 scheduled down); it finishes its cycle"),
        ("enable", "put a disabled station back in service"),
    ):
        parser = _leaf(stations, service, station_service, text)
        parser.add_argument("name", metavar="NAME")
        parser.add_argument("--reason", default="", required=service == "disable")
        parser.set_defaults(service=service)
    _leaf(stations, "e10", e10_show, "E10 time per station (tool seconds per category)")

    alarm = commands.add_parser("alarm", help="tool alarms on the daemon: list, ack")
    alarms = alarm.add_subparsers(dest="alarm_subcommand", required=True, metavar="SUBCOMMAND")
    _leaf(alarms, "list", alarm_list, "alarms, oldest first").add_argument(
        "--active", action="store_true", help="only alarms not acknowledged yet"
    )
    _leaf(alarms, "ack", alarm_ack, "acknowledge an alarm").add_argument(
        "alarm_id", type=int, metavar="ID"
    )

    strip = commands.add_parser(
        "strip", help="strips on the daemon: every step a strip went through"
    )
    strip_commands = strip.add_subparsers(
        dest="strip_subcommand", required=True, metavar="SUBCOMMAND"
    )
    _leaf(
        strip_commands, "show", strip_show, "a strip: lot, status and each step's result map"
    ).add_argument("strip_id", metavar="ID")
    _leaf(
        strip_commands, "map", strip_map, "a strip's site map per step, E142-style XML"
    ).add_argument("strip_id", metavar="ID")

    unit = commands.add_parser("unit", help="units on the daemon: genealogy")
    units = unit.add_subparsers(dest="unit_subcommand", required=True, metavar="SUBCOMMAND")
    _leaf(units, "show", unit_show, "a unit's genealogy: every step it went through").add_argument(
        "unit", type=_unit_ref, metavar="STRIP:SITE"
    )
    add_report_commands(lots, commands, _leaf)  # lot report, lot export, spc


def add_recipe_list(recipe_commands: Subcommands) -> None:
    """Add ``recipe list`` (the daemon's recipes) next to the local ``recipe check``."""
    _leaf(recipe_commands, "list", recipe_list, "the daemon's recipes and whether each is valid")


def run(args: argparse.Namespace) -> int:
    """Run the client command chosen on the command line; print its answer; the exit code."""
    command: Command = args.client_command
    try:
        url = check_url(args.url or os.environ.get(URL_ENV) or DEFAULT_URL)
        token = client_token(args.token_file)
    except (ValueError, TokenError) as exc:
        print(f"packline: {exc}", file=sys.stderr)
        return EXIT_NO_DAEMON
    try:
        data, lines = command(DaemonClient(url, token), args)
    except DaemonUnreachable as exc:
        print(f"packline: {exc}", file=sys.stderr)
        return EXIT_NO_DAEMON
    except WatchTimeout as exc:
        print(f"packline: {exc}", file=sys.stderr)
        return EXIT_WATCH_TIMEOUT
    except DaemonRefused as exc:
        print(f"packline: {exc.message} (HTTP {exc.status})", file=sys.stderr)
        if exc.problems != [exc.message.rpartition(": ")[2]]:  # not a repeat of the message
            for problem in exc.problems:
                print(f"  - {problem}", file=sys.stderr)
        if exc.status == 401:
            print(f"  {_token_hint(args.token_file, token)}", file=sys.stderr)
        return EXIT_REFUSED
    if args.json:
        print(json.dumps(data, indent=2))
    elif lines:
        print("\n".join(lines))
    return EXIT_OK


def _token_hint(token_file: Path | None, token: str | None) -> str:
    if token is None:
        return (
            f"no token: set {TOKEN_ENV}, or pass --token-file (the daemon writes its token "
            f"beside its database, <db>.token; ./{CLIENT_TOKEN_FILE} is read by default)"
        )
    source = (
        TOKEN_ENV if os.environ.get(TOKEN_ENV, "").strip() else (token_file or CLIENT_TOKEN_FILE)
    )
    return f"the token from {source} is not the daemon's"
