"""The VISA transport on a real serial line (a pty, pyvisa-py ASRL)."""

from __future__ import annotations

import os
import select
import tty
from collections.abc import Iterator

import pytest

from drivers.transports.visa import VisaTransport


@pytest.fixture
def serial_line() -> Iterator[tuple[int, int, VisaTransport]]:
    """The tool end of a pty, its host end and a VISA transport open on the host end."""
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    link = VisaTransport(f"ASRL{os.ttyname(slave)}::INSTR", tool="saw", timeout_s=1.0)
    link.open()
    try:
        yield master, slave, link
    finally:
        link.close()
        os.close(master)
        os.close(slave)


def _received(fd: int) -> bytes:
    ready, _, _ = select.select([fd], [], [], 2.0)
    return os.read(fd, 4096) if ready else b""


def test_a_late_reply_on_a_serial_line_is_not_taken_for_the_next_answer(
    serial_line: tuple[int, int, VisaTransport],
) -> None:
    tool, host, link = serial_line
    os.write(tool, b"IDLE\n")  # the reply to an earlier query, after its read timed out
    assert select.select([host], [], [], 2.0)[0], "the late reply reached the host end"
    link.write("CYCL:PROG?")
    assert _received(tool) == b"CYCL:PROG?\n"
    os.write(tool, b"42\n")
    assert link.read(sent="CYCL:PROG?") == "42", "the late reply was read as this answer"


def test_a_read_with_its_own_timeout_keeps_the_session_timeout(
    serial_line: tuple[int, int, VisaTransport],
) -> None:
    tool, _host, link = serial_line
    link.write("STAT?")
    assert _received(tool) == b"STAT?\n"
    os.write(tool, b"READY\n")
    assert link.read(sent="STAT?", timeout_s=0.5) == "READY"
    assert link._session.timeout == 1000, "the session timeout was not restored"
