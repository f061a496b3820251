"""The independent simulator of ``bench/sbc.py`` simulates what the model's likelihood describes, and SBC runs.

The simulator tells the model's story forwards (walks, shared errors, own noise, outcomes,
judgments with a shared error); these tests check, by Monte Carlo, that the story it tells has the
moments the density of ``bench/independent.py`` states (which ``tests/test_independent_check.py``
checks against the model), and that simulated data go into a case intact.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import special

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import independent as ind  # noqa: E402
import sbc  # noqa: E402


@pytest.fixture
def evidence_case(tmp_path):
    from forecast import load_case

    return load_case(sbc.write_second_case_with_evidence(tmp_path))


def _truth(d):
    return ind.draw_prior(d, np.random.default_rng(0))


def test_simulated_readings_have_the_stated_covariance(evidence_case):
    from helpers import with_model

    d = ind.design(with_model(evidence_case, level_volatility=3.0))  # a walk large enough to see
    assert d.age.max() > 0 and len(set(d.source_key)) < d.z.size  # walks and shared errors both in play
    truth = _truth(d)
    rng = np.random.default_rng(1)
    n = 5000
    z = np.array([ind.simulate(d, truth, rng)["reading_z"] for _ in range(n)])
    resid = z - special.logit(truth["level"])[d.reading_k]
    se = np.sqrt((d.sigma**2 + np.outer(np.diag(d.sigma), np.diag(d.sigma))) / n)
    assert np.all(np.abs(resid.mean(axis=0)) < 4 * np.sqrt(np.diag(d.sigma) / n))
    assert np.all(np.abs(np.cov(resid.T) - d.sigma) < 4.5 * se)


def test_simulated_judgments_and_outcomes_follow_the_model(evidence_case):
    d = ind.design(evidence_case)
    truth = _truth(d)
    rng = np.random.default_rng(2)
    n = 5000
    sims = [ind.simulate(d, truth, rng) for _ in range(n)]
    c = np.array([s["judgment_c"] for s in sims])
    cov = np.diag(d.judgment_t**2) + d.tau**2
    assert np.allclose(c.mean(axis=0), truth["log_odds"], atol=4 * np.sqrt(np.diag(cov) / n).max())
    se = np.sqrt((cov**2 + np.outer(np.diag(cov), np.diag(cov))) / n)
    assert np.all(np.abs(np.cov(c.T) - cov) < 4.5 * se)
    # the first three reference cases are coded on every indicator: P(yes) = expit(eta)
    o = np.array([s["outcome"] for s in sims])
    for i in range(3):
        ks, x = d.coded[i]
        assert sorted(ks) == list(range(d.k))
        centred = np.empty(d.k)
        centred[ks] = x
        p = special.expit(truth["base"] + (d.sign * truth["weight"] * centred).sum())
        assert abs(o[:, i].mean() - p) < 4 * np.sqrt(p * (1 - p) / n) + 1e-9


def test_simulated_data_go_into_the_case_intact(evidence_case):
    d = ind.design(evidence_case)
    rng = np.random.default_rng(3)
    sim = ind.simulate(d, _truth(d), rng)
    copy = sbc.simulated_case(evidence_case, sim)
    d2 = ind.design(copy)
    assert np.allclose(d2.z, np.clip(sim["reading_z"], special.logit(0.05), special.logit(0.95)), atol=1e-12)
    assert list(d2.outcome) == list(sim["outcome"])
    assert np.allclose(d2.judgment_c, sim["judgment_c"], atol=1e-8)
    assert np.allclose(d2.judgment_t, d.judgment_t, atol=1e-8)  # the same design: only the data change
    assert np.array_equal(d2.sigma, d.sigma)


def test_uniformity_of_exactly_uniform_ranks():
    import pandas as pd

    ranks = pd.DataFrame({"a": np.arange(100).repeat(3), "divergences": 0, "clipped": 0})
    table = sbc.uniformity(ranks)
    assert table.loc["a", "p_value"] == pytest.approx(1.0)
    assert [table.loc["a", f"bin{b}"] for b in range(10)] == [30] * 10


@pytest.mark.slow
def test_sbc_machinery_runs(tmp_path):
    """Twenty simulations through the public fitting path: ranks in range, histograms and a figure (not calibration)."""
    out = tmp_path / "sbc"
    code = sbc.main(["--sims", "20", "--draws", "100", "--tune", "150", "--out", str(out), "--seed", "5", "--serial"])
    import pandas as pd

    ranks = pd.read_csv(out / "ranks.csv")
    params = [c for c in ranks.columns if c not in ("divergences", "clipped")]
    assert len(ranks) == 20 and len(params) == 1 + 4 + 4 + 1
    assert ranks[params].min().min() >= 0 and ranks[params].max().max() <= sbc.L
    assert ranks[params].nunique().min() > 1  # the truth is not always on one side of the posterior
    table = pd.read_csv(out / "uniformity.csv", index_col=0)
    assert set(table.index) == set(params) and table["p_value"].between(0, 1).all()
    assert (out / "rank_histograms.png").stat().st_size > 10_000
    assert code in (0, 1)
