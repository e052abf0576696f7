"""The GEM spool in the store: messages kept in the order raised, across a restart, and a
database of the schema before the spool gains it with its records intact."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import packline.store.store as store_module
from packline.store import Store
from packline.store.schema import MIGRATIONS


def test_spooled_messages_come_back_in_order_after_reopening(tmp_path: Path) -> None:
    path = tmp_path / "line.db"
    with Store(path) as store:
        first = store.spool_put(6, 11, {"CEID": 4001, "RPT": []})
        store.spool_put(5, 1, {"ALID": 7, "ALCD": 128, "ALTX": "x"})
        store.spool_put(6, 11, {"CEID": 4002, "RPT": []})
        store.spool_remove(first)
    with Store(path) as store:
        kept = store.spool_first()
        assert [(stream, function, body) for _, stream, function, body in kept] == [
            (5, 1, {"ALID": 7, "ALCD": 128, "ALTX": "x"}),
            (6, 11, {"CEID": 4002, "RPT": []}),
        ]
        assert store.spool_count() == 2
        assert store.spool_purge() == 2
        assert store.spool_first() == []


def test_a_store_of_the_previous_version_gains_the_spool_and_keeps_its_lots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.db"
    spool_version = MIGRATIONS.index(next(m for m in MIGRATIONS if "CREATE TABLE gem_spool" in m))
    monkeypatch.setattr(store_module, "MIGRATIONS", MIGRATIONS[:spool_version])
    Store(path).close()
    with sqlite3.connect(path) as conn:  # a lot as that version wrote it (its own columns)
        conn.execute(
            "INSERT INTO lots (lot_id, submit_seq, recipe_name, recipe_source, recipe_text, rows,"
            " cols, steps_json, status, reason, created)"
            " VALUES ('L1', 1, 'r', 'r.yaml', 'name: r', 1, 2, '[\"mold\"]', 'queued', '', 0)"
        )
        conn.execute(
            "INSERT INTO lot_strips (lot_id, strip_id, position) VALUES ('L1', 'L1-01', 0)"
        )
    monkeypatch.setattr(store_module, "MIGRATIONS", MIGRATIONS)
    with Store(path) as store:
        assert store.schema_version == len(MIGRATIONS)
        assert store.lot("L1") is not None
        store.spool_put(6, 11, {"CEID": 1})
        assert store.spool_count() == 1
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM lots").fetchone()[0] == 1
