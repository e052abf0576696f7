"""The ``packline`` command: one entry point for engineers, the dry run and the simulated line."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from packline import __version__
from packline.client.commands import add_client_commands, add_recipe_list

#: The process models' random seed when none is given, the same for every command.
DEFAULT_SEED = 1


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value:g}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def _port_or_none(text: str) -> int | str:
    """``--hsms-port``: a TCP port 1-65535, or ``none`` (no GEM even if the config has a port)."""
    if text.strip().lower() == "none":
        return "none"
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"give a port 1-65535 or 'none', got {text!r}")
    return port


#: ``dry-run --host-latency-ms`` default: packline.paced_link.DEFAULT_HOST_LATENCY_S in ms
#: (kept literal so that ``packline --help`` need not import the drivers; a unit test holds
#: the two equal).
DEFAULT_HOST_LATENCY_MS = 20.0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="packline",
        description="Equipment control for the IC package assembly line: drivers, simulators, dry runs.",
    )
    parser.add_argument("--version", action="version", version=f"packline {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (-vv: every exchange)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sim = commands.add_parser("sim", help="simulated tools for engineers and external controllers")
    sim_commands = sim.add_subparsers(dest="sim_command", required=True, metavar="SUBCOMMAND")
    serve = sim_commands.add_parser(
        "serve", help="serve the simulated line of a line config on loopback"
    )
    serve.add_argument(
        "--config", type=Path, default=None, help="line config (default configs/line.yaml)"
    )
    serve.add_argument(
        "--time-scale",
        type=_positive_float,
        default=1.0,
        help="sim seconds per wall second (default 1)",
    )
    serve.add_argument(
        "--endpoints",
        type=Path,
        default=None,
        help="write station -> {tool, address} JSON here once listening",
    )
    serve.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help=f"random seed of the process models (default {DEFAULT_SEED})",
    )
    serve.add_argument("--scenario", type=Path, default=None, help="fault scenario YAML to inject")
    serve.add_argument(
        "--max-lag-pct",
        type=_non_negative_float,
        default=None,
        metavar="PCT",
        help="at the end, exit 1 if the tools' events came later than this share of the time "
        "served, in all (default: a dry run's limit, 2)",
    )

    daemon = commands.add_parser(
        "serve", help="run the line controller daemon (HTTP API, SQLite store)"
    )
    daemon.add_argument(
        "--config", type=Path, default=None, help="line config (default configs/line.yaml)"
    )
    daemon.add_argument(
        "--db",
        default=os.environ.get("PACKLINE_DB", "packline.db"),
        help="SQLite file or sqlite:///PATH, or postgresql://USER@HOST/DB shared by a plant's "
        "lines (default $PACKLINE_DB, else packline.db; the token file beside a file)",
    )
    daemon.add_argument(
        "--line", default=None, help="line name (default: the line config's 'line')"
    )
    daemon.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    daemon.add_argument(
        "--port", type=int, default=8765, help="HTTP port (default 8765; 0: any free port)"
    )
    where = daemon.add_mutually_exclusive_group()
    where.add_argument(
        "--endpoints",
        type=Path,
        default=None,
        help="endpoints file written by 'packline sim serve'",
    )
    where.add_argument(
        "--simulate", action="store_true", help="start a simulated line in this process"
    )
    daemon.add_argument(
        "--time-scale",
        type=_positive_float,
        default=1.0,
        help="time scale of the (simulated) line (default 1)",
    )
    daemon.add_argument(
        "--token-file",
        type=Path,
        default=None,
        help="token file (default <db>.token; PACKLINE_TOKEN wins)",
    )
    daemon.add_argument(
        "--hsms-port",
        type=_port_or_none,
        default=None,
        help="SECS/GEM: HSMS-SS passive port on --host for the factory host (default: the "
        "line config's gem.port; none: no GEM)",
    )

    daemon.add_argument(
        "--mqtt",
        default=os.environ.get("PACKLINE_MQTT"),
        help="publish the line's events to the MQTT broker mqtt://HOST:PORT (default "
        "$PACKLINE_MQTT, else the line config's mqtt.url; none: no MQTT)",
    )

    diagram = commands.add_parser("diagram", help="print a state machine as Mermaid, from the code")
    diagram.add_argument("machine", choices=["station"], help="which machine (station: PackML)")

    recipe = commands.add_parser("recipe", help="master recipes (configs/recipes/)")
    recipe_commands = recipe.add_subparsers(
        dest="recipe_command", required=True, metavar="SUBCOMMAND"
    )
    recipe_check = recipe_commands.add_parser(
        "check", help="validate recipes and print each route sheet, or every problem (exit 2)"
    )
    recipe_check.add_argument(
        "files", nargs="+", metavar="NAME|FILE", help="recipe name (configs/recipes) or YAML file"
    )
    add_recipe_list(recipe_commands)

    dry = commands.add_parser("dry-run", help="run a lot through the simulated line and report")
    dry.add_argument(
        "--recipe",
        default=None,
        metavar="NAME|FILE",
        help="master recipe: name in configs/recipes or YAML file (default: heat-slug-die-equal)",
    )
    dry.add_argument("--strips", type=int, default=20, help="strips in the lot (default 20)")
    dry.add_argument(
        "--time-scale",
        type=_positive_float,
        default=None,
        help="run wall-scaled at N sim seconds per wall second (default: the virtual clock)",
    )
    dry.add_argument(
        "--host-latency-ms",
        type=_non_negative_float,
        default=None,
        metavar="MS",
        help="virtual clock: tool time the host spends per message it sends "
        f"(default {DEFAULT_HOST_LATENCY_MS:g}, a line controller's reaction; 0 for none)",
    )
    dry.add_argument("--scenario", type=Path, default=None, help="fault scenario YAML to inject")
    dry.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help=f"random seed of the process models (default {DEFAULT_SEED})",
    )
    dry.add_argument(
        "--config", type=Path, default=None, help="line config (default configs/line.yaml)"
    )
    dry.add_argument(
        "--report-dir",
        type=Path,
        default=Path("reports"),
        help="where the lot report folder goes (default reports/)",
    )
    dry.add_argument("--lot-id", default=None, help="lot id (default DR<month day time>)")

    plant = commands.add_parser("plant", help="the plant database the line daemons share")
    plant_commands = plant.add_subparsers(dest="plant_command", required=True, metavar="SUBCOMMAND")
    plant_status = plant_commands.add_parser(
        "status", help="every line's stations and lots, read from the plant database"
    )
    plant_status.add_argument(
        "--db",
        default=os.environ.get("PACKLINE_DB"),
        required="PACKLINE_DB" not in os.environ,
        help="postgresql://USER@HOST/DB or an SQLite file (default $PACKLINE_DB)",
    )

    add_client_commands(commands)  # lot, station, alarm, unit: clients of 'packline serve'
    from packline.users_cli import add_user_commands

    add_user_commands(commands)  # user add|list|token: accounts in the daemon's database
    _verbose_after_subcommands(parser)
    return parser


def _verbose_after_subcommands(parser: argparse.ArgumentParser) -> None:
    """Accept ``-v`` after any subcommand too (``packline dry-run -v``), as before it."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):  # aliases share a parser
                if not any("-v" in a.option_strings for a in sub._actions):
                    sub.add_argument(
                        "-v",
                        "--verbose",
                        action="count",
                        default=argparse.SUPPRESS,
                        help="more log output (-vv: every exchange)",
                    )
                _verbose_after_subcommands(sub)


#: Exit status of a command whose reader went away (``packline ... | head -1``), as a tool
#: killed by SIGPIPE reports it in a shell: 128 + 13.
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``packline`` command; its exit status. A closed pipe ends it quietly."""
    try:
        code = _main(argv)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return code
    except BrokenPipeError:
        # Python would print a traceback, then fail again flushing stdout at exit: point
        # stdout at /dev/null so the exit is quiet (the Python docs' recipe for SIGPIPE).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    if args.command == "serve":
        level = min(level, logging.INFO)  # the daemon logs one structured line per event
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.verbose < 2:
        # pymodbus logs every timed-out request with a packet dump at ERROR; the drivers turn
        # those into the suite's own errors, which the lot report records.
        logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
        logging.getLogger("communication").setLevel(logging.WARNING)  # secsgem: every SECS message
    logging.getLogger("transitions").setLevel(logging.WARNING)  # one line per callback otherwise
    from packline.daemon.auth import TokenError
    from packline.daemon.line_lock import LineLocked
    from packline.store.store import StoreError
    from sequences.config_errors import ConfigError
    from sim.scenario import ScenarioError

    try:
        if getattr(args, "client_command", None) is not None:
            from packline.client.commands import run as run_client

            return run_client(args)
        if args.command == "user":
            from packline.users_cli import run_user_command

            return run_user_command(args)
        if args.command == "sim":
            from packline.sim_serve import serve_line

            return serve_line(
                args.config,
                time_scale=args.time_scale,
                endpoints_path=args.endpoints,
                seed=args.seed,
                scenario_path=args.scenario,
                **({} if args.max_lag_pct is None else {"max_lag_pct": args.max_lag_pct}),
            )
        if args.command == "serve":
            from packline.daemon.serve import database_path, serve_daemon

            return serve_daemon(
                config_path=args.config,
                db_path=database_path(args.db),
                host=args.host,
                port=args.port,
                endpoints_path=args.endpoints,
                simulate=args.simulate,
                time_scale=args.time_scale,
                token_file=args.token_file,
                hsms_port=args.hsms_port,
                line=args.line,
                mqtt_url=args.mqtt,
            )
        if args.command == "plant":
            from packline.daemon.serve import database_path
            from packline.plant_status import plant_status

            print(plant_status(str(database_path(args.db))), end="")
            return 0
        if args.command == "diagram":
            from sequences.station_machine import mermaid_diagram

            print(mermaid_diagram())
            return 0
        if args.command == "recipe":
            from packline.recipe_check import check_recipes

            return check_recipes(args.files)
        if args.command == "dry-run":
            from packline.dry_run import run_dry_run

            if not 1 <= args.strips <= 1000:
                print(f"packline: --strips must be 1..1000, got {args.strips}", file=sys.stderr)
                return 2
            if args.host_latency_ms is not None and args.time_scale is not None:
                print(
                    "packline: --host-latency-ms models the host on the virtual clock; "
                    "a --time-scale run pays its real latency (use one or the other)",
                    file=sys.stderr,
                )
                return 2
            latency_ms = DEFAULT_HOST_LATENCY_MS
            if args.host_latency_ms is not None:
                latency_ms = args.host_latency_ms
            return run_dry_run(
                recipe_path=args.recipe,
                strips=args.strips,
                time_scale=args.time_scale,
                seed=args.seed,
                scenario_path=args.scenario,
                config_path=args.config,
                report_dir=args.report_dir,
                lot_id=args.lot_id,
                host_latency_s=latency_ms / 1000.0,
            )
    except (ConfigError, ScenarioError, TokenError, LineLocked, StoreError) as exc:
        print(f"packline: {exc}", file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":
    sys.exit(main())
