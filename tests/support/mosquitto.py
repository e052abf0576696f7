"""A mosquitto broker on a free loopback port in a temporary folder, for the MQTT tests: a test
may stop it (SIGTERM: it saves its persistence file) and start it again on the same port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.support.daemon_process import free_port
from tests.support.system_binaries import require_binary

START_TIMEOUT_S = 5.0
STOP_TIMEOUT_S = 5.0


class Mosquitto:
    """One mosquitto process on 127.0.0.1:``port``, keeping its state in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.binary = require_binary("mosquitto", "mosquitto", search=("/usr/sbin",))
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"mqtt://127.0.0.1:{self.port}"
        self.log_path = folder / "mosquitto.log"
        self._process: subprocess.Popen[bytes] | None = None
        self.config = folder / "mosquitto.conf"
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            # Persistent sessions and retained messages survive a restart of the broker.
            "persistence true",
            f"persistence_location {folder}/",
            "log_dest stderr",
        ]
        if os.geteuid() == 0:
            lines.append("user root")  # else it drops to a 'mosquitto' user who cannot write here
        self.config.write_text("\n".join(lines) + "\n")

    def start(self) -> Mosquitto:
        """Start the broker and wait until its port accepts connections."""
        log = self.log_path.open("a")
        self._process = subprocess.Popen(
            [self.binary, "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"mosquitto did not start:\n{self.log_path.read_text()}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"mosquitto not listening after {START_TIMEOUT_S} s")

    def stop(self) -> None:
        """End the broker (bounded; SIGKILL if SIGTERM is not enough)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)
