"""The track record of a portfolio: how its forecasts of resolved questions scored, with uncertainty.

For the ``n`` resolved questions with a forecast, ``p_i`` (posterior mean of P) and outcome
``y_i`` (1 = yes), the scores are those of :mod:`forecast.analysis.scoring`: mean Brier
``B = (1/n) sum_i (p_i - y_i)^2`` (lower is better) and mean log score
``L = (1/n) sum_i [y_i ln p_i + (1 - y_i) ln(1 - p_i)]`` (higher is better). Their uncertainty, as
questions are a sample of the questions one might have asked:

- standard error of a mean score, ``sd(t) / sqrt(n)`` with ``sd`` the sample standard deviation
  (``ddof = 1``) of the per-question terms ``t_i``;
- a percentile bootstrap interval (90 %): the questions resampled with replacement ``B = 2000``
  times with a fixed seed, the 5th and 95th percentiles of the resampled mean.

Calibration across questions: :func:`forecast.analysis.scoring.calibration_bins` (equal-width bins,
each with a 90 % Jeffreys interval for its observed frequency).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast.analysis import scoring

BOOTSTRAP = 2000
PROB = 0.9


@dataclass
class TrackRecord:
    """Scores of the resolved questions (``table``, one row each), their summary and calibration."""

    table: pd.DataFrame
    calibration: pd.DataFrame
    summary: dict

    @property
    def n(self) -> int:
        return int(len(self.table))


def mean_se(terms) -> tuple[float, float]:
    """Mean of ``terms`` and its standard error ``sd / sqrt(n)`` (nan for one term)."""
    t = np.asarray(terms, dtype=float)
    se = float(t.std(ddof=1) / np.sqrt(t.size)) if t.size > 1 else float("nan")
    return float(t.mean()), se


def bootstrap_interval(terms, *, prob: float = PROB, n: int = BOOTSTRAP, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``terms``."""
    t = np.asarray(terms, dtype=float)
    rng = np.random.default_rng(seed)
    means = t[rng.integers(0, t.size, size=(n, t.size))].mean(axis=1)
    tail = (1 - prob) / 2
    return float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))


def track_record(rows: pd.DataFrame, *, bins: int = 5) -> TrackRecord | None:
    """The track record of a portfolio table: its rows with an ``outcome`` and a ``p``.

    Parameters
    ----------
    rows : pandas.DataFrame
        The portfolio table (columns ``case``, ``p``, ``outcome``).
    bins : int
        Calibration bins of equal width.

    Returns
    -------
    TrackRecord or None
        None when no resolved question has a forecast.
    """
    if rows.empty or "outcome" not in rows or "p" not in rows:
        return None
    done = rows[rows["outcome"].isin(["yes", "no"]) & rows["p"].notna()]
    if done.empty:
        return None
    p = done["p"].to_numpy(dtype=float)
    y = np.array([scoring.outcome_value(o) for o in done["outcome"]])
    brier_t, log_t = scoring.brier_terms(p, y), scoring.log_terms(p, y)
    table = pd.DataFrame({"case": done["case"].to_numpy(), "p": p, "outcome": done["outcome"].to_numpy(), "y": y,
                          "brier": brier_t, "log_score": log_t})
    summary: dict = {"n": int(len(p)), "n_yes": int(y.sum()), "interval_prob": PROB, "bootstrap": BOOTSTRAP}
    for name, terms in (("brier", brier_t), ("log_score", log_t)):
        m, se = mean_se(terms)
        lo, hi = bootstrap_interval(terms)
        summary.update({name: m, f"{name}_se": se, f"{name}_low": lo, f"{name}_high": hi})
    summary["brier_always_half"] = 0.25
    return TrackRecord(table, scoring.calibration_bins(p, y, bins), summary)
