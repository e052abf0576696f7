"""Operator commands take effect or are refused, never half (controller on a real store, the
simulated line over real transports): a hold refused on an idle station leaves its next cycle
alone; a lot aborted while one of its stations is held ends aborted; suspend is not an operator
command."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from packline.daemon.controller import LineController
from packline.errors import Conflict, Invalid
from packline.store import Store
from sequences.packml import PackState
from tests.support.integration_waits import wait_until
from tests.support.line_controller import running_controller
from tests.support.line_controller import wait_lot_status as wait_status


@pytest.fixture
def controller(tmp_path: Path) -> Iterator[tuple[LineController, Store]]:
    with running_controller(tmp_path / "commands.db") as (line, store, _):
        yield line, store


def test_hold_refused_on_an_idle_station_changes_nothing_and_the_next_cycle_runs(
    controller: tuple[LineController, Store],
) -> None:
    line, store = controller
    line.submit_lot(recipe=None, strips=1, strip_ids=None, lot_id="N0", by="t")
    wait_status(line, "N0", "complete", timeout_s=40)  # the line is now IDLE, as after any lot
    before = list(store.station_events("laminator"))
    with pytest.raises(Conflict, match="'hold' is not allowed in IDLE"):
        line.station_command("laminator", "hold", by="operator")
    assert line.stations["laminator"].state is PackState.IDLE
    assert list(store.station_events("laminator")) == before
    line.submit_lot(recipe=None, strips=1, strip_ids=None, lot_id="N1", by="t")
    lot = wait_status(line, "N1", "complete", timeout_s=40)
    assert [s["status"] for s in lot["strips"]] == ["complete"]
    states = {e.to_state for e in store.station_events("laminator")[len(before) :]}
    assert len(store.station_events("laminator")) > len(before), "it ran N1's cycle"
    assert PackState.HELD not in states, "the refused hold did not pause the next cycle"


def test_lot_aborted_while_its_station_is_held_ends_aborted(
    controller: tuple[LineController, Store],
) -> None:
    line, _ = controller
    line.submit_lot(recipe=None, strips=2, strip_ids=None, lot_id="A1", by="t")
    laminator = line.stations["laminator"]
    wait_until(
        lambda: laminator.current_strips and laminator.state is PackState.EXECUTE,
        30,
        "the lot never reached the laminator",
        poll_s=0.005,
    )
    assert line.station_command("laminator", "hold", by="operator")["state"] == "HELD"
    assert line.lot_command("A1", "abort", by="operator")["status"] == "aborting"
    lot = wait_status(line, "A1", "aborted", timeout_s=30)
    assert {s["status"] for s in lot["strips"]} == {"on hold"}
    wait_until(
        lambda: laminator.state is PackState.IDLE, 10, lambda: laminator.state
    )  # not at fault: it takes the next lot's work


def test_suspend_is_not_an_operator_command(controller: tuple[LineController, Store]) -> None:
    line, _ = controller
    before = line.stations["laminator"].state
    for command in ("suspend", "unsuspend"):
        with pytest.raises(Invalid, match="unknown station command") as refused:
            line.station_command("laminator", command, by="operator")
        assert "hold" in str(refused.value) and "suspend" not in str(refused.value).split(";")[1]
    assert line.stations["laminator"].state is before
