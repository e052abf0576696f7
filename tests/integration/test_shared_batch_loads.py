"""Batch loads shared between lots (controller on a real store, simulators over real
transports): a batch tool fills one load from every running lot waiting at the same step with
the same set-points, and each strip's records stay with its own lot."""

from __future__ import annotations

from pathlib import Path

from packline.lot_reports import LotReports
from sequences.line_config import load_line_config
from tests.support.line_controller import running_controller, wait_lot_status, wait_strips_at

PRESS = "mold-press"
MOLD = 3  # the default recipe: laminate, die attach, wire bond, mold, ...


def test_two_lots_waiting_at_the_press_share_one_load_and_keep_their_own_records(
    tmp_path: Path,
) -> None:
    with running_controller(tmp_path / "shared.db") as (controller, store, _):
        controller.station_service(PRESS, enable=False, reason="fill test", by="t")
        controller.submit_lot(recipe=None, strips=2, strip_ids=None, lot_id="S1", by="t")
        controller.submit_lot(recipe=None, strips=1, strip_ids=None, lot_id="S2", by="t")
        wait_strips_at(store, ("S1", "S2"), MOLD)
        controller.station_service(PRESS, enable=True, reason="", by="t")
        for lot_id in ("S1", "S2"):
            wait_lot_status(controller, lot_id, "complete", timeout_s=50)
        loads = [c.strip_ids for c in store.cycles(PRESS)]
        reports = LotReports(store, load_line_config())
        units = {lot: reports.csv(lot).splitlines()[1:] for lot in ("S1", "S2")}
        mold_strips = {
            lot: sorted({(r.split(",")[1]) for r in rows if r.split(",")[4] == "mold"})
            for lot, rows in units.items()
        }
        mold_yield = {
            lot: next(r for r in reports.report(lot)["yield"]["per_step"] if r["step"] == "mold")
            for lot in ("S1", "S2")
        }
    assert loads == [("S1-01", "S1-02", "S2-01")], "one press load held both lots' strips"
    assert mold_strips == {"S1": ["S1-01", "S1-02"], "S2": ["S2-01"]}
    for lot, rows in units.items():
        assert rows and all(row.startswith(f"{lot},{lot}-") for row in rows), (
            f"lot {lot}'s unit export holds only its own strips"
        )
    assert (mold_yield["S1"]["strips"], mold_yield["S2"]["strips"]) == (2, 1)
    assert (mold_yield["S1"]["units_in"], mold_yield["S2"]["units_in"]) == (60, 30)
