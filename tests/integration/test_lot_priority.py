"""Lot priority (controller on a real store, simulators over real transports): at a free station
the lot of higher priority goes first, FIFO within a priority; a priority changed while the lot
waits counts from the next free station on."""

from __future__ import annotations

from pathlib import Path

import pytest

from packline.errors import Conflict, Invalid
from tests.support.line_controller import running_controller, wait_lot_status, wait_strips_at

#: The first single-strip station of the default route (the laminator before it is a batch
#: tool, which takes all four lots in one load).
FIRST = "die-bonder"


def test_a_free_station_serves_the_highest_priority_first_and_fifo_within_one(
    tmp_path: Path,
) -> None:
    with running_controller(tmp_path / "priority.db") as (controller, store, _):
        # The first station out of service, so that every lot's strip waits for it at once.
        controller.station_service(FIRST, enable=False, reason="priority test", by="t")
        for lot_id, priority in (("A", 0), ("B", 5), ("C", 5), ("D", 0)):
            lot = controller.submit_lot(
                recipe=None, strips=1, strip_ids=None, lot_id=lot_id, by="t", priority=priority
            )
            assert lot["priority"] == priority
        assert controller.set_lot_priority("D", 9, by="t")["priority"] == 9
        wait_strips_at(store, "ABCD", 1)  # laminated, all waiting for the die bonder
        controller.station_service(FIRST, enable=True, reason="", by="t")
        for lot_id in "ABCD":
            wait_lot_status(controller, lot_id, "complete", timeout_s=60)
        bonded = [c.strip_ids[0][0] for c in sorted(store.cycles(FIRST), key=lambda c: c.started)]
        with pytest.raises(Conflict, match="complete"):
            controller.set_lot_priority("A", 1, by="t")
        commands = [(c["target"], c["command"], c["result"]) for c in store.operator_commands()]
    assert bonded == ["D", "B", "C", "A"], "priority first, then submit order"
    assert ("D", "priority", "9") in commands


@pytest.mark.parametrize(
    ("priority", "message"),
    [(True, "must be an integer"), ("5", "must be an integer"), (1001, "-1000..1000")],
)
def test_a_bad_priority_is_refused_and_no_lot_is_queued(
    tmp_path: Path, priority: object, message: str
) -> None:
    with running_controller(tmp_path / "bad.db") as (controller, store, _):
        with pytest.raises(Invalid, match=message):
            controller.submit_lot(
                recipe=None, strips=1, strip_ids=None, lot_id="X", by="t", priority=priority
            )  # type: ignore[arg-type]
        assert store.lots() == []
