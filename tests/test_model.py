"""The PyMC model computes what docs/model.md says, and a small fit behaves."""

from __future__ import annotations

import numpy as np
import pytest

from forecast import maths as priors
from forecast.model.model import build_model, model_inputs


def test_model_inputs_follow_the_case(belarus):
    inputs = model_inputs(belarus)
    k = len(belarus.indicators)
    assert inputs["weight_mu"].shape == (k,)
    assert inputs["reading_whitened"].shape == (len(belarus.readings),)
    assert inputs["reading_design"].shape == (len(belarus.readings), k)
    mu, sigma = priors.base_rate_prior(belarus.spec.base_rate.value, *belarus.spec.base_rate.range)
    # the base rate was judged from the reference cases: the prior keeps its centre and is widened
    assert belarus.spec.base_rate.elicited_from == "reference_cases"
    assert inputs["base_mu"] == pytest.approx(mu) and inputs["base_sigma"] == pytest.approx(max(sigma, 1.5))
    ind = belarus.indicators[0]
    assert np.exp(inputs["weight_mu"][0]) == pytest.approx(float(priors.weight_log_odds(ind.weight, ind.weight_unit)))
    assert list(inputs["sign"]) == [i.sign for i in belarus.indicators]


def test_model_log_odds_match_numpy(belarus):
    import pymc as pm

    model = build_model(belarus)
    rng = np.random.default_rng(1)
    k = len(belarus.indicators)
    base, weight, level = -0.7, rng.uniform(0.1, 1.5, k), rng.uniform(0, 1, k)
    fixed = pm.do(model, {"base": base, "weight": weight, "level": level})
    p, contribution = pm.draw([fixed["p"], fixed["contribution"]], random_seed=0)
    sign = np.array([i.sign for i in belarus.indicators])
    expected = sign * weight * (2 * level - 1)
    assert np.allclose(contribution, expected)
    assert float(p) == pytest.approx(1 / (1 + np.exp(-(base + expected.sum()))))


@pytest.mark.slow
def test_fit_is_consistent_and_healthy(fitted):
    post = fitted.tree["posterior"]
    base = post["base"].values
    contrib = post["contribution"].values
    assert np.allclose(post["p"].values, 1 / (1 + np.exp(-(base + contrib.sum(axis=-1)))))
    sign = np.array([i["direction"] == "raises" for i in fitted.indicators]) * 2 - 1
    assert np.allclose(contrib, sign * post["weight"].values * (2 * post["level"].values - 1))
    diag = fitted.diagnostics()
    assert diag.divergences == 0 and diag.r_hat_max < 1.05


@pytest.mark.slow
def test_readings_pull_levels_towards_them(fitted, belarus):
    """public_opposition is read high (about 0.8) several times: its posterior level rises above the prior's 0.5."""
    levels = fitted.tree["posterior"]["level"].mean(("chain", "draw"))
    read = [r.level for r in belarus.readings if r.indicator == "public_opposition"]
    assert np.mean(read) > 0.6
    assert 0.5 < float(levels.sel(indicator="public_opposition")) < np.mean(read) + 0.05
