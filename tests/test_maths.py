"""Priors, words and the log-odds arithmetic, checked against numbers worked out by hand or by numpy/scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from forecast import maths as priors
from forecast.model.words import band_index, describe, words_for


def test_logit_and_expit_are_inverse():
    p = np.array([0.01, 0.2, 0.5, 0.97])
    assert np.allclose(priors.expit(priors.logit(p)), p)
    assert priors.logit(0.5) == 0.0
    assert math.isclose(float(priors.logit(0.2)), math.log(0.25))


def test_base_rate_prior_matches_the_stated_range():
    # symmetric on the logit scale: logit(0.1) = -logit(0.9), so the range is matched exactly
    mu, sigma = priors.base_rate_prior(0.5, 0.1, 0.9)
    dist = stats.norm(mu, sigma)
    assert math.isclose(dist.ppf(0.05), math.log(0.1 / 0.9), rel_tol=1e-9)
    assert math.isclose(dist.ppf(0.95), math.log(0.9 / 0.1), rel_tol=1e-9)
    # asymmetric: centre at logit(value), half-width the mean of the two sides
    mu, sigma = priors.base_rate_prior(0.25, 0.08, 0.5)
    assert math.isclose(mu, math.log(1 / 3))
    assert math.isclose(sigma, (0.0 - math.log(0.08 / 0.92)) / (2 * 1.6448536269514722))


def test_weight_prior_puts_ninety_percent_within_the_spread():
    w = priors.weight_log_odds(3.0, "odds_multiplier")
    assert math.isclose(float(w), math.log(3))
    mu, sigma = priors.weight_prior(w, 2.0)
    dist = stats.lognorm(s=float(sigma), scale=math.exp(float(mu)))
    assert math.isclose(dist.median(), math.log(3))
    assert math.isclose(dist.ppf(0.05), math.log(3) / 2, rel_tol=1e-9)
    assert math.isclose(dist.ppf(0.95), math.log(3) * 2, rel_tol=1e-9)
    assert float(priors.weight_log_odds(0.7, "log_odds")) == 0.7
    with pytest.raises(ValueError, match="unknown weight unit"):
        priors.weight_log_odds(1.0, "percent")


def test_grades():
    assert priors.grade_factor("A1") == 1.0
    assert math.isclose(priors.grade_factor("B2"), 1.44)
    assert math.isclose(priors.effective_weight("B2"), 1 / 1.44**2)
    assert priors.effective_weight("C3") < priors.effective_weight("B2") < priors.effective_weight("A1")


def test_contributions_and_probability_by_hand():
    # base log-odds -1; a raising indicator x3 fully present; a lowering one x2 at neutral+0.25
    sign = np.array([1, -1])
    weight = np.log([3.0, 2.0])
    level = np.array([1.0, 0.75])
    c = priors.contributions(sign, weight, level)
    assert np.allclose(c, [math.log(3), -0.5 * math.log(2)])
    p = priors.probability(-1.0, c)
    odds = math.exp(-1.0) * 3 / math.sqrt(2)
    assert math.isclose(float(p), odds / (1 + odds))


def test_probability_broadcasts_over_draws():
    rng = np.random.default_rng(0)
    base = rng.normal(size=50)
    c = rng.normal(size=(50, 4))
    assert np.allclose(priors.probability(base, c), 1 / (1 + np.exp(-(base + c.sum(axis=1)))))


@pytest.mark.parametrize(
    ("p", "words"),
    [
        (0.0, "almost no chance"),
        (0.049, "almost no chance"),
        (0.05, "very unlikely"),
        (0.199, "very unlikely"),
        (0.2, "unlikely"),
        (0.45, "roughly even chance"),
        (0.55, "likely"),
        (0.8, "very likely"),
        (0.95, "almost certain"),
        (1.0, "almost certain"),
    ],
)
def test_icd203_bands(p, words):
    assert words_for(p) == words


def test_describe_warns_when_interval_spans_bands():
    one = describe(0.3, 0.25, 0.4)
    assert one.warning is None and one.spans == ("unlikely",) and one.label == "unlikely: 20–45 %"
    many = describe(0.13, 0.01, 0.27)
    assert many.spans == ("almost no chance", "very unlikely", "unlikely")
    assert "spans 3 bands" in many.warning
    with pytest.raises(ValueError):
        describe(0.5, 0.6, 0.7)
    with pytest.raises(ValueError):
        band_index(1.2)
