"""The line controller daemon's records in SQLite: lots, step results, units, alarms, events.

:class:`Store` is the daemon's :class:`~sequences.records.LotRecorder`. Every write is one
transaction, committed (``synchronous=FULL``) before the call returns, so a step result is on
disk before its station is told to move on. Writes the lot runner may repeat after a crash are
idempotent through UNIQUE keys. One connection serves every thread behind a lock; see
docs/store.md for the schema, the threading choice and the migrations.
"""

from __future__ import annotations

import fcntl
import json
import logging
import math
import os
import re
import sqlite3
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import IO, Any, Literal, Protocol

import psycopg

from packline.errors import Conflict, Invalid, NotFound
from packline.store.postgres import PgConnection, is_postgres_url, translate_ddl
from packline.store.records import (
    AlarmEntry,
    CommandEntry,
    LotRecord,
    LotSummary,
    StepProgress,
    StripCounts,
    StripRecord,
    StripStatus,
    StripStep,
    UnitRecord,
    UnitStep,
)
from packline.store.schema import LINE_TABLES, MIGRATIONS, statements
from packline.vocabulary import (
    FINISHED_LOT_STATUSES,
    LOT_STATUSES,
    OPEN_LOT_STATUSES,
    STRIP_DISPOSITIONS,
)
from sequences.lot import StripProgress
from sequences.packml import E10, PackState
from sequences.records import AlarmRecord, CycleRecord, StepRecord, StepStart, StripDisposition
from sequences.station_machine import Phase, StateEvent, cycle_phases, e10_seconds

log = logging.getLogger("packline.store")

Json = dict[str, Any]

#: How long a write waits for another process's write transaction (SQLite busy timeout), and
#: how long opening a PostgreSQL connection may take.
BUSY_TIMEOUT_S = 30.0

#: How long :meth:`Store.claim_line` waits for a line lock (a killed daemon's lock to go).
LINE_LOCK_WAIT_S = 3.0

#: What either engine raises: turned into :class:`StoreError` naming the store.
_DB_ERRORS = (sqlite3.Error, psycopg.Error)


class Connection(Protocol):
    """What the store uses of a connection: sqlite3's, or :class:`PgConnection` for PostgreSQL."""

    def execute(self, sql: str, parameters: Any = (), /) -> Any: ...

    def executemany(self, sql: str, parameters: Any, /) -> Any: ...

    @property
    def in_transaction(self) -> bool: ...

    def close(self) -> None: ...


def store_location(location: str | os.PathLike[str]) -> str:
    """A file path for SQLite (``sqlite:///PATH`` accepted) or a ``postgresql://`` URL."""
    text = str(location)
    if text.startswith("sqlite:///"):
        return text.removeprefix("sqlite://")
    if text.startswith("sqlite://"):
        raise StoreError(f"store {text}: write sqlite:///PATH (three slashes, then the path)")
    return text


def shown_location(location: str) -> str:
    """The location as messages show it: a URL without its password."""
    if not is_postgres_url(location):
        return location
    parts = urllib.parse.urlsplit(location)
    if parts.password is None:
        return location
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


class StoreError(Exception):
    """The store file cannot be used (not a database, corrupt, unwritable) or refused a record."""


class LineTaken(StoreError):
    """Another daemon already serves this line on this store (one controller per line)."""


class SchemaTooNew(StoreError):
    """The file was written by a newer packline than this one."""


def _dumps(value: Any) -> str:
    return json.dumps(value, default=_jsonable, ensure_ascii=False)


def _jsonable(value: Any) -> Any:
    """Fallback for values json cannot write: a record is kept rather than refused."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, Enum):
        return value.value
    return str(value)


def _input_map(result_map: str) -> str:
    return "".join("1" if c == "P" else "0" for c in result_map)


@dataclass(frozen=True)
class _StripState:
    """One strip as derived from its results, disposition and unanswered starts."""

    progress: StripProgress
    position: int
    station: str  # the station of an unanswered start ("" if none)
    disposed_at: float | None

    @property
    def shown_status(self) -> str:
        """The status a person sees: ``processing`` for a strip on a tool, else the progress'."""
        if self.progress.status == "waiting" and self.station:
            return "processing"
        return self.progress.status


class Store:
    """The daemon's store: an SQLite file (``path`` created with its folder if missing) or a
    PostgreSQL database (``postgresql://USER@HOST/DB``: one database for a plant's lines).

    ``wal``: write-ahead logging, so that readers in other processes (a CLI, a backup) neither
    block nor are blocked by the daemon's writes. ``clock`` stamps lot times, acks and commands.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        wal: bool = True,
        clock: Callable[[], float] = time.time,
        line: str | None = None,
    ) -> None:
        location = store_location(path)
        self.path = shown_location(location)
        self.clock = clock
        self.line = line
        #: Tool seconds per wall second of the state events recorded from now on (the
        #: daemon's ``--time-scale``): kept with each event, so E10 reads in tool seconds.
        self.time_scale = 1.0
        self._line_lock_file: IO[str] | None = None
        self._sqlite_path = "" if is_postgres_url(location) else location
        self._lock = threading.RLock()
        self.engine = "postgresql" if is_postgres_url(location) else "sqlite"
        if self.engine == "postgresql":
            self._conn: Connection | None = self._open_postgres(location)
            return
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                location,
                timeout=BUSY_TIMEOUT_S,
                isolation_level=None,  # transactions are explicit: BEGIN IMMEDIATE ... COMMIT
                check_same_thread=False,  # shared by the station threads behind self._lock
            )
        except (sqlite3.Error, OSError) as error:
            raise StoreError(f"store {self.path}: cannot open: {error}") from error
        try:
            self._check_is_database(conn)
            self._set_journal_mode(conn, wal)
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            self._schema_version = self._migrate(conn)
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def _open_postgres(self, url: str) -> PgConnection:
        try:
            conn = PgConnection(url, connect_timeout_s=BUSY_TIMEOUT_S)
        except psycopg.Error as error:
            raise StoreError(f"store {self.path}: cannot connect: {error}") from error
        try:
            self._schema_version = self._migrate(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    # -- opening ----------------------------------------------------------------------------
    def _check_is_database(self, conn: Connection) -> None:
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as error:
            raise StoreError(
                f"store {self.path}: not a usable SQLite database ({error}); "
                "the file is corrupt or is not a packline store"
            ) from error

    def _set_journal_mode(self, conn: Connection, wal: bool) -> None:
        wanted = "wal" if wal else "delete"
        try:
            mode = str(conn.execute(f"PRAGMA journal_mode = {wanted}").fetchone()[0]).lower()
        except sqlite3.DatabaseError as error:
            raise StoreError(
                f"store {self.path}: cannot set journal mode {wanted}: {error}"
            ) from error
        if wal and mode != "wal":
            raise StoreError(
                f"store {self.path}: SQLite refused WAL mode (journal mode is {mode!r}); "
                "use a local file system, or open with wal=False"
            )

    def _migrate(self, conn: Connection) -> int:
        """Bring the file to the code's schema version in one transaction; return the version."""
        known = len(MIGRATIONS)
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                if isinstance(conn, PgConnection):
                    tables = conn.tables()
                else:
                    query = "SELECT name FROM sqlite_master WHERE type = 'table'"
                    tables = {row[0] for row in conn.execute(query)}
                if "schema_version" in tables:
                    current = int(
                        conn.execute(
                            "SELECT COALESCE(MAX(version), 0) FROM schema_version"
                        ).fetchone()[0]
                    )
                elif tables:
                    raise StoreError(
                        f"store {self.path}: an SQLite database but not a packline store "
                        f"(tables {', '.join(sorted(tables))}; no schema_version table)"
                    )
                else:
                    current = 0
                if current > known:
                    raise SchemaTooNew(
                        f"store {self.path}: schema version {current} was written by a newer "
                        f"packline; this one knows versions up to {known}. Upgrade packline "
                        "(or open a copy made before the upgrade); the file was not changed."
                    )
                for version in range(current + 1, known + 1):
                    for statement in statements(MIGRATIONS[version - 1]):
                        if isinstance(conn, PgConnection):
                            statement = translate_ddl(statement)
                        conn.execute(statement)
                    conn.execute(
                        "INSERT INTO schema_version (version, applied) VALUES (?, ?)",
                        (version, self.clock()),
                    )
                    log.info("store %s: migrated to schema version %d", self.path, version)
                if isinstance(conn, PgConnection) and current < known:
                    conn.resync_identities()
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except (sqlite3.DatabaseError, psycopg.Error) as error:
            raise StoreError(
                f"store {self.path}: schema check or migration failed: {error}"
            ) from error
        return known

    # -- life --------------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        """The file's schema version (after the migrations run on open)."""
        return self._schema_version

    def close(self) -> None:
        """Close the connection (idempotent). In WAL mode the last close checkpoints the log."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            if self._line_lock_file is not None:
                self._line_lock_file.close()  # releases the flock
                self._line_lock_file = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def journal_mode(self) -> str:
        """SQLite's journal mode for this file (``wal`` by default); ``postgresql`` there."""
        if self.engine == "postgresql":
            return "postgresql"
        with self.read() as conn:
            return str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()

    def check(self) -> list[str]:
        """SQLite's ``quick_check`` of the whole file: ``[]`` if sound, else the problems.
        Reads every page; meant for start-up or maintenance, not for every request. PostgreSQL
        checks its own pages (checksums, amcheck): there this only proves the server answers."""
        if self.engine == "postgresql":
            with self.read() as conn:
                conn.execute("SELECT 1").fetchone()
            return []
        with self.read() as conn:
            rows = [str(row[0]) for row in conn.execute("PRAGMA quick_check")]
        return [] if rows == ["ok"] else rows

    @contextmanager
    def write(self, what: str) -> Iterator[Connection]:
        """One write transaction, committed on leaving the block (rolled back on an error)."""
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
                yield conn
                conn.execute("COMMIT")
            except BaseException as error:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(error, _DB_ERRORS):
                    raise StoreError(f"store {self.path}: {what}: {error}") from error
                raise

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """One read transaction: every query of the block sees the same committed state."""
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN")
                yield conn
                conn.execute("COMMIT")
            except BaseException as error:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(error, _DB_ERRORS):
                    raise StoreError(f"store {self.path}: read failed: {error}") from error
                raise

    def claim_line(self, *, wait_s: float = LINE_LOCK_WAIT_S) -> None:
        """Make this store the one controller of its line, or raise :class:`LineTaken`.

        PostgreSQL: a session advisory lock keyed by the line name, held by this connection
        until it closes (a killed daemon's session ends with its socket). SQLite: an exclusive
        ``flock`` on ``<file>.<line>.lock``, released by the kernel when the process dies. ``wait_s``
        lets a killed predecessor's lock go. Rows that belong to no line yet (a store written
        before lines existed) are adopted by this line."""
        if self.line is None:
            raise StoreError(f"store {self.path}: claim_line needs a store opened with a line")
        deadline = time.monotonic() + wait_s
        while not self._try_line_lock():
            if time.monotonic() >= deadline:
                raise LineTaken(
                    f"line {self.line} is already served by another packline daemon using "
                    f"store {self.path} (its {self.engine} lock is held); stop that one first"
                )
            time.sleep(0.1)
        with self.write(f"adopt the rows of line {self.line}") as conn:
            for table in LINE_TABLES:
                conn.execute(f"UPDATE {table} SET line = ? WHERE line = ''", (self.line,))

    def _try_line_lock(self) -> bool:
        with self._lock:
            conn = self._connection()
            if isinstance(conn, PgConnection):
                return conn.try_line_lock(str(self.line))
            if self._line_lock_file is None:
                safe = re.sub(r"[^A-Za-z0-9._-]", "_", str(self.line))
                lock_path = f"{self._sqlite_path}.{safe}.lock"
                self._line_lock_file = open(lock_path, "a+")  # noqa: SIM115
            try:
                fcntl.flock(self._line_lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

    def _line_filter(self, column: str = "line") -> tuple[str, tuple[str, ...]]:
        """`` AND <column> = ?`` and its parameter when this store serves one line, else nothing:
        listings (lots, alarms, stations, cycles, commands) are per line; look-ups of a lot,
        strip or unit by its id are plant-wide (those ids are unique in the plant)."""
        if self.line is None:
            return "", ()
        return f" AND {column} = ?", (self.line,)

    @property
    def _owner(self) -> str:
        """The line written into new rows ("" for a store opened without a line)."""
        return self.line or ""

    def _connection(self) -> Connection:
        if self._conn is None:
            raise StoreError(f"store {self.path}: closed")
        return self._conn

    # -- lots --------------------------------------------------------------------------------
    def create_lot(
        self,
        lot_id: str,
        *,
        recipe_name: str,
        recipe_source: str,
        recipe_text: str,
        rows: int,
        cols: int,
        steps: list[str],
        strip_ids: list[str],
        priority: int = 0,
    ) -> LotRecord:
        """Record a new lot, status ``queued``, with its ``priority`` (higher goes first). :class:`Conflict` if the lot id or a strip id is
        already in the store; :class:`Invalid` for a lot without strips or a repeated strip id."""
        problems = []
        if not strip_ids:
            problems.append("a lot needs at least one strip")
        repeated = sorted(s for s, n in Counter(strip_ids).items() if n > 1)
        if repeated:
            problems.append(f"strip ids repeated in the lot: {', '.join(repeated)}")
        if rows < 1 or cols < 1:
            problems.append(f"strip layout {rows} x {cols}: rows and cols must be at least 1")
        if problems:
            raise Invalid(f"lot {lot_id}: {'; '.join(problems)}", problems)
        with self.write(f"create lot {lot_id}") as conn:
            if conn.execute("SELECT 1 FROM lots WHERE lot_id = ?", (lot_id,)).fetchone():
                raise Conflict(f"lot {lot_id} already exists")
            taken = _taken_strips(conn, strip_ids)
            if taken:
                details = [f"strip {strip} is in lot {lot}" for strip, lot in taken]
                raise Conflict(
                    f"lot {lot_id}: {len(taken)} strip id(s) already belong to other lots: "
                    + ", ".join(strip for strip, _ in taken[:10])
                    + (" ..." if len(taken) > 10 else ""),
                    details,
                )
            seq = conn.execute("SELECT COALESCE(MAX(submit_seq), 0) + 1 FROM lots").fetchone()[0]
            conn.execute(
                "INSERT INTO lots (lot_id, submit_seq, recipe_name, recipe_source, recipe_text,"
                " rows, cols, steps_json, status, reason, created, line, priority)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', '', ?, ?, ?)",
                (
                    lot_id,
                    seq,
                    recipe_name,
                    recipe_source,
                    recipe_text,
                    rows,
                    cols,
                    _dumps(list(steps)),
                    self.clock(),
                    self._owner,
                    priority,
                ),
            )
            conn.executemany(
                "INSERT INTO lot_strips (lot_id, strip_id, position) VALUES (?, ?, ?)",
                [(lot_id, strip, position) for position, strip in enumerate(strip_ids)],
            )
        return self._lot_or_raise(lot_id)

    def set_lot_priority(self, lot_id: str, priority: int) -> None:
        """Change an open lot's priority (:class:`NotFound` if there is no such lot)."""
        with self.write(f"lot {lot_id} priority") as conn:
            if not conn.execute("SELECT 1 FROM lots WHERE lot_id = ?", (lot_id,)).fetchone():
                raise NotFound(f"no lot {lot_id}")
            conn.execute("UPDATE lots SET priority = ? WHERE lot_id = ?", (priority, lot_id))

    def set_lot_status(self, lot_id: str, status: str, reason: str = "") -> LotRecord:
        """Move a lot to ``status`` with a reason; return the lot.

        queued, running, held, aborting (an abort asked while cycles still run), complete,
        aborted. The first ``running`` stamps ``started``; ``complete`` and ``aborted`` stamp
        ``finished`` and are final (another status is a :class:`Conflict`; the same one again
        changes nothing). :class:`NotFound` for an unknown lot, :class:`Invalid` for an
        unknown status."""
        if status not in LOT_STATUSES:
            raise Invalid(
                f"lot {lot_id}: unknown status {status!r} (one of {', '.join(LOT_STATUSES)})"
            )
        with self.write(f"lot {lot_id} status {status}") as conn:
            row = conn.execute("SELECT status FROM lots WHERE lot_id = ?", (lot_id,)).fetchone()
            if row is None:
                raise NotFound(f"no lot {lot_id}")
            current = row[0]
            if current in FINISHED_LOT_STATUSES:
                if current != status:
                    raise Conflict(f"lot {lot_id} is {current}: it cannot become {status}")
                return self._lot_or_raise_in(conn, lot_id)
            now = self.clock()
            conn.execute(
                "UPDATE lots SET status = ?, reason = ?,"
                " started = CASE WHEN ? = 'running' THEN COALESCE(started, ?) ELSE started END,"
                " finished = CASE WHEN ? IN ('complete', 'aborted') THEN ? ELSE finished END"
                " WHERE lot_id = ?",
                (status, reason, status, now, status, now, lot_id),
            )
            return self._lot_or_raise_in(conn, lot_id)

    # -- the LotRecorder ---------------------------------------------------------------------
    def step_started(self, start: StepStart) -> None:
        """Record that a step is about to start a cycle on these strips (a repeat is ignored)."""
        with self.write(f"lot {start.lot_id}: start of {start.step} on {start.station}") as conn:
            conn.execute(
                "INSERT INTO step_starts (lot_id, strip_ids_json, step_index, step, station, started)"
                " VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (lot_id, station, step_index, started) DO NOTHING",
                (
                    start.lot_id,
                    _dumps(list(start.strip_ids)),
                    start.step_index,
                    start.step,
                    start.station,
                    start.started,
                ),
            )

    def step_done(self, record: StepRecord) -> bool:
        """Record one step's result on one strip with its units. ``True`` if recorded now,
        ``False`` if (lot, strip, step index) was already recorded: the first result stands."""
        outcome = record.outcome
        what = f"lot {record.lot_id}: result of {record.step} on strip {record.strip_id}"
        with self.write(what) as conn:
            inserted = conn.execute(
                "INSERT INTO step_results (lot_id, strip_id, step_index, step, station, tool,"
                " started, ended, result_map, tool_summary_json, recipe_values_json)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (lot_id, strip_id, step_index) DO NOTHING",
                (
                    record.lot_id,
                    record.strip_id,
                    record.step_index,
                    record.step,
                    record.station,
                    record.tool,
                    record.started,
                    record.ended,
                    outcome.result_map,
                    _dumps(outcome.tool_summary),
                    _dumps(outcome.recipe_values),
                ),
            ).rowcount
            if inserted == 0:
                first = conn.execute(
                    "SELECT result_map, station FROM step_results"
                    " WHERE lot_id = ? AND strip_id = ? AND step_index = ?",
                    (record.lot_id, record.strip_id, record.step_index),
                ).fetchone()
                if tuple(first) != (outcome.result_map, record.station):
                    log.warning(
                        "%s: already recorded as %s on %s; the repeat (%s on %s) is ignored",
                        what,
                        first[0],
                        first[1],
                        outcome.result_map,
                        record.station,
                    )
                return False
            conn.executemany(
                "INSERT INTO units (lot_id, strip_id, step_index, site, result, defect, values_json)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        record.lot_id,
                        record.strip_id,
                        record.step_index,
                        site.site,
                        site.result,
                        site.defect,
                        _dumps(site.values),
                    )
                    for site in outcome.sites
                ],
            )
        return True

    def cycle_done(self, record: CycleRecord) -> None:
        """Record one tool cycle (a repeat, same station and set-up start, is ignored)."""
        with self.write(f"cycle of {record.step} on {record.station}") as conn:
            conn.execute(
                "INSERT INTO cycles (station, tool, step, strip_ids_json, setup_started, started,"
                " ended, final_state, line) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (line, station, setup_started) DO NOTHING",
                (
                    record.station,
                    record.tool,
                    record.step,
                    _dumps(list(record.strip_ids)),
                    record.setup_started,
                    record.started,
                    record.ended,
                    record.final_state,
                    self._owner,
                ),
            )

    def strip_finished(self, lot_id: str, disposition: StripDisposition) -> bool:
        """Record how a strip left the lot. ``True`` if recorded now.

        A strip has one disposition. A repeat is ignored (``False``). ``complete`` and
        ``scrapped`` are final; an ``on hold`` disposition waits for a decision and is replaced
        by a later different one (the strip was released and finished)."""
        if disposition.status not in STRIP_DISPOSITIONS:
            raise ValueError(
                f"strip {disposition.strip_id}: unknown disposition {disposition.status!r}"
            )
        what = f"lot {lot_id}: disposition of strip {disposition.strip_id}"
        with self.write(what) as conn:
            changed = conn.execute(
                "INSERT INTO dispositions (lot_id, strip_id, status, reason, time)"
                " VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (strip_id) DO UPDATE SET"
                " status = excluded.status, reason = excluded.reason, time = excluded.time"
                " WHERE dispositions.status = 'on hold' AND dispositions.lot_id = excluded.lot_id"
                " AND (dispositions.status, dispositions.reason) <> (excluded.status, excluded.reason)",
                (
                    lot_id,
                    disposition.strip_id,
                    disposition.status,
                    disposition.reason,
                    disposition.time,
                ),
            ).rowcount
            if changed == 0:
                first = conn.execute(
                    "SELECT lot_id, status, reason FROM dispositions WHERE strip_id = ?",
                    (disposition.strip_id,),
                ).fetchone()
                if tuple(first) != (lot_id, disposition.status, disposition.reason):
                    log.warning(
                        "%s: already %s (%s); %s (%s) is ignored",
                        what,
                        first[1],
                        first[2],
                        disposition.status,
                        disposition.reason,
                    )
        return changed > 0

    def alarm(self, lot_id: str, record: AlarmRecord) -> int:
        """Record an alarm (``lot_id`` may be ``""`` outside a lot); return its id. A repeat
        (same station, time and code) returns the first one's id."""
        with self.write(f"alarm {record.code} on {record.station}") as conn:
            cursor = conn.execute(
                "INSERT INTO alarms (lot_id, time, station, strip_ids_json, code, class, text,"
                " handling, line) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (line, station, time, code) DO NOTHING RETURNING alarm_id",
                (
                    lot_id or None,
                    record.time,
                    record.station,
                    _dumps(list(record.strip_ids)),
                    record.code,
                    record.alarm_class,
                    record.text,
                    record.handling,
                    self._owner,
                ),
            )
            inserted = cursor.fetchone()
            if inserted is not None:
                return int(inserted[0])
            row = conn.execute(
                "SELECT alarm_id FROM alarms WHERE station = ? AND time = ? AND code = ?",
                (record.station, record.time, record.code),
            ).fetchone()
            return int(row[0])

    def state_event(self, event: StateEvent) -> None:
        """Record a station's state change (a repeat is ignored)."""
        with self.write(f"state event of {event.station}") as conn:
            conn.execute(
                "INSERT INTO station_events (time, station, from_state, to_state, cause, line,"
                " time_scale) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (line, station, time, from_state, to_state) DO NOTHING",
                (
                    event.time,
                    event.station,
                    event.from_state.value,
                    event.to_state.value,
                    event.cause,
                    self._owner,
                    self.time_scale,
                ),
            )

    # -- operators ---------------------------------------------------------------------------
    def record_command(
        self, target_kind: str, target: str, command: str, by: str, result: str
    ) -> int:
        """Log an operator command (``target_kind`` lot, station, alarm...) and what came of it."""
        with self.write(f"operator command {command} on {target_kind} {target}") as conn:
            cursor = conn.execute(
                "INSERT INTO operator_commands (time, target_kind, target, command, issued_by,"
                " result, line) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING command_id",
                (self.clock(), target_kind, target, command, by, result, self._owner),
            )
            return int(cursor.fetchone()[0])

    # -- the GEM spool (outbox of messages to the factory host) --------------------------------
    def spool_put(self, stream: int, function: int, body: Any) -> int:
        """Keep a message for the host (``body`` JSON-ready) after every earlier one; its seq."""
        with self.write(f"spool S{stream}F{function}") as conn:
            row = conn.execute(
                "INSERT INTO gem_spool (created, stream, function, body_json, line)"
                " VALUES (?, ?, ?, ?, ?) RETURNING seq",
                (self.clock(), stream, function, _dumps(body), self._owner),
            ).fetchone()
            return int(row[0])

    def spool_first(self, limit: int = 100) -> list[tuple[int, int, int, Any]]:
        """This line's oldest kept messages, ``(seq, stream, function, body)``, in the order
        raised."""
        scope, params = self._line_filter()
        with self.read() as conn:
            rows = conn.execute(
                "SELECT seq, stream, function, body_json FROM gem_spool WHERE 1 = 1"
                f"{scope} ORDER BY seq LIMIT ?",
                (*params, limit),
            ).fetchall()
        return [(int(r[0]), int(r[1]), int(r[2]), json.loads(r[3])) for r in rows]

    def spool_remove(self, seq: int) -> None:
        """Forget a message the host has acknowledged."""
        with self.write(f"spool remove {seq}") as conn:
            conn.execute("DELETE FROM gem_spool WHERE seq = ?", (seq,))

    def spool_purge(self) -> int:
        """Forget every message kept for this line's host (S6F23 purge); how many there were."""
        scope, params = self._line_filter()
        with self.write("spool purge") as conn:
            return int(conn.execute(f"DELETE FROM gem_spool WHERE 1 = 1{scope}", params).rowcount)

    def spool_count(self) -> int:
        scope, params = self._line_filter()
        with self.read() as conn:
            query = f"SELECT COUNT(*) FROM gem_spool WHERE 1 = 1{scope}"
            return int(conn.execute(query, params).fetchone()[0])

    # -- what the GEM host set up (reports, links, enabled events and alarms, constants) ----------
    def gem_state(self) -> Any:
        """This line's GEM set-up as last saved (JSON-ready), None if never saved."""
        with self.read() as conn:
            row = conn.execute(
                "SELECT state_json FROM gem_state WHERE line = ?", (self._owner,)
            ).fetchone()
        return None if row is None else json.loads(row[0])

    def save_gem_state(self, state: Any) -> None:
        """Replace this line's GEM set-up with ``state`` (JSON-ready)."""
        with self.write("save GEM state") as conn:
            conn.execute(
                "INSERT INTO gem_state (line, state_json, saved) VALUES (?, ?, ?)"
                " ON CONFLICT (line) DO UPDATE SET state_json = excluded.state_json,"
                " saved = excluded.saved",
                (self._owner, _dumps(state), self.clock()),
            )

    def ack_alarm(self, alarm_id: int, by: str) -> AlarmEntry:
        """Acknowledge an alarm; return it. Acknowledging again keeps the first ack."""
        with self.write(f"ack alarm {alarm_id}") as conn:
            conn.execute(
                "UPDATE alarms SET acked_at = ?, acked_by = ? WHERE alarm_id = ? AND acked_at IS NULL",
                (self.clock(), by, alarm_id),
            )
            row = conn.execute(f"{_ALARM_SELECT} WHERE alarm_id = ?", (alarm_id,)).fetchone()
            if row is None:
                raise NotFound(f"no alarm {alarm_id}")
            return _alarm_json(row)

    # -- reads: lots -------------------------------------------------------------------------
    def lot(self, lot_id: str) -> LotRecord | None:
        """The lot with its recipe, counts, per-step progress and every strip's status."""
        with self.read() as conn:
            return self._lot_in(conn, lot_id)

    def lots(self) -> list[LotSummary]:
        """Every lot (summary: no recipe text, steps or strips), in submit order."""
        with self.read() as conn:
            return self._lot_summaries(conn, LOT_STATUSES)

    def open_lots(self) -> list[LotSummary]:
        """Lots queued, running or held, in submit order (what the daemon resumes)."""
        with self.read() as conn:
            return self._lot_summaries(conn, OPEN_LOT_STATUSES)

    def strip_progress(self, lot_id: str) -> dict[str, StripProgress]:
        """Where each strip of the lot stands, from its results and disposition (lot order).

        ``next_step`` is the highest step index with a result, plus one; ``input_map`` comes
        from that result's map (P -> 1, else 0); ``status`` is the disposition or ``waiting``
        (a strip caught in a step by a crash is waiting: see :meth:`in_flight`)."""
        with self.read() as conn:
            return {sid: state.progress for sid, state in self._strip_states(conn, lot_id).items()}

    def in_flight(self, lot_id: str) -> list[StepStart]:
        """Starts whose cycle has no result for at least one of its strips, not disposed: after
        a crash, the strips that were on a tool (to reconcile with the tool's own state)."""
        with self.read() as conn:
            return _in_flight(conn, lot_id)

    # -- reads: strips and units -------------------------------------------------------------
    def strip(self, strip_id: str) -> StripRecord | None:
        """A strip's lot, status and every step it went through with result map and summary."""
        with self.read() as conn:
            row = conn.execute(
                "SELECT lot_id FROM lot_strips WHERE strip_id = ?", (strip_id,)
            ).fetchone()
            if row is None:
                return None
            lot_id = row[0]
            state = self._strip_states(conn, lot_id)[strip_id]
            steps: list[StripStep] = [
                {
                    "step_index": r[0],
                    "step": r[1],
                    "station": r[2],
                    "tool": r[3],
                    "started": r[4],
                    "ended": r[5],
                    "result_map": r[6],
                    "tool_summary": json.loads(r[7]),
                    "recipe_values": json.loads(r[8]),
                }
                for r in conn.execute(
                    "SELECT step_index, step, station, tool, started, ended, result_map,"
                    " tool_summary_json, recipe_values_json FROM step_results"
                    " WHERE lot_id = ? AND strip_id = ? ORDER BY step_index",
                    (lot_id, strip_id),
                )
            ]
            return StripRecord(
                **_strip_json(state), lot_id=lot_id, disposed_at=state.disposed_at, steps=steps
            )

    def unit(self, strip_id: str, site: int) -> UnitRecord | None:
        """One unit's genealogy: every step of that site in order (``None`` for an unknown
        strip or a site outside its layout)."""
        with self.read() as conn:
            row = conn.execute(
                "SELECT s.lot_id, l.rows * l.cols FROM lot_strips s JOIN lots l USING (lot_id)"
                " WHERE s.strip_id = ?",
                (strip_id,),
            ).fetchone()
            if row is None or not 1 <= site <= row[1]:
                return None
            lot_id = row[0]
            unit_steps: list[UnitStep] = [
                {
                    "step_index": r[0],
                    "step": r[1],
                    "station": r[2],
                    "tool": r[3],
                    "started": r[4],
                    "ended": r[5],
                    "result": r[6],
                    "defect": r[7],
                    "values": json.loads(r[8]),
                    "recipe_values": json.loads(r[9]),
                }
                for r in conn.execute(
                    "SELECT r.step_index, r.step, r.station, r.tool, r.started, r.ended,"
                    " u.result, u.defect, u.values_json, r.recipe_values_json"
                    " FROM units u JOIN step_results r USING (lot_id, strip_id, step_index)"
                    " WHERE u.lot_id = ? AND u.strip_id = ? AND u.site = ?"
                    " ORDER BY r.step_index",
                    (lot_id, strip_id, site),
                )
            ]
            return UnitRecord(strip_id=strip_id, site=site, lot_id=lot_id, steps=unit_steps)

    # -- reads: alarms, stations, commands ---------------------------------------------------
    def alarms(self, *, active_only: bool) -> list[AlarmEntry]:
        """Alarms in order of time; ``active_only``: those not acknowledged."""
        where = " WHERE 1 = 1" + (" AND acked_at IS NULL" if active_only else "")
        scope, params = self._line_filter()
        with self.read() as conn:
            rows = conn.execute(
                f"{_ALARM_SELECT}{where}{scope} ORDER BY time, alarm_id", params
            ).fetchall()
        return [_alarm_json(row) for row in rows]

    def station_events(self, station: str | None = None) -> list[StateEvent]:
        """State events in order of time, of one station or all."""
        scope, params = self._line_filter()
        with self.read() as conn:
            if station is not None:
                return _events(conn, station, None, self._line_filter())
            rows = conn.execute(
                "SELECT time, station, from_state, to_state, cause FROM station_events"
                f" WHERE 1 = 1{scope} ORDER BY time, event_id",
                params,
            ).fetchall()
        return [_event(row) for row in rows]

    def cycles(self, station: str | None = None) -> list[CycleRecord]:
        """Tool cycles in order of set-up start, of one station or all."""
        base = (
            "SELECT station, tool, step, strip_ids_json, setup_started, started, ended,"
            " final_state FROM cycles WHERE 1 = 1"
        )
        query, params = self._line_filter()
        query = base + query
        if station is not None:
            query += " AND station = ?"
            params = (*params, station)
        with self.read() as conn:
            rows = conn.execute(f"{query} ORDER BY setup_started, cycle_id", params).fetchall()
        return [
            CycleRecord(r[0], r[1], r[2], tuple(json.loads(r[3])), r[4], r[5], r[6], r[7])
            for r in rows
        ]

    def state_since(self) -> dict[str, float]:
        """When each station entered its present state (its last recorded event)."""
        return self._event_time("MAX")

    def first_state_change(self) -> dict[str, float]:
        """When each station's first recorded event happened (where its E10 record starts)."""
        return self._event_time("MIN")

    def _event_time(self, aggregate: Literal["MIN", "MAX"]) -> dict[str, float]:
        scope, params = self._line_filter()
        with self.read() as conn:
            rows = conn.execute(
                f"SELECT station, {aggregate}(time) FROM station_events WHERE 1 = 1{scope}"
                " GROUP BY station",
                params,
            )
            return {str(station): float(when) for station, when in rows}

    def station_states(self) -> dict[str, tuple[str, float]]:
        """Each station's present state and since when (its last recorded event)."""
        scope, params = self._line_filter()
        with self.read() as conn:
            rows = conn.execute(
                "SELECT station, to_state, time FROM station_events"
                f" WHERE 1 = 1{scope} ORDER BY time, event_id",
                params,
            ).fetchall()
        return {str(r[0]): (str(r[1]), float(r[2])) for r in rows}

    def lines(self) -> list[str]:
        """The names of the lines with records in this database, sorted."""
        with self.read() as conn:
            rows = conn.execute(
                " UNION ".join(f"SELECT DISTINCT line FROM {table}" for table in LINE_TABLES)
            ).fetchall()
        return sorted({str(row[0]) for row in rows})

    def e10(self, until: float, *, since: float | None = None) -> dict[str, dict[str, float]]:
        """**Tool seconds** per E10 category per station from the recorded events up to
        ``until`` (wall epoch s); ``since``: only the time from then on (the state then is the
        last event's before it). The time from one event to the next counts at the time scale
        the first was recorded at, so a database reads the same at any scale it is reopened at."""
        totals: dict[str, dict[str, float]] = {}
        scope, params = self._line_filter()
        with self.read() as conn:
            stations = [
                r[0]
                for r in conn.execute(
                    f"SELECT DISTINCT station FROM station_events WHERE 1 = 1{scope}", params
                )
            ]
            for station in sorted(stations):
                events = _scaled_events(conn, station, since, (scope, params))
                if since is not None:
                    before = conn.execute(
                        "SELECT to_state, cause, time_scale FROM station_events"
                        f" WHERE station = ? AND time < ?{scope}"
                        " ORDER BY time DESC, event_id DESC LIMIT 1",
                        (station, since, *params),
                    ).fetchone()
                    if before is not None:  # the state the window opens in
                        state = PackState(before[0])
                        opening = StateEvent(since, station, state, state, before[1])
                        events.insert(0, (opening, float(before[2])))
                cycles = conn.execute(
                    f"SELECT setup_started, started, ended FROM cycles WHERE station = ?{scope}",
                    (station, *params),
                ).fetchall()
                phases = cycle_phases(
                    [CycleRecord(station, "", "", (), r[0], r[1], r[2], "") for r in cycles],
                    until=until,
                )
                seconds = _tool_seconds(events, since=since, until=until, phases=phases)
                totals[station] = {category.value: s for category, s in seconds.items()}
        return totals

    def operator_commands(self, limit: int = 100) -> list[CommandEntry]:
        """The last ``limit`` operator commands, newest first."""
        scope, params = self._line_filter()
        with self.read() as conn:
            rows = conn.execute(
                "SELECT command_id, time, target_kind, target, command, issued_by, result"
                f" FROM operator_commands WHERE 1 = 1{scope} ORDER BY command_id DESC LIMIT ?",
                (*params, max(0, limit)),
            ).fetchall()
        return [
            {
                "command_id": r[0],
                "time": r[1],
                "target_kind": r[2],
                "target": r[3],
                "command": r[4],
                "by": r[5],
                "result": r[6],
            }
            for r in rows
        ]

    # -- helpers -----------------------------------------------------------------------------
    def _lot_or_raise(self, lot_id: str) -> LotRecord:
        with self.read() as conn:
            return self._lot_or_raise_in(conn, lot_id)

    def _lot_or_raise_in(self, conn: Connection, lot_id: str) -> LotRecord:
        lot = self._lot_in(conn, lot_id)
        if lot is None:
            raise NotFound(f"no lot {lot_id}")
        return lot

    def _lot_in(self, conn: Connection, lot_id: str) -> LotRecord | None:
        row = conn.execute(f"{_LOT_SELECT} WHERE lot_id = ?", (lot_id,)).fetchone()
        if row is None:
            return None
        states = self._strip_states(conn, lot_id)
        disposed: dict[str, int] = {}
        for state in states.values():
            if state.progress.terminal:
                disposed[state.progress.status] = disposed.get(state.progress.status, 0) + 1
        lot = _lot_summary(row, list(states), disposed)
        steps = lot["steps"]
        done = {
            r[0]: r[1]
            for r in conn.execute(
                "SELECT step_index, count(*) FROM step_results WHERE lot_id = ? GROUP BY step_index",
                (lot_id,),
            )
        }
        units: dict[tuple[int, str], int] = {
            (r[0], r[1]): r[2]
            for r in conn.execute(
                "SELECT step_index, result, count(*) FROM units WHERE lot_id = ?"
                " GROUP BY step_index, result",
                (lot_id,),
            )
        }
        progress: list[StepProgress] = []
        for index, name in enumerate(steps):
            counts = {c: units.get((index, c), 0) for c in "PFXN"}
            progress.append(
                {
                    "step_index": index,
                    "step": name,
                    "strips_done": done.get(index, 0),
                    "units_in": counts["P"] + counts["F"] + counts["N"],
                    "units_passed": counts["P"],
                    "units_failed": counts["F"],
                    "units_not_processed": counts["N"],
                }
            )
        return LotRecord(
            **lot,
            recipe_text=row[4],
            progress=progress,
            strips=[_strip_json(state) for state in states.values()],
        )

    def _lot_summaries(self, conn: Connection, statuses: tuple[str, ...]) -> list[LotSummary]:
        """Lot summaries by SQL aggregates (no per-strip derivation: the daemon polls this)."""
        marks = ", ".join("?" for _ in statuses)
        scope, line = self._line_filter("l.line")
        rows = conn.execute(
            f"{_LOT_SELECT} l WHERE status IN ({marks}){scope} ORDER BY submit_seq",
            (*statuses, *line),
        ).fetchall()
        strip_ids: dict[str, list[str]] = {}
        for lot_id, strip_id in conn.execute(
            "SELECT s.lot_id, s.strip_id FROM lot_strips s JOIN lots l USING (lot_id)"
            f" WHERE l.status IN ({marks}){scope} ORDER BY s.lot_id, s.position",
            (*statuses, *line),
        ):
            strip_ids.setdefault(lot_id, []).append(strip_id)
        disposed: dict[str, dict[str, int]] = {}
        for lot_id, status, count in conn.execute(
            "SELECT d.lot_id, d.status, count(*) FROM dispositions d JOIN lots l USING (lot_id)"
            f" WHERE l.status IN ({marks}){scope} GROUP BY d.lot_id, d.status",
            (*statuses, *line),
        ):
            disposed.setdefault(lot_id, {})[status] = count
        return [
            _lot_summary(row, strip_ids.get(row[0], []), disposed.get(row[0], {})) for row in rows
        ]

    def _strip_states(self, conn: Connection, lot_id: str) -> dict[str, _StripState]:
        layout = conn.execute("SELECT rows * cols FROM lots WHERE lot_id = ?", (lot_id,)).fetchone()
        if layout is None:
            return {}
        full_map = "1" * int(layout[0])
        last: dict[str, tuple[int, str]] = {}
        for strip_id, step_index, result_map in conn.execute(
            "SELECT strip_id, step_index, result_map FROM step_results WHERE lot_id = ?"
            " ORDER BY step_index",
            (lot_id,),
        ):
            last[strip_id] = (step_index, result_map)
        disposed = {
            r[0]: (r[1], r[2], r[3])
            for r in conn.execute(
                "SELECT strip_id, status, reason, time FROM dispositions WHERE lot_id = ?",
                (lot_id,),
            )
        }
        on_tool: dict[str, str] = {}
        for start in _in_flight(conn, lot_id):
            for strip_id in start.strip_ids:
                on_tool[strip_id] = start.station
        states: dict[str, _StripState] = {}
        for strip_id, position in conn.execute(
            "SELECT strip_id, position FROM lot_strips WHERE lot_id = ? ORDER BY position",
            (lot_id,),
        ):
            index, result_map = last.get(strip_id, (-1, ""))
            status, reason, disposed_at = disposed.get(strip_id, ("waiting", "", None))
            progress = StripProgress(
                strip_id,
                _input_map(result_map) if index >= 0 else full_map,
                next_step=index + 1,
                status=status,
                reason=reason,
            )
            states[strip_id] = _StripState(
                progress,
                position,
                on_tool.get(strip_id, "") if strip_id not in disposed else "",
                disposed_at,
            )
        return states


_LOT_SELECT = (
    "SELECT lot_id, recipe_name, recipe_source, steps_json, recipe_text, rows, cols, status,"
    " reason, created, started, finished, submit_seq, priority FROM lots"
)

_ALARM_SELECT = (
    "SELECT alarm_id, lot_id, time, station, strip_ids_json, code, class, text, handling,"
    " acked_at, acked_by FROM alarms"
)


def _lot_summary(
    row: tuple[Any, ...], strip_ids: list[str], disposed: Mapping[str, int]
) -> LotSummary:
    """A lot's row with its strips and counts (``disposed``: strips per disposition)."""
    done = {status: disposed.get(status, 0) for status in STRIP_DISPOSITIONS}
    counts = StripCounts(
        {
            "complete": done["complete"],
            "scrapped": done["scrapped"],
            "on hold": done["on hold"],
            "in progress": len(strip_ids) - sum(done.values()),
        }
    )
    return {
        "lot_id": row[0],
        "recipe_name": row[1],
        "recipe_source": row[2],
        "steps": json.loads(row[3]),
        "rows": row[5],
        "cols": row[6],
        "status": row[7],
        "reason": row[8],
        "created": row[9],
        "started": row[10],
        "finished": row[11],
        "submit_seq": row[12],
        "priority": row[13],
        "strip_count": len(strip_ids),
        "strip_ids": strip_ids,
        "counts": counts,
    }


def _strip_json(state: _StripState) -> StripStatus:
    progress = state.progress
    return {
        "strip_id": progress.strip_id,
        "position": state.position,
        "status": state.shown_status,
        "reason": progress.reason,
        "station": state.station,
        "next_step": progress.next_step,
        "input_map": progress.input_map,
    }


def _alarm_json(row: tuple[Any, ...]) -> AlarmEntry:
    return {
        "alarm_id": row[0],
        "lot_id": row[1] or "",
        "time": row[2],
        "station": row[3],
        "strip_ids": json.loads(row[4]),
        "code": row[5],
        "class": row[6],
        "text": row[7],
        "handling": row[8],
        "acked_at": row[9],
        "acked_by": row[10],
        "active": row[9] is None,
    }


def _taken_strips(conn: Connection, strip_ids: list[str]) -> list[tuple[str, str]]:
    """(strip id, lot id) of the given strips already in the store, in the given order."""
    taken: dict[str, str] = {}
    for chunk_start in range(0, len(strip_ids), 500):  # below SQLite's bound-parameter limit
        chunk = strip_ids[chunk_start : chunk_start + 500]
        marks = ", ".join("?" for _ in chunk)
        for strip_id, lot_id in conn.execute(
            f"SELECT strip_id, lot_id FROM lot_strips WHERE strip_id IN ({marks})", chunk
        ):
            taken[strip_id] = lot_id
    return [(s, taken[s]) for s in strip_ids if s in taken]


def _event(row: tuple[Any, ...]) -> StateEvent:
    return StateEvent(row[0], row[1], PackState(row[2]), PackState(row[3]), row[4])


def _events(
    conn: Connection,
    station: str,
    since: float | None,
    scope: tuple[str, tuple[str, ...]] = ("", ()),
) -> list[StateEvent]:
    """One station's events in order of time (from ``since`` on, if given), of the line that
    ``scope`` (a store's ``_line_filter()``) names."""
    rows = conn.execute(
        "SELECT time, station, from_state, to_state, cause FROM station_events"
        f" WHERE station = ? AND time >= ?{scope[0]} ORDER BY time, event_id",
        (station, -math.inf if since is None else since, *scope[1]),
    ).fetchall()
    return [_event(row) for row in rows]


def _scaled_events(
    conn: Connection,
    station: str,
    since: float | None,
    scope: tuple[str, tuple[str, ...]],
) -> list[tuple[StateEvent, float]]:
    """:func:`_events` with the time scale each was recorded at."""
    rows = conn.execute(
        "SELECT time, station, from_state, to_state, cause, time_scale FROM station_events"
        f" WHERE station = ? AND time >= ?{scope[0]} ORDER BY time, event_id",
        (station, -math.inf if since is None else since, *scope[1]),
    ).fetchall()
    return [(_event(row), float(row[5])) for row in rows]


def _tool_seconds(
    events: list[tuple[StateEvent, float]],
    *,
    since: float | None,
    until: float,
    phases: list[Phase],
) -> dict[E10, float]:
    """E10 tool seconds of one station's events in time order, each with its time scale: every
    run of events at one scale is counted by :func:`e10_seconds` from its first event (or
    ``since``) to the next run's first event (or ``until``), times that scale."""
    totals = dict.fromkeys(E10, 0.0)
    first = 0
    while first < len(events):
        scale = events[first][1]
        last = first
        while last + 1 < len(events) and events[last + 1][1] == scale:
            last += 1
        end = events[last + 1][0].time if last + 1 < len(events) else until
        start = since if first == 0 else events[first][0].time
        run = [event for event, _ in events[first : last + 1]]
        for category, s in e10_seconds(run, until=end, start=start, phases=phases).items():
            totals[category] += s * scale
        first = last + 1
    return totals


def _in_flight(conn: Connection, lot_id: str) -> list[StepStart]:
    done = {
        (r[0], r[1])
        for r in conn.execute(
            "SELECT strip_id, step_index FROM step_results WHERE lot_id = ?", (lot_id,)
        )
    }
    disposed = {
        r[0] for r in conn.execute("SELECT strip_id FROM dispositions WHERE lot_id = ?", (lot_id,))
    }
    pending = []
    for r in conn.execute(
        "SELECT strip_ids_json, step_index, step, station, started FROM step_starts"
        " WHERE lot_id = ? ORDER BY started, start_id",
        (lot_id,),
    ):
        start = StepStart(lot_id, tuple(json.loads(r[0])), r[1], r[2], r[3], r[4])
        if any(s not in disposed and (s, start.step_index) not in done for s in start.strip_ids):
            pending.append(start)
    return pending
