"""Simulating from the model's prior: the generative story of :mod:`forecast.model.model`, in numpy.

Draw the parameters from their priors (``base_class``, ``weight``, ``level``; then ``base =
base_class - sum_k s_k weight_k c_k``) and simulate every observation the case has from them,
keeping the case's design. The readings are simulated already whitened: if ``z ~ Normal(E lambda,
Sigma)`` and ``Sigma = L L'``, then ``W z = (W E) lambda + u`` with ``u ~ Normal(0, I)``, so the
model's own inputs ``reading_design`` and fresh unit normals suffice (:mod:`forecast.measurement`).

:func:`class_rate` is the prior predictive check of the base rate: the share of the reference cases
the prior expects to end in the event, ``(1/R) sum_i expit(eta_i)``, beside the observed share.
"""

from __future__ import annotations

import numpy as np

from forecast.case.load import Case
from forecast.model.model import model_inputs, reference_logit
from forecast.maths import expit, logit


def draw_prior(inputs: dict, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One draw of ``base_class``, ``base``, ``weight``, ``level`` and the derived ``log_odds`` and ``p``."""
    base_class = rng.normal(inputs["base_mu"], inputs["base_sigma"])
    weight = np.exp(rng.normal(inputs["weight_mu"], inputs["weight_sigma"]))
    level = rng.beta(inputs["level_a"], inputs["level_b"])
    base = base_class - float(np.sum(inputs["sign"] * weight * inputs["level_centre"]))
    log_odds = base + float(np.sum(inputs["sign"] * weight * (2 * level - 1)))
    return {"base_class": float(base_class), "base": float(base), "weight": weight, "level": level,
            "log_odds": log_odds, "p": float(expit(log_odds))}


def simulate_inputs(inputs: dict, truth: dict, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The model inputs with every observation replaced by one simulated from ``truth``."""
    out = dict(inputs)
    design = inputs["reading_design"]
    out["reading_whitened"] = design @ logit(truth["level"]) + rng.normal(size=design.shape[0])
    n_ref = len(inputs["ref_outcome"])
    if n_ref:
        eta = reference_logit(
            truth["base"], truth["weight"], inputs["sign"], inputs["uncoded_mean"], inputs["uncoded_var"],
            inputs["coding_case"], inputs["coding_indicator"], inputs["coding_level"], n_ref, xp=np,
        )
        out["ref_outcome"] = (rng.uniform(size=n_ref) < expit(eta)).astype(np.int64)
    n_j = len(inputs["judgment_logit"])
    if n_j:
        shared = rng.normal(0.0, float(inputs["judgment_shared_sd"]))
        out["judgment_logit"] = truth["log_odds"] + shared + rng.normal(0.0, inputs["judgment_sd"])
    return out


def prior_predictive(case: Case, n: int = 4000, seed: int = 0) -> dict[str, np.ndarray]:
    """``n`` prior draws of the case's ``base``, ``log_odds`` and ``p`` (before any observation)."""
    rng = np.random.default_rng(seed)
    inputs = model_inputs(case)
    draws = [draw_prior(inputs, rng) for _ in range(n)]
    return {k: np.array([d[k] for d in draws]) for k in ("base", "log_odds", "p")}


def class_rate(case: Case, n: int = 4000, seed: int = 0, q: float = 0.9, inputs: dict | None = None) -> dict[str, float]:
    """The prior's implied rate of the event over the reference cases, beside the observed rate.

    ``inputs`` replaces the case's model inputs (:func:`forecast.model.model.model_inputs`) if given.

    Returns
    -------
    dict
        ``prior_mean``, ``prior_low``, ``prior_high`` (central ``q`` interval of the class rate under
        the prior), ``observed`` (the share of reference cases that ended in the event) and ``cases``;
        the rates are NaN without reference cases.
    """
    inputs = model_inputs(case) if inputs is None else inputs
    r = len(inputs["ref_outcome"])
    if r == 0:
        return {"prior_mean": float("nan"), "prior_low": float("nan"), "prior_high": float("nan"), "observed": float("nan"), "cases": 0}
    rng = np.random.default_rng(seed)
    draws = [draw_prior(inputs, rng) for _ in range(n)]
    eta = reference_logit(
        np.array([d["base"] for d in draws]), np.array([d["weight"] for d in draws]), inputs["sign"],
        inputs["uncoded_mean"], inputs["uncoded_var"], inputs["coding_case"], inputs["coding_indicator"],
        inputs["coding_level"], r, xp=np,
    )
    rate = expit(eta).mean(axis=1)
    lo, hi = np.quantile(rate, [(1 - q) / 2, (1 + q) / 2])
    return {"prior_mean": float(rate.mean()), "prior_low": float(lo), "prior_high": float(hi),
            "observed": float(np.mean(inputs["ref_outcome"])), "cases": r}
