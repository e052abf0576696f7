"""The pytest plugin shipped with packline, used the way an engineer's own test file uses it."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_engineer_test_file_needs_only_the_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from drivers.errors import ToolAlarm
        from drivers.mold_press import MoldPress, MoldRecipe
        from drivers.states import ToolState

        @pytest.mark.sim_time_scale(5000)
        def test_press_molds_and_reports_an_injected_alarm(sim_tool):
            press_sim = sim_tool("mold-press")
            with MoldPress.open(press_sim.address) as press:
                assert press.identify().model == "TM-4"
                press.wait_for_state([ToolState.IDLE], timeout_s=5, poll_s=0.01)
                press.arm(MoldRecipe(), strip_ids={1: "X1"})
                press.wait_for_state([ToolState.READY], timeout_s=10, poll_s=0.01)
                press_sim.faults.alarm(4005, phase="LOAD")
                press.start()
                with pytest.raises(ToolAlarm) as info:
                    press.wait_for_state([ToolState.DONE], timeout_s=10, poll_s=0.01)
                assert info.value.code == 4005
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_sim_world_is_shared_between_tools_of_one_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_two_presses_share_clock_and_world(sim_tool, sim_world, sim_clock):
            a = sim_tool("mold-press")
            b = sim_tool("mold-press", seed=2)
            assert a.address != b.address
            assert a.model.world is b.model.world is sim_world
            assert a.model.clock is sim_clock
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
