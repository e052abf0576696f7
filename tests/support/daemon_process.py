"""A real ``packline serve --simulate`` process on a free port, with its own database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

START_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SimulatedDaemon:
    """``packline serve --simulate`` (a simulated line in the daemon's process) for a block."""

    def __init__(
        self,
        db: Path | str,
        token: str,
        *,
        time_scale: float = 2000,
        line: str | None = None,
        log_path: Path | None = None,
        extra: tuple[str, ...] = (),
    ) -> None:
        """``extra``: more arguments of ``packline serve`` (``--mqtt URL``)."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = token
        if log_path is None:
            assert isinstance(db, Path), "a daemon on a server database needs a log_path"
            log_path = db.with_suffix(".log")
        self.log_path = log_path
        command = [sys.executable, "-m", "packline.cli", "serve", "--simulate", "--db", str(db)]
        command += ["--port", str(self.port), "--time-scale", str(time_scale), *extra]
        command += ["--line", line] if line is not None else []
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            command,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PACKLINE_TOKEN": token},
        )
        self.http = httpx.Client(base_url=self.url, timeout=10, trust_env=False)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                if self.http.get("/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the daemon did not start:\n{self.log_path.read_text()}")
            time.sleep(0.05)

    def post(self, path: str, body: object = None, token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return self.http.post(path, json=body, headers=headers)

    def stop(self) -> int:
        self.http.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()
        return int(self.process.returncode)

    def log(self) -> str:
        return self.log_path.read_text()
