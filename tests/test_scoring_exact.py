"""Scores and calibration bins on the edges: boundaries, clipping, refusals, Jeffreys intervals.

Every expected value is worked out by hand here or taken from scipy's Beta quantiles.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import beta

from forecast.analysis import scoring


def test_outcome_value():
    assert scoring.outcome_value("yes") == 1
    assert scoring.outcome_value("no") == 0
    with pytest.raises(ValueError, match=r"^an outcome is 'yes' or 'no', got 'maybe'$"):
        scoring.outcome_value("maybe")


def test_brier_terms_and_mean_by_hand():
    assert scoring.brier_terms([0.3, 0.9, 0.0], [1, 0, 0]) == pytest.approx([0.49, 0.81, 0.0], abs=1e-15)
    assert scoring.brier([0.3, 0.9, 0.0], [1, 0, 0]) == pytest.approx(1.3 / 3, abs=1e-15)
    assert scoring.brier([[0.5, 1.0]], [[1, 1]]) == pytest.approx(0.125)  # 2-d input is flattened
    assert isinstance(scoring.brier([0.5], [1]), float)


def test_log_terms_by_hand():
    got = scoring.log_terms([0.8, 0.8, 0.25], [1, 0, 0])
    assert got == pytest.approx([math.log(0.8), math.log(0.2), math.log(0.75)], rel=1e-12)
    assert scoring.log_score([0.8, 0.25], [1, 0]) == pytest.approx((math.log(0.8) + math.log(0.75)) / 2, rel=1e-12)
    assert isinstance(scoring.log_score([0.5], [1]), float)


def test_log_terms_clip_certain_misses_at_1e_minus_12():
    assert scoring.log_terms([0.0], [1])[0] == pytest.approx(math.log(1e-12), rel=1e-12)
    assert scoring.log_terms([1.0], [0])[0] == pytest.approx(math.log(1e-12), rel=1e-3)
    assert scoring.log_terms([1.0], [1])[0] == pytest.approx(-1e-12, rel=1e-3)
    assert scoring.log_terms([0.0], [0])[0] == pytest.approx(-1e-12, rel=1e-3)
    assert scoring.EPS == 1e-12


@pytest.mark.parametrize(
    ("p", "y", "message"),
    [
        ([0.5, 0.5], [1], r"^2 forecasts but 1 outcomes$"),
        ([], [], r"^nothing to score: no forecasts$"),
        ([-0.01], [1], r"^forecasts must be probabilities in \[0, 1\]$"),
        ([1.01], [1], r"^forecasts must be probabilities in \[0, 1\]$"),
        ([float("nan")], [1], r"^forecasts must be probabilities in \[0, 1\]$"),
        ([0.5], [2], r"^outcomes must be 0 \(no\) or 1 \(yes\)$"),
        ([0.5], [0.5], r"^outcomes must be 0 \(no\) or 1 \(yes\)$"),
    ],
)
@pytest.mark.parametrize("score", [scoring.brier_terms, scoring.log_terms, scoring.calibration_bins])
def test_bad_input_is_refused_with_its_reason(score, p, y, message):
    with pytest.raises(ValueError, match=message):
        score(p, y)


def test_the_ends_of_the_unit_interval_are_accepted():
    assert scoring.brier([0.0, 1.0], [0, 1]) == 0.0


def jeffreys(k, n, prob=0.9):
    tail = (1 - prob) / 2
    low = beta.ppf(tail, k + 0.5, n - k + 0.5) if k > 0 else 0.0
    high = beta.ppf(1 - tail, k + 0.5, n - k + 0.5) if k < n else 1.0
    return low, high


def test_calibration_bins_edges_and_counts_by_hand():
    # five bins of width 0.2; a forecast on an inner edge belongs to the bin above it, 1.0 to the last bin
    p = [0.0, 0.1, 0.2, 0.2, 0.39, 0.65, 1.0, 1.0]
    y = [0, 0, 1, 0, 0, 1, 1, 0]
    t = scoring.calibration_bins(p, y, 5)
    assert list(t.columns) == ["bin_low", "bin_high", "n", "yes", "mean_forecast", "observed", "observed_low", "observed_high"]
    assert t["bin_low"].tolist() == pytest.approx([0.0, 0.2, 0.6, 0.8])
    assert t["bin_high"].tolist() == pytest.approx([0.2, 0.4, 0.8, 1.0])
    assert t["n"].tolist() == [2, 3, 1, 2]
    assert t["yes"].tolist() == [0, 1, 1, 1]
    assert t["mean_forecast"].tolist() == pytest.approx([0.05, 0.79 / 3, 0.65, 1.0])
    assert t["observed"].tolist() == pytest.approx([0.0, 1 / 3, 1.0, 0.5])
    expected = [jeffreys(0, 2), jeffreys(1, 3), jeffreys(1, 1), jeffreys(1, 2)]
    assert t["observed_low"].tolist() == pytest.approx([e[0] for e in expected], rel=1e-12)
    assert t["observed_high"].tolist() == pytest.approx([e[1] for e in expected], rel=1e-12)
    assert t["observed_low"].iloc[0] == 0.0 and t["observed_high"].iloc[2] == 1.0


def test_jeffreys_interval_values():
    """Beta(1.5, 2.5) quantiles for 1 yes in 3, at 90 % and at 50 %."""
    t = scoring.calibration_bins([0.5, 0.5, 0.5], [1, 0, 0], 2)
    assert (t["observed_low"].iloc[0], t["observed_high"].iloc[0]) == pytest.approx(jeffreys(1, 3), rel=1e-12)
    assert t["observed_low"].iloc[0] == pytest.approx(0.0624125, abs=1e-6)
    assert t["observed_high"].iloc[0] == pytest.approx(0.7644660, abs=1e-6)
    half = scoring.calibration_bins([0.5, 0.5, 0.5], [1, 0, 0], 2, prob=0.5)
    assert (half["observed_low"].iloc[0], half["observed_high"].iloc[0]) == pytest.approx(jeffreys(1, 3, 0.5), rel=1e-12)


def test_calibration_bins_with_explicit_edges():
    t = scoring.calibration_bins([0.05, 0.3, 0.95], [0, 1, 1], [0.0, 0.1, 0.9, 1.0])
    assert t["bin_low"].tolist() == [0.0, 0.1, 0.9]
    assert t["bin_high"].tolist() == [0.1, 0.9, 1.0]
    assert t["n"].tolist() == [1, 1, 1]
    default = scoring.calibration_bins([0.05, 0.3, 0.95], [0, 1, 1])
    assert default["bin_low"].tolist() == pytest.approx([0.0, 0.2, 0.8])


def test_empty_bins_are_left_out():
    t = scoring.calibration_bins([0.95, 0.99], [1, 1], 10)
    assert isinstance(t, pd.DataFrame) and len(t) == 1
    assert t["bin_low"].iloc[0] == pytest.approx(0.9) and t["n"].iloc[0] == 2
    assert np.isclose(t["bin_high"].iloc[0], 1.0)


def test_single_precision_certainty_is_clipped_like_double():
    """A float32 1.0 for an outcome that did not happen scores ln(1e-12), not minus infinity."""
    got = scoring.log_score(np.array([1.0], dtype=np.float32), [0])
    assert math.isfinite(got) and got == pytest.approx(math.log(1e-12), rel=1e-3)


def test_integer_bin_edges_give_float_edges():
    t = scoring.calibration_bins([0.3, 0.7], [0, 1], [0, 1])
    assert t["bin_low"].dtype == np.float64 and t["bin_high"].dtype == np.float64
    assert t["n"].tolist() == [2]
