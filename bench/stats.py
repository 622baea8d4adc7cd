"""How sure a benchmark's ratio is: distribution-free, from paired rounds (no normality assumed)."""

from __future__ import annotations

from collections.abc import Sequence
from math import comb


def rotated[T](subjects: Sequence[T], round_number: int) -> list[T]:
    """The order the subjects run in, in round `round_number`: each round starts one subject
    later, so each subject runs in every position of a round equally often (over a multiple of
    len(subjects) rounds) and whatever a position costs or saves (the machine warming to the
    round's first process, the page cache the previous subject left) hits all of them alike."""
    shift = round_number % len(subjects)
    return [*subjects[shift:], *subjects[:shift]]


def median_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """A distribution-free interval that holds the median with at least `confidence`: the k-th
    smallest and k-th largest values, for the largest k with P(Binomial(n, 1/2) < k) within
    half the risk (k = 10 of 30, a 95.7 % interval)."""
    n = len(values)
    half_risk = (1 - confidence) / 2
    k, at_most_k = 0, 1 / 2**n  # P(Binomial(n, 1/2) <= k)
    while at_most_k <= half_risk:
        k += 1
        at_most_k += comb(n, k) / 2**n
    if k == 0:
        raise ValueError(f"{n} rounds are too few for a {confidence:.0%} interval")
    ordered = sorted(values)
    return ordered[k - 1], ordered[n - k]


def verdict(low: float, high: float, goal: float) -> str:
    """Whether a goal `ratio <= goal` is shown met, shown missed, or neither by the interval."""
    if high <= goal:
        return "met"
    if low > goal:
        return "not met"
    return "neither shown met nor shown missed at this run's precision"
