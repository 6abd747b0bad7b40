"""The paired difference the report and the boundary tables share, against figures by hand."""

import math

import pytest

from holozero.stats import paired_difference


def test_paired_difference_matches_a_hand_computed_t_test():
    # differences 1, 2, 0: mean 1, sd 1, t = 1 / (1 / √3) = √3; with 2 degrees of freedom the
    # two-sided p has the closed form 1 − |t| / √(t² + 2) = 1 − √3 / √5
    pair = paired_difference({0: 1.0, 1: 3.0, 2: 2.0, 9: 5.0}, {0: 0.0, 1: 1.0, 2: 2.0, 7: 4.0})
    assert pair["n"] == 3  # only the seeds both sides have
    assert pair["diff"] == pytest.approx(1.0)
    assert pair["p"] == pytest.approx(1 - math.sqrt(3) / math.sqrt(5))


def test_paired_difference_edge_cases():
    assert paired_difference({0: 1.0}, {0: 2.0}) is None  # one pair: no test
    assert paired_difference({0: 1.0, 1: 2.0}, {0: 1.0, 1: 2.0})["p"] == 1.0  # identical
    constant = paired_difference({0: 2.0, 1: 3.0}, {0: 1.0, 1: 2.0})
    assert constant["diff"] == pytest.approx(1.0) and constant["p"] == 0.0  # a difference with no spread
