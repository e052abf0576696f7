"""WireBonder driver and framed link against recorded transcripts (wire-bonder.md §2, §4, §9):
a fake peer on a pty or a loopback socket checks every frame, sequence digit and checksum
included."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from drivers.errors import (
    AlarmActive,
    InterlockActive,
    NotAllowedInState,
    ParameterOutOfRange,
    ProtocolError,
    ToolTimeout,
)
from drivers.states import ToolState
from drivers.transports.framed_link import encode_frame
from drivers.wire_bonder import WireBonder, WireBonderStatus, WireBondRecord, WireBondSummary
from tests.support.catalogue import raises_catalogue_error
from tests.support.expected_protocol import ProtocolBench, Step, lines
from tests.support.io_timing import takes_s
from tests.support.wire_bonder_frames import ack, host, nak, wire

FRAMES = lines(b"\r")  # a frame ends with CR

#: §9: the first exchange, the identity the driver asks on opening.
IDN = (
    wire("<STX>1IDN?<ETX>4D<CR>"),
    wire("<ACK><STX>1IDN=GENERIC,WB-3,WB3-00042,3.4.2<ETX>31<CR>"),
)
FAST = 0.15  # host reply timeout for tests that wait on purpose (the default is 0.5 s)


#: ``open_bonder(script, **options)`` of the fixture below.
OpenBonder = Callable[..., WireBonder]


@pytest.fixture
def open_bonder(protocol: ProtocolBench) -> OpenBonder:
    """``open_bonder(script, **options)``: a WireBonder on a pty peer playing the opening
    ``IDN?`` exchange and ``script`` (or at another ``address`` of :meth:`ProtocolBench.open`)."""

    def open_on(script: list[Step], address: str = "{device}", **options: Any) -> WireBonder:
        steps = [IDN, *script]
        return protocol.open(WireBonder, steps, address=address, framing=FRAMES, **options)[0]

    return open_on


NORMAL_CYCLE = [
    (wire("<STX>2PROG A64<ETX>5B<CR>"), wire("<ACK><STX>2OK<ETX>36<CR>")),
    (wire("<STX>3STAT?<ETX>1E<CR>"), wire("<ACK><STX>3STAT=HEATING,NONE,0,0,0,0<ETX>62<CR>")),
    (wire("<STX>4STAT?<ETX>19<CR>"), wire("<ACK><STX>4STAT=READY,NONE,0,0,0,0<ETX>76<CR>")),
    (wire("<STX>5STRIP LA2403-017<ETX>4A<CR>"), wire("<ACK><STX>5OK<ETX>31<CR>")),
    (
        wire("<STX>6MAP 1,111111111111111111111111111110<ETX>56<CR>"),
        wire("<ACK><STX>6OK<ETX>32<CR>"),
    ),
    (wire("<STX>7START<ETX>77<CR>"), wire("<ACK><STX>7OK<ETX>33<CR>")),
    (wire("<STX>8STAT?<ETX>15<CR>"), wire("<ACK><STX>8STAT=RUNNING,BOND,12,11,29,0<ETX>43<CR>")),
    (wire("<STX>9STAT?<ETX>14<CR>"), wire("<ACK><STX>9STAT=DONE,NONE,0,29,29,0<ETX>30<CR>")),
    (
        wire("<STX>0RSUM?<ETX>16<CR>"),
        wire("<ACK><STX>0RSUM=LA2403-017,30,28,1,1,0,209.4,1829<ETX>31<CR>"),
    ),
    (
        wire("<STX>1RMAP? 1<ETX>11<CR>"),
        wire("<ACK><STX>1RMAP=1,PPPPPPPPPPPPPFPPPPPPPPPPPPPPPX<ETX>01<CR>"),
    ),
    (
        wire("<STX>2RES? 13,2<ETX>75<CR>"),
        wire("<ACK><STX>2RES=13,P,0,64,64,0,0,50.2,251;14,F,3501,37,64,1,0,49.6,247<ETX>5A<CR>"),
    ),
    (wire("<STX>3ACK<ETX>7A<CR>"), wire("<ACK><STX>3OK<ETX>37<CR>")),
]

# §9 second example as this driver plays it: after every NAK >= 10 it reads LASTERR? (the
# manual's host skips that after NAK 23, so those frames carry the next digits).
LINK_ERRORS = [
    (wire("<STX>4START<ETX>74<CR>"), wire("<NAK><STX>01<ETX>01<CR>")),
    (wire("<STX>4START<ETX>74<CR>"), wire("<NAK><STX>22<ETX>00<CR>")),
    (
        wire("<STX>5LASTERR?<ETX>45<CR>"),
        wire("<ACK><STX>5LASTERR=22,Interlock active;DOOR<ETX>25<CR>"),
    ),
    (wire("<STX>6START<ETX>76<CR>"), wire("<ACK><STX>6OK<ETX>32<CR>")),
    (wire("<STX>7STAT?<ETX>1A<CR>"), None),
    (wire("<STX>7STAT?<ETX>1A<CR>"), wire("<ACK><STX>7STAT=ALARM,BOND,17,16,29,1<ETX>5B<CR>")),
    (wire("<STX>8ALM?<ETX>47<CR>"), wire("<ACK><STX>8ALM=1,3109<ETX>53<CR>")),
    (
        wire("<STX>9ALMTXT? 3109<ETX>35<CR>"),
        wire("<ACK><STX>9ALMTXT=3109,H,Wire spool empty<ETX>6C<CR>"),
    ),
    (wire("<STX>0RESUME<ETX>29<CR>"), wire("<NAK><STX>23<ETX>01<CR>")),
    (host("1LASTERR?"), ack("1LASTERR=23,Alarm active;3109")),
    (host("2ALMCLR"), ack("2OK")),
    (host("3STAT?"), ack("3STAT=PAUSED,BOND,17,16,29,0")),
    (host("4RESUME"), ack("4OK")),
]


def test_wire_bonder_frame_encoding_matches_manual_example() -> None:
    assert encode_frame("1IDN?") == bytes.fromhex("02 31 49 44 4E 3F 03 34 44 0D")


def test_wire_bonder_plays_the_manual_examples_frame_for_frame(open_bonder: OpenBonder) -> None:
    bonder = open_bonder(NORMAL_CYCLE + LINK_ERRORS, timeout_s=FAST)
    bonder.load_program("A64")
    assert bonder.wait_for_state([ToolState.READY], timeout_s=5, poll_s=0) is ToolState.READY
    bonder.strip_id = "LA2403-017"
    bonder.write_input_map("1" * 29 + "0", sites=30)
    bonder.start()
    assert bonder.wait_for_state([ToolState.DONE], timeout_s=5, poll_s=0) is ToolState.DONE
    assert bonder.summary() == WireBondSummary("LA2403-017", 30, 28, 1, 1, 0, 209.4, (1829,), 1829)
    assert bonder.result_map(30) == "PPPPPPPPPPPPPFPPPPPPPPPPPPPPPX"
    assert bonder.result_records(13, 2) == [
        WireBondRecord(13, "P", 0, 64, 64, 0, 0, 50.2, 251),
        WireBondRecord(14, "F", 3501, 37, 64, 1, 0, 49.6, 247),
    ]
    bonder.acknowledge()
    # Second example: link error, interlock, lost reply, hold alarm.
    with pytest.raises(InterlockActive) as interlock:
        bonder.start()
    assert (interlock.value.code, interlock.value.detail) == (22, "DOOR")
    bonder.start()
    assert bonder.status() == WireBonderStatus(ToolState.ALARM, "BOND", 17, 16, 29, 1)
    assert bonder.active_alarms() == [3109]
    assert bonder.alarm_info(3109).text == "Wire spool empty"
    with pytest.raises(AlarmActive) as alarm:
        bonder.resume()
    assert (alarm.value.code, alarm.value.detail) == (23, "3109")
    bonder.clear_alarms()
    assert bonder.state() is ToolState.PAUSED
    bonder.resume()


def test_wire_bonder_link_works_over_socket_url(open_bonder: OpenBonder) -> None:
    script = [(host("2TEMP?"), ack("2TEMP=149.8,150.0"))]
    bonder = open_bonder(script, address="socket://127.0.0.1:{port}")
    assert bonder.stage_temperature_c() == 149.8


def test_wire_bonder_retransmits_identical_frame_after_bad_checksum_reply(
    open_bonder: OpenBonder,
) -> None:
    bad = wire("<ACK><STX>2TEMP=149.8,150.0<ETX>00<CR>")
    script = [(host("2TEMP?"), bad), (host("2TEMP?"), ack("2TEMP=149.8,150.0"))]
    bonder = open_bonder(script)
    assert bonder.stage_temperature().sp_c == 150.0


def test_wire_bonder_retransmits_same_digit_after_lost_reply(open_bonder: OpenBonder) -> None:
    script = [
        (host("2START"), None),
        (host("2START"), ack("2OK")),
        (host("3STAT?"), ack("3STAT=RUNNING,LOAD,0,0,30,0")),
    ]
    bonder = open_bonder(script, timeout_s=FAST)
    with takes_s(FAST * 0.9, 2.0):
        bonder.start()
    assert bonder.status().phase == "LOAD"


@pytest.mark.parametrize("code", [1, 2, 3])
def test_wire_bonder_retransmits_after_link_nak(open_bonder: OpenBonder, code: int) -> None:
    script = [(host("2ALMCLR"), nak(code)), (host("2ALMCLR"), ack("2OK"))]
    bonder = open_bonder(script)
    bonder.clear_alarms()


@pytest.mark.parametrize(
    "reply",
    [
        ack("3STAT=IDLE,NONE,0,0,0,0"),  # wrong sequence digit (a stale reply)
        wire("<STX>2STAT=IDLE,NONE,0,0,0,0<ETX>3F<CR>"),  # no ACK
        wire("<ACK><STX>2STAT=IDLE,NONE,0,0,0,0<ETX>3G<CR>"),  # non-hex checksum
        wire("<NAK><STX>2X<ETX>7A<CR>"),  # NAK without a two-digit code
        b"\x06\x02" + b"2STAT=\x01IDLE" + b"\x03" + b"00\r",  # control byte in the payload
    ],
)
def test_wire_bonder_retransmits_after_malformed_reply(
    open_bonder: OpenBonder, reply: bytes
) -> None:
    script = [(host("2STAT?"), reply), (host("2STAT?"), ack("2STAT=IDLE,NONE,0,0,0,0"))]
    bonder = open_bonder(script)
    assert bonder.state() is ToolState.IDLE


def test_wire_bonder_gives_up_with_timeout_after_three_retransmissions(
    open_bonder: OpenBonder,
) -> None:
    script = [*[(host("2STAT?"), None)] * 4]
    bonder = open_bonder(script, timeout_s=FAST)
    with takes_s(4 * FAST * 0.9, 4 * FAST + 1.0), pytest.raises(ToolTimeout) as failure:
        bonder.status()
    assert failure.value.sent == "2STAT?"
    assert "2STAT?" in str(failure.value) and "4 attempts" in str(failure.value)


def test_wire_bonder_gives_up_with_protocol_error_after_bad_replies(
    open_bonder: OpenBonder,
) -> None:
    script = [*[(host("2ACK"), nak(1))] * 4, (host("3ACK"), ack("3OK"))]
    bonder = open_bonder(script)
    with pytest.raises(ProtocolError) as failure:
        bonder.acknowledge()
    assert failure.value.sent == "2ACK"
    bonder.acknowledge()  # the next command takes the next digit and works


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (10, "Unknown command"),
        (11, "Syntax error"),
        (12, "Bad parameter"),
        (13, "Out of range"),
        (14, "Settings conflict"),
        (20, "Not allowed in state;RUNNING"),
        (21, "Busy;INIT"),
        (22, "Interlock active;AIR"),
        (23, "Alarm active;3001"),
        (24, "No recipe loaded"),
        (25, "Recipe not found"),
        (26, "Map length mismatch"),
        (27, "No results available"),
        (28, "Storage full"),
    ],
)
def test_wire_bonder_rejection_is_not_retransmitted_and_raises_catalogue_error(
    open_bonder: OpenBonder, code: int, text: str
) -> None:
    script = [(host("2START"), nak(code)), (host("3LASTERR?"), ack(f"3LASTERR={code},{text}"))]
    bonder = open_bonder(script)
    with raises_catalogue_error(code, text, tool="wire-bonder", sent="2START") as rejection:
        bonder.start()
    assert rejection.value.text == text.partition(";")[0]


def test_wire_bonder_rejection_without_lasterr_still_raises_the_code(
    open_bonder: OpenBonder,
) -> None:
    script = [(host("2START"), nak(24)), *[(host("3LASTERR?"), None)] * 4]
    bonder = open_bonder(script, timeout_s=FAST / 3)
    with pytest.raises(NotAllowedInState) as rejection:
        bonder.start()
    assert (rejection.value.code, rejection.value.text) == (24, "No recipe loaded")


def test_wire_bonder_sequence_digit_wraps_after_9_for_repeated_polls(
    open_bonder: OpenBonder,
) -> None:
    polls = [(host(f"{d % 10}STAT?"), ack(f"{d % 10}STAT=IDLE,NONE,0,0,0,0")) for d in range(2, 14)]
    bonder = open_bonder(polls)
    for _ in polls:
        assert bonder.state() is ToolState.IDLE


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("wire_material", "AG"),
        ("wire_diameter_um", 51),
        ("stage_temperature_sp_c", 74.9),
        ("ball_force_gf", 9),
        ("ball_time_ms", 51),
        ("ball_ultrasonic_pct", 101),
        ("stitch_force_gf", 151),
        ("stitch_time_ms", 4),
        ("stitch_ultrasonic_pct", -1),
        ("loop_height_um", 401),
        ("fab_diameter_um", 29),
        ("gas_flow_l_min", 2.1),
        ("consecutive_fail_limit", 11),
        ("capillary_limit_bonds", 99_999),
        ("strip_size", (33, 10)),
        ("strip_pitch_mm", (0.9, 5.0)),
        ("strip_id", "bad id!"),
    ],
)
def test_wire_bonder_refuses_out_of_range_values_before_sending(
    open_bonder: OpenBonder, member: str, value: object
) -> None:
    bonder = open_bonder([])
    with pytest.raises(ParameterOutOfRange):
        setattr(bonder, member, value)


def test_wire_bonder_refuses_bad_pages_maps_and_names_before_sending(
    open_bonder: OpenBonder,
) -> None:
    bonder = open_bonder([])
    with pytest.raises(ParameterOutOfRange):
        bonder.result_records(1, 5)
    with pytest.raises(ParameterOutOfRange):
        bonder.write_input_map("1" * 29, sites=30)
    with pytest.raises(ParameterOutOfRange):
        bonder.write_input_map("12" * 15, sites=30)
    with pytest.raises(ParameterOutOfRange):
        bonder.load_program("a name")
    with pytest.raises(AttributeError):
        bonder.wires_per_unit = 32


def test_wire_bonder_parameters_read_and_write_with_manual_format(open_bonder: OpenBonder) -> None:
    script = [
        (host("2PAR STAGE_T,165.0"), ack("2OK")),
        (host("3PAR? STAGE_T"), ack("3PAR=STAGE_T,165.0")),
        (host("4PAR GAS_FLOW,0.8"), ack("4OK")),
        (host("5PAR WIRE_MAT,CU"), ack("5OK")),
        (host("6PAR? WIRE_MAT"), ack("6PAR=WIRE_MAT,CU")),
        (host("7PAR B1_US,40"), ack("7OK")),
        (host("8PAR? WIRES"), ack("8PAR=WIRES,64")),
        (host("9PAR? CAP_LIMIT"), ack("9PAR=CAP_LIMIT,1000000")),
    ]
    bonder = open_bonder(script)
    bonder.stage_temperature_sp_c = 165
    assert bonder.stage_temperature_sp_c == 165.0
    bonder.gas_flow_l_min = 0.84
    bonder.wire_material = "cu"
    assert bonder.wire_material == "CU"
    bonder.ball_ultrasonic_pct = 40.0
    assert bonder.wires_per_unit == 64
    assert bonder.capillary_limit_bonds == 1_000_000


def test_wire_bonder_writes_map_in_pieces_of_200_and_pages_maps_and_records(
    open_bonder: OpenBonder,
) -> None:
    input_map = "1" * 239 + "0"
    result_map = "P" * 200 + "F" + "P" * 38 + "X"
    records = [f"{s},P,0,16,16,0,0,50.1,249" for s in range(1, 5)]
    script = [
        (host("2SIZE?"), ack("2SIZE=8,30")),
        (host(f"3MAP 1,{input_map[:200]}"), ack("3OK")),
        (host(f"4MAP 201,{input_map[200:]}"), ack("4OK")),
        (host("5MAP? 1"), ack(f"5MAP=1,{input_map[:200]}")),
        (host("6MAP? 201"), ack(f"6MAP=201,{input_map[200:]}")),
        (host("7RCNT?"), ack("7RCNT=240")),
        (host("8RMAP? 1"), ack(f"8RMAP=1,{result_map[:200]}")),
        (host("9RMAP? 201"), ack(f"9RMAP=201,{result_map[200:]}")),
        (host("0RES? 1,4"), ack("0RES=" + ";".join(records))),
        (host("1RES? 240,1"), ack("1RES=240,X,0,,,,,,")),
    ]
    bonder = open_bonder(script)
    bonder.write_input_map(input_map)
    assert bonder.read_input_map(240) == input_map
    assert bonder.result_map() == result_map
    assert [r.site for r in bonder.result_records(1, 4)] == [1, 2, 3, 4]
    skipped = bonder.result_records(240)[0]
    assert (skipped.result, skipped.wires_bonded, skipped.mean_fab_um) == ("X", None, None)


def test_wire_bonder_pages_program_list_by_ten(open_bonder: OpenBonder) -> None:
    names = [f"P{n:02d}" for n in range(12)]
    script = [
        (host("2PLIST? 1"), ack("2PLIST=12," + ",".join(names[:10]))),
        (host("3PLIST? 11"), ack("3PLIST=12," + ",".join(names[10:]))),
        (host("4PROG?"), ack("4PROG=A64*,64")),
        (host("5PSAVE"), ack("5OK")),
        (host("6PSAVE A64-COPY"), ack("6OK")),
        (host("7CONS?"), ack("7CONS=901234,1000000,48.7")),
        (host("8LASTERR?"), ack("8LASTERR=0,No error")),
    ]
    bonder = open_bonder(script)
    assert bonder.program_list() == names
    program = bonder.program()
    assert (program.name, program.wires, program.edited) == ("A64", 64, True)
    bonder.save_program()
    bonder.save_program("A64-COPY")
    consumables = bonder.consumables()
    assert (consumables.capillary_bonds, consumables.wire_left_m) == (901234, 48.7)
    assert bonder.last_error().code == 0


def test_wire_bonder_program_list_short_of_its_total_is_a_protocol_error(
    open_bonder: OpenBonder,
) -> None:
    script = [
        (host("2PLIST? 1"), ack("2PLIST=12," + ",".join(f"P{n:02d}" for n in range(10)))),
        (host("3PLIST? 11"), ack("3PLIST=12")),
    ]
    with pytest.raises(ProtocolError, match=r"PLIST\? returned nothing at 11 of 12") as failure:
        open_bonder(script).program_list()
    assert failure.value.sent == "PLIST? 11"


@pytest.mark.parametrize(
    ("method", "payload", "reply"),
    [
        ("status", "2STAT?", "2STAT=BUSY,NONE,0,0,0,0"),
        ("status", "2STAT?", "2STAT=IDLE,NONE,0,0"),
        ("status", "2STAT?", "2TEMP=25.0,150.0"),
        ("active_alarms", "2ALM?", "2ALM=2,3001"),
        ("consumables", "2CONS?", "2CONS=1,2"),
        ("reset", "2RESET", "2ERR"),
        ("result_count", "2RCNT?", "2RCNT=many"),
        ("summary", "2RSUM?", "2RSUM=S1,30,29"),
    ],
)
def test_wire_bonder_wellformed_frame_with_wrong_content_raises_protocol_error(
    open_bonder: OpenBonder, method: str, payload: str, reply: str
) -> None:
    bonder = open_bonder([(host(payload), ack(reply))])
    with pytest.raises(ProtocolError) as failure:
        getattr(bonder, method)()
    assert failure.value.sent.startswith(payload[1:].split(" ")[0])


def test_wire_bonder_logs_every_exchange_at_debug(
    open_bonder: OpenBonder, caplog: pytest.LogCaptureFixture
) -> None:
    script = [(host("2STAT?"), None), (host("2STAT?"), ack("2STAT=IDLE,NONE,0,0,0,0"))]
    bonder = open_bonder(script, timeout_s=FAST)
    with caplog.at_level(logging.DEBUG, logger="packline.drivers.wire-bonder"):
        bonder.state()
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert any("-> 2STAT?" in m for m in messages)
    assert any("retransmitting '2STAT?'" in m for m in messages)
    assert any("<- 2STAT=IDLE" in m for m in messages)


def test_wire_bonder_peer_notation_gives_the_manual_bytes() -> None:
    """§2: ``1IDN?`` is ``02 31 49 44 4E 3F 03 34 44 0D``; the NAK payload ``22`` has checksum 00."""
    assert wire("<STX>1IDN?<ETX>4D<CR>") == bytes.fromhex("02 31 49 44 4E 3F 03 34 44 0D")
    assert host("1IDN?") == bytes.fromhex("02 31 49 44 4E 3F 03 34 44 0D")
    assert nak(22) == wire("<NAK><STX>22<ETX>00<CR>")
