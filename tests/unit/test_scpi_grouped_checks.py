"""Set-points checked together (README §9.1): one ``SYST:ERR?`` for a group of set-point
commands, and a group that fails sent again one by one so that the error names the setting.
Against a scripted DB-4 on loopback TCP that checks every message the driver sends."""

from __future__ import annotations

import threading

import pytest

from drivers.errors import NotAllowedInState
from drivers.states import ToolState
from tests.support.expected_protocol import NO_ERROR, checked
from tests.unit.test_die_bonder_driver import Script, Transcript, transcript

__all__ = ["transcript"]  # the fixture, imported for pytest


GROUP_THEN_QUERY: Script = [
    ("DISPense:VOLume 1200", None),
    ("BOND:TEMPerature 300.0", None),
    ('STRip:ID "LA2403-017"', None),
    ("SYST:ERR?", NO_ERROR),
    ("SYST:STAT?", "READY"),
    *checked("CYCLe:STARt"),
]


def test_a_group_of_set_points_costs_one_error_query_before_the_next_query(
    transcript: Transcript,
) -> None:
    bonder = transcript(GROUP_THEN_QUERY)
    with bonder.grouped_checks():
        bonder.dispense_volume_nl = 1200
        bonder.bond_temperature_c = 300
        bonder.strip_id = "LA2403-017"
        assert bonder.state() is ToolState.READY
        bonder.start()  # an action is never deferred: checked at once


GROUP_AT_THE_END: Script = [
    ("DISPense:VOLume 1200", None),
    ("CURE:TIME 600", None),
    ("SYST:ERR?", NO_ERROR),
]


def test_a_group_is_checked_when_it_ends(transcript: Transcript) -> None:
    bonder = transcript(GROUP_AT_THE_END)
    with bonder.grouped_checks():
        bonder.dispense_volume_nl = 1200
        bonder.cure_time_s = 600


REFUSED_IN_A_GROUP: Script = [
    ("DISPense:VOLume 1200", None),
    ("BOND:TEMPerature 300.0", None),
    ("CURE:TIME 600", None),
    ("SYST:ERR?", '20,"Not allowed in state;RUNNING"'),
    ("SYST:ERR?", NO_ERROR),  # the queue drained
    *checked("DISPense:VOLume 1200"),
    *checked("BOND:TEMPerature 300.0", '20,"Not allowed in state;RUNNING"'),
]


def test_a_refused_set_point_in_a_group_is_named_as_if_sent_alone(transcript: Transcript) -> None:
    bonder = transcript(REFUSED_IN_A_GROUP)
    with pytest.raises(NotAllowedInState) as refused, bonder.grouped_checks():
        bonder.dispense_volume_nl = 1200
        bonder.bond_temperature_c = 300
        bonder.cure_time_s = 600
    assert refused.value.sent == "BOND:TEMPerature 300.0"
    assert refused.value.detail == "RUNNING"


PASSING_ERROR: Script = [
    ("DISPense:VOLume 1200", None),
    ("CURE:TIME 600", None),
    ("SYST:ERR?", '21,"Busy;SETUP"'),
    ("SYST:ERR?", NO_ERROR),
    *checked("DISPense:VOLume 1200"),
    *checked("CURE:TIME 600"),
    ("SYST:STAT?", "READY"),
]


def test_a_group_error_that_no_set_point_repeats_leaves_every_value_sent(
    transcript: Transcript,
) -> None:
    """21 Busy at the end of a SETUP: sent again one by one, each is taken; nothing raised."""
    bonder = transcript(PASSING_ERROR)
    with bonder.grouped_checks():
        bonder.dispense_volume_nl = 1200
        bonder.cure_time_s = 600
        assert bonder.state() is ToolState.READY


OUTSIDE_A_GROUP: Script = [*checked("DISPense:VOLume 1200"), *checked("CURE:TIME 600")]


def test_outside_a_group_each_set_point_is_checked_at_once(transcript: Transcript) -> None:
    bonder = transcript(OUTSIDE_A_GROUP)
    bonder.dispense_volume_nl = 1200
    bonder.cure_time_s = 600


ANOTHER_THREAD_MEETS_THE_REFUSAL: Script = [
    ("DISPense:VOLume 1200", None),
    ("SYST:ERR?", '20,"Not allowed in state;RUNNING"'),  # checked before the poller's query
    ("SYST:ERR?", NO_ERROR),
    *checked("DISPense:VOLume 1200", '20,"Not allowed in state;RUNNING"'),
    ("SYST:STAT?", "RUNNING"),
]


def test_a_refusal_found_by_another_threads_query_is_raised_in_the_groups_thread(
    transcript: Transcript,
) -> None:
    """A status poller reading the state mid set-up gets its state, not the set-up's error;
    the set-up raises it at its next message, before sending it."""
    bonder = transcript(ANOTHER_THREAD_MEETS_THE_REFUSAL)
    polled: list[ToolState] = []
    with pytest.raises(NotAllowedInState) as refused, bonder.grouped_checks():
        bonder.dispense_volume_nl = 1200
        poller = threading.Thread(target=lambda: polled.append(bonder.state()))
        poller.start()
        poller.join(timeout=5.0)
        bonder.cure_time_s = 600  # never sent: the group's refusal comes first
    assert polled == [ToolState.RUNNING]
    assert refused.value.sent == "DISPense:VOLume 1200"
