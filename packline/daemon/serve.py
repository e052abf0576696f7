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
import sys
import threading
from pathlib import Path
from typing import Literal

from packline.daemon.auth import server_token
from packline.daemon.controller import LineController
from packline.daemon.line_lock import LineLock
from packline.daemon.stop_watchdog import StopWatchdog
from packline.gem.front import GemFront
from packline.gem.settings import gem_settings
from packline.lot_reports import LotReports
from packline.mqtt.front import MqttFront
from packline.mqtt.settings import mqtt_settings
from packline.store import Store
from packline.store.postgres import is_postgres_url
from packline.store.users import Users
from packline.web.server import WebServer
from sequences.config_errors import ConfigError
from sequences.line_config import load_line_config
from sim.line import SimulatedLine, StationSim

log = logging.getLogger("packline.daemon")

#: The database URL schemes ``--db`` accepts besides a plain file path.
DB_SCHEMES = ("sqlite:///PATH", "postgresql://USER@HOST/DB")
#: Wall seconds a graceful stop may take before the process ends anyway (stacks logged).
STOP_BUDGET_S = 20.0
#: How often the main thread looks whether a stop signal came (see the wait in serve_daemon).
STOP_CHECK_S = 0.2
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
    hsms_port: int | Literal["none"] | None = None,
    line: str | None = None,
    mqtt_url: str | None = None,
) -> int:
    config = load_line_config(config_path)
    if line is not None:
        config = config.model_copy(update={"line": line})
    gem = gem_settings(config.gem, str(config_path or "configs/line.yaml"), port=hsms_port)
    mqtt = mqtt_settings(
        config.mqtt, str(config_path or "configs/line.yaml"), url=mqtt_url, line=config.line
    )
    # One daemon per SQLite file (the lock names the running one); per line on PostgreSQL
    # (an advisory lock taken by claim_line). Both before anything touches a tool.
    line_lock = None if is_postgres_url(str(db_path)) else LineLock(Path(db_path)).acquire()
    store = Store(db_path, line=config.line)
    try:
        store.claim_line()
    except BaseException:
        store.close()
        if line_lock is not None:
            line_lock.release()
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
    front: GemFront | None = None
    watchdog: StopWatchdog | None = None
    # MQTT from before the controller starts, so stations' first states are published too.
    plant = MqttFront(controller, mqtt) if mqtt.url else None
    try:
        if plant is not None:
            plant.start()
            print(f"packline serve: publishing to MQTT broker {mqtt.url}", flush=True)
        controller.start()
        if plant is not None:
            plant.publish_stations("daemon started")
        if gem.port is not None:  # SECS/GEM for the factory host, only when asked for
            front = GemFront(controller, gem, host=host)
            try:
                front.start()
            except OSError as exc:
                print(f"packline serve: {exc}", file=sys.stderr, flush=True)
                controller.stop()
                if plant is not None:
                    plant.stop()
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
        if line_lock is not None:
            line_lock.announce(server.url)
        print(
            f"packline serve: line {config.line} listening on {server.url} (database {store.path})",
            flush=True,
        )
        # Woken now and then: Python runs a signal's handler only in the main thread, and a
        # SIGTERM the kernel gave another thread does not interrupt an untimed wait here (the
        # daemon finished a whole lot once with the handler never run).
        while not stop.wait(STOP_CHECK_S):
            pass
        watchdog = StopWatchdog(STOP_BUDGET_S).start()
        log.info(
            "stopping: no new cycles; running ones are left to their tools and reconciled at the next start"
        )
        server.stop()
        if front is not None:
            front.stop()
        controller.stop()
        if plant is not None:
            plant.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        store.close()
        if simulated is not None:
            simulated.stop()
        if line_lock is not None:
            line_lock.release()
    if watchdog is not None:
        watchdog.finished()
    print("packline serve: stopped", flush=True)
    return 0
