"""A ser2net serial device server in front of a simulator's pty, as an edge host on the floor,
listening on a free loopback port in RFC 2217 (``telnet(rfc2217)``) or raw TCP mode."""

from __future__ import annotations

import socket
import subprocess
import time

from tests.support.daemon_process import free_port
from tests.support.system_binaries import require_binary

START_TIMEOUT_S = 5.0


class Ser2net:
    """One ser2net process serving ``device`` at ``address`` (``rfc2217://`` or ``socket://``)."""

    def __init__(self, device: str, *, mode: str, baud: int = 115200) -> None:
        if mode not in ("rfc2217", "raw"):
            raise ValueError(f"mode {mode!r} is not rfc2217 or raw")
        self.binary = require_binary("ser2net", "ser2net")
        self.device = device
        self.mode = mode
        self.baud = baud
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        scheme = "rfc2217" if self.mode == "rfc2217" else "socket"
        # A pty has no modem lines: ser2net leaves RFC 2217 SET-CONTROL (DTR/RTS) unanswered.
        query = "?ign_set_control" if self.mode == "rfc2217" else ""
        return f"{scheme}://127.0.0.1:{self.port}{query}"

    def _config(self) -> str:
        accepter = "telnet(rfc2217),tcp" if self.mode == "rfc2217" else "tcp"
        return (
            "connection: &edge#"
            f"  accepter: {accepter},127.0.0.1,{self.port}#"
            f"  connector: serialdev,{self.device},{self.baud}n81,local#"
            "  options:#"
            "    kickolduser: true#"
        )

    def start(self) -> Ser2net:
        """Start ser2net and wait until its port accepts connections."""
        self._process = subprocess.Popen(
            [self.binary, "-n", "-u", "-Y", self._config()],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                error = self._process.stderr.read().decode() if self._process.stderr else ""
                raise RuntimeError(f"ser2net exited at start: {error.strip()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"ser2net did not listen on port {self.port} within {START_TIMEOUT_S} s")

    def cut(self) -> None:
        """Kill the server (SIGKILL): every client connection drops at once."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=START_TIMEOUT_S)
            self._process = None

    def restore(self) -> None:
        """Start the server again on the same port."""
        self.start()

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=START_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=START_TIMEOUT_S)
            self._process = None

    def __enter__(self) -> Ser2net:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
