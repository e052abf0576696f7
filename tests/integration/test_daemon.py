"""The line controller daemon as it runs in production: a real ``packline serve`` process with a
real SQLite file and real HTTP, driving the tools of a real ``packline sim serve`` process."""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.integration.test_cli_sim_serve import wait_for_file
from tests.support.daemon_process import free_port
from tests.support.integration_waits import wait_until

PACKLINE = [sys.executable, "-m", "packline.cli"]
TOKEN = "test-token-123"
SCALE = "2000"


@pytest.fixture(scope="module")
def endpoints(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("sim") / "e.json"
    log = path.with_name("sim.log").open("w")
    process = subprocess.Popen(
        [*PACKLINE, "-v", "sim", "serve", "--time-scale", SCALE, "--endpoints", str(path)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    wait_for_file(path, process, timeout_s=30)
    yield path
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=15)


class Daemon:
    """One ``packline serve`` process on a free port, on the tools of ``endpoints`` (a
    ``packline sim serve``), or on a simulated line of its own if that is None."""

    def __init__(
        self, endpoints: Path | None, db: Path | str, *, log_dir: Path | None = None
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        if isinstance(db, Path):
            self.log = db.with_suffix(f".{self.port}.log")
        else:
            assert log_dir is not None, "a daemon on a server database logs into log_dir"
            self.log = log_dir / f"daemon.{self.port}.log"
        env = {**os.environ, "PACKLINE_TOKEN": TOKEN}
        command = [
            *PACKLINE,
            "serve",
            *(["--simulate"] if endpoints is None else ["--endpoints", str(endpoints)]),
            "--db",
            str(db),
            "--port",
            str(self.port),
            "--time-scale",
            SCALE,
        ]
        self.process = subprocess.Popen(
            command, stdout=self.log.open("w"), stderr=subprocess.STDOUT, env=env
        )
        try:
            self._wait_until_healthy()
        except BaseException:
            self.process.kill()  # a daemon that did not start must not outlive its test
            self.process.wait(timeout=10)
            raise

    def _wait_until_healthy(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                if self.get("/health")[0] == 200:
                    return
            except OSError:
                pass
            assert self.process.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, "daemon did not answer"
            time.sleep(0.05)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = TOKEN,
        raw: bytes | None = None,
    ) -> tuple[int, Any]:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def get(self, path: str) -> tuple[int, Any]:
        return self.request("GET", path, token=None)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def __enter__(self) -> Daemon:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process.poll() is None:
            self.kill()  # a daemon left running would drive the next test's tools too

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def wait_lot(
    daemon: Daemon, lot_id: str, statuses: tuple[str, ...] = ("complete",), timeout_s: float = 90
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        status, lot = daemon.get(f"/lots/{lot_id}")
        assert status == 200, lot
        if lot["status"] in statuses:
            return lot
        assert time.monotonic() < deadline, f"lot still {lot['status']}"
        time.sleep(0.1)


def unit_rows(db: Path | str) -> list[tuple[str, int, int]]:
    query = "SELECT strip_id, step_index, site FROM units"
    if isinstance(db, str):
        with psycopg.connect(db) as pg:
            return [tuple(r) for r in pg.execute(query)]
    with sqlite3.connect(db) as conn:
        return [tuple(r) for r in conn.execute(query)]


def test_lot_submitted_over_the_api_completes_with_full_genealogy(
    endpoints: Path, tmp_path: Path
) -> None:
    db = tmp_path / "line.db"
    with Daemon(endpoints, db) as daemon:
        status, lot = daemon.request(
            "POST", "/lots", {"recipe": "heat-slug-die-equal", "strips": 2, "lot_id": "API1"}
        )
        assert status == 201, lot
        assert lot["lot_id"] == "API1" and lot["status"] in ("queued", "running")
        lot = wait_lot(daemon, "API1")
        strips = [s["strip_id"] for s in lot["strips"]]
        assert strips == ["API1-01", "API1-02"]
        status, unit = daemon.get("/units/API1-01/7")
        assert status == 200
        steps = [row["step"] for row in unit["steps"]]
        assert (
            steps[0] == "laminate"
            and steps[-1] == "inspect pkg"
            and len(steps) == len(lot["steps"])
        )
        assert all(row["station"] and row["started"] <= row["ended"] for row in unit["steps"])
        assert daemon.terminate() == 0
    rows = unit_rows(db)
    assert len(rows) == len(set(rows)) == 2 * 30 * len(lot["steps"])


@pytest.mark.timeout(240)
@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_killed_inside_each_step_type_the_daemon_resumes_and_records_every_unit_once(
    endpoints: Path, tmp_path: Path, engine: str, request: pytest.FixtureRequest
) -> None:
    """SIGKILL whenever a station is inside a step type not killed in yet; restart; repeat."""
    db: Path | str = tmp_path / "crash.db"
    if engine == "postgresql":
        db = str(request.getfixturevalue("pg_url"))
    daemon = Daemon(endpoints, db, log_dir=tmp_path)
    status, lot = daemon.request(
        "POST", "/lots", {"recipe": "heat-slug-die-equal", "strips": 2, "lot_id": "K1"}
    )
    assert status == 201, lot
    killed_in: list[str] = []
    deadline = time.monotonic() + 180
    try:
        while True:
            _, stations = daemon.get("/stations")
            running = {s["step"] for s in stations if s["step"]} - set(killed_in)
            if running:
                daemon.kill()
                killed_in.append(sorted(running)[0])
                daemon = Daemon(endpoints, db, log_dir=tmp_path)
                continue
            _, lot = daemon.get("/lots/K1")
            if lot["status"] == "complete":
                break
            assert time.monotonic() < deadline, (
                f"lot still {lot['status']} after kills in {killed_in}: {lot['strips']}\n"
                + "\n".join(
                    line
                    for line in daemon.log.read_text().splitlines()[-40:]
                    if "event=state" not in line
                )
            )
            time.sleep(0.005)
    finally:
        if daemon.process.poll() is None:
            daemon.kill()
    assert len(killed_in) >= 5, f"killed only in {killed_in}"
    assert [s["status"] for s in lot["strips"]] == ["complete", "complete"], (
        f"kills in {killed_in}: {[(s['strip_id'], s['status'], s['reason']) for s in lot['strips']]}"
    )
    rows = unit_rows(db)
    assert len(rows) == len(set(rows)), "no unit record duplicated"
    assert len(rows) == 2 * 30 * len(lot["steps"]), "no unit record lost"


def test_sigterm_mid_lot_exits_0_quickly_and_the_restart_finishes_the_lot(
    endpoints: Path, tmp_path: Path
) -> None:
    db = tmp_path / "term.db"
    with Daemon(endpoints, db) as daemon:
        assert daemon.request("POST", "/lots", {"strips": 2, "lot_id": "T1"})[0] == 201
        wait_until(lambda: any(s["step"] == "laminate" for s in daemon.get("/stations")[1]), 30)
        stopped = time.monotonic()
        assert daemon.terminate() == 0
    assert time.monotonic() - stopped < 15, (
        "a graceful stop does not wait for a 94-minute press load"
    )
    with Daemon(endpoints, db) as daemon:
        lot = wait_lot(daemon, "T1")
    assert [s["status"] for s in lot["strips"]] == ["complete", "complete"], [
        (s["strip_id"], s["status"], s["reason"]) for s in lot["strips"]
    ]
    rows = unit_rows(db)
    assert len(rows) == len(set(rows)) == 2 * 30 * len(lot["steps"])


def test_a_sigterm_the_kernel_gives_another_thread_still_stops_the_daemon(
    endpoints: Path, tmp_path: Path
) -> None:
    """Python runs signal handlers in the main thread only; a SIGTERM delivered to one of the
    daemon's other threads (the kernel may pick any) must not leave it running."""
    with Daemon(endpoints, tmp_path / "thread.db") as daemon:
        pid = daemon.process.pid
        others = sorted(int(t) for t in os.listdir(f"/proc/{pid}/task") if int(t) != pid)
        assert others, "the daemon runs more than its main thread"
        assert ctypes.CDLL(None, use_errno=True).tgkill(pid, others[0], signal.SIGTERM) == 0
        assert daemon.process.wait(timeout=15) == 0, daemon.log.read_text()[-2000:]


def test_lot_hold_release_abort_and_station_commands_over_the_api(
    endpoints: Path, tmp_path: Path
) -> None:
    with Daemon(endpoints, tmp_path / "cmd.db") as daemon:
        assert daemon.request("POST", "/lots", {"strips": 1, "lot_id": "H1"})[0] == 201
        assert daemon.request("POST", "/lots", {"strips": 1, "lot_id": "H2"})[0] == 201
        status, lot = daemon.request("POST", "/lots/H2/hold")
        assert status == 200 and lot["status"] == "held"
        status, lot = daemon.request("POST", "/lots/H2/abort")
        # lots overlap: H2 may have started beside H1, and then ends its abort a little later
        assert status == 200 and lot["status"] in ("aborting", "aborted")
        lot = wait_lot(daemon, "H2", ("aborted",))
        assert [s["status"] for s in lot["strips"]] == ["on hold"]
        assert daemon.request("POST", "/lots/H2/release")[0] == 409
        # EXECUTE, not just a step: STARTING lasts while its state event is committed.
        laminator = {"name": "laminator", "state": "EXECUTE"}
        wait_until(
            lambda: any(laminator.items() <= s.items() for s in daemon.get("/stations")[1]), 30
        )
        status, station = daemon.request("POST", "/stations/laminator/hold")
        assert status == 200 and station["state"] in ("HOLDING", "HELD"), station
        status, station = daemon.request("POST", "/stations/laminator/unhold")
        assert status == 200 and station["state"] in ("UNHOLDING", "EXECUTE", "COMPLETE", "IDLE"), (
            station
        )
        lot = wait_lot(daemon, "H1")
        assert [s["status"] for s in lot["strips"]] == ["complete"]
        status, commands = daemon.get("/lots")
        assert {entry["lot_id"]: entry["status"] for entry in commands} == {
            "H1": "complete",
            "H2": "aborted",
        }


@pytest.fixture(scope="module")
def shared_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """One daemon for the tests that only send requests and start no lot they wait for (each
    its own lot ids): a daemon start is most of such a test's time. Its line is its own
    (``--simulate``): the module's tools are never driven by two daemons at once. These tests
    come last in the file, so that it runs beside no other test's daemon."""
    with Daemon(None, tmp_path_factory.mktemp("shared") / "shared.db") as daemon:
        yield daemon


def test_state_changing_requests_need_the_token(shared_daemon: Daemon) -> None:
    daemon = shared_daemon
    status, lots_before = daemon.get("/lots")
    assert status == 200, "reads are open on loopback"
    assert daemon.request("POST", "/lots", {"strips": 1}, token=None)[0] == 401
    assert daemon.request("POST", "/lots", {"strips": 1}, token="wrong")[0] == 401
    assert daemon.request("POST", "/stations/mold-press/hold", token=None)[0] == 401
    assert daemon.get("/lots")[1] == lots_before, "a refused request made no lot"
    assert daemon.get("/stations/mold-press")[1]["state"] != "HELD", "nor held the press"


def test_malformed_requests_get_4xx_and_the_daemon_keeps_running(shared_daemon: Daemon) -> None:
    daemon = shared_daemon
    assert daemon.request("POST", "/lots", raw=b"{not json")[0] == 400
    status, body = daemon.request("POST", "/lots", {"recipe": "no-such-recipe", "strips": 1})
    assert status == 400 and "no-such-recipe" in json.dumps(body)
    assert daemon.request("POST", "/lots", {"strips": "many"})[0] == 400
    assert daemon.request("POST", "/lots", {"strips": 0})[0] == 400
    assert daemon.request("POST", "/lots", {"strip_ids": ["bad id!"]})[0] == 400
    assert daemon.get("/lots/NOPE")[0] == 404
    assert daemon.get("/units/NOPE/1")[0] == 404
    assert daemon.request("POST", "/stations/mold-press/explode")[0] in (400, 404)
    assert daemon.request("POST", "/stations/mold-press/unhold")[0] == 409
    status, body = daemon.request(
        "POST", "/recipes/validate", {"text": "product: heat-slug\nname: x\n"}
    )
    assert status == 200 and body["valid"] is False and body["problems"]
    assert daemon.get("/health")[0] == 200
    assert daemon.process.poll() is None


def test_every_shipped_recipe_can_be_submitted_by_name(shared_daemon: Daemon) -> None:
    daemon = shared_daemon
    names = [r["name"] for r in daemon.get("/recipes")[1]]
    assert len(names) == 11
    for name in names:
        status, body = daemon.request("POST", "/recipes/validate", {"name": name})
        assert status == 200 and body["valid"], (name, body)
    status, lot = daemon.request(
        "POST", "/lots", {"recipe": "film-laser-flipchip-plate", "strips": 1, "lot_id": "N1"}
    )
    assert status == 201 and lot["recipe_name"] == "film-laser-flipchip-plate", lot
    assert daemon.request("POST", "/lots/N1/abort")[0] == 200
