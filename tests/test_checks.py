"""Predictive checks and PSIS-LOO, each formula against an independent computation (scipy, brute force).

The fast tests use hand-built covariances and stand-in posteriors; the slow ones fit the cases.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance

from forecast.analysis.checks import bernoulli_check, gaussian_check, judgment_covariance, mahalanobis, predictive_checks
from forecast.analysis.loo import bernoulli_loglik, psis_loo, reading_loo_loglik


def spd(n, seed=0):
    """A random symmetric positive-definite matrix with correlated entries."""
    a = np.random.default_rng(seed).normal(size=(n, n))
    return a @ a.T + n * np.eye(n) * 0.3


# -- the readings' leave-one-out conditional ---------------------------------------------------------
def brute_conditional(z, mu, sigma, j):
    """log p(z_j | z_-j) of a multivariate normal, from the partitioned covariance (no precision matrix)."""
    rest = [i for i in range(len(z)) if i != j]
    s_jr = sigma[j, rest]
    s_rr = sigma[np.ix_(rest, rest)]
    mean = mu[j] + s_jr @ np.linalg.solve(s_rr, z[rest] - mu[rest])
    var = sigma[j, j] - s_jr @ np.linalg.solve(s_rr, s_jr)
    return stats.norm.logpdf(z[j], mean, np.sqrt(var))


def test_reading_loo_loglik_is_the_conditional_of_a_multivariate_normal():
    rng = np.random.default_rng(1)
    sigma = spd(5)
    z = rng.normal(size=5)
    mus = rng.normal(size=(3, 5))
    got = reading_loo_loglik(z, mus, sigma)
    assert got.shape == (3, 5)
    for s in range(3):
        for j in range(5):
            assert got[s, j] == pytest.approx(brute_conditional(z, mus[s], sigma, j), abs=1e-10)


def test_reading_loo_loglik_of_independent_readings_is_the_marginal():
    sd = np.array([0.5, 1.0, 2.0])
    z, mu = np.array([0.3, -1.0, 2.5]), np.array([0.0, 0.5, 1.0])
    assert reading_loo_loglik(z, mu, np.diag(sd**2)) == pytest.approx(stats.norm.logpdf(z, mu, sd))


def test_bernoulli_loglik_matches_scipy_and_stays_finite():
    eta = np.array([-3.0, -0.2, 0.0, 1.5, 40.0, -40.0])
    y = np.array([1, 0, 1, 1, 1, 0])
    p = 1 / (1 + np.exp(-eta))
    assert bernoulli_loglik(y, eta) == pytest.approx(stats.bernoulli.logpmf(y, p))
    assert np.isfinite(bernoulli_loglik([0, 1], [800.0, -800.0])).all()


# -- the predictive checks ---------------------------------------------------------------------------
def test_mahalanobis_matches_scipy():
    sigma = spd(4, seed=2)
    q = np.linalg.inv(sigma)
    r = np.random.default_rng(3).normal(size=(2, 4))
    for row, got in zip(r, mahalanobis(r, q)):
        assert got == pytest.approx(distance.mahalanobis(row, np.zeros(4), q) ** 2)


def test_gaussian_check_intervals_and_p_value_against_the_exact_distributions():
    """With one parameter value, replicates are Normal(mu, Sigma): intervals mu ± z_0.95 sd, D_rep ~ chi2(J)."""
    sigma = spd(3, seed=4)
    mu = np.array([0.5, -1.0, 2.0])
    z = np.array([3.0, -1.2, 2.1])
    n = 200_000
    res = gaussian_check(z, np.tile(mu, (n, 1)), sigma, np.random.default_rng(5), prob=0.9)
    sd = np.sqrt(np.diag(sigma))
    assert res["low"] == pytest.approx(mu + stats.norm.ppf(0.05) * sd, abs=0.02)
    assert res["high"] == pytest.approx(mu + stats.norm.ppf(0.95) * sd, abs=0.02)
    inside = (z >= mu + stats.norm.ppf(0.05) * sd) & (z <= mu + stats.norm.ppf(0.95) * sd)
    assert list(res["inside"]) == list(inside) and res["share_inside"] == pytest.approx(inside.mean())
    d = (z - mu) @ np.linalg.solve(sigma, z - mu)
    assert res["p_value"] == pytest.approx(stats.chi2.sf(d, 3), abs=0.005)


def test_bernoulli_check_against_the_binomial():
    """Equal chances p in every case and draw: the count of yes is Binomial(n, p)."""
    n, p, draws = 20, 0.3, 200_000
    y = np.array([1] * 9 + [0] * 11)
    res = bernoulli_check(y, np.full((draws, n), np.log(p / (1 - p))), np.random.default_rng(6), prob=0.9)
    assert res["yes"] == 9 and res["cases"] == 20
    assert res["p_value"] == pytest.approx(stats.binom.sf(8, n, p), abs=0.005)
    assert (res["yes_low"], res["yes_high"]) == (stats.binom.ppf(0.05, n, p), stats.binom.ppf(0.95, n, p))
    # the Brier discrepancy by hand: observed sum (y - p)^2, replicated mean n p (1 - p)
    assert res["brier_observed"] == pytest.approx(9 * 0.7**2 + 11 * 0.3**2)
    assert res["brier_replicated"] == pytest.approx(n * p * (1 - p), rel=0.01)


def test_judgment_covariance_by_hand():
    assert judgment_covariance([1.0, 2.0], 0.5).tolist() == [[1.25, 0.25], [0.25, 4.25]]


# -- on a case, with a stand-in posterior ------------------------------------------------------------
def stand_in(case, chains=2, draws=1000, seed=0):
    """A fitted-looking result: posterior draws of base, weight, level and log_odds in a DataTree."""
    import xarray as xr

    rng = np.random.default_rng(seed)
    k = len(case.indicators)
    sign = np.array([1.0 if i.direction == "raises" else -1.0 for i in case.spec.indicators])
    level = rng.beta(8, 8, (chains, draws, k))
    weight = rng.lognormal(np.log(0.5), 0.3, (chains, draws, k))
    base = rng.normal(-1.0, 0.3, (chains, draws))
    log_odds = base + (sign * weight * (2 * level - 1)).sum(-1)
    post = xr.Dataset({"base": (("chain", "draw"), base), "weight": (("chain", "draw", "indicator"), weight),
                       "level": (("chain", "draw", "indicator"), level), "log_odds": (("chain", "draw"), log_odds)},
                      coords={"chain": range(chains), "draw": range(draws), "indicator": case.indicator_ids})
    tree = xr.DataTree.from_dict({"posterior": post})

    def stacked(name):
        v = post[name].values
        return v.reshape(chains * draws, *v.shape[2:])

    return SimpleNamespace(tree=tree, draws=stacked)


def test_checks_of_a_case_cover_every_observation(belarus):
    import csv

    result = stand_in(belarus)
    checks = predictive_checks(result, belarus)
    with (belarus.root / "readings.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(checks.readings.index) == [r["id"] for r in rows]
    n = checks.to_dict()
    assert n["readings"]["n"] == len(rows) and n["readings"]["share_outside_unit"] == 0.0
    assert ((checks.readings["low"] > 0) & (checks.readings["high"] < 1)).all()
    with (belarus.root / "reference_cases.csv").open(encoding="utf-8") as f:
        refs = list(csv.DictReader(f))
    assert n["reference_outcomes"]["yes"] == sum(r["outcome"] == "yes" for r in refs) == n["prior_reference_outcomes"]["yes"]
    assert n["reference_outcomes"]["cases"] == len(refs) == n["class_rate"]["cases"]
    assert checks.yes_posterior.shape == (2000,) and checks.yes_prior.max() <= len(refs)
    assert n["judgments"]["n"] == len(belarus.judgments)
    json.dumps(n)
    assert "Readings:" in checks.markdown()


def test_checks_without_reference_cases_or_judgments(harbour):
    checks = predictive_checks(stand_in(harbour), harbour)
    n = checks.to_dict()
    assert n["reference_outcomes"] is None and n["judgments"] is None and checks.yes_prior is None
    assert len(checks.judgments) == 0 and len(checks.readings) == len(harbour.readings)


def test_psis_loo_agrees_with_plain_importance_sampling(belarus):
    """For benign draws the Pareto-smoothed estimate is close to the raw one, -log mean_s exp(-log p_is)."""
    from forecast.analysis.loo import pointwise_loglik

    result = stand_in(belarus, draws=2000)
    loo = psis_loo(result, belarus)
    ll = pointwise_loglik(result, belarus)
    raw = {g: -np.log(np.mean(np.exp(-v.reshape(-1, v.shape[-1])), axis=0)) for g, v in ll.items()}
    reading_rows = loo.pointwise["group"] == "reading"
    ok = (loo.pointwise["pareto_k"] < 0.4).to_numpy()  # near k = 0.5 smoothing may move a term by 0.1
    assert np.allclose(loo.pointwise.loc[reading_rows.to_numpy() & ok, "elpd"], raw["readings"][ok[: len(raw["readings"])]], atol=0.05)
    g = loo.groups
    assert g["readings"]["n"] == len(belarus.readings) and g["reference_outcomes"]["n"] == len(belarus.reference_cases)
    assert g["all"]["elpd"] == pytest.approx(g["readings"]["elpd"] + g["reference_outcomes"]["elpd"])
    elpd_i = loo.pointwise["elpd"].to_numpy()
    assert g["all"]["se"] == pytest.approx(np.sqrt(elpd_i.size) * elpd_i.std(ddof=1))  # ArviZ's sd: divisor n - 1
    assert g["all"]["k_over"] == int((loo.pointwise["pareto_k"] > g["all"]["good_k"]).sum())
    lppd = sum(np.log(np.mean(np.exp(v.reshape(-1, v.shape[-1])), axis=0)).sum() for v in ll.values())
    assert g["all"]["p_loo"] == pytest.approx(lppd - g["all"]["elpd"])
    assert set(loo.to_dict()["pareto_k"]) == set(loo.pointwise.index)


# -- slow: the real fits and the run folder ----------------------------------------------------------
@pytest.mark.slow
def test_run_writes_the_checks(belarus, cli_json):
    data = cli_json("run", belarus.root)
    checks = data["checks"]
    assert checks["readings"]["n"] == len(belarus.readings) and checks["readings"]["share_outside_unit"] == 0.0
    assert 0 <= checks["reference_outcomes"]["p_value"] <= 1 and checks["prior_reference_outcomes"]["yes_low"] <= checks["prior_reference_outcomes"]["yes_high"]
    assert checks["loo"]["readings"]["n"] == len(belarus.readings)
    run = Path(data["run_dir"])
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    assert summary["checks"]["loo"]["all"]["n"] == len(belarus.readings) + len(belarus.reference_cases)
    for stem in ("checks_readings", "checks_outcomes"):
        assert all((run / f"{stem}.{ext}").exists() for ext in ("png", "svg", "pdf", "csv"))
    assert (run / "loo.csv").is_file() and "Predictive checks" in (run / "summary.md").read_text(encoding="utf-8")


# -- the charts and their data twins -----------------------------------------------------------------
def test_checks_charts_draw_their_data(belarus):
    import matplotlib.pyplot as plt

    from forecast.output.charts import checks as cc

    checks = predictive_checks(stand_in(belarus), belarus)
    data = cc.predictive_intervals_data(checks)
    assert list(data["kind"]) == ["reading"] * len(belarus.readings) + ["judgment"] * len(belarus.judgments)
    assert (data["low"] <= data["median"]).all() and (data["median"] <= data["high"]).all()
    counts = cc.outcome_counts_data(checks)
    assert set(counts["check"]) == {"prior", "posterior"}
    assert counts.groupby("check")["share"].sum().to_numpy() == pytest.approx([1.0, 1.0])
    assert counts.groupby("check")["yes"].max().tolist() == [len(belarus.reference_cases)] * 2
    post = counts[counts["check"] == "posterior"]
    assert float(post.loc[post["yes"] >= post["observed"], "share"].sum()) == pytest.approx(checks.numbers["reference_outcomes"]["p_value"])
    for fig in (cc.plot_predictive_intervals(checks), cc.plot_outcome_counts(checks)):
        assert fig.axes
        plt.close(fig)


def test_outcome_chart_refuses_a_case_without_reference_cases(harbour):
    from forecast.output.charts import checks as cc

    checks = predictive_checks(stand_in(harbour), harbour)
    assert cc.outcome_counts_data(checks).empty
    with pytest.raises(ValueError, match="no reference cases"):
        cc.plot_outcome_counts(checks)
