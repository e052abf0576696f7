"""Lots of two recipes share the line (a real ``packline serve --simulate`` process, real SQLite,
real HTTP): they overlap and complete, and a tool that needs another tool recipe for the next
strip is changed over; its heat-up counts as set-up (E10 scheduled down), never productive."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.support.daemon_process import DaemonProcess

TOKEN = "two-recipes-token"
SCALE = 2000.0
SAW = "dicing-saw"
#: The saw's warm-up after a recipe load (dicing-saw manual: 60 s), less polling slack.
WARM_UP_TOOL_S = 50.0


@pytest.mark.timeout(150)
def test_overlapping_lots_of_two_recipes_complete_and_the_changeover_is_set_up(
    tmp_path: Path,
) -> None:
    db = tmp_path / "two.db"
    with DaemonProcess(db, TOKEN, time_scale=SCALE) as daemon:
        for body in (
            {"recipe": "heat-slug-die-equal", "strips": 2, "lot_id": "HS"},
            {"recipe": "film-laser-wire", "strips": 1, "lot_id": "FL"},
        ):
            reply = daemon.post("/lots", body)
            assert reply.status_code == 201, reply.text
        lots = {lot_id: daemon.wait_lot(lot_id, 90) for lot_id in ("HS", "FL")}
        saw = daemon.http.get(f"/stations/{SAW}").json()
    for lot in lots.values():
        assert {s["status"] for s in lot["strips"]} == {"complete"}, lot["strips"]
    with sqlite3.connect(db) as conn:
        cycles = [
            (json.loads(ids)[0][:2], setup_started, started, ended)
            for ids, setup_started, started, ended in conn.execute(
                "SELECT strip_ids_json, setup_started, started, ended FROM cycles"
                " WHERE station = ? AND final_state = 'DONE' ORDER BY setup_started",
                (SAW,),
            )
        ]
        spans = {
            lot: (min(c[1] for c in rows), max(c[3] for c in rows))
            for lot in ("HS", "FL")
            if (
                rows := conn.execute(
                    "SELECT strip_ids_json, setup_started, started, ended FROM cycles"
                    " WHERE strip_ids_json LIKE ?",
                    (f'%"{lot}-%',),
                ).fetchall()
            )
        }
    first, second = sorted(spans.values())
    assert second[0] < first[1], f"the lots did not overlap: {spans}"
    assert sorted(c[0] for c in cycles) == ["FL", "HS", "HS"], cycles
    setup_tool_s = [(c[2] - c[1]) * SCALE for c in cycles]
    changeovers = [k for k in range(1, len(cycles)) if cycles[k][0] != cycles[k - 1][0]]
    assert changeovers, f"the saw never changed recipe: {cycles}"
    for k in changeovers:
        assert setup_tool_s[k] >= WARM_UP_TOOL_S, (
            f"changeover to {cycles[k][0]} took {setup_tool_s[k]:.0f} tool s of set-up"
        )
    e10_tool_s = saw["e10_tool_s"]  # the store's wall seconds x the time scale
    changeover_tool_s = sum(setup_tool_s[k] for k in changeovers)
    assert e10_tool_s["scheduled down"] >= changeover_tool_s * 0.99, e10_tool_s
    busy_tool_s = sum(c[3] - c[2] for c in cycles) * SCALE
    assert e10_tool_s["productive"] <= busy_tool_s * 1.01, "set-up is never productive"
