"""The store's SQLite schema as an ordered list of migrations, and how a script is split.

``MIGRATIONS[n - 1]`` takes a database from schema version ``n - 1`` to ``n``; version 0 is an
empty file. A migration is never edited once released: a change is a new script at the end.
Every table and key is explained in docs/store.md.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

V1 = """
CREATE TABLE schema_version (
    version INTEGER PRIMARY KEY,
    applied REAL NOT NULL
);

CREATE TABLE lots (
    lot_id TEXT PRIMARY KEY,
    submit_seq INTEGER NOT NULL UNIQUE,
    recipe_name TEXT NOT NULL,
    recipe_source TEXT NOT NULL,
    recipe_text TEXT NOT NULL,
    rows INTEGER NOT NULL CHECK (rows > 0),
    cols INTEGER NOT NULL CHECK (cols > 0),
    steps_json TEXT NOT NULL,
    status TEXT NOT NULL
        CHECK (status IN ('queued', 'running', 'held', 'aborting', 'complete', 'aborted')),
    reason TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    started REAL,
    finished REAL
);
CREATE INDEX lots_by_status ON lots (status, submit_seq);

CREATE TABLE lot_strips (
    lot_id TEXT NOT NULL REFERENCES lots (lot_id),
    strip_id TEXT NOT NULL UNIQUE,
    position INTEGER NOT NULL,
    PRIMARY KEY (lot_id, strip_id),
    UNIQUE (lot_id, position)
);

CREATE TABLE step_starts (
    start_id INTEGER PRIMARY KEY,
    lot_id TEXT NOT NULL REFERENCES lots (lot_id),
    strip_ids_json TEXT NOT NULL,
    step_index INTEGER NOT NULL CHECK (step_index >= 0),
    step TEXT NOT NULL,
    station TEXT NOT NULL,
    started REAL NOT NULL,
    UNIQUE (lot_id, station, step_index, started)
);

CREATE TABLE step_results (
    result_id INTEGER PRIMARY KEY,
    lot_id TEXT NOT NULL,
    strip_id TEXT NOT NULL,
    step_index INTEGER NOT NULL CHECK (step_index >= 0),
    step TEXT NOT NULL,
    station TEXT NOT NULL,
    tool TEXT NOT NULL,
    started REAL NOT NULL,
    ended REAL NOT NULL,
    result_map TEXT NOT NULL,
    tool_summary_json TEXT NOT NULL,
    recipe_values_json TEXT NOT NULL,
    UNIQUE (lot_id, strip_id, step_index),
    FOREIGN KEY (lot_id, strip_id) REFERENCES lot_strips (lot_id, strip_id)
);

CREATE TABLE units (
    lot_id TEXT NOT NULL,
    strip_id TEXT NOT NULL,
    step_index INTEGER NOT NULL,
    site INTEGER NOT NULL CHECK (site >= 1),
    result TEXT NOT NULL,
    defect INTEGER NOT NULL,
    values_json TEXT NOT NULL,
    PRIMARY KEY (lot_id, strip_id, step_index, site),
    FOREIGN KEY (lot_id, strip_id, step_index)
        REFERENCES step_results (lot_id, strip_id, step_index)
);

CREATE TABLE cycles (
    cycle_id INTEGER PRIMARY KEY,
    station TEXT NOT NULL,
    tool TEXT NOT NULL,
    step TEXT NOT NULL,
    strip_ids_json TEXT NOT NULL,
    setup_started REAL NOT NULL,
    started REAL NOT NULL,
    ended REAL NOT NULL,
    final_state TEXT NOT NULL,
    UNIQUE (station, setup_started)
);

CREATE TABLE dispositions (
    lot_id TEXT NOT NULL,
    strip_id TEXT NOT NULL PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('complete', 'scrapped', 'on hold')),
    reason TEXT NOT NULL,
    time REAL NOT NULL,
    FOREIGN KEY (lot_id, strip_id) REFERENCES lot_strips (lot_id, strip_id)
);
CREATE INDEX dispositions_by_lot ON dispositions (lot_id);

CREATE TABLE alarms (
    alarm_id INTEGER PRIMARY KEY,
    lot_id TEXT REFERENCES lots (lot_id),
    time REAL NOT NULL,
    station TEXT NOT NULL,
    strip_ids_json TEXT NOT NULL,
    code INTEGER NOT NULL,
    class TEXT NOT NULL,
    text TEXT NOT NULL,
    handling TEXT NOT NULL,
    acked_at REAL,
    acked_by TEXT,
    UNIQUE (station, time, code)
);
CREATE INDEX alarms_active ON alarms (alarm_id) WHERE acked_at IS NULL;

CREATE TABLE station_events (
    event_id INTEGER PRIMARY KEY,
    time REAL NOT NULL,
    station TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    cause TEXT NOT NULL,
    UNIQUE (station, time, from_state, to_state)
);

CREATE TABLE operator_commands (
    command_id INTEGER PRIMARY KEY,
    time REAL NOT NULL,
    target_kind TEXT NOT NULL,
    target TEXT NOT NULL,
    command TEXT NOT NULL,
    issued_by TEXT NOT NULL,
    result TEXT NOT NULL
);
"""

#: Named users with a role and a hashed password, and the API tokens that belong to them (only
#: a token's SHA-256 is kept: a token is random, so a slow hash adds nothing).
USERS = """
CREATE TABLE users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'engineer')),
    password_hash TEXT NOT NULL,
    created REAL NOT NULL
);

CREATE TABLE api_tokens (
    token_sha256 TEXT PRIMARY KEY,
    user_name TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    label TEXT NOT NULL,
    created REAL NOT NULL,
    expires REAL
);
"""

#: The GEM front's outbox and spool (docs/gem.md, "Spooling"): S6F11 and S5F1 messages in the
#: order they were raised, each kept until the host has acknowledged it; per line, as the
#: tables of :data:`LINES` (``seq`` is the rowid: a new message always gets the largest).
GEM_SPOOL = """
CREATE TABLE gem_spool (
    seq INTEGER PRIMARY KEY,
    created REAL NOT NULL,
    stream INTEGER NOT NULL CHECK (stream IN (5, 6)),
    function INTEGER NOT NULL,
    body_json TEXT NOT NULL,
    line TEXT NOT NULL DEFAULT ''
);
"""

#: Several lines in one database: lots, station events, cycles, alarms and operator commands
#: carry the line they belong to ('' until a line's daemon opens the store and adopts them).
#: Lot and strip ids stay unique plant-wide (their existing keys).
LINES = """
ALTER TABLE lots ADD COLUMN line TEXT NOT NULL DEFAULT '';
ALTER TABLE station_events ADD COLUMN line TEXT NOT NULL DEFAULT '';
ALTER TABLE cycles ADD COLUMN line TEXT NOT NULL DEFAULT '';
ALTER TABLE alarms ADD COLUMN line TEXT NOT NULL DEFAULT '';
ALTER TABLE operator_commands ADD COLUMN line TEXT NOT NULL DEFAULT '';
CREATE INDEX lots_by_line ON lots (line, status, submit_seq);
CREATE INDEX station_events_by_line ON station_events (line, station, time);
"""

#: The tables whose rows belong to a line (the ``line`` column of :data:`LINES`).
LINE_TABLES = ("lots", "station_events", "cycles", "alarms", "operator_commands", "gem_spool")

#: Lot priority (issue 8): higher goes first at a free station; FIFO (submit_seq) within one.
LOT_PRIORITY = """
ALTER TABLE lots ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
"""

#: Keys that name a station include the line (two lines may both have a ``die-bonder-1``): the
#: three tables keyed by station are rebuilt with ``line`` in their UNIQUE keys, their rows and
#: ids kept (SQLite cannot alter a table's constraints; PostgreSQL's identities are set past the
#: copied ids after the migration, see ``PgConnection.resync_identities``).
STATION_KEYS = """
CREATE TABLE cycles_v5 (
    cycle_id INTEGER PRIMARY KEY,
    line TEXT NOT NULL DEFAULT '',
    station TEXT NOT NULL,
    tool TEXT NOT NULL,
    step TEXT NOT NULL,
    strip_ids_json TEXT NOT NULL,
    setup_started REAL NOT NULL,
    started REAL NOT NULL,
    ended REAL NOT NULL,
    final_state TEXT NOT NULL,
    UNIQUE (line, station, setup_started)
);
INSERT INTO cycles_v5 (cycle_id, line, station, tool, step, strip_ids_json, setup_started,
    started, ended, final_state)
SELECT cycle_id, line, station, tool, step, strip_ids_json, setup_started, started, ended,
    final_state FROM cycles;
DROP TABLE cycles;
ALTER TABLE cycles_v5 RENAME TO cycles;

CREATE TABLE alarms_v5 (
    alarm_id INTEGER PRIMARY KEY,
    line TEXT NOT NULL DEFAULT '',
    lot_id TEXT REFERENCES lots (lot_id),
    time REAL NOT NULL,
    station TEXT NOT NULL,
    strip_ids_json TEXT NOT NULL,
    code INTEGER NOT NULL,
    class TEXT NOT NULL,
    text TEXT NOT NULL,
    handling TEXT NOT NULL,
    acked_at REAL,
    acked_by TEXT,
    UNIQUE (line, station, time, code)
);
INSERT INTO alarms_v5 (alarm_id, line, lot_id, time, station, strip_ids_json, code, class, text,
    handling, acked_at, acked_by)
SELECT alarm_id, line, lot_id, time, station, strip_ids_json, code, class, text, handling,
    acked_at, acked_by FROM alarms;
DROP TABLE alarms;
ALTER TABLE alarms_v5 RENAME TO alarms;
CREATE INDEX alarms_active ON alarms (alarm_id) WHERE acked_at IS NULL;

CREATE TABLE station_events_v5 (
    event_id INTEGER PRIMARY KEY,
    line TEXT NOT NULL DEFAULT '',
    time REAL NOT NULL,
    station TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    cause TEXT NOT NULL,
    UNIQUE (line, station, time, from_state, to_state)
);
INSERT INTO station_events_v5 (event_id, line, time, station, from_state, to_state, cause)
SELECT event_id, line, time, station, from_state, to_state, cause FROM station_events;
DROP TABLE station_events;
ALTER TABLE station_events_v5 RENAME TO station_events;
CREATE INDEX station_events_by_line ON station_events (line, station, time);
"""

#: The MQTT front's queue (docs/mqtt.md, "Queue"): messages for the broker in the order raised,
#: each kept until the broker has acknowledged it (PUBACK), per line; bounded by the front,
#: which drops the oldest beyond its limit. ``seq`` counts a line's messages from 1 without
#: gaps (``mqtt_counters`` keeps the last one given), so a subscriber can tell a dropped one.
MQTT_QUEUE = """
CREATE TABLE mqtt_counters (
    line TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL
);

CREATE TABLE mqtt_queue (
    line TEXT NOT NULL,
    seq INTEGER NOT NULL,
    created REAL NOT NULL,
    topic TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    retain INTEGER NOT NULL CHECK (retain IN (0, 1)),
    PRIMARY KEY (line, seq)
);
"""

#: What the factory host set up on the GEM equipment (report definitions, links, enabled
#: events and alarms, equipment constants), one JSON document per line, so that it survives a
#: restart of the daemon (docs/gem.md, "What the host sets up").
GEM_STATE = """
CREATE TABLE gem_state (
    line TEXT PRIMARY KEY,
    state_json TEXT NOT NULL,
    saved REAL NOT NULL
);
"""

#: E10 in tool seconds whatever the time scale a database is reopened at: each state event
#: keeps the time scale it was recorded at (tool seconds per wall second: a daemon's
#: ``--time-scale``, 1 on a real line), which counts for the time until the next event.
#: Events recorded before this migration count at 1.
E10_TIME_SCALE = """
ALTER TABLE station_events ADD COLUMN time_scale REAL NOT NULL DEFAULT 1.0;
"""

#: Schema migrations in order; the code's schema version is ``len(MIGRATIONS)``.
MIGRATIONS: tuple[str, ...] = (
    V1,
    USERS,
    LINES,
    GEM_SPOOL,
    LOT_PRIORITY,
    STATION_KEYS,
    MQTT_QUEUE,
    GEM_STATE,
    E10_TIME_SCALE,
)


def statements(script: str) -> Iterator[str]:
    """The complete SQL statements of ``script`` in order (a ``;`` inside a string literal or a
    trigger body does not end a statement: :func:`sqlite3.complete_statement` decides)."""
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \t\r\n;"):
                yield pending.strip()
            pending = ""
