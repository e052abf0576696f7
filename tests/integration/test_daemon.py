"""The line controller daemon as it runs in production: a real ``packline serve`` process with a
real SQLite file and real HTTP, driving the tools of a real ``packline sim serve`` process."""

from __future__ import annotations

import ctypes
import os
import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.support.daemon_process import TIME_SCALE, DaemonProcess, sim_serve_process
from tests.support.integration_waits import wait_until

TOKEN = "test-token-123"


@pytest.fixture(scope="module")
def endpoints(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The endpoints file of a ``packline sim serve`` running for the module."""
    with sim_serve_process(
        tmp_path_factory.mktemp("sim"), "-v", "--time-scale", str(TIME_SCALE)
    ) as path:
        yield path


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
    with DaemonProcess(db, TOKEN, endpoints=endpoints) as daemon:
        answer = daemon.post(
            "/lots", {"recipe": "heat-slug-die-equal", "strips": 2, "lot_id": "API1"}
        )
        assert answer.status_code == 201, answer.text
        lot = answer.json()
        assert lot["lot_id"] == "API1" and lot["status"] in ("queued", "running")
        lot = daemon.wait_lot("API1", 90)
        strips = [s["strip_id"] for s in lot["strips"]]
        assert strips == ["API1-01", "API1-02"]
        unit = daemon.http.get("/units/API1-01/7")
        assert unit.status_code == 200
        steps = [row["step"] for row in unit.json()["steps"]]
        assert (
            steps[0] == "laminate"
            and steps[-1] == "inspect pkg"
            and len(steps) == len(lot["steps"])
        )
        assert all(
            row["station"] and row["started"] <= row["ended"] for row in unit.json()["steps"]
        )
        assert daemon.stop() == 0
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
    with DaemonProcess(db, TOKEN, endpoints=endpoints, log_dir=tmp_path) as daemon:
        answer = daemon.post(
            "/lots", {"recipe": "heat-slug-die-equal", "strips": 2, "lot_id": "K1"}
        )
        assert answer.status_code == 201, answer.text
        killed_in: list[str] = []
        deadline = time.monotonic() + 180
        while True:
            stations = daemon.http.get("/stations").json()
            running = {s["step"] for s in stations if s["step"]} - set(killed_in)
            if running:
                daemon.kill()
                killed_in.append(sorted(running)[0])
                daemon.start()
                continue
            lot = daemon.http.get("/lots/K1").json()
            if lot["status"] == "complete":
                break
            assert time.monotonic() < deadline, (
                f"lot still {lot['status']} after kills in {killed_in}: {lot['strips']}\n"
                + "\n".join(
                    line for line in daemon.log().splitlines()[-40:] if "event=state" not in line
                )
            )
            time.sleep(0.005)
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
    with DaemonProcess(db, TOKEN, endpoints=endpoints) as daemon:
        assert daemon.post("/lots", {"strips": 2, "lot_id": "T1"}).status_code == 201
        wait_until(
            lambda: any(s["step"] == "laminate" for s in daemon.http.get("/stations").json()), 30
        )
        stopped = time.monotonic()
        assert daemon.stop() == 0
        assert time.monotonic() - stopped < 15, (
            "a graceful stop does not wait for a 94-minute press load"
        )
        daemon.start()
        lot = daemon.wait_lot("T1", 90)
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
    with DaemonProcess(tmp_path / "thread.db", TOKEN, endpoints=endpoints) as daemon:
        pid = daemon.process.pid
        others = sorted(int(t) for t in os.listdir(f"/proc/{pid}/task") if int(t) != pid)
        assert others, "the daemon runs more than its main thread"
        assert ctypes.CDLL(None, use_errno=True).tgkill(pid, others[0], signal.SIGTERM) == 0
        assert daemon.process.wait(timeout=15) == 0, daemon.log()[-2000:]


def hold_a_running_station(daemon: DaemonProcess, timeout_s: float) -> dict[str, object]:
    """Hold a station in EXECUTE and return the station the answer shows. A cycle that ends
    between the look and the hold is refused, as PackML says (409 naming the state it ended
    in), and the station running then is tried; fails after ``timeout_s`` saying so."""
    deadline = time.monotonic() + timeout_s
    while True:
        for station in daemon.http.get("/stations").json():
            if station["state"] != "EXECUTE":
                continue
            answer = daemon.post(f"/stations/{station['name']}/hold")
            if answer.status_code == 200:
                return dict(answer.json())
            assert answer.status_code == 409, answer.text
            assert "'hold' is not allowed in" in answer.json()["error"], answer.text
        assert time.monotonic() < deadline, f"no station in EXECUTE took a hold in {timeout_s} s"
        time.sleep(0.01)


def test_lot_hold_release_abort_and_station_commands_over_the_api(
    endpoints: Path, tmp_path: Path
) -> None:
    with DaemonProcess(tmp_path / "cmd.db", TOKEN, endpoints=endpoints) as daemon:
        assert daemon.post("/lots", {"strips": 1, "lot_id": "H1"}).status_code == 201
        # H2 once H1's strip is in the laminator's cycle (EXECUTE, not just a step: STARTING
        # lasts while its state event is committed). The laminator takes up to eight strips a
        # cycle: H2 submitted at once could join H1's, and its abort would then end with that
        # cycle, after which no station might be running for the hold below.
        laminator = {"name": "laminator", "state": "EXECUTE"}
        wait_until(
            lambda: any(
                laminator.items() <= s.items() for s in daemon.http.get("/stations").json()
            ),
            30,
            "the laminator never ran H1's strip",
        )
        assert daemon.post("/lots", {"strips": 1, "lot_id": "H2"}).status_code == 201
        answer = daemon.post("/lots/H2/hold")
        assert answer.status_code == 200 and answer.json()["status"] == "held"
        answer = daemon.post("/lots/H2/abort")
        assert answer.status_code == 200 and answer.json()["status"] in ("aborting", "aborted")
        lot = daemon.wait_lot("H2", 90, "aborted")
        assert [s["status"] for s in lot["strips"]] == ["on hold"]
        assert daemon.post("/lots/H2/release").status_code == 409
        station = hold_a_running_station(daemon, 30)
        assert station["state"] in ("HOLDING", "HELD"), station
        answer = daemon.post(f"/stations/{station['name']}/unhold")
        station = answer.json()
        # Resumed: where its cycle is by the time the answer is read depends on the machine.
        assert answer.status_code == 200 and station["state"] not in ("HOLDING", "HELD"), station
        lot = daemon.wait_lot("H1", 90)
        assert [s["status"] for s in lot["strips"]] == ["complete"]
        answer = daemon.http.get("/lots")
        assert answer.status_code == 200
        assert {entry["lot_id"]: entry["status"] for entry in answer.json()} == {
            "H1": "complete",
            "H2": "aborted",
        }


@pytest.fixture(scope="module")
def shared_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    """One daemon for the tests that only send requests and start no lot they wait for (each
    its own lot ids): a daemon start is most of such a test's time. Its line is its own
    (``--simulate``): the module's tools are never driven by two daemons at once. These tests
    come last in the file, so that it runs beside no other test's daemon."""
    with DaemonProcess(tmp_path_factory.mktemp("shared") / "shared.db", TOKEN) as daemon:
        yield daemon


def test_state_changing_requests_need_the_token(shared_daemon: DaemonProcess) -> None:
    daemon = shared_daemon
    lots_before = daemon.http.get("/lots")
    assert lots_before.status_code == 200, "reads are open on loopback"
    assert daemon.http.post("/lots", json={"strips": 1}).status_code == 401
    assert daemon.post("/lots", {"strips": 1}, token="wrong").status_code == 401
    assert daemon.http.post("/stations/mold-press/hold").status_code == 401
    assert daemon.http.get("/lots").json() == lots_before.json(), "a refused request made no lot"
    assert daemon.http.get("/stations/mold-press").json()["state"] != "HELD", "nor held the press"


def test_malformed_requests_get_4xx_and_the_daemon_keeps_running(
    shared_daemon: DaemonProcess,
) -> None:
    daemon = shared_daemon
    headers = {**daemon.auth(), "Content-Type": "application/json"}
    assert daemon.http.post("/lots", content=b"{not json", headers=headers).status_code == 400
    answer = daemon.post("/lots", {"recipe": "no-such-recipe", "strips": 1})
    assert answer.status_code == 400 and "no-such-recipe" in answer.text
    assert daemon.post("/lots", {"strips": "many"}).status_code == 400
    assert daemon.post("/lots", {"strips": 0}).status_code == 400
    assert daemon.post("/lots", {"strip_ids": ["bad id!"]}).status_code == 400
    assert daemon.http.get("/lots/NOPE").status_code == 404
    assert daemon.http.get("/units/NOPE/1").status_code == 404
    assert daemon.post("/stations/mold-press/explode").status_code in (400, 404)
    assert daemon.post("/stations/mold-press/unhold").status_code == 409
    answer = daemon.post("/recipes/validate", {"text": "product: heat-slug\nname: x\n"})
    body = answer.json()
    assert answer.status_code == 200 and body["valid"] is False and body["problems"]
    assert daemon.http.get("/health").status_code == 200
    assert daemon.returncode is None


def test_every_shipped_recipe_can_be_submitted_by_name(shared_daemon: DaemonProcess) -> None:
    daemon = shared_daemon
    names = [r["name"] for r in daemon.http.get("/recipes").json()]
    assert len(names) == 11
    for name in names:
        answer = daemon.post("/recipes/validate", {"name": name})
        assert answer.status_code == 200 and answer.json()["valid"], (name, answer.text)
    answer = daemon.post(
        "/lots", {"recipe": "film-laser-flipchip-plate", "strips": 1, "lot_id": "N1"}
    )
    lot = answer.json()
    assert answer.status_code == 201 and lot["recipe_name"] == "film-laser-flipchip-plate", lot
    assert daemon.post("/lots/N1/abort").status_code == 200
