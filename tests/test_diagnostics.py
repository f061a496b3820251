"""MCMC diagnostics against numbers worked out apart from ArviZ: AR(1) chains, batch means, iid quantiles, E-BFMI.

- MCSE of a mean: for an AR(1) chain ``x_t = phi x_{t-1} + e_t``, ``e_t ~ Normal(0, s^2)``, the
  mean of ``N`` draws has asymptotic variance ``s^2 / ((1 - phi)^2 N)``; batch means give a second
  estimate from the draws themselves.
- MCSE of a quantile of ``N`` iid draws: ``sqrt(q (1 - q) / N) / f(x_q)`` with ``f`` the density.
- E-BFMI of a chain: ``sum diff(E)^2 / sum (E - mean E)^2``.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from forecast.model.posterior import BFMI_MIN, diagnose, e_bfmi, mcse_of_p


def ar1(rng, chains, draws, phi, s=1.0):
    x = np.empty((chains, draws))
    x[:, 0] = rng.normal(0, s / np.sqrt(1 - phi**2), chains)
    for t in range(1, draws):
        x[:, t] = phi * x[:, t - 1] + rng.normal(0, s, chains)
    return x


def tree(p, base=None, energy=None, diverging=0):
    chains, draws = p.shape
    post = {"p": (("chain", "draw"), p), "base": (("chain", "draw"), p if base is None else base)}
    div = np.zeros((chains, draws), bool)
    div.flat[:diverging] = True
    st = {"diverging": (("chain", "draw"), div)}
    if energy is not None:
        st["energy"] = (("chain", "draw"), energy)
    return xr.DataTree.from_dict({"posterior": xr.Dataset(post), "sample_stats": xr.Dataset(st)})


def test_mcse_of_the_mean_matches_the_ar1_formula_and_batch_means():
    rng = np.random.default_rng(1)
    phi, chains, draws = 0.8, 4, 20_000
    x = ar1(rng, chains, draws, phi)
    p = 0.5 + 0.01 * x  # P linear in x: its MCSE is 0.01 times x's
    exact = 0.01 / (1 - phi) / np.sqrt(chains * draws)
    batches = p.reshape(chains, 100, draws // 100).mean(axis=2).ravel()
    batch_means = batches.std(ddof=1) / np.sqrt(batches.size)
    d = diagnose(tree(p))
    assert d.mcse_p_mean == pytest.approx(exact, rel=0.1)
    assert d.mcse_p_mean == pytest.approx(batch_means, rel=0.3)
    assert mcse_of_p(p)[0] == d.mcse_p_mean


def test_mcse_of_the_interval_ends_matches_iid_quantile_theory():
    a, b = 2.0, 8.0
    p = stats.beta(a, b).rvs(size=(4, 10_000), random_state=np.random.default_rng(2))
    d = diagnose(tree(p))
    flat = np.sort(p.ravel())
    n = flat.size
    inc = int(np.floor(0.9 * n))
    i = int(np.argmin(flat[inc:] - flat[: n - inc]))  # the 90 % HDI by hand
    for end, mcse in ((flat[i], d.mcse_p_low), (flat[i + inc], d.mcse_p_high)):
        q = np.mean(flat <= end)
        theory = np.sqrt(q * (1 - q) / n) / stats.beta(a, b).pdf(end)
        assert mcse == pytest.approx(theory, rel=0.2)
    assert d.mcse_p_mean == pytest.approx(p.std(ddof=1) / np.sqrt(n), rel=0.1)


def test_e_bfmi_is_the_numpy_formula_per_chain_and_warns_below_0_3():
    rng = np.random.default_rng(3)
    energy = np.vstack([rng.normal(size=1000), ar1(rng, 1, 1000, 0.95)[0], rng.normal(size=1000)])
    by_hand = [np.sum(np.diff(e) ** 2) / np.sum((e - e.mean()) ** 2) for e in energy]
    assert e_bfmi(energy) == pytest.approx(by_hand, rel=1e-12)
    assert by_hand[0] > 1.5 and by_hand[1] < BFMI_MIN  # iid energy: about 2; a sticky chain: about 2 (1 - 0.95)
    p = 0.3 + 0.01 * rng.normal(size=(3, 1000))
    d = diagnose(tree(p, energy=energy))
    assert d.bfmi == pytest.approx(tuple(by_hand)) and d.bfmi_min == pytest.approx(by_hand[1])
    assert [w for w in d.warnings if "E-BFMI" in w] == [f"E-BFMI {by_hand[1]:.2f} < 0.3 in a chain: the sampler explores the energy "
                                                       "poorly and may miss the posterior's tails; reparametrise or run longer warm-up (--tune)"]
    assert diagnose(tree(p)).bfmi == () and diagnose(tree(p)).bfmi_min is None  # no energy stored: nothing to say


def test_tail_ess_is_the_smallest_over_variables_and_warns_below_100_per_chain():
    rng = np.random.default_rng(4)
    iid = 0.3 + 0.01 * rng.normal(size=(2, 2000))
    d = diagnose(tree(iid))
    assert d.ess_tail_min == pytest.approx(4000, rel=0.15) and d.ess_wanted == 200 and d.ok
    sticky = ar1(rng, 2, 2000, 0.995)  # an autocorrelation time of about 400: a few effective draws
    d = diagnose(tree(iid, base=sticky))
    assert d.ess_tail_min < 100 and d.ess_bulk_min < 100
    assert any(w.startswith("tail ESS") and "< 200 (100 per chain)" in w for w in d.warnings)
    assert any(w.startswith("bulk ESS") for w in d.warnings)


def test_a_large_monte_carlo_error_of_p_warns_and_a_small_one_does_not():
    rng = np.random.default_rng(5)
    p = 0.3 + 0.1 * ar1(rng, 2, 400, 0.99, s=np.sqrt(1 - 0.99**2))  # sd 0.1, very sticky
    d = diagnose(tree(p, base=0.01 * rng.normal(size=p.shape)))
    assert d.mcse_p_mean > 0.1 * 0.25  # more than 10 % of the 20-45 % band
    assert any(w.startswith("Monte Carlo error of P's mean") and "(20%-45%)" in w for w in d.warnings)
    fine = diagnose(tree(0.3 + 0.05 * rng.normal(size=(4, 1000))))
    assert fine.ok and fine.mcse_p_mean < 0.002


def test_the_interval_ends_warn_when_their_error_is_large_next_to_the_interval():
    # iid draws: the mean is precise, but 40 draws put the 90 % interval's ends on one or two draws each
    rng = np.random.default_rng(7)
    p = 0.5 + 0.002 * rng.normal(size=(2, 20))
    d = diagnose(tree(p))
    low, high = np.quantile(p, [0.05, 0.95])
    assert d.mcse_p_mean < 0.001 and max(d.mcse_p_low, d.mcse_p_high) > 0.05 * (high - low) * 0.9
    assert any(w.startswith("Monte Carlo error of the interval's") for w in d.warnings)
    assert not any(w.startswith("Monte Carlo error of P's mean") for w in d.warnings)


def test_to_dict_is_plain_data_with_every_number():
    import json

    rng = np.random.default_rng(6)
    d = diagnose(tree(0.3 + 0.01 * rng.normal(size=(2, 500)), energy=rng.normal(size=(2, 500)), diverging=2))
    out = json.loads(json.dumps(d.to_dict()))
    assert out["divergences"] == 2 and not out["ok"] and out["warnings"] == d.warnings
    for key in ("r_hat_max", "ess_bulk_min", "ess_tail_min", "bfmi_min", "mcse_p_mean", "mcse_p_low", "mcse_p_high"):
        assert out[key] == pytest.approx(getattr(d, key))
    assert len(out["bfmi"]) == 2 and out["ess_wanted"] == 200 and out["chains"] == 2 and out["draws"] == 500
    assert "2 divergences" in d.sentence() and f"±{d.mcse_p_mean * 100:.2f} pts" in d.sentence()
