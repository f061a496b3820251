"""The measurement model's promises: correlated readings count once, later evidence counts more.

Fast tests check the pure functions of :mod:`forecast.measurement` against hand-worked numbers; the
slow ones fit the second case (``tests/helpers.py``) with readings added, through one compiled model.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest
from scipy.special import logit

from forecast.case.schema import Reading, Source
from forecast.measurement import EDGE, SLOPE, gls_shares, reading_covariance, reading_logit, source_covariance, whiten

B2 = 1.2 * 1.2


def test_readings_clip_before_the_logit():
    assert reading_logit([0.0, 0.3, 1.0]).tolist() == pytest.approx([logit(EDGE), logit(0.3), logit(1 - EDGE)])


def test_covariance_by_hand():
    # two readings of indicator 0 a year apart, one of indicator 1; volatility 0.5, A1 and B2 grades
    sigma = reading_covariance([1.0, B2, 1.0], [0, 0, 1], [1.0, 0.0, 2.0], [0.5, 0.5, 0.5], 0.1)
    own = (SLOPE * 0.1) ** 2
    assert sigma[0, 0] == pytest.approx(own + 0.25 * 1.0)
    assert sigma[1, 1] == pytest.approx(own * B2**2)
    assert sigma[0, 1] == pytest.approx(0.0)  # the later reading is at the forecast date: no shared walk
    assert sigma[2, 2] == pytest.approx(own + 0.25 * 2.0)
    assert sigma[0, 2] == 0.0  # different indicators share nothing
    # one source, readings A1, B2 of indicator 0 and A1 of indicator 1; correlation 0.5, bias 0.2
    shared = source_covariance([0, 0, 1], ["a", "a", "a"], [1.0, B2, 1.0], 0.1, 0.5, [0.2, 0.2, 0.2])
    t1, t2, bias = SLOPE * 0.1, SLOPE * 0.1 * B2, (SLOPE * 0.2) ** 2
    expected = [[bias, 0.5 * t1 * t2 + bias, 0.0], [0.5 * t1 * t2 + bias, bias, 0.0], [0.0, 0.0, bias]]
    assert np.allclose(shared, expected)


def test_gls_shares_add_to_one_and_information_is_the_inverse_variance():
    sigma = reading_covariance([1.0, 1.0, B2], [0, 0, 0], [0.0, 0.5, 1.0], [0.4] * 3, 0.12)
    share, info = gls_shares([0, 0, 0], sigma, 1)
    assert share.sum() == pytest.approx(1.0)
    assert share[0] > share[1] > share[2]  # newer and better-graded readings weigh more
    ones = np.ones(3)
    assert info[0] == pytest.approx(ones @ np.linalg.solve(sigma, ones))


def test_five_readings_from_one_source_carry_less_information_than_five_sources():
    own = reading_covariance([B2] * 5, [0] * 5, [0.0] * 5, [0.5] * 5, 0.12)
    one = own + source_covariance([0] * 5, ["s"] * 5, [B2] * 5, 0.12, 0.5, [0.0] * 5)
    many = own + source_covariance([0] * 5, list("abcde"), [B2] * 5, 0.12, 0.5, [0.0] * 5)
    t2 = (SLOPE * 0.12 * B2) ** 2
    # the mean of five equicorrelated readings has variance t^2 (rho + (1 - rho) / 5); independent, t^2 / 5
    assert 1 / gls_shares([0] * 5, one, 1)[1][0] == pytest.approx(t2 * (0.5 + 0.5 / 5))
    assert 1 / gls_shares([0] * 5, many, 1)[1][0] == pytest.approx(t2 / 5)


def test_whitening_gives_the_gls_quadratic_form():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 4))
    sigma = a @ a.T + 4 * np.eye(4)
    z = rng.normal(size=4)
    wz, we = whiten(z, [0, 1, 1, 0], sigma, 2)
    lam = np.array([0.3, -0.7])
    r = z - lam[[0, 1, 1, 0]]
    assert np.sum((wz - we @ lam) ** 2) == pytest.approx(r @ np.linalg.solve(sigma, r))


# -- through the model (slow) -----------------------------------------------------------------------
def _with_readings(case, indicator, level, dates, sources, grade="B2"):
    """``case`` with its readings of ``indicator`` replaced by new readings at ``level``."""
    catalogue = dict(case.sources)
    template = next(iter(case.sources.values()))
    for s in set(sources):
        catalogue.setdefault(s, Source(**{**template.model_dump(), "id": s, "stance": "neutral"}))
    rows = [r for r in case.readings if r.indicator != indicator]
    for n, (date, source) in enumerate(zip(dates, sources)):
        rows.append(Reading(id=f"added-{n}", indicator=indicator, date=date, level=level, level_text=str(level),
                            source=source, quote="q", grade=grade, rationale="added by the test"))
    return dataclasses.replace(case, readings=rows, sources=catalogue)


def _mean_p(compiled, case):
    from conftest import SMALL

    from forecast.model.fit import FitSettings, draw
    from forecast.model.model import model_inputs

    tree = draw(compiled, model_inputs(case), FitSettings(**{**SMALL, "draws": 1000, "tune": 500}))
    return float(np.asarray(tree["posterior"]["p"]).mean())


@pytest.mark.slow
def test_five_readings_from_one_source_move_p_less_than_five_sources(harbour, harbour_compiled):
    # offer_gap raises the chance; five C3 readings say it is low (0.25). With source_correlation 0.5
    # the five from one source carry the information of 1.7 independent readings, the five sources of 5
    day = harbour.evidence_date
    none = _mean_p(harbour_compiled, _with_readings(harbour, "offer_gap", 0.25, [], []))
    one = _mean_p(harbour_compiled, _with_readings(harbour, "offer_gap", 0.25, [day] * 5, ["one"] * 5, "C3"))
    five = _mean_p(harbour_compiled, _with_readings(harbour, "offer_gap", 0.25, [day] * 5, list("abcde"), "C3"))
    assert five < one < none
    assert none - one < 0.85 * (none - five), (none, one, five)


@pytest.mark.slow
def test_a_reading_a_year_later_moves_p_more_than_one_with_the_oldest_evidence(harbour, harbour_compiled):
    dates = sorted({r.date for r in harbour.readings})
    gap = [r for r in harbour.readings if r.indicator == "offer_gap"]
    base = _mean_p(harbour_compiled, harbour)

    def added(date):
        row = Reading(id="late-or-early", indicator="offer_gap", date=date, level=0.1, level_text="0.1",
                      source=gap[0].source, quote="q", grade="B2", rationale="added by the test")
        return dataclasses.replace(harbour, readings=[*harbour.readings, row])

    early = _mean_p(harbour_compiled, added(dates[0]))
    late = _mean_p(harbour_compiled, added(dates[-1] + dt.timedelta(days=365)))
    # offer_gap raises the chance and is read high; a reading of 0.1 lowers P, more when it is the latest
    assert late < early < base, (base, early, late)
