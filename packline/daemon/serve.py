"""``packline serve``: the line controller daemon.

It connects to the stations of the line config (real tools at their configured addresses; or
a simulated line: ``--endpoints FILE`` from ``packline sim serve``, or ``--simulate`` in
process), runs the lots it is given and resumes the unfinished ones, persists everything in
SQLite (a file, the embedded default) or PostgreSQL (one database for a plant's lines), and serves the HTTP API until SIGTERM/SIGINT, when it stops gracefully and exits 0.
"""

from __future__ import annotations

import json
import logging
import re
import signal
import threading
from pathlib import Path

from packline.daemon.auth import server_token
from packline.daemon.controller import LineController
from packline.lot_reports import LotReports
from packline.store import Store
from packline.store.users import Users
from packline.web.server import WebServer
from sequences.config_errors import ConfigError
from sequences.line_config import load_line_config
from sim.line import SimulatedLine, StationSim

log = logging.getLogger("packline.daemon")

#: The database URL schemes ``--db`` accepts besides a plain file path.
DB_SCHEMES = ("sqlite:///PATH", "postgresql://USER@HOST/DB")
_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<rest>.*)$")


def database_path(text: str) -> Path | str:
    """The store of ``--db``: an SQLite file (a path, or ``sqlite:///PATH``) as a Path, or a
    ``postgresql://`` URL as it is. Any other URL is refused rather than taken as a file name,
    which would create ``mysql:/...`` here."""
    match = _URL.match(text)
    if match is None:
        return Path(text)
    scheme = match["scheme"].lower()
    if scheme == "sqlite" and match["rest"].startswith("/") and len(match["rest"]) > 1:
        return Path(match["rest"][1:])  # sqlite:///rel/path, sqlite:////abs/path
    if scheme in ("postgresql", "postgres") and match["rest"]:
        return text
    served = ", ".join(DB_SCHEMES)
    raise ConfigError("--db", [f"{text!r}: give a file path, {served} (not {scheme}://)"])


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
    db_path: Path | str,
    host: str,
    port: int,
    endpoints_path: Path | None,
    simulate: bool,
    time_scale: float,
    token_file: Path | None,
    line: str | None = None,
) -> int:
    config = load_line_config(config_path)
    if line is not None:
        config = config.model_copy(update={"line": line})
    store = Store(db_path, line=config.line)
    try:
        store.claim_line()
    except BaseException:
        store.close()
        raise
    simulated: SimulatedLine | None = None
    if simulate:
        stations = [StationSim(s.name, s.tool, s.sim) for s in config.expanded()]
        simulated = SimulatedLine(stations, time_scale=time_scale).start()
        addresses = {s.name: simulated.address(s.name) for s in config.expanded()}
    else:
        addresses = station_addresses(config_path, endpoints_path)
    if isinstance(db_path, str) and token_file is None:
        token_file = Path(f"{config.line}.token")  # no file beside a server database
    token = server_token(Path(db_path), token_file)
    controller = LineController(
        config=config, store=store, addresses=addresses, time_scale=time_scale
    )
    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        controller.start()
        server = WebServer(
            controller,
            host=host,
            port=port,
            token=token,
            users=Users(store),
            lot_reports=LotReports(store, config, time_scale=time_scale),
        )
        server.start()
        print(
            f"packline serve: line {config.line} listening on {server.url} (database {store.path})",
            flush=True,
        )
        stop.wait()
        log.info(
            "stopping: no new cycles; running ones are left to their tools and reconciled at the next start"
        )
        server.stop()
        controller.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        store.close()
        if simulated is not None:
            simulated.stop()
    print("packline serve: stopped", flush=True)
    return 0
