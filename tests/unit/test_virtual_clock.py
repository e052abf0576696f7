"""The virtual clock: tool time jumps when every participant waits, one participant runs at a
time in a fixed order, a deadlock is reported instead of hanging; the wall-scaled host clock
measures how late it wakes."""

from __future__ import annotations

import threading

import pytest

from drivers.clock import WallClock
from sim.clock import ClockDeadlock, VirtualClock


def run_participants(clock: VirtualClock, bodies: dict[str, object]) -> None:
    """Start one thread per body, enrolled in the dict's order, and wait for all."""
    threads = [
        threading.Thread(target=_attached, args=(clock, clock.enroll(name), body))
        for name, body in bodies.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
        assert not thread.is_alive(), "a participant never finished"


def _attached(clock: VirtualClock, ticket: object, body: object) -> None:
    with clock.attach(ticket):
        assert callable(body)
        body()


def test_sleepers_wake_in_due_order_and_time_jumps_to_each_due_time() -> None:
    clock = VirtualClock()
    woke: list[tuple[float, str]] = []

    def sleeper(name: str, period_s: float) -> object:
        def body() -> None:
            for _ in range(3):
                clock.sleep(period_s)
                woke.append((clock.now(), name))

        return body

    run_participants(clock, {"a": sleeper("a", 100.0), "b": sleeper("b", 150.0)})
    assert woke == [
        (100.0, "a"),
        (150.0, "b"),
        (200.0, "a"),
        (300.0, "b"),  # due at 300 before a was: b asked first (at 150, a at 200)
        (300.0, "a"),
        (450.0, "b"),
    ]


def test_a_day_of_sleeping_takes_no_wall_time() -> None:
    clock = VirtualClock()
    with clock.participant("host"):
        for _ in range(1000):
            clock.sleep(86.4)
    assert clock.now() == pytest.approx(86_400.0)
    assert clock.jumps == 1000


def test_a_notified_waiter_runs_at_the_notifiers_time_after_the_notifier_waits() -> None:
    clock = VirtualClock()
    condition = clock.condition()
    seen: list[str] = []
    box: list[int] = []

    def consumer() -> None:
        with condition:
            while not box:
                condition.wait()
            seen.append(f"consumer got {box[0]} at {clock.now():g}")

    def producer() -> None:
        clock.sleep(42.0)
        with condition:
            box.append(7)
            condition.notify_all()
            seen.append(f"producer notified at {clock.now():g}")
        clock.sleep(1000.0)
        seen.append(f"producer woke at {clock.now():g}")

    run_participants(clock, {"consumer": consumer, "producer": producer})
    assert seen == ["producer notified at 42", "consumer got 7 at 42", "producer woke at 1042"]


def test_a_condition_wait_with_a_timeout_ends_at_that_tool_time() -> None:
    clock = VirtualClock()
    condition = clock.condition()
    with clock.participant("host"), condition:
        notified = condition.wait(30.0)
    assert notified is False
    assert clock.now() == 30.0


def test_everyone_waiting_with_nothing_due_raises_deadlock_instead_of_hanging() -> None:
    clock = VirtualClock()
    condition = clock.condition()
    errors: list[str] = []

    def stuck() -> None:
        with condition:
            try:
                condition.wait()
            except ClockDeadlock as error:
                errors.append(str(error))

    run_participants(clock, {"first": stuck, "second": stuck})
    assert len(errors) == 2
    assert "every participant waits and nothing is due" in errors[0]
    assert "first" in errors[0] and "second" in errors[0]


def test_requests_served_are_counted_and_cost_no_tool_time_by_themselves() -> None:
    clock = VirtualClock()
    for _ in range(5):
        clock.on_request()  # what a simulator front does for each request it serves
    assert clock.exchanges == 5
    assert clock.now() == 0.0


def test_only_a_participant_may_wait_on_a_clock_condition() -> None:
    clock = VirtualClock()
    condition = clock.condition()
    with condition, pytest.raises(RuntimeError, match="participant"):
        condition.wait(1.0)


def test_wall_clock_counts_late_wake_ups_in_tool_seconds() -> None:
    clock = WallClock(1e6)  # a wall microsecond is a tool second: no machine wakes on time
    clock.sleep(1.0)
    assert clock.lag_s() > 1.0
    assert clock.worst_late_s == pytest.approx(clock.lag_s())


def test_wall_clock_at_scale_one_is_wall_time() -> None:
    clock = WallClock()
    before = clock.now()
    clock.sleep(0.01)
    assert 0.01 <= clock.now() - before < 1.0
