"""The daemon's SQLite store: schema and migrations, durability, threads, idempotency, reads."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from contextlib import closing
from pathlib import Path

import pytest

import packline.store.store as store_module
from packline.errors import Conflict, Invalid, NotFound
from packline.store import LineTaken, SchemaTooNew, Store, StoreError
from packline.store.postgres import is_postgres_url
from packline.store.schema import MIGRATIONS, statements
from sequences.jobs import SiteOutcome, StripOutcome
from sequences.packml import E10, PackState
from sequences.records import (
    AlarmRecord,
    CycleRecord,
    LotRecorder,
    MemoryRecorder,
    StepRecord,
    StepStart,
    StripDisposition,
)
from sequences.station_machine import StateEvent
from tests.conftest import Db

STEPS = ["laminate", "die attach", "wire bond", "mold"]
ROWS, COLS = 2, 3
T0 = 1_800_000_000.0


class ManualClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def open_store(path: Path | str, clock: ManualClock | None = None, **kwargs: bool) -> Store:
    return Store(path, clock=clock or ManualClock(), **kwargs)


def new_lot(
    store: Store, lot_id: str = "LA2403", strips: int = 3, strip_ids: list[str] | None = None
) -> list[str]:
    """A lot of ``strips`` strips ``<lot>-001``... (or of ``strip_ids``) on :data:`STEPS`."""
    strip_ids = strip_ids or [f"{lot_id}-{n:03d}" for n in range(1, strips + 1)]
    store.create_lot(
        lot_id,
        recipe_name="heat-slug-die-equal",
        recipe_source="configs/recipes/heat-slug-die-equal.yaml",
        recipe_text="name: heat-slug-die-equal\n",
        rows=ROWS,
        cols=COLS,
        steps=STEPS,
        strip_ids=strip_ids,
    )
    return strip_ids


def result(
    lot_id: str,
    strip_id: str,
    step_index: int,
    result_map: str = "PPPPPP",
    *,
    station: str = "",
    started: float | None = None,
) -> StepRecord:
    """A step record as a step returns it: one site outcome per map character."""
    step = STEPS[step_index]
    station = station or f"{step.replace(' ', '-')}-1"
    sites = tuple(
        SiteOutcome(
            site,
            char,
            0 if char in "PX" else 4100 + site,
            {} if char in "XN" else {"height_um": 100.0 + step_index + site / 10, "ok": True},
        )
        for site, char in enumerate(result_map, start=1)
    )
    outcome = StripOutcome(
        strip_id,
        step,
        station,
        result_map,
        sites,
        tool_summary={"cycle_s": 60.0 + step_index, "counts": [1, 2]},
        recipe_values={"temperature_c": 170 + step_index},
    )
    begin = T0 + 100 * step_index if started is None else started
    return StepRecord(
        lot_id, strip_id, step_index, step, station, "tool", begin, begin + 50, outcome
    )


def start(lot_id: str, strip_ids: list[str], step_index: int, started: float) -> StepStart:
    step = STEPS[step_index]
    return StepStart(
        lot_id, tuple(strip_ids), step_index, step, f"{step.replace(' ', '-')}-1", started
    )


def raw_sql(path: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """``sql`` run on the SQLite file itself (not through the store) and committed; its rows."""
    with closing(sqlite3.connect(path)) as conn, conn:
        return conn.execute(sql, params).fetchall()


def alarm_record(time: float, code: int = 4115, station: str = "mold-1") -> AlarmRecord:
    return AlarmRecord(
        time, station, ("LA2403-001",), code, "H", "cull thickness out of range", "resumed"
    )


def test_a_new_file_gets_every_table_at_the_code_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "var" / "packline.db"
    with open_store(path) as store:
        assert store.schema_version == len(MIGRATIONS)
    tables = {r[0] for r in raw_sql(path, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    versions = raw_sql(path, "SELECT version FROM schema_version")
    assert versions == [(v,) for v in range(1, len(MIGRATIONS) + 1)]
    assert tables >= {
        "schema_version",
        "lots",
        "lot_strips",
        "step_starts",
        "step_results",
        "units",
        "cycles",
        "dispositions",
        "alarms",
        "station_events",
        "operator_commands",
        "users",
        "api_tokens",
        "gem_spool",
    }


def test_an_empty_file_is_created_as_a_store(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    with open_store(path) as store:
        assert store.schema_version == len(MIGRATIONS)
        assert store.lots() == []


def test_wal_mode_is_on_by_default_and_off_on_request(tmp_path: Path) -> None:
    with open_store(tmp_path / "wal.db") as store:
        assert store.journal_mode() == "wal"
        new_lot(store)
        assert (tmp_path / "wal.db-wal").exists()
    with open_store(tmp_path / "wal.db", wal=False) as store:
        assert store.journal_mode() == "delete"
        assert store.lot("LA2403") is not None


def test_reopening_keeps_every_record(db: Db) -> None:
    path = db("packline.db")
    clock = ManualClock()
    store = open_store(path, clock)
    strips = new_lot(store)
    store.set_lot_status("LA2403", "running")
    store.step_started(start("LA2403", strips, 0, T0))
    for strip in strips:
        store.step_done(result("LA2403", strip, 0))
    store.cycle_done(
        CycleRecord(
            "laminate-1", "laminator", "laminate", tuple(strips), T0, T0 + 5, T0 + 50, "DONE"
        )
    )
    store.strip_finished("LA2403", StripDisposition(strips[2], "scrapped", "dropped", T0 + 60))
    alarm_id = store.alarm("LA2403", alarm_record(T0 + 10))
    store.state_event(StateEvent(T0, "laminate-1", PackState.IDLE, PackState.STARTING, "start"))
    store.record_command("lot", "LA2403", "submit", "operator", "queued")

    def everything(s: Store) -> tuple[object, ...]:
        return (
            s.lot("LA2403"),
            s.strip(strips[0]),
            s.unit(strips[0], 2),
            s.alarms(active_only=False),
            s.station_events(),
            s.cycles(),
            s.operator_commands(),
            s.strip_progress("LA2403"),
        )

    before = everything(store)
    store.close()

    with open_store(path, clock) as again:
        assert everything(again) == before
        assert again.alarms(active_only=True)[0]["alarm_id"] == alarm_id
        assert again.step_done(result("LA2403", strips[0], 0)) is False


def test_station_threads_write_concurrently_without_losing_a_record(db: Db) -> None:
    store = open_store(db("threads.db"))
    recorder: LotRecorder = store  # the daemon hands the store to the lot runner as is
    strips = new_lot(store, strips=8)
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(strips))

    def station(n: int, strip: str) -> None:
        try:
            barrier.wait()
            for index in range(len(STEPS)):
                recorder.step_started(start("LA2403", [strip], index, T0 + n + index * 10))
                recorder.step_done(result("LA2403", strip, index, started=T0 + n + index * 10))
                recorder.state_event(
                    StateEvent(
                        T0 + n + index * 10, f"st-{n}", PackState.IDLE, PackState.STARTING, "go"
                    )
                )
                store.lot("LA2403")  # reads interleave with the writes
            recorder.alarm("LA2403", alarm_record(T0 + n, station=f"st-{n}"))
            recorder.strip_finished("LA2403", StripDisposition(strip, "complete", "", T0 + 99))
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=station, args=(n, strip)) for n, strip in enumerate(strips)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    lot = store.lot("LA2403")
    assert lot is not None
    assert lot["counts"] == {"complete": 8, "scrapped": 0, "on hold": 0, "in progress": 0}
    assert [p["strips_done"] for p in lot["progress"]] == [8, 8, 8, 8]
    assert [p["units_passed"] for p in lot["progress"]] == [48, 48, 48, 48]
    assert len(store.station_events()) == 8 * len(STEPS)
    assert len(store.alarms(active_only=True)) == 8
    assert store.in_flight("LA2403") == []
    store.close()


def test_a_repeated_step_result_is_ignored_and_the_first_one_stands(db: Db) -> None:
    with open_store(db("idem.db")) as store:
        strips = new_lot(store)
        assert store.step_done(result("LA2403", strips[0], 0, "PPFPPP")) is True
        assert store.step_done(result("LA2403", strips[0], 0, "PPFPPP")) is False
        assert store.step_done(result("LA2403", strips[0], 0, "FFFFFF", station="x")) is False
        strip = store.strip(strips[0])
        assert strip is not None
        assert [s["result_map"] for s in strip["steps"]] == ["PPFPPP"]
        lot = store.lot("LA2403")
        assert lot is not None
        assert lot["progress"][0] == {
            "step_index": 0,
            "step": "laminate",
            "strips_done": 1,
            "units_in": 6,
            "units_passed": 5,
            "units_failed": 1,
            "units_not_processed": 0,
        }
        with store.read() as conn:  # no second copy of the units: the repeat wrote nothing
            assert tuple(conn.execute("SELECT count(*) FROM units").fetchone()) == (6,)


def test_other_repeated_records_are_ignored_too(db: Db) -> None:
    with open_store(db("idem.db")) as store:
        strips = new_lot(store)
        for _ in range(2):
            store.step_started(start("LA2403", strips, 0, T0))
            store.cycle_done(
                CycleRecord("laminate-1", "laminator", "laminate", (strips[0],), T0, T0, T0, "DONE")
            )
            store.state_event(StateEvent(T0, "laminate-1", PackState.IDLE, PackState.STARTING, ""))
        first = store.alarm("LA2403", alarm_record(T0))
        assert store.alarm("LA2403", alarm_record(T0)) == first
        assert store.alarm("LA2403", alarm_record(T0, code=4116)) != first
        assert len(store.in_flight("LA2403")) == 1
        assert len(store.cycles()) == 1
        assert len(store.station_events()) == 1
        assert len(store.alarms(active_only=False)) == 2


def test_a_crash_in_the_middle_of_a_step_leaves_a_start_without_a_result(db: Db) -> None:
    path = db("crash.db")
    store = open_store(path)
    a, b, c = new_lot(store)
    for strip in (a, b, c):
        store.step_done(result("LA2403", strip, 0, "PPPPPP"))
    store.step_started(start("LA2403", [c], 1, T0 + 150))
    store.step_done(result("LA2403", c, 1, "PFPPPP"))
    store.step_started(start("LA2403", [a, b], 1, T0 + 200))
    store.step_done(result("LA2403", a, 1, "PPXPPF"))  # then the controller dies
    store.close()

    with open_store(path) as store:
        progress = store.strip_progress("LA2403")
        assert list(progress) == [a, b, c]
        assert (progress[a].next_step, progress[a].input_map) == (2, "110110")
        assert (progress[b].next_step, progress[b].input_map) == (1, "111111")
        assert (progress[c].next_step, progress[c].input_map) == (2, "101111")
        assert {p.status for p in progress.values()} == {"waiting"}
        assert store.in_flight("LA2403") == [start("LA2403", [a, b], 1, T0 + 200)]
        lot = store.lot("LA2403")
        assert lot is not None
        shown = {s["strip_id"]: (s["status"], s["station"]) for s in lot["strips"]}
        assert shown[b] == ("processing", "die-attach-1")
        assert shown[c] == ("waiting", "")
        assert lot["counts"]["in progress"] == 3

        # Reconciled with the tool: the repeat for a is ignored, b gets its result.
        assert store.step_done(result("LA2403", a, 1, "PPXPPF")) is False
        assert store.step_done(result("LA2403", b, 1, "PPPPPP")) is True
        assert store.in_flight("LA2403") == []


def test_what_a_killed_controller_recorded_is_all_there_on_reopen(db: Db) -> None:
    path = db("killed.db")
    child = textwrap.dedent(
        f"""
        import os, signal
        from tests.unit.test_store import T0, new_lot, open_store, result, start
        store = open_store({str(path)!r})
        a, b, c = new_lot(store)
        store.step_started(start("LA2403", [a, b], 0, T0))
        store.step_done(result("LA2403", a, 0, "PPPPPF"))
        os.kill(os.getpid(), signal.SIGKILL)  # no close, no checkpoint
        """
    )
    repo = Path(__file__).parents[2]
    run = subprocess.run([sys.executable, "-c", child], cwd=repo, capture_output=True, timeout=60)
    assert run.returncode == -signal.SIGKILL, run.stderr.decode()
    if not is_postgres_url(path):  # SQLite: the write-ahead log was never checkpointed
        assert Path(path + "-wal").exists()
    with open_store(path) as store:
        a, b, _c = store.strip_progress("LA2403")
        assert store.strip_progress("LA2403")[a].next_step == 1
        assert store.strip_progress("LA2403")[b].next_step == 0
        assert store.in_flight("LA2403") == [start("LA2403", [a, b], 0, T0)]
        assert store.unit(a, 6)["steps"][0]["result"] == "F"  # type: ignore[index]
        assert store.check() == []


def test_a_strip_disposed_after_a_crash_is_no_longer_in_flight(db: Db) -> None:
    with open_store(db("held.db")) as store:
        a, _b, _c = new_lot(store)
        store.step_started(start("LA2403", [a], 0, T0))
        store.strip_finished(
            "LA2403", StripDisposition(a, "on hold", "controller restarted mid-step", T0 + 1)
        )
        assert store.in_flight("LA2403") == []
        progress = store.strip_progress("LA2403")[a]
        assert (progress.status, progress.reason, progress.next_step) == (
            "on hold",
            "controller restarted mid-step",
            0,
        )


def test_a_hold_disposition_can_be_replaced_but_complete_and_scrapped_are_final(
    db: Db,
) -> None:
    with open_store(db("disp.db")) as store:
        a, b, _c = new_lot(store)
        assert store.strip_finished("LA2403", StripDisposition(a, "on hold", "alarm", T0))
        assert not store.strip_finished("LA2403", StripDisposition(a, "on hold", "alarm", T0 + 1))
        assert store.strip_finished("LA2403", StripDisposition(a, "complete", "", T0 + 2))
        assert not store.strip_finished("LA2403", StripDisposition(a, "scrapped", "late", T0 + 3))
        assert store.strip_finished("LA2403", StripDisposition(b, "scrapped", "no good unit", T0))
        assert not store.strip_finished("LA2403", StripDisposition(b, "on hold", "x", T0 + 1))
        progress = store.strip_progress("LA2403")
        assert (progress[a].status, progress[b].status) == ("complete", "scrapped")
        with pytest.raises(ValueError, match="unknown disposition"):
            store.strip_finished("LA2403", StripDisposition(a, "lost", "", T0))


def test_a_unit_genealogy_lists_every_step_in_route_order(db: Db) -> None:
    memory = MemoryRecorder()
    with open_store(db("unit.db")) as store:
        strips = new_lot(store)
        records = [
            result("LA2403", strips[0], 2, "PPPFPX"),
            result("LA2403", strips[0], 0, "PPPPPP"),
            result("LA2403", strips[1], 0, "FFFFFF"),
            result("LA2403", strips[0], 1, "PPPPPX"),
        ]
        for record in records:
            store.step_done(record)
            memory.step_done(record)
        unit = store.unit(strips[0], 6)
        assert unit is not None
        assert [s["step"] for s in unit["steps"]] == ["laminate", "die attach", "wire bond"]
        assert [s["result"] for s in unit["steps"]] == ["P", "X", "X"]
        first = unit["steps"][0]
        assert first["values"] == {"height_um": 100.6, "ok": True}
        assert first["recipe_values"] == {"temperature_c": 170}
        assert (first["station"], first["tool"], first["started"], first["ended"]) == (
            "laminate-1",
            "tool",
            T0,
            T0 + 50,
        )
        for site in range(1, ROWS * COLS + 1):
            stored = store.unit(strips[0], site)
            assert stored is not None
            assert [
                {k: v for k, v in s.items() if k != "step_index"} for s in stored["steps"]
            ] == memory.unit_history(strips[0], site)
        assert store.unit(strips[0], 4)["steps"][2]["defect"] == 4104  # type: ignore[index]
        assert store.unit(strips[2], 1) == {
            "strip_id": strips[2],
            "site": 1,
            "lot_id": "LA2403",
            "steps": [],
        }
        assert store.unit(strips[0], 7) is None
        assert store.unit(strips[0], 0) is None
        assert store.unit("nobody", 1) is None


def test_a_strip_shows_its_lot_status_and_steps(db: Db) -> None:
    with open_store(db("strip.db")) as store:
        strips = new_lot(store)
        store.step_done(result("LA2403", strips[1], 0, "PPPPPP"))
        store.step_done(result("LA2403", strips[1], 1, "NNNNNN"))
        store.strip_finished(
            "LA2403",
            StripDisposition(strips[1], "scrapped", "no good unit left after die attach", T0),
        )
        strip = store.strip(strips[1])
        assert strip is not None
        assert (strip["lot_id"], strip["status"], strip["reason"], strip["next_step"]) == (
            "LA2403",
            "scrapped",
            "no good unit left after die attach",
            2,
        )
        assert strip["disposed_at"] == T0
        assert [(s["step"], s["result_map"]) for s in strip["steps"]] == [
            ("laminate", "PPPPPP"),
            ("die attach", "NNNNNN"),
        ]
        assert strip["steps"][0]["tool_summary"] == {"cycle_s": 60.0, "counts": [1, 2]}
        unknown = "nobody"
        assert store.strip(unknown) is None


def test_an_alarm_is_active_until_acknowledged_and_the_first_ack_stands(db: Db) -> None:
    clock = ManualClock()
    with open_store(db("alarms.db"), clock) as store:
        new_lot(store)
        first = store.alarm("LA2403", alarm_record(T0 + 1))
        second = store.alarm("", alarm_record(T0 + 2, code=2201, station="die-attach-1"))
        assert [a["alarm_id"] for a in store.alarms(active_only=True)] == [first, second]
        clock.now = T0 + 30
        acked = store.ack_alarm(first, "ana")
        assert (acked["acked_at"], acked["acked_by"], acked["active"]) == (T0 + 30, "ana", False)
        assert acked["strip_ids"] == ["LA2403-001"]
        assert acked["class"] == "H"
        clock.now = T0 + 60
        assert store.ack_alarm(first, "bob")["acked_by"] == "ana"
        assert [a["alarm_id"] for a in store.alarms(active_only=True)] == [second]
        assert store.alarms(active_only=True)[0]["lot_id"] == ""
        assert len(store.alarms(active_only=False)) == 2
        with pytest.raises(NotFound, match="no alarm 99"):
            store.ack_alarm(99, "ana")


def test_a_lot_goes_from_queued_to_complete_with_its_times(db: Db) -> None:
    clock = ManualClock()
    with open_store(db("life.db"), clock) as store:
        new_lot(store, "LOT-A")
        clock.now += 1
        new_lot(store, "LOT-B")
        lot = store.lot("LOT-A")
        assert lot is not None
        assert (lot["status"], lot["created"], lot["started"], lot["finished"]) == (
            "queued",
            T0,
            None,
            None,
        )
        clock.now = T0 + 10
        assert store.set_lot_status("LOT-A", "running")["started"] == T0 + 10
        clock.now = T0 + 20
        held = store.set_lot_status("LOT-A", "held", "held by ana")
        assert (held["status"], held["reason"]) == ("held", "held by ana")
        clock.now = T0 + 30
        running = store.set_lot_status("LOT-A", "running")
        assert (running["started"], running["reason"]) == (T0 + 10, "")
        assert [lot["lot_id"] for lot in store.open_lots()] == ["LOT-A", "LOT-B"]
        clock.now = T0 + 40
        done = store.set_lot_status("LOT-A", "complete")
        assert (done["status"], done["finished"]) == ("complete", T0 + 40)
        assert store.set_lot_status("LOT-A", "complete")["finished"] == T0 + 40
        assert [lot["lot_id"] for lot in store.open_lots()] == ["LOT-B"]
        assert [lot["lot_id"] for lot in store.lots()] == ["LOT-A", "LOT-B"]
        assert store.lots()[1]["strip_ids"] == ["LOT-B-001", "LOT-B-002", "LOT-B-003"]
        with pytest.raises(Conflict, match="LOT-A is complete: it cannot become running"):
            store.set_lot_status("LOT-A", "running")
        store.set_lot_status("LOT-B", "aborting", "aborted by ana")
        assert [lot["status"] for lot in store.open_lots()] == ["aborting"]
        assert store.set_lot_status("LOT-B", "aborted", "aborted by ana")["finished"] == T0 + 40
        with pytest.raises(Invalid, match="unknown status 'paused'"):
            store.set_lot_status("LOT-B", "paused")
        with pytest.raises(NotFound, match="no lot LOT-C"):
            store.set_lot_status("LOT-C", "running")
        assert store.lot("LOT-C") is None


def test_a_lot_counts_its_strips_by_status_and_steps_by_units(db: Db) -> None:
    with open_store(db("counts.db")) as store:
        a, b, c = new_lot(store)
        store.step_done(result("LA2403", a, 0, "PPPPPP"))
        store.step_done(result("LA2403", b, 0, "PPPPPF"))
        store.step_done(result("LA2403", c, 0, "FFFFFF"))
        store.strip_finished("LA2403", StripDisposition(c, "scrapped", "no good unit", T0))
        store.step_done(result("LA2403", b, 1, "PPPPNX"))
        store.strip_finished("LA2403", StripDisposition(b, "on hold", "cycle aborted", T0))
        lot = store.lot("LA2403")
        assert lot is not None
        assert lot["counts"] == {"complete": 0, "scrapped": 1, "on hold": 1, "in progress": 1}
        assert lot["steps"] == STEPS
        assert (lot["rows"], lot["cols"], lot["strip_count"]) == (ROWS, COLS, 3)
        assert [
            (p["strips_done"], p["units_in"], p["units_passed"], p["units_failed"])
            for p in lot["progress"]
        ] == [(3, 18, 11, 7), (1, 5, 4, 0), (0, 0, 0, 0), (0, 0, 0, 0)]
        assert lot["progress"][1]["units_not_processed"] == 1
        assert lot["recipe_text"] == "name: heat-slug-die-equal\n"
        summary = store.lots()[0]
        assert summary["counts"] == lot["counts"]
        assert "recipe_text" not in summary


def test_a_lot_or_strip_id_already_in_the_store_is_a_conflict(db: Db) -> None:
    with open_store(db("conflict.db")) as store:
        new_lot(store, "LOT-A")
        with pytest.raises(Conflict, match="lot LOT-A already exists"):
            new_lot(store, "LOT-A")
        with pytest.raises(Conflict, match="LOT-A-002") as caught:
            new_lot(store, "LOT-B", strip_ids=["NEW-1", "LOT-A-002"])
        assert caught.value.problems == ["strip LOT-A-002 is in lot LOT-A"]
        assert store.lot("LOT-B") is None  # nothing of the refused lot was written
        assert store.strip("NEW-1") is None
        with pytest.raises(Invalid, match="repeated in the lot: S1"):
            new_lot(store, "LOT-C", strip_ids=["S1", "S2", "S1"])


def test_a_record_for_a_strip_not_in_the_lot_is_refused_with_what_it_was(db: Db) -> None:
    with open_store(db("fk.db")) as store:
        new_lot(store)
        stranger = "STRANGER"
        with pytest.raises(StoreError, match="result of laminate on strip STRANGER") as caught:
            store.step_done(result("LA2403", stranger, 0))
        assert "foreign key" in str(caught.value).lower()
        assert store.strip(stranger) is None


def test_a_database_of_a_newer_schema_is_refused_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    open_store(path).close()
    newer = len(MIGRATIONS) + 1
    raw_sql(path, "INSERT INTO schema_version (version, applied) VALUES (?, 0)", (newer,))
    with pytest.raises(SchemaTooNew) as caught:
        open_store(path)
    message = str(caught.value)
    assert str(path) in message
    assert f"schema version {newer} was written by a newer packline" in message
    assert f"knows versions up to {len(MIGRATIONS)}" in message
    assert raw_sql(path, "SELECT max(version) FROM schema_version") == [(newer,)]


def test_a_file_that_is_not_a_database_is_refused_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "garbage.db"
    path.write_bytes(b"this is not an SQLite file\n" * 200)
    with pytest.raises(StoreError, match="not a usable SQLite database") as caught:
        open_store(path)
    assert str(path) in str(caught.value)


def test_a_store_with_a_corrupt_schema_page_is_refused_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.db"
    with open_store(path, wal=False) as store:
        new_lot(store)
    data = bytearray(path.read_bytes())
    data[100:1024] = b"\xa5" * 924  # page 1 after the header: the schema's b-tree
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError) as caught:
        open_store(path)
    assert str(path) in str(caught.value)
    assert "malformed" in str(caught.value)


def test_a_foreign_sqlite_database_is_not_taken_for_a_store(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    raw_sql(path, "CREATE TABLE customers (name TEXT)")
    with pytest.raises(StoreError, match=r"not a packline store \(tables customers"):
        open_store(path)


def test_migrations_run_in_order_on_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "migrate.db"
    with open_store(path) as store:
        new_lot(store)
    following = "ALTER TABLE lots ADD COLUMN shelf_code INTEGER NOT NULL DEFAULT 0;\n"
    following += "CREATE TABLE notes (text TEXT NOT NULL DEFAULT 'a; b');"
    monkeypatch.setattr(store_module, "MIGRATIONS", (*MIGRATIONS, following))
    with open_store(path) as store:
        assert store.schema_version == len(MIGRATIONS) + 1
        assert store.lot("LA2403") is not None
    assert raw_sql(path, "SELECT version FROM schema_version ORDER BY version") == [
        (v,) for v in range(1, len(MIGRATIONS) + 2)
    ]
    assert raw_sql(path, "SELECT shelf_code FROM lots") == [(0,)]


def test_a_failed_migration_leaves_the_file_at_its_old_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "half.db"
    open_store(path).close()
    broken = "ALTER TABLE lots ADD COLUMN shelf_code INTEGER;\nALTER TABLE nowhere ADD COLUMN x;"
    monkeypatch.setattr(store_module, "MIGRATIONS", (*MIGRATIONS, broken))
    with pytest.raises(StoreError, match="migration failed: no such table: nowhere"):
        open_store(path)
    monkeypatch.setattr(store_module, "MIGRATIONS", MIGRATIONS)
    with open_store(path) as store:
        assert store.schema_version == len(MIGRATIONS)
    assert "shelf_code" not in [r[1] for r in raw_sql(path, "PRAGMA table_info(lots)")]


def test_a_migration_script_splits_into_whole_statements() -> None:
    script = """
    CREATE TABLE a (x TEXT DEFAULT 'one; two');
    CREATE TRIGGER t AFTER INSERT ON a BEGIN
        UPDATE a SET x = 'three; four';
    END;
    ;
    """
    parts = list(statements(script))
    assert len(parts) == 2
    assert parts[0].startswith("CREATE TABLE a") and "'one; two'" in parts[0]
    assert parts[1].startswith("CREATE TRIGGER t") and parts[1].endswith("END;")


def test_station_events_come_back_in_order_and_give_e10_times(db: Db) -> None:
    with open_store(db("e10.db")) as store:
        events = [
            StateEvent(T0 + 10, "mold-1", PackState.IDLE, PackState.STARTING, "start"),
            StateEvent(T0, "mold-1", PackState.STOPPED, PackState.IDLE, "reset"),
            StateEvent(T0 + 10, "mold-1", PackState.STARTING, PackState.EXECUTE, "done"),
            StateEvent(T0 + 70, "mold-1", PackState.EXECUTE, PackState.HELD, "alarm 4115"),
            StateEvent(T0 + 5, "saw-1", PackState.STOPPED, PackState.IDLE, "reset"),
        ]
        for event in events:
            store.state_event(event)
        mold = store.station_events("mold-1")
        assert [(e.from_state, e.to_state) for e in mold] == [
            (PackState.STOPPED, PackState.IDLE),
            (PackState.IDLE, PackState.STARTING),
            (PackState.STARTING, PackState.EXECUTE),
            (PackState.EXECUTE, PackState.HELD),
        ]
        assert mold[-1].cause == "alarm 4115"
        assert len(store.station_events()) == 5
        e10 = store.e10(T0 + 100)
        assert set(e10) == {"mold-1", "saw-1"}
        assert e10["mold-1"][E10.STANDBY.value] == 10.0
        assert e10["mold-1"][E10.PRODUCTIVE.value] == 60.0
        assert e10["mold-1"][E10.UNSCHEDULED_DOWN.value] == 30.0
        assert e10["saw-1"][E10.STANDBY.value] == 95.0
        window = store.e10(T0 + 100, since=T0 + 40)  # mold-1 is in EXECUTE at T0 + 40
        assert window["mold-1"][E10.PRODUCTIVE.value] == 30.0
        assert window["mold-1"][E10.UNSCHEDULED_DOWN.value] == 30.0
        assert window["mold-1"][E10.STANDBY.value] == 0.0
        assert window["saw-1"][E10.STANDBY.value] == 60.0


def test_operator_commands_are_logged_newest_first(db: Db) -> None:
    clock = ManualClock()
    with open_store(db("ops.db"), clock) as store:
        for n in range(5):
            clock.now = T0 + n
            store.record_command("station", "mold-1", f"cmd{n}", "ana", "ok")
        latest = store.operator_commands(limit=2)
        assert [(c["command"], c["time"], c["by"]) for c in latest] == [
            ("cmd4", T0 + 4, "ana"),
            ("cmd3", T0 + 3, "ana"),
        ]
        assert len(store.operator_commands()) == 5


def test_a_closed_store_says_so(db: Db) -> None:
    store = open_store(db("closed.db"))
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.lots()


def test_the_store_file_passes_sqlite_quick_check(tmp_path: Path) -> None:
    with open_store(tmp_path / "check.db") as store:
        new_lot(store)
        assert store.check() == []


def test_two_lines_share_one_database_each_seeing_only_its_own_work(db: Db) -> None:
    with (
        Store(db("plant.db"), clock=ManualClock(), line="line-a") as a,
        Store(db("plant.db"), clock=ManualClock(), line="line-b") as b,
    ):
        a_strips = new_lot(a, "LA1")
        new_lot(b, "LB1")
        a.alarm("LA1", alarm_record(T0 + 1, station="mold-press"))
        b.state_event(StateEvent(T0 + 2, "mold-press", PackState.IDLE, PackState.EXECUTE, "x"))
        a.record_command("lot", "LA1", "hold", "ann", "ok")
        assert [lot["lot_id"] for lot in a.lots()] == ["LA1"]
        assert [lot["lot_id"] for lot in b.open_lots()] == ["LB1"]
        assert [alarm["code"] for alarm in a.alarms(active_only=True)] == [4115]
        assert b.alarms(active_only=False) == []
        assert a.station_events() == [] and len(b.station_events("mold-press")) == 1
        assert [c["command"] for c in a.operator_commands()] == ["hold"]
        assert b.operator_commands() == []
        # Strip ids are unique plant-wide: line b cannot take a strip of line a's lot.
        with pytest.raises(Conflict, match="LA1-001"):
            new_lot(b, "LB2", strip_ids=[a_strips[0]])
        # Look-ups by id are plant-wide (genealogy crosses lines).
        assert b.strip(a_strips[0]) is not None


def test_a_second_controller_of_the_same_line_is_refused(db: Db) -> None:
    first = Store(db("plant.db"), line="line-a")
    first.claim_line()
    with Store(db("plant.db"), line="line-b") as other_line:
        other_line.claim_line()  # another line: no conflict
    second = Store(db("plant.db"), line="line-a")
    try:
        with pytest.raises(LineTaken, match="line line-a is already served"):
            second.claim_line(wait_s=0.3)
        first.close()  # the first daemon stops: its lock goes with it
        second.claim_line(wait_s=3)
    finally:
        first.close()
        second.close()


def test_a_line_adopts_the_records_written_before_lines_existed(db: Db) -> None:
    with Store(db("old.db"), clock=ManualClock()) as unlined:
        new_lot(unlined, "OLD1")
    with Store(db("old.db"), line="line-a") as lined:
        assert lined.lots() == []
        lined.claim_line()
        assert [lot["lot_id"] for lot in lined.lots()] == ["OLD1"]


def test_two_lines_may_record_the_same_station_at_the_same_moment(db: Db) -> None:
    """Station-keyed records are unique per line: both lines' ``mold-1`` keep their own."""
    with (
        Store(db("plant.db"), clock=ManualClock(), line="line-a") as a,
        Store(db("plant.db"), clock=ManualClock(), line="line-b") as b,
    ):
        for store in (a, b):
            store.alarm("", alarm_record(T0, station="mold-1"))
            store.state_event(StateEvent(T0, "mold-1", PackState.IDLE, PackState.EXECUTE, "x"))
            store.cycle_done(CycleRecord("mold-1", "mold", "mold", (), T0, T0, T0 + 1, "DONE"))
        for store in (a, b):
            assert [alarm["station"] for alarm in store.alarms(active_only=False)] == ["mold-1"]
            assert len(store.station_events("mold-1")) == 1
            assert [cycle.station for cycle in store.cycles("mold-1")] == ["mold-1"]
        ids = {
            a.alarms(active_only=False)[0]["alarm_id"],
            b.alarms(active_only=False)[0]["alarm_id"],
        }
        assert len(ids) == 2


def test_a_store_from_before_line_keys_keeps_its_records_and_ids(
    db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys_version = MIGRATIONS.index(next(m for m in MIGRATIONS if "cycles_v5" in m))
    monkeypatch.setattr(store_module, "MIGRATIONS", MIGRATIONS[:keys_version])
    with Store(db("old.db"), clock=ManualClock(), line="line-a") as old, old.write("old") as conn:
        for time in (T0, T0 + 1):  # written as the code of that schema wrote them
            conn.execute(
                "INSERT INTO alarms (time, station, strip_ids_json, code, class, text, handling,"
                " line) VALUES (?, 'mold-1', '[]', 4115, 'E', 'x', 'resumed', 'line-a')",
                (time,),
            )
        conn.execute(
            "INSERT INTO station_events (time, station, from_state, to_state, cause, line)"
            " VALUES (?, 'mold-1', 'IDLE', 'EXECUTE', 'x', 'line-a')",
            (T0,),
        )
        conn.execute(
            "INSERT INTO cycles (station, tool, step, strip_ids_json, setup_started, started,"
            " ended, final_state, line) VALUES ('mold-1', 'mold', 'mold', '[]', ?, ?, ?,"
            " 'DONE', 'line-a')",
            (T0, T0, T0 + 1),
        )
        old_ids = [int(r[0]) for r in conn.execute("SELECT alarm_id FROM alarms").fetchall()]
    monkeypatch.setattr(store_module, "MIGRATIONS", MIGRATIONS)
    with Store(db("old.db"), clock=ManualClock(), line="line-a") as new:
        assert new.schema_version == len(MIGRATIONS)
        assert sorted(alarm["alarm_id"] for alarm in new.alarms(active_only=False)) == sorted(
            old_ids
        )
        assert len(new.station_events("mold-1")) == 1 and len(new.cycles("mold-1")) == 1
        # A repeated record is still ignored, and a new one gets an id past the copied ones.
        new.alarm("", alarm_record(T0, station="mold-1"))
        new.alarm("", alarm_record(T0 + 2, station="mold-1"))
        ids = [alarm["alarm_id"] for alarm in new.alarms(active_only=False)]
        assert len(ids) == 3 and max(ids) > max(old_ids)


SCALED_EVENTS = (
    StateEvent(T0, "mold-1", PackState.STOPPED, PackState.IDLE, "reset"),
    StateEvent(T0 + 10, "mold-1", PackState.IDLE, PackState.EXECUTE, "start"),
    StateEvent(T0 + 70, "mold-1", PackState.EXECUTE, PackState.HELD, "alarm 4115"),
)


def test_e10_is_kept_in_tool_seconds_so_a_database_reopened_at_another_scale_reads_the_same(
    db: Db,
) -> None:
    path = db("scaled.db")
    with open_store(path) as store:
        store.time_scale = 1000.0  # a daemon at --time-scale 1000
        for event in SCALED_EVENTS:
            store.state_event(event)
        written = store.e10(T0 + 100)
        written_window = store.e10(T0 + 100, since=T0 + 40)
    with open_store(path) as reopened:
        reopened.time_scale = 1.0  # the same database under a daemon at scale 1
        read = reopened.e10(T0 + 100)
        read_window = reopened.e10(T0 + 100, since=T0 + 40)
    assert read == written and read_window == written_window
    assert read["mold-1"][E10.STANDBY.value] == 10_000.0
    assert read["mold-1"][E10.PRODUCTIVE.value] == 60_000.0
    assert read["mold-1"][E10.UNSCHEDULED_DOWN.value] == 30_000.0
    assert read_window["mold-1"][E10.PRODUCTIVE.value] == 30_000.0


def test_e10_counts_each_interval_at_the_scale_its_opening_event_was_recorded_at(db: Db) -> None:
    with open_store(db("two-scales.db")) as store:
        store.time_scale = 1000.0
        store.state_event(SCALED_EVENTS[0])  # IDLE for 10 wall s at scale 1000
        store.time_scale = 1.0  # restarted at scale 1
        store.state_event(SCALED_EVENTS[1])  # EXECUTE for 60 wall s at scale 1
        e10 = store.e10(T0 + 70)
        window = store.e10(T0 + 70, since=T0 + 5)  # opens at scale 1000 in IDLE
    assert e10["mold-1"][E10.STANDBY.value] == 10_000.0
    assert e10["mold-1"][E10.PRODUCTIVE.value] == 60.0
    assert window["mold-1"][E10.STANDBY.value] == 5_000.0
    assert window["mold-1"][E10.PRODUCTIVE.value] == 60.0


def test_events_of_a_database_from_before_the_scale_was_kept_count_at_scale_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "before.db"
    monkeypatch.setattr(store_module, "MIGRATIONS", MIGRATIONS[:-1])  # up to GEM_STATE
    open_store(path).close()
    for e in SCALED_EVENTS:  # as the code of that schema wrote them
        raw_sql(
            path,
            "INSERT INTO station_events (time, station, from_state, to_state, cause, line)"
            " VALUES (?, ?, ?, ?, ?, '')",
            (e.time, e.station, e.from_state.value, e.to_state.value, e.cause),
        )
    monkeypatch.setattr(store_module, "MIGRATIONS", MIGRATIONS)
    with open_store(path) as store:
        assert store.schema_version == len(MIGRATIONS)
        store.time_scale = 1000.0  # what the reopening daemon runs at changes nothing
        e10 = store.e10(T0 + 100)
    assert e10["mold-1"][E10.PRODUCTIVE.value] == 60.0
    assert e10["mold-1"][E10.UNSCHEDULED_DOWN.value] == 30.0
