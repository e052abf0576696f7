"""BallAttach driver against recorded SCPI transcripts (ball-attach.md §9 where it has them) and
the pyvisa-sim YAML: the fake peer compares headers the way a SCPI tool does (short and long
forms are the same command)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import pytest

from drivers.ball_attach import (
    BallAttach,
    BallAttachRecord,
    ReflowLimits,
    ReflowProfile,
)
from drivers.errors import (
    AlarmActive,
    ConnectionLost,
    InterlockActive,
    NotAllowedInState,
    ParameterOutOfRange,
    ProtocolError,
    ToolError,
    ToolTimeout,
)
from drivers.records import AlarmInfo, StripSummary
from drivers.scpi import Progress
from drivers.states import ToolState
from tests.support.catalogue import raises_catalogue_error
from tests.support.expected_protocol import (
    NO_ERROR,
    ProtocolBench,
    ScriptedPeer,
    checked,
)

ADDRESS = "TCPIP::127.0.0.1::5025::SOCKET"
Exchange = tuple[str, str | None]


def canonical(message: str) -> str:
    """A SCPI message with its header in short form (``MAGazine:COUNt 2`` -> ``MAG:COUN 2``)."""
    header, space, rest = message.partition(" ")
    return "".join(ch for ch in header if not ch.islower()) + space + rest


def manual(text: str) -> list[Exchange]:
    """A transcript in the manual's notation: ``→`` host, ``←`` tool; a command (no ``←``)
    gets the driver's ``SYST:ERR?`` check answered with no error."""
    lines = [line.strip() for line in text.strip().splitlines()]
    lines = [re.sub(r"\s{2,}\(.*\)$", "", line) for line in lines if line[:1] in "→←"]
    exchanges: list[Exchange] = []
    for index, line in enumerate(lines):
        if line.startswith("←"):
            continue
        message = line[1:].strip()
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if following.startswith("←"):
            exchanges.append((message, following[1:].strip()))
        else:
            assert "?" not in message, f"query {message!r} without reply"
            exchanges += checked(message)
    return exchanges


def _same_message(got: bytes, expected: bytes) -> bool:
    return canonical(got.decode("ascii")) == canonical(expected.decode("ascii"))


@pytest.fixture
def tool_with(
    protocol: ProtocolBench,
) -> Callable[[Sequence[Exchange]], tuple[BallAttach, ScriptedPeer]]:
    """``tool_with(transcript)``: a BallAttach on a peer playing ``*CLS`` and the transcript
    (messages compared in short form, as the manual writes them)."""

    return lambda transcript: protocol.scpi(BallAttach, transcript, same=_same_message)


# == the manual's examples (§9) ====================================================================
NORMAL_CYCLE = """
→ RECipe:LOAD "A-BALL050"
→ SYST:STAT?
← READY                               (after HEATING)
→ REFL:PROF?
← 241.7,60.4,108.2,2.62,-5.04
→ MAG:COUN 2
→ STR1:ID "LA2403-017"
→ STR1:MAP "111111111111111111111111111110"
→ STR2:ID "LA2403-018"
→ STR2:MAP "111111111111111111111111111111"
→ CYCL:STAR
→ CYCL:PROG?
← 0,2,120,273
→ STR2:STAT?
← REFLOW
→ SYST:STAT?
← DONE
→ RES1:SUMM?
← "LA2403-017",30,28,1,1,0,363.0,241.6,60.2,180
→ RES1:DATA? 14,1
← 14,F,6501,1,0,0,12.4,0.527
→ RES2:MAP?
← "PPPPPPPPPPPPPPPPPPPPPPPPPPPPPP"
→ CYCL:ACK
"""

HOLD_ALARM = """
→ CYCL:STAR
→ SYST:STAT?
← ALARM
→ ALAR:ACT?
← 2,6202,6102
→ ALAR:TEXT? 6102
← 6102,H,"Ball supply empty"
→ STR1:STAT?
← REFLOW                              (strip 1 continues through the oven)
→ STR2:STAT?
← WAIT
   (operator refills balls)
→ ALAR:CLE
→ SYST:STAT?
← PAUSED
→ CYCL:RES
→ SYST:STAT?
← RUNNING
"""


def test_ball_attach_runs_the_manual_normal_cycle_example(tool_with) -> None:
    ba, _ = tool_with(manual(NORMAL_CYCLE))
    ba.load_recipe("A-BALL050")
    assert ba.state() is ToolState.READY
    assert ba.reflow_profile() == ReflowProfile(241.7, 60.4, 108.2, 2.62, -5.04)
    # MAG:COUN, STR<k>:ID, STR<k>:MAP
    ba.set_magazine(["LA2403-017", "LA2403-018"], ["1" * 29 + "0", "1" * 30])
    ba.start()
    assert ba.progress() == Progress(0, 2, 120, 273)
    assert ba.strip_status(2) == "REFLOW"
    assert ba.state() is ToolState.DONE
    # extra: peak °C, TAL s, max O2 ppm
    assert ba.summary(1) == StripSummary("LA2403-017", 30, 28, 1, 1, 0, 363.0, (241.6, 60.2, 180))
    assert ba.result_records(14, 1, strip=1) == [
        BallAttachRecord(14, "F", 6501, 1, 0, 0, 12.4, 0.527)
    ]
    assert ba.result_map(2) == "P" * 30
    ba.acknowledge()


def test_ball_attach_follows_the_manual_hold_alarm_example(tool_with) -> None:
    ba, _ = tool_with(manual(HOLD_ALARM))
    ba.start()
    assert ba.state() is ToolState.ALARM
    assert ba.active_alarms() == [6202, 6102]
    assert ba.alarm_info(6102) == AlarmInfo(6102, "H", "Ball supply empty")
    assert BallAttach.alarm_table[6102] == AlarmInfo(6102, "H", "Ball supply empty")
    assert (ba.strip_status(1), ba.strip_status(2)) == ("REFLOW", "WAIT")
    ba.clear_alarms()
    assert ba.state() is ToolState.PAUSED
    ba.resume()
    assert ba.state() is ToolState.RUNNING


def test_ball_attach_cycle_result_pages_one_strip_and_types_every_field(tool_with) -> None:
    records = ";".join(
        f"{s},X,0,,,,," if s == 30 else f"{s},P,0,0,0,0,11.0,0.527" for s in range(1, 31)
    )
    ba, _ = tool_with(
        [
            ("RESult2:SUMMary?", '"LA2403-018",30,29,0,1,0,363.3,241.7,60.4,150'),
            ("RESult2:MAP?", '"' + "P" * 29 + 'X"'),
            ("RESult2:DATA? 1,30", records),
        ]
    )
    result = ba.cycle_result(2)
    assert (result.peak_c, result.tal_s, result.max_o2_ppm) == (241.7, 60.4, 150)
    assert len(result.records) == 30
    assert result.records[29] == BallAttachRecord(30, "X", 0, None, None, None, None, None)
    assert all(isinstance(r, BallAttachRecord) for r in result.records)


def test_ball_attach_unreflowed_strip_has_empty_profile_fields(tool_with) -> None:
    ba, _ = tool_with([("RESult3:SUMMary?", '"LA2403-019",30,0,0,0,30,0.0,,,')])
    summary = ba.summary(3)
    assert summary.not_processed == 30 and summary.extra == (None, None, None)


def test_ball_attach_magazine_results_reads_every_strip_before_ack(tool_with) -> None:
    transcript: list[Exchange] = [("MAGazine:COUNt?", "2")]
    for k in (1, 2):
        transcript += [
            (f"RESult{k}:SUMMary?", f'"S{k}",2,2,0,0,0,363.3,241.7,60.4,150'),
            (f"RESult{k}:MAP?", '"PP"'),
            (f"RESult{k}:DATA? 1,2", "1,P,0,0,0,0,9.0,0.527;2,P,0,0,0,0,9.5,0.526"),
        ]
    ba, _ = tool_with(transcript)
    results = ba.magazine_results()
    assert [r.summary.strip_id for r in results] == ["S1", "S2"]


# == settings: what is sent, and what is refused before sending ======================================
#: Each setting, the value written and the message it is sent as.
SETTINGS = [
    ("flux_method", "pin", "FLUX:METHod PIN"),
    ("flux_thickness_um", 60, "FLUX:THICKness 60"),
    ("flux_speed_mm_s", 40, "FLUX:SPEed 40"),
    ("ball_diameter_mm", 0.45, "BALL:DIAMeter 0.45"),
    ("ball_alloy", "SAC405", "BALL:ALLoy SAC405"),
    ("balls_per_site", 192, "BALL:COUNt 192"),
    ("reflow_speed_mm_s", 11.5, "REFLow:SPEed 11.5"),
    ("nitrogen", False, "REFLow:NITRogen OFF"),
    ("o2_limit_ppm", 800, "REFLow:O2LImit 800"),
    (
        "reflow_limits",
        ReflowLimits(230.0, 250.0, 45.0, 75.0),
        "REFLow:LIMits 230.0,250.0,45.0,75.0",
    ),
    ("inspection_offset_um", 30, "INSPection:OFFSet 30"),
    ("inspection_diameter_pct", 10, "INSPection:DIAMeter 10"),
    ("strip_size", (3, 10), "STRip:SIZE 3,10"),  # index 1 only: applies to the whole magazine
    ("strip_pitch_mm", (17.3, 17.3), "STRip:PITCh 17.300,17.300"),
]


def test_ball_attach_settings_are_sent_in_the_manual_forms(tool_with) -> None:
    zone = checked("REFLow:ZONE7:TEMPerature 245.0")
    ba, _ = tool_with([step for _, _, message in SETTINGS for step in checked(message)] + zone)
    for member, value, _ in SETTINGS:
        setattr(ba, member, value)
    ba.zone_temperature_c[7] = 245.0


def test_ball_attach_readings_are_typed(tool_with) -> None:
    ba, _ = tool_with(
        [
            ("REFLow:ZONE8:TEMPerature?", "250.0"),
            ("MEASure:ZONE8:TEMPerature?", "249.6"),
            ("MEASure:O2?", "150"),
            ("SUPPly:FLUX?", "64"),
            ("SUPPly:BALL?", "8"),
            ("REFLow:NITRogen?", "1"),
            ("REFLow:LIMits?", "235.0,245.0,50.0,70.0"),
            ("STRip7:ID?", '"LA2403-023"'),
            ("STRip7:MAP?", '"' + "1" * 30 + '"'),
            ("MAGazine:COUNt?", "7"),
            ("CYCLe:PHASe?", "DRAIN"),
            ("RESult7:COUNt?", "30"),
        ]
    )
    assert ba.zone_temperature_c(8) == 250.0 and ba.zone_temperature_pv_c[8] == 249.6
    assert (ba.o2_ppm, ba.flux_supply_pct, ba.ball_supply_pct, ba.nitrogen) == (150, 64, 8, True)
    assert ba.reflow_limits == ReflowLimits()
    assert ba.strip_ids[7] == "LA2403-023" and ba.input_maps(7) == "1" * 30
    assert ba.magazine_count == 7 and ba.phase() == "DRAIN" and ba.result_count(7) == 30


@pytest.mark.parametrize(
    "action",
    [
        lambda ba: setattr(ba, "ball_diameter_mm", 0.95),
        lambda ba: setattr(ba, "flux_thickness_um", 10),
        lambda ba: setattr(ba, "flux_method", "SPRAY"),
        lambda ba: setattr(ba, "ball_alloy", "SAC999"),
        lambda ba: setattr(ba, "magazine_count", 21),
        lambda ba: setattr(ba, "reflow_speed_mm_s", 25.0),
        lambda ba: setattr(ba, "o2_limit_ppm", 20),
        lambda ba: setattr(ba, "nitrogen", "ON"),
        lambda ba: setattr(ba, "reflow_limits", ReflowLimits(245.0, 235.0, 50.0, 70.0)),
        lambda ba: setattr(ba, "reflow_limits", ReflowLimits(235.0, 265.0, 50.0, 70.0)),
        lambda ba: ba.zone_temperature_c.__setitem__(3, 320.0),
        lambda ba: ba.zone_temperature_c.__setitem__(9, 200.0),
        lambda ba: ba.zone_temperature_c(0),
        lambda ba: ba.strip_ids.__setitem__(21, "X"),
        lambda ba: ba.strip_ids.__setitem__(2, "bad id!"),
        lambda ba: ba.input_maps.__setitem__(1, "11x"),
        lambda ba: ba.strip_status(21),
        lambda ba: ba.result_map(0),
        lambda ba: ba.set_magazine([]),
        lambda ba: ba.set_magazine(["A"] * 21),
        lambda ba: ba.set_magazine(["A", "B"], ["1"]),
        lambda ba: ba.set_magazine(["A", "bad id!"]),
    ],
)
def test_ball_attach_refuses_out_of_range_values_before_sending(tool_with, action: object) -> None:
    ba, _ = tool_with([])
    with pytest.raises(ParameterOutOfRange):
        action(ba)  # type: ignore[operator]


def test_ball_attach_read_only_members_refuse_writes(tool_with) -> None:
    ba, _ = tool_with([])
    with pytest.raises(AttributeError):
        ba.strip_status[1] = "DONE"
    with pytest.raises(AttributeError):
        ba.o2_ppm = 100


# == every error reply ===============================================================================
@pytest.mark.parametrize(
    ("command", "error", "code"),
    [
        ("STRip2:SIZE 3,10", '-114,"Header suffix out of range"', 10),
        ("REFLow:ZONE9:TEMPerature 200", '-114,"Header suffix out of range"', 10),
        ("FLUX:DENSity 3", '-113,"Undefined header"', 10),
        ("CYCLe:STARt;CYCLe:ABORt", '-102,"Syntax error"', 11),
        ("BALL:ALLoy SAC999", '-224,"Illegal parameter value"', 12),
        ("BALL:COUNt many", '-104,"Data type error"', 12),
        ("BALL:COUNt 192,5", '-108,"Parameter not allowed"', 12),
        ("REFLow:LIMits 235,245", '-109,"Missing parameter"', 12),
        ('STRip3:ID "bad id!"', '-151,"Invalid string data"', 12),
        ("REFLow:ZONE3:TEMPerature 320", '-222,"Data out of range"', 13),
        ("REFLow:LIMits 245,235,50,70", '-221,"Settings conflict"', 14),
        ("MAGazine:COUNt 2", '20,"Not allowed in state;RUNNING"', 20),
        ("CYCLe:STARt", '22,"Interlock active;MAGAZINE"', 22),
        ("CYCLe:STARt", '22,"Interlock active;TEMP"', 22),
        ("CYCLe:RESume", '23,"Alarm active;6102"', 23),
        ("CYCLe:STARt", '24,"No recipe loaded"', 24),
        ('RECipe:LOAD "A-BALL099"', '25,"Recipe not found"', 25),
        ('STRip1:MAP "111"', '26,"Map length mismatch"', 26),
        ('RECipe:SAVE "A-BALL033"', '28,"Storage full"', 28),
    ],
)
def test_ball_attach_tool_rejections_become_typed_tool_errors(
    tool_with, command: str, error: str, code: int
) -> None:
    """Native code and detail are the queued entry's, the class the catalogue code's."""
    ba, _ = tool_with(checked(command, error))
    native, text = error.split(",", 1)
    text = text.strip('"')
    with raises_catalogue_error(code, text, native=int(native), tool="ball-attach", sent=command):
        ba.write(command)


def test_ball_attach_result_of_a_strip_not_in_the_cycle_is_error_27(tool_with) -> None:
    ba, _ = tool_with(checked("RESult3:DATA? 1,64", '27,"No results available"'))
    with pytest.raises(ToolError) as info:
        ba.result_records(strip=3)
    assert (info.value.code, info.value.text) == (27, "No results available")


def test_ball_attach_typed_api_surfaces_state_and_interlock_rejections(tool_with) -> None:
    ba, _ = tool_with(
        [
            *checked("MAGazine:COUNt 3", '20,"Not allowed in state;RUNNING"'),
            *checked("REFLow:ZONE2:TEMPerature 165.0", '23,"Alarm active;6001"'),
            *checked("CYCLe:STARt", '22,"Interlock active;BALL"'),
            *checked("CYCLe:ABORt", '20,"Not allowed in state;READY"'),
        ]
    )
    with pytest.raises(NotAllowedInState, match="RUNNING"):
        ba.magazine_count = 3
    with pytest.raises(AlarmActive, match="6001"):
        ba.zone_temperature_c[2] = 165.0
    with pytest.raises(InterlockActive) as info:
        ba.start()
    assert info.value.detail == "BALL"
    with pytest.raises(NotAllowedInState):
        ba.abort()


def test_ball_attach_silent_query_with_empty_queue_is_a_timeout(tool_with) -> None:
    ba, _ = tool_with([("SUPPly:BALL?", None), ("SYST:ERR?", NO_ERROR)])
    with pytest.raises(ToolTimeout):
        _ = ba.ball_supply_pct


def test_ball_attach_late_reply_ahead_of_the_error_line_is_discarded_not_misread(
    tool_with,
) -> None:
    # the reply to STR2:STAT? was on its way when the timeout struck: it comes before the
    # answer to SYST:ERR?, and must not be parsed as the error line nor taken by the next query
    ba, _ = tool_with(
        [("STR2:STAT?", None), ("SYST:ERR?", f"DONE\n{NO_ERROR}"), ("SYST:STAT?", "DONE")]
    )
    with pytest.raises(ToolTimeout):
        ba.strip_status(2)
    assert ba.state() is ToolState.DONE


def test_ball_attach_no_answer_even_to_the_error_queue_is_connection_lost(tool_with) -> None:
    ba, link = tool_with([("SYST:STAT?", None), ("SYST:ERR?", None), ("SYST:STAT?", "IDLE")])
    with pytest.raises(ConnectionLost):
        ba.state()
    assert ba.state() is ToolState.IDLE  # over the reopened link
    assert link.connections == 2


# == malformed replies ==============================================================================
@pytest.mark.parametrize(
    ("query", "reply", "read"),
    [
        ("REFLow:PROFile?", "241.7,60.4,108.2,2.62", lambda ba: ba.reflow_profile()),
        ("REFLow:PROFile?", "241.7,60.4,soak,2.62,-5.04", lambda ba: ba.reflow_profile()),
        ("REFLow:LIMits?", "235.0,245.0,50.0", lambda ba: ba.reflow_limits),
        ("STRip1:STATus?", "FLYING", lambda ba: ba.strip_status(1)),
        ("CYCLe:PHASe?", "COOLING", lambda ba: ba.phase()),
        ("MAGazine:COUNt?", "two", lambda ba: ba.magazine_count),
        ("STRip1:ID?", "LA2403-017", lambda ba: ba.strip_ids[1]),
        ("STRip1:MAP?", '"11x"', lambda ba: ba.input_maps[1]),
        ("MEASure:ZONE1:TEMPerature?", "hot", lambda ba: ba.zone_temperature_pv_c(1)),
        ("MEASure:O2?", "150ppm", lambda ba: ba.o2_ppm),
        ("REFLow:NITRogen?", "ON", lambda ba: ba.nitrogen),
        ("RESult1:SUMMary?", '"LA2403-017",30,28,1,1,0,363.0,241.6', lambda ba: ba.summary(1)),
        (
            "RESult1:SUMMary?",
            '"LA2403-017",30,28,1,1,0,363.0,241.6,60.2,1e9x',
            lambda ba: ba.summary(1),
        ),
        ("RESult1:DATA? 14,1", "14,F,6501,1,0,0,12.4", lambda ba: ba.result_records(14, 1)),
        ("RESult1:DATA? 14,1", "14,Q,6501,1,0,0,12.4,0.527", lambda ba: ba.result_records(14, 1)),
        ("RESult1:DATA? 14,1", "14,F,6501,one,0,0,12.4,0.527", lambda ba: ba.result_records(14, 1)),
        ("RESult1:MAP?", '"PPQ"', lambda ba: ba.result_map(1)),
        ("RESult1:MAP?", "PPP", lambda ba: ba.result_map(1)),
        ("RESult1:COUNt?", "thirty", lambda ba: ba.result_count(1)),
        ("ALARm:ACTive?", "2,6202", lambda ba: ba.active_alarms()),
        ("ALARm:TEXT? 6102", "6102,H,Ball supply empty", lambda ba: ba.alarm_info(6102)),
        ("CYCLe:PROGress?", "0,2,120", lambda ba: ba.progress()),
        ("SYST:STAT?", "SLEEPING", lambda ba: ba.state()),
        ("*IDN?", "GENERIC,BA-8", lambda ba: ba.identify()),
    ],
)
def test_ball_attach_malformed_replies_are_protocol_errors(
    tool_with, query: str, reply: str, read: object
) -> None:
    ba, _ = tool_with([(query, reply)])
    with pytest.raises(ProtocolError):
        read(ba)  # type: ignore[operator]


def test_ball_attach_malformed_error_queue_reply_is_a_protocol_error(tool_with) -> None:
    ba, _ = tool_with([("CYCLe:STARt", None), ("SYST:ERR?", "No error")])
    with pytest.raises(ProtocolError, match="SYST:ERR"):
        ba.start()


def test_ball_attach_result_map_shorter_than_the_summary_is_a_protocol_error(tool_with) -> None:
    ba, _ = tool_with(
        [
            ("RESult1:SUMMary?", '"S1",30,30,0,0,0,363.3,241.7,60.4,150'),
            ("RESult1:MAP?", '"' + "P" * 29 + '"'),
        ]
    )
    with pytest.raises(ProtocolError, match="30"):
        ba.cycle_result(1)


# == the pyvisa-sim YAML ============================================================================
@pytest.fixture
def yaml_ba(protocol: ProtocolBench) -> BallAttach:
    return protocol.simulated(BallAttach, "ball_attach", address=ADDRESS, timeout_s=0.2)


def test_ball_attach_yaml_identifies_and_reports_defaults(yaml_ba: BallAttach) -> None:
    identity = yaml_ba.identify()
    assert (identity.model, identity.serial) == ("BA-8", "BA8-00042")
    assert yaml_ba.state() is ToolState.READY and yaml_ba.interlocks() == []
    assert yaml_ba.recipe_name() == ("A-BALL050", False)
    assert yaml_ba.recipe_catalog() == ["A-BALL050"]
    flux = (yaml_ba.flux_method, yaml_ba.flux_thickness_um, yaml_ba.flux_speed_mm_s)
    assert flux == ("PRINT", 50, 40)
    ball = (yaml_ba.ball_diameter_mm, yaml_ba.ball_alloy, yaml_ba.balls_per_site)
    assert ball == (0.5, "SAC305", 192)
    zones = [yaml_ba.zone_temperature_c(n) for n in range(1, 9)]
    assert zones == [130.0, 160.0, 175.0, 185.0, 200.0, 220.0, 250.0, 250.0]
    assert (yaml_ba.reflow_speed_mm_s, yaml_ba.nitrogen, yaml_ba.o2_limit_ppm) == (12.0, True, 500)
    assert yaml_ba.reflow_limits == ReflowLimits()
    assert (yaml_ba.inspection_offset_um, yaml_ba.inspection_diameter_pct) == (25, 15)
    assert yaml_ba.strip_size == (3, 10) and yaml_ba.strip_pitch_mm == (17.3, 17.3)
    assert yaml_ba.zone_temperature_pv_c(7) == 250.4 and yaml_ba.o2_ppm == 150
    assert (yaml_ba.flux_supply_pct, yaml_ba.ball_supply_pct) == (64, 8)
    assert yaml_ba.reflow_profile() == ReflowProfile(241.7, 60.4, 108.2, 2.62, -5.04)
    assert yaml_ba.operation_complete() and yaml_ba.scpi_version() == "1999.0"
    assert (yaml_ba.event_status(), yaml_ba.status_byte(), yaml_ba.error_count()) == (0, 0, 0)


def test_ball_attach_yaml_settings_round_trip(yaml_ba: BallAttach) -> None:
    yaml_ba.ball_diameter_mm = 0.55
    yaml_ba.zone_temperature_c[7] = 245.0
    yaml_ba.flux_method = "PIN"
    yaml_ba.reflow_limits = ReflowLimits()
    yaml_ba.nitrogen = True
    settings = (yaml_ba.ball_diameter_mm, yaml_ba.zone_temperature_c(7), yaml_ba.flux_method)
    assert settings == (0.55, 245.0, "PIN")


def test_ball_attach_yaml_two_strip_magazine_as_in_the_manual(yaml_ba: BallAttach) -> None:
    yaml_ba.load_recipe("A-BALL050")
    yaml_ba.set_magazine(["LA2403-017", "LA2403-018"], ["1" * 29 + "0", "1" * 30])
    assert yaml_ba.magazine_count == 2 and yaml_ba.strip_ids[2] == "LA2403-018"
    yaml_ba.start()
    assert yaml_ba.progress() == Progress(0, 2, 120, 273)
    assert [yaml_ba.strip_status(k) for k in (1, 2, 3)] == ["REFLOW", "REFLOW", "NOTRUN"]
    first, second = yaml_ba.magazine_results()
    assert first.result_map == "P" * 13 + "F" + "P" * 15 + "X"
    assert [r for r in first.records if r.result == "F"] == [
        BallAttachRecord(14, "F", 6501, 1, 0, 0, 12.4, 0.527)
    ]
    assert (first.peak_c, first.tal_s, first.max_o2_ppm) == (241.6, 60.2, 180)
    assert second.summary.passed == 30 and len(second.records) == 30
    assert yaml_ba.result_count(3) == 0
    assert yaml_ba.alarms() == [AlarmInfo(6202, "W", "Ball supply low")]
    yaml_ba.clear_alarms()
    yaml_ba.acknowledge()


def test_ball_attach_yaml_unknown_header_is_queued_and_raised(yaml_ba: BallAttach) -> None:
    with pytest.raises(ToolError) as info:
        yaml_ba.write("FLUX:DENSity 3")
    assert (info.value.code, info.value.native_code) == (10, -113)
    assert yaml_ba.operation_complete()
