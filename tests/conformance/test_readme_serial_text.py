"""README rules (§3, §5, §7) on the two non-SCPI text protocols: the metrology station's
plain lines and the wire bonder's framed link (README §9.3: catalogue codes and texts of
§7 unchanged)."""

from __future__ import annotations

from tests.support.integration_waits import wait_until
from tests.support.raw_clients import FramedClient, LineClient


def metrology_idle(client: LineClient) -> None:
    wait_until(lambda: client.final("ST?").startswith("OK IDLE,"), 5.0, "no IDLE after power-up")


def bonder_idle(client: FramedClient) -> None:
    wait_until(
        lambda: client.request("STAT?")[1].startswith("STAT=IDLE,"), 5.0, "no IDLE after power-up"
    )


# -- metrology (line ASCII) -----------------------------------------------------------------
def test_line_s3_numbers_take_plus_exponent_and_decimals(metrology: LineClient) -> None:
    metrology_idle(metrology)
    assert metrology.final("SIZE +3,1.0e1") == "OK"
    assert metrology.final("SIZE?") == "OK 3,10"
    assert metrology.final("PITCH 12.34567,+1.2e1") == "OK"
    assert metrology.final("PITCH?") == "OK 12.346,12.000"


def test_line_s3_identifier_rules_give_12(metrology: LineClient) -> None:
    metrology_idle(metrology)
    assert metrology.final("STRIP " + "A" * 21) == "ER 12,Bad parameter"
    assert metrology.final("STRIP A/B") == "ER 12,Bad parameter"
    assert metrology.final("STRIP " + "A" * 20) == "OK"


def test_line_s5_cycle_commands_in_idle_follow_the_matrix(metrology: LineClient) -> None:
    metrology_idle(metrology)
    assert metrology.final("RUN").startswith("ER 24,No recipe loaded")
    for command in ("PAUSE", "RESUME", "ABORT", "ACK"):
        assert metrology.final(command).startswith("ER 20,"), command
    assert metrology.final("UNLOAD") == "OK"  # nop in IDLE


def test_line_s7_catalogue_codes_and_check_order(metrology: LineClient) -> None:
    metrology_idle(metrology)
    assert metrology.final("FOO") == "ER 10,Unknown command"
    assert metrology.final("") == "ER 11,Syntax error"
    assert metrology.final("RUN 5") == "ER 12,Bad parameter"  # count before state (24)
    assert metrology.final("SIZE 0,10") == "ER 13,Out of range"
    assert metrology.final("RD 1,1") == "ER 27,No results available"
    assert metrology.final("ALT? 1") == "ER 12,Bad parameter"


def test_line_keywords_are_case_insensitive_and_lf_is_ignored(metrology: LineClient) -> None:
    assert metrology.final("id?").startswith("OK GENERIC,MS-3,")
    assert metrology.final("\nID?").startswith("OK GENERIC,MS-3,")


# -- wire bonder (framed link) --------------------------------------------------------------
def test_framed_s3_numbers_take_plus_exponent_and_decimals(wire_bonder: FramedClient) -> None:
    bonder_idle(wire_bonder)
    assert wire_bonder.request("SIZE +3,1.0e1") == ("ACK", "OK")
    assert wire_bonder.request("SIZE?") == ("ACK", "SIZE=3,10")


def test_framed_s5_cycle_commands_in_idle_follow_the_matrix(wire_bonder: FramedClient) -> None:
    bonder_idle(wire_bonder)
    assert wire_bonder.request("START") == ("NAK", "24")
    for command in ("PAUSE", "RESUME", "ABORT", "ACK"):
        assert wire_bonder.request(command) == ("NAK", "20"), command
    assert wire_bonder.request("LASTERR?") == ("ACK", "LASTERR=20,Not allowed in state;IDLE")


def test_framed_s7_catalogue_codes_and_check_order(wire_bonder: FramedClient) -> None:
    bonder_idle(wire_bonder)
    assert wire_bonder.request("FOO") == ("NAK", "10")
    assert wire_bonder.request("START 5") == ("NAK", "12")  # count before state (24)
    assert wire_bonder.request("SIZE 0,10") == ("NAK", "13")
    assert wire_bonder.request("RES? 1") == ("NAK", "27")
    assert wire_bonder.request("LASTERR?") == ("ACK", "LASTERR=27,No results available")
