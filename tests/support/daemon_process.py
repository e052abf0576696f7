"""A real ``packline serve`` process on a free port with its own database, for a ``with`` block:
on a simulated line of its own (``--simulate``) or on the tools of a ``packline sim serve``
(``--endpoints``, see :func:`sim_serve_process`). Each is always stopped and reaped: SIGTERM,
then killed after a bound, saying so."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from packline.vocabulary import FINISHED_LOT_STATUSES

PACKLINE = [sys.executable, "-m", "packline.cli"]
#: The time scale of a daemon unless a test says otherwise.
TIME_SCALE = 2000.0
START_TIMEOUT_S = 30.0
#: How long a process gets to end on SIGTERM, and then on SIGABRT (its threads' stacks).
STOP_TIMEOUT_S = 30.0
ABORT_TIMEOUT_S = 10.0
LOG_TAIL_CHARS = 4000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process(process: subprocess.Popen[Any], log_path: Path) -> int:
    """End ``process`` (SIGTERM) and reap it; its exit status. One still running after
    ``STOP_TIMEOUT_S`` gets SIGABRT (with ``PYTHONFAULTHANDLER`` set it writes every thread's
    stack to ``log_path``), then SIGKILL, and the test fails saying so, with the log's end."""
    if process.poll() is not None:
        return int(process.returncode)
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)
    try:
        process.wait(timeout=ABORT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=ABORT_TIMEOUT_S)
    raise AssertionError(
        f"process {process.pid} ({process.args!r}) did not stop within"
        f" {STOP_TIMEOUT_S} s of SIGTERM and was killed; {log_path.name} ends:\n"
        + log_path.read_text()[-LOG_TAIL_CHARS:]
    )


@contextmanager
def sim_serve_process(folder: Path, *options: str) -> Iterator[Path]:
    """``packline sim serve`` with ``options`` for a ``with`` block, logging to folder/sim.log:
    its endpoints file (folder/endpoints.json) once written. It must stop with status 0."""
    endpoints, log_path = folder / "endpoints.json", folder / "sim.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*PACKLINE, "sim", "serve", "--endpoints", str(endpoints), *options],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=packline_env(),
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not endpoints.exists():
            assert process.poll() is None, f"packline sim serve ended:\n{log_path.read_text()}"
            assert time.monotonic() < deadline, "packline sim serve wrote no endpoints file"
            time.sleep(0.05)
        yield endpoints
    finally:
        status = stop_process(process, log_path)
    assert status == 0, (
        f"packline sim serve exited {status}:\n{log_path.read_text()[-LOG_TAIL_CHARS:]}"
    )


def serve_command(
    db: Path | str,
    port: int,
    *,
    endpoints: Path | None = None,
    time_scale: float = TIME_SCALE,
    line: str | None = None,
    extra: tuple[str, ...] = (),
) -> list[str]:
    """``packline serve`` on ``db`` and 127.0.0.1:``port``, driving the tools of ``endpoints``
    or, if None, a simulated line in its own process; ``extra``: more options (``--mqtt URL``)."""
    tools = ["--simulate"] if endpoints is None else ["--endpoints", str(endpoints)]
    command = [*PACKLINE, "serve", *tools, "--db", str(db), "--port", str(port)]
    command += ["--time-scale", str(time_scale), *extra]
    return command + (["--line", line] if line is not None else [])


def packline_env(token: str | None = None) -> dict[str, str]:
    """The environment of a packline process, with API token ``token`` if given; with
    ``PYTHONFAULTHANDLER``, SIGABRT makes it write every thread's stack (see
    :func:`stop_process`)."""
    token_variable = {} if token is None else {"PACKLINE_TOKEN": token}
    return {**os.environ, "PYTHONFAULTHANDLER": "1", **token_variable}


class DaemonProcess:
    """One ``packline serve`` process (see :func:`serve_command` for the options), started at
    once and answering ``/health``; its output goes to a log of its own in ``log_dir`` (by
    default beside an SQLite ``db``). :meth:`kill` and :meth:`start` crash and restart it on
    the same database (on a new port). Leaving the ``with`` block stops it; one the block left
    running must then exit 0."""

    def __init__(
        self,
        db: Path | str,
        token: str,
        *,
        endpoints: Path | None = None,
        time_scale: float = TIME_SCALE,
        line: str | None = None,
        log_dir: Path | None = None,
        extra: tuple[str, ...] = (),
    ) -> None:
        if log_dir is None:
            assert isinstance(db, Path), "a daemon on a server database needs a log_dir"
            log_dir = db.parent
        self.db, self.token, self.log_dir = db, token, log_dir
        self._command = partial(
            serve_command, db, endpoints=endpoints, time_scale=time_scale, line=line, extra=extra
        )
        self.start()

    def start(self) -> None:
        """Start the process on a free port and wait until it answers ``/health``."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.log_dir / f"serve.{self.port}.log"
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                self._command(self.port),
                stdout=log,
                stderr=subprocess.STDOUT,
                env=packline_env(self.token),
            )
        self.http = httpx.Client(base_url=self.url, timeout=10, trust_env=False)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                if self.http.get("/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()  # a daemon that did not start must not outlive its test
                raise RuntimeError(f"packline serve did not start:\n{self.log()}")
            time.sleep(0.05)

    def post(self, path: str, body: object = None, *, token: str | None = None) -> httpx.Response:
        """POST ``body`` as JSON with the daemon's token (or ``token``)."""
        return self.http.post(path, json=body, headers=self.auth(token))

    def auth(self, token: str | None = None) -> dict[str, str]:
        """The Authorization header with the daemon's token (or ``token``)."""
        return {"Authorization": f"Bearer {token or self.token}"}

    def wait_lot(self, lot_id: str, timeout_s: float, status: str = "complete") -> dict[str, Any]:
        """The lot once the daemon reports it ``status``; fails at once if it finishes
        otherwise, or after ``timeout_s`` naming the status it is stuck in."""
        deadline = time.monotonic() + timeout_s
        while True:
            answer = self.http.get(f"/lots/{lot_id}")
            assert answer.status_code == 200, answer.text
            lot = dict(answer.json())
            if lot["status"] == status:
                return lot
            assert lot["status"] not in FINISHED_LOT_STATUSES, lot
            assert time.monotonic() < deadline, f"lot {lot_id} still {lot['status']}"
            time.sleep(0.1)

    def kill(self) -> None:
        """kill -9 (a crash), and reap it."""
        self.http.close()
        self.process.kill()
        self.process.wait(timeout=ABORT_TIMEOUT_S)

    def stop(self) -> int:
        """SIGTERM, bounded (see :func:`stop_process`); the exit status."""
        self.http.close()
        return stop_process(self.process, self.log_path)

    @property
    def returncode(self) -> int | None:
        return self.process.poll()

    def log(self) -> str:
        """What the process has written so far."""
        return self.log_path.read_text()

    def __enter__(self) -> DaemonProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        running = self.process.poll() is None
        status = self.stop()
        if exc_type is None and running:
            assert status == 0, f"exit status {status} on SIGTERM:\n{self.log()[-LOG_TAIL_CHARS:]}"
