"""Batched draws of the simulators (sim.normal_draws): the same laws as one call per draw."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from sim.normal_draws import first_success, standard_normals


def test_batched_normals_are_standard_normal_and_repeat_with_the_seed() -> None:
    draws = standard_normals(random.Random(3), 40_000)
    assert statistics.mean(draws) == pytest.approx(0.0, abs=0.03)
    assert statistics.stdev(draws) == pytest.approx(1.0, abs=0.02)
    assert sum(1 for z in draws if z > 1.96) / len(draws) == pytest.approx(0.025, abs=0.004)
    assert max(map(abs, draws)) < 4.4  # the table's last slice
    assert standard_normals(random.Random(3), 100) == draws[:100]


def test_first_success_is_the_first_of_bernoulli_trials() -> None:
    rng = random.Random(8)
    firsts = [first_success(rng, 0.01) for _ in range(5000)]
    assert statistics.mean(firsts) == pytest.approx(100.0, abs=6.0)  # geometric mean 1/p
    within_ten = sum(1 for k in firsts if k <= 10) / len(firsts)
    assert within_ten == pytest.approx(1.0 - 0.99**10, abs=0.015)  # P(a success in 10 trials)
    assert min(firsts) >= 1 and all(float(k).is_integer() for k in firsts)
    assert first_success(rng, 0.0) == math.inf and first_success(rng, 1.0) == 1
