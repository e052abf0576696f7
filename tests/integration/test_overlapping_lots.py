"""Lots overlap (controller on a real store, simulators over real transports): the next lot's
strips enter a station as soon as it is free, whatever lot they belong to; a free station serves
the lot that started first (FIFO)."""

from __future__ import annotations

from pathlib import Path

from tests.support.line_controller import running_controller, wait_lot_status


def test_two_lots_back_to_back_overlap_and_the_first_goes_first_at_each_station(
    tmp_path: Path,
) -> None:
    with running_controller(tmp_path / "overlap.db") as (controller, store, _):
        controller.submit_lot(recipe=None, strips=2, strip_ids=None, lot_id="F1", by="t")
        controller.submit_lot(recipe=None, strips=2, strip_ids=None, lot_id="F2", by="t")
        first = wait_lot_status(controller, "F1", "complete", timeout_s=50)
        second = wait_lot_status(controller, "F2", "complete", timeout_s=50)
        cycles = store.cycles()
    strips = first["strips"] + second["strips"]
    assert [s["status"] for s in strips] == ["complete"] * 4, [s.get("reason") for s in strips]
    starts = {
        lot: min(c.started for c in cycles if any(s.startswith(f"{lot}-") for s in c.strip_ids))
        for lot in ("F1", "F2")
    }
    f1_last_end = max(c.ended for c in cycles if any(s.startswith("F1-") for s in c.strip_ids))
    assert starts["F2"] < f1_last_end, "F2 started while F1 was still on the line"
    # The first station: every F1 strip is laminated before any F2 strip (both were waiting).
    laminated = [
        c.strip_ids for c in sorted(cycles, key=lambda c: c.started) if c.station == "laminator"
    ]
    lots = [strip[:2] for batch in laminated for strip in batch]
    assert lots == sorted(lots), f"the laminator served F2 before F1: {laminated}"
