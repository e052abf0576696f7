"""An unexpected exception inside a front or model never kills an endpoint: it is logged with
the request, answered with the closest manual error (decisions.md), and the tool keeps
serving. An endpoint that can no longer serve makes ``sim serve`` stop with the reason."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, NoReturn

import pytest

from packline.sim_serve import dead_endpoint, watch_endpoints
from sim.line import SimulatedLine, StationSim
from sim.simulated_tool import SimulatedTool
from tests.support.raw_clients import (
    FramedClient,
    LineClient,
    ScpiClient,
    link_for,
    modbus_client,
    read_pdu,
)


def explode(*_: Any, **__: Any) -> NoReturn:
    raise RuntimeError("simulated bug")


@pytest.mark.parametrize("transport", ["tcp", "pty"])
def test_scpi_front_bug_queues_224_and_the_tool_keeps_answering(
    sim_tool: Callable[..., SimulatedTool],
    transport: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    simulated = sim_tool("die-bonder", transport=transport)
    monkeypatch.setattr(simulated.model, "set_size", explode)
    with ScpiClient(link_for(simulated.address), tool=simulated) as client:
        with caplog.at_level(logging.ERROR):
            client.write("STR:SIZE 3,10")
            assert client.errors() == ['-224,"Illegal parameter value"']
        assert "STR:SIZE 3,10" in caplog.text  # logged with the request
        assert (client.query("*IDN?") or "").startswith("GENERIC,DB-4,")


def test_line_front_bug_answers_er_12_and_the_tool_keeps_answering(
    sim_tool: Callable[..., SimulatedTool], monkeypatch: pytest.MonkeyPatch
) -> None:
    simulated = sim_tool("metrology")
    monkeypatch.setattr(simulated.model, "set_size", explode)
    with LineClient(link_for(simulated.address)) as client:
        assert client.final("SIZE 3,10") == "ER 12,Bad parameter"
        assert client.final("ID?").startswith("OK GENERIC,MS-3,")


def test_framed_front_bug_answers_nak_12_and_the_tool_keeps_answering(
    sim_tool: Callable[..., SimulatedTool], monkeypatch: pytest.MonkeyPatch
) -> None:
    simulated = sim_tool("wire-bonder")
    monkeypatch.setattr(simulated.model, "set_size", explode)
    with FramedClient(link_for(simulated.address)) as client:
        assert client.request("SIZE 3,10") == ("NAK", "12")
        kind, identity = client.request("IDN?")
        assert kind == "ACK" and identity.startswith("IDN=GENERIC,WB-3,")


@pytest.mark.parametrize("transport", ["rtu", "tcp"])
def test_modbus_model_bug_answers_03_and_the_tool_keeps_answering(
    sim_tool: Callable[..., SimulatedTool], transport: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulated = sim_tool("etch-bath", transport=transport)
    monkeypatch.setattr(simulated.model, "phase_code", explode)  # read for IR 1
    with modbus_client(simulated.address) as client:
        assert client.request(read_pdu(0x04, 0, 1)) == b"\x84\x03"
        monkeypatch.undo()
        assert client.request(read_pdu(0x04, 0, 1)) is not None


def test_a_dead_endpoint_is_reported_with_its_station() -> None:
    stations = [StationSim("press", "mold-press"), StationSim("bonder", "die-bonder")]
    with SimulatedLine(stations, time_scale=1000).start() as line:
        assert dead_endpoint(line) is None
        server: Any = line.tools["bonder"].server
        server.endpoint._listener.close()  # the listening socket dies under the tool
        reason = watch_endpoints(line, threading.Event(), poll_s=0.02)
        assert reason is not None and reason.startswith("station bonder:")
        assert "listener" in reason
