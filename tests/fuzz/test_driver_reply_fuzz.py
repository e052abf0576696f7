"""Drivers fed malformed replies over a real loopback transport: whatever a tool (or a broken
cable) sends, only packline's own errors come out of the public methods. Seeded, short, bounded
by short driver timeouts."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Callable, Iterator
from contextlib import suppress
from typing import Any

import pytest
from hypothesis import strategies as st

from drivers.die_bonder import DieBonder
from drivers.errors import PacklineError
from drivers.metrology import Metrology
from drivers.mold_press import MoldPress
from drivers.wire_bonder import WireBonder
from sim.fronts.framed import ACK, NAK, reply_frame
from tests.fuzz.seeded import run_seeded

CASES = 40


class FakeTool(socketserver.ThreadingTCPServer):
    """A loopback TCP peer that answers every request with ``reply(request)``."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Answer)
        self.port = self.server_address[1]
        self.reply: Callable[[bytes], bytes] = lambda request: b""
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()


class _Answer(socketserver.BaseRequestHandler):
    server: FakeTool

    def handle(self) -> None:
        with suppress(OSError):
            while data := self.request.recv(4096):
                self.request.sendall(self.server.reply(data))


@pytest.fixture
def fake_tool() -> Iterator[FakeTool]:
    with FakeTool() as tool:
        yield tool
        tool.shutdown()


TEXT = st.one_of(
    st.sampled_from(
        [
            "GENERIC,DB-4,X,1",
            "READY",
            "1e999",
            "9" * 400,
            "-1",
            "",
            '"',
            "3,2001,2002,x",
            "1,P,0,;2",
            "nan",
            "GENERIC",
        ]
    ),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60),
    st.binary(max_size=60).map(lambda b: b.decode("latin-1")),
)


def run_cases(
    strategy: st.SearchStrategy[Any], case: Callable[[Any], None], cases: int = CASES
) -> None:
    run_seeded(strategy, case, cases=cases, seed_value=5)


COMMON_QUERIES: list[Callable[[Any], Any]] = [
    lambda d: d.identify(),
    lambda d: d.state(),
    lambda d: d.active_alarms(),
]


def only_packline_errors(connect: Callable[[], Any], *queries: Callable[[Any], Any]) -> None:
    """Open a driver with ``connect`` on the fake tool and run the common ``queries`` and
    these: any other exception than packline's own fails the case."""
    try:
        driver = connect()
    except PacklineError:
        return
    with driver:
        for query in [*COMMON_QUERIES, *queries]:
            with suppress(PacklineError):  # the suite's own error: what a caller must expect
                query(driver)


def test_scpi_driver_raises_only_packline_errors_on_malformed_replies(fake_tool: FakeTool) -> None:
    def case(text: str) -> None:
        fake_tool.reply = lambda request: text.encode("latin-1") + b"\n" if b"?" in request else b""
        only_packline_errors(
            lambda: DieBonder.open(f"TCPIP::127.0.0.1::{fake_tool.port}::SOCKET", timeout_s=0.05),
            lambda d: d.progress(),
            lambda d: d.cycle_result(),
        )

    run_cases(TEXT, case)


def test_line_driver_raises_only_packline_errors_on_malformed_replies(fake_tool: FakeTool) -> None:
    def case(lines: list[str]) -> None:
        fake_tool.reply = lambda request: b"".join(line.encode("latin-1") + b"\r" for line in lines)
        only_packline_errors(
            lambda: Metrology.open(f"socket://127.0.0.1:{fake_tool.port}", line_timeout_s=0.05),
            lambda d: d.cycle_result(),
        )

    # Mostly with a final line: a reply without one costs the driver's timeout per query.
    replies = st.tuples(
        st.lists(TEXT.map(lambda t: "D " + t), max_size=2),
        st.one_of(TEXT.map(lambda t: "OK " + t), TEXT.map(lambda t: "ER " + t), TEXT),
    ).map(lambda parts: [*parts[0], parts[1]])
    run_cases(replies, case, cases=8)  # a malformed reply costs the link's quiet time (~0.5 s)


def test_framed_driver_raises_only_packline_errors_on_malformed_replies(
    fake_tool: FakeTool,
) -> None:
    def case(reply: tuple[int, bool, str, bytes]) -> None:
        kind, echo_digit, text, junk = reply

        def answer(request: bytes) -> bytes:
            digit = request[1:2] if echo_digit and len(request) > 1 else b"7"
            frame = reply_frame(kind, digit + text.encode("latin-1", errors="replace"))
            return junk + frame if kind != 0 else junk

        fake_tool.reply = answer
        only_packline_errors(
            lambda: WireBonder.open(
                f"socket://127.0.0.1:{fake_tool.port}", timeout_s=0.05, retransmissions=1
            ),
            lambda d: d.cycle_result(),
        )

    replies = st.tuples(
        st.sampled_from([ACK, ACK, NAK, 0]),
        st.booleans(),
        st.one_of(TEXT, TEXT.map(lambda t: "IDN=" + t), TEXT.map(lambda t: "STAT=" + t)),
        st.binary(max_size=8),
    )
    run_cases(replies, case, cases=12)


def test_modbus_driver_raises_only_packline_errors_on_malformed_replies(
    fake_tool: FakeTool,
) -> None:
    def case(reply: tuple[bytes, int]) -> None:
        pdu, length_delta = reply

        def answer(request: bytes) -> bytes:
            if len(request) < 8:
                return b""
            length = max(0, len(pdu) + 1 + length_delta)
            return request[:4] + length.to_bytes(2, "big") + request[6:7] + pdu

        fake_tool.reply = answer
        only_packline_errors(
            lambda: MoldPress.open(
                f"modbus+tcp://127.0.0.1:{fake_tool.port}?unit=1", timeout_s=0.05, retries=0
            ),
            lambda d: d.shot_result(),
        )

    pdus = st.one_of(
        st.binary(max_size=40),
        st.builds(
            lambda f, data: bytes([f, len(data)]) + data,
            st.sampled_from([3, 4, 2, 1]),
            st.binary(max_size=40),
        ),
        st.sampled_from([b"\x84\x02", b"\x83\x06", b"\x84\x0b", b"\x84\x63"]),
    )
    run_cases(st.tuples(pdus, st.sampled_from([0, 0, 0, -1, 1, 200])), case)
