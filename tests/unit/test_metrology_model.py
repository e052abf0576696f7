"""Simulated MS-3 behind its line front, without a transport: a manual sim clock, exact reply
lines, timing from metrology.md §8, and measurements of what the world holds."""

from __future__ import annotations

import statistics

import pytest

from sim.fronts.line_ascii import LineAsciiFront
from sim.metrology.commands import metrology_commands
from sim.metrology.model import MetrologyModel
from sim.world import SiteState, StripState, World
from tests.support.hand_clock import HandClock


class Station:
    """A simulated MS-3 driven line by line, as a host would over §2. ``values``: its world
    holds strip S1 (3 x 10) with them on every site."""

    def __init__(self, *, seed: int = 1, **values: object) -> None:
        self.clock = HandClock()
        self.world = World()
        if values:
            strip(self.world, **values)
        self.model = MetrologyModel(self.clock, self.world, seed=seed)
        self.front = LineAsciiFront(self.model, metrology_commands(self.model))

    def send(self, line: str) -> list[str]:
        return self.front.handle(line.encode("ascii"))

    def ask(self, line: str) -> str:
        """The single reply line of a command or query."""
        (reply,) = self.send(line)
        return reply

    def wait(self, seconds: float) -> None:
        self.clock.t += seconds
        self.model.sync()

    def idle(self) -> Station:
        """Past the 15 s of INIT."""
        self.wait(15.0)
        return self

    def ready(self, recipe: str = "A-BALL") -> Station:
        """Power-up, LOAD and a passed CAL."""
        self.idle()
        assert self.ask(f"LOAD {recipe}") == "OK"
        self.calibrate()
        assert self.ask("ST?").startswith("OK READY")
        return self

    def calibrate(self) -> None:
        """CAL and its 20 s (§8)."""
        assert self.ask("CAL") == "OK"
        self.wait(20.0)

    def run(self, strip_id: str, input_map: str | None = None, for_s: float = 0.0) -> None:
        """STRIP, MAP and RUN, then ``for_s`` of the cycle."""
        assert self.ask(f"STRIP {strip_id}") == "OK"
        if input_map is not None:
            assert self.ask(f"MAP {input_map}") == "OK"
        assert self.ask("RUN") == "OK"
        self.wait(for_s)

    def records(self) -> list[list[str]]:
        lines = self.send("RD 1,1024")
        assert lines[-1] == f"OK {len(lines) - 1}"
        return [line[2:].split(",") for line in lines[:-1]]


def strip(
    world: World, strip_id: str = "S1", rows: int = 3, cols: int = 10, /, **values: object
) -> StripState:
    """A strip whose every site has ``values`` (SiteState fields)."""
    state = world.strip(strip_id, rows, cols)
    for site in state.sites.values():
        for name, value in values.items():
            setattr(site, name, value)
    return state


#: A site that went through every step of both routes (all values in the pass windows).
BUILT = {
    "die_dx_um": 1.0,
    "die_dy_um": -1.0,
    "die_dtheta_deg": 0.05,
    "slug_protrusion_um": 230.0,
    "pad_exposure_pct": 99.0,
    "residual_cu_um": 0.0,
    "ball_height_mean_um": 400.0,
    "ball_height_min_um": 390.0,
    "coplanarity_um": 60.0,
    "via_depth_um": 25.0,
    "via_depth_min_um": 24.0,
    "residual_pi_um": 0.1,
    "package_thickness_um": 300.0,
    "warp_um": 20.0,
}
#: A site after ball attach: the balls of BUILT, its slug 225 µm out.
BALLED = {k: BUILT[k] for k in ("ball_height_mean_um", "ball_height_min_um", "coplanarity_um")}
BALLED["slug_protrusion_um"] = 225.0


# -- states, calibration, interlocks -----------------------------------------------------------------
def test_metrology_inits_for_15_s_and_refuses_commands_meanwhile() -> None:
    station = Station()
    assert station.ask("ST?") == "OK INIT,SLUG,NONE,0,0"
    assert station.ask("LOAD A-BALL") == "ER 21,Busy;INIT"
    assert station.ask("ID?") == "OK GENERIC,MS-3,MS3-00057,1.8.0"
    station.wait(14.9)
    assert station.ask("ST?").startswith("OK INIT")
    station.wait(0.2)
    assert station.ask("ST?") == "OK IDLE,SLUG,NONE,0,0"


def test_metrology_load_goes_directly_from_idle_to_ready_without_heating() -> None:
    station = Station().idle()
    assert station.ask("LOAD A-BALL") == "OK"
    assert station.ask("ST?") == "OK READY,BALL,NONE,0,0"
    assert station.ask("NAME?") == "OK A-BALL"
    assert station.ask("UNLOAD") == "OK"
    assert station.ask("ST?") == "OK IDLE,BALL,NONE,0,0"
    assert station.ask("NAME?") == "OK"


def test_metrology_calibration_is_lost_at_power_up_and_interlocks_run() -> None:
    station = Station().idle()
    station.ask("LOAD A-BALL")
    assert station.ask("CAL?") == "OK NONE,,"
    assert station.ask("RUN") == "ER 22,Interlock active;CAL"
    assert station.ask("CAL") == "OK"
    assert station.ask("ST?") == "OK SETUP,BALL,NONE,0,0"
    assert station.ask("RUN") == "ER 21,Busy;SETUP"
    station.wait(19.9)
    assert station.ask("ST?").startswith("OK SETUP")
    station.wait(0.2)
    assert station.ask("ST?") == "OK READY,BALL,NONE,0,0"
    result, stamp, hours = station.ask("CAL?")[3:].split(",")
    assert (result, hours) == ("PASS", "0.0")
    assert len(stamp) == 19 and stamp[10] == "T"


def test_metrology_reset_keeps_the_calibration_but_not_the_recipe() -> None:
    station = Station().ready()
    assert station.ask("MODE PKG") == "OK"
    assert station.ask("RST") == "OK"
    assert station.ask("ST?") == "OK IDLE,SLUG,NONE,0,0"
    assert station.ask("CAL?").startswith("OK PASS,")
    station.ask("LOAD A-BALL")
    station.run("S1")
    assert station.ask("ST?").startswith("OK RUNNING")


def test_metrology_warns_calibration_due_after_20_h_and_interlocks_after_24_h() -> None:
    station = Station().ready()
    station.wait(20.5 * 3600)
    assert station.ask("AL?") == "OK 1,9201"
    assert station.ask("ALT? 9201") == "OK 9201,W,Calibration due"
    assert station.ask("ST?").startswith("OK READY")  # a warning changes no state
    assert station.ask("ALC") == "OK"
    assert station.ask("AL?") == "OK 1,9201"  # the cause (old calibration) persists
    station.wait(4 * 3600)
    assert station.ask("CAL?").endswith(",24.5")
    assert station.ask("RUN") == "ER 22,Interlock active;CAL"
    station.calibrate()
    assert station.ask("ALC") == "OK"
    assert station.ask("AL?") == "OK 0"
    station.run("S1")
    assert station.ask("ST?").startswith("OK RUNNING")


def test_metrology_failed_calibration_raises_9101_and_keeps_the_cal_interlock() -> None:
    station = Station().idle()
    station.ask("LOAD A-BALL")
    station.model.set_condition("GAUGE", True)  # dirty reference gauge
    station.calibrate()
    assert station.ask("ST?") == "OK ALARM,BALL,NONE,0,0"
    assert station.ask("AL?") == "OK 1,9101"
    assert station.ask("CAL?").startswith("OK FAIL,")
    assert station.ask("CAL") == "ER 23,Alarm active;9101"
    assert station.ask("ALC") == "OK"
    assert station.ask("ST?") == "OK READY,BALL,NONE,0,0"
    assert station.ask("RUN") == "ER 22,Interlock active;CAL"
    station.model.fix(9101)  # clean the reference gauge, repeat CAL
    station.calibrate()
    assert station.ask("CAL?").startswith("OK PASS,")


def test_metrology_door_and_air_interlock_run_and_cal_in_table_order() -> None:
    station = Station().ready()
    station.model.set_condition("AIR", True)
    station.model.set_condition("DOOR", True)
    assert station.ask("RUN") == "ER 22,Interlock active;DOOR"
    assert station.ask("CAL") == "ER 22,Interlock active;DOOR"
    station.model.set_condition("DOOR", False)
    assert station.ask("RUN") == "ER 22,Interlock active;AIR"
    assert station.ask("AL?") == "OK 0"  # interlocks outside a cycle raise no alarm


def test_metrology_vacuum_low_at_load_holds_the_cycle_with_9003() -> None:
    station = Station(**BALLED).ready()
    station.model.set_condition("VACUUM", True)
    station.run("S1", for_s=6.0)
    assert station.ask("ST?") == "OK ALARM,BALL,LOAD,0,30"
    assert station.ask("RESUME") == "ER 23,Alarm active;9003"
    station.model.fix(9003)  # strip reseated
    station.ask("ALC")
    assert station.ask("ST?") == "OK PAUSED,BALL,LOAD,0,30"
    assert station.ask("RESUME") == "OK"
    station.wait(100.0)
    assert station.ask("ST?") == "OK DONE,BALL,NONE,30,30"


def test_metrology_emergency_stop_alarms_outside_a_cycle_until_released() -> None:
    station = Station().ready()
    station.model.set_condition("ESTOP", True)
    assert station.ask("ST?") == "OK ALARM,BALL,NONE,0,0"
    assert station.ask("LOAD A-DIE") == "ER 23,Alarm active;9001"
    station.ask("ALC")
    assert station.ask("AL?") == "OK 1,9001"  # still pressed
    station.model.fix(9001)  # released
    station.ask("ALC")
    assert station.ask("ST?") == "OK READY,BALL,NONE,0,0"


def test_metrology_enclosure_temperature_drifts_out_of_range_with_a_warning() -> None:
    station = Station().idle()
    assert station.ask("TEMP?") == "OK 22.0"
    station.model.set_condition("HVAC", True)
    station.wait(3600.0)
    assert float(station.ask("TEMP?")[3:]) > 26.0
    assert station.ask("AL?") == "OK 1,9105"
    station.model.fix(9105)
    station.wait(3600.0)
    station.ask("ALC")
    assert station.ask("AL?") == "OK 0"


# -- parameters ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("mode", "limits"),
    [
        ("DIE", ["DX,-25.0,25.0", "DY,-25.0,25.0", "DT,-0.50,0.50"]),
        ("SLUG", ["SLUG,200.0,260.0", "PADX,95.0,100.0", "RESCU,0.0,1.0"]),
        ("BALL", ["BALLH,350.0,450.0", "COPL,0.0,100.0", "CLEAR,100.0,1000.0", "MISS,0,0"]),
        ("RECESS", ["VIA,23.0,27.0", "AREA,10.0,14.0", "RESID,0.0,0.5"]),
        ("PKG", ["THK,270.0,330.0", "WARP,0.0,50.0", "PADP,5.0,50.0"]),
    ],
)
def test_metrology_mode_sets_the_default_limits_of_the_manual(mode: str, limits: list[str]) -> None:
    station = Station().idle()
    assert station.ask(f"MODE {mode.lower()}") == "OK"
    assert station.ask("MODE?") == f"OK {mode}"
    for limit in limits:
        assert station.ask(f"LIM? {limit.split(',')[0]}") == f"OK {limit}"


def test_metrology_mode_change_resets_edited_limits() -> None:
    station = Station().idle()
    station.ask("MODE BALL")
    assert station.ask("LIM COPL,0,80.04") == "OK"
    assert station.ask("LIM? COPL") == "OK COPL,0.0,80.0"
    station.ask("MODE BALL")
    assert station.ask("LIM? COPL") == "OK COPL,0.0,100.0"


def test_metrology_lim_rules_item_of_mode_order_and_range() -> None:
    station = Station().idle()
    assert station.ask("LIM COPL,0,100") == "ER 12,Bad parameter"  # manual §7: MODE SLUG
    station.ask("MODE BALL")
    assert station.ask("LIM COPL,100,0") == "ER 14,Settings conflict"  # manual §7
    assert station.ask("LIM COPL,0,5000.1") == "ER 13,Out of range"
    assert station.ask("LIM COPL,zero,100") == "ER 12,Bad parameter"
    assert station.ask("LIM COPL,0") == "ER 12,Bad parameter"
    assert station.ask("LIM? SLUG") == "ER 12,Bad parameter"
    assert station.ask("LIM MISS,1,2.4") == "OK"
    assert station.ask("LIM? MISS") == "OK MISS,1,2"
    assert station.ask("LIM COPL,-5000,5000") == "OK"


def test_metrology_strip_data_size_pitch_and_map() -> None:
    station = Station().idle()
    assert station.ask("SIZE?") == "OK 3,10"
    assert station.ask("PITCH?") == "OK 17.300,17.300"
    assert station.ask("STRIP?") == "OK"
    assert station.ask("STRIP LA2403-017") == "OK"
    assert station.ask("STRIP?") == "OK LA2403-017"
    assert station.ask("STRIP LA/2403") == "ER 12,Bad parameter"
    assert station.ask("MAP 1101") == "ER 26,Map length mismatch"
    assert station.ask("MAP " + "2" * 30) == "ER 12,Bad parameter"
    assert station.ask("SIZE 8,30") == "OK"
    assert station.ask("MAP?") == "OK " + "1" * 240
    assert station.ask("SIZE 33,10") == "ER 13,Out of range"
    assert station.ask("SIZE 32,64") == "ER 13,Out of range"
    assert station.ask("PITCH 5.3,5.3") == "OK"
    assert station.ask("PITCH?") == "OK 5.300,5.300"
    assert station.ask("PITCH 0.5,5.3") == "ER 13,Out of range"


def test_metrology_recipes_save_list_delete_and_storage_full() -> None:
    station = Station().idle()
    assert station.ask("LIST? 1") == "OK 7,A-BALL,A-DIE,A-PKG,A-SLUG,B-DIE,B-PKG,B-RECESS"
    station.ask("LOAD B-RECESS")
    assert station.ask("SIZE?") == "OK 8,30"
    station.ask("LIM VIA,24,26")
    assert station.ask("NAME?") == "OK B-RECESS*"
    assert station.ask("SAVE B-VIA") == "OK"
    for k in range(24):
        assert station.ask(f"SAVE R{k:02d}") == "OK"
    assert station.ask("SAVE ONE-TOO-MANY") == "ER 28,Storage full"
    assert station.ask("LIST? 31") == "OK 32,R22,R23"
    assert station.ask("LIST? 40") == "OK 32"
    assert station.ask("DEL R00") == "OK"
    assert station.ask("DEL R00") == "ER 25,Recipe not found"
    assert station.ask("LOAD NOPE") == "ER 25,Recipe not found"
    station.ask("LOAD B-VIA")
    assert station.ask("LIM? VIA") == "OK VIA,24.0,26.0"


# -- the line rules of §2 ------------------------------------------------------------------------------
def test_metrology_line_front_error_rules() -> None:
    station = Station().idle()
    assert station.ask("FOO") == "ER 10,Unknown command"
    assert station.ask("") == "ER 11,Syntax error"
    assert station.ask("   ") == "ER 11,Syntax error"
    assert station.front.handle(b"ST\x01?") == ["ER 11,Syntax error"]
    assert station.front.handle("ST\u00e9?".encode("latin-1")) == ["ER 11,Syntax error"]
    assert station.front.handle(b"ID? " + b"x" * 1100) == ["ER 11,Syntax error"]
    assert station.ask("ST? 1") == "ER 12,Bad parameter"
    assert station.ask("RUN now") == "ER 12,Bad parameter"
    assert station.ask("st?") == "OK IDLE,SLUG,NONE,0,0"
    assert station.front.handle(b"\nID?\n") == ["OK GENERIC,MS-3,MS3-00057,1.8.0"]


def test_metrology_alarm_text_of_every_code_and_12_for_others() -> None:
    station = Station()
    expected = {
        9001: "A,Emergency stop",
        9002: "H,Cover opened during cycle",
        9003: "H,Stage vacuum low",
        9004: "H,Compressed air low",
        9101: "H,Calibration failed",
        9102: "H,Sensor signal low",
        9103: "A,Alignment failed",
        9104: "A,Stage motion fault",
        9105: "W,Enclosure temperature out of range",
        9201: "W,Calibration due",
    }
    for code, text in expected.items():
        assert station.ask(f"ALT? {code}") == f"OK {code},{text}"
    assert station.ask("ALT? 9005") == "ER 12,Bad parameter"
    assert station.ask("ALT? x") == "ER 12,Bad parameter"


# -- cycle timing (§8) -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("recipe", "sites", "cycle_s"),
    [
        ("A-BALL", 30, 91.0),
        ("B-RECESS", 240, 208.0),
        ("A-DIE", 30, 34.0),
        ("A-SLUG", 30, 52.0),
        ("A-PKG", 30, 31.0),
    ],
)
def test_metrology_cycle_time_is_16_s_plus_the_per_site_time(
    recipe: str, sites: int, cycle_s: float
) -> None:
    station = Station()
    strip(station.world, "A1", 3, 10, **BUILT)
    strip(station.world, "B1", 8, 30, **BUILT)
    station.ready(recipe)
    station.run(recipe[0] + "1", for_s=cycle_s - 0.1)
    assert station.ask("ST?").startswith("OK RUNNING")
    station.wait(0.2)
    mode = recipe.split("-")[1]
    assert station.ask("ST?") == f"OK DONE,{mode},NONE,{sites},{sites}"
    assert station.ask("RSUM?") == f"OK {recipe[0]}1,{sites},{sites},0,0,0,{cycle_s:.1f},{mode}"


def test_metrology_format_a_ball_strip_takes_91_s_and_reports_progress() -> None:
    station = Station(**BALLED).ready("A-BALL")
    station.run("S1", for_s=16.0 + 2.5 * 12 - 6.0 + 0.1)  # LOAD + ALIGN + 12 sites
    assert station.ask("ST?") == "OK RUNNING,BALL,MEASURE,12,30"
    assert station.ask("PROG?") == "OK 12,30,40,50"
    station.wait(51.0)
    assert station.ask("ST?") == "OK DONE,BALL,NONE,30,30"
    assert station.ask("PROG?") == "OK 30,30,91,0"
    assert station.ask("RSUM?") == "OK S1,30,30,0,0,0,91.0,BALL"
    station.ask("ACK")
    assert station.ask("PROG?") == "OK 0,0,0,0"
    assert station.ask("ST?") == "OK READY,BALL,NONE,0,0"
    assert station.ask("STRIP?") == "OK"


def test_metrology_skipped_sites_take_no_time_as_in_the_manual_example() -> None:
    station = Station()
    strip(station.world, "LA2403-017", **BALLED)
    station.ready("A-BALL")
    station.run("LA2403-017", "1" * 29 + "0", for_s=88.5)
    assert station.ask("RSUM?") == "OK LA2403-017,30,29,0,1,0,88.5,BALL"


def test_metrology_pause_takes_effect_at_the_end_of_the_current_site() -> None:
    station = Station(**BALLED).ready("A-BALL")
    station.run("S1", for_s=10.0 + 2.5 * 4 + 1.0)  # inside site 5
    assert station.ask("PAUSE") == "OK"
    station.wait(30.0)
    assert station.ask("ST?") == "OK PAUSED,BALL,MEASURE,5,30"
    assert station.ask("RESUME") == "OK"
    station.wait(70.0)
    assert station.ask("ST?") == "OK DONE,BALL,NONE,30,30"


def test_metrology_abort_marks_the_site_in_progress_and_the_rest_n() -> None:
    station = Station(**BALLED).ready("A-BALL")
    station.run("S1", for_s=10.0 + 2.5 * 3 + 1.0)
    assert station.ask("ABORT") == "OK"
    assert station.ask("ST?") == "OK ABORTED,BALL,NONE,3,30"
    assert station.ask("RMAP?") == "OK PPP" + "N" * 27
    assert station.send("RD 4,1") == ["D 4,N,0,,,,,,", "OK 1"]


# -- results: RD, RSTAT? ---------------------------------------------------------------------------------
def test_metrology_rd_pages_up_to_1024_records() -> None:
    station = Station()
    strip(station.world, "BIG", 32, 32, package_thickness_um=300.0, warp_um=10.0)
    station.ready("A-PKG")
    assert station.ask("SIZE 32,32") == "OK"
    station.run("BIG", for_s=16.0 + 1024 * 0.5)
    assert station.ask("ST?") == "OK DONE,PKG,NONE,1024,1024"
    assert station.ask("RC?") == "OK 1024"
    lines = station.send("RD 1,1024")
    assert len(lines) == 1025 and lines[-1] == "OK 1024"
    assert lines[0].startswith("D 1,P,0,") and lines[1023].startswith("D 1024,P,0,")
    assert station.send("RD 1000,100")[-1] == "OK 25"
    assert station.ask("RD 1,1025") == "ER 13,Out of range"
    assert station.ask("RD 1025,1") == "ER 13,Out of range"
    assert station.ask("RD 0,1") == "ER 13,Out of range"
    assert station.ask("RD a,1") == "ER 12,Bad parameter"


def test_metrology_no_results_before_the_first_cycle() -> None:
    station = Station().idle()
    assert station.ask("RC?") == "OK 0"
    for query in ("RD 1,1", "RMAP?", "RSUM?", "RSTAT? SLUG"):
        assert station.ask(query) == "ER 27,No results available"


def test_metrology_rstat_summarises_the_measured_sites_of_an_item() -> None:
    station = Station()
    state = strip(station.world, **BALLED)
    for site in (5, 6, 7):
        state.sites[site].slug_protrusion_um = None  # no slug: CLEAR not measured there
    station.ready("A-BALL")
    station.run("S1", "0" + "1" * 29, for_s=100.0)
    records = station.records()
    copl = [float(r[5]) for r in records if r[1] in "PF"]
    mean, std = statistics.fmean(copl), statistics.stdev(copl)
    expected = f"OK COPL,29,{mean:.1f},{std:.1f},{min(copl):.1f},{max(copl):.1f}"
    assert station.ask("RSTAT? COPL") == expected
    assert station.ask("RSTAT? CLEAR").startswith("OK CLEAR,26,")
    assert station.ask("RSTAT? MISS") == "OK MISS,29,0,0,0,0"
    assert station.ask("RSTAT? VIA") == "ER 12,Bad parameter"
    assert station.ask("RSTAT? FOO") == "ER 12,Bad parameter"


def test_metrology_rstat_with_no_measured_site_is_empty() -> None:
    station = Station().ready("A-SLUG")
    station.run("S1", "1" + "0" * 29, for_s=30.0)
    assert station.ask("RMAP?") == "OK F" + "X" * 29
    assert station.ask("RSTAT? SLUG") == "OK SLUG,0,,,,"


# -- measurements of the world -------------------------------------------------------------------------
def test_metrology_measures_only_what_the_world_holds() -> None:
    station = Station()
    state = strip(station.world, **BALLED)
    state.sites[4] = SiteState()  # no balls: not measurable
    station.ready("A-BALL")
    station.run("S1", for_s=100.0)
    records = station.records()
    assert records[3] == ["4", "F", "9515", "", "", "", "", "", ""]
    for record in records[:3]:
        mean, low, copl, slug, clear, missing = (float(v) for v in record[3:])
        assert abs(mean - 400.0) < 5 and abs(low - 390.0) < 7.5 and abs(copl - 60.0) < 7.5
        assert (
            abs(slug - 225.0) < 5 and clear == pytest.approx(low - slug, abs=0.051) and missing == 0
        )
    assert state.sites[4].defects == {"metrology": 9515}


def test_metrology_ball_sites_without_slug_leave_slug_and_clear_empty_and_unjudged() -> None:
    low = {"slug_protrusion_um": None, "ball_height_min_um": 80.0, "ball_height_mean_um": 380.0}
    station = Station(**(BALLED | low)).ready("A-BALL")
    station.run("S1", "1" + "0" * 29, for_s=30.0)
    record = station.records()[0]
    assert record[1:3] == ["P", "0"] and record[6:8] == ["", ""]


def test_metrology_under_etched_strip_fails_pad_exposure_and_residual_copper() -> None:
    station = Station()
    state = strip(
        station.world, slug_protrusion_um=230.0, pad_exposure_pct=99.5, residual_cu_um=0.0
    )
    for site in (2, 3):
        state.sites[site].residual_cu_um = 6.0  # copper left on the pads ...
        state.sites[site].pad_exposure_pct = 60.0  # ... so the pads are only partly exposed
    state.sites[4].residual_cu_um = 3.0  # copper left, pads still exposed
    station.ready("A-SLUG")
    station.run("S1", "11110" + "0" * 25, for_s=30.0)
    records = [r[:3] for r in station.records()[:4]]
    assert records == [["1", "P", "0"], ["2", "F", "9504"], ["3", "F", "9504"], ["4", "F", "9505"]]


def test_metrology_unknown_strip_makes_every_site_9515_and_holds_with_9102_after_three() -> None:
    station = Station().ready("A-SLUG")
    station.run("NEVER-SEEN", for_s=10.0 + 1.2 * 3 + 0.1)
    assert station.ask("ST?") == "OK ALARM,SLUG,MEASURE,3,30"
    assert station.ask("AL?") == "OK 1,9102"
    assert station.ask("RMAP?") == "OK FFF" + "N" * 27
    assert station.send("RD 1,1") == ["D 1,F,9515,,,", "OK 1"]
    station.ask("ALC")  # an event alarm: goes with the first clear
    assert station.ask("ST?") == "OK PAUSED,SLUG,MEASURE,3,30"
    assert station.ask("ABORT") == "OK"
    assert station.ask("RSUM?") == "OK NEVER-SEEN,30,0,3,0,27,13.7,SLUG"


def test_metrology_measurements_repeat_with_the_same_seed() -> None:
    def measured(seed: int) -> list[list[str]]:
        station = Station(seed=seed, die_dx_um=3.0, die_dy_um=-4.0, die_dtheta_deg=0.1).ready(
            "A-DIE"
        )
        station.run("S1", for_s=40.0)
        return station.records()

    assert measured(3) == measured(3)
    assert measured(3) != measured(4)


@pytest.mark.parametrize(
    ("recipe", "bad", "defect"),
    [
        ("A-DIE", {"die_dy_um": -30.0}, 9501),
        ("A-DIE", {"die_dtheta_deg": -0.7}, 9502),
        ("A-SLUG", {"slug_protrusion_um": 275.0}, 9503),
        ("A-SLUG", {"pad_exposure_pct": 80.0}, 9504),
        ("A-SLUG", {"residual_cu_um": 2.0}, 9505),
        ("A-BALL", {"ball_height_mean_um": 330.0, "ball_height_min_um": 325.0}, 9506),
        ("A-BALL", {"coplanarity_um": 130.0}, 9507),
        ("A-BALL", {"slug_protrusion_um": 320.0}, 9508),
        ("A-BALL", {"balls_missing": 2}, 9509),
        ("B-RECESS", {"via_depth_um": 29.0, "via_depth_min_um": 28.0}, 9510),
        ("B-RECESS", {"area_recess_depth_um": 16.0}, 9511),
        ("B-RECESS", {"residual_pi_um": 1.5}, 9512),
        ("A-PKG", {"package_thickness_um": 350.0}, 9513),
        ("A-PKG", {"warp_um": 75.0}, 9514),
        ("A-PKG", {"die_dx_um": None, "package_thickness_um": None}, 9515),
        ("A-PKG", {"pad_protrusion_um": 2.0}, 9516),
    ],
)
def test_metrology_each_defect_code_from_an_out_of_limit_world_value(
    recipe: str, bad: dict[str, object], defect: int
) -> None:
    station = Station()
    strip(station.world, "A1", 3, 10, **BUILT)
    strip(station.world, "B1", 8, 30, **BUILT)
    built = station.world.get(recipe[0] + "1")
    assert built is not None
    for name, value in bad.items():
        setattr(built.sites[2], name, value)
    station.ready(recipe)
    station.run(recipe[0] + "1", "11" + "0" * (built.rows * built.cols - 2), for_s=30.0)
    assert [r[:3] for r in station.records()[:2]] == [["1", "P", "0"], ["2", "F", str(defect)]]


def test_metrology_state_matrix_refusals_carry_the_state() -> None:
    station = Station(**BALLED).idle()
    assert station.ask("RUN") == "ER 24,No recipe loaded"
    assert station.ask("ACK") == "ER 20,Not allowed in state;IDLE"
    station.ready("A-BALL")
    assert station.ask("PAUSE") == "ER 20,Not allowed in state;READY"
    station.run("S1")
    assert station.ask("MODE DIE") == "ER 20,Not allowed in state;RUNNING"
    assert station.ask("CAL") == "ER 20,Not allowed in state;RUNNING"
    assert station.ask("RST") == "ER 20,Not allowed in state;RUNNING"
    assert station.ask("RESUME") == "OK"  # nop while running
    station.wait(100.0)
    assert station.ask("LOAD A-DIE") == "ER 20,Not allowed in state;DONE"
    assert station.ask("ABORT") == "ER 20,Not allowed in state;DONE"
    assert station.ask("ACK") == "OK"


def test_metrology_air_low_during_a_cycle_holds_with_9004_until_restored() -> None:
    station = Station(**BALLED).ready("A-BALL")
    station.run("S1", for_s=12.0)  # measuring site 1
    station.model.set_condition("AIR", True)
    station.wait(5.0)
    assert station.ask("ST?") == "OK ALARM,BALL,MEASURE,1,30"
    station.ask("ALC")
    assert station.ask("AL?") == "OK 1,9004"
    station.model.fix(9004)
    station.ask("ALC")
    assert station.ask("RESUME") == "OK"
    station.wait(100.0)
    assert station.ask("RMAP?") == "OK " + "P" * 30


# -- audit against metrology.md (s9) ---------------------------------------------------------
def test_metrology_rstat_of_a_centred_item_never_reports_negative_zero() -> None:
    """README §3: replies use a leading ``-`` for negatives only; a mean that rounds to zero
    from below (a die offset centred on 0) is ``0.0``, not ``-0.0``."""
    station = Station(seed=2, die_dx_um=0.0, die_dy_um=0.0, die_dtheta_deg=0.0).ready("A-DIE")
    station.run("S1", for_s=40.0)
    for item in ("DX", "DY", "DT"):
        fields = station.ask(f"RSTAT? {item}").split(",")[2:]
        assert len(fields) == 4
        assert not any(float(f) == 0.0 and f.startswith("-") for f in fields), (item, fields)


def test_metrology_emergency_stop_mid_site_leaves_that_site_and_the_rest_n() -> None:
    """§3: an A-class alarm stops motion at once; the site in progress and the remaining
    sites are N; after release and ALC the cycle is ABORTED with the time it stopped at."""
    station = Station(**BALLED).ready("A-BALL")
    station.run("S1", for_s=10.0 + 2.5 * 4 + 1.0)  # inside site 5
    station.model.set_condition("ESTOP", True)
    station.wait(30.0)  # motion stopped: no further site is measured
    assert station.ask("ST?") == "OK ALARM,BALL,MEASURE,4,30"
    assert station.ask("RMAP?") == "OK PPPP" + "N" * 26
    assert station.ask("ABORT") == "OK"  # a cycle is active in ALARM: accepted
    station.ask("ALC")
    assert station.ask("ST?") == "OK ALARM,BALL,MEASURE,4,30"  # still pressed
    station.model.fix(9001)
    station.ask("ALC")
    assert station.ask("ST?") == "OK ABORTED,BALL,NONE,4,30"
    assert station.ask("RSUM?") == "OK S1,30,4,0,0,26,21.0,BALL"
    assert station.send("RD 5,1") == ["D 5,N,0,,,,,,", "OK 1"]


def test_metrology_alignment_failure_leaves_every_site_n() -> None:
    """§6 9103 (A): strip fiducials not found during ALIGN; all sites N, ABORTED after ALC."""
    station = Station(**BALLED).ready("A-BALL")
    station.run("S1", "1" * 29 + "0", for_s=8.0)
    assert station.ask("ST?") == "OK RUNNING,BALL,ALIGN,0,29"
    station.model.raise_alarm(9103)
    station.wait(100.0)
    assert station.ask("ST?") == "OK ALARM,BALL,ALIGN,0,29"
    station.ask("ALC")  # an event: goes with the first clear
    assert station.ask("ST?") == "OK ABORTED,BALL,NONE,0,29"
    assert station.ask("RMAP?") == "OK " + "N" * 29 + "X"


def test_metrology_vacuum_low_mid_site_holds_after_that_site_as_in_the_manual_example() -> None:
    """§9 second example, §3: the H alarm shows at once but takes effect at the end of the site;
    RESUME is refused with 23 until the strip is reseated and ALC leaves PAUSED."""
    station = Station()
    strip(station.world, "LA2403-017", **BALLED)
    station.ready("A-BALL")
    station.run("LA2403-017", "1" * 29 + "0", for_s=10.0 + 2.5 * 6 + 1.0)  # inside site 7
    station.model.set_condition("VACUUM", True)
    assert station.ask("ST?") == "OK ALARM,BALL,MEASURE,6,29"
    station.wait(60.0)
    assert station.ask("ST?") == "OK ALARM,BALL,MEASURE,7,29"  # site 7 ended, nothing more
    assert station.ask("AL?") == "OK 1,9003"
    assert station.ask("RESUME") == "ER 23,Alarm active;9003"
    station.model.fix(9003)  # strip reseated
    assert station.ask("ALC") == "OK"
    assert station.ask("ST?") == "OK PAUSED,BALL,MEASURE,7,29"
    assert station.ask("RESUME") == "OK"
    station.wait(100.0)
    assert station.ask("RSUM?").startswith("OK LA2403-017,30,29,0,1,0,")


def test_metrology_calibration_due_after_20_h_and_run_blocked_after_24_h_not_before() -> None:
    """§6: 9201 when the last passed CAL is over 20 h old, interlock CAL past 24 h."""
    station = Station(**BALLED).ready("A-BALL")
    station.wait(19.9 * 3600)
    assert station.ask("AL?") == "OK 0"
    station.wait(0.2 * 3600)
    assert station.ask("AL?") == "OK 1,9201"
    station.wait(3.7 * 3600)  # 23.8 h: still within 24 h
    station.run("S1")
    assert station.ask("ST?").startswith("OK RUNNING")
    station.ask("ABORT")
    station.ask("ACK")
    station.wait(0.3 * 3600)  # 24.1 h
    station.ask("STRIP S1")
    assert station.ask("RUN") == "ER 22,Interlock active;CAL"


def test_metrology_cal_interlock_blocks_resume_of_a_cycle_paused_past_24_h() -> None:
    """§6 interlock CAL blocks RESUME as well as RUN; CAL itself is refused in PAUSED (20)."""
    station = Station(**BALLED).ready("A-BALL")
    station.run("S1", for_s=12.0)
    station.ask("PAUSE")
    station.wait(24.5 * 3600)
    assert station.ask("ST?") == "OK PAUSED,BALL,MEASURE,1,30"
    assert station.ask("RESUME") == "ER 22,Interlock active;CAL"
    assert station.ask("CAL") == "ER 20,Not allowed in state;PAUSED"
    assert station.ask("ABORT") == "OK"
    assert station.ask("RMAP?") == "OK P" + "N" * 29


def test_metrology_cal_from_idle_returns_to_idle() -> None:
    """§3 / README §5: SETUP returns to the state it came from."""
    station = Station().idle()
    assert station.ask("CAL") == "OK"
    assert station.ask("ST?") == "OK SETUP,SLUG,NONE,0,0"
    station.wait(20.1)
    assert station.ask("ST?") == "OK IDLE,SLUG,NONE,0,0"
    assert station.ask("CAL?").startswith("OK PASS,")


def test_metrology_reset_neither_clears_alarms_nor_runs_in_alarm() -> None:
    """README §5/§6: RST in ALARM is 23; alarms are not cleared by reset (a warning stays)."""
    station = Station().ready()
    station.model.set_condition("ESTOP", True)
    assert station.ask("RST") == "ER 23,Alarm active;9001"
    station.model.fix(9001)
    station.ask("ALC")
    station.model.set_condition("HVAC", True)
    station.wait(3600.0)
    assert station.ask("AL?") == "OK 1,9105"
    assert station.ask("RST") == "OK"
    assert station.ask("AL?") == "OK 1,9105"
    assert station.ask("ST?") == "OK IDLE,SLUG,NONE,0,0"


def test_metrology_input_map_survives_a_same_size_load_but_not_a_size_change() -> None:
    """README §4: the input map is reset by ACK, reset and a change of strip size only."""
    station = Station().idle()
    station.ask("MAP " + "0" * 29 + "1")
    assert station.ask("LOAD A-PKG") == "OK"  # Format A like the default: map kept
    assert station.ask("MAP?") == "OK " + "0" * 29 + "1"
    assert station.ask("LOAD B-PKG") == "OK"  # 8 x 30: map reset to all 1
    assert station.ask("MAP?") == "OK " + "1" * 240


def test_metrology_failed_calibration_neither_clears_nor_delays_calibration_due() -> None:
    """§6 9201: over 20 h since the last *passed* CAL. A FAIL in between does not restart the
    count (9201 still comes 20 h after the pass), and does not remove a raised 9201 at ALC."""
    station = Station().ready()
    station.wait(10 * 3600)
    station.model.set_condition("GAUGE", True)
    station.calibrate()
    station.ask("ALC")  # 9101 goes with the first clear
    assert station.ask("AL?") == "OK 0"
    station.wait(10.1 * 3600)  # 20.1 h after the pass
    assert station.ask("AL?") == "OK 1,9201"
    station.calibrate()
    assert station.ask("CAL?").startswith("OK FAIL,")
    station.ask("ALC")
    assert station.ask("AL?") == "OK 1,9201"  # still over 20 h since the last pass
    station.model.fix(9101)  # clean the reference gauge
    station.calibrate()
    station.ask("ALC")
    assert station.ask("AL?") == "OK 0"
