"""DieBonder against recorded transcripts: a fake DB-4 on loopback TCP checks every message
the driver sends, byte for byte, and answers what die-bonder.md §9 shows."""

from __future__ import annotations

import time

import pytest

from drivers.die_bonder import DieBonder, DieBondSettings
from drivers.errors import (
    AlarmActive,
    InterlockActive,
    NotAllowedInState,
    ParameterOutOfRange,
    ToolError,
)
from drivers.records import AlarmInfo
from drivers.states import ToolState
from tests.support.expected_protocol import ProtocolBench, ScriptedPeer, lines, protocol, text_steps

__all__ = ["protocol"]  # the fixture, imported for pytest

OK = '0,"No error"'
Script = list[tuple[str, str | None]]


@pytest.fixture
def transcript(
    request: pytest.FixtureRequest, protocol: ProtocolBench
) -> tuple[DieBonder, ScriptedPeer]:
    """A DieBonder on a scripted peer playing ``*CLS`` and then the transcript."""
    return protocol.open(
        DieBonder,
        text_steps([("*CLS", None), *request.param]),
        address="TCPIP::127.0.0.1::{port}::SOCKET",
        framing=lines(),
        timeout_s=0.3,
    )


NORMAL_CYCLE: Script = [
    ("*IDN?", "GENERIC,DB-4,DB4-00117,2.3.1"),
    ('RECipe:LOAD "A-EQUAL"', None),
    ("SYST:ERR?", OK),
    ("SYST:STAT?", "HEATING"),
    ("SYST:STAT?", "READY"),
    ('STRip:ID "LA2403-017"', None),
    ("SYST:ERR?", OK),
    ('STRip:MAP "111111111111111111111111111110"', None),
    ("SYST:ERR?", OK),
    ("CYCLe:STARt", None),
    ("SYST:ERR?", OK),
    ("CYCLe:PROGress?", "12,29,14,73"),
    ("SYST:STAT?", "DONE"),
    ("RESult:SUMMary?", '"LA2403-017",30,28,1,1,0,86.7,EPOXY,29'),
    ("RESult:MAP?", '"PPPPPPPFPPPPPPPPPPPPPPPPPPPPPX"'),
    (
        "RESult:DATA? 7,3",
        "7,P,0,3.2,-4.1,0.12,24.8,1192,2.0;8,F,2503,31.7,-2.2,0.08,25.3,1208,2.0;"
        "9,P,0,-6.0,1.4,-0.21,23.9,1211,2.0",
    ),
    ("RESult:DATA? 30,1", "30,X,0,,,,,,"),
    ("CYCLe:ACKnowledge", None),
    ("SYST:ERR?", OK),
]


@pytest.mark.parametrize("transcript", [NORMAL_CYCLE], indirect=True)
def test_die_bonder_follows_the_manual_normal_cycle(
    transcript: tuple[DieBonder, ScriptedPeer],
) -> None:
    bonder, _ = transcript
    assert bonder.identify().model == "DB-4"
    bonder.load_recipe("A-EQUAL")
    bonder.wait_for_state([ToolState.READY], timeout_s=2.0, poll_s=0.01)
    bonder.strip_id = "LA2403-017"
    bonder.input_map = "1" * 29 + "0"
    bonder.start()
    progress = bonder.progress()
    assert (progress.done, progress.total, progress.elapsed_s, progress.remaining_s) == (
        12,
        29,
        14,
        73,
    )
    bonder.wait_for_state([ToolState.DONE, ToolState.ABORTED], timeout_s=2.0, poll_s=0.01)
    summary = bonder.summary()
    assert (summary.passed, summary.failed, summary.cycle_s, summary.extra) == (
        28,
        1,
        86.7,
        ("EPOXY", 29),
    )
    assert bonder.result_map()[7] == "F"
    page = bonder.result_records(7, 3)
    assert [(r.site, r.result, r.defect, r.dx_um) for r in page] == [
        (7, "P", 0, 3.2),
        (8, "F", 2503, 31.7),
        (9, "P", 0, -6.0),
    ]
    skipped = bonder.result_records(30, 1)[0]
    assert (skipped.result, skipped.dx_um, skipped.volume_nl, skipped.force_n) == (
        "X",
        None,
        None,
        None,
    )
    bonder.acknowledge()


INTERLOCK_HOLD_AND_ERRORS: Script = [
    ("CYCLe:STARt", None),
    ("SYST:ERR?", '22,"Interlock active;DOOR"'),
    ("SYST:ERR?", OK),
    ("CYCLe:STARt", None),
    ("SYST:ERR?", OK),
    ("SYST:STAT?", "ALARM"),
    ("ALARm:ACTive?", "2,2201,2101"),
    ("ALARm:TEXT? 2101", '2101,H,"Syringe empty"'),
    ("CYCLe:RESume", None),
    ("SYST:ERR?", '23,"Alarm active;2101"'),
    ("SYST:ERR?", OK),
    ("ALARm:CLEar", None),
    ("SYST:ERR?", OK),
    ("SYST:STAT?", "PAUSED"),
    ("CYCLe:RESume", None),
    ("SYST:ERR?", OK),
    ("SYST:STAT?", "RUNNING"),
    ("DISPense:VOLume 900", None),
    ("SYST:ERR?", '20,"Not allowed in state;RUNNING"'),
    ("SYST:ERR?", OK),
]


@pytest.mark.parametrize("transcript", [INTERLOCK_HOLD_AND_ERRORS], indirect=True)
def test_die_bonder_follows_the_manual_interlock_hold_and_error_example(
    transcript: tuple[DieBonder, ScriptedPeer],
) -> None:
    bonder, _ = transcript
    with pytest.raises(InterlockActive) as interlock:
        bonder.start()
    assert interlock.value.detail == "DOOR"
    bonder.start()
    assert bonder.state() is ToolState.ALARM
    assert bonder.active_alarms() == [2201, 2101]
    assert bonder.alarm_info(2101) == AlarmInfo(2101, "H", "Syringe empty")
    with pytest.raises(AlarmActive) as alarm:
        bonder.resume()
    assert alarm.value.detail == "2101"
    bonder.clear_alarms()
    assert bonder.state() is ToolState.PAUSED
    bonder.resume()
    assert bonder.state() is ToolState.RUNNING
    with pytest.raises(NotAllowedInState) as state:
        bonder.dispense_volume_nl = 900
    assert state.value.detail == "RUNNING"
    with pytest.raises(ParameterOutOfRange):
        bonder.dispense_volume_nl = 40000  # range is checked before anything is sent


EVERY_SETTING: Script = [
    (message, None)
    for pair in [
        ("MODE FLIPCHIP", "DISPense:VOLume 220", "DISPense:PATTern CROSS", "DISPense:TOLerance 5"),
        ("PLACe:ZREFerence TOP", "PLACe:FORCe 2.5", "PLACe:BLT 30.0", "PLACe:TOLerance 15.0,0.25"),
        ("BOND:FORCe 120.0", "BOND:TEMPerature 300.0", "BOND:TIME 2.0", "STAGe:TEMPerature 150.0"),
        ("CURE:STATe OFF", "CURE:TEMPerature 150.0", "CURE:TIME 600"),
    ]
    for command in pair
    for message in (command, "SYST:ERR?")
]
EVERY_SETTING = [(m, OK if m == "SYST:ERR?" else None) for m, _ in EVERY_SETTING]


@pytest.mark.parametrize("transcript", [EVERY_SETTING], indirect=True)
def test_die_bonder_sends_every_setting_in_manual_form_and_order(
    transcript: tuple[DieBonder, ScriptedPeer],
) -> None:
    bonder, _ = transcript
    bonder.write_settings(
        DieBondSettings(
            mode="flipchip",
            dispense_volume_nl=220,
            dispense_pattern="CROSS",
            dispense_tolerance_pct=5,
            place_zref="TOP",
            place_force_n=2.5,
            place_blt_um=30,
            place_tolerance=(15, 0.25),
            bond_force_n=120,
            bond_temperature_c=300,
            bond_time_s=2.04,
            stage_temperature_c=150,
            cure_enabled=False,
            cure_temperature_c=150,
            cure_time_s=600,
        )
    )


QUERIES: Script = [
    ("MEASure:TEMPerature? HEAD", "279.6"),
    ("SUPPly:EPOXy?", "87"),
    ("SUPPly:DIE?", "4210"),
    ("SUPPly:PLATe?", "5000"),
    ("CALibrate:PLACe", None),
    ("SYST:ERR?", OK),
    ("SYST:STAT?", "SETUP"),
    ("SYST:STAT?", "READY"),
    ("CALibrate:PLACe?", '-3.4,0.7,"2024-03-11T08:15:42"'),
    ("PLACe:TOLerance?", "25.0,0.50"),
    ("CURE:STATe?", "0"),
]


@pytest.mark.parametrize("transcript", [QUERIES], indirect=True)
def test_die_bonder_queries_heaters_supplies_and_calibration(
    transcript: tuple[DieBonder, ScriptedPeer],
) -> None:
    bonder, _ = transcript
    assert bonder.measure_temperature_c("HEAD") == 279.6
    assert (bonder.supply_epoxy_pct(), bonder.supply_dies(), bonder.supply_plates()) == (
        87,
        4210,
        5000,
    )
    bonder.calibrate_placement()
    bonder.wait_for_state([ToolState.READY], timeout_s=2.0, poll_s=0.01)
    calibration = bonder.placement_calibration()
    assert (calibration.dx_um, calibration.dy_um) == (-3.4, 0.7)
    assert calibration.timestamp is not None and calibration.timestamp.year == 2024
    assert bonder.place_tolerance == (25.0, 0.5)
    assert bonder.cure_enabled is False


SILENT_QUERY: Script = [
    ("RESult:DATA? 1,30", None),
    ("SYST:ERR?", '27,"No results available"'),
    ("SYST:ERR?", OK),
    ("SYST:STAT?", "READY"),
]


@pytest.mark.parametrize("transcript", [SILENT_QUERY], indirect=True)
def test_die_bonder_reads_the_error_queue_after_a_silent_query(
    transcript: tuple[DieBonder, ScriptedPeer],
) -> None:
    bonder, _ = transcript
    started = time.monotonic()
    with pytest.raises(ToolError) as caught:
        bonder.result_records(1, 30)
    assert time.monotonic() - started < 1.0
    assert (caught.value.code, caught.value.text) == (27, "No results available")
    assert bonder.state() is ToolState.READY
