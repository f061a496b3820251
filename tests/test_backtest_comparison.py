"""The backtest's comparisons without sampling: paired differences by hand, the learned scale by brute force,
and the leave-one-out tasks as a map over picklable refits.

- Paired differences on four cases, every per-case term written out.
- The one-scale logistic baseline: its optimum against a brute-force grid and scipy's Nelder-Mead on the
  objective written here; its leave-one-out predictions on the second case (``tests/helpers.py``)
  with six invented reference cases, each case's stated score worked out from the case file's weights.
- The refits: a stand-in map records the tasks :func:`leave_one_out` hands it and answers with numbers
  that say which task they came from, so the table shows whether each answer landed in its row.
"""

from __future__ import annotations

import math
import pickle

import numpy as np
import pandas as pd
import pytest
from helpers import SECOND_CASE_SIGNS, write_reference_cases, write_second_case
from scipy import optimize

from forecast import load_case
from forecast.analysis.backtest import Backtest, Refit, leave_one_out, learned_scale, refits, run_refit
from forecast.analysis.comparison import fit_scale, paired_difference, verdict
from forecast.model.model import DATA_DIMS

STATED = np.array([math.log(2.2), 0.9, math.log(1.4), 0.7])
"""The second case's stated weights in log-odds (2.2 and 1.4 are odds multipliers)."""

SIX = (
    ("a", "yes", {"ballot_mandate": 1.0, "offer_gap": 0.8, "strike_fund": 0.6, "mediation": 0.2}),
    ("b", "no", {"ballot_mandate": 0.2, "offer_gap": 0.3, "strike_fund": 0.5, "mediation": 0.9}),
    ("c", "yes", {"ballot_mandate": 0.6, "offer_gap": 0.5, "strike_fund": 0.4, "mediation": 0.5}),
    ("d", "no", {"ballot_mandate": 0.7, "offer_gap": 0.6, "strike_fund": 0.5, "mediation": 0.4}),
    ("e", "yes", {"ballot_mandate": 0.4, "offer_gap": 0.6, "strike_fund": 0.2, "mediation": 0.6}),
    ("f", "no", {"ballot_mandate": 0.1, "offer_gap": 0.2, "strike_fund": 0.3, "mediation": 0.7}),
)


def expit(x):
    return 1.0 / (1.0 + np.exp(-x))


def objective(theta, x, y):
    """Log-likelihood of ``y`` under ``expit(a + b x)`` plus Normal(0, 10) log priors on a and b."""
    a, b = theta
    p = expit(a + b * np.asarray(x))
    return float(np.sum(np.where(np.asarray(y) == 1, np.log(p), np.log1p(-p))) - (a**2 + b**2) / 200.0)


def test_paired_difference_by_hand():
    y = [1, 0, 1, 0]
    model, base = [0.9, 0.2, 0.7, 0.1], [0.5, 0.5, 0.5, 0.5]
    d = paired_difference(model, base, y)
    # Brier terms: model 0.01, 0.04, 0.09, 0.01; baseline 0.25 each; differences 0.24, 0.21, 0.16, 0.24
    diffs = np.array([0.24, 0.21, 0.16, 0.24])
    assert d["brier"] == pytest.approx(0.25) and d["n"] == 4
    assert d["brier_diff"] == pytest.approx(0.2125)
    sd = math.sqrt(((diffs - 0.2125) ** 2).sum() / 3)  # 0.0377...
    assert d["brier_diff_se"] == pytest.approx(sd / 2)
    logs = np.log([0.9, 0.8, 0.7, 0.9]) - math.log(0.5)
    assert d["log_score"] == pytest.approx(math.log(0.5))
    assert d["log_score_diff"] == pytest.approx(logs.mean())
    assert d["log_score_diff_se"] == pytest.approx(logs.std(ddof=1) / 2)
    assert verdict(d["brier_diff"], d["brier_diff_se"]) == "the model is better"
    assert verdict(0.026, 0.024) == "no clear difference" and verdict(-0.1, 0.01) == "the baseline is better"
    one = paired_difference([0.9], [0.5], [1])
    assert math.isnan(one["brier_diff_se"]) and verdict(one["brier_diff"], one["brier_diff_se"]) == "no clear difference"


def test_fit_scale_is_the_optimum_by_grid_and_by_nelder_mead():
    x = np.array([-1.2, -0.4, 0.3, 0.5, 1.1, 1.8, -0.9])
    y = np.array([0, 1, 0, 1, 1, 1, 0])
    a, b = fit_scale(x, y)
    best = optimize.minimize(lambda t: -objective(t, x, y), [0.0, 0.0], method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-12})
    assert (a, b) == pytest.approx(tuple(best.x), abs=1e-4)
    grid_a, grid_b = np.meshgrid(np.linspace(-3, 3, 601), np.linspace(-3, 6, 901), indexing="ij")
    values = np.vectorize(lambda u, v: objective((u, v), x, y))(grid_a, grid_b)
    i, j = np.unravel_index(np.argmax(values), values.shape)
    assert a == pytest.approx(grid_a[i, j], abs=0.011) and b == pytest.approx(grid_b[i, j], abs=0.011)


def test_fit_scale_stays_finite_when_the_outcomes_separate():
    a, b = fit_scale([-1.0, 1.0], [0, 1])
    best = optimize.minimize(lambda t: -objective(t, [-1.0, 1.0], [0, 1]), [0.0, 1.0], method="Nelder-Mead",
                             options={"xatol": 1e-9, "fatol": 1e-12})
    assert np.isfinite([a, b]).all() and b > 2 and (a, b) == pytest.approx(tuple(best.x), abs=1e-4)


def test_learned_scale_leave_one_out_on_the_second_case(tmp_path):
    root = write_second_case(tmp_path)
    write_reference_cases(root, SIX)
    case = load_case(root)
    levels = np.array([list(c[2].values()) for c in SIX])
    scores = (np.array(SECOND_CASE_SIGNS) * STATED * (2 * levels - 1)).sum(axis=1)
    y = np.array([c[1] == "yes" for c in SIX], dtype=float)
    expected = []
    for i in range(len(SIX)):
        keep = np.arange(len(SIX)) != i
        t = optimize.minimize(lambda th: -objective(th, scores[keep], y[keep]), [0.0, 0.0], method="Nelder-Mead",
                              options={"xatol": 1e-10, "fatol": 1e-13}).x
        expected.append(expit(t[0] + t[1] * scores[i]))
    assert learned_scale(case) == pytest.approx(expected, abs=1e-5)
    # switching an indicator off takes it out of every score
    scores_off = scores - np.array(SECOND_CASE_SIGNS)[0] * STATED[0] * (2 * levels[:, 0] - 1)
    keep = np.arange(len(SIX)) != 0
    t = optimize.minimize(lambda th: -objective(th, scores_off[keep], y[keep]), [0.0, 0.0], method="Nelder-Mead",
                          options={"xatol": 1e-10, "fatol": 1e-13}).x
    assert learned_scale(case, without=("ballot_mandate",))[0] == pytest.approx(expit(t[0] + t[1] * scores_off[0]), abs=1e-5)


def test_leave_one_out_hands_each_refit_to_the_map_and_puts_each_answer_in_its_row(tmp_path):
    root = write_second_case(tmp_path)
    write_reference_cases(root, SIX)
    case = load_case(root)
    seen = []

    def stand_in_map(function, tasks):
        assert function is run_refit
        for task in tasks:
            seen.append(task)
            n = len(task.targets)
            code = {"model": 0.1, "base_rate": 0.2, "equal_weights": 0.3, "stated_weights": 0.4}[task.forecaster]
            yield np.full(n, code) + (0.01 * task.fold if task.fold is not None else 0.01 * np.arange(n))

    progress = []
    bt = leave_one_out(case, None, "settings", progress=lambda d, n: progress.append((d, n)), map_function=stand_in_map)
    assert len(seen) == 1 + 3 * len(SIX) and progress[-1] == (len(seen), len(seen))
    assert [t.forecaster for t in seen[:4]] == ["stated_weights", "model", "base_rate", "equal_weights"]
    assert all(t.settings == "settings" for t in seen)
    t = bt.table
    assert t["case"].tolist() == [c[0] for c in SIX] and t["outcome_value"].tolist() == y_of(SIX)
    for name, code in (("model", 0.1), ("base_rate", 0.2), ("equal_weights", 0.3), ("stated_weights", 0.4)):
        assert t[f"p_{name}"].tolist() == pytest.approx([code + 0.01 * i for i in range(len(SIX))])
    assert t["p_learned_scale"].tolist() == pytest.approx(learned_scale(case).tolist())
    on_readings = [k for k, dim in DATA_DIMS.items() if dim and (dim if isinstance(dim, tuple) else (dim,))[0] == "reading"]
    assert on_readings
    for task in seen[1:]:  # each fold's inputs hold every reference outcome but its own, and no readings
        held = SIX[task.fold]
        assert task.inputs["ref_outcome"].tolist() == [int(c[1] == "yes") for c in SIX if c is not held]
        assert all(task.inputs[k].shape[0] == 0 for k in on_readings) and task.inputs["judgment_logit"].size == 0
        assert task.targets[0].level == tuple(held[2].values())
        if task.forecaster == "base_rate":
            assert not task.inputs["sign"].any()
        if task.forecaster == "equal_weights":
            assert np.allclose(task.inputs["weight_mu"], np.log(STATED.mean())) and np.allclose(task.inputs["weight_sigma"], 0.01)
    assert seen[0].inputs["ref_outcome"].size == 0 and len(seen[0].targets) == len(SIX)


def y_of(cases):
    return [int(c[1] == "yes") for c in cases]


def test_refits_pickle_and_run_refit_is_a_top_level_function(tmp_path):
    root = write_second_case(tmp_path)
    write_reference_cases(root, SIX)
    tasks = refits(load_case(root), "settings")
    back = pickle.loads(pickle.dumps(tasks))
    assert isinstance(back[0], Refit) and [t.forecaster for t in back] == [t.forecaster for t in tasks]
    assert all(np.array_equal(a.inputs["weight_mu"], b.inputs["weight_mu"]) for a, b in zip(tasks, back))
    assert pickle.loads(pickle.dumps(run_refit)) is run_refit


def test_summary_carries_each_baseline_with_its_paired_difference():
    table = pd.DataFrame({
        "outcome_value": [1, 0, 1, 0],
        "p_model": [0.9, 0.2, 0.7, 0.1],
        "p_base_rate": [0.5, 0.5, 0.5, 0.5],
        "p_equal_weights": [0.6, 0.4, 0.6, 0.4],
        "p_learned_scale": [0.8, 0.3, 0.6, 0.2],
        "p_stated_weights": [0.8, 0.3, 0.5, 0.5],
    })
    s = Backtest(table, ["a note"]).summary()
    assert list(s["baselines"]) == ["base_rate", "equal_weights", "learned_scale", "stated_weights"]
    b = s["baselines"]["learned_scale"]
    # Brier terms: learned 0.04, 0.09, 0.16, 0.04; model 0.01, 0.04, 0.09, 0.01: differences 0.03, 0.05, 0.07, 0.03
    assert b["brier"] == pytest.approx(0.0825) and s["brier_learned_scale"] == pytest.approx(0.0825)
    assert b["brier_diff"] == pytest.approx(0.045) and b["brier_diff_se"] == pytest.approx(np.std([0.03, 0.05, 0.07, 0.03], ddof=1) / 2)
    assert s["baselines"]["equal_weights"]["brier_diff"] == pytest.approx(0.16 - 0.0375)
    assert s["not_held_out"] == ["a note"] and s["brier"] == s["brier_model"]


def test_differences_chart_and_its_twin_by_hand():
    import matplotlib.pyplot as plt
    from test_charts import texts_outside

    from forecast.output.charts import evidence as ec

    table = pd.DataFrame({"case": list("abcd"), "outcome_value": [1, 0, 1, 0], "p_model": [0.9, 0.2, 0.7, 0.1],
                          "p_base_rate": [0.5] * 4, "p_learned_scale": [0.8, 0.3, 0.6, 0.2]})
    bt = Backtest(table)
    data = ec.backtest_differences_data(bt)
    assert data["forecaster"].tolist() == ["base_rate", "base_rate", "learned_scale", "learned_scale"]
    assert data["score"].tolist() == ["Brier", "log score"] * 2
    se = np.std([0.03, 0.05, 0.07, 0.03], ddof=1) / 2
    row = data.iloc[2]
    assert (row["diff"], row["se"], row["low"], row["high"]) == pytest.approx((0.045, se, 0.045 - 2 * se, 0.045 + 2 * se))
    logs = np.log([0.9, 0.8, 0.7, 0.9]) - np.log([0.8, 0.7, 0.6, 0.8])
    assert data.iloc[3]["diff"] == pytest.approx(logs.mean()) and data.iloc[3]["se"] == pytest.approx(logs.std(ddof=1) / 2)
    fig = ec.plot_backtest_differences(bt)
    fig.canvas.draw()
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["stated weights, one learned scale", "base rate alone"]
    assert sorted(ax.lines[-1].get_xdata()) == pytest.approx(sorted(data[data.score == "Brier"]["diff"]))
    assert not texts_outside(fig)
    plt.close(fig)
    fig = ec.plot_calibration(bt)
    assert [ax.get_title(loc="left").split("\n")[1] for ax in fig.axes[1:3]] == [f"model better by +0.212 ± {np.std([0.24, 0.21, 0.16, 0.24], ddof=1) / 2:.3f}", f"model better by +0.045 ± {se:.3f}"]
    plt.close(fig)
