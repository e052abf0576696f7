"""The ``packline`` command: one entry point for engineers, the dry run and the simulated line."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from packline import __version__


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value:g}")
    return value


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
        "--seed", type=int, default=0, help="random seed of the process models (default 0)"
    )
    serve.add_argument("--scenario", type=Path, default=None, help="fault scenario YAML to inject")

    diagram = commands.add_parser("diagram", help="print a state machine as Mermaid, from the code")
    diagram.add_argument("machine", choices=["station"], help="which machine (station: PackML)")

    dry = commands.add_parser("dry-run", help="run a strip through the simulated line and report")
    dry.add_argument(
        "--time-scale",
        type=_positive_float,
        default=1000.0,
        help="sim seconds per wall second (default 1000)",
    )
    dry.add_argument(
        "--seed", type=int, default=1, help="random seed of the process models (default 1)"
    )
    dry.add_argument(
        "--strip-id", default="LA2611-001", help="id of the simulated strip (default LA2611-001)"
    )
    dry.add_argument("--scenario", type=Path, default=None, help="fault scenario YAML to inject")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from sequences.config_errors import ConfigError
    from sim.scenario import ScenarioError

    try:
        if args.command == "sim":
            from packline.sim_serve import serve_line

            return serve_line(
                args.config,
                time_scale=args.time_scale,
                endpoints_path=args.endpoints,
                seed=args.seed,
                scenario_path=args.scenario,
            )
        if args.command == "diagram":
            from sequences.station_machine import mermaid_diagram

            print(mermaid_diagram())
            return 0
        if args.command == "dry-run":
            from packline.dry_run import run_dry_run

            return run_dry_run(
                time_scale=args.time_scale,
                seed=args.seed,
                strip_id=args.strip_id,
                scenario_path=args.scenario,
            )
    except (ConfigError, ScenarioError) as exc:
        print(f"packline: {exc}", file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":
    sys.exit(main())
