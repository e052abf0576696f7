"""``packline serve``: the line controller daemon.

It connects to the stations of the line config (real tools at their configured addresses; or
a simulated line: ``--endpoints FILE`` from ``packline sim serve``, or ``--simulate`` in
process), runs the lots it is given and resumes the unfinished ones, persists everything in
SQLite, and serves the HTTP API until SIGTERM/SIGINT, when it stops gracefully and exits 0.
"""

from __future__ import annotations

import json
import logging
import re
import signal
import sys
import threading
from pathlib import Path

from packline.daemon.auth import server_token
from packline.daemon.controller import LineController
from packline.daemon.line_lock import LineLock
from packline.gem.front import GemFront
from packline.gem.settings import gem_settings
from packline.lot_reports import LotReports
from packline.store import Store
from packline.store.users import Users
from packline.web.server import WebServer
from sequences.config_errors import ConfigError
from sequences.line_config import load_line_config
from sim.line import SimulatedLine, StationSim

log = logging.getLogger("packline.daemon")

#: The database URL schemes ``--db`` accepts besides a plain file path (packline serves SQLite only).
DB_SCHEMES = ("sqlite",)
_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<rest>.*)$")


def database_path(text: str) -> Path:
    """The SQLite file of ``--db``: a path, or ``sqlite:///PATH``. Any other URL (``postgresql://...``)
    is refused rather than taken as a file name, which would create ``postgresql:/...`` here."""
    match = _URL.match(text)
    if match is None:
        return Path(text)
    scheme = match["scheme"].lower()
    if scheme == "sqlite" and match["rest"].startswith("/") and len(match["rest"]) > 1:
        return Path(match["rest"][1:])  # sqlite:///rel/path, sqlite:////abs/path
    served = ", ".join(f"{s}:///PATH" for s in DB_SCHEMES)
    raise ConfigError(
        "--db",
        [f"{text!r}: packline serves SQLite only; give a file path or {served} (not {scheme}://)"],
    )


def station_addresses(config_path: Path | None, endpoints_path: Path | None) -> dict[str, str]:
    """Addresses by station: from an endpoints file, else from the config; every station needs one."""
    config = load_line_config(config_path)
    names = [s.name for s in config.expanded()]
    if endpoints_path is not None:
        try:
            endpoints = json.loads(endpoints_path.read_text())
            addresses = {
                name: str(endpoints[name]["address"]) for name in names if name in endpoints
            }
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                str(endpoints_path), [f"not an endpoints file of 'packline sim serve' ({exc})"]
            ) from exc
        source = str(endpoints_path)
    else:
        addresses = {s.name: s.address for s in config.expanded() if s.address}
        source = str(config_path or "configs/line.yaml")
    missing = [n for n in names if n not in addresses]
    if missing:
        raise ConfigError(
            source,
            [
                f"station {n} has no address (give --endpoints FILE from 'packline sim serve', or --simulate)"
                for n in missing
            ],
        )
    return addresses


def serve_daemon(
    *,
    config_path: Path | None,
    db_path: Path,
    host: str,
    port: int,
    endpoints_path: Path | None,
    simulate: bool,
    time_scale: float,
    token_file: Path | None,
    hsms_port: int | None = None,
) -> int:
    config = load_line_config(config_path)
    gem = gem_settings(config.gem, str(config_path or "configs/line.yaml"), port=hsms_port)
    line_lock = LineLock(db_path).acquire()  # before anything touches the database or a tool
    simulated: SimulatedLine | None = None
    if simulate:
        stations = [StationSim(s.name, s.tool, s.sim) for s in config.expanded()]
        simulated = SimulatedLine(stations, time_scale=time_scale).start()
        addresses = {s.name: simulated.address(s.name) for s in config.expanded()}
    else:
        addresses = station_addresses(config_path, endpoints_path)
    store = Store(db_path)
    token = server_token(db_path, token_file)
    controller = LineController(
        config=config, store=store, addresses=addresses, time_scale=time_scale
    )
    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    front: GemFront | None = None
    try:
        controller.start()
        if gem.port is not None:  # SECS/GEM for the factory host, only when asked for
            front = GemFront(controller, gem, host=host)
            try:
                front.start()
            except OSError as exc:
                print(f"packline serve: {exc}", file=sys.stderr, flush=True)
                controller.stop()
                return 2
            print(f"packline serve: HSMS-SS passive on {host}:{gem.port}", flush=True)
        server = WebServer(
            controller,
            host=host,
            port=port,
            token=token,
            users=Users(store),
            lot_reports=LotReports(store, config, time_scale=time_scale),
        )
        server.start()
        line_lock.announce(server.url)
        print(f"packline serve: listening on {server.url} (database {db_path})", flush=True)
        stop.wait()
        log.info(
            "stopping: no new cycles; running ones are left to their tools and reconciled at the next start"
        )
        server.stop()
        if front is not None:
            front.stop()
        controller.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        store.close()
        if simulated is not None:
            simulated.stop()
        line_lock.release()
    print("packline serve: stopped", flush=True)
    return 0
