"""The scripted peer behind ``expected_protocol`` fails a test for each way a driver can stray."""

from __future__ import annotations

import socket

import pytest

from drivers.metrology import Metrology
from tests.support.expected_protocol import ScriptedPeer, expected_protocol, lines


def _talk(peer: ScriptedPeer, *messages: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", peer.port), timeout=2.0) as connection:
        for message in messages:
            connection.sendall(message)
        connection.settimeout(0.3)
        try:
            return connection.recv(100)
        except TimeoutError:
            return b""


def _played(script: list[tuple[bytes, bytes | None]], *messages: bytes) -> ScriptedPeer:
    peer = ScriptedPeer(script, framing=lines(b"\r"))
    _talk(peer, *messages)
    peer.close()
    return peer


def test_expected_protocol_answers_the_scripted_request() -> None:
    peer = ScriptedPeer([(b"ID?\r", b"OK GENERIC\r")], framing=lines(b"\r"))
    assert _talk(peer, b"ID?\r") == b"OK GENERIC\r"
    peer.close()
    peer.verify()


def test_expected_protocol_fails_on_a_different_request() -> None:
    peer = _played([(b"ID?\r", b"OK\r")], b"ST?\r")
    with pytest.raises(AssertionError, match="expected b'ID"):
        peer.verify()
    assert peer.problems == ["expected b'ID?\\r', got b'ST?\\r'"]


def test_expected_protocol_fails_on_a_request_after_the_script() -> None:
    peer = _played([(b"ID?\r", None)], b"ID?\r", b"ST?\r")
    with pytest.raises(AssertionError, match="unexpected request"):
        peer.verify()


def test_expected_protocol_fails_on_a_step_never_reached() -> None:
    peer = _played([(b"ID?\r", None), (b"ST?\r", None)], b"ID?\r")
    with pytest.raises(AssertionError, match="never reached"):
        peer.verify()


def test_expected_protocol_opens_the_driver_on_its_real_transport() -> None:
    with expected_protocol(
        Metrology,
        [(b"ID?\r", b"OK GENERIC,MS-3,MS3-0001,1.0.0\r")],
        address="socket://127.0.0.1:{port}",
        framing=lines(b"\r"),
    ) as gauge:
        assert gauge.identify().model == "MS-3"
