"""Many normal draws in few Python calls, for per-ball and per-wire scatter.

A simulated lot draws a normal number per ball (~6,000 a strip) and two per wire; one
``Random.gauss`` call each was a large share of a dry run's CPU. Here a batch is one
``randbytes`` call: each 16-bit draw picks one of :data:`LEVELS` equiprobable slices of the
standard normal, at its midpoint quantile (tails cut at ±4.3 σ; 1 in ~60,000 draws would
have gone past). Deterministic per seed, and the same on every machine (little-endian).
"""

from __future__ import annotations

import math
import random
import sys
from array import array
from functools import lru_cache
from operator import itemgetter
from statistics import NormalDist

LEVELS = 1 << 16


@lru_cache(maxsize=1)
def quantiles() -> tuple[float, ...]:
    """The standard normal quantile at the middle of each of the LEVELS slices, built once
    (the upper half mirrors the lower: half the ``inv_cdf`` calls, exactly symmetric). A
    tuple, not an array: a look-up hands out the stored float instead of making a new one."""
    inv_cdf = NormalDist().inv_cdf
    lower = list(map(inv_cdf, [(k + 0.5) / LEVELS for k in range(LEVELS // 2)]))
    return (*lower, *[-z for z in reversed(lower)])  # a list, not a generator: the same floats


def level_draws(rng: random.Random, count: int) -> array[int]:
    """``count`` indices into :func:`quantiles` (uniform 16-bit draws), in one call."""
    draws = array("H", rng.randbytes(2 * count))
    if sys.byteorder == "big":  # randbytes is little-endian: the same draws on every machine
        draws.byteswap()
    return draws


def look_up(table: tuple[float, ...], draws: array[int]) -> list[float]:
    """``[table[k] for k in draws]``, in one C-level call (an ``itemgetter`` of the draws)."""
    if len(draws) < 2:  # itemgetter of one index gives the item, of none is an error
        return [table[k] for k in draws]
    return list(itemgetter(*draws)(table))


def standard_normals(rng: random.Random, count: int) -> list[float]:
    """``count`` standard normal draws (see the module's docstring)."""
    return look_up(quantiles(), level_draws(rng, count))


def first_success(rng: random.Random, p: float) -> float:
    """The 1-based index of the first success in a run of Bernoulli(``p``) trials, drawn at
    once (geometric): inf when ``p`` <= 0. Replaces one ``random() < p`` per trial."""
    if p <= 0.0:
        return math.inf
    if p >= 1.0:
        return 1
    return math.floor(math.log(1.0 - rng.random()) / math.log1p(-p)) + 1
