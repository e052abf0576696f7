"""Bad input on the text protocols (SCPI, line ASCII, framed link), from the cases found with
third-party clients (issue 9): every request is judged with the manual's error, and the tool
still answers its identity afterwards."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from sim.simulated_tool import SimulatedTool
from tests.support.raw_clients import FramedClient, LineClient, ScpiClient, link_for

HUGE = ("1e999", "-1e999", "9" * 400, "-" + "9" * 400, "+1e999")
IDN_MODELS = {"die-bonder": "DB-4", "ball-attach": "BA-8", "laser": "UVL-3", "dicing-saw": "DS-2"}


def assert_scpi_identity(client: ScpiClient) -> None:
    assert client.tool is not None
    reply = client.query("*IDN?")
    assert reply is not None and reply.split(",")[1] == IDN_MODELS[client.tool.tool_name]


@pytest.mark.parametrize("number", HUGE)
def test_scpi_number_too_large_for_a_float_is_out_of_range(scpi: ScpiClient, number: str) -> None:
    scpi.write(f"STR:SIZE {number},1")
    scpi.write(f"STR:SIZE 1,{number}")
    scpi.write(f"STR:PITC {number},5")
    assert scpi.errors() == ['-222,"Data out of range"'] * 3
    assert_scpi_identity(scpi)
    assert scpi.query("STR:SIZE?") is not None


@pytest.mark.parametrize(
    ("tool", "command"),
    [("die-bonder", "DISP:VOL"), ("dicing-saw", "CUT:PASS"), ("laser", "ALARM:TEXT?")],
)
def test_scpi_tool_parameter_of_1e999_is_queued_as_out_of_range(
    sim_tool: Callable[..., SimulatedTool], tool: str, command: str
) -> None:
    simulated = sim_tool(tool)
    with ScpiClient(link_for(simulated.address), tool=simulated) as client:
        if command.endswith("?"):
            assert client.query(f"{command} 1e999", timeout_s=0.3) is None
        else:
            client.write(f"{command} 1e999")
        assert client.errors() == ['-222,"Data out of range"']
        assert_scpi_identity(client)


def test_scpi_esr_is_cleared_on_read(scpi: ScpiClient) -> None:
    assert scpi.query("*ESR?") == "0"
    scpi.write("NO:SUCH:HEADER")
    assert scpi.query("*ESR?") == str(1 << 5)  # command error
    assert scpi.query("*ESR?") == "0"


def test_scpi_result_range_is_checked_before_no_results(scpi: ScpiClient) -> None:
    assert scpi.tool is not None
    page_max = 16 if scpi.tool.tool_name == "dicing-saw" else 64
    assert scpi.query(f"RES:DATA? 1,{page_max + 1}", timeout_s=0.3) is None
    assert scpi.query("RES:DATA? 100000,1", timeout_s=0.3) is None
    assert scpi.query("RES:DATA? 1,1", timeout_s=0.3) is None
    assert scpi.errors() == [
        '-222,"Data out of range"',
        '-222,"Data out of range"',
        '27,"No results available"',
    ]


def test_die_bonder_progress_is_zero_after_the_cycle_is_acknowledged(
    sim_tool: Callable[..., SimulatedTool],
) -> None:
    simulated = sim_tool("die-bonder", seed=3)
    with ScpiClient(link_for(simulated.address), tool=simulated) as client:
        wait_for(client, ("IDLE",))
        client.write('RECipe:LOAD "A-EQUAL"')
        wait_for(client, ("READY",))
        client.write('STR:MAP "' + "0" * 29 + '1"')
        client.write("CYCL:STAR")
        wait_for(client, ("DONE",), timeout_s=20.0)
        done, total, elapsed, remaining = (client.query("CYCL:PROG?") or "").split(",")
        assert (done, total, remaining) == ("1", "1", "0") and int(elapsed) > 0  # finished one
        client.write("CYCL:ACK")
        wait_for(client, ("READY", "HEATING"))
        assert client.query("CYCL:PROG?") == "0,0,0,0"


def wait_for(client: ScpiClient, states: tuple[str, ...], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while (state := client.query("SYST:STAT?")) not in states:
        assert time.monotonic() < deadline, f"state {state}, expected {states}"
        time.sleep(0.01)


@pytest.mark.parametrize("number", HUGE)
def test_metrology_number_too_large_is_er_13_and_the_tool_still_answers(
    metrology: LineClient, number: str
) -> None:
    assert metrology.final(f"SIZE {number},1") == "ER 13,Out of range"
    assert metrology.final(f"RD 1,{number}") == "ER 13,Out of range"
    assert metrology.final("ID?").startswith("OK GENERIC,MS-3,")


def test_metrology_alarm_text_accepts_a_leading_plus(metrology: LineClient) -> None:
    assert metrology.final("ALT? +9003") == metrology.final("ALT? 9003")
    assert metrology.final("ALT? +9003").startswith("OK 9003,")
    assert metrology.final("ALT? 1e999") == "ER 12,Bad parameter"


def test_metrology_rd_judges_both_ranges_before_no_results(metrology: LineClient) -> None:
    assert metrology.final("RD 31,1") == "ER 13,Out of range"  # format A: 30 sites
    assert metrology.final("RD 1,1025") == "ER 13,Out of range"
    assert metrology.final("RD 1,1") == "ER 27,No results available"


@pytest.mark.parametrize("number", ("1e999", "-1e999", "9" * 200, "+1e999"))
def test_wire_bonder_number_too_large_is_nak_13_and_the_tool_still_answers(
    wire_bonder: FramedClient, number: str
) -> None:
    assert wire_bonder.request(f"PAR WIRE_D,{number}") == ("NAK", "13")
    assert wire_bonder.request(f"RES? {number}") == ("NAK", "13")
    assert wire_bonder.request("PAR WIRE_D," + "9" * 400) == ("NAK", "03")  # frame too long
    kind, identity = wire_bonder.request("IDN?")
    assert kind == "ACK" and identity.startswith("IDN=GENERIC,WB-3,")
