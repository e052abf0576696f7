"""DieBonder against recorded transcripts (a fake DB-4 on loopback TCP checks every message the
driver sends, byte for byte, and answers what die-bonder.md §9 shows) and against the static
pyvisa-sim tool of sim/visa/die_bonder.yaml."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from drivers.die_bonder import DieBonder, DieBondRecord, DieBondSettings, PlacementCalibration
from drivers.errors import (
    AlarmActive,
    ConnectionLost,
    InterlockActive,
    NotAllowedInState,
    ParameterOutOfRange,
    ProtocolError,
    ToolAlarm,
    ToolError,
    ToolTimeout,
)
from drivers.records import AlarmInfo, Identity, StripSummary
from drivers.scpi import Progress
from drivers.states import ToolState
from sequences.steps.setup import apply_setpoints
from tests.support.catalogue import raises_catalogue_error
from tests.support.expected_protocol import ProtocolBench, checked
from tests.support.io_timing import takes_s

Script = list[tuple[str, str | None]]
#: ``transcript(script)`` and ``open_sim(port)`` of the fixtures below.
Transcript = Callable[[Script], DieBonder]
OpenSim = Callable[..., DieBonder]
#: die-bonder.md §9: the summary of the example strip.
MANUAL_SUMMARY = StripSummary("LA2403-017", 30, 28, 1, 1, 0, 86.7, ("EPOXY", 29))


@pytest.fixture
def transcript(protocol: ProtocolBench) -> Callable[[Script], DieBonder]:
    """``transcript(script)``: a DieBonder on a scripted peer playing ``*CLS`` and the script."""
    return lambda script: protocol.scpi(DieBonder, script)[0]


NORMAL_CYCLE: Script = [
    ("*IDN?", "GENERIC,DB-4,DB4-00117,2.3.1"),
    *checked('RECipe:LOAD "A-EQUAL"'),
    ("SYST:STAT?", "HEATING"),
    ("SYST:STAT?", "READY"),
    *checked('STRip:ID "LA2403-017"'),
    *checked('STRip:MAP "111111111111111111111111111110"'),
    *checked("CYCLe:STARt"),
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
    *checked("CYCLe:ACKnowledge"),
]


def test_die_bonder_follows_the_manual_normal_cycle(transcript: Transcript) -> None:
    bonder = transcript(NORMAL_CYCLE)
    assert bonder.identify().model == "DB-4"
    bonder.load_recipe("A-EQUAL")
    bonder.wait_for_state([ToolState.READY], timeout_s=2.0, poll_s=0.01)
    bonder.strip_id = "LA2403-017"
    bonder.input_map = "1" * 29 + "0"
    bonder.start()
    assert bonder.progress() == Progress(12, 29, 14, 73)
    bonder.wait_for_state([ToolState.DONE, ToolState.ABORTED], timeout_s=2.0, poll_s=0.01)
    assert bonder.summary() == MANUAL_SUMMARY
    assert bonder.result_map()[7] == "F"
    page = bonder.result_records(7, 3)
    assert [(r.site, r.result, r.defect, r.dx_um) for r in page] == [
        (7, "P", 0, 3.2),
        (8, "F", 2503, 31.7),
        (9, "P", 0, -6.0),
    ]
    assert bonder.result_records(30, 1) == [DieBondRecord(30, "X", 0)]
    bonder.acknowledge()


INTERLOCK_HOLD_AND_ERRORS: Script = [
    *checked("CYCLe:STARt", '22,"Interlock active;DOOR"'),
    *checked("CYCLe:STARt"),
    ("SYST:STAT?", "ALARM"),
    ("ALARm:ACTive?", "2,2201,2101"),
    ("ALARm:TEXT? 2101", '2101,H,"Syringe empty"'),
    *checked("CYCLe:RESume", '23,"Alarm active;2101"'),
    *checked("ALARm:CLEar"),
    ("SYST:STAT?", "PAUSED"),
    *checked("CYCLe:RESume"),
    ("SYST:STAT?", "RUNNING"),
    *checked("DISPense:VOLume 900", '20,"Not allowed in state;RUNNING"'),
]


def test_die_bonder_follows_the_manual_interlock_hold_and_error_example(
    transcript: Transcript,
) -> None:
    bonder = transcript(INTERLOCK_HOLD_AND_ERRORS)
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
    step
    for group in [
        ("MODE FLIPCHIP", "DISPense:VOLume 220", "DISPense:PATTern CROSS", "DISPense:TOLerance 5"),
        ("PLACe:ZREFerence TOP", "PLACe:FORCe 2.5", "PLACe:BLT 30.0", "PLACe:TOLerance 15.0,0.25"),
        ("BOND:FORCe 120.0", "BOND:TEMPerature 300.0", "BOND:TIME 2.0", "STAGe:TEMPerature 150.0"),
        ("CURE:STATe OFF", "CURE:TEMPerature 150.0", "CURE:TIME 600"),
    ]
    for command in group
    for step in checked(command)
]


def test_die_bonder_sends_every_setting_in_manual_form_and_order(transcript: Transcript) -> None:
    bonder = transcript(EVERY_SETTING)
    apply_setpoints(
        bonder,
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
        ),
    )


QUERIES: Script = [
    ("MEASure:TEMPerature? HEAD", "279.6"),
    ("SUPPly:EPOXy?", "87"),
    ("SUPPly:DIE?", "4210"),
    ("SUPPly:PLATe?", "5000"),
    *checked("CALibrate:PLACe"),
    ("SYST:STAT?", "SETUP"),
    ("SYST:STAT?", "READY"),
    ("CALibrate:PLACe?", '-3.4,0.7,"2024-03-11T08:15:42"'),
    ("PLACe:TOLerance?", "25.0,0.50"),
    ("CURE:STATe?", "0"),
]


def test_die_bonder_queries_heaters_supplies_and_calibration(transcript: Transcript) -> None:
    bonder = transcript(QUERIES)
    assert bonder.measure_temperature_c("HEAD") == 279.6
    supplies = (bonder.supply_epoxy_pct(), bonder.supply_dies(), bonder.supply_plates())
    assert supplies == (87, 4210, 5000)
    bonder.calibrate_placement()
    bonder.wait_for_state([ToolState.READY], timeout_s=2.0, poll_s=0.01)
    calibration = bonder.placement_calibration()
    assert (calibration.dx_um, calibration.dy_um) == (-3.4, 0.7)
    assert calibration.timestamp is not None and calibration.timestamp.year == 2024
    assert bonder.place_tolerance == (25.0, 0.5)
    assert bonder.cure_enabled is False


SILENT_QUERY: Script = [
    *checked("RESult:DATA? 1,30", '27,"No results available"'),
    ("SYST:STAT?", "READY"),
]


def test_die_bonder_reads_the_error_queue_after_a_silent_query(transcript: Transcript) -> None:
    bonder = transcript(SILENT_QUERY)
    with takes_s(0, 1.0), pytest.raises(ToolError) as caught:
        bonder.result_records(1, 30)
    assert (caught.value.code, caught.value.text) == (27, "No results available")
    assert bonder.state() is ToolState.READY


@pytest.fixture
def open_sim(protocol: ProtocolBench) -> Callable[..., DieBonder]:
    """``open_sim(port)``: the tool of the YAML at that port (each port plays one situation)."""

    def open_at(port: int = 5025) -> DieBonder:
        address = f"TCPIP::localhost::{port}::SOCKET"
        return protocol.simulated(DieBonder, "die_bonder", address=address, timeout_s=0.2)

    return open_at


@pytest.fixture
def bonder(open_sim: OpenSim) -> DieBonder:
    """The READY tool at the defaults of the YAML."""
    return open_sim()


def test_die_bonder_identifies_as_db4(bonder: DieBonder) -> None:
    assert bonder.identify() == Identity("GENERIC", "DB-4", "DB4-00117", "2.3.1")


def test_die_bonder_reads_the_manual_defaults(bonder: DieBonder) -> None:
    assert DieBondSettings.read_from(bonder) == DieBondSettings()
    assert bonder.place_tolerance == (25.0, 0.50)
    assert bonder.cure_enabled is True


def test_die_bonder_writes_and_reads_back_every_recipe_parameter(bonder: DieBonder) -> None:
    settings = DieBondSettings(
        mode="PLATE",
        dispense_volume_nl=100,
        dispense_pattern="DOT",
        dispense_tolerance_pct=15,
        place_zref="DIE",
        place_force_n=3.5,
        place_blt_um=20.0,
        place_tolerance=(30.0, 1.0),
        bond_force_n=45.0,
        bond_temperature_c=300.0,
        bond_time_s=2.5,
        stage_temperature_c=80.0,
        cure_enabled=True,
        cure_temperature_c=150.0,
        cure_time_s=90,
    )
    apply_setpoints(bonder, settings)
    assert DieBondSettings.read_from(bonder) == settings


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("mode", "GLUE"),
        ("dispense_volume_nl", 40000),
        ("dispense_volume_nl", 9),
        ("dispense_volume_nl", 600.5),
        ("dispense_pattern", "SPIRAL"),
        ("dispense_tolerance_pct", 31),
        ("place_zref", "FLOOR"),
        ("place_force_n", 0.4),
        ("place_blt_um", 75.1),
        ("place_tolerance", (4.9, 0.5)),
        ("place_tolerance", (25.0, 3.01)),
        ("bond_force_n", 500.1),
        ("bond_temperature_c", 149.9),
        ("bond_time_s", 10.5),
        ("stage_temperature_c", 200.5),
        ("cure_enabled", "ON"),
        ("cure_temperature_c", 99.0),
        ("cure_time_s", 1801),
        ("cure_time_s", "60"),
    ],
)
def test_die_bonder_refuses_out_of_range_values_before_sending(
    bonder: DieBonder, member: str, value: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[str] = []
    monkeypatch.setattr(bonder.link, "write", sent.append)
    with pytest.raises(ParameterOutOfRange, match=member):
        setattr(bonder, member, value)
    assert sent == []


def test_die_bonder_measures_each_heater(bonder: DieBonder) -> None:
    assert bonder.measure_temperature_c("STAGE") == 60.1
    assert bonder.measure_temperature_c("head") == 25.3
    assert bonder.measure_temperature_c("CURE") == 174.8
    with pytest.raises(ParameterOutOfRange):
        bonder.measure_temperature_c("OVEN")


def test_die_bonder_reads_supplies(bonder: DieBonder) -> None:
    assert (bonder.supply_epoxy_pct(), bonder.supply_dies(), bonder.supply_plates()) == (8, 4210, 0)


def test_die_bonder_reads_placement_calibration(bonder: DieBonder) -> None:
    bonder.calibrate_placement()
    assert bonder.placement_calibration() == PlacementCalibration(
        1.2, -0.8, datetime(2024, 3, 11, 8, 15, 42)
    )


def test_die_bonder_parses_the_manual_result_page(bonder: DieBonder) -> None:
    records = bonder.result_records(7, 3)
    assert records == [
        DieBondRecord(7, "P", 0, 3.2, -4.1, 0.12, 24.8, 1192, 2.0),
        DieBondRecord(8, "F", 2503, 31.7, -2.2, 0.08, 25.3, 1208, 2.0),
        DieBondRecord(9, "P", 0, -6.0, 1.4, -0.21, 23.9, 1211, 2.0),
    ]
    assert bonder.result_records(30, 1) == [DieBondRecord(30, "X", 0)]


def test_die_bonder_reads_a_whole_cycle_result(bonder: DieBonder) -> None:
    result = bonder.cycle_result()
    assert result.summary == MANUAL_SUMMARY
    assert result.result_map == "PPPPPPPFPPPPPPPPPPPPPPPPPPPPPX"
    assert [r.site for r in result.records] == list(range(1, 31))
    assert all(isinstance(r, DieBondRecord) for r in result.records)
    assert result.records[7].defect == 2503
    assert result.records[29] == DieBondRecord(30, "X", 0)


def test_die_bonder_pages_the_results_of_an_80_site_flip_chip_strip(open_sim: OpenSim) -> None:
    with open_sim(5050) as bonder:
        result = bonder.cycle_result()
    assert result.summary.extra == ("FLIPCHIP", 80)
    assert len(result.records) == 80
    assert [r.site for r in result.records] == list(range(1, 81))
    failed = result.records[16]
    assert (failed.result, failed.defect, failed.force_n) == ("F", 2506, 34.1)
    assert all(r.blt_um is None and r.volume_nl is None for r in result.records)


def test_die_bonder_serves_the_common_scpi_set(bonder: DieBonder) -> None:
    assert bonder.state() is ToolState.READY
    assert bonder.interlocks() == []
    assert bonder.active_alarms() == [2201]
    assert bonder.alarms() == [AlarmInfo(2201, "W", "Syringe low")]
    assert bonder.recipe_catalog()[:2] == ["A-EQUAL", "A-LARGE"]
    assert bonder.recipe_name() == ("A-EQUAL", True)
    assert bonder.strip_size == (3, 10)
    assert bonder.strip_pitch_mm == (17.3, 17.3)
    bonder.strip_size = (3, 10)
    bonder.strip_pitch_mm = (17.3, 17.3)
    bonder.strip_id = "LA2403-017"
    assert bonder.strip_id == "LA2403-017"
    bonder.input_map = "1" * 29 + "0"
    assert bonder.input_map == "1" * 29 + "0"
    assert bonder.phase() == "NONE"
    assert bonder.progress().done == 29
    assert bonder.operation_complete()
    assert bonder.status_byte() == 0
    assert bonder.error_count() == 0
    assert bonder.scpi_version() == "1999.0"
    assert bonder.result_count() == 30
    for command in (
        bonder.reset,
        bonder.clear_status,
        bonder.unload_recipe,
        bonder.start,
        bonder.pause,
        bonder.resume,
        bonder.abort,
        bonder.acknowledge,
        bonder.clear_alarms,
    ):
        command()
    bonder.load_recipe("A-EQUAL")
    bonder.save_recipe("A-EQUAL-2")
    bonder.delete_recipe("A-EQUAL-2")


def test_die_bonder_raises_the_queued_error_and_leaves_the_queue_empty(bonder: DieBonder) -> None:
    sent = "DISPense:VOLume 40000"
    with raises_catalogue_error(13, "Data out of range", native=-222, sent=sent) as caught:
        bonder.write(sent)
    assert caught.value.text == "Data out of range"
    assert bonder.next_error().code == 0
    assert bonder.event_status() & 32


# (port, action, catalogue code, SCPI code, detail)
ERROR_CASES: list[tuple[int, Callable[[DieBonder], Any], int, int, str]] = [
    (5026, lambda b: setattr(b, "mode", "PLATE"), 12, -224, ""),
    (5026, lambda b: b.alarm_info(2999), 12, -224, ""),
    (5027, lambda b: setattr(b, "dispense_volume_nl", 900), 20, 20, "RUNNING"),
    (5028, lambda b: b.start(), 22, 22, "DOOR"),
    (5029, lambda b: b.resume(), 23, 23, "2101"),
    (5030, lambda b: setattr(b, "input_map", "1111"), 26, 26, ""),
    (5031, lambda b: b.result_records(1, 30), 27, 27, ""),
    (5032, lambda b: b.write("CYCL:STAR;CYCL:ABOR"), 11, -102, ""),
    (5033, lambda b: b.calibrate_placement(), 21, 21, "SETUP"),
    (5034, lambda b: b.start(), 14, -221, ""),
    (5035, lambda b: b.start(), 22, 22, "TEMP"),
    (5036, lambda b: b.start(), 24, 24, ""),
    (5037, lambda b: b.load_recipe("A-HUGE"), 25, 25, ""),
    (5038, lambda b: b.save_recipe("NEW-33"), 28, 28, ""),
    (5039, lambda b: b.write("DISP:VOL MAX"), 12, -104, ""),
    (5040, lambda b: b.write("DISP:VOL 600,700"), 12, -108, ""),
    (5041, lambda b: b.write("DISP:VOL"), 12, -109, ""),
    (5042, lambda b: b.write('STR:ID "LA 2403"'), 12, -151, ""),
    (5043, lambda b: b.write("DISP:SPEED 5"), 10, -113, ""),
    (5044, lambda b: b.clear_alarms(), -350, -350, ""),
    (5045, lambda b: b.measure_temperature_c("HEAD"), 13, -222, ""),
]


@pytest.mark.parametrize(("port", "action", "code", "native", "detail"), ERROR_CASES)
def test_die_bonder_maps_each_error_reply(
    port: int,
    action: Callable[[DieBonder], Any],
    code: int,
    native: int,
    detail: str,
    open_sim: OpenSim,
) -> None:
    address = f"TCPIP::localhost::{port}::SOCKET"
    with open_sim(port) as bonder:
        with raises_catalogue_error(
            code, detail=detail, native=native, tool="die-bonder", address=address
        ):
            action(bonder)
        assert bonder.next_error().code == 0


def test_die_bonder_reports_the_blocking_alarm_while_waiting(open_sim: OpenSim) -> None:
    with open_sim(5029) as bonder:
        assert bonder.state() is ToolState.ALARM
        assert bonder.alarms() == [
            AlarmInfo(2201, "W", "Syringe low"),
            AlarmInfo(2101, "H", "Syringe empty"),
        ]
        with pytest.raises(ToolAlarm) as caught:
            bonder.wait_for_state([ToolState.READY], timeout_s=1.0, poll_s=0.01)
    assert (caught.value.code, caught.value.alarm_class) == (2101, "H")


MALFORMED: list[tuple[str, Callable[[DieBonder], Any]]] = [
    ("identity", lambda b: b.identify()),
    ("event status", lambda b: b.event_status()),
    ("state", lambda b: b.state()),
    ("error count", lambda b: b.error_count()),
    ("alarm count", lambda b: b.active_alarms()),
    ("alarm text", lambda b: b.alarm_info(2101)),
    ("catalog", lambda b: b.recipe_catalog()),
    ("recipe name", lambda b: b.recipe_name()),
    ("strip size", lambda b: b.strip_size),
    ("strip pitch", lambda b: b.strip_pitch_mm),
    ("progress", lambda b: b.progress()),
    ("mode", lambda b: b.mode),
    ("volume", lambda b: b.dispense_volume_nl),
    ("tolerance fields", lambda b: b.place_tolerance),
    ("cure flag", lambda b: b.cure_enabled),
    ("temperature", lambda b: b.measure_temperature_c("STAGE")),
    ("die count", lambda b: b.supply_dies()),
    ("calibration", lambda b: b.placement_calibration()),
    ("result count", lambda b: b.result_count()),
    ("summary", lambda b: b.summary()),
    ("result map", lambda b: b.result_map()),
    ("record fields", lambda b: b.result_records(1, 30)),
    ("record result", lambda b: b.result_records(7, 3)),
]


@pytest.mark.parametrize(("what", "action"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_die_bonder_rejects_malformed_reply(
    what: str, action: Callable[[DieBonder], Any], open_sim: OpenSim
) -> None:
    with open_sim(5060) as bonder, pytest.raises(ProtocolError):
        action(bonder)


def test_die_bonder_rejects_a_malformed_error_queue_reply(open_sim: OpenSim) -> None:
    with open_sim(5061) as bonder:
        with pytest.raises(ProtocolError, match="SYST:ERR"):
            bonder.cure_enabled = False
        with pytest.raises(ProtocolError, match="yesterday"):
            bonder.placement_calibration()


def test_die_bonder_times_out_on_a_silent_query_with_an_empty_error_queue(
    open_sim: OpenSim,
) -> None:
    with open_sim(5062) as bonder, pytest.raises(ToolTimeout):
        bonder.state()


def test_die_bonder_reports_a_lost_link_when_not_even_the_error_queue_answers(
    open_sim: OpenSim,
) -> None:
    with open_sim(5063) as bonder, pytest.raises(ConnectionLost):
        bonder.state()
