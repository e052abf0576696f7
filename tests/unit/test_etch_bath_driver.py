"""EtchBath driver against recorded transcripts: what it sends for each call (requests, and the
manual's raw RTU frames over a pty), how it decodes replies and how it reports rejections."""

from __future__ import annotations

import os
import termios
from dataclasses import replace
from typing import Any

import pytest

from drivers.errors import (
    InterlockActive,
    ParameterOutOfRange,
    ProtocolError,
    ToolError,
    ToolTimeout,
)
from drivers.etch_bath import (
    Chemistry,
    EndpointMode,
    EndReason,
    EtchBath,
    EtchRecipe,
    LineParity,
)
from drivers.states import ToolState
from drivers.transports.modbus import ModbusExceptionReply
from tests.support.catalogue import raises_catalogue_error
from tests.support.expected_protocol import (
    EXACT,
    ProtocolBench,
    scripted_peer,
)
from tests.support.modbus_pdu import exception_reply, from_transcript, rtu_frame
from tests.support.modbus_pdu import string_words as encode_string

MANUAL_RECIPE = [500, 15, 320, 20, 135, 540, 1600, 80, 1, 420, 900, 0, 23000, 25, 10, 60, 1, 3]


@pytest.fixture
def bath_with(protocol: ProtocolBench):  # type: ignore[no-untyped-def]
    """``bath_with(transcript)``: an EtchBath reached through a Modbus TCP gateway (a scripted
    peer playing the transcript); the RTU framing itself is pinned by the §9 frames below."""

    return lambda transcript, unit=1: protocol.modbus(
        EtchBath, from_transcript(transcript), unit=unit, timeout_s=0.5, retries=0
    )


def exception(code: int) -> ModbusExceptionReply:
    return exception_reply(code, "etch-bath")


# -- writes --------------------------------------------------------------------------------------
def test_etch_bath_writes_the_manual_example_recipe_in_one_fc16(bath_with) -> None:
    bath, _ = bath_with([(("FC03", 100, 1), [1]), (("FC16", 101, MANUAL_RECIPE), None)])
    bath.write_recipe(EtchRecipe(), positions=(1, 2))


def test_etch_bath_writes_the_u32_depth_target_with_one_fc16(bath_with) -> None:
    bath, _ = bath_with([(("FC16", 112, [0, 2500]), None), (("FC16", 112, [1, 34464]), None)])
    bath.depth_target_um = 25.0
    bath.depth_target_um = 1000.0  # 100000 = 0x0001_86A0: high word first


def test_etch_bath_arm_writes_recipe_strip_ids_in_one_fc16_each_then_pulses_arm(bath_with) -> None:
    koh = EtchRecipe.typical(Chemistry.KOH)
    # the manual's recipe words with KOH's TEMP_SP 80.0, CONC_SP 30.0, DEPTH 25 µm; slots 1, 10
    words = [800, 15, 300, *MANUAL_RECIPE[3:12], 2500, *MANUAL_RECIPE[13:17], 0b1000000001]
    bath, _ = bath_with(
        [
            (("FC16", 101, words), None),
            (("FC16", 200, encode_string("PI-0001", 10)), None),
            (("FC16", 290, encode_string("PI-0002", 10)), None),
            (("FC05", 0), None),
        ]
    )
    bath.arm(koh, strip_ids={1: "PI-0001", 10: "PI-0002"}, chemistry=Chemistry.KOH)


def test_etch_bath_refuses_a_recipe_outside_the_chemistry_window_before_sending(bath_with) -> None:
    bath, link = bath_with([(("FC03", 100, 1), [3])])  # the station is a KOH bath
    with pytest.raises(ParameterOutOfRange, match=r"TEMP_SP 60\.0 °C outside"):
        bath.write_recipe(EtchRecipe(temp_sp_c=60.0, conc_sp=30.0))
    link.verify()
    with pytest.raises(ParameterOutOfRange, match="CU_LOAD_MAX"):
        bath.write_recipe(EtchRecipe(temp_sp_c=45.0, conc_sp=40.0), chemistry=Chemistry.FECL3)
    with pytest.raises(ParameterOutOfRange, match="ETCH_TIME_MAX_S"):
        bath.write_recipe(
            EtchRecipe(endpoint_mode=EndpointMode.TIME, etch_time_s=600, etch_time_max_s=500),
            chemistry=Chemistry.CUCL2,
        )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("temp_sp_c", 99.0),
        ("depth_target_um", 0.5),
        ("etch_time_max_s", 8000),
        ("pump_speed_pct", 40),
    ],
)
def test_etch_bath_refuses_out_of_range_values_before_any_request(
    bath_with, field: str, value: float
) -> None:
    bath, _ = bath_with([])
    changes: dict[str, Any] = {field: value}
    with pytest.raises(ParameterOutOfRange):
        bath.write_recipe(replace(EtchRecipe(), **changes), chemistry=Chemistry.CUCL2)
    with pytest.raises(ParameterOutOfRange):
        setattr(bath, field, value)


def test_etch_bath_enumerations_are_written_as_codes(bath_with) -> None:
    bath, _ = bath_with(
        [(("FC06", 109, 2), None), (("FC06", 100, 3), None), (("FC06", 502, 2), None)]
    )
    bath.endpoint_mode = EndpointMode.HOST
    bath.chemistry = "KOH"
    bath.parity = LineParity.NONE_8N2
    with pytest.raises(ParameterOutOfRange, match="not one of"):
        bath.endpoint_mode = 3


def test_etch_bath_commands_and_level_coils(bath_with) -> None:
    bath, _ = bath_with(
        [
            (("FC05", 16), None),
            (("FC05", 17), None),
            (("FC05", 18), None),
            (("FC05", 19, False), None),
            (("FC01", 20, 1), [True]),
        ]
    )
    bath.end_etch()
    bath.hoist_up()
    bath.hoist_down()
    bath.heater_enable = False
    assert bath.pump_enable is True


# -- reads ------------------------------------------------------------------------------------------
def test_etch_bath_reads_the_manual_example_result(bath_with) -> None:
    words = [2, 0, 23004, 418, 3301, 500, 1, 1, *[3] * 8, *[0] * 10]
    ids = encode_string("LA2403-017", 10) + encode_string("LA2403-018", 10) + [0] * 80
    bath, _ = bath_with([(("FC04", 115, 26), words), (("FC03", 200, 100), ids)])
    result = bath.cycle_result()
    assert result.end_reason is EndReason.DEPTH
    assert (result.final_depth_um, result.final_etch_s) == (230.04, 418)
    assert (result.mean_rate_um_min, result.mean_temp_c) == (33.01, 50.0)
    assert result.result_map == "PPXXXXXXXX"
    assert list(result.strip_results()) == ["LA2403-017", "LA2403-018"]


def test_etch_bath_reads_progress_bath_and_station_blocks(bath_with) -> None:
    bath, _ = bath_with(
        [
            (("FC04", 109, 6), [3300, 0, 15000, 273, 145, 3]),
            (("FC04", 100, 9), [498, 321, 135, 65534, 1402, 400, 401, 20, 400]),
            (("FC03", 500, 3), [5, 1, 0]),
            (("FC03", 100, 1), [2]),
            (("FC02", 16, 12), [True] * 12),
        ]
    )
    progress = bath.etch_progress()
    assert (progress.rate_um_min, progress.depth_um, progress.remaining_s) == (33.0, 150.0, 145)
    readings = bath.bath_readings()
    assert (readings.temp_c, readings.orp_mv, readings.cu_load_g_l) == (49.8, -2, 140.2)
    station = bath.station_settings()
    assert (station.chemistry, station.unit_id) == (Chemistry.FECL3, 5)
    assert bath.bath_inputs().flow_ok


def test_etch_bath_unknown_codes_in_replies_are_protocol_errors(bath_with) -> None:
    bath, _ = bath_with([(("FC04", 115, 1), [9]), (("FC04", 0, 1), [42])])
    with pytest.raises(ProtocolError):
        bath.end_reason  # noqa: B018
    with pytest.raises(ProtocolError):
        bath.state()


# -- rejections --------------------------------------------------------------------------------------
def test_etch_bath_illegal_address_and_value_are_tool_errors(bath_with) -> None:
    bath, _ = bath_with([(("FC04", 100, 9), exception(2)), (("FC06", 101, 500), exception(3))])
    with pytest.raises(ToolError) as info:
        bath.bath_readings()
    assert (info.value.code, info.value.native_code) == (10, 2)
    with pytest.raises(ToolError) as info:
        bath.temp_sp_c = 50.0
    assert (info.value.code, info.value.native_code) == (13, 3)


@pytest.mark.parametrize(
    ("reason", "extra", "detail"),
    [
        (20, [(("FC04", 0, 1), [4])], "RUNNING"),
        (21, [], ""),
        (22, [(("FC04", 14, 1), [0b100000010])], "DOOR,CARRIER"),
        (23, [(("FC04", 2, 1), [5110])], "5110"),
        (24, [], ""),
        (14, [], ""),
    ],
)
def test_etch_bath_exception_06_maps_reject_reason_to_the_right_error(
    bath_with, reason: int, extra: list[Any], detail: str
) -> None:
    bath, _ = bath_with([(("FC05", 18), exception(6)), (("FC04", 4, 2), [reason, 1]), *extra])
    with raises_catalogue_error(reason, detail=detail, native=6, tool="etch-bath") as info:
        bath.hoist_down()
    assert "HOIST_DOWN" in str(info.value)


def test_etch_bath_interlock_error_names_only_what_blocks_the_command(bath_with) -> None:
    word = 0b100000100  # TEMP (HEATING) and CARRIER (a carrier waits while armed)
    bath, _ = bath_with(
        [(("FC05", 2), exception(6)), (("FC04", 4, 2), [22, 1]), (("FC04", 14, 1), [word])]
    )
    with pytest.raises(InterlockActive) as info:
        bath.start()
    assert info.value.detail == "TEMP"


def test_etch_bath_gateway_exceptions(bath_with) -> None:
    bath, _ = bath_with([(("FC04", 0, 1), exception(10)), (("FC04", 0, 1), exception(11))], unit=3)
    with pytest.raises(ToolError, match="unit 3 is not routed") as info:
        bath.state()
    assert info.value.native_code == 10
    with pytest.raises(ToolTimeout, match="0x0B"):
        bath.state()


def test_etch_bath_default_timeouts_follow_the_manual() -> None:
    assert EtchBath("modbus+rtu:///dev/ttyS0?unit=1").link.timeout_s == 0.3
    assert EtchBath("modbus+tcp://192.0.2.7:502?unit=1").link.timeout_s == 1.0


def test_etch_bath_alarm_table_is_the_manual_table(bath_with) -> None:
    bath, _ = bath_with([])
    assert bath.alarm_info(5110).alarm_class == "H"
    assert bath.alarm_info(5150).text == "Etch time limit reached"
    assert len(EtchBath.alarm_table) == 21
    with pytest.raises(ProtocolError):
        bath.alarm_info(4001)


# -- raw RTU frames of etch-bath.md §9 over a pty -----------------------------------------------------
def rtu(hex_text: str) -> bytes:
    return rtu_frame(bytes.fromhex(hex_text))


def pty_parity(device: str) -> str:
    """E unless this kernel refuses parity on a pty (a pty carries none anyway)."""
    fd = os.open(device, os.O_RDWR | os.O_NOCTTY)
    try:
        attrs = termios.tcgetattr(fd)
        trial = list(attrs)
        trial[2] |= termios.PARENB
        try:
            termios.tcsetattr(fd, termios.TCSANOW, trial)
        except termios.error:
            return "N"
        termios.tcsetattr(fd, termios.TCSANOW, attrs)
        return "E"
    finally:
        os.close(fd)


MANUAL_FRAMES = [
    # §9: FC16 HR 112, 2 regs = 2500 and its reply, verbatim.
    (
        bytes.fromhex("01 10 00 70 00 02 04 00 00 09 C4 F3 48"),
        bytes.fromhex("01 10 00 70 00 02 40 13"),
    ),
    # §9: ARM refused with exception 06 ...
    (bytes.fromhex("01 05 00 00 FF 00 8C 3A"), bytes.fromhex("01 85 06 C2 92")),
    # ... and REJECT_REASON 14 (with REJECT_COUNT) read back.
    (rtu("01 04 00 04 00 02"), rtu("01 04 04 00 0E 00 01")),
    # §9: FC04 IR 109 rate 33.00 µm/min, depth 150.00 µm (a 6-register block here).
    (rtu("01 04 00 6D 00 06"), rtu("01 04 0C 0C E4 00 00 3A 98 00 96 00 91 00 03")),
    (rtu("01 04 00 00 00 01"), rtu("01 04 02 00 07")),
]


def test_etch_bath_sends_the_manual_rtu_frames_byte_for_byte() -> None:
    assert rtu("01 04 00 6D 00 03")[-2:] == bytes.fromhex("21 D6")  # the helper itself
    with scripted_peer(MANUAL_FRAMES, framing=EXACT, channel="pty") as peer:
        address = (
            f"modbus+rtu://{peer.device}?baudrate=19200&parity={pty_parity(peer.device)}&unit=1"
        )
        with EtchBath.open(address, timeout_s=0.5, retries=0) as bath:
            bath.depth_target_um = 25.0
            with pytest.raises(ToolError) as info:
                bath.arm()
            assert (info.value.code, info.value.native_code) == (14, 6)
            progress = bath.etch_progress()
            assert (progress.rate_um_min, progress.depth_um, progress.elapsed_s) == (
                33.0,
                150.0,
                150,
            )
            assert bath.state() is ToolState.DONE
