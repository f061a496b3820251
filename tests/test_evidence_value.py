"""New evidence on the posterior, checked against closed forms and brute force.

The closed forms come from a normal-normal world: one indicator whose level's log-odds ``x`` has the
posterior ``Normal(m, tau^2)`` (drawn exactly), a fixed base ``b0`` and weight ``w``, so
``P = expit(b0 + w (2 expit(x) - 1))``. ``n`` new readings at ``z`` with sd ``s`` give
``x ~ Normal(m_n, tau_n^2)``, ``1 / tau_n^2 = 1 / tau^2 + n / s^2``, ``m_n = tau_n^2 (m / tau^2 + n z / s^2)``,
and the mean P is a Gauss-Hermite quadrature over that normal. One new reading ``z`` is predicted as
``Normal(m, tau^2 + s^2)``; the mean P after it increases with ``z``, so it crosses a band edge ``e``
exactly when ``z > z*`` with ``E[P | z*] = e``.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from numpy.polynomial.hermite_e import hermegauss
from scipy.optimize import brentq
from scipy.special import expit, logit
from scipy.stats import norm

from forecast.analysis import evidence_value as ev
from forecast.errors import ForecastError
from forecast.model.draws import Draws

NODES, NODE_W = hermegauss(120)
NODE_W = NODE_W / NODE_W.sum()
S_B2 = 0.8
"""The sd of a new B2 reading in these tests' worlds, whose counts and margins were worked out for it."""
MODEL = SimpleNamespace(reading_sd=S_B2 / (4 * 1.2 * 1.2))  # B2: reliability 1.2 x credibility 1.2
CASE = SimpleNamespace(spec=SimpleNamespace(model=MODEL))


def mean_p(m, tau, b0, w):
    x = m + tau * NODES
    return float(expit(b0 + w * (2 * expit(x) - 1)) @ NODE_W)


def after(m, tau, n, z, s):
    prec = 1 / tau**2 + n / s**2
    return (m / tau**2 + n * z / s**2) / prec, prec**-0.5


def world(m, tau, b0, w, size, seed=0, sign=1.0):
    x = np.random.default_rng(seed).normal(m, tau, size)
    return Draws(base=np.full(size, b0), weight=np.full((size, 1), w), level=expit(x)[:, None], sign=np.array([sign]), indicators=("k",))


def band(p):
    return int(np.searchsorted([0.05, 0.2, 0.45, 0.55, 0.8, 0.95], p, side="right"))


def test_new_reading_sd_by_hand_and_a_bad_grade():
    assert ev.new_reading_sd(MODEL) == pytest.approx(S_B2, rel=1e-12)
    assert ev.new_reading_sd(MODEL, "a1") == pytest.approx(S_B2 / 1.44, rel=1e-12)
    with pytest.raises(ForecastError, match="unknown grade 'B9'.*such as B2"):
        ev.new_reading_sd(MODEL, "B9")


def test_observation_rows_carry_the_likelihood_of_the_readings():
    """n rows at z with sd s, or one with sd s / sqrt(n): the same Gaussian log-likelihood up to a constant."""
    inputs = {"reading_whitened": np.array([0.3, -1.0]), "reading_design": np.array([[2.0, 0.0], [0.5, 1.5]]), "sign": np.ones(2)}
    out = ev.with_observations(inputs, [1, 0], [1.2, -0.4], [0.5, 2.0])
    assert out["reading_whitened"].tolist() == pytest.approx([0.3, -1.0, 2.4, -0.2])
    assert out["reading_design"].tolist() == [[2.0, 0.0], [0.5, 1.5], [0.0, 2.0], [0.5, 0.0]]
    assert out["sign"] is inputs["sign"] and inputs["reading_whitened"].size == 2  # the inputs are not changed
    z, s, n = 0.8, 0.7, 5
    one = ev.with_observations(inputs, [0], [z], [s / math.sqrt(n)])
    many = ev.with_observations(inputs, [0] * n, [z] * n, [s] * n)
    for lam in (-1.0, 0.3, 2.0):
        theta = np.array([lam, 0.1])

        def loglik(d):
            r = d["reading_whitened"] - d["reading_design"] @ theta
            return -0.5 * float(r @ r)

        ref = -0.5 * n * ((z - lam) / s) ** 2 + loglik(inputs)
        assert loglik(one) - ref == pytest.approx(loglik(many) - ref, abs=1e-9)
        assert loglik(many) == pytest.approx(ref, abs=1e-9)
    assert ev.observed_level_logit([0.9, 1.0, 0.0]).tolist() == pytest.approx([logit(0.9), logit(0.99), logit(0.01)])


def test_preposterior_against_a_loop():
    rng = np.random.default_rng(3)
    p, level, w = rng.random(7), rng.uniform(0.05, 0.95, 7), rng.random(7)
    z, sd = np.array([-1.0, 0.0, 0.4, 2.5]), 0.9
    for weights in (None, w):
        got, ess = ev.preposterior(p, level, z, sd, weights)
        for m, zm in enumerate(z):
            num = den = sq = 0.0
            for s_ in range(7):
                lik = math.exp(-0.5 * ((zm - math.log(level[s_] / (1 - level[s_]))) / sd) ** 2) * (1.0 if weights is None else w[s_])
                num, den, sq = num + lik * p[s_], den + lik, sq + lik * lik
            assert got[m] == pytest.approx(num / den, rel=1e-10)
            assert ess <= den * den / sq + 1e-9
        assert ess == pytest.approx(min(
            sum(math.exp(-0.5 * ((zm - logit(v)) / sd) ** 2) * (1.0 if weights is None else ww) for v, ww in zip(level, w)) ** 2
            / sum((math.exp(-0.5 * ((zm - logit(v)) / sd) ** 2) * (1.0 if weights is None else ww)) ** 2 for v, ww in zip(level, w))
            for zm in z), rel=1e-9)


def test_simulated_readings_follow_the_predictive():
    level = np.full(50, 0.7)
    z = ev.simulate_readings(level, 0.8, 40000, np.random.default_rng(1))
    assert z.mean() == pytest.approx(logit(0.7), abs=0.02) and z.std() == pytest.approx(0.8, abs=0.02)
    picked = ev.simulate_readings(np.array([0.1, 0.9]), 1e-9, 2000, np.random.default_rng(2), weights=np.array([0.0, 1.0]))
    assert picked == pytest.approx(np.full(2000, logit(0.9)))


def test_value_of_information_against_the_normal_normal_closed_form():
    m, tau, b0, w = -0.5, 1.0, -1.35, 1.5
    s = S_B2
    draws = world(m, tau, b0, w, 4000)
    p_now = mean_p(m, tau, b0, w)
    assert band(p_now) == 1  # very unlikely

    def p_after(z):
        return mean_p(*after(m, tau, 1, z, s), b0, w)

    z_star = brentq(lambda z: p_after(z) - 0.2, -20, 20)
    sd_pred = math.hypot(tau, s)
    chance_up = norm.sf(z_star, m, sd_pred)
    z_nodes = m + sd_pred * NODES
    moved = float(np.abs([p_after(z) - p_now for z in z_nodes]) @ NODE_W)
    assert 0.1 < chance_up < 0.9  # the test's world is one where a reading can move the band
    got = ev.value_of_information(draws, CASE, n_sim=3000, seed=4).loc["k"]
    assert got["chance_up"] == pytest.approx(chance_up, abs=0.03)  # about 3.5 Monte Carlo sd
    assert expit(b0 - w) > 0.05 and got["chance_down"] == 0.0  # no level at all takes P below 5 %
    assert got["chance_cross"] == pytest.approx(got["chance_up"] + got["chance_down"])
    assert got["expected_abs_change"] == pytest.approx(moved, rel=0.08)
    assert got["p_now"] == pytest.approx(float(draws.p().mean())) and got["band_now"] == "very unlikely"
    assert got["reading_sd"] == pytest.approx(s) and got["grade"] == "B2" and got["simulated"] == 3000


def test_value_of_information_is_nothing_for_an_indicator_that_moves_nothing():
    d = world(0.0, 1.0, -2.0, 1e-9, 500)
    got = ev.value_of_information(d, CASE, n_sim=50).loc["k"]
    assert got["chance_cross"] == 0.0 and got["expected_abs_change"] == pytest.approx(0.0, abs=1e-9)


# -- tipping points counted in readings -------------------------------------------------------------
def closed_form_count(m, tau, b0, w, z, s, edge, up, n_max=20):
    for n in range(1, n_max + 1):
        p = mean_p(*after(m, tau, n, z, s), b0, w)
        if (p >= edge) if up else (p < edge):
            return n, p, mean_p(*after(m, tau, n - 1, z, s), b0, w)
    return None, mean_p(*after(m, tau, n_max, z, s), b0, w), None


def test_tipping_count_by_reweighting_matches_the_closed_form():
    m, tau, b0, w = -0.5, 0.8, -2.3, 1.5
    s = S_B2
    draws = world(m, tau, b0, w, 20000, seed=5)
    n, p_n, p_before = closed_form_count(m, tau, b0, w, logit(0.9), s, 0.2, up=True)
    assert n == 3 and p_n - 0.2 > 0.005 and 0.2 - p_before > 0.01  # margins far above the Monte Carlo error (about 0.001)
    table = ev.evidence_tipping(draws, CASE, names=["The one"])
    up = table[table["way"] == "up"].iloc[0]
    assert (up["indicator"], up["name"], up["direction"], up["reading_level"], up["grade"]) == ("k", "The one", "raises", 0.9, "B2")
    assert up["readings"] == n and up["p"] == pytest.approx(p_n, abs=0.002) and up["path"] == "reweighted" and up["refits"] == 0
    assert up["band_now"] == "very unlikely" and up["target_band"] == "unlikely"
    assert up["text"] == f"3 new B2 readings at 0.9 from independent sources → unlikely: 20–45 % (P {up['p']:.1%})"
    n_down, p_down, p_before = closed_form_count(m, tau, b0, w, logit(0.1), s, 0.05, up=False)
    down = table[table["way"] == "down"].iloc[0]
    assert (n_down, down["readings"], down["reading_level"], down["target_band"]) == (1, 1, 0.1, "almost no chance")
    assert 0.05 - p_down > 0.005 and down["p"] == pytest.approx(p_down, abs=0.002)


def test_not_within_n_when_no_level_reaches_the_next_band():
    m, tau, b0, w = -0.5, 0.8, -2.0, 0.5  # P >= expit(-2.5) = 0.076 whatever the level
    table = ev.evidence_tipping(world(m, tau, b0, w, 20000, seed=8), CASE, max_readings=12).set_index("way")
    none, p12, _ = closed_form_count(m, tau, b0, w, logit(0.1), S_B2, 0.05, up=False, n_max=12)
    assert none is None and table.loc["down", "readings"] is pd.NA and table.loc["down", "p"] == pytest.approx(p12, abs=0.002)
    assert table.loc["down", "text"] == f"not within 12 (P {table.loc['down', 'p']:.1%} after 12)"


def test_an_indicator_that_lowers_the_chance_is_pushed_up_by_low_readings():
    m, tau, b0, w = 0.5, 0.8, -2.3, 1.5  # sign -1: the level's log-odds enter as -x
    draws = world(m, tau, b0, w, 20000, seed=5, sign=-1.0)
    table = ev.evidence_tipping(draws, CASE).set_index("way")
    assert table.loc["up", "reading_level"] == 0.1 and table.loc["down", "reading_level"] == 0.9
    n, p_n, _ = closed_form_count(-m, tau, b0, w, -logit(0.1), S_B2, 0.2, up=True)  # mirror image of the raising world
    assert table.loc["up", "readings"] == n and table.loc["up", "direction"] == "lowers"


def test_the_count_falls_back_to_refits_when_reweighting_is_not_trusted():
    """Readings far from where the level is: reweighting fails after a few, so fits stand in (exact draws from the closed form)."""
    m, tau, b0, w, s = -1.0, 0.5, -2.1, 1.5, S_B2
    z = logit(0.9)
    draws = world(m, tau, b0, w, 4000, seed=7)
    made = []

    def refit_at(n, k, z_, s_):
        made.append(n)
        mn, tn = after(m, tau, n, z_, s_)
        return world(mn, tn, b0, w, 4000, seed=100 + n)

    n, p_n, p_before = closed_form_count(m, tau, b0, w, z, s, 0.2, up=True)
    assert n == 5 and p_n - 0.2 > 0.006 and 0.2 - p_before > 0.006
    assert band(float(draws.p().mean())) == 1  # very unlikely; the next band up starts at 0.2
    counter = ev._Counter(draws, 0, z, s, refit_at)
    assert not counter.trusted(n, 0)[0]  # the baseline draws cannot be reweighted that far
    found = ev.tipping_count(counter, 1, up=True)
    assert found["readings"] == n and found["p"] == pytest.approx(p_n, abs=0.004)
    assert made[0] == 20 and counter.refits == len(made) >= 1 and found["path"] in ("refit", "reweighted refit")
    # without a way to refit, the count is left open rather than guessed
    open_ = ev.tipping_count(ev._Counter(draws, 0, z, s, None), 1, up=True)
    assert open_["readings"] is None and open_["path"] == "untrusted"


def test_the_top_band_has_nothing_above():
    draws = world(3.0, 0.3, 4.0, 1.0, 500)
    table = ev.evidence_tipping(draws, CASE).set_index("way")
    assert table.loc["up", "text"] == "none: already in the top band" and pd.isna(table.loc["up", "target_band"])


def test_a_reweighting_too_close_to_the_edge_to_decide_is_refitted():
    """Here reweighting puts P after 3 readings at 0.2044, within 3 standard errors of the edge 0.2; a fit decides."""
    m, tau, b0, w = 0.5, 0.8, -2.3, 1.5
    z = logit(0.1)
    draws = world(m, tau, b0, w, 20000, seed=6, sign=-1.0)
    made = []

    def refit_at(n, k, z_, s_):
        made.append(n)
        mn, tn = after(-m, tau, n, -z_, s_)  # the mirror image: sign -1 on x is sign +1 on -x
        return world(-mn, tn, b0, w, 20000, seed=200 + n, sign=-1.0)

    counter = ev._Counter(draws, 0, z, S_B2, refit_at)
    ok, p3, _ = counter.trusted(3, 0)
    assert ok and abs(p3 - 0.2) < 0.006 and not counter.trusted(3, 0, edge=0.2)[0]
    n, p_n, _ = closed_form_count(-m, tau, b0, w, -z, S_B2, 0.2, up=True)
    found = ev.tipping_count(counter, 1, up=True)
    assert found["readings"] == n == 3 and 3 in made and found["p"] == pytest.approx(p_n, abs=0.003)
