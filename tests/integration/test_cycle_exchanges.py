"""What a cycle costs in exchanges once the line runs (virtual clock): the host does not ask a
tool again what it already knows. Each further strip through a die bonder asks its state five
times, not eight: the station that acknowledged the last cycle itself does not look for a
leftover finished one, the cycle's end state in the results is the one its wait saw, and the
host looks at a cycle when its reported remaining time (whole seconds) has surely run out:
one remaining-time query a cycle, not a look just before the end and a second query."""

from __future__ import annotations

import dataclasses

from packline.simulated_lot import LotRun, run_simulated_lot
from sequences.line_config import load_line_config
from sequences.recipe import RECIPES_DIR, load_recipe
from sequences.route import route_for

DEFAULT = route_for(load_recipe(RECIPES_DIR / "heat-slug-die-equal.yaml"))
DIE_ATTACH = dataclasses.replace(
    DEFAULT, steps=tuple(s for s in DEFAULT.steps if s.tool == "die-bonder"), claims=()
)


def die_attach_lot(strips: int) -> LotRun:
    ids = [f"X-{k:02d}" for k in range(1, strips + 1)]
    return run_simulated_lot(DIE_ATTACH, ids, lot_id="X", config=load_line_config(), seed=3)


def test_a_further_die_bonder_cycle_asks_the_state_five_times_and_the_remaining_time_once() -> None:
    one, four = die_attach_lot(1), die_attach_lot(4)
    assert four.report["dispositions"]["complete"] == ["X-01", "X-02", "X-03", "X-04"]
    state_reads = four.sent["die-bonder", "SYST:STAT?"] - one.sent["die-bonder", "SYST:STAT?"]
    assert state_reads <= 3 * 5, f"{state_reads / 3:.1f} state reads a further cycle"
    progress = (
        four.sent["die-bonder", "CYCLe:PROGress?"] - one.sent["die-bonder", "CYCLe:PROGress?"]
    )
    assert progress == 3, f"{progress / 3:.1f} remaining-time queries a further cycle"
    # Each cycle's results still say how it ended.
    assert {r.outcome.tool_summary["end_state"] for r in four.recorder.steps} == {"DONE"}
