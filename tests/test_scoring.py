"""Scores against hand numbers, and the score and backtest commands end to end."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from forecast.analysis import scoring


def test_brier_by_hand():
    assert scoring.brier([0.1, 0.8], [0, 1]) == pytest.approx((0.01 + 0.04) / 2)
    assert scoring.brier([0.5] * 4, [0, 1, 1, 0]) == pytest.approx(0.25)
    assert scoring.brier([1.0], [0]) == 1.0
    assert scoring.brier_terms([0.3, 0.9], [1, 0]) == pytest.approx([0.49, 0.81])


def test_log_score_by_hand():
    assert scoring.log_score([0.1, 0.8], [0, 1]) == pytest.approx((math.log(0.9) + math.log(0.8)) / 2)
    assert scoring.log_score([0.5, 0.5], [1, 0]) == pytest.approx(math.log(0.5))
    assert np.isfinite(scoring.log_score([0.0], [1])), "a certain miss is clipped, not -inf"
    assert scoring.log_score([0.0], [1]) < -20


def test_scores_reject_bad_input():
    for p, y in (([1.2], [1]), ([0.5], [2]), ([0.5, 0.5], [1]), ([], [])):
        with pytest.raises(ValueError):
            scoring.brier(p, y)
    with pytest.raises(ValueError):
        scoring.outcome_value("maybe")
    assert scoring.outcome_value("yes") == 1 and scoring.outcome_value("no") == 0


def test_calibration_bins_by_hand():
    p = [0.05, 0.15, 0.45, 0.55, 0.95, 0.85, 0.9, 1.0]
    y = [0, 0, 1, 0, 1, 1, 0, 1]
    t = scoring.calibration_bins(p, y, bins=2)
    assert list(t["n"]) == [3, 5]
    assert list(t["yes"]) == [1, 3]
    assert t["mean_forecast"].tolist() == pytest.approx([(0.05 + 0.15 + 0.45) / 3, (0.55 + 0.95 + 0.85 + 0.9 + 1.0) / 5])
    assert t["observed"].tolist() == pytest.approx([1 / 3, 3 / 5])
    assert (t["observed_low"] < t["observed"]).all() and (t["observed"] < t["observed_high"]).all()
    from scipy.stats import beta

    assert t["observed_low"].iloc[0] == pytest.approx(beta.ppf(0.05, 1.5, 2.5))
    # empty bins are left out; p = 1 lands in the last bin
    t5 = scoring.calibration_bins([1.0, 0.99], [1, 1], bins=5)
    assert len(t5) == 1 and t5["bin_high"].iloc[0] == 1.0 and t5["observed_high"].iloc[0] == 1.0


def _run(args):
    from typer.testing import CliRunner

    from forecast.cli import app

    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


FEW = ["--draws", "300", "--tune", "300", "--chains", "2", "--seed", "3"]


@pytest.mark.slow
def test_score_command(tmp_path):
    from tests.conftest import BELARUS

    out = _run(["score", str(BELARUS), "--out", str(tmp_path), "--json", *FEW])
    assert out["outcome"] == "no" and out["n_dates"] == 2
    rows = [r for r in out["rows"] if r["date"] != "no evidence"]
    assert out["brier"] == pytest.approx(np.mean([r["p"] ** 2 for r in rows]))
    assert out["log_score"] == pytest.approx(np.mean([math.log(1 - r["p"]) for r in rows]))
    folder = tmp_path / out["run_dir"].split("/")[-1]
    assert {"scores.csv", "scores.png", "scores.svg", "scores.pdf", "summary.json", "summary.md"} <= {p.name for p in folder.iterdir()}


def test_score_refuses_an_unresolved_case(case_copy):
    from typer.testing import CliRunner

    from forecast.cli import app

    text = (case_copy / "case.toml").read_text(encoding="utf-8")
    (case_copy / "case.toml").write_text(text.replace('outcome = "no"\nresolved_on = 2024-01-01\n', ""), encoding="utf-8")
    res = CliRunner().invoke(app, ["score", str(case_copy), "--json"])
    assert res.exit_code == 2 and "has not resolved" in res.output


@pytest.mark.slow
def test_backtest_command(tmp_path):
    from tests.conftest import BELARUS

    out = _run(["backtest", str(BELARUS), "--out", str(tmp_path), "--json", "--workers", "2", *FEW])  # on a local Dask cluster
    assert out["n_cases"] >= 15
    for key in ("brier_model", "brier_base_rate", "brier_equal_weights"):
        assert 0.0 <= out[key] <= 1.0
    assert out["brier"] == out["brier_model"]
    folder = tmp_path / out["run_dir"].split("/")[-1]
    import pandas as pd

    table = pd.read_csv(folder / "backtest.csv")
    assert len(table) == out["n_cases"]
    assert out["brier_model"] == pytest.approx(float(((table["p_model"] - table["outcome_value"]) ** 2).mean()))
    assert {"calibration.png", "calibration.csv", "weights.png", "weights.csv"} <= {p.name for p in folder.iterdir()}
