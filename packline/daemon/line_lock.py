"""One controller per line on SQLite: an OS lock on a file beside the database.

``packline serve`` takes an exclusive ``flock`` on ``<database>.lock`` for the life of the
process and writes who holds it (pid, host, HTTP address) into the file. A second daemon on the
same database finds the lock taken and refuses to start, naming the running one. The OS drops
the lock when the holder's process ends however it ends (kill -9 included), so crash recovery
needs no stale-lock clean-up: the file may stay, its lock does not.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path
from typing import Any


class LineLocked(Exception):
    """Another controller holds the line of this database."""

    def __init__(self, db_path: Path, holder: dict[str, Any]) -> None:
        self.holder = holder
        who = ", ".join(
            f"{key} {holder[key]}" for key in ("pid", "host", "url") if holder.get(key) is not None
        )
        super().__init__(
            f"database {db_path} is already run by another 'packline serve' ({who or 'unknown holder'});"
            " one controller per line: stop that one first, or give another --db"
        )


def lock_path(db_path: Path) -> Path:
    """``line.db`` -> ``line.db.lock`` (beside the database, so every daemon on it finds it)."""
    return db_path.with_name(db_path.name + ".lock")


class LineLock:
    """The held lock; :meth:`announce` writes the HTTP address once the server listens."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.path = lock_path(db_path)
        self._fd = -1

    def acquire(self) -> LineLock:
        """Take the lock or raise :class:`LineLocked` naming its holder. Never waits."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise LineLocked(self.db_path, holder) from None
        self._fd = fd
        self._write({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()})
        return self

    def announce(self, url: str) -> None:
        """Add the daemon's HTTP address to what a refused second daemon reports."""
        self._write(
            {"pid": os.getpid(), "host": socket.gethostname(), "url": url, "since": time.time()}
        )

    def release(self) -> None:
        """Drop the lock (a graceful stop; on a crash the OS does it)."""
        if self._fd >= 0:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = -1

    def _write(self, holder: dict[str, Any]) -> None:
        data = json.dumps(holder).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)


def _read_holder(fd: int) -> dict[str, Any]:
    """What the holder wrote; empty if it has not written yet or wrote something else."""
    try:
        holder = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except ValueError:
        return {}
    return holder if isinstance(holder, dict) else {}
