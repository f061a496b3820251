"""Scores over time and the backtest's summaries without sampling, checked reading by reading.

A stand-in fit returns, for a cut of the second case (``tests/helpers.py``, resolved "yes"), the
mean ``0.2 + 0.1 * (readings in the cut)``; the Brier and log scores are then written out by hand.
"""

from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import forecast.model.fit as fit
from forecast import load_case
from forecast.analysis.backtest import Backtest, ScoreResult, score_over_time
from forecast.analysis.timeline import NO_EVIDENCE, as_of_fits


def stand_in(calls):
    def sample(compiled, cut, settings, *, progress):
        calls.append((compiled, settings, len(cut.readings), len(cut.judgments), progress))
        p = 0.2 + 0.1 * len(cut.readings)
        table = pd.DataFrame([{"mean": p, "hdi_low": p - 0.1, "hdi_high": p + 0.05, "words": f"p{len(cut.readings)}"}])
        return SimpleNamespace(probability=lambda: table)

    return sample


def test_score_over_time_reading_by_reading(second_case, monkeypatch):
    calls = []
    monkeypatch.setattr(fit, "sample", stand_in(calls))
    case = load_case(second_case)
    s = score_over_time(case, "compiled", "settings")
    assert [c[:2] for c in calls] == [("compiled", "settings")] * 3 and [c[4] for c in calls] == [False] * 3
    t = s.table
    # no evidence (0 readings), 3 Feb (4 readings), 10 Mar (all 7)
    assert t["date"].tolist() == ["no evidence", "2025-02-03", "2025-03-10"]
    assert t["readings"].tolist() == [0, 4, 7] and t["judgments"].tolist() == [0, 0, 0]
    p = [0.2, 0.6, 0.9]
    assert t["p"].tolist() == pytest.approx(p)
    assert t["hdi_low"].tolist() == pytest.approx([0.1, 0.5, 0.8]) and t["hdi_high"].tolist() == pytest.approx([0.25, 0.65, 0.95])
    assert t["words"].tolist() == ["p0", "p4", "p7"] and t["outcome"].tolist() == ["yes"] * 3
    assert t["brier"].tolist() == pytest.approx([0.64, 0.16, 0.01])
    assert t["log_score"].tolist() == pytest.approx([math.log(0.2), math.log(0.6), math.log(0.9)])
    summary = s.summary()
    assert summary["outcome"] == "yes" and summary["n_dates"] == 2
    assert summary["brier"] == pytest.approx((0.16 + 0.01) / 2)
    assert summary["log_score"] == pytest.approx((math.log(0.6) + math.log(0.9)) / 2)
    assert summary["brier_final"] == pytest.approx(0.01) and summary["log_score_final"] == pytest.approx(math.log(0.9))
    assert summary["brier_no_evidence"] == pytest.approx(0.64)
    assert [r["date"] for r in summary["rows"]] == ["no evidence", "2025-02-03", "2025-03-10"]


def test_score_over_time_of_a_no_outcome(second_case, monkeypatch):
    calls = []
    monkeypatch.setattr(fit, "sample", stand_in(calls))
    case = load_case(second_case)
    spec = case.spec.model_copy(deep=True)
    spec.question.outcome = "no"
    s = score_over_time(dataclasses.replace(case, spec=spec), None, None)
    assert s.table["brier"].tolist() == pytest.approx([0.04, 0.36, 0.81])
    assert s.table["log_score"].tolist() == pytest.approx([math.log(0.8), math.log(0.4), math.log(0.1)])
    spec.question.resolved_on = None
    spec.question.outcome = None
    with pytest.raises(ValueError, match=r'^the question has not resolved: set \[question\] outcome = "yes" or "no" in case.toml$'):
        score_over_time(dataclasses.replace(case, spec=spec), None, None)


def test_score_result_summary_by_hand():
    table = pd.DataFrame({"date": ["no evidence", "a", "b", "c"], "p": [0.5, 0.3, 0.6, 0.8],
                          "brier": [0.25, 0.49, 0.16, 0.04], "log_score": [-0.7, -1.2, -0.5, -0.2]})
    s = ScoreResult(table, "yes").summary()
    assert s["n_dates"] == 3 and s["brier"] == pytest.approx((0.49 + 0.16 + 0.04) / 3)
    assert s["log_score"] == pytest.approx((math.log(0.3) + math.log(0.6) + math.log(0.8)) / 3)
    assert (s["brier_final"], s["log_score_final"], s["brier_no_evidence"]) == (0.04, -0.2, 0.25)


def test_backtest_summary_and_calibration_by_hand():
    table = pd.DataFrame({
        "outcome_value": [1, 0, 1, 0],
        "p_model": [0.9, 0.2, 0.7, 0.1],
        "p_base_rate": [0.5, 0.5, 0.5, 0.5],
        "p_equal_weights": [0.6, 0.4, 0.6, 0.4],
        "p_stated_weights": [0.8, 0.3, 0.5, 0.5],
    })
    b = Backtest(table)
    s = b.summary()
    assert b.n_cases == 4 and s["n_cases"] == 4 and s["n_yes"] == 2
    assert s["brier_model"] == pytest.approx((0.01 + 0.04 + 0.09 + 0.01) / 4) and s["brier"] == s["brier_model"]
    assert s["brier_base_rate"] == pytest.approx(0.25) and s["brier_equal_weights"] == pytest.approx(0.16)
    assert s["brier_stated_weights"] == pytest.approx((0.04 + 0.09 + 0.25 + 0.25) / 4)
    assert s["log_score_model"] == pytest.approx((math.log(0.9) + math.log(0.8) + math.log(0.7) + math.log(0.9)) / 4)
    assert s["log_score_base_rate"] == pytest.approx(math.log(0.5))
    assert s["model_beats_base_rate"] is True or s["model_beats_base_rate"] == np.True_
    cal = b.calibration(bins=2)
    assert cal["forecaster"].unique().tolist() == ["model", "base_rate", "equal_weights", "stated_weights"]
    assert (cal["forecaster"] == "model").sum() == 2 and cal.index.tolist() == list(range(len(cal)))
    assert cal.columns[0] == "forecaster"
    default = b.calibration()  # five bins of width 0.2
    assert default.loc[default["forecaster"] == "model", "bin_low"].tolist() == pytest.approx([0.0, 0.2, 0.6, 0.8])
    tie = Backtest(table.assign(p_model=table["p_base_rate"])).summary()
    assert tie["brier_model"] == tie["brier_base_rate"] and not tie["model_beats_base_rate"]
    worse = Backtest(table.assign(p_model=[0.1, 0.9, 0.2, 0.8])).summary()
    assert not worse["model_beats_base_rate"]


def test_the_no_evidence_cut_drops_readings_and_judgments(belarus, monkeypatch):
    calls = []
    monkeypatch.setattr(fit, "sample", stand_in(calls))
    assert belarus.judgments and belarus.readings
    (d, cut, _), = list(as_of_fits(belarus, "c", "s", [NO_EVIDENCE]))
    assert d is NO_EVIDENCE and cut.readings == [] and cut.judgments == [] and calls[0][4] is False


def test_predict_a_reference_case_by_hand(second_case):
    from helpers import REFERENCE_CASES, SECOND_CASE_SIGNS, write_reference_cases

    from forecast.analysis.backtest import predict, target_of
    from forecast.model.draws import Draws
    from forecast.model.model import model_inputs

    write_reference_cases(second_case)
    case = load_case(second_case)
    # leave out port-east's coding of mediation: that level is then integrated out (mean 0, var 0.2 under Beta(2, 2))
    case = dataclasses.replace(case, codings=[c for c in case.codings if (c.case, c.indicator) != ("port-east", "mediation")])
    base = np.array([-0.5, 0.4, 0.1])
    weight = np.array([[0.8, 0.5, 1.2, 0.3], [1.5, 0.2, 0.4, 0.9], [0.6, 0.7, 0.3, 1.1]])
    draws = Draws(base=base, weight=weight, level=np.full((3, 4), 0.5), sign=np.array(SECOND_CASE_SIGNS), indicators=tuple(case.indicator_ids))
    inputs = model_inputs(case)
    for i, (_, _, levels) in enumerate(REFERENCE_CASES):
        x = np.array(list(levels.values()))
        eta = base + (np.array(SECOND_CASE_SIGNS) * weight * (2 * x - 1)).sum(axis=1)
        if i == 2:  # mediation uncoded: its term is the prior mean 0 and its variance widens the probit scale
            eta = (base + (np.array(SECOND_CASE_SIGNS[:3]) * weight[:, :3] * (2 * x[:3] - 1)).sum(axis=1)) / np.sqrt(
                1 + np.pi * weight[:, 3] ** 2 * 0.2 / 8)
        p = 1 / (1 + np.exp(-eta))
        assert predict(draws, inputs, target_of(case, i)) == pytest.approx(p.mean())
        w = np.array([1.0, 2.0, 5.0])
        assert predict(draws.reweighted(w), inputs, target_of(case, i)) == pytest.approx(p @ w / w.sum())
