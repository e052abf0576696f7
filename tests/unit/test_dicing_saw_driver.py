"""DS-2 driver against the pyvisa-sim spec sim/visa/dicing_saw.yaml (ASRL1::INSTR, CR LF) and
against recorded transcripts over a real pty (pyvisa-py ASRL, CR LF both ways), written as in
the manual: ``→`` what the driver must send (checked byte for byte), ``←`` what the tool answers;
a ``→`` query without ``←`` is a silent query."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from drivers.dicing_saw import (
    DicingRecord,
    DicingSaw,
    DicingSummaryExtra,
    SpindleReading,
    max_spindle_speed_krpm,
)
from drivers.errors import (
    InterlockActive,
    ParameterOutOfRange,
    ProtocolError,
    ToolAlarm,
    ToolError,
    ToolTimeout,
)
from drivers.records import StripSummary
from drivers.states import ToolState
from tests.support.catalogue import raises_catalogue_error
from tests.support.expected_protocol import ProtocolBench, Step, lines


@pytest.fixture
def saw(protocol: ProtocolBench) -> DicingSaw:
    return protocol.simulated(DicingSaw, "dicing_saw", address="ASRL1::INSTR", timeout_s=0.2)


#: dicing-saw.md §9: the summary of the example strip (extra: line passes cut, blade count).
MANUAL_SUMMARY = StripSummary("FB2405-112", 240, 237, 1, 2, 0, 275.0, DicingSummaryExtra(80, 15310))


def sent_messages(driver: DicingSaw) -> list[str]:
    """Record every message the driver writes from now on."""
    sent: list[str] = []
    write = driver.link.write

    def recording_write(message: str) -> None:
        sent.append(message)
        write(message)

    driver.link.write = recording_write  # type: ignore[method-assign]
    return sent


def test_dicing_saw_identifies_over_asrl_with_cr_lf(saw: DicingSaw) -> None:
    assert saw.identify().model == "DS-2"
    assert saw.link.termination == "\r\n"
    assert saw.state() is ToolState.READY


@pytest.mark.parametrize(
    ("name", "default", "new"),
    [
        ("spindle_speed_krpm", 30.0, 35.0),
        ("blade_thickness_um", 250, 30),
        ("blade_limit_cuts", 20000, 25000),
        ("cut_feed_mm_s", 40.0, 60.5),
        ("cut_height_mm", 0.080, 0.055),
        ("cut_passes", 2, 3),
        ("cut_check_every", 5, 10),
        ("cut_offset_limit_um", 25, 15),
        ("cut_chipping_limit_um", 50, 40),
        ("coolant_flow_l_min", 1.5, 2.2),
    ],
)
def test_dicing_saw_controls_read_and_write_in_manual_units(
    saw: DicingSaw, name: str, default: float, new: float
) -> None:
    assert getattr(saw, name) == default
    setattr(saw, name, new)
    assert getattr(saw, name) == new
    assert type(getattr(saw, name)) is type(new)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("spindle_speed_krpm", 9.9),
        ("spindle_speed_krpm", 60.1),
        ("blade_thickness_um", 14),
        ("blade_thickness_um", 351),
        ("blade_limit_cuts", 999),
        ("blade_limit_cuts", 50001),
        ("cut_feed_mm_s", 0.9),
        ("cut_feed_mm_s", 100.1),
        ("cut_height_mm", 0.029),
        ("cut_height_mm", 1.001),
        ("cut_passes", 4),
        ("cut_passes", 0),
        ("cut_check_every", 51),
        ("cut_check_every", -1),
        ("cut_offset_limit_um", 4),
        ("cut_offset_limit_um", 101),
        ("cut_chipping_limit_um", 9),
        ("cut_chipping_limit_um", 201),
        ("coolant_flow_l_min", 0.4),
        ("coolant_flow_l_min", 3.1),
        ("cut_passes", 2.5),
        ("spindle_speed_krpm", "30"),
    ],
)
def test_dicing_saw_refuses_out_of_range_settings_before_sending(
    saw: DicingSaw, name: str, value: object
) -> None:
    sent = sent_messages(saw)
    with pytest.raises(ParameterOutOfRange):
        setattr(saw, name, value)
    assert sent == []


def test_dicing_saw_readings_are_typed(saw: DicingSaw) -> None:
    assert saw.blade_count() == 15310
    assert saw.blade_exposure_mm() == 1.142
    assert saw.measure_spindle() == SpindleReading(krpm=30.0, load_pct=44)
    assert saw.measure_coolant_l_min() == 1.5


def test_dicing_saw_blade_commands_pass_the_error_check(saw: DicingSaw) -> None:
    sent = sent_messages(saw)
    saw.change_blade()
    saw.setup_blade()
    assert sent == ["BLADe:CHANge", "SYST:ERR?", "BLADe:SETup", "SYST:ERR?"]


def test_dicing_saw_reads_results_in_pages_of_16_with_typed_records(saw: DicingSaw) -> None:
    sent = sent_messages(saw)
    result = saw.cycle_result()
    pages = [m for m in sent if m.startswith("RESult:DATA?")]
    assert pages == [f"RESult:DATA? {start},16" for start in range(1, 241, 16)]
    assert result.summary == MANUAL_SUMMARY
    assert result.summary.extra.blade_count_after == 15310
    assert len(result.records) == 240
    assert [r.site for r in result.records] == list(range(1, 241))
    assert result.records[0] == DicingRecord(1, "P", 0, 18, 6, 262)
    assert result.records[1] == DicingRecord(2, "P", 0, None, None, None)
    assert result.records[6] == DicingRecord(7, "X", 0, None, None, None)
    failed = result.records[56]
    assert (failed.result, failed.defect, failed.max_chipping_um) == ("F", 7501, 61)
    assert result.result_map[56] == "F"


def test_dicing_saw_reads_the_manual_example_page(saw: DicingSaw) -> None:
    records = saw.result_records(1, 3)
    assert records == [
        DicingRecord(1, "P", 0, 18, 6, 262),
        DicingRecord(2, "P", 0, None, None, None),
        DicingRecord(3, "P", 0, 22, -4, 259),
    ]


def test_dicing_saw_common_set_over_asrl(saw: DicingSaw) -> None:
    saw.load_recipe("B-SING")
    assert saw.recipe_name() == ("B-SING", False)
    assert saw.recipe_catalog() == ["A-SING", "B-SING"]
    saw.strip_id = "FB2405-112"
    assert saw.strip_id == "FB2405-112"
    assert saw.strip_size == (8, 30)
    assert saw.strip_pitch_mm == (5.3, 5.3)
    saw.start()
    assert saw.phase() == "CH2"
    progress = saw.progress()
    assert (progress.done, progress.total) == (61, 80)
    assert [a.code for a in saw.alarms()] == [7201, 7103]
    assert saw.interlocks() == []


def test_dicing_saw_unknown_command_is_a_tool_error(saw: DicingSaw) -> None:
    with pytest.raises(ToolError) as error:
        saw.write("BLADe:SHARpen")
    assert (error.value.code, error.value.native_code) == (10, -113)


def test_dicing_saw_max_spindle_speed_follows_the_start_check_table() -> None:
    table = {15: 30.0, 25: 30.0, 26: 40.0, 50: 40.0, 51: 35.0, 80: 35.0, 81: 35.0, 350: 35.0}
    assert {thickness_um: max_spindle_speed_krpm(thickness_um) for thickness_um in table} == table


def test_dicing_saw_class_matches_the_manual_link() -> None:
    assert DicingSaw.termination == "\r\n"
    assert DicingSaw.baud_rate == 9600
    assert DicingSaw.result_page_size == 16
    assert DicingSaw.result_timeout_s == 5.0
    assert DicingSaw.default_timeout_s == 2.0


OK = '→ SYST:ERR?\n← 0,"No error"'
#: Query timeout; result queries scale with it (5 s at the default 2 s), so a silent one is short.
TIMEOUT_S = 0.15
FORMAT_B_MAP = "1" * 6 + "0" + "1" * 233
#: ``play(transcript)`` of the fixture below.
Play = Callable[[str], DicingSaw]


def _parse(transcript: str) -> list[Step]:
    exchanges: list[Step] = []
    for raw in transcript.strip().splitlines():
        line = raw.strip()
        if line.startswith("→ "):
            exchanges.append((line[2:].encode() + b"\r\n", None))
        elif line.startswith("← "):
            sent, _ = exchanges[-1]
            exchanges[-1] = (sent, line[2:].encode() + b"\r\n")
        elif line:
            raise ValueError(f"transcript line {raw!r} starts with neither → nor ←")
    return exchanges


@pytest.fixture
def play(protocol: ProtocolBench) -> Play:
    """``play(transcript)`` opens a driver on a pty peer playing ``→ *CLS`` and the transcript."""

    def start(transcript: str) -> DicingSaw:
        saw, _ = protocol.open(
            DicingSaw,
            _parse("→ *CLS\n" + transcript),
            address="ASRL{device}::INSTR",
            framing=lines(b"\n"),
            timeout_s=TIMEOUT_S,
        )
        return saw

    return start


def test_dicing_saw_plays_the_manual_normal_cycle(play: Play) -> None:
    saw = play(f"""
        → *IDN?
        ← GENERIC,DS-2,DS2-00388,1.7.4
        → RECipe:LOAD "B-SING"
        {OK}
        → SYST:STAT?
        ← WARMUP
        → SYST:STAT?
        ← READY
        → BLADe:SETup
        {OK}
        → SYST:STAT?
        ← SETUP
        → SYST:STAT?
        ← READY
        → BLADe:EXPosure?
        ← 1.142
        → BLADe:COUNt?
        ← 15230
        → STRip:ID "FB2405-112"
        {OK}
        → STRip:MAP "{FORMAT_B_MAP}"
        {OK}
        → CYCLe:STARt
        {OK}
        → CYCLe:PHASe?
        ← CH2
        → CYCLe:PROGress?
        ← 61,80,205,70
        → SYST:STAT?
        ← DONE
        → RESult:SUMMary?
        ← "FB2405-112",240,237,1,2,0,275.0,80,15310
        → RESult:DATA? 1,3
        ← 1,P,0,18,6,262;2,P,0,,,;3,P,0,22,-4,259
        → CYCLe:ACKnowledge
        {OK}
    """)
    assert saw.identify().serial == "DS2-00388"
    saw.load_recipe("B-SING")
    assert saw.state() is ToolState.HEATING  # WARMUP
    assert saw.state() is ToolState.READY
    saw.setup_blade()
    assert saw.state() is ToolState.SETUP
    assert saw.state() is ToolState.READY
    assert saw.blade_exposure_mm() == 1.142
    assert saw.blade_count() == 15230
    saw.strip_id = "FB2405-112"
    saw.input_map = FORMAT_B_MAP
    saw.start()
    assert saw.phase() == "CH2"
    assert saw.progress().done == 61
    assert saw.state() is ToolState.DONE
    assert saw.summary() == MANUAL_SUMMARY
    assert saw.result_records(1, 3)[2] == DicingRecord(3, "P", 0, 22, -4, 259)
    saw.acknowledge()


#: dicing-saw.md §9: the saw in ALARM with blade life at 90 % (W) and reached (H).
BLADE_LIFE_ALARMS = """
    → SYST:STAT?
    ← ALARM
    → ALARm:ACTive?
    ← 2,7201,7103
    → ALARm:TEXT? 7201
    ← 7201,W,"Blade life 90 %"
    → ALARm:TEXT? 7103
    ← 7103,H,"Blade life reached"
"""


def test_dicing_saw_plays_the_manual_blade_life_example(play: Play) -> None:
    saw = play(f"""
        {BLADE_LIFE_ALARMS}
        → BLADe:CHANge
        {OK}
        → ALARm:CLEar
        {OK}
        → SYST:STAT?
        ← PAUSED
        {rejected("CYCLe:RESume", '22,"Interlock active;BLADE"')}
        → BLADe:SETup
        {OK}
        → SYST:STAT?
        ← SETUP
        → SYST:STAT?
        ← PAUSED
        → BLADe:EXPosure?
        ← 1.142
        → CYCLe:RESume
        {OK}
        → SYST:STAT?
        ← RUNNING
    """)
    assert saw.state() is ToolState.ALARM
    alarms = saw.alarms()
    assert [(a.code, a.alarm_class) for a in alarms] == [(7201, "W"), (7103, "H")]
    assert alarms[1].text == "Blade life reached"
    saw.change_blade()
    saw.clear_alarms()
    assert saw.state() is ToolState.PAUSED
    with pytest.raises(InterlockActive) as blade:
        saw.resume()
    assert blade.value.detail == "BLADE"
    saw.setup_blade()
    assert saw.state() is ToolState.SETUP
    assert saw.state() is ToolState.PAUSED
    assert saw.blade_exposure_mm() == 1.142
    saw.resume()
    assert saw.state() is ToolState.RUNNING


def test_dicing_saw_wait_for_state_raises_the_hold_alarm(play: Play) -> None:
    saw = play(f"""
        → SYST:STAT?
        ← RUNNING
        {BLADE_LIFE_ALARMS}
    """)
    with pytest.raises(ToolAlarm) as alarm:
        saw.wait_for_state([ToolState.DONE], timeout_s=2.0, poll_s=0.01)
    assert (alarm.value.code, alarm.value.alarm_class) == (7103, "H")


def rejected(message: str, reply: str) -> str:
    """A message whose error check finds ``reply`` queued, then an empty queue."""
    return f"→ {message}\n→ SYST:ERR?\n← {reply}\n{OK}"


ERROR_CASES = [
    # (driver action, message sent, SYST:ERR? reply, catalogue code); native code and detail
    # are the reply's, the error class the catalogue's.
    (lambda s: s.write("CUT:PASS 4"), "CUT:PASS 4", '-222,"Data out of range"', 13),
    (lambda s: s.query("RESult:DATA? 1,20"), "RESult:DATA? 1,20", '-222,"Data out of range"', 13),
    (lambda s: s.start(), "CYCLe:STARt", '-221,"Settings conflict"', 14),
    (lambda s: s.start(), "CYCLe:STARt", '22,"Interlock active;BLADE"', 22),
    (lambda s: s.start(), "CYCLe:STARt", '22,"Interlock active;WARMUP"', 22),
    (lambda s: s.setup_blade(), "BLADe:SETup", '22,"Interlock active;WARMUP"', 22),
    (lambda s: s.setup_blade(), "BLADe:SETup", '22,"Interlock active;DOOR"', 22),
    (lambda s: s.start(), "CYCLe:STARt", '24,"No recipe loaded"', 24),
    (lambda s: s.setup_blade(), "BLADe:SETup", '24,"No recipe loaded"', 24),
    (lambda s: s.change_blade(), "BLADe:CHANge", '20,"Not allowed in state;RUNNING"', 20),
    (lambda s: s.resume(), "CYCLe:RESume", '21,"Busy;SETUP"', 21),
    (lambda s: s.load_recipe("B-SING"), 'RECipe:LOAD "B-SING"', '23,"Alarm active;7001"', 23),
    (lambda s: s.load_recipe("B-NONE"), 'RECipe:LOAD "B-NONE"', '25,"Recipe not found"', 25),
    (
        lambda s: setattr(s, "input_map", "1" * 30),
        f'STRip:MAP "{"1" * 30}"',
        '26,"Map length mismatch"',
        26,
    ),
    (lambda s: s.summary(), "RESult:SUMMary?", '27,"No results available"', 27),
    (lambda s: s.write("BLADe:SHARpen"), "BLADe:SHARpen", '-113,"Undefined header"', 10),
    (
        lambda s: s.write("CUT:FEED 40;CUT:PASS 1"),
        "CUT:FEED 40;CUT:PASS 1",
        '-102,"Syntax error"',
        11,
    ),
    (lambda s: s.write("CUT:FEED fast"), "CUT:FEED fast", '-104,"Data type error"', 12),
    (lambda s: s.write("CUT:FEED 40,2"), "CUT:FEED 40,2", '-108,"Parameter not allowed"', 12),
    (lambda s: s.write("CUT:FEED"), "CUT:FEED", '-109,"Missing parameter"', 12),
    (lambda s: s.alarm_info(7999), "ALARm:TEXT? 7999", '-224,"Illegal parameter value"', 12),
    (
        lambda s: s.write('STRip:ID "bad id!"'),
        'STRip:ID "bad id!"',
        '-151,"Invalid string data"',
        12,
    ),
]


@pytest.mark.parametrize(("action", "message", "reply", "code"), ERROR_CASES)
def test_dicing_saw_maps_every_error_reply(
    play: Play,
    action: Callable[[DicingSaw], object],
    message: str,
    reply: str,
    code: int,
) -> None:
    saw = play(rejected(message, reply))
    native, text = reply.split(",", 1)
    text = text.strip('"')
    catalogue_error = raises_catalogue_error(
        code, text, native=int(native), tool="dicing-saw", address=saw.address, sent=message
    )
    with catalogue_error:
        action(saw)


def test_dicing_saw_result_page_over_16_is_refused_before_sending(play: Play) -> None:
    saw = play("")
    with pytest.raises(ParameterOutOfRange, match=r"count 20 outside 1\.\.16"):
        saw.result_records(1, 20)


def test_dicing_saw_silent_query_with_empty_queue_is_a_timeout(play: Play) -> None:
    saw = play(f"→ BLADe:COUNt?\n{OK}")
    with pytest.raises(ToolTimeout):
        saw.blade_count()


MALFORMED = [
    (lambda s: s.state(), "→ SYST:STAT?\n← SPINNING"),
    (lambda s: s.blade_count(), "→ BLADe:COUNt?\n← 15a30"),
    (lambda s: s.blade_exposure_mm(), "→ BLADe:EXPosure?\n← 1.142,2"),
    (lambda s: s.measure_spindle(), "→ MEASure:SPINdle?\n← 30.0"),
    (lambda s: s.measure_spindle(), "→ MEASure:SPINdle?\n← 30.0,44.5"),
    (lambda s: s.measure_coolant_l_min(), "→ MEASure:COOLant?\n← high"),
    (lambda s: s.spindle_speed_krpm, "→ SPINdle:SPEed?\n← fast"),
    (lambda s: s.cut_passes, "→ CUT:PASSes?\n← 2.0"),
    (lambda s: s.summary(), '→ RESult:SUMMary?\n← "FB2405-112",240,237,1,2,0,275.0,80'),
    (lambda s: s.result_records(1, 2), "→ RESult:DATA? 1,2\n← 1,P,0,18,6;2,P,0,,,"),
    (lambda s: s.result_records(1, 1), "→ RESult:DATA? 1,1\n← 1,Q,0,18,6,262"),
    (lambda s: s.result_records(1, 1), "→ RESult:DATA? 1,1\n← 1,P,0,18.5,6,262"),
    (lambda s: s.result_map(), '→ RESult:MAP?\n← "PPZ"'),
    (lambda s: s.result_map(), "→ RESult:MAP?\n← PPP"),
    (lambda s: s.active_alarms(), "→ ALARm:ACTive?\n← 2,7201"),
    (lambda s: s.alarm_info(7103), "→ ALARm:TEXT? 7103\n← 7103,Q,Blade"),
    (lambda s: s.progress(), "→ CYCLe:PROGress?\n← 61,80,205"),
    (lambda s: s.change_blade(), "→ BLADe:CHANge\n→ SYST:ERR?\n← no error"),
]


@pytest.mark.parametrize(("action", "transcript"), MALFORMED)
def test_dicing_saw_malformed_reply_is_a_protocol_error(
    play: Play, action: Callable[[DicingSaw], object], transcript: str
) -> None:
    saw = play(transcript)
    with pytest.raises(ProtocolError):
        action(saw)


def test_dicing_saw_range_errors_are_raised_before_anything_is_sent(play: Play) -> None:
    saw = play("")
    with pytest.raises(ParameterOutOfRange):
        saw.cut_passes = 4
    with pytest.raises(ParameterOutOfRange):
        saw.strip_id = "bad id!"
    with pytest.raises(ParameterOutOfRange):
        saw.input_map = "1102"
