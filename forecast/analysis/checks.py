"""Predictive checks: would the fitted model (or the priors alone) have produced data like the case's?

Each check replicates an observed quantity once per posterior draw ``s`` (pure numpy on the draws
in hand, no second sampling) and compares the real data with the replicates.

Readings (:mod:`forecast.measurement`).  ``z`` are the readings on the log-odds scale and ``Sigma``
their covariance; draw ``s`` gives the means ``mu^(s) = logit(level^(s))[k(j)]`` and a replicate
``z_rep^(s) = mu^(s) + L u``, ``u ~ Normal(0, I)``, ``Sigma = L L'``. A reading's predictive interval
is the central ``prob`` interval of its replicates, shown on the 0-1 scale as ``expit(z_rep)`` (so
a replicate can never leave [0, 1]; the share that does is reported and must be 0); a real reading
is compared at its clipped value ``clip(y, 0.05, 0.95)``. The discrepancy is the Mahalanobis distance

    D(z, theta) = (z - mu)' Sigma^-1 (z - mu)

and its posterior predictive p-value ``p_B = (1/S) sum_s [D(z_rep^(s), theta^(s)) >= D(z, theta^(s))]``.
``D(z_rep, theta)`` is chi-squared with ``J`` degrees of freedom, so a p-value near 0 means the
readings scatter more around the levels than ``Sigma`` allows (sources disagree more than their
grades and shared errors say); near 1, less.

Judgments.  ``c_rep = log_odds^(s) + delta + e``, ``delta ~ Normal(0, tau_shared)``, ``e_j ~
Normal(0, t_j)``: the same intervals and the same discrepancy with covariance ``diag(t^2) + tau^2 1 1'``.

Reference outcomes.  ``o_rep,i ~ Bernoulli(expit(eta_i^(s)))`` with ``eta`` the model's
:func:`forecast.model.model.reference_logit`. Statistics: the number of yes outcomes ``T = sum o``
(its central ``prob`` predictive range and ``p = P(T_rep >= T)``: near 0, more yes than the model
expects; near 1, fewer) and the Brier discrepancy ``B(o, theta) = sum_i (o_i - expit(eta_i))^2``
with ``p = P(B_rep >= B)`` (near 0: the outcomes are more surprising case by case than the model
allows). The *prior* predictive check is the same with draws from the priors
(:func:`forecast.model.simulate.draw_prior`), beside :func:`forecast.model.simulate.class_rate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from forecast.maths import expit, logit
from forecast.measurement import EDGE, reading_system
from forecast.model.model import model_inputs, reference_logit
from forecast.model.simulate import class_rate, draw_prior

PROB = 0.9
"""Probability of every predictive interval."""

PRIOR_DRAWS = 4000
"""Prior draws of the prior predictive check."""


def mahalanobis(resid, precision) -> np.ndarray:
    """``r' Q r`` over the last axis of ``resid`` (shape ``(..., J)``) with ``Q`` ``(J, J)``."""
    resid = np.asarray(resid, dtype=float)
    return np.einsum("...i,ij,...j->...", resid, np.asarray(precision, dtype=float), resid)


def gaussian_replicates(mu, cov, rng: np.random.Generator) -> np.ndarray:
    """One draw of ``Normal(mu^(s), cov)`` per row ``s`` of ``mu`` ``(S, J)``."""
    mu = np.asarray(mu, dtype=float)
    if mu.shape[-1] == 0:
        return mu.copy()
    chol = np.linalg.cholesky(cov)
    return mu + rng.standard_normal(mu.shape) @ chol.T


def gaussian_check(observed, mu, cov, rng: np.random.Generator, *, prob: float = PROB) -> dict[str, Any]:
    """Intervals and the Mahalanobis discrepancy of ``observed ~ Normal(mu^(s), cov)`` (module docstring).

    Returns
    -------
    dict
        ``replicates`` ``(S, J)``, ``low``/``median``/``high`` ``(J,)`` of the replicates, ``inside``
        ``(J,)`` booleans, ``share_inside``, ``discrepancy_observed``/``discrepancy_replicated``
        ``(S,)`` and ``p_value``.
    """
    observed = np.asarray(observed, dtype=float)
    rep = gaussian_replicates(mu, cov, rng)
    low, median, high = np.quantile(rep, [(1 - prob) / 2, 0.5, (1 + prob) / 2], axis=0)
    inside = (observed >= low) & (observed <= high)
    q = np.linalg.inv(cov) if observed.size else np.zeros((0, 0))
    d_obs = mahalanobis(observed - mu, q)
    d_rep = mahalanobis(rep - mu, q)
    return {"replicates": rep, "low": low, "median": median, "high": high, "inside": inside,
            "share_inside": float(inside.mean()) if observed.size else float("nan"),
            "discrepancy_observed": d_obs, "discrepancy_replicated": d_rep,
            "p_value": float(np.mean(d_rep >= d_obs)) if observed.size else float("nan")}


def bernoulli_check(outcome, logit_p, rng: np.random.Generator, *, prob: float = PROB) -> dict[str, Any]:
    """Count of yes and Brier discrepancy of ``outcome ~ Bernoulli(expit(logit_p^(s)))`` (module docstring).

    Returns
    -------
    dict
        ``cases``, ``yes`` (observed), ``yes_replicated`` ``(S,)``, ``yes_low``/``yes_high`` (central
        ``prob`` range), ``p_value`` ``P(T_rep >= T)``, ``brier_observed``/``brier_replicated``
        (means over draws) and ``brier_p_value`` ``P(B_rep >= B)``.
    """
    y = np.asarray(outcome, dtype=float)
    p = expit(np.asarray(logit_p, dtype=float))
    rep = (rng.uniform(size=p.shape) < p).astype(float)
    yes_rep = rep.sum(axis=-1)
    b_obs = ((y - p) ** 2).sum(axis=-1)
    b_rep = ((rep - p) ** 2).sum(axis=-1)
    lo, hi = np.quantile(yes_rep, [(1 - prob) / 2, (1 + prob) / 2])
    return {"cases": int(y.size), "yes": int(y.sum()), "yes_replicated": yes_rep,
            "yes_low": float(lo), "yes_high": float(hi), "yes_mean": float(yes_rep.mean()),
            "p_value": float(np.mean(yes_rep >= y.sum())),
            "brier_observed": float(b_obs.mean()), "brier_replicated": float(b_rep.mean()),
            "brier_p_value": float(np.mean(b_rep >= b_obs))}


def _reference_eta(inputs: dict, base, weight) -> np.ndarray:
    return reference_logit(
        base, weight, inputs["sign"], inputs["uncoded_mean"], inputs["uncoded_var"], inputs["coding_case"],
        inputs["coding_indicator"], inputs["coding_level"], len(inputs["ref_outcome"]), xp=np,
    )


def judgment_covariance(sd, shared_sd: float) -> np.ndarray:
    """``diag(t^2) + tau^2 1 1'``: the judgments' covariance around the event's log-odds."""
    sd = np.asarray(sd, dtype=float)
    return np.diag(sd**2) + float(shared_sd) ** 2 * np.ones((sd.size, sd.size))


@dataclass
class PredictiveChecks:
    """The posterior predictive checks of one fitted case, and the prior predictive check of its reference outcomes.

    Attributes
    ----------
    readings : pandas.DataFrame
        One row per reading (index ``reading``): ``indicator``, ``observed`` (clipped, 0-1 scale),
        ``low``/``median``/``high`` (predictive, 0-1 scale), ``inside``.
    judgments : pandas.DataFrame
        The same per judgment (index ``judgment``; no ``indicator``), empty without judgments.
    numbers : dict
        The summary numbers (:meth:`to_dict`).
    yes_posterior, yes_prior : numpy.ndarray or None
        Replicated counts of yes outcomes (posterior and prior), None without reference cases.
    """

    readings: pd.DataFrame
    judgments: pd.DataFrame
    numbers: dict
    yes_posterior: np.ndarray | None = None
    yes_prior: np.ndarray | None = None
    case_id: str = ""
    title: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The numbers as plain data (``summary.json``'s ``checks`` block)."""
        return self.numbers

    def markdown(self) -> str:
        """The checks in words."""
        n = self.numbers
        r = n["readings"]
        pct = int(round(n["prob"] * 100))
        lines = ["## Predictive checks", "",
                 f"- Readings: {r['share_inside']:.0%} of {r['n']} inside their {pct} % posterior predictive intervals "
                 f"(about {pct} % expected); Mahalanobis discrepancy p = {r['p_value']:.2f}; "
                 f"replicated readings outside [0, 1]: {r['share_outside_unit']:.0%}."]
        j = n["judgments"]
        if j:
            lines.append(f"- Judgments: {j['share_inside']:.0%} of {j['n']} inside their {pct} % intervals; discrepancy p = {j['p_value']:.2f}.")
        ref = n["reference_outcomes"]
        if ref:
            lines.append(f"- Reference outcomes: {ref['yes']} of {ref['cases']} yes; posterior predictive {pct} % range "
                         f"{ref['yes_low']:.0f} to {ref['yes_high']:.0f} (p = {ref['p_value']:.2f}); Brier discrepancy p = {ref['brier_p_value']:.2f}.")
            pr = n["prior_reference_outcomes"]
            cr = n["class_rate"]
            lines.append(f"- Prior predictive: {pct} % range {pr['yes_low']:.0f} to {pr['yes_high']:.0f} yes (p = {pr['p_value']:.2f}); "
                         f"the prior's class rate {cr['prior_mean']:.0%} ({cr['prior_low']:.0%} to {cr['prior_high']:.0%}) "
                         f"against {cr['observed']:.0%} observed.")
        lines += ["", "A p-value near 0 or 1, or a share far from the interval's probability, is a misfit worth a look (docs/checks.md)."]
        return "\n".join(lines) + "\n"


def predictive_checks(result, case, *, prob: float = PROB, seed: int = 0, prior_draws: int = PRIOR_DRAWS) -> PredictiveChecks:
    """Posterior predictive checks of the readings, judgments and reference outcomes of a fitted case.

    Parameters
    ----------
    result : forecast.model.posterior.Forecast
        The fit of ``case``.
    case : forecast.case.load.Case
    prob : float
        Probability of the predictive intervals and ranges.
    seed : int
        Seed of the replicates.
    prior_draws : int
        Draws of the prior predictive check of the reference outcomes.
    """
    rng = np.random.default_rng(seed)
    inputs = model_inputs(case)
    level = result.draws("level")
    system = reading_system(case)
    z = system["z"]
    mu = logit(level)[:, system["indicator"]]
    rc = gaussian_check(z, mu, system["sigma"], rng, prob=prob)
    rep01 = expit(rc["replicates"])
    readings = pd.DataFrame({
        "reading": [r.id for r in case.readings], "indicator": [r.indicator for r in case.readings],
        "observed": expit(z), "low": expit(rc["low"]), "median": expit(rc["median"]), "high": expit(rc["high"]),
        "inside": rc["inside"],
    }).set_index("reading")
    numbers: dict[str, Any] = {"prob": prob, "readings": {
        "n": int(z.size), "share_inside": rc["share_inside"], "p_value": rc["p_value"],
        "discrepancy_observed": float(np.mean(rc["discrepancy_observed"])),
        "discrepancy_replicated": float(np.mean(rc["discrepancy_replicated"])),
        "share_outside_unit": float(np.mean((rep01 < 0) | (rep01 > 1))) if z.size else 0.0,
        "clipped_at": [EDGE, 1 - EDGE],
    }}
    judgments = pd.DataFrame(columns=["observed", "low", "median", "high", "inside"], index=pd.Index([], name="judgment"))
    numbers["judgments"] = None
    if len(inputs["judgment_logit"]):
        c = inputs["judgment_logit"]
        lo = result.draws("log_odds")[:, None] * np.ones(c.size)
        jc = gaussian_check(c, lo, judgment_covariance(inputs["judgment_sd"], inputs["judgment_shared_sd"]), rng, prob=prob)
        judgments = pd.DataFrame({"judgment": [j.id for j in case.judgments], "observed": expit(c), "low": expit(jc["low"]),
                                  "median": expit(jc["median"]), "high": expit(jc["high"]), "inside": jc["inside"]}).set_index("judgment")
        numbers["judgments"] = {"n": int(c.size), "share_inside": jc["share_inside"], "p_value": jc["p_value"],
                                "discrepancy_observed": float(np.mean(jc["discrepancy_observed"])),
                                "discrepancy_replicated": float(np.mean(jc["discrepancy_replicated"]))}
    yes_post = yes_prior = None
    numbers["reference_outcomes"] = numbers["prior_reference_outcomes"] = numbers["class_rate"] = None
    if len(inputs["ref_outcome"]):
        y = inputs["ref_outcome"]
        post = bernoulli_check(y, _reference_eta(inputs, result.draws("base"), result.draws("weight")), rng, prob=prob)
        prior_rng = np.random.default_rng(seed + 1)
        draws = [draw_prior(inputs, prior_rng) for _ in range(prior_draws)]
        eta = _reference_eta(inputs, np.array([d["base"] for d in draws]), np.array([d["weight"] for d in draws]))
        prior = bernoulli_check(y, eta, prior_rng, prob=prob)
        yes_post, yes_prior = post.pop("yes_replicated"), prior.pop("yes_replicated")
        numbers["reference_outcomes"], numbers["prior_reference_outcomes"] = post, prior
        numbers["class_rate"] = class_rate(case, n=prior_draws, seed=seed, q=prob)
    return PredictiveChecks(readings, judgments, numbers, yes_post, yes_prior, case.id, case.spec.case.title)
