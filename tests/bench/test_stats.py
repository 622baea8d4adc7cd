"""The statistics the benchmarks judge their goals by (bench/stats.py)."""

from collections import Counter

import pytest

from bench.stats import median_interval, rotated, verdict


def test_each_subject_runs_in_every_position_equally_often() -> None:
    subjects = ["service", "before", "floor", "floor_gc"]
    orders = [rotated(subjects, round_number) for round_number in range(60)]
    assert all(sorted(order) == sorted(subjects) for order in orders)
    for position in range(len(subjects)):
        assert Counter(order[position] for order in orders) == dict.fromkeys(subjects, 15)


@pytest.mark.parametrize(("rounds", "ranks"), [(30, (10, 21)), (60, (22, 39)), (15, (4, 12))])
def test_the_interval_is_the_binomial_order_statistics(rounds: int, ranks: tuple[int, int]) -> None:
    values = [float(rank) for rank in range(rounds, 0, -1)]  # the k-th smallest is k
    assert median_interval(values) == ranks


def test_too_few_rounds_for_the_confidence_are_refused() -> None:
    with pytest.raises(ValueError, match="5 rounds are too few"):
        median_interval([1.0, 2.0, 3.0, 4.0, 5.0])
    assert median_interval([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]) == (1.0, 6.0)


@pytest.mark.parametrize(
    ("low", "high", "said"),
    [
        (1.01, 1.05, "met"),
        (1.051, 1.09, "not met"),
        (1.029, 1.085, "neither shown met nor shown missed at this run's precision"),
    ],
)
def test_the_verdict_needs_the_whole_interval_on_one_side(
    low: float, high: float, said: str
) -> None:
    assert verdict(low, high, 1.05) == said
