"""Metrology driver against recorded transcripts: a fake MS-3 on a real pty (or a loopback TCP
socket) checks every line the driver sends and answers what the manual says."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import pytest

from drivers.errors import (
    AlarmActive,
    InterlockActive,
    ParameterOutOfRange,
    ProtocolError,
    ToolTimeout,
)
from drivers.metrology import (
    LIMIT_ITEMS,
    BallRecord,
    Calibration,
    CalResult,
    DieRecord,
    InspectionSetPoints,
    ItemStatistics,
    Limit,
    MeasureMode,
    Metrology,
    MetrologyStatus,
    PkgRecord,
    RecessRecord,
    SlugRecord,
)
from drivers.records import StripSummary
from drivers.scpi import Progress
from drivers.states import ToolState
from sequences.steps.held import forget_held
from sequences.steps.setup import apply_setpoints, set_strip_size
from sim.metrology import items as sim_items
from tests.support.catalogue import raises_catalogue_error
from tests.support.expected_protocol import (
    ProtocolBench,
    ScriptedPeer,
    TextReply,
    lines,
    text_steps,
)
from tests.support.io_timing import takes_s

#: ``station(transcript, transport=, line_timeout_s=)``: the driver and its scripted peer.
Station = Callable[..., tuple[Metrology, ScriptedPeer]]


@pytest.fixture
def station(protocol: ProtocolBench) -> Callable[..., tuple[Metrology, ScriptedPeer]]:
    """Factory: a driver opened on a scripted MS-3 (pty or TCP) playing ``transcript``."""

    def open_on(
        transcript: Sequence[tuple[str, TextReply]],
        *,
        transport: str = "pty",
        line_timeout_s: float = 1.0,
    ) -> tuple[Metrology, ScriptedPeer]:
        address = "{device}" if transport == "pty" else "socket://127.0.0.1:{port}"
        return protocol.open(
            Metrology,
            text_steps(transcript, b"\r"),
            address=address,
            framing=lines(b"\r"),
            line_timeout_s=line_timeout_s,
        )

    return open_on


NORMAL_CYCLE = [  # metrology.md §9, first example
    ("ID?", "OK GENERIC,MS-3,MS3-00057,1.8.0"),
    ("LOAD A-BALL", "OK"),
    ("ST?", "OK READY,BALL,NONE,0,0"),
    ("CAL", "OK"),
    ("ST?", "OK SETUP,BALL,NONE,0,0"),
    ("ST?", "OK READY,BALL,NONE,0,0"),
    ("STRIP LA2403-017", "OK"),
    ("MAP 111111111111111111111111111110", "OK"),
    ("RUN", "OK"),
    ("ST?", "OK RUNNING,BALL,MEASURE,12,29"),
    ("ST?", "OK DONE,BALL,NONE,29,29"),
    ("RSUM?", "OK LA2403-017,30,28,1,1,0,88.5,BALL"),
    (
        "RD 1,3",
        [
            "D 1,P,0,402.3,391.0,62.5,224.8,166.2,0",
            "D 2,F,9507,398.7,352.1,118.4,226.0,126.1,0",
            "D 3,P,0,405.1,396.4,48.9,223.1,173.3,0",
            "OK 3",
        ],
    ),
    ("RSTAT? COPL", "OK COPL,29,71.2,18.6,41.0,118.4"),
    ("ACK", "OK"),
]


@pytest.mark.parametrize("transport", ["pty", "tcp"])
def test_metrology_normal_cycle_sends_the_manual_example_lines(
    station: Station, transport: str
) -> None:
    gauge, _ = station(NORMAL_CYCLE, transport=transport)
    assert gauge.identify().serial == "MS3-00057"
    gauge.load_recipe("A-BALL")
    assert gauge.status().mode is MeasureMode.BALL
    gauge.calibrate()
    assert gauge.wait_for_state([ToolState.READY], timeout_s=2, poll_s=0.001) is ToolState.READY
    gauge.strip_id = "LA2403-017"
    gauge.input_map = "1" * 29 + "0"
    gauge.start()
    assert gauge.status().done == 12
    assert gauge.state() is ToolState.DONE
    summary = gauge.summary()
    assert summary == StripSummary("LA2403-017", 30, 28, 1, 1, 0, 88.5, (MeasureMode.BALL,))
    records = gauge.records(1, 3, mode=summary.extra[0])
    assert records[1] == BallRecord(2, "F", 9507, 398.7, 352.1, 118.4, 226.0, 126.1, 0)
    assert gauge.statistics("copl") == ItemStatistics("COPL", 29, 71.2, 18.6, 41.0, 118.4)
    gauge.acknowledge()


def test_metrology_interlock_calibration_and_hold_alarm_of_the_manual(station: Station) -> None:
    gauge, _ = station(
        [
            ("RUN", "ER 22,Interlock active;CAL"),
            ("CAL", "OK"),
            ("ST?", "OK SETUP,BALL,NONE,0,0"),
            ("ST?", "OK READY,BALL,NONE,0,0"),
            ("CAL?", "OK PASS,2024-05-14T09:02:41,0.0"),
            ("RUN", "OK"),
            ("ST?", "OK ALARM,BALL,MEASURE,7,29"),
            ("AL?", "OK 1,9003"),
            ("ALT? 9003", "OK 9003,H,Stage vacuum low"),
            ("RESUME", "ER 23,Alarm active;9003"),
            ("ALC", "OK"),
            ("ST?", "OK PAUSED,BALL,MEASURE,7,29"),
            ("RESUME", "OK"),
        ]
    )
    with pytest.raises(InterlockActive) as refused:
        gauge.start()
    assert (refused.value.code, refused.value.detail) == (22, "CAL")
    gauge.calibrate()
    gauge.wait_for_state([ToolState.READY], timeout_s=2, poll_s=0.001)
    calibration = gauge.calibration()
    assert calibration == Calibration(CalResult.PASS, datetime(2024, 5, 14, 9, 2, 41), 0.0)
    assert calibration.passed
    gauge.start()
    assert gauge.status() == MetrologyStatus(ToolState.ALARM, MeasureMode.BALL, "MEASURE", 7, 29)
    assert [(a.code, a.alarm_class, a.text) for a in gauge.alarms()] == [
        (9003, "H", "Stage vacuum low")
    ]
    with pytest.raises(AlarmActive) as blocked:
        gauge.resume()
    assert blocked.value.detail == "9003"
    gauge.clear_alarms()
    assert gauge.state() is ToolState.PAUSED
    gauge.resume()


def test_metrology_every_member_sends_its_manual_line(station: Station) -> None:
    gauge, _ = station(
        [
            ("RST", "OK"),
            ("UNLOAD", "OK"),
            ("SAVE A-BALL-2", "OK"),
            ("DEL A-BALL-2", "OK"),
            ("LIST? 1", "OK 12,A,B,C,D,E,F,G,H,I,J"),
            ("LIST? 11", "OK 12,K,L"),
            ("NAME?", "OK A-BALL*"),
            ("NAME?", "OK"),
            ("MODE DIE", "OK"),
            ("MODE?", "OK DIE"),
            ("SIZE 8,30", "OK"),
            ("SIZE?", "OK 8,30"),
            ("PITCH 17.300,5.300", "OK"),
            ("PITCH?", "OK 17.300,5.300"),
            ("LIM DT,-0.25,0.25", "OK"),
            ("LIM MISS,0,2", "OK"),
            ("LIM? DX", "OK DX,-25.0,25.0"),
            ("LIM? DX", "OK DX,-25.0,25.0"),
            ("MODE?", "OK DIE"),
            ("LIM? DX", "OK DX,-25.0,25.0"),
            ("LIM? DY", "OK DY,-25.0,25.0"),
            ("LIM? DT", "OK DT,-0.50,0.50"),
            ("STRIP?", "OK"),
            ("MAP?", "OK 1101"),
            ("PAUSE", "OK"),
            ("ABORT", "OK"),
            ("PROG?", "OK 12,29,42,53"),
            ("RC?", "OK 30"),
            ("RMAP?", "OK PPFX"),
            ("RSTAT? SLUG", "OK SLUG,0,,,,"),
            ("TEMP?", "OK 22.4"),
            ("CAL?", "OK NONE,,"),
            ("CAL?", "OK FAIL,2024-05-14T09:02:41,25.5"),
            ("AL?", "OK 0"),
        ]
    )
    gauge.reset()
    gauge.unload_recipe()
    gauge.save_recipe("A-BALL-2")
    gauge.delete_recipe("A-BALL-2")
    assert gauge.recipe_catalog() == list("ABCDEFGHIJKL")
    assert gauge.recipe_name() == ("A-BALL", True)
    assert gauge.recipe_name() == ("", False)
    gauge.mode = "die"
    assert gauge.mode is MeasureMode.DIE
    gauge.strip_size = (8, 30)
    assert gauge.strip_size == (8, 30)
    gauge.strip_pitch_mm = (17.3, 5.3)
    assert gauge.strip_pitch_mm == (17.3, 5.3)
    gauge.set_limit(Limit("DT", -0.25, 0.25))
    gauge.set_limit(Limit("MISS", 0, 2))
    assert gauge.limit("dx") == Limit("DX", -25.0, 25.0)
    assert gauge.limit("DX").unit == "µm"
    assert list(gauge.limits()) == ["DX", "DY", "DT"]
    assert gauge.strip_id == ""
    assert gauge.input_map == "1101"
    gauge.pause()
    gauge.abort()
    assert gauge.progress() == Progress(12, 29, 42, 53)
    assert gauge.record_count() == 30
    assert gauge.result_map() == "PPFX"
    assert gauge.statistics("SLUG") == ItemStatistics("SLUG", 0, None, None, None, None)
    assert gauge.enclosure_temperature_c == 22.4
    assert gauge.calibration() == Calibration(CalResult.NONE, None, None)
    failed = gauge.calibration()
    assert failed == Calibration(CalResult.FAIL, datetime(2024, 5, 14, 9, 2, 41), 25.5)
    assert not failed.passed
    assert gauge.active_alarms() == []


@pytest.mark.parametrize(
    ("mode", "line", "record"),
    [
        (MeasureMode.DIE, "D 1,P,0,3.2,-4.1,0.12", DieRecord(1, "P", 0, 3.2, -4.1, 0.12)),
        (MeasureMode.SLUG, "D 1,F,9504,231.0,61.3,5.9", SlugRecord(1, "F", 9504, 231.0, 61.3, 5.9)),
        (
            MeasureMode.BALL,
            "D 1,P,0,380.1,372.0,55.0,,,0",
            BallRecord(1, "P", 0, 380.1, 372.0, 55.0, None, None, 0),
        ),
        (
            MeasureMode.RECESS,
            "D 1,P,0,25.1,24.3,,0.1",
            RecessRecord(1, "P", 0, 25.1, 24.3, None, 0.1),
        ),
        (MeasureMode.PKG, "D 1,P,0,301.2,18.5,", PkgRecord(1, "P", 0, 301.2, 18.5, None)),
        (MeasureMode.PKG, "D 1,F,9515,,,", PkgRecord(1, "F", 9515, None, None, None)),
    ],
)
def test_metrology_records_are_parsed_into_the_record_type_of_their_mode(
    station: Station,
    mode: MeasureMode,
    line: str,
    record: Any,
) -> None:
    gauge, _ = station([("RSUM?", f"OK S1,1,1,0,0,0,16.6,{mode}"), ("RD 1,1024", [line, "OK 1"])])
    assert gauge.records() == [record]


def test_metrology_cycle_result_reads_summary_map_and_all_records(station: Station) -> None:
    gauge, _ = station(
        [
            ("RSUM?", "OK S1,3,1,1,1,0,17.8,DIE"),
            ("RMAP?", "OK PFX"),
            ("RD 1,3", ["D 1,P,0,1.0,2.0,0.01", "D 2,F,9502,1.0,2.0,0.61", "D 3,X,0,,,", "OK 3"]),
        ]
    )
    result = gauge.cycle_result()
    assert result.result_map == "PFX"
    assert [r.defect for r in result.records] == [0, 9502, 0]


# -- error replies -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "sent", "reply"),
    [
        (lambda g: g.query("XYZ?"), "XYZ?", "ER 10,Unknown command"),
        (lambda g: g.status(), "ST?", "ER 11,Syntax error"),
        (lambda g: g.set_limit(Limit("COPL", 0, 100)), "LIM COPL,0.0,100.0", "ER 12,Bad parameter"),
        (lambda g: g.records(31, 1, mode=MeasureMode.BALL), "RD 31,1", "ER 13,Out of range"),
        (lambda g: g.command("LIM COPL,100,0"), "LIM COPL,100,0", "ER 14,Settings conflict"),
        (
            lambda g: setattr(g, "strip_size", (3, 10)),
            "SIZE 3,10",
            "ER 20,Not allowed in state;RUNNING",
        ),
        (lambda g: g.load_recipe("A-BALL"), "LOAD A-BALL", "ER 21,Busy;INIT"),
        (lambda g: g.start(), "RUN", "ER 22,Interlock active;DOOR"),
        (lambda g: g.resume(), "RESUME", "ER 23,Alarm active;9003"),
        (lambda g: g.start(), "RUN", "ER 24,No recipe loaded"),
        (lambda g: g.load_recipe("NOPE"), "LOAD NOPE", "ER 25,Recipe not found"),
        (
            lambda g: setattr(g, "input_map", "1" * 29),
            "MAP " + "1" * 29,
            "ER 26,Map length mismatch",
        ),
        (lambda g: g.result_map(), "RMAP?", "ER 27,No results available"),
        (lambda g: g.save_recipe("X"), "SAVE X", "ER 28,Storage full"),
        (lambda g: g.alarm_info(9499), "ALT? 9499", "ER 12,Bad parameter"),
    ],
)
def test_metrology_error_replies_raise_the_catalogue_error(
    station: Station,
    call: Callable[[Metrology], Any],
    sent: str,
    reply: str,
) -> None:
    """``ER <code>,<text>[;<detail>]`` (metrology.md §2): the code's catalogue class, with the
    reply's code, text and detail."""
    gauge, _ = station([(sent, reply)])
    code, text = reply.removeprefix("ER ").split(",", 1)
    catalogue_error = raises_catalogue_error(
        int(code), text, tool="metrology", address=gauge.address, sent=sent
    )
    with catalogue_error as raised:
        call(gauge)
    assert raised.value.text == text.split(";")[0]


def die_records(first: int, count: int) -> Callable[[Metrology], Any]:
    """``RD first,count`` read as MODE DIE records."""
    return lambda g: g.records(first, count, mode=MeasureMode.DIE)


# -- malformed replies --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "sent", "reply"),
    [
        (lambda g: g.status(), "ST?", "YES"),
        (lambda g: g.status(), "ST?", "OKREADY,BALL,NONE,0,0"),
        (lambda g: g.status(), "ST?", "OK COOKING,BALL,NONE,0,0"),
        (lambda g: g.status(), "ST?", "OK READY,BALL,SLEEP,0,0"),
        (lambda g: g.status(), "ST?", "OK READY,BALL,NONE,0"),
        (lambda g: g.status(), "ST?", ["D 1,P,0,1.0,2.0,0.01", "OK READY,BALL,NONE,0,0"]),
        (lambda g: g.status(), "ST?", b"\xff\xfe\r"),
        (lambda g: g.status(), "ST?", b"OK READY\x07\r"),
        (lambda g: g.start(), "RUN", "ER x,Bad parameter"),
        (lambda g: g.start(), "RUN", "ER 12"),
        (lambda g: g.start(), "RUN", "OK 5"),
        (lambda g: g.identify(), "ID?", "OK GENERIC,MS-3"),
        (lambda g: g.active_alarms(), "AL?", "OK 2,9003"),
        (lambda g: g.alarm_info(9003), "ALT? 9003", "OK 9003,Q,Stage vacuum low"),
        (lambda g: g.limit("COPL"), "LIM? COPL", "OK BALLH,350.0,450.0"),
        (lambda g: g.statistics("COPL"), "RSTAT? COPL", "OK COPL,29,71.2"),
        (lambda g: g.summary(), "RSUM?", "OK S1,30,28,1,1,0,88.5,COFFEE"),
        (lambda g: g.result_map(), "RMAP?", "OK PPQ"),
        (lambda g: g.calibration(), "CAL?", "OK PASS,yesterday,1.0"),
        (die_records(1, 2), "RD 1,2", ["D 1,P,0,1.0,2.0,0.01", "OK 2"]),
        (die_records(1, 1), "RD 1,1", ["D 1,P,0,1.0,2.0", "OK 1"]),
        (die_records(1, 1), "RD 1,1", ["D 1,Z,0,1.0,2.0,0.1", "OK 1"]),
        (die_records(1, 1), "RD 1,1", ["D 2,P,0,1.0,2.0,0.1", "OK 1"]),
        (die_records(1, 1), "RD 1,1", ["D 1,P,0,1.0,2.0,0.1", "D 2,P,0,1.0,2.0,0.1", "OK 2"]),
    ],
)
def test_metrology_malformed_replies_raise_protocol_error(
    station: Station,
    call: Callable[[Metrology], Any],
    sent: str,
    reply: TextReply,
) -> None:
    gauge, _ = station([(sent, reply)])
    with pytest.raises(ProtocolError) as raised:
        call(gauge)
    assert raised.value.address == gauge.address and raised.value.sent


def test_metrology_missing_reply_times_out_after_the_line_timeout_and_the_link_recovers(
    station: Station,
) -> None:
    gauge, _ = station(
        [("ST?", None), ("ST?", b"OK READY,BA"), ("ID?", "OK GENERIC,MS-3,MS3-00057,1.8.0")],
        line_timeout_s=0.3,
    )
    for _ in range(2):
        # line timeout + quiet wait + slack
        with takes_s(0, 0.3 + 0.1 + 0.3), pytest.raises(ToolTimeout):
            gauge.status()
    assert gauge.identify().model == "MS-3"


def test_metrology_link_discards_the_rest_of_a_garbled_reply(station: Station) -> None:
    gauge, _ = station(
        [
            ("RD 1,2", ["D 1,P,0,1.0,2.0,0.01", "z 2,P,0,1.0,2.0,0.01", "OK 2", "OK 2"]),
            ("ID?", "OK GENERIC,MS-3,MS3-00057,1.8.0"),
        ]
    )
    with pytest.raises(ProtocolError):
        gauge.records(1, 2, mode=MeasureMode.DIE)
    assert gauge.identify().serial == "MS3-00057"


# -- checked before sending ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda g: g.set_limit(Limit("COPL", -5000.1, 0)),
        lambda g: g.set_limit(Limit("COPL", 100, 0)),
        lambda g: g.set_limit(Limit("HEIGHT", 0, 1)),
        lambda g: g.limit("HEIGHT"),
        lambda g: g.statistics("HEIGHT"),
        lambda g: setattr(g, "mode", "XRAY"),
        lambda g: setattr(g, "strip_id", "LA 2403"),
        lambda g: setattr(g, "strip_id", "L" * 21),
        lambda g: setattr(g, "strip_id", ""),
        lambda g: setattr(g, "input_map", "11x1"),
        lambda g: setattr(g, "strip_size", (33, 10)),
        lambda g: setattr(g, "strip_size", (32, 64)),
        lambda g: setattr(g, "strip_size", (3,)),
        lambda g: setattr(g, "strip_pitch_mm", (0.5, 17.3)),
        lambda g: setattr(g, "enclosure_temperature_c", 22.0),
        lambda g: g.records(0, 1, mode=MeasureMode.BALL),
        lambda g: g.records(1, 1025, mode=MeasureMode.BALL),
        lambda g: g.recipe_list(0),
        lambda g: g.alarm_info(1234),
        lambda g: g.load_recipe("A-VERY-LONG-RECIPE-NAME"),
        lambda g: g.save_recipe(""),
        lambda g: g.command("RUN\rRST"),
        lambda g: g.command("LIM " + "1," * 600),
    ],
)
def test_metrology_bad_values_are_refused_before_anything_is_sent(
    station: Station, call: Callable[[Metrology], Any]
) -> None:
    gauge, peer = station([])
    with pytest.raises((ParameterOutOfRange, AttributeError)):
        call(gauge)
    time.sleep(0.02)
    assert peer.received == []


def test_metrology_logs_every_exchange_at_debug(
    station: Station, caplog: pytest.LogCaptureFixture
) -> None:
    gauge, _ = station([("TEMP?", "OK 22.4"), ("RUN", "ER 22,Interlock active;CAL")])
    with caplog.at_level(logging.DEBUG, logger="packline.drivers.metrology"):
        assert gauge.enclosure_temperature_c == 22.4
        with pytest.raises(InterlockActive):
            gauge.start()
    text = caplog.text
    assert "TEMP?" in text and "OK 22.4" in text and "ER 22,Interlock active;CAL" in text


# -- the inspection's set-points: MODE and its limits, one group --------------------------------------
BALL_WINDOWS = {"COPL": (0.0, 100.0), "CLEAR": (50.0, 1000.0), "MISS": (0, 2)}


def test_inspection_setpoints_send_mode_first_then_only_the_windows_mode_did_not_set(
    station: Station,
) -> None:
    """MODE resets every limit to the MODE's defaults (§4): COPL 0..100 is one of them, so it
    is not sent; the others follow MODE in the manual's item order."""
    gauge, _ = station(
        [("MODE BALL", "OK"), ("LIM CLEAR,50.0,1000.0", "OK"), ("LIM MISS,0,2", "OK")]
    )
    setpoints = InspectionSetPoints.of(MeasureMode.BALL, BALL_WINDOWS)
    assert setpoints.windows() == {"COPL": (0.0, 100.0), "CLEAR": (50.0, 1000.0), "MISS": (0, 2)}
    assert list(setpoints.values()) == [
        "mode",
        "ballh_limits_um",
        "copl_limits_um",
        "clear_limits_um",
        "miss_limits_count",
    ]
    apply_setpoints(gauge, setpoints)


def test_a_held_mode_does_not_keep_a_window_the_next_inspection_leaves_to_its_default(
    station: Station,
) -> None:
    """The host trusts what the MS-3 holds while its link stays open (LineLink counts its
    opens): a second BALL set-up skips the held MODE, and CLEAR, which the first set-up
    opened and the second leaves out, goes back to the MODE's default rather than staying."""
    gauge, _ = station(
        [
            ("MODE BALL", "OK"),
            ("LIM CLEAR,50.0,1000.0", "OK"),
            ("LIM MISS,0,2", "OK"),
            ("LIM CLEAR,100.0,1000.0", "OK"),
            ("MODE DIE", "OK"),
            ("MODE BALL", "OK"),
        ]
    )
    assert gauge.link.opened == 1
    apply_setpoints(gauge, InspectionSetPoints.of(MeasureMode.BALL, BALL_WINDOWS))
    apply_setpoints(gauge, InspectionSetPoints.of(MeasureMode.BALL, {"MISS": (0, 2)}))
    apply_setpoints(gauge, InspectionSetPoints.of(MeasureMode.DIE, {}))
    apply_setpoints(gauge, InspectionSetPoints.of(MeasureMode.BALL, {}))


def test_a_strip_size_the_gauge_holds_from_the_host_is_not_asked_again_until_forgotten(
    station: Station,
) -> None:
    """The first set-up reads SIZE? and writes the new size; the next strips of that size ask
    nothing; a new size is read and written; once forgotten (a LOAD, a failed step) the size
    is read again, and not written when the gauge holds it."""
    gauge, _ = station(
        [
            ("SIZE?", "OK 8,30"),
            ("SIZE 3,10", "OK"),
            ("SIZE?", "OK 3,10"),
            ("SIZE 8,30", "OK"),
            ("SIZE?", "OK 8,30"),
        ]
    )
    set_strip_size(gauge, (3, 10))
    set_strip_size(gauge, (3, 10))
    set_strip_size(gauge, (8, 30))
    forget_held(gauge)
    set_strip_size(gauge, (8, 30))
    set_strip_size(gauge, (8, 30))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: InspectionSetPoints(MeasureMode.SLUG, copl_limits_um=(0.0, 100.0)), "COPL is not"),
        (lambda: InspectionSetPoints.of(MeasureMode.BALL, {"HEIGHT": (0, 1)}), "HEIGHT is not"),
        (lambda: InspectionSetPoints.of("XRAY", {}), "MODE 'XRAY' not one of"),
        (lambda: InspectionSetPoints.of("BALL", {"COPL": (-5000.1, 0)}), "COPL limit = -5000.1"),
        (lambda: InspectionSetPoints.of("BALL", {"COPL": (100, 0)}), "COPL limits need lo <= hi"),
    ],
)
def test_inspection_setpoints_are_checked_by_the_items_declarations(
    make: Callable[[], InspectionSetPoints], message: str
) -> None:
    with pytest.raises(ParameterOutOfRange, match=message):
        make().check()


def test_declared_lim_items_agree_with_the_simulated_station_item_for_item() -> None:
    """Driver and simulator each read metrology.md §4: same items in the same order, each with
    the same MODE, decimals, default window and lo/hi range."""
    simulated = [(mode, item) for mode, spec in sim_items.MODES.items() for item in spec.items]
    assert [item.name for _, item in simulated] == list(LIMIT_ITEMS)
    for mode, item in simulated:
        declared = LIMIT_ITEMS[item.name]
        assert (declared.mode, declared.decimals) == (mode, item.decimals), item.name
        assert declared.default == (item.default_lo, item.default_hi), item.name
        assert (declared.bound.lo, declared.bound.hi) == sim_items.LIMIT_RANGE, item.name
