"""README rules (§3 numbers and names, §5 state matrix, §7 errors and check order, §9.1
transport) checked on every SCPI simulator: die bonder, ball attach, laser (TCP) and the
dicing saw (serial, CR LF)."""

from __future__ import annotations

import re

from tests.support.integration_waits import wait_until
from tests.support.raw_clients import ScpiClient, TcpLink


def idle(client: ScpiClient, timeout_s: float = 5.0) -> None:
    """Past INIT (README §5: power-up ends in IDLE)."""
    wait_until(lambda: client.query("SYST:STAT?") == "IDLE", timeout_s, "no IDLE after power-up")


# -- §3 numbers and names -----------------------------------------------------------------
def test_s3_inputs_take_a_plus_sign_exponent_and_decimals_rounded(scpi: ScpiClient) -> None:
    idle(scpi)
    scpi.write("STR:SIZE +3,1.0e1")
    assert scpi.query("STR:SIZE?") == "3,10"
    scpi.write("STR:PITC 12.34567,+1.2e1")
    assert scpi.query("STR:PITC?") == "12.346,12.000"
    assert scpi.errors() == []


def test_s3_number_replies_have_no_sign_no_exponent_and_fixed_decimals(scpi: ScpiClient) -> None:
    idle(scpi)
    for query in ("STR:PITC?", "STR:SIZE?", "CYCL:PROG?", "RES:COUN?", "SYST:ERR:COUN?"):
        reply = scpi.query(query)
        assert reply is not None and re.fullmatch(r"[0-9.,]+", reply), (query, reply)
    assert re.fullmatch(r"\d+\.\d{3},\d+\.\d{3}", scpi.query("STR:PITC?") or "")


def test_s3_identifiers_over_20_characters_or_with_other_characters_are_151(
    scpi: ScpiClient,
) -> None:
    idle(scpi)
    scpi.write('STR:ID "' + "A" * 21 + '"')
    scpi.write('STR:ID "A B"')
    scpi.write('STR:ID "' + "A" * 20 + '"')
    assert scpi.errors() == ['-151,"Invalid string data"'] * 2
    assert scpi.query("STR:ID?") == '"' + "A" * 20 + '"'


def test_s3_recipe_catalog_is_in_ascii_order_and_names_are_case_sensitive(
    scpi: ScpiClient,
) -> None:
    idle(scpi)
    before = scpi.query("RECipe:CATalog?") or ""
    for name in ("b", "B", "_x", "-a", "9z", ".m"):
        scpi.write(f'RECipe:SAVE "{name}"')
    assert scpi.errors() == []
    names = [n.strip('"') for n in (scpi.query("RECipe:CATalog?") or "").split(",")]
    assert names == sorted(names)  # Python sorts str by code point: ASCII order
    assert {"b", "B", "_x", "-a", "9z", ".m"} <= set(names)
    assert len(names) == len([n for n in before.split(",") if n.strip('"')]) + 6


# -- §5 state matrix ------------------------------------------------------------------------
def test_s5_cycle_commands_in_idle_are_refused_as_the_matrix_says(scpi: ScpiClient) -> None:
    idle(scpi)
    for command in ("CYCL:STAR", "CYCL:PAUS", "CYCL:RES", "CYCL:ABOR", "CYCL:ACK"):
        scpi.write(command)
    scpi.write("RECipe:UNLoad")  # nop in IDLE
    assert [e.split(",")[0] for e in scpi.errors()] == ["24", "20", "20", "20", "20"]
    assert scpi.query("SYST:STAT?") == "IDLE"


def test_s5_queries_are_never_blocked_and_progress_is_zero_outside_a_cycle(
    scpi: ScpiClient,
) -> None:
    idle(scpi)
    assert scpi.query("CYCL:PROG?") == "0,0,0,0"
    assert scpi.query("CYCL:PHAS?") == "NONE"
    assert scpi.query("ALAR:ACT?") == "0"
    assert scpi.query("SYST:INT?") is not None


# -- §7 errors and check order --------------------------------------------------------------
def test_s7_unknown_header_is_113_and_parameter_errors_come_before_state(
    scpi: ScpiClient,
) -> None:
    idle(scpi)
    scpi.write("NO:SUCH")
    scpi.write("CYCL:STAR 5")  # -108 (too many parameters) before 24 (no recipe)
    scpi.write("STR:SIZE 3")  # -109
    scpi.write("STR:SIZE MIN,MAX")  # -104
    scpi.write("STR:SIZE 0,10")  # -222
    assert scpi.errors() == [
        '-113,"Undefined header"',
        '-108,"Parameter not allowed"',
        '-109,"Missing parameter"',
        '-104,"Data type error"',
        '-222,"Data out of range"',
    ]


def test_s7_a_query_given_parameters_it_does_not_take_is_108_and_not_answered(
    scpi: ScpiClient,
) -> None:
    for query in ("*IDN? 5", "SYST:ERR:COUN? 1e999", "SYST:STAT? IDLE", "RES:DATA? 1,2,3"):
        assert scpi.query(query, timeout_s=0.3) is None, query
    assert scpi.query("ALAR:TEXT?", timeout_s=0.3) is None  # its code is missing
    assert scpi.errors() == ['-108,"Parameter not allowed"'] * 4 + ['-109,"Missing parameter"']
    assert (scpi.query("*IDN?") or "").startswith("GENERIC,")


def test_s7_alarm_text_of_a_code_outside_the_table_is_224(scpi: ScpiClient) -> None:
    assert scpi.query("ALAR:TEXT? 1", timeout_s=0.3) is None
    assert scpi.errors() == ['-224,"Illegal parameter value"']


# -- §9.1 transport -------------------------------------------------------------------------
def test_s91_compound_message_is_102_and_no_part_runs(scpi: ScpiClient) -> None:
    idle(scpi)
    scpi.write('STR:ID "A";STR:ID "B"')
    assert scpi.errors() == ['-102,"Syntax error"']
    assert scpi.query("STR:ID?") == '""'
    scpi.write('STR:ID "A;B"')  # a ';' inside quotes is not compound (then -151 for the id)
    assert scpi.errors() == ['-151,"Invalid string data"']


def test_s91_header_suffix_out_of_range_is_114_and_omitted_means_1(scpi: ScpiClient) -> None:
    idle(scpi)
    scpi.write("STR2:SIZE 3,10")
    assert scpi.errors() == ['-114,"Header suffix out of range"']
    assert scpi.query("STR1:SIZE?") == scpi.query("STR:SIZE?")


def test_s91_error_queue_holds_16_and_marks_overflow_with_350(scpi: ScpiClient) -> None:
    for _ in range(20):
        scpi.write("NO:SUCH")
    assert scpi.query("SYST:ERR:COUN?") == "16"
    assert scpi.query("*STB?") == str(4 | 32)
    errors = scpi.errors()
    assert errors == ['-113,"Undefined header"'] * 15 + ['-350,"Queue overflow"']
    assert scpi.query("*STB?") == "32"  # queue empty, ESR still set
    scpi.write("*CLS")
    assert (scpi.query("*STB?"), scpi.query("*ESR?")) == ("0", "0")


def test_s91_esr_bits_follow_the_error_class(scpi: ScpiClient) -> None:
    idle(scpi)
    scpi.write("STR:SIZE 0,10")  # -222: execution error, bit 4
    assert scpi.query("*ESR?") == str(1 << 4)
    scpi.write("CYCL:ACK")  # 20: device error, bit 3
    assert scpi.query("*ESR?") == str(1 << 3)
    assert scpi.query("*ESR?") == "0"


def test_s91_a_failing_query_sends_nothing_and_a_command_never_replies(scpi: ScpiClient) -> None:
    assert scpi.query("RES:SUMM?", timeout_s=0.3) is None
    scpi.write("*CLS")
    assert scpi.query("SYST:VERS?") == "1999.0"  # the next reply is the next query's


def test_s91_lf_alone_is_accepted_and_a_cr_before_it_ignored(scpi: ScpiClient) -> None:
    scpi.link.write(b"*IDN?\r\n")
    first = scpi.link.read_until(b"\n", 2.0)
    scpi.link.write(b"*IDN?\n")
    second = scpi.link.read_until(b"\n", 2.0)
    assert first.startswith(b"GENERIC,") and first == second


def test_s91_tcp_tools_accept_and_close_a_second_connection(scpi: ScpiClient) -> None:
    if not isinstance(scpi.link, TcpLink):
        return  # the serial saw has no second connection
    host, port = scpi.link.sock.getpeername()[:2]
    second = TcpLink(host, port)
    try:
        assert second.read_until(b"\n", 1.0) == b""  # accepted, closed without data
    finally:
        second.close()
    assert (scpi.query("*IDN?") or "").startswith("GENERIC,")
