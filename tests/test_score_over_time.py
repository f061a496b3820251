"""Scoring over time, checked date by date against fits of the case cut by hand.

For each evidence date of the second case (``tests/helpers.py``) the case is written to disk again
with only the reading rows dated on or before that date (chosen by comparing the date text, not with
:meth:`Case.as_of`), loaded, fitted with the same compiled model and settings, and its posterior mean
of P compared with the row of :func:`~forecast.analysis.backtest.score_over_time`. The readings
count of each row is checked against the rows written, and the scores against the hand formulas
``(p - y)^2`` and ``y ln p + (1 - y) ln(1 - p)`` with ``y = 1`` (the case resolved yes).
"""

from __future__ import annotations

import math

import pytest
from helpers import reading_rows, write_readings, write_second_case

SETTINGS = {"draws": 500, "tune": 500, "chains": 2, "seed": 5}
TOL = 0.02
"""Monte Carlo tolerance on a posterior mean of P from 1 000 draws."""

pytestmark = pytest.mark.slow

DATES = ["no evidence", "2025-02-03", "2025-03-10"]


@pytest.fixture(scope="module")
def scores(harbour, harbour_compiled):
    from forecast import FitSettings
    from forecast.analysis.backtest import score_over_time

    return score_over_time(harbour, harbour_compiled, FitSettings(**SETTINGS))


def test_one_row_per_date_and_the_outcome(scores):
    assert list(scores.table["date"]) == DATES
    assert scores.outcome == "yes"


@pytest.mark.parametrize("row", range(len(DATES)))
def test_each_row_equals_a_fit_of_the_case_cut_by_hand(tmp_path, harbour_compiled, scores, row):
    from forecast import FitSettings, load_case
    from forecast.model.fit import sample

    label = DATES[row]
    rows = [] if label == "no evidence" else reading_rows(until=label)
    case = write_second_case(tmp_path)
    write_readings(case, rows)
    cut = load_case(case)
    p = float(sample(harbour_compiled, cut, FitSettings(**SETTINGS), progress=False).draws("p").mean())
    got = scores.table.iloc[row]
    assert got["date"] == label
    assert got["readings"] == len(rows)
    assert got["judgments"] == 0
    assert got["p"] == pytest.approx(p, abs=TOL)


def test_reading_counts_by_hand(scores):
    """Four readings on 3 February, seven by 10 March (counted in ``tests/helpers.py``)."""
    assert list(scores.table["readings"]) == [0, 4, 7]


def test_scores_follow_the_hand_formulas(scores):
    for _, row in scores.table.iterrows():
        assert row["brier"] == pytest.approx((row["p"] - 1.0) ** 2, rel=1e-12)
        assert row["log_score"] == pytest.approx(math.log(row["p"]), rel=1e-12)
    summary = scores.summary()
    dated = scores.table.iloc[1:]
    assert summary["n_dates"] == 2
    assert summary["brier"] == pytest.approx(((dated["p"] - 1.0) ** 2).mean(), rel=1e-12)
    assert summary["log_score"] == pytest.approx(dated["p"].map(math.log).mean(), rel=1e-12)
    assert summary["brier_final"] == pytest.approx((dated["p"].iloc[-1] - 1.0) ** 2, rel=1e-12)
    assert summary["brier_no_evidence"] == pytest.approx((scores.table["p"].iloc[0] - 1.0) ** 2, rel=1e-12)
