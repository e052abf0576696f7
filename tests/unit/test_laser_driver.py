"""Laser driver against recorded SCPI transcripts (laser.md §9 and the error replies of §7) and
against the pyvisa-sim YAML: what it sends for each member, how it decodes what comes back,
and how it reports rejections and malformed replies."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, cast

import pytest

from drivers.errors import (
    AlarmActive,
    ParameterOutOfRange,
    ProtocolError,
    ToolError,
    ToolTimeout,
)
from drivers.laser import Calibration, Laser, LaserRecord
from drivers.records import AlarmInfo, StripSummary
from drivers.scpi import Progress
from drivers.states import ToolState
from tests.support.catalogue import raises_catalogue_error
from tests.support.expected_protocol import (
    NO_ERROR,
    ProtocolBench,
    checked,
)

ADDRESS = "TCPIP::127.0.0.1::5025::SOCKET"
Transcript = Callable[[Sequence[tuple[str, str | None]]], Laser]


@pytest.fixture
def transcript(protocol: ProtocolBench) -> Transcript:
    """``transcript(steps)``: a Laser on a peer playing ``*CLS`` and then the steps."""
    return lambda steps: protocol.scpi(Laser, steps)[0]


# == laser.md §9 examples ==========================================================================
def test_laser_normal_cycle_follows_the_manual_example(transcript: Transcript) -> None:
    ones = "1" * 240
    laser = transcript(
        [
            *checked('RECipe:LOAD "B-IO16"'),
            ("SYST:STAT?", "WARMUP"),
            ("SYST:STAT?", "READY"),
            *checked("LASer:CALibrate"),
            ("SYST:STAT?", "SETUP"),
            ("SYST:STAT?", "READY"),
            ("LASer:CALibrate?", '0.987,"2024-05-14T08:31:07"'),
            *checked('STRip:ID "FB2405-112"'),
            *checked(f'STRip:MAP "{ones}"'),
            *checked("CYCLe:STARt"),
            ("CYCLe:PROGress?", "118,240,39,44"),
            ("SYST:STAT?", "DONE"),
            ("RESult:SUMMary?", '"FB2405-112",240,239,1,0,0,83.4,IO16,3840'),
            ("RESult:DATA? 57,2", "57,F,8501,15,16,,134;58,P,0,16,16,,126"),
            *checked("CYCLe:ACKnowledge"),
        ]
    )
    laser.load_recipe("B-IO16")
    assert laser.state() is ToolState.HEATING  # WARMUP
    assert laser.state() is ToolState.READY
    laser.calibrate()
    assert laser.state() is ToolState.SETUP
    assert laser.state() is ToolState.READY
    calibration = laser.calibration()
    assert calibration == Calibration(0.987, datetime(2024, 5, 14, 8, 31, 7))
    assert calibration.done and calibration.in_tolerance
    laser.strip_id = "FB2405-112"
    laser.input_map = ones
    laser.start()
    assert laser.progress() == Progress(118, 240, 39, 44)
    assert laser.state() is ToolState.DONE
    assert laser.summary() == StripSummary("FB2405-112", 240, 239, 1, 0, 0, 83.4, ("IO16", 3840))
    records = laser.result_records(57, 2)
    assert records == [
        LaserRecord(57, "F", 8501, 15, 16, None, 134),
        LaserRecord(58, "P", 0, 16, 16, None, 126),
    ]
    laser.acknowledge()


def test_laser_door_alarm_follows_the_manual_example(transcript: Transcript) -> None:
    laser = transcript(
        [
            ("SYST:STAT?", "ALARM"),
            ("ALARm:ACTive?", "1,8002"),
            ("ALARm:TEXT? 8002", '8002,A,"Enclosure door opened during cycle"'),
            *checked("CYCLe:RESume", '23,"Alarm active;8002"'),
            *checked("ALARm:CLEar"),
            ("SYST:STAT?", "ABORTED"),
            ("RESult:SUMMary?", '"FB2405-112",240,95,1,0,144,35.3,IO16,1527'),
            *checked("CYCLe:ACKnowledge"),
            ("SYST:STAT?", "WARMUP"),
        ]
    )
    assert laser.state() is ToolState.ALARM
    assert laser.alarms() == [AlarmInfo(8002, "A", "Enclosure door opened during cycle")]
    with pytest.raises(AlarmActive) as info:
        laser.resume()
    assert (info.value.code, info.value.detail) == (23, "8002")
    laser.clear_alarms()
    assert laser.state() is ToolState.ABORTED
    assert laser.summary() == StripSummary("FB2405-112", 240, 95, 1, 0, 144, 35.3, ("IO16", 1527))
    laser.acknowledge()
    assert laser.state() is ToolState.HEATING  # WARMUP: the source restarts


# == what each member sends ========================================================================
#: Each setting, the value written and the message it is sent as.
SETTINGS = [
    ("pattern", "IO16-DIE4", 'PATTern:SELect "IO16-DIE4"'),
    ("fluence_j_cm2", 1.35, "LASer:FLUence 1.35"),
    ("frequency_khz", 100, "LASer:FREQuency 100"),
    ("spot_um", 30, "LASer:SPOT 30"),
    ("film_thickness_um", 50, "FILM:THICKness 50.0"),
    ("via_max_pulses", 400, "VIA:PULSes 400"),
    ("via_endpoint", False, "VIA:ENDPoint OFF"),
    ("recess_depth_um", 12.5, "RECess:DEPTh 12.5"),
    ("recess_tolerance_um", 1.5, "RECess:TOLerance 1.5"),
]


def test_laser_settings_are_sent_in_the_manuals_form(transcript: Transcript) -> None:
    laser = transcript([step for _, _, message in SETTINGS for step in checked(message)])
    for member, value, _ in SETTINGS:
        setattr(laser, member, value)


def test_laser_readings_are_typed(transcript: Transcript) -> None:
    laser = transcript(
        [
            ("PATTern:SELect?", '"IO32-DIE4"'),
            ("PATTern:CATalog?", '"IO16","IO16-DIE4","IO32","IO32-DIE4"'),
            ("PATTern:VIAS?", "32"),
            ("PATTern:AREA?", "4.00"),
            ("LASer:FLUence?", "1.20"),
            ("LASer:FREQuency?", "50"),
            ("LASer:SPOT?", "25"),
            ("FILM:THICKness?", "25.0"),
            ("VIA:PULSes?", "250"),
            ("VIA:ENDPoint?", "1"),
            ("RECess:DEPTh?", "12.0"),
            ("RECess:TOLerance?", "2.0"),
            ("LASer:POWer?", "0.000"),
            ("LASer:CALibrate?", '0.000,""'),
            ("LASer:SHUTter?", "OPEN"),
            ("LASer:HOURs?", "20001"),
            ("RESult:DATA? 1,3", "1,P,0,32,32,12.3,127;2,X,0,,,,;3,F,8504,32,32,14.6,126"),
        ]
    )
    assert laser.pattern == "IO32-DIE4"
    assert laser.pattern_catalog() == ["IO16", "IO16-DIE4", "IO32", "IO32-DIE4"]
    assert (laser.pattern_vias, laser.pattern_area_mm2) == (32, 4.0)
    assert (laser.fluence_j_cm2, laser.frequency_khz, laser.spot_um) == (1.2, 50, 25)
    assert (laser.film_thickness_um, laser.via_max_pulses, laser.via_endpoint) == (25.0, 250, True)
    assert (laser.recess_depth_um, laser.recess_tolerance_um) == (12.0, 2.0)
    assert laser.power_w() == 0.0
    none_since_power_up = laser.calibration()
    assert none_since_power_up == Calibration(0.0, None) and not none_since_power_up.done
    assert laser.shutter() == "OPEN"
    assert laser.source_hours() == 20001
    records = laser.result_records(1, 3)
    assert all(isinstance(r, LaserRecord) for r in records)
    area, skipped, deep = cast(list[LaserRecord], records)
    assert area.recess_depth_um == 12.3 and area.mean_pulses_per_via == 127 and area.passed
    assert skipped == LaserRecord(2, "X", 0, None, None, None, None)
    assert (deep.result, deep.defect, deep.recess_depth_um) == ("F", 8504, 14.6)


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("fluence_j_cm2", 3.5),
        ("fluence_j_cm2", 0.1),
        ("frequency_khz", 50.5),
        ("frequency_khz", 201),
        ("spot_um", 9),
        ("film_thickness_um", 125.1),
        ("via_max_pulses", 5001),
        ("via_endpoint", "ON"),
        ("recess_depth_um", 0.9),
        ("recess_tolerance_um", 10.5),
        ("pattern", ""),
        ("pattern", "IO16-DIE4-EXTENDED"),
        ("pattern", "IO 16"),
    ],
)
def test_laser_refuses_out_of_range_settings_before_sending(
    transcript: Transcript, member: str, value: Any
) -> None:
    laser = transcript([])
    with pytest.raises(ParameterOutOfRange):
        setattr(laser, member, value)


def test_laser_read_only_pattern_facts_cannot_be_set(transcript: Transcript) -> None:
    laser = transcript([])
    with pytest.raises(AttributeError):
        laser.pattern_vias = 16


# == every error reply of laser.md §6/§7 ===========================================================
# What the driver call sends, for the rows below that are not raw writes.
DRIVER_CALLS: dict[str, Callable[[Laser], object]] = {
    'PATTern:SELect "IO64"': lambda tool: setattr(tool, "pattern", "IO64"),
    "CYCLe:STARt": Laser.start,
    "LASer:CALibrate": Laser.calibrate,
    "CYCLe:RESume": Laser.resume,
    "CYCLe:PAUSe": Laser.pause,
    "RESult:SUMMary?": Laser.summary,
}
REJECTIONS = [
    # sent, the tool's SYST:ERR? entry, catalogue code
    ("LAS:FLU 3.5", '-222,"Data out of range"', 13),
    ('PATTern:SELect "IO64"', '25,"Recipe not found"', 25),
    ("VIA:ENDP MAYBE", '-224,"Illegal parameter value"', 12),
    ("CYCLe:STARt", '-221,"Settings conflict"', 14),
    ("CYCLe:STARt", '22,"Interlock active;CAL"', 22),
    ("CYCLe:STARt", '22,"Interlock active;WARMUP"', 22),
    ("CYCLe:STARt", '22,"Interlock active;DOOR"', 22),
    ("LASer:CALibrate", '22,"Interlock active;WARMUP"', 22),
    ("LASer:CALibrate", '24,"No recipe loaded"', 24),
    ("CYCLe:RESume", '23,"Alarm active;8107"', 23),
    ("CYCLe:PAUSe", '20,"Not allowed in state;READY"', 20),
    ("RESult:SUMMary?", '27,"No results available"', 27),
]


@pytest.mark.parametrize(("sent", "error", "code"), REJECTIONS)
def test_laser_raises_the_tools_rejection(
    transcript: Transcript, sent: str, error: str, code: int
) -> None:
    laser = transcript(checked(sent, error))
    call = DRIVER_CALLS.get(sent, lambda tool: tool.write(sent))
    native, text = error.split(",", 1)
    with raises_catalogue_error(code, text.strip('"'), native=int(native), tool="laser", sent=sent):
        call(laser)


def test_laser_silent_query_with_empty_queue_is_a_timeout(transcript: Transcript) -> None:
    laser = transcript([("LASer:POWer?", None), ("SYST:ERR?", NO_ERROR)])
    with pytest.raises(ToolTimeout):
        laser.power_w()


# == malformed replies =============================================================================
@pytest.mark.parametrize(
    ("query", "reply", "call"),
    [
        ("LASer:FLUence?", "1,20", lambda tool: tool.fluence_j_cm2),
        ("VIA:ENDPoint?", "ON", lambda tool: tool.via_endpoint),
        ("PATTern:SELect?", "IO16", lambda tool: tool.pattern),
        ("PATTern:VIAS?", "sixteen", lambda tool: tool.pattern_vias),
        ("PATTern:CATalog?", '"IO16",IO32', lambda tool: tool.pattern_catalog()),
        ("LASer:POWer?", "0.295W", lambda tool: tool.power_w()),
        ("LASer:CALibrate?", "0.987", lambda tool: tool.calibration()),
        ("LASer:CALibrate?", "0.987,2024-05-14T08:31:07", lambda tool: tool.calibration()),
        ("LASer:CALibrate?", '0.987,"14.05.2024 08:31"', lambda tool: tool.calibration()),
        ("LASer:CALibrate?", 'high,"2024-05-14T08:31:07"', lambda tool: tool.calibration()),
        ("LASer:SHUTter?", "AJAR", lambda tool: tool.shutter()),
        ("LASer:HOURs?", "12.5", lambda tool: tool.source_hours()),
        ("RESult:DATA? 1,1", "1,P,0,16,16,126", lambda tool: tool.result_records(1, 1)),
        ("RESult:DATA? 1,1", "1,P,0,16,16,,many", lambda tool: tool.result_records(1, 1)),
        ("RESult:DATA? 1,1", "1,Q,0,16,16,,126", lambda tool: tool.result_records(1, 1)),
        ("RESult:SUMMary?", '"FB1",240,240,0,0,0,83.4,IO16', lambda tool: tool.summary()),
        ("RESult:SUMMary?", '"FB1",240,240,0,0,0,83.4,IO16,lots', lambda tool: tool.summary()),
        ("RESult:MAP?", '"PPF?"', lambda tool: tool.result_map()),
        ("SYST:STAT?", "BUSY", lambda tool: tool.state()),
        ("ALARm:ACTive?", "2,8002", lambda tool: tool.active_alarms()),
        ("ALARm:TEXT? 8002", "8002,A,Enclosure door", lambda tool: tool.alarm_info(8002)),
    ],
)
def test_laser_malformed_reply_is_a_protocol_error(
    transcript: Transcript, query: str, reply: str, call: Callable[[Laser], Any]
) -> None:
    laser = transcript([(query, reply)])
    with pytest.raises(ProtocolError):
        call(laser)


def test_laser_malformed_reading_names_tool_address_and_query(transcript: Transcript) -> None:
    laser = transcript([("LASer:FLUence?", "1,20"), ("LASer:SHUTter?", "AJAR")])
    for call in (lambda: laser.fluence_j_cm2, laser.shutter):
        with pytest.raises(ProtocolError) as info:
            call()
        assert info.value.tool == "laser" and info.value.address == laser.address
        assert info.value.address.startswith("TCPIP::127.0.0.1::") and info.value.sent


def test_laser_malformed_error_queue_reply_is_a_protocol_error(transcript: Transcript) -> None:
    laser = transcript([("CYCLe:STARt", None), ("SYST:ERR?", "0 No error")])
    with pytest.raises(ProtocolError):
        laser.start()


# == the pyvisa-sim YAML ===========================================================================
@pytest.fixture
def yaml_laser(protocol: ProtocolBench) -> Laser:
    return protocol.simulated(Laser, "laser", address=ADDRESS, timeout_s=0.2)


def test_laser_yaml_identifies_and_reports_defaults(yaml_laser: Laser) -> None:
    identity = yaml_laser.identify()
    assert (identity.model, identity.serial) == ("UVL-3", "UVL3-00042")
    assert yaml_laser.state() is ToolState.READY
    assert yaml_laser.interlocks() == []
    pattern = (yaml_laser.pattern, yaml_laser.pattern_vias, yaml_laser.pattern_area_mm2)
    assert pattern == ("IO16", 16, 0.0)
    assert (yaml_laser.fluence_j_cm2, yaml_laser.frequency_khz, yaml_laser.spot_um) == (1.2, 50, 25)
    assert (yaml_laser.via_max_pulses, yaml_laser.via_endpoint) == (250, True)
    assert (yaml_laser.recess_depth_um, yaml_laser.recess_tolerance_um) == (12.0, 2.0)
    assert yaml_laser.strip_size == (8, 30) and yaml_laser.strip_pitch_mm == (5.3, 5.3)
    assert yaml_laser.power_w() == pytest.approx(0.295)
    assert yaml_laser.source_hours() == 1250 and yaml_laser.shutter() == "CLOSED"
    assert yaml_laser.calibration().in_tolerance


def test_laser_yaml_settings_round_trip(yaml_laser: Laser) -> None:
    yaml_laser.pattern = "IO32-DIE4"
    yaml_laser.fluence_j_cm2 = 1.5
    yaml_laser.film_thickness_um = 50.0
    yaml_laser.via_endpoint = False
    settings = (yaml_laser.pattern, yaml_laser.fluence_j_cm2, yaml_laser.film_thickness_um)
    assert settings == ("IO32-DIE4", 1.5, 50.0)


def test_laser_yaml_cycle_result_pages_through_all_240_records(yaml_laser: Laser) -> None:
    yaml_laser.load_recipe("B-IO16")
    yaml_laser.calibrate()
    yaml_laser.strip_id = "FB2405-112"
    yaml_laser.input_map = "1" * 240
    yaml_laser.start()
    assert yaml_laser.progress() == Progress(118, 240, 39, 44)
    result = yaml_laser.cycle_result()
    assert result.summary.extra == ("IO16", 3840)
    assert len(result.records) == 240 and result.result_map[56] == "F"
    failed = [r for r in result.records if not r.passed]
    assert failed == [LaserRecord(57, "F", 8501, 15, 16, None, 134)]
    assert all(isinstance(r, LaserRecord) and r.vias_total == 16 for r in result.records)
    assert yaml_laser.alarms() == [AlarmInfo(8201, "W", "Power calibration due")]
    yaml_laser.clear_alarms()
    yaml_laser.acknowledge()


def test_laser_yaml_unknown_header_is_queued_and_raised(yaml_laser: Laser) -> None:
    with pytest.raises(ToolError) as info:
        yaml_laser.write("LASer:FOCus 12")
    assert (info.value.code, info.value.native_code) == (10, -113)
    assert yaml_laser.operation_complete()
