"""Laminator driver against recorded Modbus TCP transcripts (laminator.md §4, §8, §10): a scripted
LM-8 on loopback checks every request PDU, byte for byte, and answers what the manual says."""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from drivers.errors import (
    ConnectionLost,
    NotAllowedInState,
    ParameterOutOfRange,
    ProtocolError,
    ToolError,
    ToolTimeout,
)
from drivers.laminator import LaminationRecipe, Laminator
from drivers.registers import DiscreteInput, Holding, Input, Register
from drivers.states import ToolState
from tests.support.catalogue import raises_catalogue_error
from tests.support.expected_protocol import CLOSE, ProtocolBench, Step
from tests.support.io_timing import takes_s
from tests.support.modbus_pdu import (
    pulse,
    read_discrete,
    read_holding,
    read_input,
    refused,
    string_words,
    words_at,
    words_pdu,
    write_multiple,
    write_single,
)

ARM, START, PAUSE = 0, 2, 3
MANUAL_RECIPE_WORDS = [1700, 1000, 40, 2700, 40, 800, 200, 10, 20, 20, 300, 3]  # §10


@pytest.fixture
def talk(protocol: ProtocolBench) -> Callable[..., Laminator]:
    """Open a Laminator on a scripted peer; the transcript must be used up by the test's end."""

    def start(*transcript: Step, timeout_s: float = 0.3, retries: int = 1) -> Laminator:
        return protocol.modbus(Laminator, transcript, timeout_s=timeout_s, retries=retries)[0]

    return start


# -- recipe, strip ids and commands -----------------------------------------------------------


def test_laminator_arm_sends_the_manual_example_one_fc16_per_block(talk) -> None:
    laminator = talk(
        write_multiple(100, MANUAL_RECIPE_WORDS),
        write_multiple(200, string_words("LA2403-017")),
        write_multiple(210, string_words("LA2403-018")),
        pulse(ARM),
    )
    laminator.arm(LaminationRecipe(), strip_ids={1: "LA2403-017", 2: "LA2403-018"})


def test_laminator_write_recipe_without_positions_loads_all_eight(talk) -> None:
    laminator = talk(write_multiple(100, [*MANUAL_RECIPE_WORDS[:11], 255]))
    laminator.write_recipe(LaminationRecipe())


def test_laminator_recipe_in_engineering_units_is_scaled(talk) -> None:
    recipe = LaminationRecipe(
        platen_sp_c=160.0,
        standby_sp_c=110.0,
        ramp_rate_c_per_min=2.5,
        dwell_s=1800,
        cool_rate_c_per_min=5.0,
        unload_sp_c=60.5,
        pressure_sp_mpa=1.25,
        pressure_band_mpa=0.05,
        temp_band_c=1.5,
        vacuum_sp_kpa=0.5,
        evac_s=900,
    )
    laminator = talk(
        write_multiple(100, [1600, 1100, 25, 1800, 50, 605, 125, 5, 15, 5, 900, 0b10000001])
    )
    laminator.write_recipe(recipe, positions=(1, 8))


def test_laminator_cross_check_refused_before_sending(talk) -> None:
    laminator = talk()
    with pytest.raises(ParameterOutOfRange, match="standby_sp_c"):
        laminator.write_recipe(LaminationRecipe(platen_sp_c=160.0, standby_sp_c=110.1))
    with pytest.raises(ParameterOutOfRange):
        laminator.arm(LaminationRecipe(platen_sp_c=150.0, standby_sp_c=120.0), strip_ids={1: "S1"})


@pytest.mark.parametrize(
    "change",
    [
        {"platen_sp_c": 191.0},
        {"standby_sp_c": 49.9},
        {"ramp_rate_c_per_min": 5.1},
        {"dwell_s": 1799},
        {"cool_rate_c_per_min": 1.9},
        {"unload_sp_c": 100.1},
        {"pressure_sp_mpa": 3.5},
        {"pressure_band_mpa": 0.04},
        {"temp_band_c": 5.5},
        {"vacuum_sp_kpa": 20.1},
        {"evac_s": 59},
    ],
)
def test_laminator_recipe_ranges_checked_before_sending(talk, change: dict[str, Any]) -> None:
    laminator = talk()
    recipe = replace(LaminationRecipe(), **change)

    with pytest.raises(ParameterOutOfRange):
        laminator.write_recipe(recipe)


def test_laminator_bad_positions_and_strip_ids_refused_before_sending(talk) -> None:
    laminator = talk()
    with pytest.raises(ParameterOutOfRange):
        laminator.write_recipe(LaminationRecipe(), positions=(0,))
    with pytest.raises(ParameterOutOfRange):
        laminator.write_recipe(LaminationRecipe(), positions=(9,))
    with pytest.raises(ParameterOutOfRange):
        laminator.set_strip_ids({9: "S9"})
    with pytest.raises(ParameterOutOfRange):
        laminator.set_strip_ids({1: "bad id!"})
    with pytest.raises(ParameterOutOfRange):
        laminator.set_strip_ids({1: "X" * 21})
    with pytest.raises(ParameterOutOfRange):
        laminator.load_mask = 0


def test_laminator_single_setpoint_uses_fc06_and_strip_id_fc16(talk) -> None:
    laminator = talk(
        write_single(106, 250), write_single(111, 3), write_multiple(270, string_words("LB-8"))
    )
    laminator.pressure_sp_mpa = 2.5
    laminator.load_mask = 3
    laminator.set_strip_ids({8: "LB-8"})


def test_laminator_commands_pulse_their_coils(talk) -> None:
    laminator = talk(*(pulse(coil) for coil in range(8)))
    laminator.arm()
    laminator.disarm()
    laminator.start()
    laminator.pause()
    laminator.resume()
    laminator.abort()
    laminator.clear_alarms()
    laminator.acknowledge()


def test_laminator_heartbeat_and_watchdog_registers(talk) -> None:
    laminator = talk(write_single(1, 30), write_single(2, 7), write_single(0, 42))
    laminator.host_watchdog_s = 30
    laminator.heartbeat(7)
    laminator.recipe_id = 42


# -- reads ------------------------------------------------------------------------------------


def test_laminator_status_block_decodes_the_manual_example(talk) -> None:
    block = words_at(28, {0: 4, 1: 5, 6: 1042, 9: 3180, 11: 2450, 13: 812, 15: 1, 17: 8, 20: 1104})
    laminator = talk(read_input(0, block), read_input(1, [5]))
    status = laminator.status()
    assert (status.state, status.phase) == (ToolState.RUNNING, 5)
    cycle = (status.cycle_elapsed_s, status.cycle_remaining_s, status.cycle_count)
    assert cycle == (3180, 2450, 812)
    assert status.alarm_list == (1104,)
    assert laminator.alarms_in_words(status.alarm_words) == [1104]
    assert laminator.phase() == "DWELL"


def test_laminator_cycle_result_decodes_the_manual_example(talk) -> None:
    ids = string_words("LA2403-017") + string_words("LA2403-018") + [0] * 60
    laminator = talk(
        read_input(110, [1, 1, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 1712, 9, 198, 14, 2700]),
        read_holding(200, ids),
    )
    result = laminator.cycle_result()
    assert result.result_map == "PPXXXXXX"
    assert (result.peak_temp_c, result.max_temp_dev_c) == (171.2, 0.9)
    dwell = (result.min_pressure_dwell_mpa, result.max_vacuum_dwell_kpa, result.dwell_actual_s)
    assert dwell == (1.98, 1.4, 2700)
    assert result.by_strip()["LA2403-018"].position == 2
    assert result.positions[0].strip_id == "LA2403-017" and result.positions[0].defect == 0


def test_laminator_cycle_result_reports_failed_positions_with_defects(talk) -> None:
    laminator = talk(
        read_input(
            110, [2, 2, 4, 3, 3, 3, 3, 3, 1504, 1504, 0, 0, 0, 0, 0, 0, 1702, 5, 199, 3, 1200]
        ),
        read_holding(200, [0] * 80),
    )
    result = laminator.cycle_result()
    assert result.result_map == "FFNXXXXX"
    assert [p.defect for p in result.positions[:3]] == [1504, 1504, 0]


def test_laminator_process_values_decode_with_units(talk) -> None:
    laminator = talk(
        read_input(100, [1712]),
        read_input(101, [0xFFF6]),
        read_input(102, [0]),
        read_input(103, [198]),
        read_input(104, [1013]),
        read_input(105, [0b101]),
        read_input(107, [2450]),
        read_input(108, [37]),
        read_holding(109, [20]),
        read_discrete(16, [True]),
        read_discrete(19, [False]),
    )
    assert laminator.platen_top_pv_c == 171.2
    assert laminator.platen_bottom_pv_c == -1.0
    assert laminator.temp_sp_active_c == 0
    assert laminator.pressure_pv_mpa == 1.98
    assert laminator.vacuum_pv_kpa == 101.3
    assert laminator.loaded_positions() == (1, 3)
    assert laminator.dwell_remaining_s == 2450
    assert laminator.heater_top_out_pct == 37
    assert laminator.vacuum_sp_kpa == 2.0
    assert laminator.temp_in_band is True
    assert laminator.door_locked is False


def test_laminator_identify_reads_the_identity_block(talk) -> None:
    words = [100, *string_words("LM-8")[:8], *string_words("LM8-00008")[:8], 231]
    laminator = talk(read_input(900, words))
    identity = laminator.identify()
    assert (identity.model, identity.serial, identity.firmware) == ("LM-8", "LM8-00008", "2.3.1")


def test_laminator_alarms_carry_class_and_text(talk) -> None:
    laminator = talk(read_input(20, [1004, 1122, 0, 0, 0, 0, 0, 0]))
    assert [(a.code, a.alarm_class) for a in laminator.alarms()] == [(1004, "H"), (1122, "W")]
    with pytest.raises(ProtocolError):
        laminator.alarm_info(4001)


# -- error replies (§8) -------------------------------------------------------------------------


def test_laminator_illegal_address_is_a_tool_error(talk) -> None:
    laminator = talk(refused(read_input(131, [0]), 2))
    with pytest.raises(ToolError) as info:
        laminator.read_registers("input", 131, 1)
    error = info.value
    assert (error.code, error.native_code, error.detail) == (10, 2, "illegal data address")


def test_laminator_value_refused_by_the_tool_is_out_of_range(talk) -> None:
    laminator = talk(refused(write_single(106, 350), 3))
    with pytest.raises(ToolError) as info:
        laminator.write_registers(106, [350])
    assert (info.value.code, info.value.native_code) == (13, 3)
    assert "laminator" in str(info.value) and "127.0.0.1" in str(info.value)


@pytest.mark.parametrize(
    ("reason", "detail_read", "detail"),
    [
        (14, None, ""),
        (20, read_input(0, [3]), "READY"),
        (21, None, ""),
        (22, read_input(14, [0b0000_0010]), "DOOR"),
        (22, read_input(14, [0b0010_0001]), "ESTOP,LOAD"),
        (23, read_input(2, [1004]), "1004"),
        (24, None, ""),
    ],
)
def test_laminator_exception_06_maps_reject_reason(
    talk, reason: int, detail_read: Step | None, detail: str
) -> None:
    follow = [detail_read] if detail_read is not None else []
    laminator = talk(refused(pulse(START), 6), read_input(4, [reason, 9]), *follow)
    with raises_catalogue_error(reason, detail=detail, native=6, tool="laminator") as info:
        laminator.start()
    assert "START" in str(info.value)


def test_laminator_pause_refused_in_ready_names_the_state(talk) -> None:
    laminator = talk(refused(pulse(PAUSE), 6), read_input(4, [20, 1]), read_input(0, [3]))
    with pytest.raises(NotAllowedInState, match="20 Not allowed in state;READY"):
        laminator.pause()


def test_laminator_cross_check_refused_by_the_tool_is_settings_conflict(talk) -> None:
    laminator = talk(refused(pulse(ARM), 6), read_input(4, [14, 1]))
    with pytest.raises(ToolError, match="14 Settings conflict"):
        laminator.arm()


# -- malformed replies and link failures ---------------------------------------------------------


def test_laminator_short_register_reply_is_a_protocol_error(talk) -> None:
    request, _ = read_input(110, [0] * 21)
    laminator = talk((request, struct.pack(">BB", 4, 4) + words_pdu([1, 1])))
    with pytest.raises(ProtocolError):
        laminator.cycle_result()


def test_laminator_unknown_state_code_is_a_protocol_error(talk) -> None:
    laminator = talk(read_input(0, [12]))
    with pytest.raises(ProtocolError):
        laminator.state()


def test_laminator_unknown_position_code_is_a_protocol_error(talk) -> None:
    laminator = talk(read_input(110, [7, *[0] * 20]), read_holding(200, [0] * 80))
    with pytest.raises(ProtocolError):
        laminator.cycle_result()


def test_laminator_silent_tool_times_out_after_its_retries(talk) -> None:
    request, _ = read_input(0, [1])
    laminator = talk((request, None), (request, None), read_input(0, [1]), timeout_s=0.2, retries=1)
    with takes_s(0, 0.2 * 2 + 0.5), pytest.raises(ToolTimeout):
        laminator.state()
    assert laminator.state() is ToolState.IDLE


def test_laminator_command_coils_are_never_repeated(talk) -> None:
    laminator = talk((pulse(START)[0], None), read_input(0, [4]), timeout_s=0.2, retries=3)
    with pytest.raises(ToolTimeout):
        laminator.start()
    assert laminator.state() is ToolState.RUNNING


def test_laminator_closed_connection_is_connection_lost(talk) -> None:
    request, _ = read_input(0, [1])
    laminator = talk((request, CLOSE), (request, CLOSE), read_input(0, [3]))
    with pytest.raises(ConnectionLost):
        laminator.state()
    assert laminator.state() is ToolState.READY


def test_laminator_unreachable_address_is_connection_lost() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    with pytest.raises(ConnectionLost):
        Laminator.open(f"modbus+tcp://127.0.0.1:{port}?unit=1", timeout_s=0.2)


# -- the driver reads like the manual ---------------------------------------------------------------


def _declared(kind: type[Register] | type[DiscreteInput]) -> list[int]:
    """Addresses of every declared register of ``kind`` (each element of a run)."""
    return [
        address
        for member in vars(Laminator).values()
        if isinstance(member, kind)
        for address in (member.addresses if isinstance(member, Register) else [member.address])
    ]


def test_laminator_declares_every_register_of_the_manual_in_order() -> None:
    assert _declared(Holding) == [*range(100, 112), *range(200, 280, 10)]
    assert _declared(Input) == list(range(100, 131))
    assert _declared(DiscreteInput) == list(range(16, 22))


def test_laminator_nominal_cycle_matches_the_manual_timing() -> None:
    assert LaminationRecipe().nominal_cycle_s == pytest.approx(94 * 60, rel=0.01)
    assert Laminator.alarm_word_bits.keys() == Laminator.alarm_table.keys()
