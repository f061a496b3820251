"""Scoring probability forecasts against outcomes: pure functions on numbers.

For forecasts ``p_i`` of binary outcomes ``y_i`` (1 = happened), ``i = 1..n``:

- Brier score ``B = (1/n) sum_i (p_i - y_i)^2``: 0 is perfect, 0.25 is what "50 %" always scores,
  lower is better;
- log score ``L = (1/n) sum_i [y_i ln p_i + (1 - y_i) ln(1 - p_i)]``: 0 is perfect, ``ln 0.5 = -0.693``
  is what "50 %" always scores, higher is better (it punishes confident misses without limit);
- calibration (reliability) bins: forecasts grouped by value; in a calibrated set the observed
  frequency in each bin matches the mean forecast. Each bin carries a 90 % Jeffreys interval for the
  observed frequency, ``Beta(k + 1/2, n - k + 1/2)`` quantiles, so a bin of three cases shows how
  little it says.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

EPS = 1e-12


def _check(p: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    p, y = np.asarray(p, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
    if p.shape != y.shape:
        raise ValueError(f"{p.size} forecasts but {y.size} outcomes")
    if p.size == 0:
        raise ValueError("nothing to score: no forecasts")
    if np.any((p < 0) | (p > 1)) or np.any(np.isnan(p)):
        raise ValueError("forecasts must be probabilities in [0, 1]")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("outcomes must be 0 (no) or 1 (yes)")
    return p, y


def outcome_value(outcome: str) -> int:
    """``"yes"`` -> 1, ``"no"`` -> 0."""
    if outcome not in ("yes", "no"):
        raise ValueError(f"an outcome is 'yes' or 'no', got {outcome!r}")
    return 1 if outcome == "yes" else 0


def brier_terms(p: ArrayLike, y: ArrayLike) -> np.ndarray:
    """Each forecast's squared error ``(p - y)^2``."""
    p, y = _check(p, y)
    return (p - y) ** 2


def brier(p: ArrayLike, y: ArrayLike) -> float:
    """Mean Brier score (lower is better).

    Examples
    --------
    >>> brier([0.1, 0.8], [0, 1])
    0.025000000000000005
    """
    return float(brier_terms(p, y).mean())


def log_terms(p: ArrayLike, y: ArrayLike) -> np.ndarray:
    """Each forecast's log score ``y ln p + (1 - y) ln(1 - p)`` (natural log; p clipped at 1e-12)."""
    p, y = _check(p, y)
    p = np.clip(p, EPS, 1 - EPS)
    return y * np.log(p) + (1 - y) * np.log1p(-p)


def log_score(p: ArrayLike, y: ArrayLike) -> float:
    """Mean log score (higher is better, 0 is perfect).

    Examples
    --------
    >>> round(log_score([0.5, 0.5], [0, 1]), 4)
    -0.6931
    """
    return float(log_terms(p, y).mean())


def calibration_bins(p: ArrayLike, y: ArrayLike, bins: int | ArrayLike = 5, prob: float = 0.9) -> pd.DataFrame:
    """Reliability table: forecasts grouped into bins of equal width on [0, 1].

    Parameters
    ----------
    p, y : array-like
        Forecasts and 0/1 outcomes.
    bins : int or array-like
        Number of equal-width bins, or the bin edges (from 0 to 1).
    prob : float
        Probability of the Jeffreys interval for each bin's observed frequency.

    Returns
    -------
    pandas.DataFrame
        One row per non-empty bin: ``bin_low``, ``bin_high``, ``n``, ``yes``, ``mean_forecast``,
        ``observed``, ``observed_low``, ``observed_high``.
    """
    from scipy.stats import beta

    p, y = _check(p, y)
    edges = np.linspace(0, 1, int(bins) + 1) if np.isscalar(bins) else np.asarray(bins, dtype=float)
    index = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, len(edges) - 2)
    rows = []
    for b in range(len(edges) - 1):
        mask = index == b
        n = int(mask.sum())
        if n == 0:
            continue
        k = int(y[mask].sum())
        tail = (1 - prob) / 2
        rows.append(
            {
                "bin_low": edges[b],
                "bin_high": edges[b + 1],
                "n": n,
                "yes": k,
                "mean_forecast": float(p[mask].mean()),
                "observed": k / n,
                "observed_low": float(beta.ppf(tail, k + 0.5, n - k + 0.5)) if k > 0 else 0.0,
                "observed_high": float(beta.ppf(1 - tail, k + 0.5, n - k + 0.5)) if k < n else 1.0,
            }
        )
    return pd.DataFrame(rows)
