"""A throw-away PostgreSQL server for tests: ``initdb`` in a temporary directory, started on a
free loopback port, one fresh database per test, stopped and removed afterwards.

PostgreSQL refuses to run as root: when the tests run as root (CI), the server runs as the
``postgres`` user that Debian's package creates (``runuser``). ``fsync=off``: the tests kill
daemons, never the server or the machine, so durability against power loss is not what they
measure and the server need not wait for the disk.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator

import psycopg

from tests.support.daemon_process import free_port
from tests.support.system_binaries import require_binary

START_TIMEOUT_S = 30.0


def _pg_bin_dirs() -> tuple[str, ...]:
    return tuple(sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True))


class PostgresServer:
    """One PostgreSQL cluster in a temporary directory, owned by the server's OS user."""

    def __init__(self, *, durable: bool = False) -> None:
        self.durable = durable  # fsync on: for benchmarks that measure commit cost
        self.initdb = require_binary("initdb", "postgresql", search=_pg_bin_dirs())
        self.pg_ctl = os.path.join(os.path.dirname(self.initdb), "pg_ctl")
        self.as_root = os.geteuid() == 0
        self.user = "postgres" if self.as_root else os.environ.get("USER", "postgres")
        self.directory = tempfile.mkdtemp(prefix="packline-pg-")
        self.data = os.path.join(self.directory, "data")
        self.port = free_port()
        self._databases = 0

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_root else []
        done = subprocess.run(
            [*prefix, *command], capture_output=True, text=True, timeout=START_TIMEOUT_S
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip()}")

    def start(self) -> PostgresServer:
        if self.as_root:
            shutil.chown(self.directory, "postgres")
        self._run(self.initdb, "-D", self.data, "-U", self.user, "-A", "trust", "-E", "UTF8")
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories="
            f"{self.directory} -c max_connections=50"
        )
        if not self.durable:
            options += " -c fsync=off -c full_page_writes=off"
        log = os.path.join(self.directory, "server.log")
        self._run(self.pg_ctl, "-D", self.data, "-l", log, "-o", options, "-w", "start")
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                with psycopg.connect(self.url("postgres"), connect_timeout=2):
                    return self
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def url(self, database: str) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """Create an empty database and return its URL."""
        self._databases += 1
        name = f"packline_test_{self._databases}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run(self.pg_ctl, "-D", self.data, "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


def postgres_server() -> Iterator[PostgresServer]:
    """Session fixture body: one server for the whole test run."""
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()
