"""DS-2 driver against the pyvisa-sim spec sim/visa/dicing_saw.yaml (ASRL1::INSTR, CR LF):
declared controls, typed readings and records, paging, and range checks before sending."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import sim
from drivers.dicing_saw import (
    DicingRecord,
    DicingSaw,
    DicingSummaryExtra,
    SpindleReading,
    max_spindle_speed_krpm,
)
from drivers.errors import ParameterOutOfRange, ToolError
from drivers.states import ToolState

YAML = Path(sim.__file__).parent / "visa" / "dicing_saw.yaml"


@pytest.fixture
def saw(tmp_path: Path) -> Iterator[DicingSaw]:
    """A driver on a fresh copy of the YAML (pyvisa-sim shares state per file)."""
    spec = tmp_path / "dicing_saw.yaml"
    shutil.copy(YAML, spec)
    with DicingSaw.open("ASRL1::INSTR", visa_library=f"{spec}@sim", timeout_s=0.2) as driver:
        yield driver


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
    assert result.summary.strip_id == "FB2405-112"
    assert (result.summary.passed, result.summary.failed, result.summary.skipped) == (237, 1, 2)
    assert result.summary.extra == DicingSummaryExtra(line_passes_cut=80, blade_count_after=15310)
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
    assert [max_spindle_speed_krpm(t) for t in (15, 25, 26, 50, 51, 80, 81, 350)] == [
        30.0,
        30.0,
        40.0,
        40.0,
        35.0,
        35.0,
        35.0,
        35.0,
    ]


def test_dicing_saw_class_matches_the_manual_link() -> None:
    assert DicingSaw.termination == "\r\n"
    assert DicingSaw.baud_rate == 9600
    assert DicingSaw.result_page_size == 16
    assert DicingSaw.result_timeout_s == 5.0
    assert DicingSaw.default_timeout_s == 2.0
