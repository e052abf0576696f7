"""The simulated WB-3 command set (wire-bonder.md §4): reply texts, §4.2 parameters and every
error code with its LASTERR? text, straight through the command layer (no link)."""

from __future__ import annotations

import pytest

from sim.tool_model import Reject, State
from sim.wire_bonder.commands import WireBonderCommands
from tests.unit.test_wire_bonder_model import QUIET, Bench


class Tool:
    """Command text in, reply or catalogue code out, on a manual clock."""

    def __init__(self, **options: object) -> None:
        self.bench = Bench(**{**QUIET, **options})
        self.model = self.bench.model
        self.commands = WireBonderCommands(self.model)

    def __call__(self, text: str) -> str:
        return self.commands.execute(text)

    def code(self, text: str) -> int:
        with pytest.raises(Reject) as refused:
            self.commands.execute(text)
        return refused.value.code

    def idle(self) -> Tool:
        self.bench.until(lambda: self.model.state is State.IDLE, 30)
        return self

    def ready(self, program: str = "A64") -> Tool:
        self.idle()
        assert self(f"PROG {program}") == "OK"
        self.bench.until(lambda: self.model.state is State.READY, 900, 1.0)
        return self

    def done(self) -> Tool:
        self.ready()
        assert self("STRIP LA2403-017") == "OK"
        assert self("MAP 30,0") == "OK"
        assert self("START") == "OK"
        self.bench.until(lambda: self.model.state is State.DONE, 2000)
        return self


def test_wire_bonder_identity_status_and_busy_during_init() -> None:
    tool = Tool()
    assert tool("IDN?") == "IDN=GENERIC,WB-3,WB3-00042,3.4.2"
    assert tool("idn?") == tool("IDN?")  # keywords are case-insensitive
    assert tool("STAT?") == "STAT=INIT,NONE,0,0,0,0"
    assert tool.code("PROG A64") == 21
    assert tool("LASTERR?") == "LASTERR=21,Busy;INIT"
    tool.idle()
    assert tool("STAT?") == "STAT=IDLE,NONE,0,0,0,0"


def test_wire_bonder_program_commands() -> None:
    tool = Tool().idle()
    assert tool("PROG?") == "PROG=,0"
    assert tool("PLIST? 1") == "PLIST=2,A64,B16"
    assert tool("PLIST? 3") == "PLIST=2"
    assert tool.code("PSAVE") == 24
    assert tool.code("PROG C99") == 25
    assert tool.code("PROG bad/name") == 12
    assert tool("PROG B16") == "OK"
    assert tool("STAT?") == "STAT=HEATING,NONE,0,0,0,0"
    assert (tool("PROG?"), tool("SIZE?"), tool("PITCH?")) == (
        "PROG=B16,16",
        "SIZE=8,30",
        "PITCH=5.300,5.300",
    )
    assert tool("PAR LOOP_H,180") == "OK"
    assert tool("PROG?") == "PROG=B16*,16"
    assert tool("PSAVE B16-LOW") == "OK"
    assert tool("PROG?") == "PROG=B16*,16"
    assert tool("PSAVE") == "OK"
    assert tool("PROG?") == "PROG=B16,16"
    assert tool("PLIST? 1") == "PLIST=3,A64,B16,B16-LOW"
    assert tool("UNLOAD") == "OK"
    assert (tool("STAT?"), tool("PROG?"), tool("PAR? WIRES")) == (
        "STAT=IDLE,NONE,0,0,0,0",
        "PROG=,0",
        "PAR=WIRES,0",
    )
    assert tool("UNLOAD") == "OK"  # no-op in IDLE
    assert tool("PROG B16-LOW") == "OK"
    assert tool("PAR? LOOP_H") == "PAR=LOOP_H,180"


def test_wire_bonder_program_storage_holds_32() -> None:
    tool = Tool().idle()
    tool("PROG A64")
    for n in range(30):
        assert tool(f"PSAVE P{n:02d}") == "OK"
    assert tool.code("PSAVE ONE-TOO-MANY") == 28
    assert tool("PSAVE A64") == "OK"  # overwriting is fine
    assert tool("PLIST? 31") == "PLIST=32,P28,P29"


@pytest.mark.parametrize(
    ("name", "default", "low", "high", "inside", "reply"),
    [
        ("WIRE_D", "25", "17", "51", "33.4", "33"),
        ("STAGE_T", "150.0", "74.9", "220.1", "175.26", "175.3"),
        ("B1_FORCE", "25", "9", "101", "40", "40"),
        ("B1_TIME", "15", "4", "51", "10", "10"),
        ("B1_US", "45", "-1", "101", "0", "0"),
        ("B2_FORCE", "60", "19", "151", "150", "150"),
        ("B2_TIME", "20", "4", "51", "50", "50"),
        ("B2_US", "55", "-1", "101", "1e2", "100"),
        ("LOOP_H", "250", "99", "401", "+300", "300"),
        ("FAB_D", "50", "29", "81", "45", "45"),
        ("GAS_FLOW", "0.6", "0.1", "2.1", "1.25", "1.2"),
        ("CONSEC_LIM", "3", "0", "11", "10", "10"),
        ("CAP_LIMIT", "1000000", "99999", "2000001", "2000000", "2000000"),
    ],
)
def test_wire_bonder_parameters_have_manual_ranges_and_decimals(
    name: str, default: str, low: str, high: str, inside: str, reply: str
) -> None:
    tool = Tool().idle()
    assert tool(f"PAR? {name}") == f"PAR={name},{default}"
    assert tool.code(f"PAR {name},{low}") == 13
    assert tool.code(f"PAR {name},{high}") == 13
    assert tool.code(f"PAR {name},abc") == 12
    assert tool(f"par {name.lower()},{inside}") == "OK"
    assert tool(f"PAR? {name}") == f"PAR={name},{reply}"


def test_wire_bonder_enumerations_and_read_only_parameters() -> None:
    tool = Tool().idle()
    assert tool("PAR? WIRE_MAT") == "PAR=WIRE_MAT,AU"
    assert tool("PAR WIRE_MAT,cu") == "OK"
    assert tool("PAR? WIRE_MAT") == "PAR=WIRE_MAT,CU"
    assert tool.code("PAR WIRE_MAT,AG") == 12
    assert tool.code("PAR WIRES,32") == 12
    assert tool.code("PAR? NOPE") == 12
    assert tool.code("PAR STAGE_T") == 12


def test_wire_bonder_reset_restores_defaults_but_keeps_machine_settings() -> None:
    tool = Tool().ready()
    tool("PAR CAP_LIMIT,500000")
    tool("PAR STAGE_T,180")
    tool("SIZE 4,10")
    tool("STRIP X1")
    assert tool("RESET") == "OK"
    assert tool("STAT?") == "STAT=IDLE,NONE,0,0,0,0"
    assert (tool("PROG?"), tool("PAR? STAGE_T"), tool("PAR? CAP_LIMIT")) == (
        "PROG=,0",
        "PAR=STAGE_T,150.0",
        "PAR=CAP_LIMIT,500000",
    )
    assert (tool("SIZE?"), tool("STRIP?"), tool("PITCH?")) == (
        "SIZE=3,10",
        "STRIP=",
        "PITCH=17.300,17.300",
    )


def test_wire_bonder_strip_data_and_map_pieces() -> None:
    tool = Tool().idle()
    assert tool("STRIP LA2403-017") == "OK"
    assert tool("STRIP?") == "STRIP=LA2403-017"
    assert tool.code("STRIP way-too-long-strip-id-21") == 12
    assert tool("STRIP") == "OK" and tool("STRIP?") == "STRIP="
    assert tool("SIZE 8,30") == "OK"
    assert tool("MAP? 1") == "MAP=1," + "1" * 200
    assert tool("MAP? 201") == "MAP=201," + "1" * 40
    assert tool("MAP 201," + "0" * 40) == "OK"
    assert tool("MAP 5,00") == "OK"
    assert tool("MAP? 1") == "MAP=1,1111" + "00" + "1" * 194
    assert tool.code("MAP 1," + "1" * 201) == 12
    assert tool.code("MAP 1,12") == 12
    assert tool.code("MAP 240,11") == 26
    assert tool.code("MAP? 241") == 13
    assert tool("SIZE 3,10") == "OK"
    assert tool("MAP? 1") == "MAP=1," + "1" * 30  # a size change resets the map
    assert tool.code("SIZE 33,10") == 13
    assert tool.code("SIZE 32,33") == 13
    assert tool.code("PITCH 0.5,5") == 13
    assert tool("PITCH 5.3,5.3004") == "OK"
    assert tool("PITCH?") == "PITCH=5.300,5.300"


def test_wire_bonder_cycle_results_queries() -> None:
    tool = Tool()
    tool.idle()
    assert (tool.code("RSUM?"), tool.code("RES? 1"), tool.code("RMAP? 1")) == (27, 27, 27)
    assert tool("RCNT?") == "RCNT=0"
    tool.done()
    assert tool("STAT?") == "STAT=DONE,NONE,0,29,29,0"
    summary = tool("RSUM?").split(",")
    assert summary[:6] == ["RSUM=LA2403-017", "30", "29", "0", "1", "0"]
    assert float(summary[6]) == pytest.approx(29 * (64 * 0.08 + 1.5) + 17, rel=0.02)
    assert summary[7] == str(29 * 64)
    assert tool("RCNT?") == "RCNT=30"
    assert tool("RMAP? 1") == "RMAP=1," + "P" * 29 + "X"
    assert tool("RMAP? 30") == "RMAP=30,X"
    records = tool("RES? 28,4").removeprefix("RES=").split(";")
    assert len(records) == 3 and records[2] == "30,X,0,,,,,,"
    assert records[0].startswith("28,P,0,64,64,0,0,")
    assert tool("RES? 1").count(";") == 0
    assert (
        tool.code("RES? 1,5"),
        tool.code("RES? 1,0"),
        tool.code("RES? 31"),
        tool.code("RMAP? 31"),
    ) == (13, 13, 13, 13)
    assert tool.code("RES? 1,2,3") == 12
    assert tool.code("START") == 20
    assert tool("LASTERR?") == "LASTERR=20,Not allowed in state;DONE"
    assert tool("ACK") == "OK"
    assert (tool("STAT?"), tool("STRIP?"), tool("MAP? 1")) == (
        "STAT=READY,NONE,0,0,0,0",
        "STRIP=",
        "MAP=1," + "1" * 30,
    )
    assert tool("RCNT?") == "RCNT=30"  # results stay readable until the next START


def test_wire_bonder_status_reports_phase_site_and_counts_during_a_cycle() -> None:
    tool = Tool().ready()
    tool("START")
    assert tool("STAT?") == "STAT=RUNNING,LOAD,0,0,30,0"
    tool.bench.advance(12.0 + 3 * (64 * 0.08 + 1.5) + 1.0)
    assert tool("STAT?") == "STAT=RUNNING,BOND,4,3,30,0"
    assert tool("PAUSE") == "OK"
    assert tool("PAUSE") == "OK"  # no-op in PAUSED
    assert tool("STAT?").startswith("STAT=PAUSED,BOND,4,3,30")
    tool.bench.advance(10.0)
    assert tool("STAT?") == "STAT=PAUSED,BOND,4,4,30,0"
    assert (tool.code("PAR STAGE_T,160"), tool.code("ACK"), tool("CAPRESET")) == (20, 20, "OK")
    assert tool("RESUME") == "OK"
    tool.bench.advance(3.0)  # unit 5: index done, wires under way
    assert tool.code("CAPRESET") == 20  # RUNNING
    assert tool("ABORT") == "OK"
    assert tool("STAT?") == "STAT=ABORTED,NONE,0,5,30,0"


def test_wire_bonder_temperature_consumables_and_capillary_reset() -> None:
    tool = Tool(capillary_bonds=950_000, wire_m=42.04).idle()
    assert tool("TEMP?") == "TEMP=25.0,150.0"
    assert tool("CONS?") == "CONS=950000,1000000,42.0"
    assert tool("ALM?") == "ALM=2,3201,3202"
    assert tool("ALMTXT? 3201") == "ALMTXT=3201,W,Capillary life 90 %"
    assert tool("ALMTXT? 3110") == "ALMTXT=3110,A,Strip fiducial not found"
    assert (tool.code("ALMTXT? 3999"), tool.code("ALMTXT? x")) == (12, 12)
    assert tool("CAPRESET") == "OK"
    assert tool("ALMCLR") == "OK"
    assert (tool("CONS?"), tool("ALM?")) == ("CONS=0,1000000,42.0", "ALM=1,3202")


def test_wire_bonder_alarm_and_interlock_rejections_carry_details() -> None:
    tool = Tool().ready()
    tool.model.set_condition("DOOR", True)
    assert tool.code("START") == 22
    assert tool("LASTERR?") == "LASTERR=22,Interlock active;DOOR"
    tool.model.set_condition("ESTOP", True)
    assert tool("STAT?") == "STAT=ALARM,NONE,0,0,0,1"
    assert tool.code("START") == 23
    assert tool("LASTERR?") == "LASTERR=23,Alarm active;3001"
    assert tool.code("ABORT") == 23  # no active cycle
    assert tool("CAPRESET") == "OK"  # allowed in ALARM
    tool.bench.advance(120.0)  # the heater is off while the E-stop is pressed
    tool.model.set_condition("ESTOP", False)
    tool("ALMCLR")
    assert tool("STAT?").startswith("STAT=HEATING")


def test_wire_bonder_syntax_and_unknown_commands() -> None:
    tool = Tool().idle()
    assert tool.code("FLY") == 10
    assert tool("LASTERR?") == "LASTERR=10,Unknown command"
    assert tool.code("") == 11
    assert tool.code(" STAT?") == 11
    assert tool.code("ST4T?") == 11
    assert tool.code("START 1") == 12
    assert tool.code("STAT? 1") == 12
    assert tool.code("PLIST?") == 12
    assert tool.code("PLIST? 0") == 13
    assert tool("LASTERR?") == "LASTERR=13,Out of range"  # details only for codes 20-23
