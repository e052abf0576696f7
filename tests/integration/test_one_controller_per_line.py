"""One controller per line: a second ``packline serve`` on the same SQLite database refuses to
start and names the running one; the lock dies with its process, so after kill -9 the next
daemon starts (and would recover the lots); daemons on different databases run side by side."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from tests.support.daemon_process import SimulatedDaemon, free_port

TOKEN = "test-token-lock"


def second_serve(db: Path, port: int) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "packline.cli", "serve", "--simulate", "--db", str(db)]
    command += ["--port", str(port), "--time-scale", "2000"]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PACKLINE_TOKEN": TOKEN},
    )


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_second_daemon_on_the_same_database_refuses_naming_the_running_one(
    tmp_path: Path,
) -> None:
    db = tmp_path / "line.db"
    first = SimulatedDaemon(db, TOKEN)
    try:
        port = free_port()
        refused = second_serve(db, port)
        assert refused.returncode == 2, refused.stderr
        message = refused.stderr
        assert "already run by another 'packline serve'" in message
        assert f"pid {first.process.pid}" in message
        assert f"host {socket.gethostname()}" in message
        assert first.url in message
        assert "Traceback" not in message
        assert port_is_free(port)  # it never served
        assert first.http.get("/health").status_code == 200  # the running one is untouched
    finally:
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=10)
        first.stop()
    # kill -9 left the lock file, not the lock: the next daemon on this database starts.
    after_crash = SimulatedDaemon(db, TOKEN)
    try:
        assert after_crash.http.get("/health").status_code == 200
    finally:
        assert after_crash.stop() == 0


def test_daemons_on_different_databases_run_side_by_side(tmp_path: Path) -> None:
    first = SimulatedDaemon(tmp_path / "a.db", TOKEN)
    try:
        second = SimulatedDaemon(tmp_path / "b.db", TOKEN)
        try:
            assert first.http.get("/health").status_code == 200
            assert second.http.get("/health").status_code == 200
        finally:
            assert second.stop() == 0
    finally:
        assert first.stop() == 0
