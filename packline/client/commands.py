"""The client subcommands: ``lot``, ``station``, ``alarm``, ``unit`` and ``recipe list``.

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
from packline.daemon.auth import CLIENT_TOKEN_FILE, TOKEN_ENV, TokenError, client_token
from packline.daemon.openapi import LOT_COMMANDS, STATION_COMMANDS

EXIT_OK, EXIT_REFUSED, EXIT_NO_DAEMON = 0, 1, 2

Shown = tuple[Any, list[str]]
Command = Callable[[DaemonClient, argparse.Namespace], Shown]
Subcommands = argparse._SubParsersAction

LOT_COLUMNS = (
    "lot_id", "status", "recipe_name", "strip_count", "complete", "scrapped", "on hold",
    "in progress", "created", "reason",
)  # fmt: skip
STATION_COLUMNS = ("name", "tool", "state", "step", "strips", "policy", "address")
ALARM_COLUMNS = (
    "alarm_id", "time", "station", "code", "class", "text", "handling", "strip_ids", "active",
    "acked_by",
)  # fmt: skip
RECIPE_COLUMNS = ("name", "product", "variant", "valid", "problems")


# -- lots ------------------------------------------------------------------------------------------
def lot_submit(client: DaemonClient, args: argparse.Namespace) -> Shown:
    body: dict[str, Any] = {}
    for field in ("recipe", "strips", "strip_ids", "lot_id"):
        if getattr(args, field) is not None:
            body[field] = getattr(args, field)
    lot = client.post("/lots", body)
    lines = [f"lot {lot.get('lot_id')} submitted: {lot.get('status')}"]
    lines += record(lot, hide=("lot_id", "status", "strips", "progress", "strip_ids", "steps"))
    return lot, lines


def lot_list(client: DaemonClient, args: argparse.Namespace) -> Shown:
    lots = client.get("/lots")
    rows = [{**lot, **lot.get("counts", {})} for lot in lots]  # one column per strip count
    return lots, table(rows, LOT_COLUMNS)


def lot_show(client: DaemonClient, args: argparse.Namespace) -> Shown:
    lot = client.get(path_of("lots", args.lot_id))
    hide = ["strip_ids"] + (["steps"] if "progress" in lot else [])
    return lot, record(lot, hide=hide)


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
    return station, record(station)


def station_command(client: DaemonClient, args: argparse.Namespace) -> Shown:
    station = client.post(path_of("stations", args.name, args.station_command))
    return station, [f"station {args.name} {args.station_command}: {station.get('state')}"]


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
    return e10, mapping_table(e10, "station") if e10 else ["(no station events yet)"]


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


def _leaf(
    subcommands: Subcommands, name: str, command: Command, help_text: str
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subcommands.add_parser(
        name, help=help_text, description=help_text, parents=[_connection_options()]
    )
    parser.set_defaults(client_command=command)
    return parser


def add_client_commands(commands: Subcommands) -> None:
    """Add ``lot``, ``station``, ``alarm``, ``unit`` and ``e10`` to the ``packline`` commands."""
    lot = commands.add_parser("lot", help="lots on the daemon: submit, list, show, hold...")
    lots = lot.add_subparsers(dest="lot_subcommand", required=True, metavar="SUBCOMMAND")
    submit = _leaf(lots, "submit", lot_submit, "queue a lot on the daemon")
    submit.add_argument(
        "--recipe", help="recipe name in configs/recipes (default: heat-slug, die equal)"
    )
    sizes = submit.add_mutually_exclusive_group()
    sizes.add_argument("--strips", type=int, help="number of strips; the daemon makes the ids")
    sizes.add_argument(
        "--strip-ids", type=_id_list, metavar="A,B,...", help="the strips' ids, comma-separated"
    )
    submit.add_argument("--lot-id", help="lot id (default: made by the daemon)")
    _leaf(lots, "list", lot_list, "every lot with its status")
    _leaf(lots, "show", lot_show, "a lot: progress per step, status per strip").add_argument(
        "lot_id", metavar="ID"
    )
    for command in LOT_COMMANDS:
        parser = _leaf(lots, command, lot_command, f"{command} a lot")
        parser.add_argument("lot_id", metavar="ID")
        parser.set_defaults(lot_command=command)

    station = commands.add_parser("station", help="stations on the daemon: list, show, commands")
    stations = station.add_subparsers(
        dest="station_subcommand", required=True, metavar="SUBCOMMAND"
    )
    _leaf(stations, "list", station_list, "every station with its PackML state")
    _leaf(stations, "show", station_show, "a station: state, tool, alarms, E10").add_argument(
        "name", metavar="NAME"
    )
    for command in STATION_COMMANDS:
        parser = _leaf(stations, command, station_command, f"operator command '{command}'")
        parser.add_argument("name", metavar="NAME")
        parser.set_defaults(station_command=command)
    _leaf(stations, "e10", e10_show, "E10 time per station (seconds per category)")

    alarm = commands.add_parser("alarm", help="tool alarms on the daemon: list, ack")
    alarms = alarm.add_subparsers(dest="alarm_subcommand", required=True, metavar="SUBCOMMAND")
    _leaf(alarms, "list", alarm_list, "alarms, oldest first").add_argument(
        "--active", action="store_true", help="only alarms not acknowledged yet"
    )
    _leaf(alarms, "ack", alarm_ack, "acknowledge an alarm").add_argument(
        "alarm_id", type=int, metavar="ID"
    )

    strip = commands.add_parser("strip", help="strips on the daemon: site maps")
    strips = strip.add_subparsers(dest="strip_subcommand", required=True, metavar="SUBCOMMAND")
    _leaf(strips, "map", strip_map, "a strip's site map per step, E142-style XML").add_argument(
        "strip_id", metavar="ID"
    )

    unit = commands.add_parser("unit", help="units on the daemon: genealogy")
    units = unit.add_subparsers(dest="unit_subcommand", required=True, metavar="SUBCOMMAND")
    _leaf(units, "show", unit_show, "a unit's genealogy: every step it went through").add_argument(
        "unit", type=_unit_ref, metavar="STRIP:SITE"
    )


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
    else:
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
