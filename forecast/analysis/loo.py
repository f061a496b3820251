"""PSIS-LOO over the readings and the reference outcomes: how well the fitted model predicts each held-out observation.

Pointwise log-likelihoods, per posterior draw ``s``:

- A reading ``j``.  The readings are correlated (shared source errors, the levels' random walk),
  so leaving one out means predicting it from the *others*: its leave-one-out conditional
  (Bürkner, Gabry & Vehtari 2020, "Efficient leave-one-out cross-validation for Bayesian
  non-factorized normal and Student-t models"). With ``Q = Sigma^-1`` and ``r = z - mu^(s)``
  (:mod:`forecast.measurement`; ``mu = logit(level)[k(j)]``),

      log p(z_j | z_-j, theta) = -1/2 log(2 pi / Q_jj) - (Q r)_j^2 / (2 Q_jj),

  the normal with mean ``z_j - (Q r)_j / Q_jj`` and variance ``1 / Q_jj``. It is the density of the
  reading on the log-odds scale ``z``, which is the same in every model variant that keeps the
  readings, so elpd compares across variants.
- A reference case ``i``: ``o_i log expit(eta_i) + (1 - o_i) log expit(-eta_i)`` with ``eta`` the
  model's :func:`forecast.model.model.reference_logit`.

Expert judgments are a potential of the model, not predicted observations, and are left out.

ArviZ's ``loo`` (arviz-stats) then Pareto-smooths the importance ratios ``1 / p(y_i | theta^(s))``
for each observation: ``elpd_loo = sum_i log(sum_s w_is p(y_i | theta^(s)))`` with the smoothed,
normalised weights, its standard error ``sqrt(n) sd_i(elpd_i)`` (sd with divisor ``n - 1``), the effective number of
parameters ``p_loo = lppd - elpd_loo``, and each observation's Pareto shape ``k``: above
:data:`K_MAX` (0.7, or less for few draws: ArviZ's ``good_k``) the estimate for that observation is
unreliable (the observation is so influential that the posterior without it differs a lot).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from forecast.maths import logit
from forecast.measurement import reading_system
from forecast.model.model import model_inputs, reference_logit

K_MAX = 0.7
"""Pareto k above which a leave-one-out estimate is unreliable."""

GROUPS = {"readings": "reading", "reference_outcomes": "reference_case"}
"""Each group of observations and its dimension."""


def reading_loo_loglik(z, mu, sigma) -> np.ndarray:
    """Each reading's leave-one-out conditional log density (module docstring), shape of ``mu`` ``(..., J)``."""
    q = np.linalg.inv(np.asarray(sigma, dtype=float))
    qjj = np.diag(q)
    qr = (np.asarray(z, dtype=float) - np.asarray(mu, dtype=float)) @ q
    return -0.5 * np.log(2.0 * np.pi / qjj) - qr**2 / (2.0 * qjj)


def bernoulli_loglik(outcome, eta) -> np.ndarray:
    """``log p(o | eta)`` of a Bernoulli with log-odds ``eta``, elementwise (stable for large ``|eta|``)."""
    o = np.asarray(outcome, dtype=float)
    eta = np.asarray(eta, dtype=float)
    return -(o * np.logaddexp(0.0, -eta) + (1.0 - o) * np.logaddexp(0.0, eta))


def pointwise_loglik(result, case) -> dict[str, np.ndarray]:
    """The pointwise log-likelihoods ``(chain, draw, n)`` of each group in :data:`GROUPS` (empty groups left out)."""
    post = result.tree["posterior"]
    chains, draws = post.sizes["chain"], post.sizes["draw"]
    out = {}
    system = reading_system(case)
    if system["z"].size:
        level = np.asarray(post["level"].transpose("chain", "draw", ...).values)
        out["readings"] = reading_loo_loglik(system["z"], logit(level)[..., system["indicator"]], system["sigma"])
    inputs = model_inputs(case)
    n_ref = len(inputs["ref_outcome"])
    if n_ref:
        base = np.asarray(post["base"].transpose("chain", "draw").values).reshape(-1)
        weight = np.asarray(post["weight"].transpose("chain", "draw", ...).values).reshape(chains * draws, -1)
        eta = reference_logit(base, weight, inputs["sign"], inputs["uncoded_mean"], inputs["uncoded_var"],
                              inputs["coding_case"], inputs["coding_indicator"], inputs["coding_level"], n_ref, xp=np)
        out["reference_outcomes"] = bernoulli_loglik(inputs["ref_outcome"], eta).reshape(chains, draws, n_ref)
    return out


@dataclass
class Loo:
    """PSIS-LOO of a fitted case, by group of observations and over all of them.

    Attributes
    ----------
    pointwise : pandas.DataFrame
        One row per observation (index ``observation``, e.g. ``reading/r01``): ``group``, ``id``,
        ``elpd`` (its elpd_loo term) and ``pareto_k``.
    groups : dict
        Per group in :data:`GROUPS` that the case has, and ``all``: ``elpd``, ``se``, ``p_loo``,
        ``n``, ``k_max``, ``k_over`` (observations with k above the threshold) and ``good_k``.
    """

    pointwise: pd.DataFrame
    groups: dict

    def to_dict(self) -> dict[str, Any]:
        """Plain data, with each observation's k-hat."""
        return {**self.groups, "pareto_k": {i: float(k) for i, k in self.pointwise["pareto_k"].items()}}

    def markdown(self) -> str:
        """The totals in words, one line per group of observations."""
        lines = ["## Leave-one-out (PSIS-LOO)", ""]
        for name, g in self.groups.items():
            lines.append(f"- {name.replace('_', ' ').capitalize()} ({g['n']}): elpd_loo {g['elpd']:.1f} ± {g['se']:.1f}, "
                         f"p_loo {g['p_loo']:.1f}; {g['k_over']} with Pareto k̂ above {g['good_k']:.2f} (largest {g['k_max']:.2f}).")
        return "\n".join(lines) + "\n"


def _elpd(tree, var: str) -> tuple[dict, Any]:
    from arviz_stats import loo

    res = loo(tree, var_name=var, pointwise=True)
    k = np.asarray(res.pareto_k.values, dtype=float)
    good = float(getattr(res, "good_k", K_MAX))
    return ({"elpd": float(res.elpd), "se": float(res.se), "p_loo": float(res.p), "n": int(res.n_data_points),
             "k_max": float(np.max(k)), "k_over": int(np.sum(k > good)), "good_k": good}, res)


def psis_loo(result, case) -> Loo:
    """PSIS-LOO (arviz-stats ``loo``) over the readings, the reference outcomes, and both.

    Parameters
    ----------
    result : forecast.model.posterior.Forecast
        The fit of ``case``.
    case : forecast.case.load.Case
    """
    import warnings

    import xarray as xr

    ll = pointwise_loglik(result, case)
    if not ll:
        return Loo(pd.DataFrame(columns=["group", "id", "elpd", "pareto_k"], index=pd.Index([], name="observation")), {})
    ids = {"readings": [f"reading/{r.id}" for r in case.readings],
           "reference_outcomes": [f"reference/{r.id}" for r in case.reference_cases]}
    labels = [i for g in ll for i in ids[g]]
    data = {g: (("chain", "draw", GROUPS[g]), v) for g, v in ll.items()}
    data["all"] = (("chain", "draw", "observation"), np.concatenate(list(ll.values()), axis=-1))
    loglik = xr.Dataset(data, coords={"observation": labels, **{GROUPS[g]: ids[g] for g in ll}})
    post = result.tree["posterior"].to_dataset()
    tree = xr.DataTree.from_dict({"posterior": post, "log_likelihood": loglik})
    groups = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # k-hat warnings: the counts are reported instead
        for g in [*ll, "all"]:
            groups[g], res = _elpd(tree, g)
    pointwise = pd.DataFrame({"group": [lab.split("/")[0] for lab in labels], "id": [lab.split("/", 1)[1] for lab in labels],
                              "elpd": np.asarray(res.elpd_i.values, dtype=float), "pareto_k": np.asarray(res.pareto_k.values, dtype=float)},
                             index=pd.Index(labels, name="observation"))
    return Loo(pointwise, groups)
