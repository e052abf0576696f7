"""Replies of a pyvisa-py ASRL session on a real pty, which the VISA transport reads a reply at a
time from the port's descriptor (pyvisa-py reads a byte per call). The pty's master side plays
the tool."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest

from drivers.errors import ConnectionLost, ToolTimeout
from drivers.transports.visa import VisaTransport
from drivers.transports.visa_serial import AsrlReplyReader
from tests.support.io_timing import SLACK_S, takes_s
from tests.support.pty_tool import pty_pair, send_later, vanish

TIMEOUT_S = 0.3
#: What the ``saw`` fixture gives: an open ASRL transport and the tool's end of its pty.
Saw = tuple[VisaTransport, int]


@pytest.fixture
def saw() -> Iterator[Saw]:
    """An open ASRL VISA transport on a pty's slave side and the master side (the tool)."""
    with pty_pair() as (master_fd, slave_fd):
        link = VisaTransport(f"ASRL{os.ttyname(slave_fd)}::INSTR", tool="saw", timeout_s=TIMEOUT_S)
        link.open()
        try:
            yield link, master_fd
        finally:
            link.close()


def test_a_session_on_a_device_path_is_read_a_reply_at_a_time(saw: Saw) -> None:
    link, _ = saw
    assert AsrlReplyReader.of(link._session) is not None


def test_a_reply_in_pieces_is_read_whole(saw: Saw) -> None:
    link, master_fd = saw
    send_later(master_fd, [b"CUT", b"TING,4", b"2\n"])
    assert link.read(sent="STAT?") == "CUTTING,42"


def test_replies_that_arrive_together_are_read_one_by_one(saw: Saw) -> None:
    link, master_fd = saw
    os.write(master_fd, b'1.5\n0,"No error"\n')
    assert link.read() == "1.5"
    assert link.read() == '0,"No error"'


def test_what_came_after_a_reply_is_discarded_before_the_next_command(saw: Saw) -> None:
    link, master_fd = saw
    os.write(master_fd, b"IDLE\nLATE\n")
    assert link.read() == "IDLE"
    link.write("CYCL:PROG?")
    assert os.read(master_fd, 100) == b"CYCL:PROG?\n"
    os.write(master_fd, b"42\n")
    assert link.read(sent="CYCL:PROG?") == "42"


def test_a_silent_tool_times_out_at_the_link_timeout(saw: Saw) -> None:
    link, _ = saw
    with takes_s(TIMEOUT_S, TIMEOUT_S + SLACK_S), pytest.raises(ToolTimeout):
        link.read(sent="STAT?")
    assert link.is_open, "a silent tool leaves the session usable"


def test_a_partial_reply_then_silence_times_out_at_the_given_timeout(saw: Saw) -> None:
    link, master_fd = saw
    send_later(master_fd, [b"CUTT"])
    with takes_s(0.5, 0.5 + SLACK_S), pytest.raises(ToolTimeout):
        link.read(sent="STAT?", timeout_s=0.5)


def test_a_vanished_tool_is_a_lost_connection(saw: Saw) -> None:
    link, master_fd = saw
    threading.Timer(0.05, vanish, args=(master_fd,)).start()
    with takes_s(0, TIMEOUT_S), pytest.raises(ConnectionLost):
        link.read(sent="STAT?")
    assert not link.is_open


def test_a_read_with_its_own_timeout_keeps_the_session_timeout(saw: Saw) -> None:
    link, master_fd = saw
    link.write("STAT?")
    assert os.read(master_fd, 100) == b"STAT?\n"
    os.write(master_fd, b"READY\n")
    assert link.read(sent="STAT?", timeout_s=0.5) == "READY"
    assert link._session.timeout == TIMEOUT_S * 1000, "the session timeout was not restored"
