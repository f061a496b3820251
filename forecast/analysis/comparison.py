"""Comparing forecasters on the same cases: paired score differences, and a one-scale logistic baseline.

**Paired differences** (:func:`paired_difference`). Two forecasters A (a baseline) and M (the model)
forecast the same ``n`` cases. Per case, the difference of their scores

    d_i = B(a_i, y_i) - B(m_i, y_i)          Brier: positive when the model is closer
    d_i = L(m_i, y_i) - L(a_i, y_i)          log score: positive when the model scores higher

and its mean ``d = (1/n) sum_i d_i`` with standard error ``se = sd(d_i) / sqrt(n)`` (``ddof = 1``).
Pairing removes the spread the two share (hard cases are hard for both), so ``se`` is far smaller
than the two scores' own standard errors would suggest. With ``|d| < 2 se`` the cases cannot tell
the two apart.

**One learned scale** (:func:`fit_scale`, :func:`stated_score`). Dawes's improper linear model keeps
the analyst's weights and directions and learns only how far to trust them. Each case's stated
score is the forecast formula with the stated weights ``w_k = exp(weight_mu_k)`` (the prior medians)

    x_i = sum_k s_k w_k c_ik,    c_ik = 2 level_ik - 1 (an uncoded level: its prior mean)

and the forecast is ``P(y_i = 1) = expit(a + b x_i)``: an intercept ``a`` and one scale ``b``, fitted by
maximising the log-likelihood of the training outcomes plus a weak ``Normal(0, 10^2)`` prior on each
(it only matters when the outcomes are perfectly separated, where the likelihood alone has no
maximum). Newton's method on the concave objective, with the exact gradient and Hessian:

    g = X' (y - pi) - theta / 10^2,    H = -X' diag(pi (1 - pi)) X - I / 10^2,    X = [1, x].
"""

from __future__ import annotations

import numpy as np

from forecast.analysis import scoring
from forecast.maths import expit

SCALE_PRIOR_SD = 10.0
"""Sd of the weak normal prior on the intercept and the scale of :func:`fit_scale`."""


def paired_difference(p_model, p_baseline, y) -> dict[str, float]:
    """How much better the model scores than a baseline on the same cases, with standard errors.

    Parameters
    ----------
    p_model, p_baseline : array-like
        The two forecasters' probabilities of the same ``n`` cases.
    y : array-like
        The outcomes (0 or 1).

    Returns
    -------
    dict
        ``brier`` and ``log_score`` of the baseline; ``brier_diff`` (baseline minus model),
        ``log_score_diff`` (model minus baseline), both positive when the model is better, their
        standard errors ``brier_diff_se`` and ``log_score_diff_se`` (``nan`` for one case) and ``n``.
    """
    y = np.asarray(y, dtype=float)
    db = scoring.brier_terms(p_baseline, y) - scoring.brier_terms(p_model, y)
    dl = scoring.log_terms(p_model, y) - scoring.log_terms(p_baseline, y)
    n = db.size

    def se(d):
        return float(d.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")

    return {"brier": scoring.brier(p_baseline, y), "log_score": scoring.log_score(p_baseline, y),
            "brier_diff": float(db.mean()), "brier_diff_se": se(db), "log_score_diff": float(dl.mean()), "log_score_diff_se": se(dl), "n": int(n)}


def verdict(diff: float, se: float) -> str:
    """``"the model is better"``, ``"the baseline is better"`` (beyond two standard errors) or ``"no clear difference"``."""
    if not np.isfinite(se) or abs(diff) < 2 * se or diff == 0:
        return "no clear difference"
    return "the model is better" if diff > 0 else "the baseline is better"


def stated_score(sign, weight_mu, uncoded_mean, indicator, level) -> float:
    """One case's score under the stated weights: ``sum_k s_k exp(weight_mu_k) c_k`` (see the module).

    ``indicator`` and ``level`` are the case's coded indicator positions and levels; the others
    take ``uncoded_mean`` (the centred level's prior mean).
    """
    c = np.array(uncoded_mean, dtype=float)
    c[np.asarray(indicator, dtype=np.int64)] = 2.0 * np.asarray(level, dtype=float) - 1.0
    return float(np.sum(np.asarray(sign, dtype=float) * np.exp(np.asarray(weight_mu, dtype=float)) * c))


def fit_scale(x, y, prior_sd: float = SCALE_PRIOR_SD, tol: float = 1e-10, max_iter: int = 100) -> tuple[float, float]:
    """Intercept ``a`` and scale ``b`` of ``P(y = 1) = expit(a + b x)`` (penalised maximum likelihood, see the module).

    Examples
    --------
    >>> a, b = fit_scale([-1.0, 1.0, -1.0, 1.0], [0, 1, 1, 0])
    >>> round(a, 6), round(b, 6)
    (0.0, 0.0)
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    design = np.column_stack([np.ones_like(x), x])
    theta = np.zeros(2)
    ridge = 1.0 / prior_sd**2
    for _ in range(max_iter):
        pi = expit(design @ theta)
        grad = design.T @ (y - pi) - ridge * theta
        hess = -(design.T * (pi * (1 - pi))) @ design - ridge * np.eye(2)
        step = np.linalg.solve(hess, grad)
        theta = theta - step
        if np.max(np.abs(step)) < tol:
            break
    return float(theta[0]), float(theta[1])


def scale_objective(theta, x, y, prior_sd: float = SCALE_PRIOR_SD) -> float:
    """The objective :func:`fit_scale` maximises: log-likelihood plus the log prior (up to a constant)."""
    a, b = theta
    eta = a + b * np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    return float(np.sum(y * eta - np.logaddexp(0.0, eta)) - (a * a + b * b) / (2 * prior_sd**2))
