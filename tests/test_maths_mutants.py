"""forecast.maths on the edges the main tests leave alone (found by mutation testing).

Expected values are worked out by hand from the formulas in the module docstring, or by scipy.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from forecast import maths


def test_z90_is_the_95th_normal_percentile():
    assert maths.Z90 == pytest.approx(stats.norm.ppf(0.95), rel=1e-15)


def test_logit_and_expit_by_hand():
    assert float(maths.logit(0.75)) == pytest.approx(math.log(3), rel=1e-15)
    assert float(maths.logit(0.1)) == pytest.approx(-math.log(9), rel=1e-15)
    assert float(maths.expit(math.log(3))) == pytest.approx(0.75, rel=1e-15)
    assert float(maths.expit(0.0)) == 0.5
    assert maths.expit([-2, 2]) == pytest.approx([1 / (1 + math.e**2), 1 / (1 + math.e**-2)], rel=1e-15)
    assert maths.logit([0.2, 0.5]).dtype == float
    assert maths.expit([1, 2]).dtype == float  # integer input works too


def test_base_rate_prior_asymmetric_range_by_hand():
    mu, sigma = maths.base_rate_prior(0.3, 0.1, 0.6)
    assert mu == pytest.approx(math.log(0.3 / 0.7), rel=1e-14)
    assert sigma == pytest.approx((math.log(1.5) + math.log(9)) / (2 * 1.6448536269514722), rel=1e-14)
    assert isinstance(mu, float) and isinstance(sigma, float)


def test_weight_prior_by_hand():
    mu, sigma = maths.weight_prior([0.5, 2.0], [2.0, 3.0])
    assert mu == pytest.approx([math.log(0.5), math.log(2.0)], rel=1e-14)
    assert sigma == pytest.approx([math.log(2) / 1.6448536269514722, math.log(3) / 1.6448536269514722], rel=1e-14)


def test_weight_units():
    assert float(maths.weight_log_odds(math.e, "odds_multiplier")) == pytest.approx(1.0, rel=1e-15)
    assert maths.weight_log_odds([0.3, 1.2], "log_odds") == pytest.approx([0.3, 1.2])
    with pytest.raises(ValueError, match=r"^unknown weight unit 'x': use 'odds_multiplier' or 'log_odds'$"):
        maths.weight_log_odds(2.0, "x")


@pytest.mark.parametrize(
    ("grade", "factor"),
    [("A1", 1.0), ("B1", 1.2), ("C1", 1.5), ("D1", 2.0), ("E1", 3.0), ("F1", 2.0),
     ("A2", 1.2), ("A3", 1.5), ("A4", 2.0), ("A5", 3.0), ("A6", 2.0), ("e5", 9.0), ("c2", 1.8)],
)
def test_grade_tables_from_the_docstring(grade, factor):
    assert maths.grade_factor(grade) == pytest.approx(factor, rel=1e-15)
    assert maths.effective_weight(grade) == pytest.approx(1 / factor**2, rel=1e-15)


def test_centred_and_contributions():
    assert maths.centred([0.0, 0.25, 0.5, 1.0]) == pytest.approx([-1.0, -0.5, 0.0, 1.0])
    c = maths.contributions([1, -1, 0], [2.0, 3.0, 5.0], [0.75, 0.75, 1.0])
    assert c == pytest.approx([1.0, -1.5, 0.0])


def test_probability_sums_over_the_given_axis():
    contribution = np.array([[0.5, -1.0], [1.5, 0.0]])
    assert maths.probability(0.0, contribution) == pytest.approx([1 / (1 + math.exp(0.5)), 1 / (1 + math.exp(-1.5))])
    assert maths.probability(1.0, contribution, axis=0) == pytest.approx([1 / (1 + math.exp(-3.0)), 1 / (1 + math.exp(0.0))])


@pytest.mark.parametrize(
    ("level", "a", "b", "expected"),
    [
        (None, 3.0, 1.5, (3.0, 1.5)),
        (0.75, 1.0, 1.0, (2.5, 1.5)),  # a + b below 4: strength 4
        (0.75, 3.0, 3.0, (4.0, 2.0)),  # strength 6
        (0.0, 2.0, 2.0, (1.0, 3.0)),
        (1.0, 2.0, 2.0, (3.0, 1.0)),
        (0.25, 4.0, 6.0, (3.0, 7.0)),  # strength 10
    ],
)
def test_level_prior_by_hand(level, a, b, expected):
    got = maths.level_prior(level, a, b)
    assert got == pytest.approx(expected, rel=1e-15)
    assert all(isinstance(x, float) for x in got)


@pytest.mark.parametrize("level", [-0.01, 1.01])
def test_level_prior_refuses_a_level_outside_the_unit_interval(level):
    with pytest.raises(ValueError, match=rf"^a level must be in \[0, 1\], got {level!r}$"):
        maths.level_prior(level, 2.0, 2.0)


def test_results_are_float64_whatever_the_input_type():
    """Integer or float32 inputs are computed in double precision (no float32 rounding, no integer arithmetic)."""
    f32 = np.array([0.25, 0.6], dtype=np.float32)
    assert maths.logit(f32).dtype == np.float64
    assert maths.expit(f32).dtype == np.float64
    assert maths.weight_log_odds(np.array([1, 2]), "log_odds").dtype == np.float64
    assert maths.weight_log_odds(f32, "odds_multiplier").dtype == np.float64
    mu, sigma = maths.weight_prior(f32, np.array([2.0, 3.0], dtype=np.float32))
    assert mu.dtype == np.float64 and sigma.dtype == np.float64
    assert maths.centred(np.array([0, 1])).dtype == np.float64
    assert maths.centred(f32).dtype == np.float64


def test_probability_adds_in_double_precision():
    base = np.float32(1.0)
    small = np.array([1e-8], dtype=np.float32)
    assert float(maths.probability(base, small)) == pytest.approx(1 / (1 + math.exp(-(1.0 + float(small[0])))), rel=1e-13)
