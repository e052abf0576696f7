"""DS-2 SCPI front without a transport: the manual's §4/§7 replies and errors as text."""

from __future__ import annotations

import pytest

from sim.dicing_saw.model import DicingSawModel
from sim.dicing_saw.server import DicingSawFront
from tests.support.hand_clock import HandClock
from tests.support.model_bench import ModelBench


@pytest.fixture
def front() -> DicingSawFront:
    bench = ModelBench(DicingSawModel, seed=2)
    bench.clock.t = 21.0  # past INIT
    return DicingSawFront(bench.model)


def errors(front: DicingSawFront) -> list[str]:
    drained = []
    while (entry := front.handle("SYST:ERR?")) != '0,"No error"':
        assert entry is not None
        drained.append(entry)
    return drained


def advance(front: DicingSawFront, seconds: float) -> None:
    clock = front.model.clock
    assert isinstance(clock, HandClock)
    clock.t += seconds


def test_dicing_saw_front_answers_short_and_long_headers(front: DicingSawFront) -> None:
    assert front.handle("spindle:speed?") == "30.0"
    assert front.handle("SPIN:SPE?") == "30.0"
    assert front.handle("BLAD:THICK?") == "250"
    assert front.handle("BLAD:LIM?") == "20000"
    assert front.handle("CUT:HEIG?") == "0.080"
    assert front.handle("CUT:CHIP:LIM?") == "50"
    assert front.handle("CUT:OFFS:LIM?") == "25"
    assert front.handle("COOL:FLOW?") == "1.5"
    assert front.handle("BLAD:EXP?") == "0.000"
    assert front.handle("MEAS:SPIN?") == "0.0,0"
    assert front.handle("STR:SIZE?") == "8,30"
    assert front.handle("STR:PITC?") == "5.300,5.300"
    assert front.handle("RES:COUN?") == "0"
    assert front.handle("CYCL:PROG?") == "0,0,0,0"
    assert errors(front) == []


def test_dicing_saw_front_gives_the_manual_error_examples(front: DicingSawFront) -> None:
    assert front.handle("CUT:PASS 4") is None
    assert errors(front) == ['-222,"Data out of range"']
    assert front.handle("CUT:PASS 2.6") is None  # rounded to the resolution: 3
    assert front.handle("CUT:PASS?") == "3"
    assert front.handle("RES:DATA? 1,3") is None
    assert errors(front) == ['27,"No results available"']
    front.handle('RECipe:LOAD "B-SING"')
    assert front.handle("CYCL:STAR") is None
    assert errors(front) == ['22,"Interlock active;WARMUP"']
    assert front.handle("BLAD:SET") is None
    assert errors(front) == ['22,"Interlock active;WARMUP"']
    advance(front, 301.0)
    front.handle("SPIN:SPE 40.0")
    assert front.handle("SYST:STAT?") == "READY"
    front.handle("CYCL:STAR")
    assert errors(front) == ['-221,"Settings conflict"']
    front.handle("SPIN:SPE 30.0")
    front.handle("CYCL:STAR")
    assert errors(front) == ['22,"Interlock active;BLADE"']
    front.handle("BLAD:SET")
    assert front.handle("SYST:STAT?") == "SETUP"
    front.handle("CYCL:STAR")
    assert errors(front) == ['21,"Busy;SETUP"']
    advance(front, 46.0)
    front.handle("CYCL:STAR")
    assert errors(front) == []
    front.handle("BLAD:CHAN")
    assert errors(front) == ['20,"Not allowed in state;RUNNING"']
    advance(front, 300.0)
    assert front.handle("SYST:STAT?") == "DONE"
    assert front.handle("RES:DATA? 1,20") is None
    assert errors(front) == ['-222,"Data out of range"']
    page = front.handle("RES:DATA?")
    assert page is not None and len(page.split(";")) == 16


def test_dicing_saw_front_refuses_messages_over_1100_characters(front: DicingSawFront) -> None:
    assert front.handle(f'STR:ID "{"A" * 1100}"') is None
    assert errors(front) == ['-102,"Syntax error"']
    assert front.handle("STR:ID?") == '""'


def test_dicing_saw_front_lists_every_alarm_of_the_table(front: DicingSawFront) -> None:
    codes = [7001, 7002, 7003, 7004, 7101, 7102, 7103, 7104, 7105, 7106, 7107, 7108, 7109, 7201]
    texts = [front.handle(f"ALAR:TEXT? {code}") for code in codes]
    assert texts[6] == '7103,H,"Blade life reached"'
    assert texts[-1] == '7201,W,"Blade life 90 %"'
    assert all(
        text is not None and text.startswith(f"{code},")
        for code, text in zip(codes, texts, strict=True)
    )
    assert front.handle("ALAR:TEXT? 7110") is None
    assert errors(front) == ['-224,"Illegal parameter value"']
