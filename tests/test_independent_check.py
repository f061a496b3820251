"""The model's log density against one written apart from the model code (``bench/independent.py``).

Two checks, because each misses what the other catches:

- the log density *differences* between parameter points, term by term, against the PyMC model's
  (``compile_logp`` on the value variables ``base_class``, ``weight_log__``, ``level_logodds__``, so
  the independent density carries the Jacobians ``sum ln w + sum ln(l (1 - l))``): this finds a
  coding slip in either, to machine precision, but not a definition both share;
- the Belarus posterior mean of P by importance sampling of the independent density (two million
  draws) against the toolkit's NUTS fit, within their combined Monte Carlo error.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import independent as ind  # noqa: E402



def _with_all_evidence(root: Path):
    """The second case with reference cases (one coded on two indicators only), two judgments, an
    interested source, an indicator's own volatility, a level judgment and a skewed level prior:
    every term of the density in play."""
    from sbc import write_second_case_with_evidence

    from forecast import load_case

    case = load_case(write_second_case_with_evidence(root))
    spec = case.spec.model_copy(deep=True)
    spec.indicators[0].volatility = 1.3
    spec.indicators[2].level = 0.7
    spec.model.level_prior = (2.5, 1.5)
    return dataclasses.replace(case, spec=spec)


def _points(d: ind.Design, n: int, seed: int) -> np.ndarray:
    """``n`` unconstrained points from the prior (a wide spread of parameter values)."""
    x = ind.draw_prior(d, np.random.default_rng(seed), n)
    return np.column_stack([x["base_class"], np.log(x["weight"]), np.log(x["level"] / (1 - x["level"]))])


def _model_terms(case, thetas: np.ndarray) -> dict[str, np.ndarray]:
    """The PyMC model's total log density and its likelihood terms at unconstrained points."""
    from forecast.model.model import build_model

    model = build_model(case)
    k = len(case.indicators)
    names = {"readings": "readings", "reference": "reference_outcome", "judgments": "judgments"}
    outs = [model.logp()] + [model.logp(vars=[model[name]], jacobian=False) for name in names.values()]
    f = model.compile_fn(outs, inputs=model.value_vars, point_fn=True)
    rows = np.array([f({"base_class": t[0], "weight_log__": t[1:1 + k], "level_logodds__": t[1 + k:]}) for t in thetas])
    return dict(zip(["total", *names], rows.T))


def _independent_terms(case, thetas: np.ndarray) -> dict[str, np.ndarray]:
    d = ind.design(case)
    b, w, lvl = ind.unpack(d, thetas)
    return {"total": ind.log_posterior_unconstrained(d, thetas), **ind.log_likelihood(d, b, w, lvl)}


def _assert_same_differences(case, seed: int):
    d = ind.design(case)
    thetas = _points(d, 6, seed)
    model, mine = _model_terms(case, thetas), _independent_terms(case, thetas)
    for term in ("readings", "reference", "judgments", "total"):
        np.testing.assert_allclose(model[term] - model[term][0], mine[term] - mine[term][0], rtol=1e-9, atol=1e-8, err_msg=term)
    # the differences are not all zero: the points and the terms really differ
    assert np.ptp(mine["total"]) > 1.0


def test_log_density_differences_match_on_the_second_case(second_case):
    from forecast import load_case

    _assert_same_differences(load_case(second_case), seed=3)


def test_log_density_differences_match_with_every_term(tmp_path):
    case = _with_all_evidence(tmp_path)
    assert len(case.reference_cases) == 4 and len(case.judgments) == 2
    assert {s.stance for s in case.sources.values()} == {"neutral", "interested"}
    d = ind.design(case)
    assert np.ptp(d.centre) > 0 and d.judgment_c.size == 2
    _assert_same_differences(case, seed=4)


def test_independent_density_by_hand_on_one_reading(second_case):
    """One reading, no other evidence: the density is a Normal in logit(level) that a hand computation gives."""
    from scipy import stats

    from forecast import load_case

    case = load_case(second_case)
    vote = case.readings[0]
    case = dataclasses.replace(case, readings=[vote])
    d = ind.design(case)
    sd_all = 4 * 0.12 * 1.2 * 1.2  # B2 on the log-odds scale; alone, a neutral source shares nothing; age 0
    level = np.array([[0.6, 0.5, 0.5, 0.5], [0.8, 0.5, 0.5, 0.5]])
    got = ind.log_likelihood(d, np.zeros(2), np.ones((2, 4)), level)["readings"]
    z = np.log(0.9 / 0.1)  # "very high" = 0.9
    want = stats.norm.logpdf(z, np.log(level[:, 0] / (1 - level[:, 0])), sd_all)
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.slow
def test_belarus_posterior_agrees_with_importance_sampling(belarus, compiled):
    """Independent importance sampling (two million draws) against NUTS (4 x 1 000), within Monte Carlo error."""
    from arviz_stats.base import array_stats

    from forecast import FitSettings
    from forecast.model.fit import sample
    from importance import importance

    _assert_same_differences(belarus, seed=5)
    mine = importance(belarus, 2_000_000, seed=1)
    assert mine["pareto_k"] < 0.7
    fit = sample(compiled, belarus, FitSettings(draws=1000, tune=1000, chains=4, seed=11), progress=False)
    p = np.asarray(fit.tree["posterior"]["p"])
    nuts_mean = float(p.mean())
    nuts_mcse = float(array_stats.mcse(p, chain_axis=0, draw_axis=1))
    z = (nuts_mean - mine["p_mean"]) / np.hypot(nuts_mcse, mine["p_mcse"])
    print(f"Belarus P: importance sampling {mine['p_mean']:.5f} +/- {mine['p_mcse']:.5f}, "
          f"NUTS {nuts_mean:.5f} +/- {nuts_mcse:.5f}, z = {z:.2f}")
    assert abs(z) < 3.5
