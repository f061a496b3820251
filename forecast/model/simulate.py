"""Simulating from the model's prior: the generative story of :mod:`forecast.model.model`, in numpy.

Used by simulation-based calibration (``bench/sbc.py``): draw the parameters from their priors,
simulate every observation the case has (readings, reference-case outcomes, judgments) from those
parameters, keeping the case's design (which indicator each reading measures, its noise, each
reference case's codings, each judgment's sd), and return the inputs to fit with ``with_data``.
"""

from __future__ import annotations

import numpy as np

from forecast.case.load import Case
from forecast.model.model import model_inputs, reference_logit
from forecast.maths import expit


def draw_prior(inputs: dict, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One draw of ``base``, ``weight``, ``level`` and the derived ``log_odds`` and ``p``."""
    base = rng.normal(inputs["base_mu"], inputs["base_sigma"])
    weight = np.exp(rng.normal(inputs["weight_mu"], inputs["weight_sigma"]))
    level = rng.beta(inputs["level_a"], inputs["level_b"])
    log_odds = base + float(np.sum(inputs["sign"] * weight * (2 * level - 1)))
    return {"base": float(base), "weight": weight, "level": level, "log_odds": log_odds, "p": float(expit(log_odds))}


def simulate_inputs(inputs: dict, truth: dict, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The model inputs with every observation replaced by one simulated from ``truth``."""
    out = dict(inputs)
    out["reading_level"] = rng.normal(truth["level"][inputs["reading_indicator"]], inputs["reading_sd"])
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
