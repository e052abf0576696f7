"""One controller per line: a second ``packline serve`` on the same SQLite database refuses to
start and names the running one; the lock dies with its process, so after kill -9 the next
daemon starts (and would recover the lots); daemons on different databases run side by side."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

from tests.support.daemon_process import DaemonProcess, free_port, packline_env, serve_command

TOKEN = "test-token-lock"


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_second_daemon_on_the_same_database_refuses_naming_the_running_one(
    tmp_path: Path,
) -> None:
    db = tmp_path / "line.db"
    with DaemonProcess(db, TOKEN) as first:
        port = free_port()
        refused = subprocess.run(
            serve_command(db, port),
            capture_output=True,
            text=True,
            timeout=30,
            env=packline_env(TOKEN),
        )
        assert refused.returncode == 2, refused.stderr
        message = refused.stderr
        assert "already run by another 'packline serve'" in message
        assert f"pid {first.process.pid}" in message
        assert f"host {socket.gethostname()}" in message
        assert first.url in message
        assert "Traceback" not in message
        assert port_is_free(port)  # it never served
        assert first.http.get("/health").status_code == 200  # the running one is untouched
        first.kill()
        # kill -9 left the lock file, not the lock: the next daemon on this database starts.
        first.start()
        assert first.http.get("/health").status_code == 200


def test_daemons_on_different_databases_run_side_by_side(tmp_path: Path) -> None:
    with (
        DaemonProcess(tmp_path / "a.db", TOKEN) as first,
        DaemonProcess(tmp_path / "b.db", TOKEN) as second,
    ):
        assert first.http.get("/health").status_code == 200
        assert second.http.get("/health").status_code == 200
