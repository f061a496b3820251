"""The PyMC model of a case.

For indicators k = 1..K with sign s_k (+1 raises, -1 lowers) and readings j = 1..J of indicator
k(j) with observed level y_j and noise sd_j (from its grade, see :mod:`forecast.priors`):

    base      ~ Normal(mu_b, sigma_b)                 prior log-odds at neutral levels
    weight_k  ~ LogNormal(mu_k, sigma_k)              strength, log-odds per unit centred level
    level_k   ~ Beta(a, b)                            latent level in [0, 1]
    y_j       ~ Normal(level_k(j), sd_j)              the readings (``observed_level``)
    contribution_k = s_k * weight_k * (2 level_k - 1)
    log_odds  = base + sum_k contribution_k
    p         = logistic(log_odds)                    P(event by the horizon)

Everything an analyst can edit (prior parameters, signs, readings) enters through ``pm.Data``, so
one compiled model serves every edit: :func:`model_inputs` gives the arrays, and a compiled model's
``with_data(**model_inputs(edited_case))`` swaps them without recompiling. Changing the number of
indicators changes the model's shape and needs a new model.
"""

from __future__ import annotations

import numpy as np

from forecast.case import Case
from forecast.priors import base_rate_prior, grade_factor, level_prior, weight_log_odds, weight_prior

DATA_DIMS = {
    "base_mu": None,
    "base_sigma": None,
    "weight_mu": "indicator",
    "weight_sigma": "indicator",
    "sign": "indicator",
    "level_a": "indicator",
    "level_b": "indicator",
    "reading_indicator": "reading",
    "reading_level": "reading",
    "reading_sd": "reading",
}
"""Each ``pm.Data`` input of the model and its dimension."""


def model_inputs(case: Case) -> dict[str, np.ndarray]:
    """The numeric inputs of the model for ``case``, keyed as in :data:`DATA_DIMS`.

    Parameters
    ----------
    case : Case

    Returns
    -------
    dict of str to numpy.ndarray
    """
    spec = case.spec
    mu_b, sigma_b = base_rate_prior(spec.base_rate.value, *spec.base_rate.range)
    inds = spec.indicators
    w = np.array([float(weight_log_odds(i.weight, i.weight_unit)) for i in inds])
    w_mu, w_sigma = weight_prior(w, [i.weight_spread for i in inds])
    a, b = spec.model.level_prior
    position = {ind_id: k for k, ind_id in enumerate(case.indicator_ids)}
    return {
        "base_mu": np.asarray(mu_b),
        "base_sigma": np.asarray(sigma_b),
        "weight_mu": w_mu,
        "weight_sigma": w_sigma,
        "sign": np.array([i.sign for i in inds], dtype=float),
        "level_a": np.array([level_prior(i.level, a, b)[0] for i in inds], dtype=float),
        "level_b": np.array([level_prior(i.level, a, b)[1] for i in inds], dtype=float),
        "reading_indicator": np.array([position[r.indicator] for r in case.readings], dtype=np.int64),
        "reading_level": np.array([r.level for r in case.readings], dtype=float),
        "reading_sd": np.array([spec.model.reading_sd * grade_factor(r.grade) for r in case.readings], dtype=float),
    }


def build_model(case: Case):
    """Build the PyMC model of ``case`` with dims ``indicator`` and ``reading``.

    Parameters
    ----------
    case : Case

    Returns
    -------
    pymc.Model
    """
    import pymc as pm

    inputs = model_inputs(case)
    coords = {"indicator": case.indicator_ids, "reading": [r.id for r in case.readings]}
    with pm.Model(coords=coords) as model:
        d = {name: pm.Data(name, inputs[name], dims=dim) for name, dim in DATA_DIMS.items()}
        base = pm.Normal("base", d["base_mu"], d["base_sigma"])
        weight = pm.LogNormal("weight", d["weight_mu"], d["weight_sigma"], dims="indicator")
        level = pm.Beta("level", d["level_a"], d["level_b"], dims="indicator")
        pm.Normal(
            "observed_level",
            mu=level[d["reading_indicator"]],
            sigma=d["reading_sd"],
            observed=d["reading_level"],
            dims="reading",
        )
        contribution = pm.Deterministic(
            "contribution", d["sign"] * weight * (2.0 * level - 1.0), dims="indicator"
        )
        log_odds = pm.Deterministic("log_odds", base + contribution.sum())
        pm.Deterministic("p", pm.math.sigmoid(log_odds))
    return model
