"""Exact leave-one-out, checked by fitting each reduced case directly.

On the second case with three reference cases (``tests/helpers.py``), every fold of
:func:`~forecast.analysis.backtest.leave_one_out` is compared with

- ``model``: the case written to disk *without* reference case ``i`` (and, as the backtest
  documents, without readings or judgments), fitted with the same compiled model and settings, and
  case ``i`` predicted here in numpy from the posterior draws of ``base`` and ``weight``
  (every indicator of a reference case is coded, so its log-odds are ``base + sum_k s_k w_k (2 x_ik - 1)``);
- ``base_rate``: the base-rate-only model, whose posterior over ``base`` given the other outcomes is
  one-dimensional and computed here by quadrature on a grid:
  ``p(b | o) ~ Normal(b; mu, sigma) prod_j expit(b)^o_j (1 - expit(b))^(1 - o_j)``;
- ``stated_weights``: the case fitted with no reference cases at all.

A held-out case that leaks into its own training set, or a base-rate forecaster that keeps its
indicators, moves these predictions by far more than the Monte Carlo tolerance.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import REFERENCE_CASES, SECOND_CASE_BASE_RATE, SECOND_CASE_SIGNS, write_readings, write_reference_cases, write_second_case

SETTINGS = {"draws": 500, "tune": 500, "chains": 2, "seed": 11}
TOL = 0.02
"""Monte Carlo tolerance on a posterior mean of P from 1 000 draws (its standard error is about 0.005)."""

pytestmark = pytest.mark.slow


def expit(x):
    return 1.0 / (1.0 + np.exp(-x))


def write_case(root, cases):
    """The second case under ``root`` with these reference cases and no readings."""
    case = write_second_case(root)
    write_readings(case, [])
    if cases:
        write_reference_cases(case, cases)
    return case


def base_rate_prediction(outcomes) -> float:
    """Posterior mean of ``expit(base)`` given ``outcomes``, by quadrature over ``base``."""
    value, low, high = SECOND_CASE_BASE_RATE
    z = 1.6448536269514722
    logit = lambda p: math.log(p / (1 - p))  # noqa: E731
    mu, sigma = logit(value), (logit(high) - logit(low)) / (2 * z)
    b = np.linspace(mu - 10 * sigma, mu + 10 * sigma, 20001)
    q = expit(b)
    log_post = -0.5 * ((b - mu) / sigma) ** 2
    for o in outcomes:
        log_post += np.log(q) if o == "yes" else np.log1p(-q)
    w = np.exp(log_post - log_post.max())
    return float((w * q).sum() / w.sum())


@pytest.fixture(scope="module")
def backtest(tmp_path_factory, harbour_compiled):
    from forecast import FitSettings, load_case
    from forecast.analysis.backtest import leave_one_out

    case = load_case(write_case(tmp_path_factory.mktemp("loo"), REFERENCE_CASES))
    return leave_one_out(case, harbour_compiled, FitSettings(**SETTINGS))


def test_table_lists_each_reference_case_once_with_its_outcome(backtest):
    t = backtest.table
    assert list(t["case"]) == [c[0] for c in REFERENCE_CASES]
    assert list(t["outcome_value"]) == [1 if c[1] == "yes" else 0 for c in REFERENCE_CASES]


@pytest.mark.parametrize("i", range(len(REFERENCE_CASES)))
def test_model_prediction_equals_a_fit_of_the_case_without_it(tmp_path, harbour_compiled, backtest, i):
    from forecast import FitSettings, load_case
    from forecast.model.fit import sample

    others = [c for j, c in enumerate(REFERENCE_CASES) if j != i]
    reduced = load_case(write_case(tmp_path, others))
    assert [r.id for r in reduced.reference_cases] == [c[0] for c in others]
    fitted = sample(harbour_compiled, reduced, FitSettings(**SETTINGS), progress=False)
    base, weight = fitted.draws("base"), fitted.draws("weight")
    levels = REFERENCE_CASES[i][2]
    x = np.array([levels[k] for k in ("ballot_mandate", "offer_gap", "strike_fund", "mediation")])
    expected = float(expit(base + (np.array(SECOND_CASE_SIGNS) * weight * (2 * x - 1)).sum(axis=-1)).mean())
    row = backtest.table.iloc[i]
    assert row["case"] == REFERENCE_CASES[i][0]
    assert row["p_model"] == pytest.approx(expected, abs=TOL)


@pytest.mark.parametrize("i", range(len(REFERENCE_CASES)))
def test_base_rate_prediction_equals_quadrature_over_the_base(backtest, i):
    others = [c[1] for j, c in enumerate(REFERENCE_CASES) if j != i]
    assert backtest.table.iloc[i]["p_base_rate"] == pytest.approx(base_rate_prediction(others), abs=TOL)


def test_quadrature_by_hand():
    """The quadrature itself: with no outcomes it is the prior mean of expit(base), here by brute-force sampling."""
    value, low, high = SECOND_CASE_BASE_RATE
    logit = lambda p: math.log(p / (1 - p))  # noqa: E731
    sigma = (logit(high) - logit(low)) / (2 * 1.6448536269514722)
    draws = np.random.default_rng(0).normal(logit(value), sigma, 400_000)
    assert base_rate_prediction([]) == pytest.approx(expit(draws).mean(), abs=2e-3)
    assert base_rate_prediction(["yes"]) > base_rate_prediction([]) > base_rate_prediction(["no"])


def test_stated_weights_prediction_equals_a_fit_without_reference_cases(tmp_path, harbour_compiled, backtest):
    from forecast import FitSettings, load_case
    from forecast.model.fit import sample

    bare = load_case(write_case(tmp_path, []))
    assert bare.reference_cases == [] and bare.readings == []
    fitted = sample(harbour_compiled, bare, FitSettings(**SETTINGS), progress=False)
    base, weight = fitted.draws("base"), fitted.draws("weight")
    for i, (_, _, levels) in enumerate(REFERENCE_CASES):
        x = np.array([levels[k] for k in ("ballot_mandate", "offer_gap", "strike_fund", "mediation")])
        expected = float(expit(base + (np.array(SECOND_CASE_SIGNS) * weight * (2 * x - 1)).sum(axis=-1)).mean())
        assert backtest.table.iloc[i]["p_stated_weights"] == pytest.approx(expected, abs=TOL)


def test_refits_in_worker_processes_give_the_same_table(tmp_path, harbour_compiled):
    """Each refit is independent: a spawned process pool (each worker compiling the model itself) gives the same numbers."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from forecast import FitSettings, load_case
    from forecast.analysis.backtest import leave_one_out

    case = load_case(write_case(tmp_path, REFERENCE_CASES))
    settings = FitSettings(draws=100, tune=100, chains=2, seed=5)
    here = leave_one_out(case, harbour_compiled, settings)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        there = leave_one_out(case, None, settings, map_function=pool.map)
    assert there.table.equals(here.table)


def test_backtest_json_carries_each_baseline_with_its_paired_difference(tmp_path, harbour_compiled, monkeypatch):
    """``forecast backtest --json`` on the second case: scores and paired differences recomputed here from backtest.csv."""
    import json
    from pathlib import Path

    import pandas as pd
    from typer.testing import CliRunner

    import forecast.model.fit
    from forecast.cli import app

    case = write_second_case(tmp_path / "case")  # with its readings: the command loads the whole case
    write_reference_cases(case, REFERENCE_CASES)
    monkeypatch.setattr(forecast.model.fit, "compile_case", lambda c: harbour_compiled)
    res = CliRunner().invoke(app, ["backtest", str(case), "--out", str(tmp_path / "runs"), "--draws", "100", "--tune", "100",
                                   "--chains", "2", "--json", "--serial"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    folder = Path(out["run_dir"])
    table = pd.read_csv(folder / "backtest.csv")
    y = table["outcome_value"].to_numpy()
    model = (table["p_model"].to_numpy() - y) ** 2
    assert list(out["baselines"]) == ["base_rate", "equal_weights", "learned_scale", "stated_weights"]
    for name, b in out["baselines"].items():
        d = (table[f"p_{name}"].to_numpy() - y) ** 2 - model
        assert b["brier"] == pytest.approx(((table[f"p_{name}"] - y) ** 2).mean()) == out[f"brier_{name}"]
        assert b["brier_diff"] == pytest.approx(d.mean()) and b["brier_diff_se"] == pytest.approx(d.std(ddof=1) / math.sqrt(3))
    assert len(out["not_held_out"]) == 4 and "base-rate prior (30%" in out["not_held_out"][0]
    assert {"differences.png", "differences.csv", "calibration.png", "weights.csv"} <= {p.name for p in folder.iterdir()}
    text = (folder / "summary.md").read_text(encoding="utf-8")
    b = out["baselines"]["learned_scale"]
    assert f"| stated weights, one learned scale | {b['brier']:.3f} | {b['log_score']:.3f} | {b['brier_diff']:+.3f} ± {b['brier_diff_se']:.3f} |" in text
    assert "## What was not held out" in text
