"""``packline station disable|enable``: out of service is E10 scheduled down; a disabled station
finishes its cycle and gets no new work (controller on a real store, simulators over real
transports); over real HTTP and the CLI, a reason is required and reset cannot bypass it."""

from __future__ import annotations

from pathlib import Path

import pytest

from packline.cli import main
from sequences.packml import E10, PackState
from tests.support.daemon_process import DaemonProcess
from tests.support.integration_waits import wait_until
from tests.support.line_controller import running_controller, wait_lot_status

TOKEN = "test-token-service"


def test_disabled_wire_bonder_finishes_its_cycle_gets_no_new_work_and_counts_scheduled_down(
    tmp_path: Path,
) -> None:
    with running_controller(tmp_path / "service.db") as (controller, store, _):
        bonder = controller.stations["wire-bonder-1"]
        controller.submit_lot(recipe=None, strips=4, strip_ids=None, lot_id="S1", by="t")
        wait_until(lambda: bonder.current_strips, 40, "wire-bonder-1 never got work", poll_s=0.005)
        working_on = bonder.current_strips
        view = controller.station_service(
            "wire-bonder-1", enable=False, reason="capillary change", by="op"
        )
        assert view["disabled"] == "capillary change"
        assert view["state"] == "STOPPED"
        lot = wait_lot_status(controller, "S1", "complete")
        assert [s["status"] for s in lot["strips"]] == ["complete"] * 4
        bonded = [c.strip_ids for c in store.cycles("wire-bonder-1")]
        assert bonded == [working_on], "it finished what it had, and took nothing after"
        assert controller.e10()["wire-bonder-1"][E10.SCHEDULED_DOWN.value] > 0
        controller.submit_lot(recipe=None, strips=1, strip_ids=None, lot_id="S2", by="t")
        wait_lot_status(controller, "S2", "complete")
        assert len(store.cycles("wire-bonder-1")) == 1, "the next lot did not re-enable it"
        assert bonder.state is PackState.STOPPED
        controller.station_service("wire-bonder-1", enable=True, reason="", by="op")
        assert bonder.state is PackState.IDLE


def test_disable_needs_a_reason_and_reset_does_not_bypass_it_over_http_and_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PACKLINE_TOKEN", TOKEN)
    with DaemonProcess(tmp_path / "svc.db", TOKEN) as daemon:
        refused = daemon.post("/stations/laser/disable", {})
        assert refused.status_code == 400 and "reason" in refused.json()["error"]
        cli = ["station", "disable", "laser", "--reason", "lens clean", "--url", daemon.url]
        assert main(cli) == 0
        assert "station laser disabled: STOPPED (lens clean)" in capsys.readouterr().out
        reset = daemon.post("/stations/laser/reset")
        assert reset.status_code == 409 and "disabled (lens clean)" in reset.json()["error"]
        assert daemon.post("/stations/laser/disable", {"reason": "again"}).status_code == 409
        assert main(["station", "enable", "laser", "--url", daemon.url]) == 0
        shown = daemon.http.get("/stations/laser").json()
        assert shown["state"] == "IDLE" and shown["disabled"] is None
        assert shown["e10_tool_s"][E10.SCHEDULED_DOWN.value] > 0
