"""The PyMC model of a case.

For indicators k = 1..K with sign s_k (+1 raises, -1 lowers):

    base_class ~ Normal(mu_b, sigma_b)             log-odds of the event for a reference-class member
                                                    at the class's mean levels: the elicited base rate
    weight_k   ~ LogNormal(mu_k, sigma_k)          strength, log-odds per unit centred level
    level_k    ~ Beta(a_k, b_k)                    latent level in [0, 1] at the forecast date
    base       = base_class - sum_k s_k weight_k c_k          log-odds at neutral levels (all 0.5)
    contribution_k = s_k * weight_k * (2 level_k - 1)
    log_odds   = base + sum_k contribution_k
    p          = logistic(log_odds)                P(event by the horizon)

where ``c_k`` is the reference class's mean centred level ``2 x - 1`` of indicator k (the coded
levels of the reference cases, an uncoded one counted at the mean of the case-wide
``[model] level_prior``; 0 without reference cases), so that ``base_class`` means what the analyst elicited and the forecast formula keeps its neutral
intercept ``base``. With ``[base_rate] elicited_from = "reference_cases"`` the prior sd is widened
to at least :data:`VAGUE_BASE_SD`: the reference cases then carry that information once.

Readings (:mod:`forecast.measurement`): on the log-odds scale, jointly normal around the levels
at the forecast date, with the shared (source, indicator) errors and each level's random walk since
the reading's date integrated out; the model observes the whitened readings
``W z ~ Normal((W E) logit(level), 1)`` (``readings``).

Reference cases i = 1..R with outcome o_i and coded levels x_ik (some uncoded):

    o_i ~ Bernoulli(logistic(eta_i / sqrt(1 + pi v_i / 8)))               (``reference_outcome``)
    eta_i = base + sum_k s_k weight_k (2 x_ik - 1), an uncoded x_ik set to the mean of the
    case-wide ``[model] level_prior`` (not an indicator's own level judgment), and
    v_i = sum over uncoded k of weight_k^2 Var(2 x - 1): the probit approximation to integrating the
    uncoded levels over their Beta prior, with no extra parameters.

Expert judgments j with centre c_j = logit(stated probability) and sd t_j share an error
delta ~ Normal(0, tau_shared) that is integrated out exactly (``judgments``, a potential):
``c_j = log_odds + delta + e_j``, ``e_j ~ Normal(0, t_j)``.

Everything an analyst can edit (priors, signs, readings, reference cases, judgments) enters through
``pm.Data``, so one compiled model serves every edit: :func:`model_inputs` gives the arrays, and a
compiled model's ``with_data(**model_inputs(edited_case))`` swaps them without recompiling. The
dimensions ``reading``, ``reference_case``, ``coding`` and ``judgment`` are used by no stored
Deterministic, so their lengths may change; the number of indicators fixes the model's shape.
"""

from __future__ import annotations

import numpy as np

from forecast.case.load import Case
from forecast.maths import base_rate_prior, level_prior, weight_log_odds, weight_prior
from forecast import measurement
from forecast.measurement import reading_system

VAGUE_BASE_SD = 1.5
"""Smallest prior sd of ``base_class`` (log-odds) when the base rate was judged from the reference cases."""

DATA_DIMS = {
    "base_mu": None,
    "base_sigma": None,
    "weight_mu": "indicator",
    "weight_sigma": "indicator",
    "sign": "indicator",
    "level_a": "indicator",
    "level_b": "indicator",
    "level_centre": "indicator",
    "reading_whitened": "reading",
    "reading_design": ("reading", "indicator"),
    # reference cases and judgments (see the module docstring)
    "uncoded_mean": "indicator",
    "uncoded_var": "indicator",
    "ref_outcome": "reference_case",
    "coding_case": "coding",
    "coding_indicator": "coding",
    "coding_level": "coding",
    "judgment_logit": "judgment",
    "judgment_sd": "judgment",
    "judgment_shared_sd": None,
}
"""Each ``pm.Data`` input of the model and its dimension."""

OBSERVED = {"reading_whitened": "readings", "ref_outcome": "reference_outcome", "judgment_logit": "judgment_logit"}
"""Inputs that are observations (stored as observed data, under these names), not constants."""


def data_dims(name: str) -> tuple[str, ...]:
    """The dimensions of input ``name`` of :data:`DATA_DIMS` as a tuple (``()`` for a scalar)."""
    dim = DATA_DIMS[name]
    return () if dim is None else (dim,) if isinstance(dim, str) else tuple(dim)


def data_coords(case: Case) -> dict[str, list]:
    """The coordinates of every dimension in :data:`DATA_DIMS` for ``case``."""
    return {
        "indicator": case.indicator_ids,
        "reading": [r.id for r in case.readings],
        "reference_case": [r.id for r in case.reference_cases],
        "coding": [f"{c.case}/{c.indicator}" for c in case.codings],
        "judgment": [j.id for j in case.judgments],
    }


def uncoded_moments(a: float, b: float) -> tuple[float, float]:
    """Mean and variance of the centred level ``2 x - 1`` for ``x ~ Beta(a, b)``.

    Examples
    --------
    >>> uncoded_moments(2.0, 2.0)
    (0.0, 0.2)
    """
    n = a + b
    return 2.0 * a / n - 1.0, 4.0 * a * b / (n * n * (n + 1.0))


def judgment_inputs(case: Case) -> tuple[np.ndarray, np.ndarray]:
    """Each judgment's centre (log-odds) and sd, from its stated probability and noise."""
    from forecast.case.evidence import judgment_observation

    default = case.spec.model.judgment_sd
    obs = [judgment_observation(*j.range, j.sd if j.sd is not None else default) for j in case.judgments]
    return np.array([o[0] for o in obs], dtype=float), np.array([o[1] for o in obs], dtype=float)


def level_centre(case: Case) -> np.ndarray:
    """``c_k``: the reference class's mean centred level of each indicator (0 without reference cases)."""
    k = len(case.spec.indicators)
    n = len(case.reference_cases)
    if n == 0:
        return np.zeros(k)
    mean, _ = uncoded_moments(*case.spec.model.level_prior)
    position = {ind_id: i for i, ind_id in enumerate(case.indicator_ids)}
    total = np.full(k, mean * n)
    for c in case.codings:
        total[position[c.indicator]] += 2.0 * c.level - 1.0 - mean
    return total / n


def base_prior(case: Case) -> tuple[float, float]:
    """``(mu_b, sigma_b)`` of ``base_class``: the stated rate, widened when judged from the reference cases."""
    rate = case.spec.base_rate
    mu, sigma = base_rate_prior(rate.value, *rate.range)
    if rate.elicited_from == "reference_cases" and case.reference_cases:
        sigma = max(sigma, VAGUE_BASE_SD)
    return mu, sigma


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
    mu_b, sigma_b = base_prior(case)
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
        "level_centre": level_centre(case),
        **_reading_inputs(case),
        **_evidence_inputs(case, position),
    }


def _reading_inputs(case: Case) -> dict[str, np.ndarray]:
    system = reading_system(case)
    whitened, design = measurement.whiten(system["z"], system["indicator"], system["sigma"], len(case.spec.indicators))
    return {"reading_whitened": whitened, "reading_design": design}


def _evidence_inputs(case: Case, position: dict[str, int]) -> dict[str, np.ndarray]:
    spec = case.spec
    mean, var = uncoded_moments(*spec.model.level_prior)
    k = len(spec.indicators)
    refs = {r.id: i for i, r in enumerate(case.reference_cases)}
    centres, sds = judgment_inputs(case)
    return {
        "uncoded_mean": np.full(k, mean),
        "uncoded_var": np.full(k, var),
        "ref_outcome": np.array([r.y for r in case.reference_cases], dtype=np.int64),
        "coding_case": np.array([refs[c.case] for c in case.codings], dtype=np.int64),
        "coding_indicator": np.array([position[c.indicator] for c in case.codings], dtype=np.int64),
        "coding_level": np.array([c.level for c in case.codings], dtype=float),
        "judgment_logit": centres,
        "judgment_sd": sds,
        "judgment_shared_sd": np.asarray(float(spec.model.judgment_shared_sd)),
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
    coords = data_coords(case)
    with pm.Model(coords=coords) as model:
        d = {name: pm.Data(name, inputs[name], dims=dim) for name, dim in DATA_DIMS.items()}
        base_class = pm.Normal("base_class", d["base_mu"], d["base_sigma"])
        weight = pm.LogNormal("weight", d["weight_mu"], d["weight_sigma"], dims="indicator")
        level = pm.Beta("level", d["level_a"], d["level_b"], dims="indicator")
        base = pm.Deterministic("base", base_class - (d["sign"] * weight * d["level_centre"]).sum())
        level_logit = pm.math.log(level) - pm.math.log1p(-level)
        pm.Normal("readings", mu=pm.math.dot(d["reading_design"], level_logit), sigma=1.0,
                  observed=d["reading_whitened"], dims="reading")
        contribution = pm.Deterministic(
            "contribution", d["sign"] * weight * (2.0 * level - 1.0), dims="indicator"
        )
        log_odds = pm.Deterministic("log_odds", base + contribution.sum())
        pm.Deterministic("p", pm.math.sigmoid(log_odds))
        _reference_likelihood(d, base, weight)
        _judgment_likelihood(d, log_odds)
    return model


def reference_logit(base, weight, sign, uncoded_mean, uncoded_var, coding_case, coding_indicator, coding_level, n_cases, xp=None):
    """Log-odds of each reference case's outcome (uncoded levels integrated out approximately).

    Works on pytensor tensors (``xp=None``) and, with ``xp=numpy``, on numpy arrays whose leading
    axes are posterior draws (``base`` shape ``(S,)``, ``weight`` shape ``(S, K)``).
    """
    if xp is None:
        import pytensor.tensor as pt

        eff = sign * weight
        neutral = base + (eff * uncoded_mean).sum()
        shift = eff[coding_indicator] * (2.0 * coding_level - 1.0 - uncoded_mean[coding_indicator])
        eta = neutral + pt.zeros(n_cases)[coding_case].inc(shift)
        spread = sign**2 * weight**2 * uncoded_var
        var = spread.sum() - pt.zeros(n_cases)[coding_case].inc(spread[coding_indicator])
        return eta / pt.sqrt(1.0 + np.pi * pt.maximum(var, 0.0) / 8.0)
    base = np.asarray(base, dtype=float)[..., None]
    eff = np.asarray(sign) * np.asarray(weight, dtype=float)
    eta = np.repeat(base + (eff * uncoded_mean).sum(-1, keepdims=True), n_cases, axis=-1)
    shift = eff[..., coding_indicator] * (2.0 * np.asarray(coding_level) - 1.0 - np.asarray(uncoded_mean)[coding_indicator])
    _add_last(eta, coding_case, shift)
    spread = np.asarray(sign) ** 2 * np.asarray(weight, dtype=float) ** 2 * uncoded_var
    var = np.repeat(spread.sum(-1, keepdims=True), n_cases, axis=-1)
    _add_last(var, coding_case, -spread[..., coding_indicator])
    return eta / np.sqrt(1.0 + np.pi * np.maximum(var, 0.0) / 8.0)


def _add_last(target, index, values):
    for j, i in enumerate(np.asarray(index, dtype=np.int64)):
        target[..., i] += values[..., j]


def _reference_likelihood(d, base, weight):
    import pymc as pm

    logit_p = reference_logit(
        base, weight, d["sign"], d["uncoded_mean"], d["uncoded_var"], d["coding_case"],
        d["coding_indicator"], d["coding_level"], d["ref_outcome"].shape[0],
    )
    pm.Bernoulli("reference_outcome", logit_p=logit_p, observed=d["ref_outcome"], dims="reference_case")


def _judgment_likelihood(d, log_odds):
    """The judgments' log-likelihood with their shared error integrated out (up to a constant).

    ``-1/2 [sum_j P_j r_j^2 - s^2 (sum_j P_j r_j)^2 / (1 + s^2 sum_j P_j)]`` with ``r_j = c_j - log_odds``,
    ``P_j = t_j^-2`` and ``s`` the shared sd: the Gaussian ``c ~ Normal(log_odds 1, diag(t^2) + s^2 1 1')``
    by the Sherman-Morrison formula. It is zero when there are no judgments.
    """
    import pymc as pm

    prec = d["judgment_sd"] ** -2.0
    r = d["judgment_logit"] - log_odds
    s2 = d["judgment_shared_sd"] ** 2
    pm.Potential("judgments", -0.5 * ((prec * r**2).sum() - s2 * (prec * r).sum() ** 2 / (1.0 + s2 * prec.sum())))
