"""Fuzzing campaigns against the simulators, one per protocol, driven by hypothesis.

Each case sends one generated request (a command of the manual with valid or malformed
arguments, or malformed bytes) over the simulator's real transport, then asks the tool for
its identity: the case fails if the identity does not come back or the tool's state is not
one of README §5. The test suite runs short campaigns; ``benchmarks/fuzz_campaign.py`` runs
long ones. Reproducible: hypothesis is seeded and keeps no example database.

The campaigns judge correctness, not latency: a reply may take up to ``reply_timeout_s``
(default ``REPLY_TIMEOUT_S``, generous for a loaded 2-core machine). A case whose reply did not
come in time is replayed once on a fresh connection before it counts as a failure; both
outcomes are kept (``CampaignResult.replayed`` when the replay was answered).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from hypothesis import strategies as st

from drivers.states import ToolState
from sim.clock import SimClock
from sim.metrology.commands import metrology_commands
from sim.registry import serve_function
from sim.simulated_tool import SimulatedTool
from sim.wire_bonder.commands import WireBonderCommands
from sim.world import World
from tests.fuzz.seeded import run_seeded
from tests.support.raw_clients import (
    ByteLink,
    FramedClient,
    LineClient,
    ModbusRawClient,
    ScpiClient,
    link_for,
    modbus_link,
    read_pdu,
)

#: The state names of README §5 (WARMUP: the saw's and laser's HEATING).
STATE_NAMES = (*ToolState.__members__, "WARMUP")


#: How long a campaign waits for any one reply, in seconds: long enough for a tool starved of
#: CPU on a loaded machine, so that only a request the tool never answers fails.
REPLY_TIMEOUT_S = 10.0

#: Full descriptions kept per list; the rest are counted as "..." entries.
KEPT_IN_FULL = 20


class NoReply(AssertionError):
    """The tool sent nothing (complete) within the reply timeout."""


@dataclass
class CampaignResult:
    """What a campaign did: cases run, the failures found (first few kept in full), the cases
    answered only when replayed on a fresh connection, and the tool's identity and state at
    the end."""

    protocol: str
    cases: int = 0
    failures: list[str] = field(default_factory=list)
    replayed: list[str] = field(default_factory=list)
    final: str = ""

    def note(self, entries: list[str], text: str) -> None:
        entries.append(text if len(entries) < KEPT_IN_FULL else "...")


# -- generated text ----------------------------------------------------------------------
SPECIAL_NUMBERS = ["1e999", "-1e999", "9" * 400, "+5", "0x10", "nan", "inf", "", "1e-999", "-0"]
NUMBERS = st.one_of(
    st.sampled_from(SPECIAL_NUMBERS),
    st.sampled_from(SPECIAL_NUMBERS),
    st.integers(min_value=-(10**6), max_value=10**6).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(min_value=-(10**500), max_value=10**500).map(str),
)
WORDS = st.sampled_from(["ON", "OFF", "MIN", "MAX", "DEF", '"A-EQUAL"', '"x y"', '"', "A" * 40])
PRINTABLE = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
ARGUMENT = st.one_of(NUMBERS, NUMBERS, NUMBERS, WORDS, PRINTABLE)
ARGUMENTS = st.one_of(
    NUMBERS,  # most commands take one number: make that case common
    st.tuples(NUMBERS, NUMBERS).map(",".join),
    st.lists(ARGUMENT, max_size=4).map(",".join),
)


def _spelling(header: str) -> st.SearchStrategy[str]:
    """A header as written, lower-cased, or with a junk suffix."""
    return st.sampled_from([header, header, header.lower(), header + "9", header + "X"])


def text_requests(headers: list[str]) -> st.SearchStrategy[bytes]:
    """Every header of the command table with generated arguments, or junk lines."""
    command = st.builds(
        lambda h, q, a: f"{h}{'?' if q else ''} {a}".strip(),
        st.sampled_from(headers).flatmap(_spelling),
        st.sampled_from([False, False, True]),  # commands (that change state) more often
        ARGUMENTS,
    )
    junk = st.binary(max_size=60).map(lambda b: b.replace(b"\n", b"").replace(b"\r", b""))
    valid = command.map(lambda t: t.encode("latin-1"))
    return st.one_of(valid, valid, valid, valid, junk, PRINTABLE.map(str.encode))


def scpi_headers(tool: SimulatedTool) -> list[str]:
    """The long form of every header the SCPI front serves (its manual command table)."""
    front: Any = tool.server.front  # type: ignore[attr-defined]
    return [
        command.pattern.replace("[", "").replace("]", "").replace("#", "")
        for command in front.commands
    ]


# -- campaigns ----------------------------------------------------------------------------
def _run(
    protocol: str,
    strategy: st.SearchStrategy[Any],
    one_case: Callable[[Any], None],
    reconnect: Callable[[], None],
    final: Callable[[], str],
    cases: int,
    seed_value: int,
) -> CampaignResult:
    """Run ``one_case`` per generated request. A case that meets no reply is replayed once
    after ``reconnect`` (a fresh connection): answered then, it is listed in ``replayed``;
    not answered again, it is a failure showing both attempts. Any other failure (a wrong
    reply, a dropped connection) counts at once, and the next case starts on a fresh
    connection. After the campaign, ``final``: the tool still answers its identity in a
    README §5 state."""
    result = CampaignResult(protocol)
    errors = _ErrorLog()

    def fresh_connection(request: Any) -> bool:
        try:
            reconnect()
            return True
        except (AssertionError, OSError) as failure:
            result.note(result.failures, f"{request!r}: no fresh connection served: {failure}")
            return False

    def case(request: Any) -> None:
        result.cases += 1
        errors.records.clear()
        judged(request)
        if errors.records:  # caught at the endpoint, so the tool answered: still a defect
            result.note(result.failures, f"{request!r}: the simulator logged {errors.text()}")

    def judged(request: Any) -> None:
        try:
            one_case(request)
        except NoReply as first:
            if not fresh_connection(request):
                return
            try:
                one_case(request)
            except (AssertionError, OSError) as second:
                result.note(
                    result.failures,
                    f"{request!r}: {first}; replayed on a fresh connection: {second}",
                )
                fresh_connection(request)
            else:
                result.note(
                    result.replayed,
                    f"{request!r}: {first}; replayed on a fresh connection: answered",
                )
        except (AssertionError, OSError) as failure:  # OSError: the tool closed the link
            result.note(result.failures, f"{request!r}: {failure}")
            fresh_connection(request)

    sim_log = logging.getLogger("packline.sim")
    sim_log.addHandler(errors)
    try:
        run_seeded(strategy, case, cases=cases, seed_value=seed_value)
    finally:
        sim_log.removeHandler(errors)
    try:
        result.final = final()
    except (AssertionError, OSError) as failure:
        result.failures.append(f"after the campaign: {failure}")
    return result


class _ErrorLog(logging.Handler):
    """The errors the simulators log: an unexpected exception inside a front or model is
    caught at the endpoint (answered "bad parameter"), so only its log shows it."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self) -> str:
        texts = []
        for record in self.records:
            failure, error = record.exc_info[:2] if record.exc_info else (None, None)
            texts.append(
                record.getMessage() + (f" ({failure.__name__}: {error})" if failure else "")
            )
        return "; ".join(texts)


def _drained(link: ByteLink) -> ByteLink:
    """``link`` with nothing left over from an earlier connection (a pty keeps bytes)."""
    while link.read_some(0.0):
        pass
    return link


def _relink(client: LineClient | FramedClient, address: str) -> None:
    """Close the client's connection and give it a fresh one."""
    client.link.close()
    client.link = _drained(link_for(address))


@contextmanager
def _simulator(tool: str, **options: Any) -> Iterator[SimulatedTool]:
    with serve_function(tool)(
        clock=SimClock(options.pop("time_scale", 1000.0)), world=World(), seed=1, **options
    ) as simulated:
        yield simulated


def scpi_campaign(
    tool: str, cases: int, seed_value: int, reply_timeout_s: float, **options: Any
) -> CampaignResult:
    """SCPI over TCP (or the saw's serial pty): a command per case, then ``*IDN?``."""
    with _simulator(tool, **options) as simulated:
        client = ScpiClient(link_for(simulated.address), tool=simulated)
        model = simulated.model.model_name  # type: ignore[attr-defined]

        def reconnect() -> None:
            """A new connection that the tool serves: the TCP tools serve one client and
            close a second at once (README §9.1) until they have seen the old one close,
            which takes them as long as reading what it had sent last."""
            client.link.close()
            deadline = time.monotonic() + reply_timeout_s
            while True:
                client.link = _drained(link_for(simulated.address))
                try:
                    _scpi_reply(client, "*IDN?", _is_identity, 1.0)
                    return
                except (AssertionError, OSError):
                    client.link.close()
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)

        def one_case(request: bytes) -> None:
            client.link.write(request + b"\n")
            # The front reads a message as ASCII (others replaced) and strips whitespace.
            header, _, rest = request.decode("ascii", errors="replace").strip().partition(" ")
            skipped: list[str] = []
            if header.upper() == "*IDN?" and not rest.strip():
                # The fuzzed request is itself *IDN?: its reply comes first (README §9.1:
                # sequential), so it must not be taken for the reply to ours.
                _scpi_reply(client, "", _is_identity, reply_timeout_s, skipped)
            identity = _scpi_reply(client, "*IDN?", _is_identity, reply_timeout_s, skipped)
            assert identity.split(",")[1:2] == [model], f"identity {identity!r}"
            # README §9.1: a command (no `?` on its header) never produces a reply.
            assert header.endswith("?") or not skipped, f"a command was answered: {skipped!r}"

        def final() -> str:
            identity = _scpi_reply(client, "*IDN?", _is_identity, reply_timeout_s)
            state = _scpi_reply(client, "SYST:STAT?", STATE_NAMES.__contains__, reply_timeout_s)
            return f"{identity} in {state}"

        requests = text_requests(scpi_headers(simulated))
        with client:
            return _run(f"scpi {tool}", requests, one_case, reconnect, final, cases, seed_value)


def _is_identity(text: str) -> bool:
    return text.startswith("GENERIC,")


def _scpi_reply(
    client: ScpiClient,
    query: str,
    wanted: Callable[[str], bool],
    timeout_s: float,
    skipped: list[str] | None = None,
) -> str:
    """Send ``query`` (none when empty); skip replies still arriving for the fuzzed query
    (bounded), kept in ``skipped``."""
    if query:
        client.write(query)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = client.link.read_until(b"\n", max(0.0, deadline - time.monotonic()))
        if not line.endswith(b"\n"):
            break
        text = line.decode("latin-1").strip()
        if wanted(text):
            return text
        if skipped is not None:
            skipped.append(text)
    raise NoReply(f"no {query} reply in {timeout_s:g} s")


def line_campaign(
    tool: str, cases: int, seed_value: int, reply_timeout_s: float, **options: Any
) -> CampaignResult:
    """The metrology line protocol: a command per case (one final line expected), then ``ID?``."""
    with _simulator(tool, **options) as simulated:
        client = LineClient(link_for(simulated.address))

        reconnect = partial(_relink, client, simulated.address)

        def final_line(request: str | bytes) -> str:
            lines = client.command(request, timeout_s=reply_timeout_s)
            if not lines or lines[-1].startswith("D "):
                raise NoReply(f"no final line to {request!r} in {reply_timeout_s:g} s: {lines!r}")
            assert lines[-1].split(" ")[0] in ("OK", "ER"), f"final line {lines!r}"
            return lines[-1]

        def final() -> str:
            identity = final_line("ID?")
            assert identity.startswith("OK GENERIC,MS-3,"), identity
            state = final_line("ST?")
            assert state[3:].split(",")[0] in STATE_NAMES, state
            return f"{identity} in {state}"

        def one_case(request: bytes) -> None:
            final_line(request)
            final()

        keywords = [command.keyword for command in metrology_commands(simulated.model)]
        requests = text_requests(keywords)
        with client:
            return _run(f"line {tool}", requests, one_case, reconnect, final, cases, seed_value)


def framed_campaign(
    tool: str, cases: int, seed_value: int, reply_timeout_s: float, **options: Any
) -> CampaignResult:
    """The wire bonder's framed link: valid frames of every command and malformed bytes."""
    with _simulator(tool, **options) as simulated:
        client = FramedClient(link_for(simulated.address))
        keywords = list(WireBonderCommands(simulated.model).commands)
        frames = st.one_of(
            text_requests(keywords).map(client.frame),
            st.binary(max_size=80),
            text_requests(keywords).map(lambda t: client.frame(t)[:-3] + b"00\r"),
        )

        reconnect = partial(_relink, client, simulated.address)

        def final() -> str:
            identity = _framed_reply(client, "IDN?", "IDN=", reply_timeout_s)
            assert identity.startswith("IDN=GENERIC,WB-3,"), identity
            status = _framed_reply(client, "STAT?", "STAT=", reply_timeout_s)
            assert status[5:].split(",")[0] in STATE_NAMES, status
            return f"{identity} in {status}"

        def one_case(request: bytes) -> None:
            client.link.write(request)
            final()

        with client:
            return _run(f"framed {tool}", frames, one_case, reconnect, final, cases, seed_value)


def _framed_reply(client: FramedClient, command: str, prefix: str, timeout_s: float) -> str:
    """Send ``command``; skip replies still arriving for the fuzzed bytes (NAKs, an echo of
    an identical frame) until the one starting with ``prefix`` (bounded)."""
    client.link.write(client.frame(command))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        reply = client.link.read_until(b"\r", max(0.0, deadline - time.monotonic()))
        if not reply.endswith(b"\r"):
            break
        if reply[:1] == b"\x06" and b"\x03" in reply:
            body = reply[3 : reply.index(b"\x03")].decode("latin-1")
            if body.startswith(prefix):
                return body
    raise NoReply(f"no {command} reply in {timeout_s:g} s")


MODBUS_FUNCTIONS = st.sampled_from([1, 2, 3, 4, 5, 6, 15, 16, 7, 8, 17, 43, 0x55, 0, 0x81])
ADDRESSES = st.one_of(
    st.integers(0, 30), st.integers(100, 130), st.integers(200, 260), st.integers(0, 65535)
)


def modbus_pdus() -> st.SearchStrategy[bytes]:
    """Requests of every manual function code with valid and invalid fields, and junk PDUs."""
    simple = st.builds(
        lambda f, a, q: bytes([f]) + a.to_bytes(2, "big") + q.to_bytes(2, "big"),
        MODBUS_FUNCTIONS,
        ADDRESSES,
        st.one_of(st.integers(0, 130), st.sampled_from([0xFF00, 0x0000, 2000, 2001, 65535])),
    )

    def multi(function: int, address: int, quantity: int, extra: int, data: bytes) -> bytes:
        count = (quantity + 7) // 8 if function == 15 else 2 * quantity
        body = (data * (count // max(1, len(data)) + 1))[: max(0, count + extra)]
        return (
            bytes([function])
            + address.to_bytes(2, "big")
            + quantity.to_bytes(2, "big")
            + bytes([(count + extra) & 0xFF])
            + body
        )

    writes = st.builds(
        multi,
        st.sampled_from([15, 16]),
        ADDRESSES,
        st.integers(0, 130),
        st.sampled_from([0, 0, 0, 1, -1]),
        st.binary(min_size=1, max_size=8),
    )
    return st.one_of(simple, writes, st.binary(max_size=20))


def modbus_campaign(
    tool: str, cases: int, seed_value: int, reply_timeout_s: float, **options: Any
) -> CampaignResult:
    """Modbus TCP or RTU: a request per case (unit 1 mostly), then MODEL (IR 901-908)."""
    with _simulator(tool, **options) as simulated:
        link, rtu = modbus_link(simulated.address)
        holder = {"client": ModbusRawClient(link, rtu=rtu)}
        gateway = tool == "etch-bath" and not rtu
        requests = st.tuples(st.sampled_from([1, 1, 1, 1, 2, 0, 247]), modbus_pdus())
        quiet: list[bool] = []  # non-empty when the last case needed no retry

        def reconnect() -> None:
            holder["client"].link.close()
            holder["client"] = ModbusRawClient(_drained(modbus_link(simulated.address)[0]), rtu=rtu)

        def final() -> str:
            client = holder["client"]
            identity = _modbus_query(client, read_pdu(0x04, 901, 8), reply_timeout_s)
            assert identity[:2] == b"\x04\x10", f"identity {identity!r}"
            state = _modbus_query(client, read_pdu(0x04, 0, 1), reply_timeout_s)
            code = int.from_bytes(state[2:4], "big")
            assert state[:2] == b"\x04\x02" and code <= 9, f"state {state!r}"
            return f"MODEL {identity[2:].rstrip(bytes(1)).decode('latin-1')!r} in state {code}"

        def one_case(request: tuple[int, bytes]) -> None:
            unit, pdu = request
            client = holder["client"]
            if not quiet:  # late replies to the host's retries of the last case are no fault
                _drained(client.link)
            client.stray.clear()
            client.left_over.clear()
            quiet[:] = []
            sent = client.sent
            # Unit 1 is answered (the gateway answers every unit, 0x0A for others); an empty
            # PDU is a framing error (TCP: the connection closes; RTU: a frame too short).
            answered = bool(pdu) and (unit == 1 or gateway)
            reply = client.request(pdu, unit=unit, timeout_s=reply_timeout_s if answered else 0.02)
            if answered:
                if reply is None:
                    raise NoReply(f"no reply in {reply_timeout_s:g} s")
                assert reply[0] in (pdu[0], pdu[0] | 0x80), reply
                if reply[0] & 0x80:
                    assert reply[1] in (1, 2, 3, 6, 10, 11), f"exception {reply[1]}"
            else:
                assert reply is None or gateway, f"reply {reply!r} to unit {unit}"
                if rtu:
                    time.sleep(0.005)  # etch-bath.md §2: >= 5 ms idle between frames
                if not pdu and not rtu:
                    reconnect()
            final()
            # README §9.2: only unit 1 is answered (the gateway: every unit, 0x0A).
            others = [adu for unit, adu in client.stray if unit != 1 and not gateway]
            assert not others, f"replies from other units: {others!r}"
            if holder["client"] is client and client.sent - sent == 3:  # no retries
                # Nothing but the three answers: no reply sent twice, no late one.
                extra = client.stray + client.left_over
                assert not extra, f"bytes no request asked for: {extra!r}"
                quiet.append(True)

        protocol = f"modbus {tool} {'rtu' if rtu else 'tcp'}"
        try:
            return _run(protocol, requests, one_case, reconnect, final, cases, seed_value)
        finally:
            holder["client"].link.close()


#: A host's own timeout and retries (README §9.2, etch-bath.md §2): 1 s, 3 retries.
HOST_TIMEOUT_S = 1.0
HOST_RETRIES = 3


def _modbus_query(client: ModbusRawClient, pdu: bytes, reply_timeout_s: float) -> bytes:
    """A request as a host sends it (README §9.2, etch-bath.md §2): a 1 s timeout and 3
    retries, then one last wait of ``reply_timeout_s`` for a tool starved of CPU.

    The retries are needed when a fuzzed request without reply was still being judged when
    this one arrived (one outstanding request: the tool discards it), or on RTU when the two
    frames reached the tool with no silence between them (both discarded)."""
    for timeout_s in [HOST_TIMEOUT_S] * HOST_RETRIES + [reply_timeout_s]:
        reply = client.request(pdu, timeout_s=timeout_s)
        if reply is not None:
            return reply
    raise NoReply(f"no reply to {pdu.hex(' ')} after {HOST_RETRIES} retries")


#: One campaign: (cases, seed, reply timeout in s) -> result.
Campaign = Callable[[int, int, float], CampaignResult]

#: Every protocol of the line and how to run its campaign.
CAMPAIGNS: dict[str, Campaign] = {
    "scpi-tcp": partial(scpi_campaign, "die-bonder"),
    "scpi-serial": partial(scpi_campaign, "dicing-saw"),
    "framed": partial(framed_campaign, "wire-bonder"),
    "line-ascii": partial(line_campaign, "metrology"),
    "modbus-tcp": partial(modbus_campaign, "mold-press"),
    "modbus-rtu": partial(modbus_campaign, "etch-bath", transport="rtu"),
}
