"""The fault API (sim/faults.py) refuses an alarm code outside the tool's table with a clear
ValueError, nothing queued; a fault queued around it cannot kill the tool's thread either."""

from __future__ import annotations

import pytest

from drivers.mold_press import MoldPress
from sim.faults import FaultInjector, ProcessFault, Trigger
from sim.line import SimulatedLine, StationSim
from tests.support.integration_waits import wait_until


def test_faults_alarm_with_an_unknown_code_is_refused_naming_the_code_and_the_table() -> None:
    with SimulatedLine([StationSim("press", "mold-press")], time_scale=1000).start() as line:
        faults = line.faults("press")
        with pytest.raises(
            ValueError, match=r"alarm 9999 is not in the mold-press alarm table: 4001, 4002"
        ):
            faults.alarm(9999)
        with pytest.raises(ValueError, match="not an alarm code"):
            faults.alarm("4001")  # type: ignore[arg-type]
        assert faults.process == []  # nothing queued
        with MoldPress.open(line.address("press")) as press:
            assert press.identify().model == "TM-4"
            faults.alarm(4004)  # a code of the table still works
            wait_until(
                lambda: 4004 in press.active_alarms(), 5.0, "alarm 4004 never raised", poll_s=0.05
            )


def test_an_unknown_alarm_queued_around_the_api_is_logged_and_the_tool_keeps_serving(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with SimulatedLine([StationSim("press", "mold-press")], time_scale=1000).start() as line:
        tool = line.tools["press"]
        with tool.faults.lock:  # what the API refuses, put in by hand
            tool.faults.process.append(ProcessFault(Trigger.from_dict(None), alarm=9999))
        tool.model.sync()  # the ticker thread applies faults the same way
        assert "unknown alarm 9999 ignored" in caplog.text
        assert 9999 not in tool.model.active_alarms
        with MoldPress.open(line.address("press")) as press:
            assert press.identify().model == "TM-4"


def test_an_injector_prepared_with_a_foreign_alarm_is_refused_when_the_tool_takes_it() -> None:
    faults = FaultInjector()
    faults.alarm(3101)  # not yet bound to a tool: accepted for now
    with pytest.raises(ValueError, match="alarm 3101 is not in the mold-press alarm table"):
        SimulatedLine(
            [StationSim("press", "mold-press", {"faults": faults})], time_scale=1000
        ).start()
