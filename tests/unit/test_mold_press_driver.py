"""MoldPress driver against a scripted Modbus TCP peer: what it sends for each call, how it
decodes what comes back, and how it reports rejections."""

from __future__ import annotations

from typing import Any

import pytest

from drivers.errors import (
    ParameterOutOfRange,
    ProtocolError,
    ToolError,
)
from drivers.mold_press import MoldPress, MoldRecipe
from drivers.states import ToolState
from drivers.transports.modbus import ModbusExceptionReply
from tests.support.catalogue import raises_catalogue_error
from tests.support.expected_protocol import ProtocolBench
from tests.support.modbus_pdu import exception_reply, from_transcript, words_at
from tests.support.modbus_pdu import string_words as encode_string


@pytest.fixture
def press_with(protocol: ProtocolBench):  # type: ignore[no-untyped-def]
    """``press_with(transcript)``: a MoldPress on a Modbus TCP peer playing the transcript."""

    return lambda transcript: protocol.modbus(
        MoldPress, from_transcript(transcript), timeout_s=0.5, retries=0
    )


#: mold-press.md §9 normal shot: HR 100-121 of the default recipe, all four positions loaded.
MANUAL_RECIPE_WORDS = [1750, 1750, 30, 500, 750, 200, 60, 400, 30, 460, 20, 90, 850, 1500, 20, 8]
MANUAL_RECIPE_WORDS += [400, 50, 800, 1, 1, 15]


def exception_06() -> ModbusExceptionReply:
    return exception_reply(6, "mold-press")


def test_mold_press_writes_the_manual_example_recipe_in_one_fc16(press_with) -> None:
    press, _ = press_with([(("FC16", 100, MANUAL_RECIPE_WORDS), None)])
    press.write_recipe(MoldRecipe())


def test_mold_press_writes_each_strip_id_with_one_fc16_of_ten_registers(press_with) -> None:
    press, _ = press_with(
        [
            (("FC16", 200, encode_string("LA2403-017", 10)), None),
            (("FC16", 230, encode_string("LA2403-020", 10)), None),
        ]
    )
    press.set_strip_ids({1: "LA2403-017", 4: "LA2403-020"})


def test_mold_press_arm_writes_load_mask_for_the_given_positions_then_pulses_arm(
    press_with,
) -> None:
    recipe = MoldRecipe(cure_s=120)
    words = [*MANUAL_RECIPE_WORDS[:11], 120, *MANUAL_RECIPE_WORDS[12:21], 0b0011]  # cure 120 s, 1-2
    press, _ = press_with(
        [
            (("FC16", 100, words), None),
            (("FC16", 200, encode_string("S1", 10)), None),
            (("FC16", 210, encode_string("S2", 10)), None),
            (("FC05", 0), None),
        ]
    )
    press.arm(recipe, strip_ids={1: "S1", 2: "S2"})


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("cure_s", 181, "cure_s = 181 outside 60..180 s"),
        ("chase_top_sp_c", 164.9, "chase_top_sp_c = 164.9 outside 165.0..185.0 °C"),
        ("transfer_pressure_sp_mpa", 10.5, "transfer_pressure_sp_mpa = 10.5 outside 5.0..10.0 MPa"),
    ],
)
def test_mold_press_refuses_out_of_range_set_points_before_sending(
    press_with, field: str, value: float, message: str
) -> None:
    press, _link = press_with([])
    with pytest.raises(ParameterOutOfRange, match=message):
        press.write_recipe(MoldRecipe(**{field: value}))


def test_mold_press_refuses_plunger_stages_out_of_order_before_sending(press_with) -> None:
    press, _ = press_with([])
    with pytest.raises(ParameterOutOfRange, match="S1 < S2 < S3"):
        press.write_recipe(MoldRecipe(stage1_end_mm=45.0))


def test_mold_press_single_register_set_point_uses_fc06_with_scaled_value(press_with) -> None:
    press, _ = press_with([(("FC06", 104, 825), None)])
    press.transfer_pressure_sp_mpa = 8.25


def test_mold_press_decodes_signed_and_scaled_inputs(press_with) -> None:
    press, _ = press_with([(("FC04", 100, 1), [1746]), (("FC04", 109, 1), [641])])
    assert press.chase_top_pv_c == pytest.approx(174.6)
    assert press.alpha_pv == pytest.approx(0.641)


def test_mold_press_reads_the_manual_example_shot_result(press_with) -> None:
    words = [131, 762, 407, 910, 209, 1746, 1753, 498, 1, 1, 1, 1, 0, 0, 0, 0]
    ids = encode_string("LA2403-017", 10) + encode_string("LA2403-018", 10) + [0] * 20
    press, _ = press_with([(("FC04", 110, 16), words), (("FC03", 200, 40), ids)])
    result = press.shot_result()
    assert result.fill_time_s == pytest.approx(13.1)
    assert result.peak_transfer_pressure_mpa == pytest.approx(7.62)
    assert result.alpha_at_open == pytest.approx(0.910)
    assert result.chase_temp_min_c == pytest.approx(174.6)
    assert result.result_map == "PPPP"
    assert result.positions[0].strip_id == "LA2403-017"


@pytest.mark.parametrize(
    ("command", "coil", "reason", "detail_read", "detail", "shown"),
    [
        ("pause", 3, 20, [(("FC04", 0, 1), [4])], "RUNNING", "PAUSE"),
        ("start", 2, 22, [(("FC04", 14, 1), [0b10])], "DOOR", "START"),
        ("resume", 4, 23, [(("FC04", 2, 1), [4115])], "4115", "RESUME"),
        ("arm", 0, 14, [], "", "14 Settings conflict"),
    ],
)
def test_mold_press_maps_exception_06_to_the_reject_reason(
    press_with,
    command: str,
    coil: int,
    reason: int,
    detail_read: list[Any],
    detail: str,
    shown: str,
) -> None:
    """README §9.2: a command refused with exception 06 raises the catalogue error of IR 4's
    reject reason (PAUSE in CURE: 20), naming the state, interlock or alarm that blocks it."""
    press, _ = press_with(
        [(("FC05", coil), exception_06()), (("FC04", 4, 2), [reason, 1]), *detail_read]
    )
    with raises_catalogue_error(reason, detail=detail, native=6, tool="mold-press") as info:
        getattr(press, command)()
    assert shown in str(info.value)


def test_mold_press_reports_illegal_address_and_value(press_with) -> None:
    press, _ = press_with(
        [(("FC06", 111, 500), ModbusExceptionReply(3, tool="mold-press", address="x", sent="x"))]
    )
    with pytest.raises(ToolError) as info:
        press.write_registers(111, [500])
    assert info.value.code == 13 and info.value.native_code == 3


def test_mold_press_rejects_an_unknown_state_code_as_protocol_error(press_with) -> None:
    press, _ = press_with([(("FC04", 0, 1), [42])])
    with pytest.raises(ProtocolError, match="bad STATE"):
        press.state()


def test_mold_press_status_block_decodes_u32_and_alarm_list(press_with) -> None:
    block = words_at(
        28,
        {
            0: 6,
            1: 1,
            2: 4115,
            3: 2,
            5: 3,
            6: 77,
            7: 5,
            9: 12,
            11: 167,
            13: 812,
            14: 0b1000_0000,
            15: 1,
            18: 0b1_0000,
            20: 4115,
            21: 4201,
        },
    )
    press, _ = press_with([(("FC04", 0, 28), block)])
    status = press.status()
    assert status.state is ToolState.ALARM
    assert (status.cycle_elapsed_s, status.cycle_remaining_s, status.cycle_count) == (12, 167, 812)
    assert status.alarm_list == (4115, 4201)
    assert press.interlock_names(status.interlock_word) == ["PELLET"]


def test_mold_press_alarm_info_comes_from_the_manual_table(press_with) -> None:
    press, _ = press_with([(("FC04", 20, 8), [4004, 4201, 0, 0, 0, 0, 0, 0])])
    alarms = press.alarms()
    assert [(a.code, a.alarm_class) for a in alarms] == [(4004, "H"), (4201, "W")]
    assert alarms[0].text == "Hydraulic pressure low"


def test_mold_press_recipe_nominal_fill_time_matches_manual(press_with) -> None:
    assert MoldRecipe().nominal_fill_s == pytest.approx(13.0, abs=0.01)
