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
from forecast.model.model import DATA_DIMS, data_coords, judgment_inputs, level_centre, model_inputs, uncoded_moments

INDEX_INPUTS = {"ref_outcome", "coding_case", "coding_indicator"}
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
    assert x["reading_design"].shape == (7, 4) and x["reading_whitened"].shape == (7,)
    assert x["level_centre"].tolist() == [0.0] * 4  # no reference cases: centred at neutral
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


def test_no_readings_give_empty_reading_inputs(second_case):
    x = model_inputs(dataclasses.replace(load_case(second_case), readings=[]))
    assert x["reading_whitened"].shape == (0,) and x["reading_design"].shape == (0, 4)


def hand_covariance(case):
    """Sigma of forecast.measurement, entry by entry from the case's rows (logit slope 4 at 0.5)."""
    m = case.spec.model
    latest = max(r.date for r in case.readings)
    rs = case.readings
    sigma = np.zeros((len(rs), len(rs)))
    for i, a in enumerate(rs):
        for j, b in enumerate(rs):
            if a.indicator != b.indicator:
                continue
            ta, tb = 4 * m.reading_sd * grade_factor(a.grade), 4 * m.reading_sd * grade_factor(b.grade)
            if i == j:
                sigma[i, j] += ta**2
            elif a.source == b.source:
                sigma[i, j] += m.source_correlation * ta * tb
            if a.source == b.source and case.sources[a.source].stance == "interested":
                sigma[i, j] += (4 * m.interested_source_sd) ** 2
            years = min((latest - a.date).days, (latest - b.date).days) / 365.25
            sigma[i, j] += m.level_volatility**2 * years
    return sigma


def test_reading_inputs_whiten_the_hand_built_covariance(second_case):
    """(W E)' (W E) = E' Sigma^-1 E and (W E)' W z = E' Sigma^-1 z for the Sigma built by hand."""
    case = load_case(second_case)
    gazette = case.sources["gazette-2025-02-03"].model_copy(update={"stance": "interested"})
    case = dataclasses.replace(with_model(case, level_volatility=0.8, source_correlation=0.3, interested_source_sd=0.2),
                               sources={**case.sources, gazette.id: gazette})
    x = model_inputs(case)
    sigma = hand_covariance(case)
    # ballot: vote & patience share the gazette (same day), support is a month later from cbw
    b2, c3 = 4 * 0.12 * 1.2 * 1.2, 4 * 0.12 * 1.5 * 1.5
    assert sigma[0, 1] == pytest.approx(0.3 * b2 * c3 + (4 * 0.2) ** 2 + 0.8**2 * 35 / 365.25)
    assert sigma[0, 6] == pytest.approx(0.0)  # the later reading (age 0) shares no walk, no source
    e = np.zeros((7, 4))
    e[np.arange(7), [0, 0, 1, 2, 1, 3, 0]] = 1.0
    z = logit(np.clip([0.9, 0.8, 0.5, 0.6, 0.9, 0.0, 0.75], 0.05, 0.95))
    q = np.linalg.inv(sigma)
    a, y = x["reading_design"], x["reading_whitened"]
    assert np.allclose(a.T @ a, e.T @ q @ e, rtol=1e-9, atol=1e-12)
    assert (a.T @ y).tolist() == pytest.approx((e.T @ q @ z).tolist(), rel=1e-9)
    assert y @ y == pytest.approx(z @ q @ z, rel=1e-9)


def test_level_centre_is_the_reference_class_mean(second_case):
    write_reference_cases(second_case)
    case = load_case(second_case)
    # coded levels of port-north, port-south, port-east: 2x - 1 averaged
    expected = [np.mean([2 * lv[k] - 1 for _, _, lv in REFERENCE_CASES]) for k in case.indicator_ids]
    assert level_centre(case).tolist() == pytest.approx(expected)
    assert model_inputs(case)["level_centre"].tolist() == pytest.approx(expected)


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


def by_hand_reference_logit(base, weight, sign, uncoded_mean, uncoded_var, codings, n_cases):
    """One draw: eta and the probit-scaled logit of each reference case, by looping over cases and indicators."""
    out = []
    for i in range(n_cases):
        coded = {k: x for case, k, x in codings if case == i}
        eta, var = base, 0.0
        for k in range(len(sign)):
            if k in coded:
                eta += sign[k] * weight[k] * (2 * coded[k] - 1)
            else:
                eta += sign[k] * weight[k] * uncoded_mean[k]
                var += weight[k] ** 2 * uncoded_var[k]
        out.append(eta / math.sqrt(1 + math.pi * var / 8))
    return np.array(out)


# three indicators, uneven level prior Beta(3, 1) (mean of 2x - 1: 0.5, variance 0.15); case 0 coded
# on indicators 0 and 2, case 1 on indicator 1 only, case 2 not at all
REF = {"sign": np.array([1.0, -1.0, 1.0]), "uncoded_mean": np.full(3, 0.5), "uncoded_var": np.full(3, 0.15),
       "codings": [(0, 0, 0.9), (0, 2, 0.2), (1, 1, 0.6)], "n_cases": 3}


def test_reference_logit_on_draws_against_a_loop():
    from forecast.model.model import reference_logit

    base = np.array([-0.5, 0.3])
    weight = np.array([[0.8, 0.4, 1.5], [0.2, 1.1, 0.7]])
    case, ind, lvl = zip(*REF["codings"])
    out = reference_logit(base, weight, REF["sign"], REF["uncoded_mean"], REF["uncoded_var"], list(case), list(ind), list(lvl), REF["n_cases"], xp=np)
    assert out.shape == (2, 3)
    for s in range(2):
        expected = by_hand_reference_logit(base[s], weight[s], REF["sign"], REF["uncoded_mean"], REF["uncoded_var"], REF["codings"], REF["n_cases"])
        assert out[s].tolist() == pytest.approx(expected.tolist())


def test_reference_logit_in_pytensor_against_a_loop():
    import pytensor.tensor as pt

    from forecast.model.model import reference_logit

    weight = np.array([0.8, 0.4, 1.5])
    case, ind, lvl = (np.array(v) for v in zip(*REF["codings"]))
    out = reference_logit(pt.as_tensor(-0.5), pt.as_tensor(weight), pt.as_tensor(REF["sign"]), pt.as_tensor(REF["uncoded_mean"]),
                          pt.as_tensor(REF["uncoded_var"]), pt.as_tensor(case), pt.as_tensor(ind), pt.as_tensor(lvl), REF["n_cases"]).eval()
    expected = by_hand_reference_logit(-0.5, weight, REF["sign"], REF["uncoded_mean"], REF["uncoded_var"], REF["codings"], REF["n_cases"])
    assert out.tolist() == pytest.approx(expected.tolist())


def test_built_model_names_dims_and_log_density(second_case):
    """The model's log density at one point against scipy: priors, and the readings as one
    multivariate normal on the log-odds scale with the hand-built covariance (normalising
    constant aside, which the whitened form drops: compared as differences between two points)."""
    from scipy.stats import beta, lognorm, multivariate_normal

    from forecast.model.model import OBSERVED, build_model, data_dims

    write_reference_cases(second_case)
    case = load_case(second_case)
    model = build_model(case)
    x = model_inputs(case)
    assert {k: list(v) for k, v in model.coords.items()} == data_coords(case)
    for name in ("base_class", "base", "weight", "level", "contribution", "log_odds", "p", "readings", "reference_outcome", "judgments"):
        assert name in model.named_vars, name
    assert {v.name for v in model.observed_RVs} == {"readings", "reference_outcome"}
    dims = model.named_vars_to_dims
    assert dims["weight"] == dims["level"] == dims["contribution"] == ("indicator",)
    assert dims["readings"] == ("reading",) and dims["reference_outcome"] == ("reference_case",)
    for name in DATA_DIMS:
        if data_dims(name) and name not in OBSERVED:
            assert dims[name] == data_dims(name), name
    logp = model.compile_fn(model.logp(vars=[model["base_class"], model["weight"], model["level"], model["readings"]], jacobian=False, sum=True),
                            inputs=model.value_vars, on_unused_input="ignore")
    sigma = hand_covariance(case)
    z = logit(np.clip([0.9, 0.8, 0.5, 0.6, 0.9, 0.0, 0.75], 0.05, 0.95))
    ind = [0, 0, 1, 2, 1, 3, 0]

    def both(point):
        ip = model.initial_point()
        ip["base_class"] = point["base_class"]
        ip["weight_log__"] = np.log(point["weight"])
        ip["level_logodds__"] = logit(point["level"])
        expected = (norm.logpdf(point["base_class"], x["base_mu"], x["base_sigma"])
                    + lognorm.logpdf(point["weight"], x["weight_sigma"], scale=np.exp(x["weight_mu"])).sum()
                    + beta.logpdf(point["level"], x["level_a"], x["level_b"]).sum()
                    + multivariate_normal(logit(point["level"])[ind], sigma).logpdf(z))
        return float(logp(ip)), float(expected)

    one = both({"base_class": 0.3, "weight": np.array([0.5, 1.2, 0.8, 2.0]), "level": np.array([0.7, 0.4, 0.5, 0.2])})
    two = both({"base_class": -1.1, "weight": np.array([0.9, 0.3, 1.5, 0.6]), "level": np.array([0.2, 0.85, 0.35, 0.6])})
    assert two[0] - one[0] == pytest.approx(two[1] - one[1], rel=1e-9)
