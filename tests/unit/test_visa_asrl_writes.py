"""Writes of a pyvisa-py ASRL session on a real pty, which the VISA transport sends on the port's
descriptor when pyvisa-py would send the bytes unchanged. The pty's master side plays the tool."""

from __future__ import annotations

import os
import select

import pytest
from pyvisa.constants import ResourceAttribute, SerialTermination

from drivers.errors import ConnectionLost
from drivers.transports.visa_serial import AsrlReplyReader
from tests.support.pty_tool import vanish
from tests.unit.test_visa_asrl_reads import Saw, saw

__all__ = ["saw"]  # the fixture, imported for pytest


def test_a_command_goes_out_with_its_termination(saw: Saw) -> None:
    link, master_fd = saw
    link.write("SYST:STAT?")
    assert os.read(master_fd, 100) == b"SYST:STAT?\n"


def test_a_late_reply_waiting_on_the_port_is_discarded_before_the_next_command(saw: Saw) -> None:
    link, master_fd = saw
    os.write(master_fd, b"LATE REPLY\n")  # the reply to an earlier query, after its timeout
    host_fd = AsrlReplyReader.of(link._session).descriptor.fd  # type: ignore[union-attr]
    assert select.select([host_fd], [], [], 2.0)[0], "the late reply reached the host end"
    link.write("CYCL:PROG?")
    assert os.read(master_fd, 100) == b"CYCL:PROG?\n"
    os.write(master_fd, b"42\n")
    assert link.read(sent="CYCL:PROG?") == "42"


def test_a_write_to_a_vanished_tool_is_a_lost_connection(saw: Saw) -> None:
    link, master_fd = saw
    vanish(master_fd)
    with pytest.raises(ConnectionLost, match="write failed"):
        link.write("SYST:STAT?")
    assert not link.is_open


def test_a_session_that_adds_an_end_marker_keeps_pyvisas_write(saw: Saw) -> None:
    link, _ = saw
    session = link._session
    assert AsrlReplyReader.of(session).descriptor is not None  # type: ignore[union-attr]
    session.set_visa_attribute(ResourceAttribute.asrl_end_out, SerialTermination.termination_char)
    assert AsrlReplyReader.of(session).descriptor is None  # type: ignore[union-attr]
