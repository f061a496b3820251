"""The model's numeric inputs, checked field by field against the case files and hand-worked numbers.

No sampling and no PyMC: :func:`forecast.model.model.model_inputs` is plain numpy. The second case
(``tests/helpers.py``) has no reference cases and no judgments, so its evidence arrays are empty,
and empty arrays must still carry the dtype the model indexes with.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from helpers import REFERENCE_CASES, SECOND_CASE_SIGNS, with_model, write_reference_cases
from scipy.special import logit
from scipy.stats import norm

from forecast import load_case
from forecast.maths import grade_factor
from forecast.model.model import DATA_DIMS, data_coords, judgment_inputs, model_inputs, reading_sd, uncoded_moments

INDEX_INPUTS = {"reading_indicator", "ref_outcome", "coding_case", "coding_indicator"}
"""Inputs used as integer indices or counts; every other input is float."""


def with_indicator_level(case, k, level):
    spec = case.spec.model_copy(deep=True)
    spec.indicators[k].level = level
    return dataclasses.replace(case, spec=spec)


@pytest.mark.parametrize("a, b, mean, var", [
    (2.0, 2.0, 0.0, 0.2),  # Beta(2, 2): var x = 4 / (16 * 5) = 0.05, so var(2x - 1) = 0.2
    (3.0, 1.0, 0.5, 0.15),  # mean x = 3/4 -> 2 * 3/4 - 1; var x = 3 / (16 * 5) -> 4 * 3 / 80
    (1.0, 4.0, -0.6, 4 * 4 / (25 * 6)),  # mean x = 1/5 -> -0.6
])
def test_uncoded_moments_by_hand(a, b, mean, var):
    assert uncoded_moments(a, b) == pytest.approx((mean, var))


def test_second_case_inputs_by_hand(second_case):
    case = load_case(second_case)
    x = model_inputs(case)
    assert set(x) == set(DATA_DIMS)
    for name, value in x.items():
        assert value.dtype == (np.int64 if name in INDEX_INPUTS else float), name
    assert x["sign"].tolist() == list(SECOND_CASE_SIGNS)
    # readings in file order: ballot, ballot, gap, fund, gap, mediation, ballot
    assert x["reading_indicator"].tolist() == [0, 0, 1, 2, 1, 3, 0]
    assert x["reading_level"][[1, 3, 4]].tolist() == [0.8, 0.6, 0.9]  # the numeric levels of the file
    assert x["level_a"].tolist() == [2.0] * 4 and x["level_b"].tolist() == [2.0] * 4
    assert x["uncoded_mean"].tolist() == [0.0] * 4 and x["uncoded_var"].tolist() == pytest.approx([0.2] * 4)
    for name in ("ref_outcome", "coding_case", "coding_indicator", "coding_level", "judgment_logit", "judgment_sd"):
        assert x[name].shape == (0,), name
    assert float(x["judgment_shared_sd"]) == 0.5
    assert data_coords(case) == {
        "indicator": ["ballot_mandate", "offer_gap", "strike_fund", "mediation"],
        "reading": ["vote", "patience", "offer-open", "fund", "no-more", "no-mediator", "support"],
        "reference_case": [], "coding": [], "judgment": [],
    }


def test_no_readings_still_index_with_integers(second_case):
    x = model_inputs(dataclasses.replace(load_case(second_case), readings=[]))
    assert x["reading_indicator"].dtype == np.int64 and x["reading_indicator"].shape == (0,)


def test_reference_inputs_by_hand(second_case):
    write_reference_cases(second_case)
    case = load_case(second_case)
    x = model_inputs(case)
    assert x["ref_outcome"].tolist() == [1, 0, 1]
    assert x["coding_case"].tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert x["coding_indicator"].tolist() == [0, 1, 2, 3] * 3
    assert x["coding_level"].tolist() == [v for _, _, levels in REFERENCE_CASES for v in levels.values()]
    assert data_coords(case)["reference_case"] == ["port-north", "port-south", "port-east"]
    assert data_coords(case)["coding"][:2] == ["port-north/ballot_mandate", "port-north/offer_gap"]


def test_an_indicator_level_and_an_uneven_level_prior(second_case):
    case = with_indicator_level(load_case(second_case), 1, 0.75)
    x = model_inputs(case)
    # level 0.75 with strength max(2 + 2, 4) = 4: a = 1 + 0.75 * 2, b = 1 + 0.25 * 2
    assert x["level_a"].tolist() == [2.0, 2.5, 2.0, 2.0] and x["level_b"].tolist() == [2.0, 1.5, 2.0, 2.0]
    x = model_inputs(with_model(load_case(second_case), level_prior=(3.0, 1.0)))
    assert x["level_a"].tolist() == [3.0] * 4 and x["level_b"].tolist() == [1.0] * 4
    assert x["uncoded_mean"].tolist() == [0.5] * 4 and x["uncoded_var"].tolist() == pytest.approx([0.15] * 4)


def test_reading_sd_by_grade_and_age(second_case):
    case = load_case(second_case)
    grades = ["B2", "C3", "B2", "B2", "B1", "B2", "B3"]
    plain = 0.12 * np.array([grade_factor(g) for g in grades])
    assert reading_sd(case).tolist() == pytest.approx(plain.tolist())
    # half-life 35 days: the readings of 3 February are 35 days older than the latest (10 March), so
    # their precision halves and their sd grows by sqrt(2)
    aged = reading_sd(with_model(case, half_life_days=35.0))
    assert aged.tolist() == pytest.approx((plain * np.array([math.sqrt(2)] * 4 + [1.0] * 3)).tolist())


def test_judgment_inputs_by_hand(belarus):
    (j,) = belarus.judgments  # "a lot more unlikely than likely": 10-30 %, noise 1.2
    low, high = logit(0.1), logit(0.3)
    vague = (high - low) / (2 * norm.ppf(0.95))
    centres, sds = judgment_inputs(belarus)
    assert centres.dtype == float and sds.dtype == float
    assert centres.tolist() == pytest.approx([(low + high) / 2])
    assert sds.tolist() == pytest.approx([math.sqrt(1.2**2 + vague**2)])
    # without its own noise the judgment takes the case's default [model] judgment_sd
    bare = dataclasses.replace(with_model(belarus, judgment_sd=0.4), judgments=[j.model_copy(update={"sd": None})])
    assert judgment_inputs(bare)[1].tolist() == pytest.approx([math.sqrt(0.4**2 + vague**2)])
    assert model_inputs(bare)["judgment_sd"].tolist() == pytest.approx([math.sqrt(0.4**2 + vague**2)])
