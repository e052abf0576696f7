"""``packline sim serve`` exits non-zero with the reason when an endpoint can no longer serve.

The fault is made from outside the simulator process, the way a real one happens: the test takes
a duplicate of the tool's listening socket out of the running process (``pidfd_getfd``, Linux
5.6+, allowed for a parent on its own child) and shuts it down, so the simulator's next
``accept`` fails exactly as on a socket the kernel has torn down.
"""

from __future__ import annotations

import ctypes
import os
import re
import socket
from pathlib import Path

import pytest

from tests.integration.test_cli_sim_serve import sim_serve, wait_for_file

SYS_PIDFD_GETFD = 438  # the same number on x86-64 and aarch64


def listening_socket_fd(pid: int, port: int) -> int:
    """The fd number, inside process ``pid``, of its socket listening on 127.0.0.1:``port``."""
    inodes = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "0A":  # 0A: LISTEN
                inodes.add(fields[9])
    assert inodes, f"nothing listens on port {port} in process {pid}"
    for entry in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(entry)
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            return int(entry.name)
    raise AssertionError(f"no fd of process {pid} is the listener on port {port}")


def shut_down_socket_in(pid: int, fd: int) -> None:
    """Shut down socket ``fd`` of process ``pid`` (a shared socket: the process sees it too)."""
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(pid)
    try:
        ours = libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
        if ours < 0:
            pytest.skip(f"pidfd_getfd refused here (errno {ctypes.get_errno()})")
        with socket.socket(fileno=ours) as duplicate:
            duplicate.shutdown(socket.SHUT_RDWR)
    finally:
        os.close(pidfd)


@pytest.mark.parametrize(
    ("tool", "family"), [("die-bonder", "SCPI over TCP"), ("mold-press", "Modbus TCP")]
)
def test_sim_serve_exits_1_naming_the_station_when_its_listening_socket_dies(
    tmp_path: Path, tool: str, family: str
) -> None:
    config = tmp_path / "line.yaml"
    config.write_text(
        f"line: test\nstations:\n  - {{name: victim, tool: {tool}}}\n"
        "  - {name: press, tool: mold-press}\n"
    )
    endpoints = tmp_path / "e.json"
    with sim_serve("--config", str(config), "--endpoints", str(endpoints)) as process:
        served = wait_for_file(endpoints, process)
        match = re.search(r"127\.0\.0\.1\D+(\d+)", served["victim"]["address"])
        assert match is not None, served["victim"]["address"]
        shut_down_socket_in(process.pid, listening_socket_fd(process.pid, int(match.group(1))))
        _, err = process.communicate(timeout=20)
        assert process.returncode == 1, f"{family}: {err}"
        assert "simulated line stopped: station victim:" in err
        assert "listener" in err
