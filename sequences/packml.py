"""The PackML station state model (ISA-TR88.00.02), written once as data.

Both the running station machine (:mod:`sequences.station`) and ``packline diagram station``
are built from these tables, so the diagram is the code.
"""

from __future__ import annotations

from enum import StrEnum


class PackState(StrEnum):
    """The 17 PackML states."""

    STOPPED = "STOPPED"
    RESETTING = "RESETTING"
    IDLE = "IDLE"
    STARTING = "STARTING"
    EXECUTE = "EXECUTE"
    COMPLETING = "COMPLETING"
    COMPLETE = "COMPLETE"
    HOLDING = "HOLDING"
    HELD = "HELD"
    UNHOLDING = "UNHOLDING"
    SUSPENDING = "SUSPENDING"
    SUSPENDED = "SUSPENDED"
    UNSUSPENDING = "UNSUSPENDING"
    STOPPING = "STOPPING"
    ABORTING = "ABORTING"
    ABORTED = "ABORTED"
    CLEARING = "CLEARING"


S = PackState

#: Acting states end by themselves (trigger ``state_completed``) and lead to the next wait state.
ACTING_NEXT: dict[PackState, PackState] = {
    S.RESETTING: S.IDLE,
    S.STARTING: S.EXECUTE,
    S.COMPLETING: S.COMPLETE,
    S.HOLDING: S.HELD,
    S.UNHOLDING: S.EXECUTE,
    S.SUSPENDING: S.SUSPENDED,
    S.UNSUSPENDING: S.EXECUTE,
    S.STOPPING: S.STOPPED,
    S.ABORTING: S.ABORTED,
    S.CLEARING: S.STOPPED,
}

_STOPPABLE = [
    S.RESETTING, S.IDLE, S.STARTING, S.EXECUTE, S.COMPLETING, S.COMPLETE, S.HOLDING, S.HELD,
    S.UNHOLDING, S.SUSPENDING, S.SUSPENDED, S.UNSUSPENDING,
]  # fmt: skip

#: (trigger, sources, destination): the operator and process commands of PackML.
COMMANDS: list[tuple[str, list[PackState], PackState]] = [
    ("reset", [S.STOPPED, S.COMPLETE], S.RESETTING),
    ("start", [S.IDLE], S.STARTING),
    ("complete", [S.EXECUTE], S.COMPLETING),
    ("hold", [S.EXECUTE, S.SUSPENDED], S.HOLDING),
    ("unhold", [S.HELD], S.UNHOLDING),
    ("suspend", [S.EXECUTE], S.SUSPENDING),
    ("unsuspend", [S.SUSPENDED], S.UNSUSPENDING),
    ("stop", _STOPPABLE, S.STOPPING),
    ("abort", [s for s in PackState if s not in (S.ABORTING, S.ABORTED)], S.ABORTING),
    ("clear", [S.ABORTED], S.CLEARING),
]

#: The commands an operator (API, CLI, page) may give: all but ``complete`` (the station's own,
#: when a cycle ends) and ``suspend``/``unsuspend``: in PackML they are the machine's own answer
#: to starvation or blocking, and a packline station with no work simply waits in IDLE (E10
#: standby), so nobody fires them (docs/daemon.md, "What each command does to the tool").
OPERATOR_COMMANDS = tuple(
    trigger for trigger, _, _ in COMMANDS if trigger not in ("complete", "suspend", "unsuspend")
)


def transition_table() -> list[dict[str, object]]:
    """The transitions in the form of the ``transitions`` library."""
    table: list[dict[str, object]] = [
        {"trigger": trigger, "source": [s.value for s in sources], "dest": dest.value}
        for trigger, sources, dest in COMMANDS
    ]
    table += [
        {"trigger": "state_completed", "source": acting.value, "dest": nxt.value}
        for acting, nxt in ACTING_NEXT.items()
    ]
    return table


class E10(StrEnum):
    """SEMI E10 equipment time categories used in the reports."""

    PRODUCTIVE = "productive"
    STANDBY = "standby"
    ENGINEERING = "engineering"
    #: E10 counts set-up here; a station's set-up of a cycle (arm, heat up, load) goes here.
    SCHEDULED_DOWN = "scheduled down"
    UNSCHEDULED_DOWN = "unscheduled down"
    NON_SCHEDULED = "non-scheduled"


#: PackML state -> E10 category in production mode (process-reference §5: Execute -> PRD,
#: Idle/Suspended -> SBY, Held/Aborted -> UDT). Stopped counts as non-scheduled time.
E10_OF_STATE: dict[PackState, E10] = {
    S.EXECUTE: E10.PRODUCTIVE,
    S.STARTING: E10.PRODUCTIVE,
    S.COMPLETING: E10.PRODUCTIVE,
    S.UNHOLDING: E10.PRODUCTIVE,
    S.UNSUSPENDING: E10.PRODUCTIVE,
    S.IDLE: E10.STANDBY,
    S.COMPLETE: E10.STANDBY,
    S.SUSPENDING: E10.STANDBY,
    S.SUSPENDED: E10.STANDBY,
    S.RESETTING: E10.STANDBY,
    S.HOLDING: E10.UNSCHEDULED_DOWN,
    S.HELD: E10.UNSCHEDULED_DOWN,
    S.ABORTING: E10.UNSCHEDULED_DOWN,
    S.ABORTED: E10.UNSCHEDULED_DOWN,
    S.CLEARING: E10.UNSCHEDULED_DOWN,
    S.STOPPING: E10.NON_SCHEDULED,
    S.STOPPED: E10.NON_SCHEDULED,
}
